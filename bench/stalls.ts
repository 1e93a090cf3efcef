/**
 * How often the machine takes a core away from a busy process: `--loops` processes (default:
 * one per core) each spin for `--seconds` reading the monotonic clock, and note every gap
 * between two readings over 1 ms (the process was off the CPU). A benchmark client sharing
 * the cores with the simulator waits as long whenever this happens to it: this is the floor
 * under the end-to-end latency tail in bench:compare (docs/benchmarks.md).
 *
 *   npx tsx bench/stalls.ts [--loops 2] [--seconds 10]
 *
 * Prints, per loop, the stalls over 1 ms and over 3 ms, the longest, the first few with their
 * time, and the median time between two stalls (a period points at a timer outside the
 * process). Each loop runs in a child process of its own: `node bench/stalls.ts --child <s>`.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median, num } from './support.js';

interface Stall {
  /** ms since the loop started. */
  at: number;
  ms: number;
}

const { values } = parseArgs({
  options: {
    loops: { type: 'string', default: String(availableParallelism()) },
    seconds: { type: 'string', default: '10' },
    child: { type: 'boolean', default: false },
  },
});
const seconds = num('seconds', values.seconds, 1);

if (values.child) {
  const stalls: Stall[] = [];
  const start = performance.now();
  let last = start;
  for (let now = start; now - start < seconds * 1000; now = performance.now()) {
    if (now - last > 1) stalls.push({ at: now - start, ms: now - last });
    last = now;
  }
  process.stdout.write(`${JSON.stringify(stalls)}\n`);
} else {
  const loops = num('loops', values.loops, 1);
  const script = fileURLToPath(import.meta.url);
  const runs = await Promise.all(
    Array.from({ length: loops }, async () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', script, '--child', '--seconds', String(seconds)],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise((resolve) => child.once('exit', resolve));
      return JSON.parse(out) as Stall[];
    }),
  );
  console.log(`${loops} busy loops for ${seconds} s on ${availableParallelism()} cores:`);
  runs.forEach((stalls, i) => {
    const gaps = stalls.slice(1).map((s, j) => s.at - stalls[j]!.at);
    console.log(
      `loop ${i + 1}: ${stalls.length} stalls over 1 ms, ${stalls.filter((s) => s.ms > 3).length} over 3 ms, longest ${Math.max(0, ...stalls.map((s) => s.ms)).toFixed(1)} ms; median ${gaps.length > 0 ? median(gaps).toFixed(0) : '-'} ms between stalls; first: ${stalls
        .slice(0, 12)
        .map((s) => `${(s.at / 1000).toFixed(2)} s (${s.ms.toFixed(1)} ms)`)
        .join(', ')}`,
    );
  });
}
