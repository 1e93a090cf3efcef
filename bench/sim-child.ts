/**
 * The simulator in a child process, so that its CPU and memory are not counted in the
 * benchmark client's:
 *
 *   node --import tsx --conditions=source bench/sim-child.ts '<SimulatorOptions as JSON>'
 *
 * with `"sendTimes": true` for the simulator's `sendTime` (not JSON: a function) on the wall
 * clock to a fraction of a ms, as the benchmark clients read it.
 *
 * Listens on 127.0.0.1, port 0, and prints `{"wsUrl":…,"restUrl":…,"controlUrl":…}` as one
 * JSON line on stdout. The control URL (loopback, port 0) takes `POST /drop` (every connection
 * closed with 1006, answers `{"dropped":n}`), `POST /gap?symbol=S` (one depth diff of S
 * withheld), `GET /truth?symbol=S&id=N` (the book at update id N, or null) and `GET /stats`
 * (connection and subscription counters), so that a benchmark client in another process can
 * inject faults and check its books. Exits when stdin closes (the parent is done or died) or on SIGTERM/SIGINT. The
 * parent reads this process's CPU time from /proc: in firehose mode its event loop may be
 * too busy to answer.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSimulator, type SimulatorOptions } from '../packages/simulator/src/index.js';
import { nowMs, wallOffsetMs } from './support.js';

/** What the command line's JSON holds: the simulator's options that are data, and `sendTimes`. */
export type SimChildOptions = Omit<SimulatorOptions, 'sendTime' | 'clock'> & {
  /** Stamp every push with `"St"`, the wall clock to a fraction of a ms (support.ts). */
  sendTimes?: boolean;
};

export interface SimChildReady {
  wsUrl: string;
  restUrl: string;
  controlUrl: string;
}

const { sendTimes, ...options } = JSON.parse(process.argv[2] ?? '{}') as SimChildOptions;
const offset = wallOffsetMs();
const sim = await startSimulator({
  ...options,
  sendTime: sendTimes === true ? () => nowMs() + offset : undefined,
  host: '127.0.0.1',
  port: 0,
});
const control = createServer((req, res) => {
  const reply = (body: unknown): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const url = new URL(req.url ?? '/', 'http://control');
  const symbol = url.searchParams.get('symbol') ?? '';
  if (req.method === 'POST' && url.pathname === '/drop')
    return reply({ dropped: sim.faults.drop() });
  if (req.method === 'POST' && url.pathname === '/gap') {
    sim.faults.depthGap(symbol);
    return reply({ gap: symbol });
  }
  if (url.pathname === '/truth') {
    return reply({ book: sim.truth.bookAt(symbol, Number(url.searchParams.get('id'))) ?? null });
  }
  if (req.url === '/stats') {
    const { connections, subscriptions } = sim.stats();
    return reply({ connections: { ...connections, bySlot: undefined }, subscriptions });
  }
  res.writeHead(404).end();
});
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
const ready: SimChildReady = {
  wsUrl: sim.wsUrl,
  restUrl: sim.restUrl,
  controlUrl: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
};
process.stdout.write(`${JSON.stringify(ready)}\n`);

let closing = false;
const shutdown = (): void => {
  if (closing) return;
  closing = true;
  const hardExit = setTimeout(() => process.exit(0), 2000);
  hardExit.unref();
  control.close();
  sim.close().finally(() => process.exit(0));
};
process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.resume();
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
