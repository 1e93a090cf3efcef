/**
 * CPU the simulator uses serving the standard scenario at real Binance cadence:
 * 531 symbols x 6 kline intervals = 3,186 streams over 16 futures connections.
 *
 *   pnpm exec tsx --conditions=source packages/simulator/bench/load.ts [seconds]
 *
 * The simulator runs in a child process so that its CPU time (process.cpuUsage) is not
 * mixed with the clients'. Clients subscribe, a warm-up passes, then the child measures
 * its own CPU over the window and reports it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { startSimulator, defaultSymbols } from '../src/index.js';

const INTERVALS = ['1m', '3m', '5m', '15m', '30m', '4h'];
const PER_CONNECTION = 200;
const WARMUP_MS = 3000;

async function server(): Promise<void> {
  const sim = await startSimulator({ venue: 'binance-usdm', symbols: 531 });
  process.stdout.write(`${sim.wsUrl}\n`);
  const lines = createInterface({ input: process.stdin });
  let cpu = process.cpuUsage();
  let wall = performance.now();
  let messages = 0;
  const sent = (): number =>
    Object.values(sim.stats().streams).reduce((sum, s) => sum + s.messages, 0);
  for await (const line of lines) {
    if (line === 'start') {
      cpu = process.cpuUsage();
      wall = performance.now();
      messages = sent();
    } else if (line === 'stop') {
      const used = process.cpuUsage(cpu);
      const wallMs = performance.now() - wall;
      const result = {
        wallMs: Math.round(wallMs),
        userMs: Math.round(used.user / 1000),
        systemMs: Math.round(used.system / 1000),
        cpuPercentOfOneCore: Math.round(((used.user + used.system) / 1000 / wallMs) * 1000) / 10,
        messages: sent() - messages,
        open: sim.stats().connections.open,
        rssMb: Math.round(process.memoryUsage().rss / 1e6),
      };
      process.stdout.write(`${JSON.stringify(result)}\n`);
      await sim.close();
      return;
    }
  }
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 20);
  const file = fileURLToPath(import.meta.url);
  const child = spawn(
    process.execPath,
    [
      ...(process.env['SIM_BENCH_PROFILE'] === undefined
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${process.env['SIM_BENCH_PROFILE']}`]),
      '--import',
      'tsx',
      '--conditions=source',
      file,
      '--server',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const out = createInterface({ input: child.stdout });
  const lines = out[Symbol.asyncIterator]();
  const wsUrl = String((await lines.next()).value);
  const streams = defaultSymbols(531).flatMap((s) =>
    INTERVALS.map((i) => `${s.symbol.toLowerCase()}@kline_${i}`),
  );
  const sockets: WebSocket[] = [];
  let received = 0;
  for (let i = 0; i < streams.length; i += PER_CONNECTION) {
    const ws = new WebSocket(`${wsUrl}/market/stream`);
    await once(ws, 'open');
    ws.on('message', () => received++);
    ws.send(
      JSON.stringify({ method: 'SUBSCRIBE', params: streams.slice(i, i + PER_CONNECTION), id: 1 }),
    );
    sockets.push(ws);
  }
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  child.stdin.write('start\n');
  const before = received;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  child.stdin.write('stop\n');
  const report = JSON.parse(String((await lines.next()).value)) as Record<string, number>;
  const clientMessages = received - before;
  for (const ws of sockets) ws.terminate();
  child.stdin.end();
  await once(child, 'exit');
  process.stdout.write(
    `${JSON.stringify({
      streams: streams.length,
      connections: sockets.length,
      seconds,
      ...report,
      clientMessagesPerSecond: Math.round(clientMessages / seconds),
    })}\n`,
  );
}

if (process.argv.includes('--server')) await server();
else await main();
