/**
 * StreamPool against the simulator (issue 4), in two parts, one invocation:
 *
 * 1. Fan-in: 531 symbols x 6 kline intervals = 3,186 streams through one `StreamPool` on
 *    `binanceUsdm`, the simulator in a child process (bench/sim-child.ts) at real cadence.
 *    Time from the first subscribe to every stream's first message, connections used, RSS
 *    and heap above this process's idle baseline, messages/s and CPU per 10,000 messages
 *    over a steady window.
 * 2. Throughput: the simulator child in firehose mode for `btcusdt@bookTicker`; alternating
 *    (b) a bare `UnifiedFeed` on the combined URL counting `messages$`, and (c) a
 *    `StreamPool` `watch('btcusdt@bookTicker')` subscriber; median msg/s of each, ratio c/b.
 *
 *   npx -y pnpm@10 bench:pool [--runs 5] [--seconds 3] [--warmup 1] [--steady 10]
 *                             [--symbols 531] [--first-timeout 30]
 *
 * Writes bench/results/pool.json. Exits 0 unless it crashes; prints PASS/MISS per target.
 */
import { request } from 'node:http';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import { StreamPool, UnifiedFeed, binanceUsdm } from '@unifeed/core';
import type { SimChildReady } from './sim-child.js';
import {
  fmt,
  forceGc,
  machine,
  mb,
  median,
  num,
  processCpuUs,
  quantile,
  spawnJsonChild,
  within,
  writeJson,
  type JsonChild,
} from './support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const SIM_CHILD = join(HERE, 'sim-child.ts');
const RESULT = join(HERE, 'results', 'pool.json');

const INTERVALS = ['1m', '3m', '5m', '15m', '30m', '4h'] as const;
const FIREHOSE_STREAM = 'btcusdt@bookTicker';
/** UnifiedFeed (b) CPU per message in the Foundation firehose benchmark (docs/benchmarks.md). */
const FOUNDATION_FEED_CPU_US_PER_MSG = 4.245;

const TARGETS = {
  firstMessageMs: 2000,
  connections: 16,
  rssAboveIdleMb: 40,
  ratio: 0.85,
} as const;

interface Options {
  runs: number;
  seconds: number;
  warmup: number;
  steady: number;
  symbols: number;
  firstTimeout: number;
  only: 'fan-in' | 'throughput' | undefined;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      steady: { type: 'string', default: '10' },
      symbols: { type: 'string', default: '531' },
      'first-timeout': { type: 'string', default: '30' },
      only: { type: 'string' },
    },
    allowPositionals: false,
  });
  return {
    runs: Math.round(num('runs', values.runs, 1)),
    seconds: num('seconds', values.seconds, 0.1),
    warmup: num('warmup', values.warmup, 0),
    steady: num('steady', values.steady, 0.5),
    symbols: Math.round(num('symbols', values.symbols, 1)),
    firstTimeout: num('first-timeout', values['first-timeout'], 1),
    only: onlyPart(values.only),
  };
}

function onlyPart(raw: string | undefined): Options['only'] {
  if (raw === undefined || raw === 'fan-in' || raw === 'throughput') return raw;
  throw new Error('--only must be fan-in or throughput');
}

/** Whatever the subscribers receive ends up here, so no engine can skip the work. */
let sink: unknown;

interface Memory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** V8 heap spaces: reserved size (what RSS sees) and used, bytes. */
  spaces: Record<string, { size: number; used: number }>;
}

function memory(): Memory {
  const m = process.memoryUsage();
  const spaces: Memory['spaces'] = {};
  for (const s of getHeapSpaceStatistics()) {
    spaces[s.space_name] = { size: s.space_size, used: s.space_used_size };
  }
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    spaces,
  };
}

type Above = Record<Exclude<keyof Memory, 'spaces'>, number> & {
  /** MB of reserved size of each V8 heap space above the baseline. */
  spaces: Record<string, number>;
};

