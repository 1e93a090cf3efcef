/**
 * One contender, one scenario, in a process of its own (so that its CPU time and RSS are its
 * own, and no library's import cost or timers leak into another's run). Run by
 * compare.bench.ts:
 *
 *   node bench/dist/compare-child.js '<ChildTask as JSON>'
 *
 * from its `tsc` output (bench/tsconfig.children.json), with plain node: no loader thread in
 * the process whose memory and CPU it measures.
 *
 * Prints one JSON line (the result) on stdout and exits.
 */
import { syncBuiltinESMExports } from 'node:module';
import net, { Socket, type OnReadOpts } from 'node:net';
import tls from 'node:tls';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { cpuUsage, memoryUsage } from 'node:process';
import { contenders, type ContenderName, type Session } from './compare/contenders.js';
import { nowMs, processCpuUs, venueSymbols, wallOffsetMs } from './support.js';

/** What the parent asks for. */
export type ChildTask = {
  contender: ContenderName;
  wsUrl: string;
  restUrl: string;
} & (
  | { scenario: 'throughput'; symbol: string; warmup: number; seconds: number }
  | {
      scenario: 'fanin';
      controlUrl: string;
      /** The simulator's process, whose CPU the child reads from /proc over its window. */
      simPid: number;
      symbols: number;
      intervals: readonly string[];
      firstTimeout: number;
      steady: number;
      /** Seconds to wait for every stream after dropping every connection; 0: no drop. */
      recoveryTimeout: number;
    }
  | {
      scenario: 'books';
      controlUrl: string;
      symbols: number;
      steady: number;
      /** Books that get a gap (one diff withheld) before the check. */
      gaps: number;
    }
);

export interface BooksResult {
  books: number;
  /** From the subscribe call until every book was consistent (null: not all were). */
  syncAllMs: number | null;
  updatesPerSec: number;
  /** CPU time / wall time over the steady window (1 = one core). */
  cpuShare: number;
  cpuUsPerUpdate: number;
  rssAboveIdleMb: number;
  /** After the gaps: books read and compared with the venue's truth at their update id. */
  checked: number;
  equal: number;
  different: number;
  /** Books the client had no consistent copy of at the check. */
  notLive: number;
  /** Books whose update id the simulator no longer remembers (not the client's fault). */
  unknown: number;
}

export interface ThroughputResult {
  /** Messages delivered to the subscriber. */
  messages: number;
  seconds: number;
  msgsPerSec: number;
  /** Messages the client parsed (more than it delivered for ccxt, which merges). */
  processedPerSec: number;
  /** This process's CPU time per delivered message, µs. */
  cpuUsPerMsg: number;
  /** ... per parsed message. */
  cpuUsPerProcessed: number;
}

/** Quantiles of a latency, ms, and the share of samples within 2 ms (the target's bound). */
export interface LatencyMs {
  p50: number;
  p99: number;
  max: number;
  /** Of the samples, the share under 2 ms: 0.99 or more is a p99 under 2 ms. */
  within2ms: number;
  samples: number;
}

export interface FaninResult {
  streams: number;
  /** Streams that delivered within `firstTimeout`. */
  delivered: number;
  /** From the subscribe call until every stream delivered (null: not all did). */
  subscribeAllMs: number | null;
  /** Connections the simulator had open for this client in the steady window. */
  connections: number;
  msgsPerSec: number;
  /** CPU time / wall time of this process over the steady window (1 = one core). */
  cpuShare: number;
  /** The simulator's CPU over the steady window, as a share of one core (NaN without /proc). */
  simCpuShare: number;
  /** null: no message delivered in the window. */
  cpuUsPerMsg: number | null;
  /** Peak RSS in the steady window above this process's RSS after its first fetch, before any client was loaded. */
  rssAboveIdleMb: number;
  /**
   * When RSS peaked: V8's heap, the young generation in it (which V8 sizes itself), its old
   * space (where `JSON.parse` puts the short strings it internalizes: bench:json-strings), and
   * memory outside the heap held by JS objects (socket read buffers and other ArrayBuffers)
   * above what it was before the client connected, when the harness's latency counts (three
   * arrays of 600,001 doubles, 4.6 MiB each, allocated but mostly never touched, so not
   * resident) already existed.
   */
  heapAtPeakMb: { total: number; young: number; old: number; external: number };
  /**
   * Send (the venue's `E`) to the subscriber, ms; null where the client hides `E`. Each sample
   * is an upper bound (`E` is the send time floored to the ms, so a sample is up to 1 ms, 0.5
   * on average, above the time the message took); quantiles are their 0.1 ms bin's lower edge.
   */
  latencyMs: LatencyMs | null;
  /**
   * The simulator's exact send time (its `"St"`, the wall clock to a fraction of a ms, read
   * once the payload is encoded) to the subscriber, ms (0.1 ms steps); null where the client
   * does not hand over the payload it parsed (ccxt, `binance`).
   */
  sentLatencyMs: LatencyMs | null;
  /**
   * Samples whose exact latency came out below 0 (counted in the 0 bin): a sign of clocks
   * that disagree. 0 in every run so far.
   */
  sentBelowZero: number;
  /** From the socket read that carried a message to the subscriber, ms (0.1 ms steps). */
  ownLatencyMs: LatencyMs | null;
  /** Event-loop delay over the steady window (perf_hooks, 1 ms resolution), ms. */
  loopDelayMs: { p99: number; max: number };
  /** Every connection dropped (1006): time until every stream delivered again; null: not run. */
  recovery: { ms: number | null; lost: number } | null;
}

