/**
 * Price and kline feeds on a loopback firehose: messages per second through
 *   (a) `pool.watch(stream)`: raw payloads, the pool's own ceiling, and
 *   (b) `pool.observe(plugin, params)`: the same payloads parsed into typed events,
 * alternating a, b, a, b ... on fresh pools against one child-process server per payload kind
 * (bookTicker on binance-spot, kline_1m on binance-usdm) that answers SUBSCRIBE and then
 * writes pre-encoded combined frames as fast as the socket drains.
 *
 *   npx -y pnpm@10 bench:feeds [--runs 5] [--seconds 3] [--warmup 1] [--frames 4096]
 *
 * Prints the median msgs/s of each, the ratio b/a of the medians (target >= 0.90) and the
 * per-pair ratios, plus the bare parse cost per payload and the JS heap bytes allocated per
 * message, and writes bench/results/feeds.json.
 * This file is also the server: `--serve bookTicker|kline` (spawned by the bench itself).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { binanceSpot, binanceUsdm, StreamPool, type FeedPlugin, type Venue } from '@unifeed/core';
import { WebSocketServer, type WebSocket } from 'ws';
import { kline } from '../packages/feed-kline/src/index.js';
import { bookTicker } from '../packages/feed-price/src/index.js';
import { fmt, heapAllocation, median, num } from './support.js';

const TARGET = 0.9;
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const SELF = fileURLToPath(import.meta.url);
const RESULT = join(HERE, 'results', 'feeds.json');

type Kind = 'bookTicker' | 'kline';
type Variant = 'watch' | 'observe';

interface Scenario {
  kind: Kind;
  stream: string;
  venue: (wsUrl: string) => Venue;
  plugin: FeedPlugin<never, unknown>;
  params: unknown;
}

const SCENARIOS: Scenario[] = [
  {
    kind: 'bookTicker',
    stream: 'btcusdt@bookTicker',
    venue: (wsUrl) => binanceSpot({ wsUrl }),
    plugin: bookTicker as FeedPlugin<never, unknown>,
    params: { symbols: ['BTCUSDT'] },
  },
  {
    kind: 'kline',
    stream: 'btcusdt@kline_1m',
    venue: (wsUrl) => binanceUsdm({ wsUrl }),
    plugin: kline as FeedPlugin<never, unknown>,
    params: { symbols: ['BTCUSDT'], intervals: ['1m'] },
  },
];

// --- payloads ----------------------------------------------------------------------------

/** `count` payloads of `kind` with varying ids, prices and sizes, as protocol.md shapes them. */
function payloads(kind: Kind, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const mid = 64250.1 * (1 + Math.sin(i / 97) * 0.002);
    const px = (d: number) => (mid + d).toFixed(2);
    const qty = (k: number) => (1 + ((i * k) % 100_000) / 1000).toFixed(3);
    if (kind === 'bookTicker') {
      out.push(
        `{"u":${400_900_217 + i * 3},"s":"BTCUSDT","b":"${px(-0.01)}","B":"${qty(7919)}","a":"${px(0.01)}","A":"${qty(104_729)}"}`,
      );
      continue;
    }
    const t = 1_700_000_040_000 + Math.floor(i / 240) * 60_000;
    out.push(
      `{"e":"kline","E":${t + (i % 240) * 250},"s":"BTCUSDT","k":{"t":${t},"T":${t + 59_999},"s":"BTCUSDT","i":"1m","f":${100 + i},"L":${200 + i},"o":"${px(-5)}","c":"${px(0)}","h":"${px(7)}","l":"${px(-9)}","v":"${qty(31)}","n":${100 + (i % 240)},"x":${i % 240 === 239},"q":"${(mid * Number(qty(97))).toFixed(4)}","V":"${qty(13)}","Q":"${(mid * Number(qty(17))).toFixed(4)}","B":"0"}}`,
    );
  }
  return out;
}

// --- server (child process) --------------------------------------------------------------

/** Frames written per turn at most, so the pump never starves the server's event loop. */
const BURST = 4096;
/** Bytes buffered in the server before it waits for the socket to drain. */
const HIGH_WATER = 4 * 1024 * 1024;

