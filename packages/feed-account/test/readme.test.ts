import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

/** The first TypeScript block of the README's "Account feed" section. */
function readmeExample(): string {
  const readme = readFileSync(
    fileURLToPath(new URL('../../../README.md', import.meta.url)),
    'utf8',
  );
  const section = readme.slice(readme.indexOf('\n## Account feed\n'));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (block?.[1] === undefined) throw new Error('no ts block in the Account feed section');
  return block[1];
}

it('the README account example runs on the simulator and exits by itself', async () => {
  // Run as a user would: the package's own name, workspace sources, real time.
  const child = spawn(tsx, ['--conditions=source', '--input-type=module', '-e', readmeExample()], {
    cwd: pkg,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(killer);
  expect(code, stderr).toBe(0);
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(/^order \d{19} NEW NEW$/);
  expect(lines[1]).toMatch(/^order \d{19} TRADE FILLED$/);
  expect(lines[2]).toBe('position BTCUSDT 0.01000000');
  expect(stderr).toBe('');
}, 40_000);
