/**
 * Side by side (issue 9): the floor (bare `ws` + JSON.parse), unifeed, ccxt pro and the
 * `binance` npm client against the same simulator, with the same messages, on the same machine,
 * in one invocation. Each contender runs in a child process of its own (bench/compare-child.ts),
 * the simulator in another (bench/sim-child.ts); the order of contenders rotates every round.
 *
 *   npx -y pnpm@10 bench:compare [--rounds 3] [--seconds 3] [--warmup 1]
 *                                [--fanin-rounds 2] [--speed 10] [--latency-speed 4] [--symbols 531] [--steady 10]
 *                                [--books 100] [--only throughput|fanin|books]
 *                                [--contenders floor,unifeed,ccxt,binance] [--profile]
 *                                [--node-args='--max-semi-space-size=4']
 *
 * `--contenders` may also name three controls that are not in the default run: `floor-state`,
 * the floor plus per-stream records as heavy as unifeed's pool state, `unifeed-ws`, unifeed on
 * `ws` instead of its own socket client, and `unifeed-json-parse`, unifeed decoding with
 * `JSON.parse` instead of its own parser (bench/compare/contenders.ts).
 * `--node-args` passes V8/Node flags to every contender's child alike (to see what a flag
 * does to all of them); the simulator's child never gets them.
 * `--profile` runs every contender's child under `node --cpu-prof` and writes one
 * directory per child under bench/results/profiles/ (open it in Chrome DevTools); the
 * figures of a profiled run are not comparable with an unprofiled one, so it writes no doc.
 * `--render` runs nothing: it draws the tables of bench/results/compare.json (the last run
 * that wrote the docs) again and writes them to the docs, after a change to how they are drawn.
 *
 * Scenarios:
 *  1. throughput: the simulator's firehose of `btcusdt@bookTicker` on one connection;
 *     messages/s delivered to the subscriber and parsed by the client, CPU µs per message.
 *  2-4. fan-in: 531 x 6 = 3,186 kline streams at `--speed` x Binance's cadence: time until
 *     every stream delivered (subscribe-all), connections, messages/s, CPU share, RSS above
 *     an idle Node process (and V8's heap, young generation and external memory at its peak),
 *     latency from the venue's `E` to the subscriber and, of it, from the socket read to the
 *     subscriber; then every connection dropped (1006): time until every stream delivers
 *     again, streams lost.
 *  5. books: `--books` local order books from the 100 ms diff stream: time until all are
 *     consistent, updates delivered, CPU; then a gap (one diff withheld) in ten of them, and
 *     five seconds later every book compared level for level with the simulator's truth at the
 *     update id the client says it is at.
 *
 * Writes bench/results/compare.json and the tables between the `compare` markers in
 * docs/benchmarks.md; with `--no-doc` or `--profile`, bench/results/compare-trial.json only, so
 * that compare.json stays the run the docs' tables came from. Exits 0 unless an option is wrong
 * (at once, before anything runs) or it crashes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BooksResult, ChildTask, FaninResult, ThroughputResult } from './compare-child.js';
import { CONTENDERS, contenders, type ContenderName } from './compare/contenders.js';
import type { SimChildOptions, SimChildReady } from './sim-child.js';
import { fmt, machine, median, num, spawnJsonChild, writeJson } from './support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const PROFILES = join(HERE, 'results', 'profiles');
const DOC = join(ROOT, 'docs', 'benchmarks.md');
const INTERVALS = ['1m', '3m', '5m', '15m', '30m', '4h'] as const;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    'fanin-rounds': { type: 'string', default: '2' },
    speed: { type: 'string', default: '10' },
    'latency-speed': { type: 'string', default: '4' },
    symbols: { type: 'string', default: '531' },
    steady: { type: 'string', default: '10' },
    only: { type: 'string' },
    books: { type: 'string', default: '100' },
    contenders: { type: 'string', default: CONTENDERS.join(',') },
    'no-doc': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'node-args': { type: 'string', default: '' },
    render: { type: 'boolean', default: false },
  },
});
/** Writes the docs' table: its JSON is compare.json, which a trial run must not replace. */
const writesDoc = !values['no-doc'] && !values.profile;
const RESULT = join(HERE, 'results', writesDoc ? 'compare.json' : 'compare-trial.json');
const SCENARIOS = ['throughput', 'fanin', 'books'] as const;
// A misspelt scenario would run none and still write an empty table over the docs' one.
if (values.only !== undefined && !(SCENARIOS as readonly string[]).includes(values.only)) {
  throw new Error(`--only must be one of ${SCENARIOS.join(', ')}, not ${values.only}`);
}
const o = {
  rounds: num('rounds', values.rounds, 1),
  seconds: num('seconds', values.seconds, 1),
  warmup: num('warmup', values.warmup, 0),
  faninRounds: num('fanin-rounds', values['fanin-rounds'], 1),
  speed: num('speed', values.speed, 1),
  latencySpeed: num('latency-speed', values['latency-speed'], 0),
  symbols: num('symbols', values.symbols, 1),
  steady: num('steady', values.steady, 1),
  only: values.only as (typeof SCENARIOS)[number] | undefined,
  books: num('books', values.books, 1),
  contenders: values.contenders!.split(',') as ContenderName[],
};
for (const c of o.contenders) {
  if (!Object.hasOwn(contenders, c)) throw new Error(`unknown contender ${c}`);
}

