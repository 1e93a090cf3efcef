import { describe, expect, it, vi } from 'vitest';
import { SlidingWindowLimiter } from '../src/sliding-window-limiter.js';
import { Reconnector } from '../src/reconnector.js';
import { ManualClock } from '../src/testing/index.js';

function setup(extra: Partial<ConstructorParameters<typeof Reconnector>[0]> = {}) {
  const clock = new ManualClock(1_000_000);
  const backoffs: [number, number][] = [];
  const reconnector = new Reconnector({
    clock,
    random: () => 0,
    onBackoff: (attempt, delay) => backoffs.push([attempt, delay]),
    ...extra,
  });
  return { clock, reconnector, backoffs };
}

describe('Reconnector', () => {
  it('schedules retries with the configured delays, one timer at a time', async () => {
    const { clock, reconnector, backoffs } = setup();
    const connect = vi.fn();
    for (let i = 0; i < 6; i++) {
      reconnector.retry(connect);
      expect(clock.pending).toBe(1);
      await clock.advance(clock.nextDeadline()! - clock.now());
    }
    expect(connect).toHaveBeenCalledTimes(6);
    expect(backoffs).toEqual([
      [1, 1000],
      [2, 2000],
      [3, 4000],
      [4, 8000],
      [5, 16_000],
      [6, 30_000],
    ]);
  });

  it('merges a retry requested while one is pending', async () => {
    const { clock, reconnector } = setup();
    const connect = vi.fn();
    expect(reconnector.retry(connect)).toBe(1000);
    expect(reconnector.retry(connect)).toBeUndefined();
    expect(reconnector.retry(connect, { closeCode: 1008 })).toBeUndefined();
    expect(clock.pending).toBe(1);
    await clock.advance(1000);
    expect(connect).toHaveBeenCalledTimes(1);
  });

  it('cancel() leaves no timer and no attempt', async () => {
    const { clock, reconnector } = setup();
    const connect = vi.fn();
    reconnector.retry(connect);
    reconnector.cancel();
    expect(clock.pending).toBe(0);
    expect(reconnector.pending).toBe(false);
    await clock.advance(60_000);
    expect(connect).not.toHaveBeenCalled();
  });

  it('resets attempts only after the minimum healthy uptime', async () => {
    const { clock, reconnector } = setup({ backoff: { minUptimeMs: 10_000 } });
    const connect = vi.fn();
    reconnector.retry(connect);
    await clock.advance(1000);
    reconnector.retry(connect);
    await clock.advance(2000);
    expect(reconnector.attempts).toBe(2);

    reconnector.opened();
    await clock.advance(9_999);
    reconnector.closed();
    expect(reconnector.attempts).toBe(2);
    expect(reconnector.retry(connect)).toBe(4000);
    await clock.advance(4000);

    reconnector.opened();
    await clock.advance(10_000);
    reconnector.closed();
    expect(reconnector.attempts).toBe(0);
    expect(reconnector.retry(connect)).toBe(1000);
  });

  it('counts the uptime to the last sign of life, not to the close', async () => {
    const { clock, reconnector } = setup({ backoff: { minUptimeMs: 10_000 } });
    const connect = vi.fn();
    reconnector.retry(connect);
    await clock.advance(1000);
    reconnector.opened();
    const openedAt = clock.monotonic();
    await clock.advance(60_000);
    reconnector.closed(openedAt + 9_999); // open for a minute, alive for under 10 s
    expect(reconnector.attempts).toBe(1);
    reconnector.opened();
    await clock.advance(60_000);
    reconnector.closed(clock.monotonic() - 50_000);
    expect(reconnector.attempts).toBe(0);
  });

  it('measures uptime on the monotonic clock: a wall-clock step neither makes nor breaks it', async () => {
    const { clock, reconnector } = setup({ backoff: { minUptimeMs: 10_000 } });
    const connect = vi.fn();
    reconnector.retry(connect);
    await clock.advance(1000);
    reconnector.opened();
    clock.stepWall(600_000); // a flapping connection is not healthy for the step
    await clock.advance(2000);
    reconnector.closed();
    expect(reconnector.attempts).toBe(1);
    reconnector.retry(connect);
    await clock.advance(2000);
    reconnector.opened();
    await clock.advance(15_000);
    clock.stepWall(-600_000); // nor is a healthy one sick for it
    reconnector.closed();
    expect(reconnector.attempts).toBe(0);
  });

  it('waits for the shared attempt budget before connecting', async () => {
    const clock = new ManualClock(0);
    const limiter = new SlidingWindowLimiter({ limit: 2, windowMs: 60_000, clock });
    const a = new Reconnector({ clock, limiter });
    const b = new Reconnector({ clock, limiter });
    const connect = vi.fn();
    a.connectNow(connect);
    b.connectNow(connect);
    expect(connect).toHaveBeenCalledTimes(2);
    a.connectNow(connect);
    expect(connect).toHaveBeenCalledTimes(2);
    expect(a.pending).toBe(true);
    await clock.advance(59_999);
    expect(connect).toHaveBeenCalledTimes(2);
    await clock.advance(1);
    expect(connect).toHaveBeenCalledTimes(3);
    expect(clock.pending).toBe(0);
  });
});

