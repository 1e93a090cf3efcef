/**
 * The heap a StreamPool keeps per subscribed stream: 531 x 6 = 3,186 kline streams, through
 * `klines()` (pool.observe with the kline plugin) and through `pool.watch`, each weighed as
 * heapUsed after a forced GC, the same pool before the subscribe against after it. The pool's
 * 16 connections are counted in, spread over the streams.
 *
 *   npx -y pnpm@10 bench:pool-state [--rounds 5]
 *
 * No network: the pool points at a closed loopback port and is weighed before its first
 * attempt. Each weighing runs in a child process of its own: this script's `tsc` output under
 * plain node, loading the packages' (dist/), as users run them (through tsx every closure
 * would carry a `name` of its own), after a two-symbol pool has compiled the code. Prints the
 * median over the rounds and writes bench/results/pool-state.json.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { forceGc, machine, median, num, runEachInAFreshChild, writeJson } from './support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SYMBOLS = 531;
const INTERVALS = ['1m', '3m', '5m', '15m', '30m', '4h'] as const;

type Variant = 'observe' | 'watch';

/** Bytes per stream of one variant, weighed in this (fresh) process. */
async function child(variant: Variant): Promise<number> {
  const { StreamPool, binanceUsdm } = await import('@unifeed/core');
  const { kline, klines } = await import('@unifeed/feed-kline');
  // Port 9 is closed on loopback: nothing is read, and the pool is weighed before it tries.
  const venue = binanceUsdm({ wsUrl: 'ws://127.0.0.1:9', restUrl: 'http://127.0.0.1:9' });
  const subscribe = (
    pool: InstanceType<typeof StreamPool>,
    symbols: string[],
  ): { unsubscribe(): void } => {
    const params = { symbols, intervals: [...INTERVALS] };
    if (variant === 'observe') return klines(pool, params).subscribe(() => {});
    // The same streams, named by the plugin, each watched raw.
    const subs = kline
      .streams(params, pool.venue)
      .map((stream) => pool.watch(stream).subscribe(() => {}));
    return { unsubscribe: () => subs.forEach((s) => s.unsubscribe()) };
  };
  // A small pool first, so that compiling the code is not weighed with the streams.
  const warm = new StreamPool({ venue });
  subscribe(warm, ['WARMUSDT', 'WARM2USDT']).unsubscribe();
  await warm.close();
  await new Promise((r) => setTimeout(r, 100));
  const symbols = Array.from({ length: SYMBOLS }, (_, i) => `SYM${i}USDT`);
  const pool = new StreamPool({ venue });
  forceGc();
  const before = process.memoryUsage().heapUsed;
  const subscription = subscribe(pool, symbols);
  forceGc();
  const after = process.memoryUsage().heapUsed;
  subscription.unsubscribe();
  await pool.close();
  return (after - before) / (symbols.length * INTERVALS.length);
}

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, child: { type: 'string' } },
});
if (values.child !== undefined) {
  const bytesPerStream = await child(values.child as Variant);
  process.stdout.write(`${JSON.stringify({ bytesPerStream })}\n`);
  process.exit(0);
}
const rounds = num('rounds', values.rounds, 1);
const weighed = await runEachInAFreshChild<Variant, { bytesPerStream: number }>(
  fileURLToPath(import.meta.url),
  ['observe', 'watch'],
  rounds,
  (variant) => ['--child', variant],
  60_000,
);
const bytes = (variant: Variant) => weighed.get(variant)!.map((x) => x.bytesPerStream);
const w: Record<Variant, number[]> = { observe: bytes('observe'), watch: bytes('watch') };
const show = (xs: number[]) =>
  `${Math.round(median(xs))} B (rounds: ${xs.map(Math.round).join(', ')})`;
console.log(
  `heap per stream, ${SYMBOLS * INTERVALS.length} kline streams, median of ${rounds} rounds:`,
);
console.log(`  klines() (pool.observe): ${show(w.observe)}`);
console.log(`  pool.watch:              ${show(w.watch)}`);
await writeJson(join(HERE, 'results', 'pool-state.json'), {
  bench: 'pool-state',
  date: new Date().toISOString(),
  machine: machine(),
  streams: SYMBOLS * INTERVALS.length,
  rounds,
  bytesPerStream: { observe: median(w.observe), watch: median(w.watch) },
  samples: w,
});