/** Round r runs the contenders starting at r: each goes first once in a while. */
const rotated = (r: number, cs: readonly ContenderName[] = o.contenders) =>
  cs.map((_, i) => cs[(i + r) % cs.length]!);

async function simulator(options: SimChildOptions) {
  return spawnJsonChild<SimChildReady>(join(HERE, 'sim-child.ts'), [JSON.stringify(options)], {
    cwd: ROOT,
  });
}

let profiled = 0;

async function runChild<R>(task: ChildTask, timeoutMs: number): Promise<R | { error: string }> {
  try {
    const c = await spawnJsonChild<R>(join(HERE, 'compare-child.ts'), [JSON.stringify(task)], {
      cwd: ROOT,
      timeoutMs,
      built: true,
      // A directory per child, named after it: --cpu-prof names its files by time and pid.
      nodeArgs: [
        ...values['node-args'].split(' ').filter((a) => a !== ''),
        ...(values.profile
          ? [
              '--cpu-prof',
              '--cpu-prof-dir',
              join(PROFILES, `${task.scenario}-${task.contender}-${++profiled}`),
            ]
          : []),
      ],
    });
    await c.stop();
    return c.ready;
  } catch (err) {
    return { error: (err as Error).message };
  }
}

const isError = (r: object): r is { error: string } => 'error' in r;

async function throughput() {
  const sim = await simulator({
    venue: 'binance-usdm',
    symbols: 5,
    firehose: { stream: 'btcusdt@bookTicker' },
  });
  const runs: Record<string, ThroughputResult[]> = {};
  const errors: Record<string, string[]> = {};
  try {
    for (let r = 0; r < o.rounds; r++) {
      for (const contender of rotated(r)) {
        const res = await runChild<ThroughputResult>(
          {
            contender,
            scenario: 'throughput',
            wsUrl: sim.ready.wsUrl,
            restUrl: sim.ready.restUrl,
            symbol: 'BTCUSDT',
            warmup: o.warmup,
            seconds: o.seconds,
          },
          60_000,
        );
        if (isError(res)) (errors[contender] ??= []).push(res.error);
        else (runs[contender] ??= []).push(res);
        console.log(
          `throughput round ${r + 1} ${contender}: ${isError(res) ? res.error : `${fmt(res.msgsPerSec)} msg/s delivered, ${fmt(res.processedPerSec)} parsed, ${fmt(res.cpuUsPerMsg, 2)} µs CPU/msg`}`,
        );
      }
    }
  } finally {
    await sim.stop();
  }
  const summary = Object.fromEntries(
    o.contenders.map((c) => {
      const xs = runs[c] ?? [];
      return [
        c,
        {
          runs: xs.length,
          errors: errors[c] ?? [],
          msgsPerSec: median(xs.map((x) => x.msgsPerSec)),
          processedPerSec: median(xs.map((x) => x.processedPerSec)),
          cpuUsPerMsg: median(xs.map((x) => x.cpuUsPerMsg)),
          cpuUsPerProcessed: median(xs.map((x) => x.cpuUsPerProcessed)),
        },
      ];
    }),
  );
  return { runs, summary };
}