/** MB of each field of `m` above `base`. */
function above(m: Memory, base: Memory): Above {
  const spaces: Record<string, number> = {};
  for (const [name, s] of Object.entries(m.spaces)) {
    spaces[name] = mb(s.size - (base.spaces[name]?.size ?? 0));
  }
  return {
    rss: mb(m.rss - base.rss),
    heapUsed: mb(m.heapUsed - base.heapUsed),
    heapTotal: mb(m.heapTotal - base.heapTotal),
    external: mb(m.external - base.external),
    arrayBuffers: mb(m.arrayBuffers - base.arrayBuffers),
    spaces,
  };
}

/** GET a JSON document over loopback with `node:http` (no fetch: undici would load). */
function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          if (res.statusCode !== 200) throw new Error(`GET ${url}: HTTP ${res.statusCode}`);
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function exchangeSymbols(restUrl: string): Promise<string[]> {
  const info = (await getJson(`${restUrl}/fapi/v1/exchangeInfo`)) as {
    symbols?: { symbol: string; status?: string }[];
  };
  return (info.symbols ?? []).filter((s) => s.status === 'TRADING').map((s) => s.symbol);
}

function startSim(options: Record<string, unknown>): Promise<JsonChild<SimChildReady>> {
  return spawnJsonChild<SimChildReady>(SIM_CHILD, [JSON.stringify(options)], { cwd: ROOT });
}

// --- part 1: fan-in ---------------------------------------------------------------------

interface FanInResult {
  streams: number;
  symbols: number;
  /** First subscribe to the last stream's first message. */
  allFirstMs: number;
  firstMessageMs: { p50: number; p90: number; p99: number; max: number };
  connections: number;
  streamsPerConnection: number[];
  steady: {
    seconds: number;
    messages: number;
    msgsPerSec: number;
    cpuUs: number;
    cpuMsPer10k: number;
    cpuLoad: number;
    simulatorCpuLoad: number;
  };
  memoryMb: {
    baseline: Memory;
    /** Highest RSS / heapUsed sampled during the steady window, above the baseline. */
    peakRssAbove: number;
    peakHeapUsedAbove: number;
    /** At the end of the window, before and after a full GC, above the baseline. */
    endAbove: Above;
    endAfterGcAbove: Above;
  };
  pool: {
    messages: number;
    reconnects: number;
    gaps: number;
    rejected: number;
    unrouted: number;
    queueDropped: number;
    queueMaxDepth: number;
    lagP99Ms: number;
    subscribeLatencyP99Ms: number;
  };
}

