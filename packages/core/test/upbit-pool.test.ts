import { WebSocket as MockWebSocket } from 'mock-socket';
import type { Subscription } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, type UnifeedError } from '../src/errors.js';
import { SlidingWindowLimiter } from '../src/sliding-window-limiter.js';
import { StreamPool, type PoolStatus, type StreamPoolOptions } from '../src/stream-pool.js';
import type { WebSocketConstructor } from '../src/transport.js';
import { upbit } from '../src/upbit.js';
import { MockUpbit } from './mock-upbit.js';

const MockWS = MockWebSocket as unknown as WebSocketConstructor;
const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);
let serial = 0;
let base: string;
let exchanges: MockUpbit[];
let pools: StreamPool[];

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
  base = `wss://upbit${++serial}.test`;
  exchanges = [];
  pools = [];
});

afterEach(async () => {
  await Promise.all([...pools.map((p) => p.close()), advance(5000)]);
  for (const x of exchanges) x.stop();
  vi.useRealTimers();
});

function exchange(): MockUpbit {
  const x = new MockUpbit(`${base}/websocket/v1`);
  exchanges.push(x);
  return x;
}

function pool(options: Partial<StreamPoolOptions> = {}, venue = upbit({ wsUrl: base })) {
  // Each test its own attempt window: the process-wide one would still hold the attempts of
  // earlier tests, made at the same faked times.
  const { connectionAttempts: limit, connectionAttemptWindowMs: windowMs } = venue.limits;
  const attemptLimiter = new SlidingWindowLimiter({ limit, windowMs });
  const p = new StreamPool({
    venue,
    WebSocket: MockWS,
    random: () => 0,
    attemptLimiter,
    ...options,
  });
  pools.push(p);
  const statuses: PoolStatus[] = [];
  p.status$.subscribe((s) => statuses.push(s));
  return { p, statuses };
}

