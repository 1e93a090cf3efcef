import { StreamPool, binanceUsdm, venueRestClient } from '@unifeed/core';
import { bookStats, orderBook } from '@unifeed/feed-depth';
import { HealthMonitor, MetricSources, PrometheusExporter, serveMetrics } from '@unifeed/metrics';
import { startSimulator } from '@unifeed/simulator';

// A local USD-M exchange, one pool with an order book, and what an operator scrapes.
const sim = await startSimulator({ venue: 'binance-usdm', symbols: 3 });
const venue = binanceUsdm({ wsUrl: sim.wsUrl, restUrl: sim.restUrl });
const pool = new StreamPool({ venue, backoff: { initialMs: 100 } });
const book = orderBook(pool, { symbol: 'BTCUSDT', snapshotLimit: 100 }).subscribe();

const sources = new MetricSources();
sources.addPool(pool, 'usdm');
sources.addBooks(() => bookStats(pool), 'usdm');
sources.addRestClient(venueRestClient(venue), 'fapi');
const health = new HealthMonitor(sources, { windowMs: 10_000 }); // thresholds: all options
health.start();
const server = await serveMetrics({ exporter: new PrometheusExporter(sources), health });

const get = async (path: string) => (await fetch(`${server.url}${path}`)).text();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
while (bookStats(pool)[0]?.state !== 'live') await sleep(100);
const metrics = await get('/metrics');
console.log(
  metrics
    .split('\n')
    .filter((l) => /^unifeed_(pool_streams|book_state.*live)/.test(l))
    .join('\n'),
);
console.log('health:', JSON.parse(await get('/health')).status);

sim.faults.drop(); // every connection cut with 1006: the pool reconnects, the book resyncs
await sleep(2000);
for (const a of JSON.parse(await get('/health')).anomalies)
  console.log(`${a.severity}: ${a.message}`);

book.unsubscribe();
health.stop();
await server.close();
await pool.close();
await sim.close();
