/**
 * Order books, in two parts:
 *
 * 1. Apply: 1,000,000 diff updates to a 1,000-level book (and, to show how the cost grows,
 *    to a 10,000-level one), with unifeed's `OrderBook` (sorted array, binary search)
 *    alternating with the same book kept by linear search, the usual hand-rolled way.
 *    Reports ns per update of each and the ratio linear / ours.
 * 2. Pool: 100 USD-M books at 100 ms through a StreamPool against the simulator in a child
 *    process: CPU per applied update with books, side by side with the same diff streams
 *    only parsed (`pool.observe(depthDiff)`), alternating; and heap per book.
 *
 *   npx -y pnpm@10 bench:depth [--updates 1000000] [--runs 5] [--books 100] [--seconds 10]
 *
 * Writes bench/results/depth.json.
 */
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RestClient, StreamPool, binanceUsdm } from '@unifeed/core';
import {
  bookStats,
  depthDiff,
  orderBook,
  OrderBook,
  type Level,
} from '../packages/feed-depth/src/index.js';
// A deterministic PRNG (mulberry32), so every run applies the same updates; the core's tests'.
import { prng } from '../packages/core/test/prng.js';
import type { SimChildReady } from './sim-child.js';
import {
  fmt,
  forceGc,
  machine,
  mb,
  median,
  num,
  spawnJsonChild,
  venueSymbols,
  within,
  writeJson,
} from './support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const RESULT = join(HERE, 'results', 'depth.json');

// --- part 1: apply ------------------------------------------------------------------------

interface Diff {
  bids: Level[];
  asks: Level[];
}

/** What both contenders do: set absolute quantities, "0" removes. */
interface Book {
  apply(bids: readonly Level[], asks: readonly Level[], u: number): void;
  readonly size: number;
}

/** The hand-rolled book: a sorted array, found by scanning from the best level. */
class LinearBook implements Book {
  readonly #bids: [number, string, string][] = [];
  readonly #asks: [number, string, string][] = [];

  get size(): number {
    return this.#bids.length + this.#asks.length;
  }

