import { realClock } from '@unifeed/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CountingClock } from '../src/counting-clock.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('CountingClock', () => {
  it('counts timers alive: set, fired and cleared', async () => {
    const c = new CountingClock(realClock);
    let fired = 0;
    c.setTimeout(() => fired++, 10);
    const t = c.setTimeout(() => fired++, 20);
    c.setTimeout(() => fired++, 30);
    expect(c.live).toBe(3);
    c.clearTimeout(t);
    expect(c.live).toBe(2);
    await vi.advanceTimersByTimeAsync(15);
    expect(c.live).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect([c.live, fired, c.created]).toEqual([0, 2, 3]);
  });
});
