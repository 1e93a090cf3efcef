/**
 * What `JSON.parse` does with a kline's decimals on Node 20 (V8 11.3), and what unifeed's
 * parser does instead. `JSON.parse` internalizes string values of up to 10 characters, and one
 * not seen before is allocated in the old generation (the string table), where it stays after
 * it dies until the next mark-compact. It is what grew the old generation in bench:compare's
 * fan-in (docs/benchmarks.md, "RSS"). Variants, alternating, each round in a process of its
 * own under plain node, all on kline frames as Binance sends them (prices and sizes like
 * "43251.12", fresh each frame) but the last:
 *
 *   parseJson        unifeed's parser (`decodeJson`, the default decoder)
 *   JSON.parse       the platform's
 *   JSON.parse-long  the platform's, on the same frames with every decimal written to 11
 *                    characters or more (trailing zeros): no string short enough to internalize
 *
 * Each measures decoding (TextDecoder) and parsing only, in slices of 5,000 frames; the frames
 * are built before a slice, untimed. Old-space growth is summed over the slices in which no
 * mark-compact ran (the old space did not shrink), per 100,000 frames.
 *
 *   npx -y pnpm@10 bench:json-strings [--rounds 3] [--frames 300000]
 *
 * Writes bench/results/json-strings.json.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import { parseJson } from '@unifeed/core';
import { fmt, machine, mb, median, num, runEachInAFreshChild, writeJson } from './support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const VARIANTS = ['parseJson', 'JSON.parse', 'JSON.parse-long'] as const;
type Variant = (typeof VARIANTS)[number];
const SLICE = 5_000;

interface Run {
  frames: number;
  usPerFrame: number;
  /** Old-space growth per 100,000 frames, MB, over the slices without a mark-compact. */
  oldMbPer100k: number;
  /** Slices measured (without a mark-compact) of all. */
  slices: [measured: number, all: number];
}

const oldUsed = () =>
  getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;

/** A decimal with `places` places, at least 11 characters long when `long`. */
function decimal(value: number, places: number, long: boolean): string {
  const text = value.toFixed(places);
  return long && text.length < 11 ? text.padEnd(11, text.includes('.') ? '0' : '.0') : text;
}

/** One combined-stream kline frame of symbol `i`, its numbers fresh. */
function klineFrame(i: number, long: boolean): string {
  const symbol = `SYM${i % 531}USDT`;
  const open = 100 + Math.random() * 50_000;
  const d = (v: number, places = 2) => decimal(v, places, long);
  const k = {
    t: 1764600000000,
    T: 1764600059999,
    s: symbol,
    i: '1m',
    f: 100 + i,
    L: 200 + i,
    o: d(open),
    c: d(open * (1 + (Math.random() - 0.5) / 100)),
    h: d(open * 1.01),
    l: d(open * 0.99),
    v: d(Math.random() * 5_000, 3),
    n: 100 + (i % 50),
    x: false,
    q: d(Math.random() * 50_000_000),
    V: d(Math.random() * 2_500, 3),
    Q: d(Math.random() * 25_000_000),
    B: '0',
  };
  const data = { e: 'kline', E: 1764600000000 + i, s: symbol, k };
  return JSON.stringify({ stream: `${symbol.toLowerCase()}@kline_1m`, data });
}

async function child(variant: Variant, frames: number): Promise<Run> {
  const long = variant === 'JSON.parse-long';
  const parse = variant === 'parseJson' ? parseJson : JSON.parse;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let sink = 0;
  let parseNs = 0n;
  let grown = 0;
  let measured = 0;
  let all = 0;
  for (let done = 0; done < frames; done += SLICE) {
    const bytes = Array.from({ length: SLICE }, (_, j) =>
      encoder.encode(klineFrame(done + j, long)),
    );
    // Let the frames' building garbage go before the slice.
    await new Promise((resolve) => setImmediate(resolve));
    const before = oldUsed();
    const t0 = process.hrtime.bigint();
    for (const frame of bytes) {
      const message = parse(decoder.decode(frame)) as { data: { k: { o: string } } };
      sink += message.data.k.o.length;
    }
    parseNs += process.hrtime.bigint() - t0;
    const after = oldUsed();
    all++;
    if (after >= before) {
      grown += after - before;
      measured++;
    }
  }
  if (sink === 0) throw new Error('nothing parsed');
  return {
    frames,
    usPerFrame: Number(parseNs) / 1000 / frames,
    oldMbPer100k: measured > 0 ? mb(grown) / ((measured * SLICE) / 100_000) : Number.NaN,
    slices: [measured, all],
  };
}

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    frames: { type: 'string', default: '300000' },
    child: { type: 'string' },
  },
});
const frames = num('frames', values.frames, SLICE);
if (values.child !== undefined) {
  const variant = VARIANTS.find((v) => v === values.child);
  if (variant === undefined) throw new Error(`--child must be one of ${VARIANTS.join(', ')}`);
  process.stdout.write(`${JSON.stringify(await child(variant, frames))}\n`);
  process.exit(0);
}
const rounds = num('rounds', values.rounds, 1);
const seen = await runEachInAFreshChild<Variant, Run>(
  fileURLToPath(import.meta.url),
  VARIANTS,
  rounds,
  (variant) => ['--child', variant, '--frames', String(frames)],
  120_000,
);
const summary: Record<string, { usPerFrame: number; oldMbPer100k: number }> = {};
console.log(`decode + parse of ${fmt(frames)} kline frames, median of ${rounds} rounds:`);
for (const [variant, runs] of seen) {
  const us = median(runs.map((x) => x.usPerFrame));
  const old = median(runs.map((x) => x.oldMbPer100k));
  summary[variant] = { usPerFrame: us, oldMbPer100k: old };
  console.log(
    `  ${variant.padEnd(15)} ${us.toFixed(2)} µs a frame (${runs.map((x) => x.usPerFrame.toFixed(2)).join(', ')}); ` +
      `old space +${old.toFixed(2)} MB per 100,000 frames (${runs.map((x) => x.oldMbPer100k.toFixed(2)).join(', ')}; ` +
      `slices without a mark-compact: ${runs.map((x) => x.slices.join('/')).join(', ')})`,
  );
}
const over = (a: Variant, b: Variant) => summary[a]!.usPerFrame / summary[b]!.usPerFrame;
const ratios = {
  'JSON.parse/parseJson': over('JSON.parse', 'parseJson'),
  'JSON.parse/JSON.parse-long': over('JSON.parse', 'JSON.parse-long'),
};
for (const [name, ratio] of Object.entries(ratios)) {
  console.log(`  time a frame, ${name}: ${ratio.toFixed(2)}x`);
}
await writeJson(join(HERE, 'results', 'json-strings.json'), {
  bench: 'json-strings',
  date: new Date().toISOString(),
  machine: machine(),
  node: process.version,
  frames,
  rounds,
  runs: Object.fromEntries(seen),
  median: summary,
  ratios,
});
