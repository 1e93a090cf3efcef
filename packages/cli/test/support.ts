import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Io } from '../src/io.js';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** An Io that records, with a Ctrl-C the test can press. */
export function recordingIo() {
  const out: string[] = [];
  const err: string[] = [];
  const handlers = new Set<() => void>();
  const io: Io = {
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    tty: false,
    onInterrupt(fn) {
      handlers.add(fn);
      return () => handlers.delete(fn);
    },
  };
  return {
    io,
    stdout: () => out.join(''),
    stderr: () => err.join(''),
    interrupt: () => {
      for (const fn of [...handlers]) fn();
    },
    /** True while the command listens for Ctrl-C. */
    listening: () => handlers.size > 0,
  };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `unifeed <args>` in a subprocess from the sources, as `npx -y pnpm@10 unifeed` runs it
 * (`main`: the path of main.ts to start, when not this checkout's). `onStdout` sees the output
 * as it comes (to react to a ready line) and can close the reading end of stdout, as `head`
 * does; killed after `timeoutMs`.
 */
export function runCli(
  args: readonly string[],
  options: {
    timeoutMs: number;
    main?: string;
    onStdout?: (text: string, kill: (s: NodeJS.Signals) => void, closeStdout: () => void) => void;
    /** Sees stderr as it comes, and can close its reading end. */
    onStderr?: (text: string, closeStderr: () => void) => void;
  },
): Promise<Run> {
  const script = options.main ?? MAIN;
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', script, ...args],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    options.onStdout?.(
      stdout,
      (s) => child.kill(s),
      () => child.stdout.destroy(),
    );
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    options.onStderr?.(stderr, () => child.stderr.destroy());
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
