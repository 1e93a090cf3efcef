import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { realClock } from '../src/clock.js';

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