describe('SlidingWindowLimiter', () => {
  it('allows limit attempts per sliding window and says how long to wait', () => {
    const clock = new ManualClock(0);
    const limiter = new SlidingWindowLimiter({ clock });
    expect(limiter.limit).toBe(300);
    expect(limiter.windowMs).toBe(300_000);
    for (let i = 0; i < 300; i++) expect(limiter.tryAcquire()).toBe(0);
    expect(limiter.tryAcquire()).toBe(300_000);
    expect(limiter.used).toBe(300);
  });
});

describe('SlidingWindowLimiter as a message rate', () => {
  it('never lets more than limit events into any window, forced ones included', async () => {
    const clock = new ManualClock(0);
    const limiter = new SlidingWindowLimiter({ limit: 5, windowMs: 1000, clock });
    limiter.record(); // a ping that had to go out
    const sent: number[] = [];
    for (let i = 0; i < 40 && sent.length < 12; i++) {
      if (limiter.tryAcquire() === 0) sent.push(clock.now());
      await clock.advance(100);
    }
    const events = [0, ...sent]; // the forced ping at 0 counts too
    for (const t of events) {
      expect(events.filter((u) => u > t - 1000 && u <= t).length).toBeLessThanOrEqual(5);
    }
    expect(sent.slice(0, 5)).toEqual([0, 100, 200, 300, 1000]);
  });
});

// Found in review: a 418 or 429 on one handshake held that connection only. Every other
// connection of the venue (same IP, same limiter) drew from the budget at once and heard its
// own 418, and Binance lengthens the ban of a client that keeps knocking.
describe('Reconnector after a refused handshake, with a shared attempt limiter', () => {
  function two() {
    const clock = new ManualClock(1_000_000);
    const limiter = new SlidingWindowLimiter({ limit: 300, windowMs: 300_000, clock });
    const a = new Reconnector({ clock, random: () => 0, limiter });
    const b = new Reconnector({ clock, random: () => 0, limiter });
    return { clock, limiter, a, b, connectA: vi.fn(), connectB: vi.fn() };
  }

  it('holds every connection of the limiter for a 418, at least bannedMs whatever Retry-After says', async () => {
    const { clock, a, b, connectA, connectB } = two();
    a.connectNow(connectA);
    expect(a.retry(connectA, { httpStatus: 418, retryAfterMs: 120_000 })).toBe(300_000);
    b.connectNow(connectB);
    expect(connectB).not.toHaveBeenCalled();
    expect(b.pending).toBe(true);
    await clock.advance(299_999);
    expect([connectA.mock.calls.length, connectB.mock.calls.length]).toEqual([1, 0]);
    await clock.advance(1);
    expect([connectA.mock.calls.length, connectB.mock.calls.length]).toEqual([2, 1]);
    expect(clock.pending).toBe(0);
  });

  it("holds them for a 429's Retry-After, else for rateLimitedMs", async () => {
    const { clock, a, b, connectA, connectB } = two();
    a.connectNow(connectA);
    a.retry(connectA, { httpStatus: 429, retryAfterMs: 30_000 });
    b.connectNow(connectB);
    await clock.advance(29_999);
    expect(connectB).not.toHaveBeenCalled();
    await clock.advance(1);
    expect(connectB).toHaveBeenCalledTimes(1);

    a.retry(connectA, { httpStatus: 429 });
    b.retry(connectB); // its own back-off is 1 s; the venue asked for 60
    await clock.advance(59_999);
    expect(connectB).toHaveBeenCalledTimes(1);
    await clock.advance(1);
    expect(connectB).toHaveBeenCalledTimes(2);
  });

  it('holds only its own connection after a close 1008 or another refusal', async () => {
    // 1008 on an open socket is Binance's per-connection message rate, not the IP's ban.
    const { clock, a, b, connectA, connectB } = two();
    a.connectNow(connectA);
    expect(a.retry(connectA, { closeCode: 1008 })).toBe(60_000);
    b.connectNow(connectB);
    expect(connectB).toHaveBeenCalledTimes(1);
    await clock.advance(60_000);
    expect(connectA).toHaveBeenCalledTimes(2);
    b.retry(connectB, { httpStatus: 503, retryAfterMs: 5000 });
    a.connectNow(connectA);
    expect(connectA).toHaveBeenCalledTimes(3);
  });
});