/** Every window of `windowMs` holds at most `limit` of `times`. */
function maxInWindow(times: number[], windowMs: number): number {
  let max = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

describe('StreamPool on Upbit', () => {
  it('re-sends the whole set on every change: nothing twice, nothing lost', async () => {
    const x = exchange();
    const { p } = pool();
    const got: string[] = [];
    const watch = (s: string): Subscription =>
      p.watch(s).subscribe((m) => got.push(`${s} ${(m as { stream_type: string }).stream_type}`));
    watch('ticker:KRW-BTC');
    const trade = watch('trade:KRW-BTC');
    await advance(100);
    watch('orderbook:KRW-ETH');
    await advance(1000);
    trade.unsubscribe();
    await advance(1000);
    watch('candle.1m:KRW-BTC');
    await advance(1000);
    expect(x.conns).toHaveLength(1);
    expect(x.conns[0]!.requests.map((r) => r.set)).toEqual([
      ['ticker:KRW-BTC', 'trade:KRW-BTC'],
      ['ticker:KRW-BTC', 'trade:KRW-BTC', 'orderbook:KRW-ETH'],
      ['ticker:KRW-BTC', 'orderbook:KRW-ETH'],
      ['ticker:KRW-BTC', 'orderbook:KRW-ETH', 'candle.1m:KRW-BTC'],
    ]);
    expect(x.subscribed()).toEqual(['candle.1m:KRW-BTC', 'orderbook:KRW-ETH', 'ticker:KRW-BTC']);
    expect(x.duplicates).toBe(0);
    // Each stream's snapshot arrived once, the released one's was delivered before release.
    expect(got.sort()).toEqual([
      'candle.1m:KRW-BTC SNAPSHOT',
      'orderbook:KRW-ETH SNAPSHOT',
      'ticker:KRW-BTC SNAPSHOT',
      'trade:KRW-BTC SNAPSHOT',
    ]);
    // The exchange no longer sends the released stream: the set really was replaced.
    expect(x.publish('trade:KRW-BTC', { stream_type: 'REALTIME' })).toBe(0);
    expect(x.publish('ticker:KRW-BTC', { stream_type: 'REALTIME' })).toBe(1);
    await advance(10);
    expect(got).toContain('ticker:KRW-BTC REALTIME');
    expect(p.stats()).toMatchObject({ streams: 3, connections: 1, unrouted: 0, unexpected: 0 });
  });

  it('takes a request as applied on the first data of a new stream, else after settleMs', async () => {
    const x = exchange();
    x.snapshots = false;
    const { p } = pool({}, upbit({ wsUrl: base, settleMs: 700 }));
    p.watch('ticker:KRW-BTC').subscribe();
    await advance(10);
    p.watch('ticker:KRW-ETH').subscribe();
    await advance(600);
    // The first request is neither refused nor confirmed by data yet: the change waits.
    expect(x.conns[0]!.requests).toHaveLength(1);
    await advance(150);
    expect(x.conns[0]!.requests).toHaveLength(2);
    const second = x.conns[0]!.requests[1]!.at;
    x.publish('ticker:KRW-ETH');
    await advance(10);
    p.watch('ticker:KRW-XRP').subscribe();
    await advance(400);
    // Data of the added stream confirmed the second at once; only the message rate spaced them.
    expect(x.conns[0]!.requests).toHaveLength(3);
    expect(x.conns[0]!.requests[2]!.at - second).toBeLessThan(700);
    expect(p.stats().subscribeLatency.count).toBe(2);
  });

  it('an INVALID_PARAM error ends only the bad code`s subscribers; the others flow', async () => {
    const x = exchange();
    x.refuse.add('KRW-NOPE');
    const { p, statuses } = pool();
    const errors: UnifeedError[] = [];
    const got: string[] = [];
    for (const s of ['ticker:KRW-BTC', 'ticker:KRW-NOPE', 'trade:KRW-ETH']) {
      p.watch(s).subscribe({
        next: () => got.push(s),
        error: (e: UnifeedError) => errors.push(e),
      });
    }
    await advance(5000);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      code: ErrorCode.StreamRejected,
      stream: 'ticker:KRW-NOPE',
      venueError: 'INVALID_PARAM',
      venueCode: undefined,
    });
    expect(statuses.filter((s) => s.type === 'stream-error')).toHaveLength(1);
    expect(x.subscribed()).toEqual(['ticker:KRW-BTC', 'trade:KRW-ETH']);
    expect(got.sort()).toEqual(['ticker:KRW-BTC', 'trade:KRW-ETH']);
    expect(p.stats()).toMatchObject({ streams: 2, rejected: 1, unexpected: 0 });
    // Settled: no request goes out again.
    const sent = x.conns[0]!.requests.length;
    await advance(5000);
    expect(x.conns[0]!.requests).toHaveLength(sent);
  });

  it('an error with no request in flight is counted as unexpected, nothing is ended', async () => {
    const x = exchange();
    const { p } = pool();
    let ended = false;
    p.watch('ticker:KRW-BTC').subscribe({ error: () => (ended = true) });
    await advance(2000);
    x.conns[0]!.socket.send(JSON.stringify({ error: { name: 'WRONG_FORMAT', message: 'x' } }));
    await advance(10);
    expect(ended).toBe(false);
    expect(p.stats().unexpected).toBe(1);
  });

  it('after a drop, one request restores the whole set, changes made meanwhile included', async () => {
    const x = exchange();
    const { p, statuses } = pool({ backoff: { initialMs: 1000, jitter: 0 } });
    p.watch('ticker:KRW-BTC').subscribe();
    const eth = p.watch('ticker:KRW-ETH').subscribe();
    await advance(2000);
    x.conns[0]!.socket.close({ code: 1006, reason: 'gone', wasClean: false });
    await advance(10);
    eth.unsubscribe();
    p.watch('orderbook:KRW-BTC').subscribe();
    await advance(3000);
    expect(x.open).toHaveLength(1);
    expect(x.conns[1]!.requests.map((r) => r.set)).toEqual([
      ['ticker:KRW-BTC', 'orderbook:KRW-BTC'],
    ]);
    expect(x.subscribed()).toEqual(['orderbook:KRW-BTC', 'ticker:KRW-BTC']);
    expect(
      statuses.filter((s) => s.type === 'gap').map((s) => s.type === 'gap' && s.stream),
    ).toEqual(['ticker:KRW-BTC', 'ticker:KRW-ETH']);
  });

  it('pings with the text PING every 20 s and counts {"status":"UP"} as life, never as news', async () => {
    const x = exchange();
    const { p } = pool();
    p.watch('ticker:KRW-BTC').subscribe();
    await advance(130_000);
    const conn = x.conns[0]!;
    const pings = conn.inbound.filter((m) => m.text === 'PING').map((m) => m.at);
    expect(pings).toHaveLength(6);
    expect(pings.slice(1).map((t, i) => t - pings[i]!)).toEqual([
      20_000, 20_000, 20_000, 20_000, 20_000,
    ]);
    const stats = p.stats();
    expect(stats).toMatchObject({ unexpected: 0, reconnects: 0 });
    expect(stats.perConnection[0]).toMatchObject({ stales: 0, state: 'open' });
  });

  it('keeps every socket under 5 messages a second and 100 a minute, pings included', async () => {
    const x = exchange();
    const { p } = pool();
    const codes = Array.from({ length: 130 }, (_, i) => `KRW-C${i}`);
    for (const code of codes) {
      p.watch(`ticker:${code}`).subscribe();
      await advance(400);
    }
    await advance(120_000);
    const conn = x.conns[0]!;
    const times = conn.inbound.map((m) => m.at);
    // 130 changes 400 ms apart would be 130 requests in 52 s: the minute budget held them
    // back, and the changes made meanwhile went out merged.
    expect(conn.requests.length).toBeGreaterThan(90);
    expect(conn.requests.length).toBeLessThan(130);
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(5);
    expect(maxInWindow(times, 60_000)).toBeLessThanOrEqual(100);
    expect(x.subscribed()).toEqual(codes.map((c) => `ticker:${c}`).sort());
  });

  it('cannot say an empty set: the released stream is dropped locally and the socket closes idle', async () => {
    const x = exchange();
    const { p } = pool({ idleCloseMs: 5000 });
    const sub = p.watch('ticker:KRW-BTC').subscribe();
    await advance(2000);
    sub.unsubscribe();
    await advance(100);
    expect(x.conns[0]!.requests).toHaveLength(1);
    x.publish('ticker:KRW-BTC');
    await advance(10);
    // Upbit keeps sending it (no request can say "nothing"); it reaches no one.
    expect(p.stats()).toMatchObject({ streams: 0, unrouted: 1, unexpected: 0 });
    await advance(5000);
    expect(x.open).toHaveLength(0);
    expect(p.stats().connections).toBe(0);
  });

  it('bisecting a refused change tries only wanted streams: never over the limit, no good one refused', async () => {
    const x = exchange();
    x.refuse.add('KRW-NOPE');
    const venue = upbit({ wsUrl: base, limits: { streamsPerConnection: 4, paramsPerRequest: 4 } });
    const { p } = pool({}, venue);
    const errors: string[] = [];
    const watch = (s: string) =>
      p.watch(s).subscribe({ error: (e: UnifeedError) => errors.push(`${s} ${e.code}`) });
    const subs = ['ticker:KRW-A', 'ticker:KRW-B', 'ticker:KRW-C', 'ticker:KRW-D'].map(watch);
    await advance(2000);
    // One tick: two released, a good and a bad one taken: four wanted, the request is refused.
    subs[0]!.unsubscribe();
    subs[1]!.unsubscribe();
    watch('ticker:KRW-GOOD');
    watch('ticker:KRW-NOPE');
    await advance(10_000);
    const sizes = x.conns.flatMap((c) => c.requests.map((r) => r.set.length));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    expect(errors).toEqual(['ticker:KRW-NOPE UNIFEED_STREAM_REJECTED']);
    expect(x.subscribed()).toEqual(['ticker:KRW-C', 'ticker:KRW-D', 'ticker:KRW-GOOD']);
  });

  it('data of a stream the server kept after an unsayable empty set proves nothing of the next request', async () => {
    const x = exchange();
    x.refuse.add('KRW-NOPE');
    x.refusalDelayMs = 50;
    const { p, statuses } = pool();
    const btc = p.watch('ticker:KRW-BTC').subscribe();
    await advance(2000);
    btc.unsubscribe(); // an empty set: nothing can be sent, the server keeps sending KRW-BTC
    await advance(100);
    let refused: unknown;
    p.watch('ticker:KRW-BTC').subscribe();
    p.watch('ticker:KRW-NOPE').subscribe({ error: (e: unknown) => (refused = e) });
    await advance(10); // the request [BTC, NOPE] is out
    x.publish('ticker:KRW-BTC'); // the old set's data, before the refusal
    await advance(5000); // the refusal, then the bisection finds the bad code
    expect(refused).toMatchObject({ code: ErrorCode.StreamRejected, stream: 'ticker:KRW-NOPE' });
    expect(p.stats().unexpected).toBe(0);
    expect(statuses.filter((s) => s.type === 'stream-error')).toHaveLength(1);
  });

  it('a refusal slower than settleMs starts the connection over with a longer settle: the bad code is found', async () => {
    const x = exchange();
    x.refuse.add('KRW-NOPE');
    x.refusalDelayMs = 1_200; // the default settleMs is 1,000
    const { p, statuses } = pool();
    const errors: string[] = [];
    const watch = (s: string) =>
      p.watch(s).subscribe({ error: (e: UnifeedError) => errors.push(`${s} ${e.code}`) });
    watch('ticker:KRW-BTC');
    await advance(2_000);
    watch('ticker:KRW-NOPE');
    // Settled by time at 1 s, refused at 1.2 s: the connection starts over, and its request
    // for the whole set, bisected, finds the bad code within the doubled settle time.
    await advance(10_000);
    expect(errors).toEqual(['ticker:KRW-NOPE UNIFEED_STREAM_REJECTED']);
    expect(p.stats().unexpected).toBe(1);
    expect(statuses).toContainEqual({ type: 'gap', stream: 'ticker:KRW-BTC', reason: 'reconnect' });
    // Later streams are subscribed, not refused along with the bad one.
    watch('ticker:KRW-ETH');
    await advance(5_000);
    expect(x.subscribed()).toEqual(['ticker:KRW-BTC', 'ticker:KRW-ETH']);
    expect(errors).toHaveLength(1);
  });

  // Found in review: doubling a settle time of 0 stays 0, so with `settleMs: 0` every refusal
  // came late, the connection started over for ever, and no stream of it got data.
  it('settleMs 0: a late refusal lengthens the settle from a floor, and the bad code is found', async () => {
    const x = exchange();
    x.refuse.add('KRW-NOPE');
    x.refusalDelayMs = 5;
    const { p, statuses } = pool({}, upbit({ wsUrl: base, settleMs: 0 }));
    const errors: string[] = [];
    let btc = 0;
    p.watch('ticker:KRW-BTC').subscribe(() => btc++);
    await advance(2_000);
    p.watch('ticker:KRW-NOPE').subscribe({ error: (e: UnifeedError) => errors.push(e.code) });
    await advance(10_000);
    expect(errors).toEqual(['UNIFEED_STREAM_REJECTED']);
    btc = 0;
    for (let i = 0; i < 30; i++) {
      x.publish('ticker:KRW-BTC', { timestamp: 1_700_000_100_000 + i });
      await advance(1000);
    }
    expect(btc).toBe(30);
    const reconnects = statuses.filter(
      (s) => s.type === 'gap' && s.reason === 'reconnect' && s.stream === 'ticker:KRW-BTC',
    );
    expect(reconnects).toHaveLength(1); // the one start over that found the bad code
  });

  it("a late refusal on a rotation's old connection leaves it to the rotation, not to a reconnect", async () => {
    const x = exchange();
    x.refuse.add('KRW-NOPE');
    x.refusalDelayMs = 1_200;
    const { p, statuses } = pool({ rotateAfterMs: 3_100, rotateJitterMs: 0 });
    const errors: string[] = [];
    p.watch('ticker:KRW-BTC').subscribe();
    await advance(2_000);
    p.watch('ticker:KRW-NOPE').subscribe({ error: (e: UnifeedError) => errors.push(e.code) });
    // Settled by time at 3 s, the rotation starts at 3.1 s, the refusal comes at 3.2 s: on
    // the old connection, while the replacement asks for the whole set.
    await advance(1_300);
    expect(x.conns).toHaveLength(2);
    const backoffs = (id: number) =>
      statuses.filter(
        (s) => s.type === 'connection' && s.connection === id && s.status.type === 'backoff',
      );
    expect(backoffs(1)).toEqual([]);
    await advance(20_000);
    expect(errors).toEqual([ErrorCode.StreamRejected]);
    expect(x.subscribed()).toContain('ticker:KRW-BTC');
  });

  it('during a rotation, two different states in one ms are both delivered; an older one is not', async () => {
    const x = exchange();
    x.snapshots = false;
    const { p } = pool({ rotateAfterMs: 10_000, rotateJitterMs: 0 });
    const got: number[] = [];
    p.watch('candle.1m:KRW-BTC').subscribe((m) =>
      got.push((m as { candle_acc_trade_volume: number }).candle_acc_trade_volume),
    );
    await advance(2000);
    const old = x.conns[0]!;
    await advance(10_000); // the replacement subscribed: both connections carry the stream
    expect(x.conns).toHaveLength(2);
    const candle = (timestamp: number, volume: number) =>
      old.socket.send(
        JSON.stringify({
          type: 'candle.1m',
          code: 'KRW-BTC',
          timestamp,
          candle_acc_trade_volume: volume,
        }),
      );
    candle(1_700_000_020_000, 1);
    candle(1_700_000_020_000, 2); // a second state in the same ms: news
    candle(1_700_000_019_999, 3); // older: a repeat of the past
    await advance(10);
    expect(got).toEqual([1, 2]);
  });

  // Found in review: the overlap's key stringified the whole message, and nesting the parser
  // takes (100,000 deep) overflowed stringify's stack inside the socket loop: the process died.
  it('during a rotation, a message nested too deep to key is delivered, and the stream goes on', async () => {
    const x = exchange();
    x.snapshots = false;
    const { p } = pool({ rotateAfterMs: 10_000, rotateJitterMs: 0 });
    const got: number[] = [];
    p.watch('candle.1m:KRW-BTC').subscribe((m) => got.push((m as { timestamp: number }).timestamp));
    await advance(2000);
    const old = x.conns[0]!;
    await advance(10_000); // both connections carry the stream
    expect(x.conns).toHaveLength(2);
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const candle = (timestamp: number, extra = '') =>
      old.socket.send(`{"type":"candle.1m","code":"KRW-BTC","timestamp":${timestamp}${extra}}`);
    candle(1_700_000_020_000, `,"x":${deep}`);
    candle(1_700_000_020_001);
    await advance(10);
    expect(got).toEqual([1_700_000_020_000, 1_700_000_020_001]);
  });

  it('a stream the server kept after an unsayable empty set, taken back as another request goes out: a hole', async () => {
    const x = exchange();
    x.snapshots = false;
    const { p, statuses } = pool();
    const s = p.watch('trade:KRW-BTC').subscribe();
    await advance(2000);
    s.unsubscribe(); // nothing can be said: the server keeps sending KRW-BTC
    await advance(10);
    p.watch('trade:KRW-ETH').subscribe();
    await advance(10); // the request [ETH] is out: applied, it stops KRW-BTC
    p.watch('trade:KRW-BTC').subscribe();
    await advance(5000);
    expect(statuses.filter((st) => st.type === 'gap')).toEqual([
      { type: 'gap', stream: 'trade:KRW-BTC', reason: 'resubscribe' },
    ]);
    expect(x.subscribed()).toEqual(['trade:KRW-BTC', 'trade:KRW-ETH']);
  });
  // Found in review: an equal timestamp from the other connection was delivered again (every
  // ticker, book and candle of a busy stream twice for the length of the overlap), and a trade
  // below the last sequential_id was dropped as a repeat, though Upbit does not promise their
  // order: lost without a word.
  it('during a rotation, each state and each trade is delivered once, trades in any order', async () => {
    const x = exchange();
    x.snapshots = false;
    const { p } = pool({ rotateAfterMs: 10_000, rotateJitterMs: 0 });
    const tickers: number[] = [];
    const trades: string[] = [];
    p.watch('ticker:KRW-BTC').subscribe((m) =>
      tickers.push((m as { trade_volume: number }).trade_volume),
    );
    p.watch('trade:KRW-BTC').subscribe((m) =>
      trades.push((m as { sequential_id: string }).sequential_id),
    );
    await advance(2000);
    await advance(10_000); // the replacement subscribed: both connections carry the streams
    expect(x.conns).toHaveLength(2);
    const [old, fresh] = x.conns;
    const ticker = (volume: number) =>
      JSON.stringify({
        type: 'ticker',
        code: 'KRW-BTC',
        timestamp: 1_700_000_020_000,
        trade_volume: volume,
      });
    const trade = (id: string) =>
      `{"type":"trade","code":"KRW-BTC","timestamp":1700000020000,"sequential_id":${id}}`;
    for (const conn of [old!, fresh!]) {
      conn.socket.send(ticker(1));
      conn.socket.send(ticker(2)); // a second state in the same ms: news, once
      conn.socket.send(trade('17000000200000001'));
      conn.socket.send(trade('17000000200000000')); // the earlier id, later: news, once
    }
    await advance(10);
    expect(tickers).toEqual([1, 2]);
    expect(trades).toEqual(['17000000200000001', '17000000200000000']);
    expect(p.stats().duplicatesSuppressed).toBe(4);
  });
});