type FaninRun = FaninResult & { connectionsOpened: number };

/**
 * One fan-in pass of `contenders` at `speed` x Binance's cadence, `o.faninRounds` rounds;
 * `recoveryTimeout` 0 skips the drop.
 */
async function fanin(speed: number, contenders: readonly ContenderName[], recoveryTimeout: number) {
  const sim = await simulator({
    venue: 'binance-usdm',
    symbols: o.symbols,
    speed,
    spreadPushes: true,
    // One market step per kline push (250 ms futures cadence): stepping 531 markets every
    // 50 simulated ms would spend the simulator's CPU on changes no stream shows, on a
    // machine whose two cores it shares with the client being measured.
    tickMs: 250,
    // "St" on every push: the send time to a fraction of a ms, where `E` has whole ms.
    sendTimes: true,
  });
  const runs: Record<string, FaninRun[]> = {};
  const errors: Record<string, string[]> = {};
  const accepted = async () =>
    (
      (await (await fetch(`${sim.ready.controlUrl}/stats`)).json()) as {
        connections: { accepted: number };
      }
    ).connections.accepted;
  try {
    for (let r = 0; r < o.faninRounds; r++) {
      for (const contender of rotated(r, contenders)) {
        const before = await accepted();
        const res = await runChild<FaninResult>(
          {
            contender,
            scenario: 'fanin',
            wsUrl: sim.ready.wsUrl,
            restUrl: sim.ready.restUrl,
            controlUrl: sim.ready.controlUrl,
            simPid: sim.child.pid ?? 0,
            symbols: o.symbols,
            intervals: INTERVALS,
            firstTimeout: 30,
            steady: o.steady,
            recoveryTimeout,
          },
          150_000,
        );
        // Let the simulator notice the closed sockets before the next contender starts.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        if (isError(res)) {
          (errors[contender] ??= []).push(res.error);
          console.log(`fan-in ${contender}: ${res.error}`);
          continue;
        }
        const row = { ...res, connectionsOpened: (await accepted()) - before };
        (runs[contender] ??= []).push(row);
        console.log(
          `fan-in ${speed}x ${contender}: ${res.delivered}/${res.streams} delivered, subscribe-all ${res.subscribeAllMs === null ? '-' : `${fmt(res.subscribeAllMs)} ms`}, ${res.connections} connections, ${fmt(res.msgsPerSec)} msg/s, CPU ${fmt(res.cpuShare * 100, 1)} %, RSS +${fmt(res.rssAboveIdleMb, 1)} MB, latency p99 ${res.latencyMs === null ? '-' : `${res.latencyMs.p99} ms (${fmt(res.latencyMs.within2ms * 100, 2)} % under 2 ms)`}, from the exact send time ${res.sentLatencyMs === null ? '-' : `${res.sentLatencyMs.p99} ms (${fmt(res.sentLatencyMs.within2ms * 100, 2)} %${res.sentBelowZero > 0 ? `; ${res.sentBelowZero} below 0: clocks disagree` : ''})`}, recovery ${res.recovery === null ? 'not run' : `${res.recovery.ms === null ? '-' : `${fmt(res.recovery.ms)} ms`} (${res.recovery.lost} lost)`}`,
        );
      }
    }
  } finally {
    await sim.stop();
  }
  return { runs, errors };
}

