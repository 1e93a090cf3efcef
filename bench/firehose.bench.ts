/**
 * Loopback firehose: messages per second of
 *   (a) a bare `ws` client doing `JSON.parse` on each message (the floor), and
 *   (b) a subscriber of `UnifiedFeed.messages$` (default options),
 * alternating a, b, a, b ... against one child-process server (bench/firehose-server.ts) that
 * writes pre-encoded Binance combined bookTicker frames as fast as the socket drains.
 *
 *   npx -y pnpm@10 bench [--runs 5] [--seconds 3] [--warmup 1] [--frames 8192] [--queue N]
 *
 * `--runs` is the number of a/b pairs. Prints the median msgs/s of each, the ratio b/a of the
 * medians, the per-pair ratios, and CPU µs and JS heap bytes allocated per message of this
 * (client) process, and writes bench/results/firehose.json. Exits 0 unless it crashes;
 * PASS/MISS is against ratio >= 0.90.
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
import { UnifiedFeed } from '@unifeed/core';
import WebSocket from 'ws';
import { fmt, heapAllocation, median, num } from './support.js';

const TARGET = 0.9;
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const SERVER = join(HERE, 'firehose-server.ts');
const RESULT = join(HERE, 'results', 'firehose.json');

type Variant = 'ws' | 'unifeed';

interface Options {
  runs: number;
  seconds: number;
  warmup: number;
  frames: number;
  queue: number | undefined;
}

interface Sample {
  pair: number;
  variant: Variant;
  messages: number;
  seconds: number;
  msgsPerSec: number;
  /** User + system CPU of this process per message, µs. */
  cpuUsPerMsg: number;
  /** CPU time / wall time of this process over the window (1 = one core busy). */
  cpuLoad: number;
  /** Bytes this process allocated on the JS heap per message (support.ts, heapAllocation). */
  heapBytesPerMsg: number;
  /** Only for `unifeed`: the feed's own counters at the end of the run. */
  feed?: {
    /** Frames the feed took off the socket in the window, per second (delivered + dropped). */
    receivedPerSec: number;
    /** Frames the queue dropped in the window. */
    dropped: number;
    queueMaxDepth: number;
    lagP99Ms: number;
  };
}

interface FeedCounters {
  frames: number;
  dropped: number;
  queueMaxDepth: number;
  lagP99Ms: number;
}

interface Client {
  count(): number;
  close(): Promise<void>;
  feedStats?(): FeedCounters;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      frames: { type: 'string', default: '8192' },
      queue: { type: 'string' },
    },
    allowPositionals: false,
  });
  return {
    runs: Math.round(num('runs', values.runs, 1)),
    seconds: num('seconds', values.seconds, 0.1),
    warmup: num('warmup', values.warmup, 0),
    frames: Math.round(num('frames', values.frames, 1)),
    queue: values.queue === undefined ? undefined : Math.round(num('queue', values.queue, 1)),
  };
}