  apply(bids: readonly Level[], asks: readonly Level[]): void {
    for (const [p, q] of bids) set(this.#bids, -Number(p), p, q);
    for (const [p, q] of asks) set(this.#asks, Number(p), p, q);
  }
}

function set(side: [number, string, string][], key: number, p: string, q: string): void {
  let i = 0;
  while (i < side.length && side[i]![0] < key) i++;
  const found = i < side.length && side[i]![0] === key;
  if (Number(q) === 0) {
    if (found) side.splice(i, 1);
  } else if (found) {
    side[i]![2] = q;
  } else {
    side.splice(i, 0, [key, p, q]);
  }
}

class OursBook implements Book {
  readonly #book = new OrderBook('BTCUSDT');
  get size(): number {
    return this.#book.bids.size + this.#book.asks.size;
  }
  apply(bids: readonly Level[], asks: readonly Level[], u: number): void {
    this.#book.apply(bids, asks, u);
  }
}

/**
 * `count` diff events for a book of `levels` levels a side around 50,000.00 (tick 0.01), as
 * a busy futures symbol sends them: 1 to 16 levels each, mostly quantity changes near the
 * top, some removals and re-additions anywhere in the book.
 */
function diffs(levels: number, count: number, seed: number): { initial: Diff; stream: Diff[] } {
  const rnd = prng(seed);
  const px = (tick: number) => (tick / 100).toFixed(2);
  const qty = () => (0.001 + rnd() * 20).toFixed(3);
  const mid = 5_000_000;
  const initial: Diff = { bids: [], asks: [] };
  for (let i = 1; i <= levels; i++) {
    initial.bids.push([px(mid - i), qty()]);
    initial.asks.push([px(mid + i), qty()]);
  }
  const stream: Diff[] = [];
  for (let n = 0; n < count; n++) {
    const d: Diff = { bids: [], asks: [] };
    const k = 1 + Math.floor(rnd() * 16);
    for (let j = 0; j < k; j++) {
      // Depth into the book: mostly near the top, sometimes anywhere.
      const depth = rnd() < 0.8 ? 1 + Math.floor(rnd() ** 2 * 50) : 1 + Math.floor(rnd() * levels);
      const bid = rnd() < 0.5;
      const tick = bid ? mid - depth : mid + depth;
      const q = rnd() < 0.15 ? '0' : qty();
      (bid ? d.bids : d.asks).push([px(tick), q]);
    }
    stream.push(d);
  }
  return { initial, stream };
}

function timeApply(make: () => Book, data: ReturnType<typeof diffs>, updates: number): number {
  const book = make();
  book.apply(data.initial.bids, data.initial.asks, 0);
  const n = data.stream.length;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < updates; i++) {
    const d = data.stream[i % n]!;
    book.apply(d.bids, d.asks, i + 1);
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (book.size === 0) throw new Error('empty book');
  return ns / updates;
}

interface ApplyResult {
  levels: number;
  updates: number;
  oursNsPerUpdate: number;
  linearNsPerUpdate: number;
  /** linear / ours: how many times faster the sorted book is. */
  speedup: number;
  pairs: number[];
}

function applyPart(levels: number, updates: number, runs: number): ApplyResult {
  const data = diffs(levels, 100_000, levels);
  // Warm both up so that the JIT has compiled them before the first timed run.
  timeApply(() => new OursBook(), data, 50_000);
  timeApply(() => new LinearBook(), data, 50_000);
  const ours: number[] = [];
  const linear: number[] = [];
  for (let r = 0; r < runs; r++) {
    ours.push(timeApply(() => new OursBook(), data, updates));
    linear.push(timeApply(() => new LinearBook(), data, updates));
  }
  const o = median(ours);
  const l = median(linear);
  return {
    levels,
    updates,
    oursNsPerUpdate: o,
    linearNsPerUpdate: l,
    speedup: l / o,
    pairs: ours.map((x, i) => linear[i]! / x),
  };
}

// --- part 2: pool ----------------------------------------------------------------------------

interface PoolResult {
  books: number;
  seconds: number;
  /** CPU µs per diff event with books kept, and with the same events only parsed. */
  bookCpuUsPerUpdate: number;
  parseCpuUsPerUpdate: number;
  /** Book CPU / parse-only CPU, per event, medians of the alternating phases. */
  ratio: number;
  updatesPerSecond: number;
  heapPerBookKb: number;
  levelsPerBook: number;
  resyncs: number;
}

async function poolPart(books: number, seconds: number): Promise<PoolResult> {
  const sim = await spawnJsonChild<SimChildReady>(
    join(HERE, 'sim-child.ts'),
    // A weight limit far above Binance's: this part measures CPU, and two book phases of 100
    // 1,000-level snapshots would otherwise wait for the next minute (docs/feed-depth.md).
    [
      JSON.stringify({
        venue: 'binance-usdm',
        symbols: books,
        seed: 7,
        limits: { restWeightPerMinute: 1_000_000 },
      }),
    ],
    { cwd: ROOT },
  );
  const pool = new StreamPool({
    venue: binanceUsdm({ wsUrl: sim.ready.wsUrl, restUrl: sim.ready.restUrl }),
  });
  const rest = new RestClient({ baseUrl: sim.ready.restUrl, maxWeightPerMinute: 500_000 });
  try {
    const symbols = await venueSymbols(sim.ready.restUrl, books);
    const bookCpu: number[] = [];
    const parseCpu: number[] = [];
    let heapPerBook = Number.NaN;
    let levels = 0;
    let updatesPerSecond = 0;
    let resyncs = 0;
    for (let phase = 0; phase < 4; phase++) {
      const withBooks = phase % 2 === 1;
      const subs: { unsubscribe(): void }[] = [];
      let events = 0;
      forceGc();
      const heap0 = process.memoryUsage().heapUsed;
      if (withBooks) {
        for (const symbol of symbols) {
          subs.push(orderBook(pool, { symbol, depth: 10, rest }).subscribe(() => events++));
        }
        await within(waitLive(pool, books), 60_000, 'books live');
      } else {
        subs.push(pool.observe(depthDiff, { symbols, speed: '100ms' }).subscribe(() => events++));
      }
      await sleep(2000); // steady state
      const e0 = events;
      const c0 = process.cpuUsage();
      await sleep(seconds * 1000);
      const c = process.cpuUsage(c0);
      const n = events - e0;
      const us = (c.user + c.system) / n;
      if (withBooks) {
        bookCpu.push(us);
        updatesPerSecond = n / seconds;
        forceGc();
        heapPerBook = (process.memoryUsage().heapUsed - heap0) / books;
        const stats = bookStats(pool);
        levels = median(stats.map((s) => s.bidLevels + s.askLevels));
        resyncs += stats.reduce((a, s) => a + s.resyncs, 0);
      } else {
        parseCpu.push(us);
      }
      for (const s of subs) s.unsubscribe();
      await sleep(500);
    }
    const b = median(bookCpu);
    const p = median(parseCpu);
    return {
      books,
      seconds,
      bookCpuUsPerUpdate: b,
      parseCpuUsPerUpdate: p,
      ratio: b / p,
      updatesPerSecond,
      heapPerBookKb: heapPerBook / 1024,
      levelsPerBook: levels,
      resyncs,
    };
  } finally {
    await pool.close();
    await sim.stop();
  }
}

async function waitLive(pool: StreamPool, books: number): Promise<void> {
  for (;;) {
    const stats = bookStats(pool);
    if (stats.length === books && stats.every((s) => s.state === 'live')) return;
    await sleep(100);
  }
}

// --- main ------------------------------------------------------------------------------------

const { values } = parseArgs({
  options: {
    updates: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
    books: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '10' },
  },
});
const updates = num('updates', values.updates, 1000);
const runs = num('runs', values.runs, 1);
const books = num('books', values.books, 1);
const seconds = num('seconds', values.seconds, 1);

const apply = [applyPart(1000, updates, runs), applyPart(10_000, updates / 10, runs)];
for (const a of apply) {
  console.log(
    `apply, ${fmt(a.levels)} levels a side, ${fmt(a.updates)} updates x ${runs}: ` +
      `ours ${fmt(a.oursNsPerUpdate)} ns/update, linear search ${fmt(a.linearNsPerUpdate)} ns/update, ` +
      `ours is ${fmt(a.speedup, 1)}x faster (pairs ${a.pairs.map((x) => fmt(x, 1)).join(' ')})`,
  );
}
const p = await poolPart(books, seconds);
console.log(
  `pool, ${p.books} USD-M books at 100 ms, ${fmt(p.updatesPerSecond)} updates/s: ` +
    `${fmt(p.bookCpuUsPerUpdate, 1)} µs CPU per update with books, ${fmt(p.parseCpuUsPerUpdate, 1)} µs parsed only ` +
    `(ratio ${fmt(p.ratio, 2)}); heap ${fmt(p.heapPerBookKb)} KB per book of ${fmt(p.levelsPerBook)} levels; resyncs ${p.resyncs}`,
);
await writeJson(RESULT, {
  machine: machine(),
  apply,
  pool: p,
  heapMb: mb(process.memoryUsage().heapUsed),
});
console.log(`wrote ${RESULT}`);
