/**
 * Helpers shared by benchmarks: child processes that report one JSON line, statistics,
 * number formatting, the machine description, a forced GC, and writing a result file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { GCProfiler, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';

export interface Machine {
  nproc: number;
  cpu: string;
  node: string;
  platform: string;
}

export function machine(): Machine {
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: process.platform,
  };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The `p`-quantile (0..1) of `xs`, nearest rank. */
export function quantile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

export const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const mb = (bytes: number): number => bytes / (1024 * 1024);

/** A numeric command-line value, at least `min`. */
export function num(name: string, raw: string | undefined, min: number): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}`);
  return n;
}

/**
 * Starts counting the bytes this process allocates on the JS heap; the returned function stops
 * and tells how many (call it once). It adds the heap's growth between collections (V8 reports
 * the heap before and after each), so unlike the CPU figures it does not depend on what else
 * the machine runs: a code path allocates the same bytes per message from run to run, give or
 * take what is allocated per socket read (reads carry more or fewer frames under load). A
 * collection while it stops could shift the total by one young generation: under 1 % of a 3 s
 * window here.
 */
export function heapAllocation(): () => number {
  const profiler = new GCProfiler();
  profiler.start();
  const start = getHeapStatistics().used_heap_size;
  return () => {
    const end = getHeapStatistics().used_heap_size;
    let bytes = 0;
    let after = start;
    for (const gc of profiler.stop().statistics) {
      bytes += gc.beforeGC.heapStatistics.usedHeapSize - after;
      after = gc.afterGC.heapStatistics.usedHeapSize;
    }
    return bytes + end - after;
  };
}

/** The monotonic clock as ms since the epoch: fractional, and never set back. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/**
 * What to add to {@link nowMs} to read the wall clock (Date.now()'s, which the venue's `E`
 * comes from) to a fraction of a ms. Date.now() floors the wall time, so `Date.now() - nowMs()`
 * is never above the offset, and is within a few µs of it right after Date.now() ticks. Only
 * samples taken within 20 µs of the one before, across a tick, count: a process descheduled
 * around every tick of a short spin (as on two busy cores) would otherwise come out up to a
 * ms low, and its latencies as much. Spins until it has seen 5 such ticks, at most 50 ms.
 * Near 0 unless the wall clock was set since this process started. Two processes that each
 * add their own offset read the same wall clock: the simulator's send times (`sendTime`) and
 * a client's receive times are compared that way.
 */
export function wallOffsetMs(): number {
  let best = Number.NEGATIVE_INFINITY;
  let loose = Number.NEGATIVE_INFINITY;
  let ticks = 0;
  let wall = Date.now();
  let mono = nowMs();
  for (const end = mono + 50; ticks < 5 && mono < end;) {
    const w = Date.now();
    const m = nowMs();
    loose = Math.max(loose, w - m);
    if (w !== wall && m - mono < 0.02) {
      best = Math.max(best, w - m);
      ticks++;
    }
    wall = w;
    mono = m;
  }
  return ticks > 0 ? best : loose;
}

let gcFn: (() => void) | undefined;

/**
 * A full garbage collection, also when the process was not started with `--expose-gc`
 * (the flag is set at run time and `gc` taken from a fresh context).
 */
export function forceGc(): void {
  if (gcFn === undefined) {
    const global = globalThis as { gc?: () => void };
    if (typeof global.gc === 'function') {
      gcFn = global.gc;
    } else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  gcFn();
}

/** A child process that printed one JSON line when ready. */
export interface JsonChild<T> {
  child: ChildProcess;
  ready: T;
  /** Close stdin (its cue to exit), SIGTERM after 3 s, SIGKILL after 5 s. Idempotent. */
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
let exitHooked = false;

/** Every child still running is SIGKILLed when this process exits, however it exits. */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const c of children) c.kill('SIGKILL');
      process.exit(130);
    });
  }
}

/** Where bench/tsconfig.children.json puts the `tsc` output of the measured children. */
const BUILT_CHILDREN = fileURLToPath(new URL('./dist/', import.meta.url));

/**
 * The `tsc` output of `script`, a file of bench/. Refuses one that is missing, or older than
 * its source: a child measured from stale code would measure the wrong thing.
 */
function builtChild(script: string): string {
  const bench = dirname(BUILT_CHILDREN);
  const rel = relative(bench, script);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`${script} is not in ${bench}`);
  const js = join(BUILT_CHILDREN, rel).replace(/\.ts$/, '.js');
  const fix = 'run `tsc -p bench/tsconfig.children.json`, whose files must list the script';
  if (!existsSync(js)) throw new Error(`${js} is missing: ${fix}`);
  if (statSync(js).mtimeMs < statSync(script).mtimeMs) {
    throw new Error(`${js} is older than ${rel}: ${fix}`);
  }
  return js;
}

/**
 * Each variant in a fresh process of `script`'s built output (`spawnJsonChild` with `built`),
 * `rounds` times, a different variant first each round: each variant's answers, in round order.
 * A process per run, so that nothing one left over is freed, or grown, in another's.
 */
export async function runEachInAFreshChild<V extends string, R>(
  script: string,
  variants: readonly V[],
  rounds: number,
  args: (variant: V) => readonly string[],
  timeoutMs: number,
): Promise<Map<V, R[]>> {
  const seen = new Map<V, R[]>(variants.map((v) => [v, []]));
  for (let r = 0; r < rounds; r++) {
    for (const variant of variants.map((_, i) => variants[(i + r) % variants.length]!)) {
      const run = await spawnJsonChild<R>(script, args(variant), {
        cwd: dirname(dirname(script)),
        built: true,
        timeoutMs,
      });
      await run.stop();
      seen.get(variant)!.push(run.ready);
    }
  }
  return seen;
}

/**
 * Spawn `node --import tsx --conditions=source <script> ...args` from `cwd` and wait for the
 * first JSON line on its stdout (stderr is inherited). Rejects, and kills the child, when it
 * exits first or `timeoutMs` passes.
 *
 * `built: true` runs the script's `tsc` output instead (bench/dist/, from
 * bench/tsconfig.children.json, whose `files` must list it), with plain `node`, and the
 * workspace packages from theirs, as users run them: a child whose memory or CPU is measured.
 * Through tsx the packages would carry its `keepNames` rewrite, which gives every closure an
 * own `name` property (some 250 bytes each, three per stream in a pool), and its loader hooks
 * run a second V8 isolate in a thread of the process, with a heap, collections and CPU time of
 * its own (a bare script under `node --import tsx` starts with some 36 MB more RSS).
 */
export async function spawnJsonChild<T>(
  script: string,
  args: readonly string[],
  options: { cwd: string; nodeArgs?: readonly string[]; timeoutMs?: number; built?: boolean },
): Promise<JsonChild<T>> {
  hookExit();
  const nodeArgs = options.nodeArgs ?? [];
  const argv =
    options.built === true
      ? [...nodeArgs, builtChild(script), ...args]
      : [...nodeArgs, '--import', 'tsx', '--conditions=source', script, ...args];
  const child = spawn(process.execPath, argv, {
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const lines: Interface = createInterface({ input: child.stdout! });
  const iterator = lines[Symbol.asyncIterator]();
  let exited = false;
  const exit = once(child, 'exit').then(([code, signal]) => {
    exited = true;
    throw new Error(`${script} exited (code ${String(code)}, ${String(signal)})`);
  });
  exit.catch(() => {}); // only awaited via race below
  const nextJson = async <R>(): Promise<R> => {
    for (;;) {
      const r = await Promise.race([iterator.next(), exit]);
      if (r.done === true) throw new Error(`${script} closed stdout`);
      const line = String(r.value).trim();
      if (line.startsWith('{')) return JSON.parse(line) as R;
      if (line !== '') console.log(`child: ${line}`);
    }
  };
  const stop = async (): Promise<void> => {
    if (exited || child.exitCode !== null || child.signalCode !== null) return;
    const done = once(child, 'exit');
    // A child that is finishing (writing a --cpu-prof profile, say) gets time to exit by
    // itself: a closed stdin is its cue. Then SIGTERM, then SIGKILL.
    child.stdin?.end();
    const term = setTimeout(() => child.kill('SIGTERM'), 3000);
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(term);
    clearTimeout(kill);
  };
  const timeoutMs = options.timeoutMs ?? 30_000;
  try {
    const ready = await within(nextJson<T>(), timeoutMs, `${script} ready`);
    return { child, ready, stop };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(value, null, 2) + '\n');
}

/** `promise`, or a rejection naming `what` after `ms`: a benchmark must not hang. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A process's `/proc/<pid>/stat`: its command name and the fields after it (`fields[0]` is
 * field 3, the state; `fields[1]` the parent's pid; utime and stime are `fields[11]` and
 * `[12]`). The name is parenthesised and may hold spaces, so the fields start after the last
 * `)`. Undefined where there is no such process or no /proc.
 */
export function procStat(pid: number | string): { name: string; fields: string[] } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return {
      name: stat.slice(stat.indexOf('(') + 1, close),
      fields: stat.slice(close + 2).split(' '),
    };
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system, µs) of another process, read from /proc without its help: a child
 * whose event loop is busy cannot be asked. NaN where /proc is not available.
 */
export function processCpuUs(pid: number | undefined): number {
  const fields = pid === undefined ? undefined : procStat(pid)?.fields;
  if (fields === undefined) return Number.NaN;
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/** USER_HZ: 100 on every Linux Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

/** The first `n` symbols a futures venue (the simulator) lists, as it names them (`BTCUSDT`). */
export async function venueSymbols(restUrl: string, n: number): Promise<string[]> {
  const info = (await (await fetch(`${restUrl}/fapi/v1/exchangeInfo`)).json()) as {
    symbols: { symbol: string }[];
  };
  return info.symbols.slice(0, n).map((s) => s.symbol);
}
