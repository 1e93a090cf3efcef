import { describe, expect, it } from 'vitest';
import { Heartbeat, type HeartbeatTarget } from '../src/heartbeat.js';
import { ManualClock } from '../src/testing/index.js';
import { UnifiedFeed } from '../src/unified-feed.js';

function fake() {
  const calls = { pings: [] as number[], stale: [] as number[] };
  return { calls, target: calls as unknown as HeartbeatTarget };
}

function setup() {
  const clock = new ManualClock(0);
  const pings: number[] = [];
  const stale: number[] = [];
  const target: HeartbeatTarget = {
    ping: () => pings.push(clock.now()),
    stale: (silent) => stale.push(silent),
  };
  return { clock, pings, stale, hb: new Heartbeat(clock, target) };
}

describe('Heartbeat', () => {
  it('pings every 20 s and goes stale after 60 s of silence, not before', async () => {
    const { clock, pings, stale, hb } = setup();
    hb.start();
    await clock.advance(59_999);
    expect(pings).toEqual([20_000, 40_000]);
    expect(stale).toEqual([]);
    await clock.advance(1);
    expect(stale).toEqual([60_000]);
    expect(clock.pending).toBe(0);
  });

  it('any inbound frame keeps it alive', async () => {
    const { clock, stale, hb } = setup();
    hb.start();
    for (let i = 0; i < 20; i++) {
      await clock.advance(30_000);
      hb.touch();
    }
    expect(stale).toEqual([]);
    await clock.advance(60_000);
    expect(stale).toEqual([60_000]);
  });

  // Found in review: under the `pause` policy a slow subscriber kept the socket paused, no pong
  // was read, and a live connection was called stale and replaced.
  it("while held, silence is not the venue's; after release it counts from the release", async () => {
    const { clock, stale, hb } = setup();
    hb.start();
    await clock.advance(10_000);
    hb.hold();
    await clock.advance(120_000);
    expect(stale).toEqual([]);
    hb.release();
    await clock.advance(59_999);
    expect(stale).toEqual([]);
    await clock.advance(1);
    expect(stale).toEqual([60_000]);
    // A new connection starts unheld.
    hb.hold();
    hb.start();
    await clock.advance(60_000);
    expect(stale).toEqual([60_000, 60_000]);
  });

  it('start() twice never leaks timers; stop() clears them all', () => {
    const { clock, hb } = setup();
    hb.start();
    hb.start();
    expect(clock.pending).toBe(2);
    hb.stop();
    expect(clock.pending).toBe(0);
    expect(hb.running).toBe(false);
  });

  it('takes both numbers as options', async () => {
    const clock = new ManualClock(0);
    const { calls } = fake();
    const hb = new Heartbeat(
      clock,
      { ping: () => calls.pings.push(clock.now()), stale: (s) => calls.stale.push(s) },
      { intervalMs: 1000, timeoutMs: 2500 },
    );
    hb.start();
    await clock.advance(2500);
    expect(calls.pings).toEqual([1000, 2000]);
    expect(calls.stale).toEqual([2500]);
  });

  // Found in review: `{ intervalMs: 90_000 }` with the 60 s timeout sent no ping before the
  // deadline, so a live, quiet connection was called stale and replaced every minute.
  it('refuses a ping interval that would not ping before the deadline', () => {
    const clock = new ManualClock(0);
    const { target } = fake();
    for (const options of [{ intervalMs: 90_000 }, { intervalMs: 60_000 }, { timeoutMs: 20_000 }]) {
      expect(() => new Heartbeat(clock, target, options)).toThrow(
        expect.objectContaining({
          code: 'UNIFEED_INVALID_OPTION',
          message: expect.stringContaining('must be below `heartbeat.timeoutMs`'),
        }),
      );
      expect(() => new UnifiedFeed({ url: 'wss://x', heartbeat: options })).toThrow(
        expect.objectContaining({ code: 'UNIFEED_INVALID_OPTION' }),
      );
    }
    expect(() => new Heartbeat(clock, target, { intervalMs: 59_999 })).not.toThrow();
  });

  it('a wall clock step, either way, moves the stale verdict not at all', async () => {
    const clock = new ManualClock(1_000_000);
    const stale: number[] = [];
    const hb = new Heartbeat(clock, { ping: () => {}, stale: (s) => stale.push(s) });
    hb.start();
    await clock.advance(10_000);
    hb.touch(); // the last frame
    clock.stepWall(300_000); // five minutes forward: the connection is not silent for that
    await clock.advance(59_999);
    expect(stale).toEqual([]);
    clock.stepWall(-600_000); // and back: the peer died at the touch, the verdict is not late
    await clock.advance(1);
    expect(stale).toEqual([60_000]);
    hb.stop();
  });
});
