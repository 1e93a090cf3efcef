/**
 * Found in review: a connection that froze (half-open) shortly before its rotation lost what
 * it should have carried until the replacement began, and the rotation, closing it without a
 * gap, hid the outage the heartbeat was about to find (about 85 aggTrades, a closed candle).
 * The old connection is now pinged as the rotation begins; silent by its end, its streams get
 * a `rotation` gap.
 */
import { binanceSpot, StreamPool, type PoolStatus } from '@unifeed/core';
import { aggTrade } from '@unifeed/feed-price';
import { startSimulator } from '@unifeed/simulator';
import { afterEach, expect, it } from 'vitest';
import { simulatorSymbols } from './support/simulator.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rotatingPool() {
  const sim = await startSimulator({ seed: 5, venue: 'binance-spot', symbols: 1, speed: 8 });
  cleanup.push(() => sim.close());
  const pool = new StreamPool({
    venue: binanceSpot({ wsUrl: sim.wsUrl, restUrl: sim.restUrl }),
    backoff: { initialMs: 20, maxMs: 50, jitter: 0 },
    rotateAfterMs: 2000,
    rotateJitterMs: 0,
  });
  cleanup.push(() => pool.close());
  const gaps: PoolStatus[] = [];
  pool.gaps$.subscribe((g) => gaps.push(g));
  const [symbol] = await simulatorSymbols(sim, 1);
  const ids: number[] = [];
  pool.observe(aggTrade, { symbols: [symbol!] }).subscribe((e) => ids.push(e.aggTradeId));
  return { sim, pool, gaps, ids };
}

it('a connection frozen just before its rotation: the hole is announced', async () => {
  const { sim, pool, gaps, ids } = await rotatingPool();
  await sleep(1500); // the rotation begins 2 s after the connection opened
  sim.faults.freeze(); // the current connection only; the replacement is not frozen
  await sleep(2000);
  expect(pool.stats().rotations).toBeGreaterThanOrEqual(1);
  const holes = ids.filter((id, i) => i > 0 && id !== ids[i - 1]! + 1);
  expect(holes.length).toBeGreaterThan(0); // the trades the frozen connection never brought
  expect(gaps).toContainEqual(expect.objectContaining({ type: 'gap', reason: 'rotation' }));
}, 15_000);

it('a rotation of a live connection announces no hole', async () => {
  const { pool, gaps, ids } = await rotatingPool();
  await sleep(3500);
  expect(pool.stats().rotations).toBeGreaterThanOrEqual(1);
  expect(ids.filter((id, i) => i > 0 && id !== ids[i - 1]! + 1)).toEqual([]);
  expect(gaps).toEqual([]);
}, 15_000);