const task = JSON.parse(process.argv[2] ?? '{}') as ChildTask;
// The harness talks to the simulator's REST and control URLs with fetch, which loads undici
// (some 20 MB of RSS) on first use: that is the harness's, not a contender's, so the idle
// baseline is taken after one fetch.
await (await fetch(`${task.restUrl}/fapi/v1/ping`)).arrayBuffer();
const idleRss = memoryUsage().rss;
const contender = contenders[task.contender];
const urls = { wsUrl: task.wsUrl, restUrl: task.restUrl };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * When the socket read being handled began: every client here handles the frames of one socket
 * read before the next read is handled (within the read, or in the microtasks after it), so
 * this is the read that carried a message delivered now. A frame held past the next read
 * (unifeed's queue holds what exceeds a slice of 1,024 frames or 10 ms) is timed from that
 * later read: a lower bound then. `ws` (the floor, ccxt, `binance`) reads through `net.Socket`'s
 * 'data' event; unifeed's own client through the `onread` option of `net.connect` and
 * `tls.connect`, whose callback is wrapped here before any client is imported.
 */
let lastReadAt = 0;
const socketEmit = Socket.prototype.emit;
Socket.prototype.emit = function (this: Socket, event: string | symbol, ...args: unknown[]) {
  if (event === 'data') lastReadAt = nowMs();
  return socketEmit.apply(this, [event, ...args] as Parameters<typeof socketEmit>);
};
type Connect = (options: { onread?: OnReadOpts }, ...rest: unknown[]) => Socket;
function stampReads(connect: Connect): Connect {
  return (options, ...rest) => {
    const onread = options.onread;
    if (onread === undefined) return connect(options, ...rest);
    const callback = onread.callback;
    return connect(
      {
        ...options,
        onread: {
          ...onread,
          callback: (n: number, buf: Uint8Array) => {
            lastReadAt = nowMs();
            return callback(n, buf);
          },
        },
      },
      ...rest,
    );
  };
}
const netModule = net as unknown as { connect: Connect };
const tlsModule = tls as unknown as { connect: Connect };
netModule.connect = stampReads(netModule.connect);
tlsModule.connect = stampReads(tlsModule.connect);
// ES modules import `connect` from 'node:net' by name: let them see the wrapped one.
syncBuiltinESMExports();
const cpuUs = () => {
  const c = cpuUsage();
  return c.user + c.system;
};

/**
 * V8's committed heap now, MB: all spaces, the young generation's, and external memory above
 * `externalBase` (bytes).
 */
function heapNow(externalBase: number): FaninResult['heapAtPeakMb'] {
  const mb = (bytes: number) => bytes / (1024 * 1024);
  const spaces = getHeapSpaceStatistics();
  return {
    total: mb(spaces.reduce((sum, s) => sum + s.space_size, 0)),
    young: mb(spaces.find((s) => s.space_name === 'new_space')?.space_size ?? 0),
    old: mb(spaces.find((s) => s.space_name === 'old_space')?.space_size ?? 0),
    external: mb(memoryUsage().external - externalBase),
  };
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

async function throughput(
  t: Extract<ChildTask, { scenario: 'throughput' }>,
): Promise<ThroughputResult> {
  let n = 0;
  await contender.load('bookTicker');
  const session = await contender.bookTicker(urls, t.symbol, () => n++);
  try {
    if (!(await until(() => n > 0, 20_000))) throw new Error('no message within 20 s');
    await sleep(t.warmup * 1000);
    const processed = () => session.processed?.() ?? n;
    const [n0, p0, c0, t0] = [n, processed(), cpuUs(), nowMs()];
    await sleep(t.seconds * 1000);
    const [n1, p1, c1, t1] = [n, processed(), cpuUs(), nowMs()];
    const messages = n1 - n0;
    const seconds = (t1 - t0) / 1000;
    return {
      messages,
      seconds,
      msgsPerSec: messages / seconds,
      processedPerSec: (p1 - p0) / seconds,
      cpuUsPerMsg: (c1 - c0) / Math.max(1, messages),
      cpuUsPerProcessed: (c1 - c0) / Math.max(1, p1 - p0),
    };
  } finally {
    await session.close();
  }
}

/** Latencies beyond this count as this: a minute late is lost for any trading purpose. */
const MAX_LATENCY_MS = 60_000;

/** p50, p99, max and the share under 2 ms of counts per 0.1 ms; null without a sample. */
function quantiles(counts: Float64Array): LatencyMs | null {
  const samples = counts.reduce((a, b) => a + b, 0);
  if (samples === 0) return null;
  const at = (p: number): number => {
    const rank = Math.max(1, Math.ceil(p * samples));
    let seen = 0;
    for (let ms = 0; ms < counts.length; ms++) {
      seen += counts[ms]!;
      if (seen >= rank) return ms;
    }
    return counts.length - 1;
  };
  const within2ms = counts.subarray(0, 20).reduce((a, b) => a + b, 0) / samples;
  return { p50: at(0.5) / 10, p99: at(0.99) / 10, max: at(1) / 10, within2ms, samples };
}

async function fanin(t: Extract<ChildTask, { scenario: 'fanin' }>): Promise<FaninResult> {
  const symbols = await venueSymbols(t.restUrl, t.symbols);
  await contender.load('klines');
  const streams = symbols.length * t.intervals.length;
  const first = new Map<string, number>();
  const afterDrop = new Map<string, number>();
  // Counts per 0.1 ms, not a growing array: the figure is RSS too, and half a million samples
  // would weigh on every contender's.
  const latencies = new Float64Array(MAX_LATENCY_MS * 10 + 1);
  const sentLatencies = new Float64Array(MAX_LATENCY_MS * 10 + 1);
  let sentBelowZero = 0;
  // The client's own part, from the socket read that carried a message to its subscriber:
  // what is left of E-to-subscriber is the venue, the kernel and the machine (the simulator
  // shares its two cores).
  const ownLatencies = new Float64Array(MAX_LATENCY_MS * 10 + 1);
  const tenths = (ms: number) => Math.max(0, Math.min(MAX_LATENCY_MS * 10, Math.floor(ms * 10)));
  // The counts above are ArrayBuffers too: external memory is the client's only above this.
  const externalBase = memoryUsage().external;
  let measuring = false;
  let wallOffset = 0;
  let messages = 0;
  let dropAt = Number.POSITIVE_INFINITY;
  const start = nowMs();
  let session: Session | undefined;
  const recover = async (timeoutS: number): Promise<FaninResult['recovery']> => {
    // The simulator has closed every socket when it answers: what it sends later (E above
    // this) can only arrive over a new connection.
    await fetch(`${t.controlUrl}/drop`, { method: 'POST' });
    const dropped = nowMs();
    dropAt = Date.now();
    await until(() => afterDrop.size >= first.size, timeoutS * 1000);
    const recoveredAll = afterDrop.size >= first.size && first.size === streams;
    return {
      ms: recoveredAll ? Math.max(...afterDrop.values()) - dropped : null,
      lost: streams - afterDrop.size,
    };
  };
  const on = (key: string, eventTime: number, sentAt?: number): void => {
    const now = nowMs();
    messages++;
    if (!first.has(key)) first.set(key, now - start);
    // The venue's E is the wall clock floored to the ms: the difference from the wall clock
    // now bounds the latency from above.
    if (measuring && !Number.isNaN(eventTime)) {
      latencies[tenths(now + wallOffset - eventTime)]!++;
      if (sentAt !== undefined) {
        const ms = now + wallOffset - sentAt;
        if (ms < 0) sentBelowZero++;
        sentLatencies[tenths(ms)]!++;
      }
      ownLatencies[tenths(now - lastReadAt)]!++;
    }
    // Only what the venue sent after the drop counts as delivered again.
    if (eventTime > dropAt && !afterDrop.has(key)) afterDrop.set(key, now);
  };
  try {
    session = await contender.klines(urls, symbols, t.intervals, on);
    await until(() => first.size >= streams, t.firstTimeout * 1000);
    const delivered = first.size;
    const subscribeAllMs = delivered >= streams ? Math.max(...first.values()) : null;

    // Steady window. The offset first: its spin of a few ms would delay the frames read next.
    wallOffset = wallOffsetMs();
    await sleep(1000);
    measuring = true;
    // How long the event loop was kept from turning, in the same window: a message that
    // arrives while it is blocked waits as long.
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    let peakRss = memoryUsage().rss;
    let heapAtPeak = heapNow(externalBase);
    const [m0, c0, t0, s0] = [messages, cpuUs(), nowMs(), processCpuUs(t.simPid)];
    for (let s = 0; s < t.steady; s++) {
      await sleep(1000);
      const rss = memoryUsage().rss;
      if (rss > peakRss) {
        peakRss = rss;
        heapAtPeak = heapNow(externalBase);
      }
    }
    const [m1, c1, t1, s1] = [messages, cpuUs(), nowMs(), processCpuUs(t.simPid)];
    measuring = false;
    loop.disable();
    const stats = (await (await fetch(`${t.controlUrl}/stats`)).json()) as {
      connections: { open: number };
    };
    const latency = quantiles(latencies);
    const own = quantiles(ownLatencies);

    // Recovery: every connection cut at once.
    const recovery = t.recoveryTimeout > 0 ? await recover(t.recoveryTimeout) : null;
    const wall = (t1 - t0) / 1000;
    const steadyMessages = m1 - m0;
    return {
      streams,
      delivered,
      subscribeAllMs,
      connections: stats.connections.open,
      msgsPerSec: steadyMessages / wall,
      cpuShare: (c1 - c0) / 1e6 / wall,
      simCpuShare: (s1 - s0) / 1e6 / wall,
      cpuUsPerMsg: steadyMessages > 0 ? (c1 - c0) / steadyMessages : null,
      rssAboveIdleMb: (peakRss - idleRss) / (1024 * 1024),
      heapAtPeakMb: heapAtPeak,
      latencyMs: latency,
      sentLatencyMs: quantiles(sentLatencies),
      sentBelowZero,
      ownLatencyMs: own,
      loopDelayMs: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
      recovery,
    };
  } finally {
    await session?.close();
  }
}

async function books(t: Extract<ChildTask, { scenario: 'books' }>): Promise<BooksResult> {
  if (contender.books === undefined) throw new Error('no local order book');
  const symbols = await venueSymbols(t.restUrl, t.symbols);
  await contender.load('books');
  let updates = 0;
  const start = nowMs();
  const session = await contender.books(urls, symbols, () => updates++);
  try {
    const allLive = () => symbols.every((s) => session.read(s) !== undefined);
    const synced = await until(allLive, 60_000);
    const syncAllMs = synced ? nowMs() - start : null;
    let peakRss = memoryUsage().rss;
    const [u0, c0, t0] = [updates, cpuUs(), nowMs()];
    for (let s = 0; s < t.steady; s++) {
      await sleep(1000);
      peakRss = Math.max(peakRss, memoryUsage().rss);
    }
    const [u1, c1, t1] = [updates, cpuUs(), nowMs()];
    for (const s of symbols.slice(0, t.gaps)) {
      await fetch(`${t.controlUrl}/gap?symbol=${s}`, { method: 'POST' });
    }
    await sleep(5000);
    // Read every book at one moment, then ask the venue what the book was at each one's id.
    const reads = symbols.map((s) => [s, session.read(s)] as const);
    let equal = 0;
    let different = 0;
    let notLive = 0;
    let unknown = 0;
    for (const [symbol, book] of reads) {
      if (book === undefined) {
        notLive++;
        continue;
      }
      const truth = (
        (await (await fetch(`${t.controlUrl}/truth?symbol=${symbol}&id=${book.id}`)).json()) as {
          book: { bids: [string, string][]; asks: [string, string][] } | null;
        }
      ).book;
      if (truth === null) unknown++;
      else if (same(book.bids, truth.bids) && same(book.asks, truth.asks)) equal++;
      else different++;
    }
    return {
      books: symbols.length,
      syncAllMs,
      updatesPerSec: ((u1 - u0) * 1000) / (t1 - t0),
      cpuShare: (c1 - c0) / 1000 / (t1 - t0),
      cpuUsPerUpdate: (c1 - c0) / Math.max(1, u1 - u0),
      rssAboveIdleMb: (peakRss - idleRss) / (1024 * 1024),
      checked: equal + different,
      equal,
      different,
      notLive,
      unknown,
    };
  } finally {
    await session.close();
  }
}

/** Level for level, prices and quantities compared as numbers ("0.10" is 0.1). */
function same(
  mine: readonly (readonly [string | number, string | number])[],
  truth: readonly [string, string][],
): boolean {
  return (
    mine.length === truth.length &&
    mine.every(
      ([p, q], i) => Number(p) === Number(truth[i]![0]) && Number(q) === Number(truth[i]![1]),
    )
  );
}

let result: ThroughputResult | FaninResult | BooksResult | { error: string };
try {
  result =
    task.scenario === 'throughput'
      ? await throughput(task)
      : task.scenario === 'fanin'
        ? await fanin(task)
        : await books(task);
} catch (err) {
  // Reported as the result: the parent puts it in the table instead of a figure.
  result = { error: (err as Error).message };
}
process.stdout.write(`${JSON.stringify(result)}\n`);
// Some clients keep timers (keepalives, reconnects) after close: the result is out, end here.
process.exit(0);