async function fanIn(opts: Options, baseline: Memory): Promise<FanInResult> {
  const sim = await startSim({ venue: 'binance-usdm', symbols: opts.symbols, seed: 1, speed: 1 });
  try {
    const { wsUrl, restUrl } = sim.ready;
    const symbols = await exchangeSymbols(restUrl);
    const streams = symbols.flatMap((s) => INTERVALS.map((i) => `${s.toLowerCase()}@kline_${i}`));
    console.log(
      `fan-in: ${symbols.length} symbols x ${INTERVALS.length} intervals = ${streams.length} ` +
        `streams, simulator at ${wsUrl}`,
    );

    const pool = new StreamPool({ venue: binanceUsdm({ wsUrl, restUrl }) });
    try {
      const firstAt = new Float64Array(streams.length).fill(Number.NaN);
      let firsts = 0;
      let received = 0;
      let allFirst: () => void = () => {};
      const allSeen = new Promise<void>((resolve) => (allFirst = resolve));
      let failure: unknown;

      const t0 = performance.now();
      streams.forEach((stream, i) => {
        pool.watch(stream).subscribe({
          next: (payload) => {
            sink = payload;
            received++;
            if (Number.isNaN(firstAt[i]!)) {
              firstAt[i] = performance.now() - t0;
              if (++firsts === streams.length) allFirst();
            }
          },
          error: (err: unknown) => {
            failure ??= err;
            allFirst();
          },
        });
      });
      const timedOut = await Promise.race([
        allSeen.then(() => false),
        sleep(opts.firstTimeout * 1000).then(() => true),
      ]);
      if (failure !== undefined) throw failure;
      const seen = [...firstAt].filter((x) => !Number.isNaN(x));
      const allFirstMs = timedOut ? Number.POSITIVE_INFINITY : Math.max(...seen);
      const s0 = pool.stats();
      console.log(
        `  every stream's first message after ${timedOut ? `> ${opts.firstTimeout * 1000}` : fmt(allFirstMs)} ms ` +
          `(${seen.length}/${streams.length} seen; p50 ${fmt(quantile(seen, 0.5))} ms, ` +
          `p99 ${fmt(quantile(seen, 0.99))} ms); ${s0.connections} connections ` +
          `(${s0.streamsPerConnection.join(' ')})`,
      );

      // Steady state at real cadence.
      const peak = { rss: 0, heapUsed: 0 };
      const sampleMemory = (): void => {
        const m = process.memoryUsage();
        peak.rss = Math.max(peak.rss, m.rss);
        peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
      };
      const sampler = setInterval(sampleMemory, 250);
      const simCpu0 = processCpuUs(sim.child.pid);
      const n0 = received;
      const cpu0 = process.cpuUsage();
      const w0 = performance.now();
      await sleep(opts.steady * 1000);
      const n1 = received;
      const cpu = process.cpuUsage(cpu0);
      const seconds = (performance.now() - w0) / 1000;
      const simCpu1 = processCpuUs(sim.child.pid);
      sampleMemory();
      clearInterval(sampler);
      const end = memory();
      forceGc();
      const endGc = memory();

      const messages = n1 - n0;
      const cpuUs = cpu.user + cpu.system;
      const st = pool.stats();
      const result: FanInResult = {
        streams: streams.length,
        symbols: symbols.length,
        allFirstMs,
        firstMessageMs: {
          p50: quantile(seen, 0.5),
          p90: quantile(seen, 0.9),
          p99: quantile(seen, 0.99),
          max: Math.max(...seen),
        },
        connections: s0.connections,
        streamsPerConnection: s0.streamsPerConnection,
        steady: {
          seconds,
          messages,
          msgsPerSec: messages / seconds,
          cpuUs,
          cpuMsPer10k: messages > 0 ? (cpuUs / messages) * 10 : Number.NaN,
          cpuLoad: cpuUs / 1e6 / seconds,
          simulatorCpuLoad: (simCpu1 - simCpu0) / 1e6 / seconds,
        },
        memoryMb: {
          baseline,
          peakRssAbove: mb(peak.rss - baseline.rss),
          peakHeapUsedAbove: mb(peak.heapUsed - baseline.heapUsed),
          endAbove: above(end, baseline),
          endAfterGcAbove: above(endGc, baseline),
        },
        pool: {
          messages: st.messages,
          reconnects: st.reconnects,
          gaps: st.gaps,
          rejected: st.rejected,
          unrouted: st.unrouted,
          queueDropped: st.queue.dropped,
          queueMaxDepth: st.queue.maxDepth,
          lagP99Ms: st.lagP99Ms,
          subscribeLatencyP99Ms: st.subscribeLatency.p99Ms,
        },
      };
      const r = result.steady;
      const m = result.memoryMb;
      console.log(
        `  steady ${fmt(r.seconds, 1)} s: ${fmt(r.msgsPerSec)} msg/s, ` +
          `${fmt(r.cpuMsPer10k, 1)} ms CPU per 10,000 msgs (load ${fmt(r.cpuLoad, 3)}; ` +
          `simulator child ${fmt(r.simulatorCpuLoad, 3)})`,
      );
      console.log(
        `  above idle: RSS peak ${fmt(m.peakRssAbove, 1)} MB, end ${fmt(m.endAbove.rss, 1)} MB, ` +
          `after GC ${fmt(m.endAfterGcAbove.rss, 1)} MB; heapUsed peak ${fmt(m.peakHeapUsedAbove, 1)} MB, ` +
          `after GC ${fmt(m.endAfterGcAbove.heapUsed, 1)} MB ` +
          `(idle baseline RSS ${fmt(mb(baseline.rss), 1)} MB, heapUsed ${fmt(mb(baseline.heapUsed), 1)} MB)`,
      );
      console.log(
        `  V8 heap spaces reserved above idle at the end: ${Object.entries(m.endAfterGcAbove.spaces)
          .filter(([, v]) => Math.abs(v) >= 0.05)
          .map(([k, v]) => `${k} ${fmt(v, 1)} MB`)
          .join(', ')}; external ${fmt(m.endAfterGcAbove.external, 1)} MB`,
      );
      console.log(
        `  pool: reconnects ${st.reconnects}, gaps ${st.gaps}, rejected ${st.rejected}, ` +
          `queue dropped ${st.queue.dropped} (max depth ${st.queue.maxDepth}), lag p99 <= ${st.lagP99Ms} ms, ` +
          `subscribe latency p99 <= ${st.subscribeLatency.p99Ms} ms`,
      );
      return result;
    } finally {
      await within(pool.close(), 15_000, 'pool close');
    }
  } finally {
    await sim.stop();
  }
}

