import { StreamPool, binanceUsdm, venueRestClient } from '@unifeed/core';
import { userData } from '@unifeed/feed-account';
import { bookStats, orderBook } from '@unifeed/feed-depth';
import { startSimulator } from '@unifeed/simulator';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HealthMonitor,
  MetricSources,
  PrometheusExporter,
  serveMetrics,
  type HealthReport,
} from '../src/index.js';
import { http } from './http.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** Poll `read` until `ok` holds of its value (bounded), and return that value. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline)
      throw new Error(`not reached within ${timeoutMs} ms: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Family {
  name: string;
  metrics: { labels?: Record<string, string>; value?: string }[];
}

describe('metrics and health against the simulator', () => {
  it('/metrics parses as Prometheus text; /health reflects an injected fault, then recovers', async () => {
    const sim = await startSimulator({ venue: 'binance-usdm', symbols: 5, seed: 3 });
    cleanup.push(() => sim.close());
    const venue = binanceUsdm({ wsUrl: sim.wsUrl, restUrl: sim.restUrl });
    const pool = new StreamPool({ venue, backoff: { initialMs: 50, maxMs: 100, jitter: 0 } });
    cleanup.push(() => pool.close());
    const account = userData({ apiKey: 'sim-api-key', wsUrl: sim.wsUrl, restUrl: sim.restUrl });
    cleanup.push(() => account.stop());

    for (const s of ['btcusdt', 'ethusdt'])
      pool.watch(`${s}@kline_1m`, { cadenceMs: 250 }).subscribe();
    const book = orderBook(pool, { symbol: 'BTCUSDT', snapshotLimit: 100 }).subscribe();
    cleanup.push(() => book.unsubscribe());
    await account.start();

    const sources = new MetricSources();
    sources.addPool(pool, 'usdm');
    sources.addBooks(() => bookStats(pool), 'usdm');
    sources.addAccount(account, 'futures');
    sources.addRestClient(venueRestClient(venue), 'fapi');
    // a short window so the test sees the fault come and go
    const health = new HealthMonitor(sources, { sampleEveryMs: 200, windowMs: 3000 });
    health.start();
    cleanup.push(() => health.stop());
    const server = await serveMetrics({ exporter: new PrometheusExporter(sources), health });
    cleanup.push(() => server.close());
    const report = async () =>
      JSON.parse((await http(`${server.url}/health`)).body) as HealthReport;

    await until(report, (r) => r.status === 'ok' && bookStats(pool)[0]?.state === 'live');

    const text = (await http(`${server.url}/metrics`)).body;
    const families = new Map(
      (parsePrometheusTextFormat(text) as Family[]).map((f) => [f.name, f.metrics]),
    );
    const one = (name: string, labels: Record<string, string> = {}) =>
      Number(
        families
          .get(name)
          ?.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value,
      );
    expect(one('unifeed_pool_streams', { pool: 'usdm', venue: 'binance-usdm' })).toBe(3);
    expect(one('unifeed_pool_connections')).toBe(2); // /market klines, /public depth
    expect(one('unifeed_pool_messages_total')).toBeGreaterThan(0);
    expect(one('unifeed_book_state', { symbol: 'BTCUSDT', state: 'live' })).toBe(1);
    expect(one('unifeed_book_snapshots_total')).toBeGreaterThanOrEqual(1);
    expect(one('unifeed_account_state', { account: 'futures', state: 'running' })).toBe(1);
    expect(one('unifeed_account_listen_keys_created_total')).toBeGreaterThanOrEqual(1);
    expect(one('unifeed_rest_requests_total', { rest: 'fapi' })).toBeGreaterThanOrEqual(2);
    expect(one('unifeed_feed_state', { feed: 'account:futures', state: 'open' })).toBe(1);
    expect(text).toMatch(/^unifeed_pool_subscribe_latency_seconds_count\{[^}]*\} [1-9]/m);
    expect(text).toMatch(/^unifeed_pool_lag_seconds_count\{[^}]*\} [1-9]/m);
    // no secret in the exposition
    expect(text).not.toContain('sim-api-key');

    // the fault: every market-data connection dropped with 1006
    expect(
      sim.faults.drop({ path: '/market/stream' }) + sim.faults.drop({ path: '/public/stream' }),
    ).toBe(2);
    const hurt = await until(report, (r) =>
      ['reconnects', 'gaps', 'resyncs'].every((c) => r.anomalies.some((a) => a.check === c)),
    );
    expect(hurt.status).toBe('warning');
    expect(hurt.anomalies.find((a) => a.check === 'reconnects')).toMatchObject({
      source: 'pool usdm',
      value: 2,
    });
    expect((await http(`${server.url}/health`)).status).toBe(200);
    expect(one('unifeed_pool_reconnects_total')).toBe(0); // the earlier scrape
    const after = (await http(`${server.url}/metrics`)).body;
    expect(after).toMatch(/^unifeed_pool_reconnects_total\{pool="usdm",venue="binance-usdm"\} 2$/m);

    // the window moves past the fault: ok again
    const healed = await until(report, (r) => r.status === 'ok', 10_000);
    expect(healed.anomalies).toEqual([]);
  }, 40_000);
});
