import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { startSimulator } from '@unifeed/simulator';
import { startServer, type TestServer } from './support/ws-server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let srv: TestServer | undefined;
afterEach(() => srv?.close());

it.each([
  'bookticker.ts',
  'feeds-on-simulator.ts',
  'order-book.ts',
  'stream-pool.ts',
  'metrics.ts',
  'upbit-binance.ts',
])('the README shows examples/%s verbatim', (file) => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const example = readFileSync(`${root}examples/${file}`, 'utf8');
  expect(readme).toContain(example.trim());
});

it('the simulator example prints four closed candles and exits by itself', async () => {
  const { code, stdout, stderr } = await runExample('examples/feeds-on-simulator.ts', {});
  expect(code, stderr).toBe(0);
  const candles = stdout.split('\n').filter((l) => / 1s o \d/.test(l));
  expect(candles).toHaveLength(4);
  expect(stdout).toContain('connections 1');
}, 40_000);

it('the order-book example matches the exchange before and after a gap, and exits by itself', async () => {
  const { code, stdout, stderr } = await runExample('examples/order-book.ts', {});
  expect(code, stderr).toBe(0);
  const views = stdout.split('\n').filter((l) => l.includes('same as exchange'));
  expect(views).toHaveLength(10);
  expect(views.every((l) => l.endsWith('same as exchange: true'))).toBe(true);
  expect(stdout).toContain('resyncing after a gap');
  expect(stdout).toContain('gaps 1, resyncs 1');
}, 40_000);

it('the StreamPool example prints ten klines and the stats against the simulator, and exits by itself', async () => {
  const sim = await startSimulator({ venue: 'binance-usdm', symbols: 3 });
  try {
    const { code, stdout, stderr } = await runExample('examples/stream-pool.ts', {
      UNIFEED_WS_URL: sim.wsUrl,
    });
    expect(code, stderr).toBe(0);
    expect(stdout.split('\n').filter((l) => / 1m close \d/.test(l))).toHaveLength(10);
    expect(stdout).toMatch(/2 streams on 1 connection\(s\), subscribed in \d+\.\d ms/);
  } finally {
    await sim.close();
  }
}, 40_000);

it('the metrics example scrapes itself and its health report shows the injected fault', async () => {
  const { code, stdout, stderr } = await runExample('examples/metrics.ts', {});
  expect(code, stderr).toBe(0);
  expect(stdout).toContain('unifeed_pool_streams{pool="usdm",venue="binance-usdm"} 1');
  expect(stdout).toContain(
    'unifeed_book_state{pool="usdm",symbol="BTCUSDT",book="btcusdt@depth@100ms snapshotLimit=100",state="live"} 1',
  );
  expect(stdout).toContain('health: ok');
  expect(stdout).toMatch(/warning: pool usdm: 1 reconnects in the last/);
  expect(stdout).toMatch(/warning: books usdm: 1 order-book resyncs in the last/);
}, 40_000);

it('the Upbit and Binance example compares both venues through its own mapping, and exits by itself', async () => {
  const { code, stdout, stderr } = await runExample('examples/upbit-binance.ts', {});
  expect(code, stderr).toBe(0);
  const lines = stdout.split('\n').filter((l) => l.includes('premium'));
  expect(lines).toHaveLength(6);
  for (const l of lines) {
    expect(l).toMatch(
      /^KRW-(BTC|ETH) \d+(\.\d+)? KRW \| (BTC|ETH)USDT \d+(\.\d+)? USDT \| premium -?\d+\.\d\d%$/,
    );
    // The user's mapping joined the right pair: the simulators price them about 1 % apart.
    expect(l.slice(4, 7)).toBe(l.split(' | ')[1]!.slice(0, 3));
    expect(Math.abs(Number(/premium (-?[\d.]+)%/.exec(l)![1]))).toBeLessThan(10);
  }
  expect(stdout.trim().endsWith('closed')).toBe(true);
}, 40_000);

it('the README example runs against a local server and stops by itself', async () => {
  srv = await startServer((socket) => {
    for (let u = 1; u <= 5; u++) {
      socket.send(
        JSON.stringify({
          stream: 'btcusdt@bookTicker',
          data: { u, s: 'BTCUSDT', b: '25.35190000', B: '31.21', a: '25.36520000', A: '40.66' },
        }),
      );
    }
  });
  const { code, stdout, stderr } = await runExample('examples/bookticker.ts', {
    UNIFEED_URL: srv.url,
    UNIFEED_LIMIT: '3',
  });
  expect(code, stderr).toBe(0);
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { data: { data: { u: number } } });
  expect(lines.map((l) => l.data.data.u)).toEqual([1, 2, 3]);
  expect(stderr).toContain('[open]');
  expect(stderr).toContain('[stopped]');
});

/** Run an example as a user would (tsx, workspace sources), killed after 30 s at the latest. */
async function runExample(file: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
    cwd: root,
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { code, stdout, stderr };
}