// --- part 2: throughput -------------------------------------------------------------------

type Variant = 'unifeed' | 'pool';

interface Sample {
  pair: number;
  variant: Variant;
  messages: number;
  seconds: number;
  msgsPerSec: number;
  cpuUsPerMsg: number;
  cpuLoad: number;
  simulatorCpuLoad: number;
  queueDropped: number;
  queueMaxDepth: number;
  lagP99Ms: number;
}

interface Client {
  count(): number;
  counters(): { dropped: number; maxDepth: number; lagP99Ms: number };
  close(): Promise<void>;
}

/** (b) A bare UnifiedFeed on the combined URL of the stream, counting `messages$`. */
async function openFeed(wsUrl: string): Promise<Client> {
  const feed = new UnifiedFeed({
    url: `${wsUrl}/public/stream?streams=${FIREHOSE_STREAM}`,
    name: 'firehose',
  });
  let n = 0;
  const sub = feed.messages$.subscribe((msg) => {
    sink = msg.data;
    n++;
  });
  await within(feed.start(), 15_000, 'UnifiedFeed start');
  return {
    count: () => n,
    counters: () => {
      const s = feed.stats();
      return { dropped: s.queue.dropped, maxDepth: s.queue.maxDepth, lagP99Ms: s.lag.p99Ms };
    },
    close: async () => {
      await feed.stop();
      sub.unsubscribe();
    },
  };
}

/** (c) A StreamPool `watch` subscriber of the stream. */
async function openPool(wsUrl: string, restUrl: string): Promise<Client> {
  const pool = new StreamPool({ venue: binanceUsdm({ wsUrl, restUrl }) });
  let n = 0;
  let first: () => void = () => {};
  const flowing = new Promise<void>((resolve) => (first = resolve));
  const sub = pool.watch(FIREHOSE_STREAM).subscribe((payload) => {
    sink = payload;
    if (n++ === 0) first();
  });
  await Promise.race([
    flowing,
    sleep(10_000).then(() => {
      throw new Error('pool: no firehose message in 10 s');
    }),
  ]);
  return {
    count: () => n,
    counters: () => {
      const s = pool.stats();
      return { dropped: s.queue.dropped, maxDepth: s.queue.maxDepth, lagP99Ms: s.lagP99Ms };
    },
    close: async () => {
      sub.unsubscribe();
      await pool.close();
    },
  };
}

async function runOnce(
  pair: number,
  variant: Variant,
  sim: JsonChild<SimChildReady>,
  opts: Options,
): Promise<Sample> {
  const { wsUrl, restUrl } = sim.ready;
  const t = performance.now();
  const client = variant === 'unifeed' ? await openFeed(wsUrl) : await openPool(wsUrl, restUrl);
  const openMs = performance.now() - t;
  try {
    await sleep(opts.warmup * 1000);
    const d0 = client.counters().dropped;
    const simCpu0 = processCpuUs(sim.child.pid);
    const n0 = client.count();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(opts.seconds * 1000);
    const n1 = client.count();
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - t0) / 1000;
    const simCpu1 = processCpuUs(sim.child.pid);
    const c = client.counters();
    const messages = n1 - n0;
    const cpuUs = cpu.user + cpu.system;
    return {
      pair,
      variant,
      messages,
      seconds,
      msgsPerSec: messages / seconds,
      cpuUsPerMsg: messages > 0 ? cpuUs / messages : Number.NaN,
      cpuLoad: cpuUs / 1e6 / seconds,
      simulatorCpuLoad: (simCpu1 - simCpu0) / 1e6 / seconds,
      queueDropped: c.dropped - d0,
      queueMaxDepth: c.maxDepth,
      lagP99Ms: c.lagP99Ms,
    };
  } finally {
    const c0 = performance.now();
    await within(client.close(), 15_000, `${variant} close`);
    const closeMs = performance.now() - c0;
    if (openMs > 2000 || closeMs > 2000) {
      console.log(`  (pair ${pair} ${variant}: open ${fmt(openMs)} ms, close ${fmt(closeMs)} ms)`);
    }
  }
}

