import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { recordingIo, ROOT, runCli } from './support.js';

const README_URL = 'ws://127.0.0.1:9443';

/** The `unifeed` command lines of the README's CLI section, as argument lists. */
function readmeCommands(): string[][] {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('## The `unifeed` command'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l.startsWith('npx -y pnpm@10 unifeed '))
    .map((l) => l.slice('npx -y pnpm@10 unifeed '.length).split(/\s+/));
}

describe('the README CLI block', () => {
  it('runs: sim prints its URLs, watch and book work against it', async () => {
    const commands = readmeCommands();
    expect(commands.map((c) => c[0])).toEqual(['sim', 'watch', 'book', 'demo']);
    // The demo line is the one demo.test.ts runs (with --json added).
    expect(commands[3]).toEqual(['demo', '--duration', '20', '--fault-every', '3']);

    // The simulator of the first line, on a free port instead of 9443.
    const sim = commands[0]!.map((a, i, all) => (all[i - 1] === '--port' ? '0' : a));
    let wsUrl: string | undefined;
    let release: (() => void) | undefined;
    const stopped = new Promise<void>((r) => (release = r));
    const simRun = runCli(sim, {
      timeoutMs: 60_000,
      onStdout: (text, kill) => {
        if (wsUrl !== undefined || !text.includes('\n')) return;
        wsUrl = (JSON.parse(text.split('\n')[0]!) as { wsUrl: string }).wsUrl;
        void stopped.then(() => kill('SIGINT'));
      },
    });
    const deadline = Date.now() + 20_000;
    while (wsUrl === undefined && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(wsUrl).toBeDefined();
    try {
      for (const args of commands.slice(1, 3)) {
        const r = recordingIo();
        const code = await main(
          args.map((a) => (a === README_URL ? wsUrl! : a)),
          r.io,
        );
        expect(code, r.stderr()).toBe(0);
        if (args[0] === 'watch') {
          const lines = r.stdout().trim().split('\n');
          expect(lines).toHaveLength(5);
          for (const l of lines) expect(JSON.parse(l)).toHaveProperty('type');
        } else {
          expect(r.stderr()).toMatch(/BTCUSDT live at \d+: bid \S+ x \S+\s+ask/);
        }
      }
    } finally {
      release!();
    }
    expect((await simRun).code).toBe(0);
  }, 60_000);
});
