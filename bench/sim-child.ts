/**
 * The simulator in a child process, so that its CPU and memory are not counted in the
 * benchmark client's:
 *
 *   node --import tsx --conditions=source bench/sim-child.ts '<SimulatorOptions as JSON>'
 *
 * Listens on 127.0.0.1, port 0, and prints `{"wsUrl":…,"restUrl":…}` as one JSON line on
 * stdout. Exits when stdin closes (the parent is done or died) or on SIGTERM/SIGINT. The
 * parent reads this process's CPU time from /proc: in firehose mode its event loop may be
 * too busy to answer.
 */
import { startSimulator, type SimulatorOptions } from '../packages/simulator/src/index.js';

export interface SimChildReady {
  wsUrl: string;
  restUrl: string;
}

const options = JSON.parse(process.argv[2] ?? '{}') as SimulatorOptions;
const sim = await startSimulator({ ...options, host: '127.0.0.1', port: 0 });
const ready: SimChildReady = { wsUrl: sim.wsUrl, restUrl: sim.restUrl };
process.stdout.write(`${JSON.stringify(ready)}\n`);

let closing = false;
const shutdown = (): void => {
  if (closing) return;
  closing = true;
  const hardExit = setTimeout(() => process.exit(0), 2000);
  hardExit.unref();
  sim.close().finally(() => process.exit(0));
};
process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.resume();
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
