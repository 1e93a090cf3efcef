/**
 * When V8 grows a process's young generation (its new space, which it sizes by the bytes that
 * survive its scavenges) on the way to a 3,186-stream fan-in: after the harness's own start,
 * after the client's import, and after the streams' state is built. The fan-in's RSS depends
 * on it (docs/benchmarks.md, "RSS"). Variants, each in a process of its own under plain node:
 *
 *   floor        imports `ws`, keeps nothing per stream
 *   floor-state  imports `ws`, then builds the floor-state control's records (bench:compare)
 *   unifeed      imports @unifeed/core and @unifeed/feed-kline, then `klines()` of 3,186
 *                streams on a pool pointed at a closed loopback port (no network)
 *
 *   npx -y pnpm@10 bench:young-gen [--rounds 3]
 *
 * Prints the new space's size at each step (median over the rounds, and every round) and
 * writes bench/results/young-gen.json.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import { floorStateRecords, klineKeys } from './compare/contenders.js';
import { machine, median, num, runEachInAFreshChild, writeJson } from './support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SYMBOLS = Array.from({ length: 531 }, (_, i) => `SYM${i}USDT`);
const INTERVALS = ['1m', '3m', '5m', '15m', '30m', '4h'] as const;
const VARIANTS = ['floor', 'floor-state', 'unifeed'] as const;
type Variant = (typeof VARIANTS)[number];
const STEPS = ['harness', 'import', 'streams'] as const;
type Sizes = Record<(typeof STEPS)[number], number>;

/** The new space's size now, MB. */
function newSpaceMb(): number {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return (space?.space_size ?? Number.NaN) / (1024 * 1024);
}

/** The sizes at each step, in this (fresh) process. */
async function child(variant: Variant): Promise<Sizes> {
  // compare-child's first fetch loads undici; a refused connection loads it the same way.
  await fetch('http://127.0.0.1:9/').catch(() => undefined);
  const harness = newSpaceMb();
  let build: () => unknown;
  if (variant === 'unifeed') {
    const { StreamPool, binanceUsdm } = await import('@unifeed/core');
    const { klines } = await import('@unifeed/feed-kline');
    build = () => {
      // Port 9 is closed on loopback: the state is built before the pool's first attempt.
      const venue = binanceUsdm({ wsUrl: 'ws://127.0.0.1:9', restUrl: 'http://127.0.0.1:9' });
      return klines(new StreamPool({ venue }), {
        symbols: SYMBOLS,
        intervals: [...INTERVALS],
      }).subscribe(() => {});
    };
  } else {
    await import('ws');
    build = () =>
      variant === 'floor-state' ? floorStateRecords(klineKeys(SYMBOLS, INTERVALS)) : undefined;
  }
  const imported = newSpaceMb();
  // The new space grows at the scavenges during the build, while its state is live.
  build();
  const streams = newSpaceMb();
  return { harness, import: imported, streams };
}

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, child: { type: 'string' } },
});
if (values.child !== undefined) {
  const variant = VARIANTS.find((v) => v === values.child);
  if (variant === undefined) throw new Error(`--child must be one of ${VARIANTS.join(', ')}`);
  process.stdout.write(`${JSON.stringify(await child(variant))}\n`);
  process.exit(0);
}
const rounds = num('rounds', values.rounds, 1);
const seen = await runEachInAFreshChild<Variant, Sizes>(
  fileURLToPath(import.meta.url),
  VARIANTS,
  rounds,
  (variant) => ['--child', variant],
  60_000,
);
const result: Record<string, Sizes> = {};
console.log(`V8 new space (MB) at each step, median of ${rounds} rounds (every round):`);
for (const [variant, runs] of seen) {
  const at = (step: (typeof STEPS)[number]) => median(runs.map((x) => x[step]));
  result[variant] = { harness: at('harness'), import: at('import'), streams: at('streams') };
  const cells = STEPS.map((step) => `${step} ${at(step)} (${runs.map((x) => x[step]).join(', ')})`);
  console.log(`  ${variant.padEnd(12)} ${cells.join('  ')}`);
}
await writeJson(join(HERE, 'results', 'young-gen.json'), {
  bench: 'young-gen',
  date: new Date().toISOString(),
  machine: machine(),
  streams: SYMBOLS.length * INTERVALS.length,
  rounds,
  newSpaceMb: result,
});
