import { afterEach, describe, expect, it } from 'vitest';
import { binanceSpot } from '../src/binance.js';
import { MAX_TIMER_MS } from '../src/clock.js';
import { ErrorCode } from '../src/errors.js';
import { SlidingWindowLimiter } from '../src/sliding-window-limiter.js';
import { StreamPool, type PoolStatus, type StreamPoolOptions } from '../src/stream-pool.js';
import { ManualClock, flushMicrotasks } from '../src/testing/index.js';
import { FakeSocket, FakeWebSocket } from './fake-socket.js';

const TRADE = 'btcusdt@trade';
let pools: { p: StreamPool; clock: ManualClock }[] = [];

afterEach(async () => {
  for (const s of FakeSocket.instances) if (s.readyState !== 3) s.serverClose(1000);
  await Promise.all(pools.map(({ p, clock }) => Promise.all([p.close(), clock.advance(5000)])));
  pools = [];
  FakeSocket.instances.length = 0;
});

/**
 * A pool on sockets the test drives by hand: none answers a close by itself, so each one the
 * pool lets go of stays in its closing handshake, its close timer armed, until the test says.
 */
function pool(options: Partial<StreamPoolOptions> = {}) {
  const clock = new ManualClock(1_700_000_000_000);
  const p = new StreamPool({
    venue: binanceSpot(),
    WebSocket: FakeWebSocket,
    clock,
    random: () => 0,
    attemptLimiter: new SlidingWindowLimiter({ limit: 1000, windowMs: 1000, clock }),
    ...options,
  });
  pools.push({ p, clock });
  const statuses: PoolStatus[] = [];
  p.status$.subscribe((s) => statuses.push(s));
  return { p, clock, statuses };
}

/** Answer every request `socket` has sent since `from`; the count sent so far. */
function answer(socket: FakeSocket, from = 0): number {
  for (const raw of socket.sent.slice(from)) {
    const { id } = JSON.parse(raw) as { id: number };
    socket.message(JSON.stringify({ result: null, id }));
  }
  return socket.sent.length;
}

/** Open the newest socket and answer its requests. */
async function openNewest(): Promise<FakeSocket> {
  const socket = FakeSocket.instances.at(-1)!;
  socket.open();
  await flushMicrotasks();
  answer(socket);
  await flushMicrotasks();
  return socket;
}

/** Settled, and how: 'pending' until then. */
function track(promise: Promise<void>): () => string {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  return () => state;
}

