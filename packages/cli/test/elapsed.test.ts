import { readFileSync } from 'node:fs';
import type { Simulator } from '@unifeed/simulator';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FaultSchedule, type RecoveryView } from '../src/demo/faults.js';
import { stopwatch } from '../src/elapsed.js';

// Fakes Date and performance: `vi.setSystemTime` then steps the wall clock only, as NTP does.
beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const take = () => 1;
const sim = {
  faults: { drop: take, freeze: take, depthGap: take, expireListenKey: take, serverShutdown: take },
} as unknown as Simulator;
const view = (reconnects: number): RecoveryView => ({
  reconnects,
  rotations: 0,
  allOpen: true,
  bookResyncs: new Map(),
  allBooksLive: true,
  listenKeyRenewals: 0,
  accountRunning: true,
});

describe('stopwatch: the commands time durations on the monotonic clock', () => {
  it('a wall-clock step does not move it, forward or back', () => {
    const elapsed = stopwatch();
    vi.setSystemTime(Date.now() + 3_600_000);
    vi.advanceTimersByTime(250);
    expect(elapsed()).toBe(250);
    // `book`'s redraw throttle: a step back must not hold the next redraw for an hour.
    vi.setSystemTime(Date.now() - 7_200_000);
    vi.advanceTimersByTime(250);
    expect(elapsed()).toBe(500);
  });

  it('demo: a wall-clock step past --recovery-timeout does not mark a pending fault lost', () => {
    const recoveryTimeoutMs = 30_000;
    // As demo.ts drives its FaultSchedule: every 100 ms a check at the elapsed time.
    const elapsed = stopwatch();
    const faults = new FaultSchedule(sim, ['BTCUSDT']);
    vi.advanceTimersByTime(20_000);
    const fault = faults.inject(elapsed(), view(0)); // a dropped connection
    vi.advanceTimersByTime(100);
    faults.check(elapsed(), view(0), recoveryTimeoutMs);
    vi.setSystemTime(Date.now() + 40_000);
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(100);
      // The reconnect lands 1 s after the step.
      faults.check(elapsed(), view(i < 9 ? 0 : 1), recoveryTimeoutMs);
    }
    expect(faults.totals).toMatchObject({ injected: 1, recovered: 1, lost: 0 });
    expect(fault.recoveredMs).toBe(1100);
    expect(faults.pending).toBe(0);
  });

  it('demo and book read no wall clock for a duration', () => {
    for (const file of ['demo.ts', 'book.ts']) {
      const source = readFileSync(new URL(`../src/commands/${file}`, import.meta.url), 'utf8');
      expect(source, file).not.toMatch(/Date\.now\(|performance\.now\(|\.now\(\)/);
    }
  });
});
