import { StreamPool, binanceUsdm } from '@unifeed/core';
import { bookStats, orderBook } from '@unifeed/feed-depth';
import { startSimulator } from '@unifeed/simulator';

// A local USD-M exchange whose `truth` knows the real book at every update id.
const sim = await startSimulator({ venue: 'binance-usdm', symbols: 5 });
const pool = new StreamPool({ venue: binanceUsdm({ wsUrl: sim.wsUrl, restUrl: sim.restUrl }) });

let views = 0;
const book = orderBook(pool, { symbol: 'BTCUSDT', depth: 3 }).subscribe((v) => {
  if (v.state === 'syncing') return;
  if (v.state === 'resyncing') {
    console.log(`resyncing after a ${v.reason}; last good book kept at ${v.lastUpdateId}`);
    return;
  }
  const truth = sim.truth.bookAt('BTCUSDT', v.lastUpdateId)!;
  const same = JSON.stringify(v.bids) === JSON.stringify(truth.bids.slice(0, 3));
  console.log(
    `${v.lastUpdateId} bid ${v.bids[0]?.join(' x ')} ask ${v.asks[0]?.join(' x ')} same as exchange: ${same}`,
  );
  views++;
  if (views === 5) sim.faults.depthGap('BTCUSDT'); // withhold one diff: a hole in the stream
  if (views === 10) {
    const { gaps, resyncs, updatesApplied } = bookStats(pool)[0]!;
    console.log(`gaps ${gaps}, resyncs ${resyncs}, updates applied ${updatesApplied}`);
    book.unsubscribe();
    void pool.close().then(() => sim.close());
  }
});
