/**
 * How often the machine takes a core away from a busy process: `--loops` processes (default:
 * one per core) spin together for `--seconds`, each reading the monotonic clock, and note
 * every gap over 1 ms between two readings (the process was off the CPU).
 *
 *   npx tsx bench/stalls.ts [--loops 2] [--seconds 10]
 *
 * With a loop on every core, anything else that runs (the kernel, other tenants' work on the
 * host, this machine's agents) takes a core from one of them; with a core free it goes there.
 * bench:compare's simulator and client together keep both cores busy much of the time, and
 * a stall that hits either holds the messages in flight (docs/benchmarks.md). Prints, per
 * loop, the stalls over 1 ms and over 3 ms, the longest, and the first ones with their time.
 * The loops are plain `node --single-threaded -e` children (no loader, GC or compiler thread
 * of their own) that start spinning at the same wall-clock instant.
 *
 * Then, on Linux, what else ran meanwhile: every other thread's CPU time and time slices over
 * the run, from `/proc/<pid>/task/<tid>/schedstat`, the six that ran longest. A thread whose
 * slices are a few ms long and as many as the stalls is what took the core.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { num, procStat } from './support.js';

/** A stall: when (ms since the loop started) and how long the loop was off the CPU (ms). */
type Stall = [at: number, ms: number];

const { values } = parseArgs({
  options: {
    loops: { type: 'string', default: String(availableParallelism()) },
    seconds: { type: 'string', default: '10' },
  },
});
const loops = num('loops', values.loops, 1);
const seconds = num('seconds', values.seconds, 1);

/** The child: wait for the common start, spin, print the stalls as JSON. */
const LOOP = `
const [startAt, ms] = process.argv.slice(1).map(Number);
while (Date.now() < startAt);
const stalls = [];
const start = performance.now();
let last = start;
for (let now = start; now - start < ms; now = performance.now()) {
  if (now - last > 1) stalls.push([now - start, now - last]);
  last = now;
}
process.stdout.write(JSON.stringify(stalls));
`;

/** A thread's name and what the scheduler has given it: CPU time (ns) and time slices. */
interface ThreadTime {
  name: string;
  runNs: number;
  slices: number;
}

/** Every thread on the machine by `pid/tid`; empty where there is no /proc. */
function threadTimes(): Map<string, ThreadTime> {
  const out = new Map<string, ThreadTime>();
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      return undefined; // the thread ended while we looked
    }
  };
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const sched = read(`/proc/${pid}/task/${tid}/schedstat`)?.split(' ');
      const name = read(`/proc/${pid}/task/${tid}/comm`);
      if (sched === undefined || name === undefined) continue;
      out.set(`${pid}/${tid}`, { name, runNs: Number(sched[0]), slices: Number(sched[2]) });
    }
  }
  return out;
}

// Far enough ahead for every child to have started.
const startAt = Date.now() + 1000;
const loopPids = new Set<string>();
const before = threadTimes();
const runs = await Promise.all(
  Array.from({ length: loops }, async (_, i) => {
    // --single-threaded: no GC or compiler threads of the loop's own to take the other core.
    const args = ['--single-threaded', '-e', LOOP, String(startAt), String(seconds * 1000)];
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    loopPids.add(String(child.pid));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`loop ${i + 1} exited with code ${String(code)}`);
    return JSON.parse(out) as Stall[];
  }),
);
console.log(`${loops} busy loops for ${seconds} s on ${availableParallelism()} cores:`);
runs.forEach((stalls, i) => {
  const longest = Math.max(0, ...stalls.map(([, ms]) => ms));
  const first = stalls
    .slice(0, 12)
    .map(([at, ms]) => `${(at / 1000).toFixed(2)} s (${ms.toFixed(1)})`);
  console.log(
    `loop ${i + 1}: ${stalls.length} stalls over 1 ms, ${stalls.filter(([, ms]) => ms > 3).length} over 3 ms, longest ${longest.toFixed(1)} ms; first: ${first.join(', ')}`,
  );
});

/**
 * The node and npm processes this one descends from (npx, tsx's CLI): part of the probe. The
 * shells and the machine's agents among its ancestors are not.
 */
function launcher(): Set<string> {
  const out = new Set<string>();
  const seen = new Set<string>();
  for (let pid = String(process.ppid); pid !== '0' && !seen.has(pid);) {
    seen.add(pid);
    const stat = procStat(pid);
    if (stat === undefined) break;
    if (/^(node|npm|npx|tsx)/.test(stat.name)) out.add(pid);
    pid = stat.fields[1]!;
  }
  return out;
}

// Threads that started during the run count from zero; the loops and this process are left out.
const probe = launcher();
const others = [...threadTimes()]
  .filter(([id]) => {
    const pid = id.split('/')[0]!;
    return !loopPids.has(pid) && pid !== String(process.pid);
  })
  .map(([id, t]) => {
    const was = before.get(id) ?? { runNs: 0, slices: 0 };
    const name = probe.has(id.split('/')[0]!) ? `${t.name}, this probe's launcher` : t.name;
    return { id, name, ms: (t.runNs - was.runNs) / 1e6, slices: t.slices - was.slices };
  })
  .filter((t) => t.ms > 0)
  .sort((a, b) => b.ms - a.ms)
  .slice(0, 6);
if (others.length > 0) {
  console.log('what else ran meanwhile (thread: CPU time in time slices, mean slice):');
  for (const t of others) {
    console.log(
      `  ${t.name} (${t.id}): ${t.ms.toFixed(1)} ms in ${t.slices} slices, ${(t.ms / Math.max(1, t.slices)).toFixed(2)} ms each`,
    );
  }
}