/** Start the firehose child and wait for the port it reports. */
async function startServer(frames: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER, String(frames)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit').then(([code, signal]) => {
    throw new Error(`firehose server exited early (code ${String(code)}, ${String(signal)})`);
  });
  const lines = createInterface({ input: child.stdout! });
  const ready = (async () => {
    for await (const line of lines) {
      const m = /^PORT (\d+)/.exec(line);
      if (m) {
        console.log(`server: ${line}`);
        return Number(m[1]);
      }
    }
    throw new Error('firehose server closed stdout without a port');
  })();
  try {
    const port = await Promise.race([ready, exited]);
    exited.catch(() => {}); // from now on an exit is ours
    return { child, port };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.stdin?.end();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

/** Whatever the clients parse ends up here, so no engine can skip the parse. */
let sink: unknown;

/** (a) The floor: `ws` with the options UnifiedFeed uses, and `JSON.parse` per message. */
async function openBare(url: string): Promise<Client> {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
  let n = 0;
  ws.on('message', (data: WebSocket.RawData) => {
    sink = JSON.parse((data as Buffer).toString());
    n++;
  });
  await once(ws, 'open');
  return {
    count: () => n,
    close: async () => {
      const closed = once(ws, 'close');
      ws.close(1000, 'bench done');
      await closed;
    },
  };
}

/** (b) A subscriber of `UnifiedFeed.messages$`, which decodes each message once. */
async function openFeed(url: string, queue: number | undefined): Promise<Client> {
  const feed = new UnifiedFeed({
    url,
    name: 'firehose',
    ...(queue === undefined ? {} : { queue: { capacity: queue } }),
  });
  let n = 0;
  const sub = feed.messages$.subscribe((msg) => {
    sink = msg.data;
    n++;
  });
  await feed.start();
  return {
    count: () => n,
    feedStats: () => {
      const s = feed.stats();
      return {
        frames: s.messages,
        dropped: s.queue.dropped,
        queueMaxDepth: s.queue.maxDepth,
        lagP99Ms: s.lag.p99Ms,
      };
    },
    close: async () => {
      await feed.stop();
      sub.unsubscribe();
    },
  };
}

async function runOnce(
  pair: number,
  variant: Variant,
  url: string,
  opts: Options,
): Promise<Sample> {
  const client = variant === 'ws' ? await openBare(url) : await openFeed(url, opts.queue);
  try {
    await sleep(opts.warmup * 1000);
    const f0 = client.feedStats?.();
    const n0 = client.count();
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const allocated = heapAllocation();
    await sleep(opts.seconds * 1000);
    const n1 = client.count();
    const cpu = process.cpuUsage(cpu0);
    const heapBytes = allocated();
    const t1 = process.hrtime.bigint();
    const seconds = Number(t1 - t0) / 1e9;
    const messages = n1 - n0;
    const cpuUs = cpu.user + cpu.system;
    const sample: Sample = {
      pair,
      variant,
      messages,
      seconds,
      msgsPerSec: messages / seconds,
      cpuUsPerMsg: messages > 0 ? cpuUs / messages : Number.NaN,
      cpuLoad: cpuUs / 1e6 / seconds,
      heapBytesPerMsg: messages > 0 ? heapBytes / messages : Number.NaN,
    };
    const f1 = client.feedStats?.();
    if (f0 && f1) {
      sample.feed = {
        receivedPerSec: (f1.frames - f0.frames) / seconds,
        dropped: f1.dropped - f0.dropped,
        queueMaxDepth: f1.queueMaxDepth,
        lagP99Ms: f1.lagP99Ms,
      };
    }
    return sample;
  } finally {
    await client.close();
  }
}

function describe(s: Sample): string {
  const base =
    `pair ${s.pair} ${s.variant.padEnd(7)} ${fmt(s.msgsPerSec).padStart(11)} msg/s ` +
    `${fmt(s.cpuUsPerMsg, 3)} µs CPU/msg, ${fmt(s.heapBytesPerMsg)} B heap/msg, load ${fmt(s.cpuLoad, 2)}`;
  return s.feed
    ? `${base}; feed read ${fmt(s.feed.receivedPerSec)} frames/s, dropped ${fmt(s.feed.dropped)}, ` +
        `queue max ${s.feed.queueMaxDepth}, lag p99 <= ${s.feed.lagP99Ms} ms`
    : base;
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const machine = {
    nproc: cpus().length,
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
  };
  console.log(
    `firehose: ${opts.runs} pair(s), warm-up ${opts.warmup} s + ${opts.seconds} s per run; ` +
      `${machine.nproc} CPUs (${machine.cpu}), Node ${machine.node}`,
  );
  const { child, port } = await startServer(opts.frames);
  const killChild = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killChild);
  const url = `ws://127.0.0.1:${port}/stream?streams=btcusdt@bookTicker`;
  const samples: Sample[] = [];
  try {
    for (let pair = 1; pair <= opts.runs; pair++) {
      for (const variant of ['ws', 'unifeed'] as const) {
        const s = await runOnce(pair, variant, url, opts);
        samples.push(s);
        console.log(describe(s));
      }
    }
  } finally {
    await stopServer(child);
    process.removeListener('exit', killChild);
  }

  const of = (v: Variant): Sample[] => samples.filter((s) => s.variant === v);
  const bare = of('ws');
  const feed = of('unifeed');
  const pairRatios = bare.map((a, i) => feed[i]!.msgsPerSec / a.msgsPerSec);
  const medA = median(bare.map((s) => s.msgsPerSec));
  const medB = median(feed.map((s) => s.msgsPerSec));
  const cpuA = median(bare.map((s) => s.cpuUsPerMsg));
  const cpuB = median(feed.map((s) => s.cpuUsPerMsg));
  const heapA = median(bare.map((s) => s.heapBytesPerMsg));
  const heapB = median(feed.map((s) => s.heapBytesPerMsg));
  const ratio = medB / medA;
  const pass = ratio >= TARGET;

  console.log('');
  console.log(
    `(a) bare ws + JSON.parse  median ${fmt(medA)} msg/s, ${fmt(cpuA, 3)} µs CPU/msg, ${fmt(heapA)} B heap/msg`,
  );
  console.log(
    `(b) UnifiedFeed.messages$ median ${fmt(medB)} msg/s, ${fmt(cpuB, 3)} µs CPU/msg, ${fmt(heapB)} B heap/msg`,
  );
  console.log(`per-pair b/a: ${pairRatios.map((r) => fmt(r, 3)).join(', ')}`);
  console.log(`ratio b/a of medians: ${fmt(ratio, 3)} (target >= ${TARGET})`);
  console.log(pass ? 'PASS' : 'MISS');

  const result = {
    bench: 'firehose',
    date: new Date().toISOString(),
    command: `npx -y pnpm@10 bench ${process.argv.slice(2).join(' ')}`.trim(),
    options: opts,
    machine,
    target: TARGET,
    median: {
      wsMsgsPerSec: medA,
      unifeedMsgsPerSec: medB,
      wsCpuUsPerMsg: cpuA,
      unifeedCpuUsPerMsg: cpuB,
      wsHeapBytesPerMsg: heapA,
      unifeedHeapBytesPerMsg: heapB,
    },
    ratio,
    pairRatios,
    pass,
    samples,
    sinkType: typeof sink,
  };
  await mkdir(dirname(RESULT), { recursive: true });
  await writeFile(RESULT, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${relative(ROOT, RESULT)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
