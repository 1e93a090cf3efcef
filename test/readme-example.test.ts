import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { startServer, type TestServer } from './support/ws-server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let srv: TestServer | undefined;
afterEach(() => srv?.close());

it('the README shows examples/bookticker.ts verbatim', () => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const example = readFileSync(`${root}examples/bookticker.ts`, 'utf8');
  expect(readme).toContain(example.trim());
});

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
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'examples/bookticker.ts'],
    { cwd: root, env: { ...process.env, UNIFEED_URL: srv.url, UNIFEED_LIMIT: '3' } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
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