describe('StreamPool lifecycle', () => {
  // Found in review: each setting is in a timer's range, their sum need not be; a clock that
  // does not clamp (only realClock does) rotated 1 ms after every open.
  it("asks no timer past a timer's range: a lifetime plus its jitter is cut to it", async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const delays: number[] = [];
    const recording = {
      now: () => clock.now(),
      monotonic: () => clock.monotonic(),
      clearTimeout: (h: unknown) => clock.clearTimeout(h as never),
      setTimeout: (fn: () => void, ms: number) => (delays.push(ms), clock.setTimeout(fn, ms)),
    };
    const { p } = pool({ clock: recording, rotateAfterMs: MAX_TIMER_MS, random: () => 0.5 });
    p.watch(TRADE).subscribe();
    await flushMicrotasks();
    await openNewest();
    expect(Math.max(...delays)).toBe(MAX_TIMER_MS); // the lifetime's: 150 s of jitter cut
  });

  // Found in review: a connection the pool had let go of (a rotation's old one, an idle one)
  // was no longer among its connections, so close() resolved while it was still closing.
  it('close() waits for connections it let go of earlier: after a rotation, after idling', async () => {
    const { p, clock } = pool({ rotateAfterMs: 10_000, rotateJitterMs: 0 });
    p.watch(TRADE).subscribe();
    await flushMicrotasks();
    const old = await openNewest();
    await clock.advance(10_000);
    const fresh = await openNewest();
    fresh.message(JSON.stringify({ stream: TRADE, data: { e: 'trade', t: 1 } }));
    await flushMicrotasks();
    expect(old.closedWith).toBe(1000); // the rotation is over: the old one is closing
    expect(p.stats().connections).toBe(1);
    const closed = track(p.close());
    fresh.serverClose(1000);
    await flushMicrotasks();
    expect(closed()).toBe('pending');
    old.serverClose(1000);
    await flushMicrotasks();
    expect(closed()).toBe('resolved');
    expect(clock.pending).toBe(0);

    const idle = pool({ idleCloseMs: 1000 });
    const sub = idle.p.watch(TRADE).subscribe();
    await flushMicrotasks();
    const socket = await openNewest();
    sub.unsubscribe();
    await flushMicrotasks();
    answer(socket, 1);
    await idle.clock.advance(1000);
    expect(socket.closedWith).toBe(1000);
    expect(idle.p.stats().connections).toBe(0);
    const idleClosed = track(idle.p.close());
    await flushMicrotasks();
    expect(idleClosed()).toBe('pending');
    // A peer that never answers: the close timeout ends it, and close() with it.
    await idle.clock.advance(2000);
    expect(idleClosed()).toBe('resolved');
    expect(idle.clock.pending).toBe(0);
  });

  // Found in review: a second close() resolved at once while the first was still closing.
  it('every close() call, one made from a completion handler too, resolves when the pool is closed', async () => {
    const { p, clock } = pool();
    let inner: (() => string) | undefined;
    p.watch(TRADE).subscribe({ complete: () => (inner = track(p.close())) });
    await flushMicrotasks();
    const socket = await openNewest();
    const first = track(p.close());
    const second = track(p.close());
    await flushMicrotasks();
    expect([first(), second(), inner?.()]).toEqual(['pending', 'pending', 'pending']);
    socket.serverClose(1000);
    await flushMicrotasks();
    expect([first(), second(), inner?.()]).toEqual(['resolved', 'resolved', 'resolved']);
    expect(clock.pending).toBe(0);
  });

  // Found in review: the replacement's `connecting` reached status handlers before the streams
  // were moved to it, and one that closed the pool or let a moving stream go made the rotation
  // throw a TypeError out of the lifetime timer: the process's uncaught exception.
  it('a status handler that closes the pool or lets a stream go as a rotation starts breaks nothing', async () => {
    const closing = pool({ rotateAfterMs: 10_000, rotateJitterMs: 0 });
    closing.p.watch(TRADE).subscribe();
    await flushMicrotasks();
    const first = await openNewest();
    let closed: (() => string) | undefined;
    let told = -1;
    closing.p.status$.subscribe((s) => {
      if (s.type !== 'connection' || s.connection !== 2 || s.status.type !== 'connecting') return;
      told = closing.statuses.length;
      closed ??= track(closing.p.close());
    });
    await closing.clock.advance(10_000);
    expect(closing.statuses.find((s) => s.type === 'rotation')).toMatchObject({ from: 1, to: 2 });
    // After the close, the connections' own stops alone.
    expect(
      closing.statuses
        .slice(told)
        .every((s) => s.type === 'connection' && s.status.type === 'stopped'),
    ).toBe(true);
    first.serverClose(1000);
    await closing.clock.advance(2000);
    expect(closed?.()).toBe('resolved');
    expect(closing.clock.pending).toBe(0);

    // Closed on the rotation's own notice: the replacement is never started.
    const early = pool({ rotateAfterMs: 10_000, rotateJitterMs: 0 });
    early.p.watch(TRADE).subscribe();
    await flushMicrotasks();
    await openNewest();
    early.p.status$.subscribe((s) => s.type === 'rotation' && void early.p.close());
    const sockets = FakeSocket.instances.length;
    await early.clock.advance(10_000);
    expect(FakeSocket.instances).toHaveLength(sockets);

    const leaving = pool({ rotateAfterMs: 10_000, rotateJitterMs: 0, idleCloseMs: 1000 });
    const sub = leaving.p.watch(TRADE).subscribe();
    await flushMicrotasks();
    const old = await openNewest();
    leaving.p.status$.subscribe((s) => {
      if (s.type === 'connection' && s.connection === 2 && s.status.type === 'connecting') {
        sub.unsubscribe();
      }
    });
    await leaving.clock.advance(10_000);
    expect(leaving.p.stats()).toMatchObject({ streams: 0, rotations: 1 });
    // The replacement opens with nothing to carry: the rotation ends, the old one closes, and
    // the empty replacement after its grace period.
    const fresh = await openNewest();
    expect(fresh.sent).toEqual([]);
    await leaving.clock.advance(1);
    expect(old.closedWith).toBe(1000);
    await leaving.clock.advance(1000);
    expect(fresh.closedWith).toBe(1000);
  });

  // Found in review: a pool took any option, and a bad feed option failed every subscriber
  // later, as each connection opened; the pool's own numbers were never checked at all.
  it('refuses out-of-range options at construction, its own and its connections', () => {
    const bad: [Partial<StreamPoolOptions>, string][] = [
      [{ queue: { capacity: 0 } }, 'queue.capacity'],
      [{ heartbeat: { intervalMs: 0 } }, 'heartbeat.intervalMs'],
      [{ backoff: { jitter: 2 } }, 'jitter'],
      [{ handshakeTimeoutMs: 0 }, 'handshakeTimeoutMs'],
      [{ requestTimeoutMs: -1 }, 'requestTimeoutMs'],
      [{ idleCloseMs: Number.NaN }, 'idleCloseMs'],
      [{ rotateAfterMs: 0 }, 'rotateAfterMs'],
      [{ rotateJitterMs: -1 }, 'rotateJitterMs'],
      [{ overlapMaxMs: -1 }, 'overlapMaxMs'],
      [{ staleFactor: 0.5 }, 'staleFactor'],
      [{ staleMinMs: -1 }, 'staleMinMs'],
      [{ tickMs: 0 }, 'tickMs'],
      // Past a host timer's longest (24.8 days) a duration is a unit mistake, not a setting.
      [{ idleCloseMs: 2 ** 31 }, 'idleCloseMs'],
      [{ rotateAfterMs: 1e300 }, 'rotateAfterMs'],
      [{ heartbeat: { timeoutMs: 2 ** 31 } }, 'heartbeat.timeoutMs'],
      [{ heartbeat: { mode: 'Message' as 'message' } }, 'heartbeat.mode'],
    ];
    for (const [options, name] of bad) {
      const clock = new ManualClock();
      expect(() => new StreamPool({ venue: binanceSpot(), clock, ...options }), name).toThrow(
        expect.objectContaining({
          code: ErrorCode.InvalidOption,
          message: expect.stringContaining(name) as unknown,
        }),
      );
      expect(clock.pending).toBe(0); // refused before its tick was armed
    }
    // `undefined` keeps the default; the bounds themselves are taken.
    const { clock } = pool({ requestTimeoutMs: undefined, idleCloseMs: 0, staleFactor: 1 });
    expect(clock.pending).toBe(1);
    expect(FakeSocket.instances).toHaveLength(0);
  });

  // Found in review: a new connection announced itself before its first stream was placed, so
  // a stream a `connecting` handler subscribed found it empty, and the first stream then went
  // there too: two streams on a connection the venue allows one.
  it('a status handler that subscribes as a connection starts never overfills it', async () => {
    const { p } = pool({ venue: binanceSpot({ limits: { streamsPerConnection: 1 } }) });
    let nested = false;
    p.status$.subscribe((s) => {
      if (s.type !== 'connection' || s.status.type !== 'connecting' || nested) return;
      nested = true;
      p.watch('ethusdt@trade').subscribe();
    });
    p.watch(TRADE).subscribe();
    await flushMicrotasks();
    expect(p.stats().streamsPerConnection).toEqual([1, 1]);
    const params = (socket: FakeSocket) =>
      socket.sent.map((r) => (JSON.parse(r) as { params: string[] }).params);
    for (const socket of FakeSocket.instances) socket.open();
    await flushMicrotasks();
    // The handler's connection is the first to make its socket: it starts inside the other's.
    expect(FakeSocket.instances.map(params)).toEqual([[['ethusdt@trade']], [[TRADE]]]);

    // One that takes the starting stream and lets it go again leaves the first subscriber a
    // stream the pool still has, not one it forgot.
    const leaving = pool();
    let took = false;
    leaving.p.status$.subscribe((s) => {
      if (s.type !== 'connection' || s.status.type !== 'connecting' || took) return;
      took = true;
      leaving.p.watch(TRADE).subscribe().unsubscribe();
    });
    const got: unknown[] = [];
    leaving.p.watch(TRADE).subscribe((m) => got.push(m));
    await flushMicrotasks();
    expect(took).toBe(true);
    const socket = await openNewest();
    expect(params(socket)).toEqual([[TRADE]]);
    socket.message(JSON.stringify({ stream: TRADE, data: { e: 'trade', t: 1 } }));
    await flushMicrotasks();
    expect(got).toEqual([{ e: 'trade', t: 1 }]);
    expect(leaving.p.stats()).toMatchObject({ connections: 1, streams: 1 });
  });

  it('a status handler that subscribes the same stream as its connection starts shares its state', async () => {
    const { p } = pool();
    const got: unknown[][] = [[], []];
    let nested = false;
    p.status$.subscribe((s) => {
      if (s.type !== 'connection' || s.status.type !== 'connecting' || nested) return;
      nested = true;
      p.watch(TRADE).subscribe((m) => got[1]!.push(m));
    });
    p.watch(TRADE).subscribe((m) => got[0]!.push(m));
    await flushMicrotasks();
    expect(nested).toBe(true);
    const socket = await openNewest();
    expect(socket.sent.map((r) => (JSON.parse(r) as { params: string[] }).params)).toEqual([
      [TRADE],
    ]);
    socket.message(JSON.stringify({ stream: TRADE, data: { e: 'trade', t: 1 } }));
    await flushMicrotasks();
    expect(got).toEqual([[{ e: 'trade', t: 1 }], [{ e: 'trade', t: 1 }]]);
    expect(p.stats()).toMatchObject({ connections: 1, streams: 1 });
  });
});