async function booksScenario() {
  const sim = await simulator({ venue: 'binance-usdm', symbols: o.books, bookLevels: 40 });
  const runs: Record<string, BooksResult[]> = {};
  const errors: Record<string, string[]> = {};
  try {
    for (const contender of o.contenders) {
      const res = await runChild<BooksResult>(
        {
          contender,
          scenario: 'books',
          wsUrl: sim.ready.wsUrl,
          restUrl: sim.ready.restUrl,
          controlUrl: sim.ready.controlUrl,
          symbols: o.books,
          steady: o.steady,
          gaps: 10,
        },
        150_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (isError(res)) {
        (errors[contender] ??= []).push(res.error);
        console.log(`books ${contender}: ${res.error}`);
        continue;
      }
      (runs[contender] ??= []).push(res);
      console.log(
        `books ${contender}: consistent after ${res.syncAllMs === null ? '-' : `${fmt(res.syncAllMs)} ms`}, ${fmt(res.updatesPerSec)} updates/s, CPU ${fmt(res.cpuShare * 100, 1)} %, after gaps ${res.equal}/${res.books} equal to the truth, ${res.different} different, ${res.notLive} not live`,
      );
    }
  } finally {
    await sim.stop();
  }
  return { runs, errors };
}

if (values.render) {
  // The tables again from the last documented run, after a change to how they are drawn.
  const saved = JSON.parse(await readFile(join(HERE, 'results', 'compare.json'), 'utf8')) as Result;
  if (typeof saved.command !== 'string') throw new Error('compare.json has no command: rerun');
  const tables = renderTables(saved);
  console.log(tables);
  await writeDoc(tables);
  process.exit(0);
}

const started = Date.now();
const args = process.argv.slice(2);
const result = {
  date: new Date().toISOString(),
  machine: machine(),
  command: `npx -y pnpm@10 bench:compare${args.length > 0 ? ` ${args.join(' ')}` : ''}`,
  options: o,
  throughput: o.only === undefined || o.only === 'throughput' ? await throughput() : undefined,
  fanin:
    o.only === undefined || o.only === 'fanin' ? await fanin(o.speed, o.contenders, 20) : undefined,
  latency: undefined as Awaited<ReturnType<typeof fanin>> | undefined,
  books: o.only === undefined || o.only === 'books' ? await booksScenario() : undefined,
  seconds: 0,
};
// Latency at some 50,000 msg/s (the target's rate), apart from the full-cadence pass whose
// load is more than a 2-core machine shares calmly with the simulator: only for contenders
// that delivered every stream in every round, since a latency of a few streams says nothing.
if (result.fanin !== undefined && o.latencySpeed > 0) {
  const complete = o.contenders.filter((c) => deliveredAll(result.fanin!, c, o.faninRounds));
  if (complete.length > 0) result.latency = await fanin(o.latencySpeed, complete, 0);
}
result.seconds = Math.round((Date.now() - started) / 1000);
await writeJson(RESULT, result);
const tables = renderTables(result);
console.log(`\n${tables}`);
if (writesDoc) await writeDoc(tables);
console.log(
  `\n${result.seconds} s; ${relative(ROOT, RESULT)}${writesDoc ? ' and docs/benchmarks.md' : ''} written`,
);

/** The contender delivered every stream in every one of `rounds` rounds of a fan-in pass. */
function deliveredAll(
  pass: { runs: Record<string, FaninRun[]> },
  c: string,
  rounds: number,
): boolean {
  const xs = pass.runs[c] ?? [];
  return xs.length === rounds && xs.every((x) => x.delivered === x.streams);
}

/**
 * ` (1.24x)`: `x` over unifeed's `base`, from the unrounded figures; nothing unless both are
 * positive and finite.
 */
function ratio(x: number | null | undefined, base: number | null | undefined): string {
  if (x === null || x === undefined || base === null || base === undefined) return '';
  if (!(x > 0) || !(base > 0) || !Number.isFinite(x) || !Number.isFinite(base)) return '';
  const r = x / base;
  return r < 0.01 ? ' (<0.01x)' : ` (${fmt(r, 2)}x)`;
}

type Result = typeof result;

function renderTables(r: Result): string {
  // The run's own options, also when drawing a saved run's tables again.
  const o = r.options;
  const cs = o.contenders;
  const head = (title: string) => [
    `| ${title} | ${cs.join(' | ')} |`,
    `| --- | ${cs.map(() => '---:').join(' | ')} |`,
  ];
  /** One table row: `label`, then each contender's cell. */
  const line = (label: string, cell: (c: string) => string) =>
    `| ${label} | ${cs.map(cell).join(' | ')} |`;
  const lines: string[] = [];
  const m = r.machine;
  lines.push(
    `Run ${r.date.slice(0, 16).replace('T', ' ')} UTC, ${r.seconds} s, on ${m.nproc} cores (${m.cpu}), Node ${m.node}. ` +
      `Command: \`${r.command}\`.`,
    '',
  );
  if (r.throughput !== undefined) {
    const s = r.throughput.summary;
    const u = s.unifeed;
    const figure = (
      label: string,
      key: 'msgsPerSec' | 'processedPerSec' | 'cpuUsPerMsg' | 'cpuUsPerProcessed',
      digits = 0,
    ) => line(label, (c) => `${fmt(s[c]![key], digits)}${ratio(s[c]![key], u?.[key])}`);
    lines.push(
      `**1. Throughput**: one connection, \`btcusdt@bookTicker\` firehose, median of ${o.rounds} rounds of ${o.seconds} s; in brackets each figure over unifeed's.`,
      '',
      ...head('throughput'),
      figure('messages/s delivered to the subscriber', 'msgsPerSec'),
      figure('messages/s parsed by the client', 'processedPerSec'),
      figure('CPU µs per delivered message', 'cpuUsPerMsg', 2),
      figure('CPU µs per parsed message', 'cpuUsPerProcessed', 2),
      '',
    );
  }
  if (r.fanin !== undefined) {
    /**
     * The median over the rounds of one figure: null where a round never got it, undefined
     * where the contender has no rounds.
     */
    const value = (c: string, pick: (x: FaninRun) => number | null, pass = r.fanin!) => {
      const xs = pass.runs[c] ?? [];
      if (xs.length === 0) return undefined;
      const vs = xs.map(pick);
      return vs.some((v) => v === null) ? null : median(vs as number[]);
    };
    const cell = (
      c: string,
      pick: (x: FaninRun) => number | null,
      show: (v: number | null) => string,
      pass = r.fanin!,
      vsUnifeed = false,
    ) => {
      const v = value(c, pick, pass);
      if (v === undefined) {
        return pass === r.fanin
          ? `error: ${pass.errors[c]?.[0] ?? '-'}`
          : (pass.errors[c]?.[0] ?? 'not run');
      }
      // A ratio compares the same work: not for a contender that delivered a few streams.
      const comparable = vsUnifeed && deliveredAll(pass, c, o.faninRounds);
      return show(v) + (comparable ? ratio(v, value('unifeed', pick, pass)) : '');
    };
    const n =
      (digits = 0) =>
      (v: number | null) =>
        v === null ? '-' : fmt(v, digits);
    const ms = (v: number | null) => (v === null ? 'never' : `${fmt(v)} ms`);
    const pct = (v: number | null) => (v === null ? '-' : `${fmt(v, 1)} %`);
    /** A row of each contender's figure, with its ratio to unifeed's where `vsUnifeed`. */
    const row = (
      label: string,
      pick: (x: FaninRun) => number | null,
      show: (v: number | null) => string,
      pass = r.fanin!,
      vsUnifeed = false,
    ) => line(label, (c) => cell(c, pick, show, pass, vsUnifeed));
    /** Rows of the steady window, the same in the fan-in table and the latency one. */
    const steadyRows = (pass: NonNullable<typeof r.fanin>) => [
      row('CPU µs per message', (x) => x.cpuUsPerMsg, n(2), pass, true),
      row("the simulator's CPU share (steady window)", (x) => x.simCpuShare * 100, pct, pass),
      row('RSS above an idle Node process (MB)', (x) => x.rssAboveIdleMb, n(1), pass, true),
      row('V8 heap at the RSS peak (MB)', (x) => x.heapAtPeakMb.total, n(1), pass, true),
      row('of it the young generation, sized by V8 (MB)', (x) => x.heapAtPeakMb.young, n(1), pass),
      row('of it the old space (MB)', (x) => x.heapAtPeakMb.old, n(1), pass),
      row(
        'outside the heap: socket buffers and other ArrayBuffers, above before connecting (MB)',
        (x) => x.heapAtPeakMb.external,
        n(1),
        pass,
      ),
      row('latency `E` to subscriber p50 (ms)', (x) => x.latencyMs?.p50 ?? null, n(1), pass),
      row('latency p99 (ms)', (x) => x.latencyMs?.p99 ?? null, n(1), pass, true),
      row('latency max (ms)', (x) => x.latencyMs?.max ?? null, n(1), pass),
      row(
        'messages under 2 ms (%)',
        (x) => (x.latencyMs === null ? null : x.latencyMs.within2ms * 100),
        n(2),
        pass,
      ),
      row(
        'latency from the exact send time p50 (ms)',
        (x) => x.sentLatencyMs?.p50 ?? null,
        n(1),
        pass,
      ),
      row('exact p99 (ms)', (x) => x.sentLatencyMs?.p99 ?? null, n(1), pass, true),
      row(
        'exact: messages under 2 ms (%)',
        (x) => (x.sentLatencyMs === null ? null : x.sentLatencyMs.within2ms * 100),
        n(2),
        pass,
      ),
      row(
        "of it the client's own: socket read to subscriber p50 (ms)",
        (x) => x.ownLatencyMs?.p50 ?? null,
        n(1),
        pass,
      ),
      row('socket read to subscriber p99 (ms)', (x) => x.ownLatencyMs?.p99 ?? null, n(1), pass),
      row('event-loop delay p99 (ms)', (x) => x.loopDelayMs.p99, n(1), pass),
    ];
    lines.push(
      `**2-4. Fan-in, subscribe-all, recovery**: ${o.symbols} symbols x 6 intervals at ${o.speed}x Binance's cadence, ${o.steady} s steady window, then every connection dropped (1006); median of ${o.faninRounds} rounds ("never": not in every round); in brackets, on the rows a ratio suits, each figure over unifeed's.`,
      '',
      ...head('fan-in'),
      row(`streams delivered (of ${o.symbols * 6})`, (x) => x.delivered, n()),
      row('subscribe-all: every stream delivered', (x) => x.subscribeAllMs, ms, r.fanin, true),
      row('connections open', (x) => x.connections, n()),
      row('connections opened in the run (drop included)', (x) => x.connectionsOpened, n()),
      row('messages/s', (x) => x.msgsPerSec, n(), r.fanin, true),
      row('CPU share of one core', (x) => x.cpuShare * 100, pct, r.fanin, true),
      ...steadyRows(r.fanin),
      row(
        'recovery: every stream delivering again',
        (x) => x.recovery?.ms ?? null,
        ms,
        r.fanin,
        true,
      ),
      row('streams that never came back (20 s)', (x) => x.recovery?.lost ?? null, n()),
      '',
    );
    const l = r.latency;
    if (l !== undefined) {
      const rate = (c: string) => cell(c, (x) => x.msgsPerSec, n(), l, true);
      lines.push(
        `**Latency at ${o.latencySpeed}x**: the same ${o.symbols * 6} streams at ${o.latencySpeed}x Binance's cadence, the rate of the latency target, for the contenders that delivered every stream above; median of ${o.faninRounds} rounds; in brackets, on the rows a ratio suits, each figure over unifeed's. Latency from \`E\` is an upper bound: the receive time minus \`E\`, which the venue floors to the ms, so each sample is up to 1 ms (0.5 on average) above the time taken. The exact rows take the simulator's send time to a fraction of a ms instead (its \`"St"\` field, read once the payload is encoded; ccxt and \`binance\` do not hand over the payload). Quantiles are their 0.1 ms bin's lower edge.`,
        '',
        ...head(`latency at ${o.latencySpeed}x`),
        line('messages/s', rate),
        ...steadyRows(l),
        row('event-loop delay max (ms)', (x) => x.loopDelayMs.max, n(1), l),
        '',
      );
    }
  }
  if (r.books !== undefined) {
    const b = r.books;
    const cell = (c: string, show: (x: BooksResult) => string) => {
      const x = b.runs[c]?.[0];
      return x === undefined ? `${b.errors[c]?.[0] ?? '-'}` : show(x);
    };
    /** A row of each contender's figure, with its ratio to unifeed's. */
    const row = (
      label: string,
      pick: (x: BooksResult) => number | null,
      show: (v: number) => string,
      none = '-',
    ) =>
      line(label, (c) =>
        cell(c, (x) => {
          const v = pick(x);
          const u = b.runs.unifeed?.[0];
          return v === null ? none : show(v) + ratio(v, u === undefined ? undefined : pick(u));
        }),
      );
    lines.push(
      `**5. Order books**: ${o.books} books from the 100 ms diff stream (40 levels a side), ${o.steady} s steady window, then one diff withheld in 10 of them and, 5 s later, every book compared level for level with the simulator's truth at its update id; in brackets each figure over unifeed's.`,
      '',
      ...head('order books'),
      row(
        'every book consistent after',
        (x) => x.syncAllMs,
        (v) => `${fmt(v)} ms`,
        'never',
      ),
      row(
        'book updates delivered per second',
        (x) => x.updatesPerSec,
        (v) => fmt(v),
      ),
      row(
        'CPU share of one core',
        (x) => x.cpuShare * 100,
        (v) => `${fmt(v, 1)} %`,
      ),
      row(
        'CPU µs per delivered update',
        (x) => x.cpuUsPerUpdate,
        (v) => fmt(v, 1),
      ),
      row(
        'RSS above an idle Node process (MB)',
        (x) => x.rssAboveIdleMb,
        (v) => fmt(v, 1),
      ),
      line('after the gaps: equal to the truth / different / no book / truth forgotten', (c) =>
        cell(c, (x) => `${x.equal} / ${x.different} / ${x.notLive} / ${x.unknown}`),
      ),
      '',
    );
  }
  return lines.join('\n');
}

/** Replace what stands between the `compare` markers in docs/benchmarks.md. */
async function writeDoc(tables: string): Promise<void> {
  const doc = await readFile(DOC, 'utf8');
  const start = '<!-- compare:start -->';
  const end = '<!-- compare:end -->';
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`docs/benchmarks.md has no ${start} ... ${end} section`);
  // Formatted as the repository's prettier check wants it, so a run leaves lint green.
  const prettier = await import('prettier');
  const text = `${doc.slice(0, i + start.length)}\n\n${tables}\n${doc.slice(j)}`;
  const config = (await prettier.resolveConfig(DOC)) ?? {};
  await writeFile(DOC, await prettier.format(text, { ...config, filepath: DOC }));
}