function serve(kind: Kind, frames: number): void {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  const byStream = new Map<string, Buffer[]>();
  const framesFor = (stream: string): Buffer[] => {
    let list = byStream.get(stream);
    if (list === undefined) {
      list = payloads(kind, frames).map((p) => Buffer.from(`{"stream":"${stream}","data":${p}}`));
      byStream.set(stream, list);
    }
    return list;
  };
  const pump = (ws: WebSocket, list: Buffer[], from: number): void => {
    let i = from;
    for (let n = 0; ws.readyState === ws.OPEN; n++) {
      const frame = list[i++ % list.length]!;
      if (ws.bufferedAmount >= HIGH_WATER) {
        // Resume when this write has left the buffer: the socket is draining.
        ws.send(frame, { binary: false }, () => pump(ws, list, i));
        return;
      }
      ws.send(frame, { binary: false });
      if (n === BURST) {
        setImmediate(() => pump(ws, list, i));
        return;
      }
    }
  };
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data) => {
      const req = JSON.parse(String(data)) as { id: number; method: string; params?: string[] };
      ws.send(JSON.stringify({ result: null, id: req.id }));
      const stream = req.params?.[0];
      if (req.method === 'SUBSCRIBE' && stream !== undefined) pump(ws, framesFor(stream), 0);
    });
  });
  wss.on('listening', () => {
    const address = wss.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    process.stdout.write(`PORT ${address.port}\n`);
  });
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

async function startServer(
  kind: Kind,
  frames: number,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', SELF, '--serve', kind, '--frames', String(frames)],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  for await (const line of createInterface({ input: child.stdout! })) {
    const m = /^PORT (\d+)/.exec(line);
    if (m) return { child, port: Number(m[1]) };
  }
  throw new Error(`${kind} server exited without a port`);
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.stdin?.end();
  child.kill('SIGTERM');
  await exited;
}

// --- client ------------------------------------------------------------------------------

/** Whatever the subscribers get ends up here, so no engine can skip the work. */
let sink: unknown;

interface Sample {
  kind: Kind;
  pair: number;
  variant: Variant;
  msgsPerSec: number;
  cpuUsPerMsg: number;
  /** Bytes allocated on the JS heap per message (support.ts, heapAllocation). */
  heapBytesPerMsg: number;
  parseErrors: number;
  dropped: number;
}

async function runOnce(
  sc: Scenario,
  pair: number,
  variant: Variant,
  url: string,
  opts: Options,
): Promise<Sample> {
  const pool = new StreamPool({ venue: sc.venue(url) });
  let n = 0;
  const source =
    variant === 'watch' ? pool.watch(sc.stream) : pool.observe(sc.plugin, sc.params as never);
  const sub = source.subscribe((x) => {
    sink = x;
    n++;
  });
  try {
    await sleep(opts.warmup * 1000);
    const n0 = n;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const allocated = heapAllocation();
    await sleep(opts.seconds * 1000);
    const messages = n - n0;
    const cpu = process.cpuUsage(cpu0);
    const heapBytes = allocated();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const st = pool.stats();
    return {
      kind: sc.kind,
      pair,
      variant,
      msgsPerSec: messages / seconds,
      cpuUsPerMsg: messages > 0 ? (cpu.user + cpu.system) / messages : Number.NaN,
      heapBytesPerMsg: messages > 0 ? heapBytes / messages : Number.NaN,
      parseErrors: st.parseErrors,
      dropped: st.queue.dropped,
    };
  } finally {
    sub.unsubscribe();
    await pool.close();
  }
}

/** The bare parse cost of one payload (already decoded), ns: the plugin alone. */
function parseCostNs(sc: Scenario): number {
  const venue = sc.venue('ws://127.0.0.1:1');
  const decoded = payloads(sc.kind, 4096).map((p) => JSON.parse(p) as unknown);
  const rounds = 100;
  for (let r = 0; r < 10; r++) for (const p of decoded) sink = sc.plugin.parse(p, sc.stream, venue);
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (const p of decoded) sink = sc.plugin.parse(p, sc.stream, venue);
  }
  return Number(process.hrtime.bigint() - t0) / (rounds * decoded.length);
}

