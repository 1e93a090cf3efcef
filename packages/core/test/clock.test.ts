import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { realClock } from '../src/clock.js';
import { ManualClock } from '../src/testing/index.js';

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

describe('realClock', () => {
  it('a delay longer than host timers take waits their longest, not 1 ms', async () => {
    const fired: string[] = [];
    realClock.setTimeout(() => fired.push('30 days'), 30 * 86_400_000);
    realClock.setTimeout(() => fired.push('never'), Number.POSITIVE_INFINITY);
    await vi.advanceTimersByTimeAsync(86_400_000);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(2 ** 31 - 1 - 86_400_000);
    expect(fired).toEqual(['30 days', 'never']);
  });

  it('clearTimeout cancels', async () => {
    let fired = false;
    realClock.clearTimeout(realClock.setTimeout(() => (fired = true), 10));
    await vi.advanceTimersByTimeAsync(20);
    expect(fired).toBe(false);
  });
});

describe('realClock.monotonic', () => {
  it('moves with the timers, not with the wall clock', async () => {
    const start = realClock.monotonic();
    vi.setSystemTime(Date.now() - 300_000); // the wall clock steps back five minutes
    expect(realClock.monotonic()).toBe(start);
    await vi.advanceTimersByTimeAsync(1500);
    expect(realClock.monotonic() - start).toBe(1500);
  });
});

describe('ManualClock.stepWall', () => {
  it('steps now() only: monotonic() and the timers keep real time', async () => {
    const clock = new ManualClock(1_000_000);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.monotonic()), 1000);
    clock.stepWall(60_000);
    expect(clock.now()).toBe(1_060_000);
    expect(clock.monotonic()).toBe(1_000_000);
    await clock.advance(999);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual([1_001_000]);
    clock.stepWall(-120_000);
    expect(clock.now() - clock.monotonic()).toBe(-60_000);
  });
});
