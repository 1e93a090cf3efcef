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
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { num } from './support.js';

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

// Far enough ahead for every child to have started.
const startAt = Date.now() + 1000;
const runs = await Promise.all(
  Array.from({ length: loops }, async (_, i) => {
    // --single-threaded: no GC or compiler threads of the loop's own to take the other core.
    const args = ['--single-threaded', '-e', LOOP, String(startAt), String(seconds * 1000)];
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
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