interface ThroughputResult {
  samples: Sample[];
  median: {
    unifeedMsgsPerSec: number;
    poolMsgsPerSec: number;
    unifeedCpuUsPerMsg: number;
    poolCpuUsPerMsg: number;
  };
  ratio: number;
  pairRatios: number[];
  /**
   * UnifiedFeed's median CPU per message over the pool's: the ratio c/b the pool would reach
   * if the client were CPU-bound. Less sensitive to a starved run than msg/s.
   */
  cpuRatio: number;
}

async function throughput(opts: Options): Promise<ThroughputResult> {
  const sim = await startSim({
    venue: 'binance-usdm',
    symbols: 8,
    seed: 1,
    firehose: { stream: FIREHOSE_STREAM },
  });
  console.log(
    `throughput: firehose ${FIREHOSE_STREAM}, ${opts.runs} pair(s), warm-up ${opts.warmup} s + ` +
      `${opts.seconds} s per run, simulator at ${sim.ready.wsUrl}`,
  );
  const samples: Sample[] = [];
  try {
    for (let pair = 1; pair <= opts.runs; pair++) {
      for (const variant of ['unifeed', 'pool'] as const) {
        const s = await runOnce(pair, variant, sim, opts);
        samples.push(s);
        console.log(
          `  pair ${s.pair} ${s.variant.padEnd(7)} ${fmt(s.msgsPerSec).padStart(9)} msg/s ` +
            `${fmt(s.cpuUsPerMsg, 3)} µs CPU/msg, load ${fmt(s.cpuLoad, 2)}, ` +
            `simulator ${fmt(s.simulatorCpuLoad, 2)}; dropped ${s.queueDropped}, ` +
            `queue max ${s.queueMaxDepth}, lag p99 <= ${s.lagP99Ms} ms`,
        );
      }
    }
  } finally {
    await sim.stop();
  }
  const of = (v: Variant): Sample[] => samples.filter((s) => s.variant === v);
  const feed = of('unifeed');
  const pool = of('pool');
  const med = {
    unifeedMsgsPerSec: median(feed.map((s) => s.msgsPerSec)),
    poolMsgsPerSec: median(pool.map((s) => s.msgsPerSec)),
    unifeedCpuUsPerMsg: median(feed.map((s) => s.cpuUsPerMsg)),
    poolCpuUsPerMsg: median(pool.map((s) => s.cpuUsPerMsg)),
  };
  return {
    samples,
    median: med,
    ratio: med.poolMsgsPerSec / med.unifeedMsgsPerSec,
    pairRatios: feed.map((b, i) => pool[i]!.msgsPerSec / b.msgsPerSec),
    cpuRatio: med.unifeedCpuUsPerMsg / med.poolCpuUsPerMsg,
  };
}

// --- main -----------------------------------------------------------------------------------

const verdict = (pass: boolean): string => (pass ? 'PASS' : 'MISS');