interface Options {
  runs: number;
  seconds: number;
  warmup: number;
  frames: number;
}

function parseOptions(): Options & { serve: string | undefined } {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      frames: { type: 'string', default: '4096' },
      serve: { type: 'string' },
    },
  });
  return {
    runs: Math.round(num('runs', values.runs, 1)),
    seconds: num('seconds', values.seconds, 0.1),
    warmup: num('warmup', values.warmup, 0),
    frames: Math.round(num('frames', values.frames, 1)),
    serve: values.serve,
  };
}

async function main(): Promise<void> {
  const opts = parseOptions();
  if (opts.serve !== undefined) {
    serve(opts.serve === 'kline' ? 'kline' : 'bookTicker', opts.frames);
    return;
  }
  const machine = {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
  };
  console.log(
    `feeds: ${opts.runs} pair(s) per kind, warm-up ${opts.warmup} s + ${opts.seconds} s per run; ` +
      `${machine.nproc} CPUs (${machine.cpu}), Node ${machine.node}`,
  );
  const samples: Sample[] = [];
  const summary: Record<string, unknown>[] = [];
  for (const sc of SCENARIOS) {
    const parseNs = parseCostNs(sc);
    const { child, port } = await startServer(sc.kind, opts.frames);
    const kill = (): void => void child.kill('SIGKILL');
    process.once('exit', kill);
    try {
      for (let pair = 1; pair <= opts.runs; pair++) {
        for (const variant of ['watch', 'observe'] as const) {
          const s = await runOnce(sc, pair, variant, `ws://127.0.0.1:${port}`, opts);
          samples.push(s);
          console.log(
            `${sc.kind.padEnd(10)} pair ${pair} ${variant.padEnd(7)} ${fmt(s.msgsPerSec).padStart(9)} msg/s, ` +
              `${fmt(s.cpuUsPerMsg, 3)} µs CPU/msg, ${fmt(s.heapBytesPerMsg)} B heap/msg, parse errors ${s.parseErrors}, dropped ${s.dropped}`,
          );
        }
      }
    } finally {
      await stopServer(child);
      process.removeListener('exit', kill);
    }
    const of = (v: Variant) => samples.filter((s) => s.kind === sc.kind && s.variant === v);
    const a = of('watch');
    const b = of('observe');
    const ratio = median(b.map((s) => s.msgsPerSec)) / median(a.map((s) => s.msgsPerSec));
    const row = {
      kind: sc.kind,
      stream: sc.stream,
      watchMedian: median(a.map((s) => s.msgsPerSec)),
      observeMedian: median(b.map((s) => s.msgsPerSec)),
      watchHeapBytesPerMsg: median(a.map((s) => s.heapBytesPerMsg)),
      observeHeapBytesPerMsg: median(b.map((s) => s.heapBytesPerMsg)),
      ratio,
      pairRatios: a.map((s, i) => b[i]!.msgsPerSec / s.msgsPerSec),
      parseNsPerPayload: parseNs,
      pass: ratio >= TARGET,
    };
    summary.push(row);
    console.log(
      `${sc.kind}: watch ${fmt(row.watchMedian)} msg/s, observe ${fmt(row.observeMedian)} msg/s, ` +
        `ratio ${fmt(ratio, 3)} (per pair ${row.pairRatios.map((r) => fmt(r, 3)).join(', ')}); ` +
        `parse alone ${fmt(parseNs)} ns/payload; heap per message ${fmt(row.watchHeapBytesPerMsg)} B ` +
        `(watch), ${fmt(row.observeHeapBytesPerMsg)} B (observe); ${row.pass ? 'PASS' : 'MISS'} (target >= ${TARGET})`,
    );
  }
  await mkdir(dirname(RESULT), { recursive: true });
  await writeFile(
    RESULT,
    JSON.stringify(
      {
        bench: 'feeds',
        date: new Date().toISOString(),
        command: `npx -y pnpm@10 bench:feeds ${process.argv.slice(2).join(' ')}`.trim(),
        options: opts,
        machine,
        target: TARGET,
        summary,
        samples,
        sinkType: typeof sink,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${relative(ROOT, RESULT)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
