import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Simulator } from '@unifeed/simulator';
import { FaultSchedule, type RecoveryView } from '../src/demo/faults.js';
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

/**
 * `count` faults through a `FaultSchedule`, as a long demo injects them: one every 20 s, each
 * recovered 0.5 to 1.7 s later ((i % 13) tenths over 0.5 s), except every other listen-key expiry
 * (i % 10 === 3): nothing renews that key, so it is lost after the 60 s timeout. At the end every
 * fault is judged. `each` sees the schedule after every fault. The simulator only takes the calls.
 */
export function driveFaults(count: number, each?: (f: FaultSchedule) => void): FaultSchedule {
  const take = () => 1;
  const sim = {
    faults: {
      drop: take,
      freeze: take,
      depthGap: take,
      expireListenKey: take,
      serverShutdown: take,
    },
  } as unknown as Simulator;
  const symbols = ['BTCUSDT', 'ETHUSDT'];
  const c = {
    reconnects: 0,
    rotations: 0,
    renewals: 0,
    resyncs: new Map(symbols.map((s) => [s, 0])),
  };
  const view = (): RecoveryView => ({
    reconnects: c.reconnects,
    rotations: c.rotations,
    allOpen: true,
    bookResyncs: new Map(c.resyncs),
    allBooksLive: true,
    listenKeyRenewals: c.renewals,
    accountRunning: true,
  });
  const f = new FaultSchedule(sim, symbols);
  for (let i = 0; i < count; i++) {
    const at = i * 20_000;
    const r = f.inject(at, view());
    if (i % 10 !== 3) {
      switch (r.kind) {
        case 'dropped connection':
        case 'half-open connection':
          c.reconnects++;
          break;
        case 'depth gap':
          c.resyncs.set(r.symbol!, c.resyncs.get(r.symbol!)! + 1);
          break;
        case 'listen-key expiry':
          c.renewals++;
          break;
        case 'shutdown notice':
          c.rotations++;
          break;
      }
    }
    f.check(at + 500 + (i % 13) * 100, view(), 60_000);
    f.check(at + 19_900, view(), 60_000);
    each?.(f);
  }
  f.check(count * 20_000 + 60_000, view(), 60_000);
  return f;
}
