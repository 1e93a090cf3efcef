import { describe, expect, it } from 'vitest';
import { RateLimitHold } from '../src/rate-limit-hold.js';
import { ManualClock } from '../src/testing/index.js';

describe('RateLimitHold', () => {
  it('holds on the monotonic clock; a shorter hold never shortens a longer one', async () => {
    const clock = new ManualClock(1_000_000);
    const hold = new RateLimitHold(clock);
    expect([hold.remainingMs(), hold.wallUntil()]).toEqual([0, 0]);
    hold.hold(60_000);
    hold.hold(1_000);
    clock.stepWall(300_000);
    expect(hold.remainingMs()).toBe(60_000);
    expect(hold.wallUntil()).toBe(clock.now() + 60_000);
    await clock.advance(60_000);
    expect([hold.remainingMs(), hold.wallUntil()]).toEqual([0, 0]);
  });
});