async function main(): Promise<void> {
  // Idle baseline: Node with this script's modules loaded, nothing started yet.
  forceGc();
  const baseline = memory();
  const opts = parseOptions();
  const m = machine();
  console.log(
    `pool bench: ${m.nproc} CPUs (${m.cpu}), Node ${m.node}; ` +
      `idle RSS ${fmt(mb(baseline.rss), 1)} MB, heapUsed ${fmt(mb(baseline.heapUsed), 1)} MB` +
      (process.execArgv.length > 0 ? `; node ${process.execArgv.join(' ')}` : ''),
  );
  const started = performance.now();
  const phaseSeconds: Record<string, number> = {};
  let fan: FanInResult | undefined;
  let thr: ThroughputResult | undefined;
  if (opts.only !== 'throughput') {
    const t = performance.now();
    fan = await fanIn(opts, baseline);
    phaseSeconds['fanIn'] = (performance.now() - t) / 1000;
  }
  if (opts.only !== 'fan-in') {
    const t = performance.now();
    thr = await throughput(opts);
    phaseSeconds['throughput'] = (performance.now() - t) / 1000;
  }

  const checks: Record<string, boolean> = {};
  console.log('');
  if (thr) {
    console.log(
      `(b) UnifiedFeed.messages$ median ${fmt(thr.median.unifeedMsgsPerSec)} msg/s, ` +
        `${fmt(thr.median.unifeedCpuUsPerMsg, 3)} µs CPU/msg`,
    );
    console.log(
      `(c) StreamPool.watch      median ${fmt(thr.median.poolMsgsPerSec)} msg/s, ` +
        `${fmt(thr.median.poolCpuUsPerMsg, 3)} µs CPU/msg`,
    );
    console.log(`per-pair c/b: ${thr.pairRatios.map((r) => fmt(r, 3)).join(', ')}`);
    console.log(
      `CPU per message b/c (the ratio if CPU-bound): ${fmt(thr.cpuRatio, 3)} (information only)`,
    );
  }
  console.log(
    'CPU per 10,000 msgs: ' +
      [
        fan ? `fan-in pool ${fmt(fan.steady.cpuMsPer10k, 1)} ms` : undefined,
        thr ? `firehose pool ${fmt(thr.median.poolCpuUsPerMsg * 10, 1)} ms` : undefined,
        thr ? `firehose UnifiedFeed ${fmt(thr.median.unifeedCpuUsPerMsg * 10, 1)} ms` : undefined,
        `Foundation UnifiedFeed ${fmt(FOUNDATION_FEED_CPU_US_PER_MSG * 10, 1)} ms`,
      ]
        .filter((x) => x !== undefined)
        .join('; '),
  );
  console.log(
    `phases: ${Object.entries(phaseSeconds)
      .map(([k, v]) => `${k} ${fmt(v, 1)} s`)
      .join(', ')}`,
  );
  console.log('');
  if (fan) {
    checks['firstMessage'] = fan.allFirstMs < TARGETS.firstMessageMs;
    checks['connections'] = fan.connections === TARGETS.connections;
    checks['rss'] = fan.memoryMb.peakRssAbove < TARGETS.rssAboveIdleMb;
    console.log(
      `${verdict(checks['firstMessage'])} first message on every stream ${fmt(fan.allFirstMs)} ms ` +
        `(target < ${TARGETS.firstMessageMs} ms)`,
    );
    console.log(
      `${verdict(checks['connections'])} connections ${fan.connections} (target ${TARGETS.connections})`,
    );
    console.log(
      `${verdict(checks['rss'])} RSS above idle ${fmt(fan.memoryMb.peakRssAbove, 1)} MB peak ` +
        `(target < ${TARGETS.rssAboveIdleMb} MB)`,
    );
  }
  if (thr) {
    checks['ratio'] = thr.ratio >= TARGETS.ratio;
    console.log(
      `${verdict(checks['ratio'])} throughput ratio c/b ${fmt(thr.ratio, 3)} (target >= ${TARGETS.ratio})`,
    );
  }

  await writeJson(RESULT, {
    bench: 'pool',
    date: new Date().toISOString(),
    command: `npx -y pnpm@10 bench:pool ${process.argv.slice(2).join(' ')}`.trim(),
    execArgv: process.execArgv,
    options: opts,
    machine: m,
    wallSeconds: (performance.now() - started) / 1000,
    phaseSeconds,
    targets: TARGETS,
    checks,
    fanIn: fan,
    throughput: thr,
    foundationFeedCpuUsPerMsg: FOUNDATION_FEED_CPU_US_PER_MSG,
    sinkType: typeof sink,
  });
  console.log(`wrote ${relative(ROOT, RESULT)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
