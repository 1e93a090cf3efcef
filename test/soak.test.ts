import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACCOUNT_FIRST, FAULT_KINDS, type FaultKind, type SoakReport } from '@unifeed/soak';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The CI soak: two minutes on a fixed seed. */
const MINUTES = 2;
const SEED = 1;
/** Two minutes measured, the warm-up, the close, and a loaded 2-core machine. */
const TIMEOUT_MS = 6 * 60_000;

let dir: string | undefined;
afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/**
 * `pnpm soak` in a child process, as a user runs it: its own process, so that the invariants
 * about process-wide resources (handles, listeners, heap after `--expose-gc`) and unhandled
 * errors see the soak alone, not vitest.
 */
function soak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        '--conditions=source',
        '--import',
        'tsx',
        'packages/soak/src/main.ts',
        ...args,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('soak', () => {
  it(
    `${MINUTES} minutes on seed ${SEED}: every fault injected, every invariant counter zero`,
    async () => {
      dir = await mkdtemp(join(tmpdir(), 'unifeed-soak-'));
      const path = join(dir, 'report.json');
      const run = await soak([
        '--minutes',
        String(MINUTES),
        '--seed',
        String(SEED),
        '--report',
        path,
      ]);
      const report = JSON.parse(await readFile(path, 'utf8')) as SoakReport;
      const counters = Object.fromEntries(
        Object.entries(report.invariants).map(([k, v]) => [k, v.count]),
      );
      // On failure, the report says which invariant and shows its first violations.
      expect(counters, run.stdout).toEqual(
        Object.fromEntries(Object.keys(counters).map((k) => [k, 0])),
      );
      expect(Object.keys(counters)).toHaveLength(11);
      expect(report.passed).toBe(true);
      expect(run.code).toBe(0);
      for (const kind of FAULT_KINDS)
        expect(report.faults.byKind[kind], kind).toBeGreaterThanOrEqual(1);
      // The account-aimed faults hit the account's connection, not a market one standing in:
      // the plan aims the first duplicate and malformed frame there (ACCOUNT_FIRST).
      const onAccount = (kind: FaultKind) => report.faults.byTarget[kind]?.private ?? 0;
      for (const kind of ACCOUNT_FIRST) expect(onAccount(kind), kind).toBeGreaterThanOrEqual(1);
      expect(onAccount('expire-listen-key')).toBeGreaterThanOrEqual(1);
      // The duplicated account frames reached the feed and were dropped there; the delivery
      // check above saw every order update once.
      expect(report.events.orderUpdates).toBeGreaterThan(20);
      expect(report.recovery.accountDuplicatesSuppressed).toBeGreaterThan(0);
      // The checks had something to check.
      expect(report.streams).toMatchObject({
        klines: 3186,
        bookTickers: 50,
        books: 5,
        userData: 1,
      });
      // Every one of them was watched for silence: klines, book tickers, diff streams, user data.
      expect(report.events.streamsWatched).toBe(3186 + 50 + 5 + 1);
      expect(report.events.closedCandles).toBeGreaterThan(500);
      expect(report.events.bookViewsChecked).toBeGreaterThan(100);
      // A live view the truth cannot rebuild is "unverified", not a violation: its id may be
      // older than the truth's history, but a book reporting ids the venue never had lands
      // here too. Each view is checked in its own handler, well within the history: at most 1 %.
      expect(report.events.bookViewsUnverified).toBeLessThanOrEqual(
        report.events.bookViewsChecked! / 100,
      );
      expect(report.events.depthDiffs).toBeGreaterThan(100);
      expect(report.events.holesAnnounced).toBeGreaterThan(0);
      expect(report.recovery.reconnects).toBeGreaterThan(0);
      expect(report.resources.gc).toBe(true);
      expect(report.logs.lines).toBeGreaterThan(0);
      expect(report.measuredMs).toBeGreaterThanOrEqual(MINUTES * 60_000);
    },
    TIMEOUT_MS,
  );

  it('its command line: --plan prints the plan and runs nothing; bad arguments exit 2', async () => {
    const plan = await soak(['--plan', '--minutes', '1', '--seed', '3']);
    expect(plan.code).toBe(0);
    const lines = plan.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    // `  12.3 s  drop-1006 on market  pick 0.412`, in time order, every kind a known one.
    const parsed = lines.map((l) => /^ *(\d+\.\d) s {2}([a-z0-9-]+)/.exec(l));
    expect(
      parsed.every((m) => m !== null && (FAULT_KINDS as readonly string[]).includes(m[2]!)),
    ).toBe(true);
    const times = parsed.map((m) => Number(m![1]));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.max(...times)).toBeLessThanOrEqual(60);
    for (const args of [['--minutes', '0'], ['--seed', '1.5'], ['--symbols', 'abc'], ['--bogus']]) {
      const bad = await soak(args);
      expect([args.join(' '), bad.code]).toEqual([args.join(' '), 2]);
      expect(bad.stderr).toContain('usage: pnpm soak');
      expect(bad.stderr).not.toMatch(/\n\s+at /); // a one-line error, no stack
    }
  }, 60_000);
});
