import {
  ErrorCode,
  StreamPool,
  upbit,
  type PoolStatus,
  type StreamPoolOptions,
  type UnifeedError,
} from '@unifeed/core';
import { ManualClock } from '@unifeed/core/testing';
import { bookStats, orderBook, parseUpbitOrderbook, type BookView } from '@unifeed/feed-depth';
import { klines } from '@unifeed/feed-kline';
import { ticker, trade, type PriceEvent } from '@unifeed/feed-price';
import { startSimulator, type Simulator, type SimulatorOptions } from '@unifeed/simulator';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, waitFor } from './support/ws-server.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ venue: 'upbit', seed: 7, symbols: 8, ...options });
  cleanup.push(() => s.close());
  return s;
}

function pool(s: Simulator, extra: Partial<StreamPoolOptions> = {}) {
  const p = new StreamPool({
    venue: upbit({ wsUrl: s.wsUrl, settleMs: 300 }),
    backoff: { initialMs: 20, maxMs: 100, jitter: 0 },
    ...extra,
  });
  cleanup.push(() => p.close());
  const statuses: PoolStatus[] = [];
  p.status$.subscribe((st) => statuses.push(st));
  return { p, statuses };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the simulator's open connections hold, each stream once per connection. */
function held(s: Simulator): string[] {
  return s
    .stats()
    .connectionList.flatMap((c) => c.subscriptions)
    .sort();
}

const CODES = ['KRW-BTC', 'KRW-ETH', 'KRW-XRP', 'KRW-SOL', 'KRW-DOGE'];

/** An Upbit orderbook frame for KRW-BTC, of one unit. */
function upbitBook(timestamp: number, bid: number, ask: number): string {
  return JSON.stringify({
    type: 'orderbook',
    code: 'KRW-BTC',
    timestamp,
    orderbook_units: [{ ask_price: ask, bid_price: bid, ask_size: 1, bid_size: 2 }],
  });
}

/**
 * A KRW-BTC book on a server that answers the subscription with `script` (binary frames, as
 * Upbit sends them); resolves once a view reached update `untilId`, with each view as
 * `state lastUpdateId bestBid reason`.
 */
async function scriptedBook(script: string[], untilId: number) {
  const srv = await startServer((socket) => {
    socket.once('message', () => {
      for (const m of script) socket.send(Buffer.from(m));
    });
  });
  cleanup.push(() => srv.close());
  const p = new StreamPool({ venue: upbit({ wsUrl: srv.url, settleMs: 100 }) });
  cleanup.push(() => p.close());
  const views: BookView[] = [];
  orderBook(p, { symbol: 'krw-btc', depth: 3 }).subscribe((v) => views.push(v));
  await waitFor(() => views.at(-1)?.lastUpdateId === untilId, 10_000);
  const seen = views.map(
    (v) => `${v.state} ${v.lastUpdateId} ${v.bids[0]?.[0] ?? '-'} ${v.reason ?? ''}`,
  );
  return { p, views, seen };
}

describe('Upbit on the simulator', () => {
  it('churn: every change re-sends the whole set; nothing twice, nothing lost', async () => {
    const s = await sim();
    const { p } = pool(s);
    const got = new Map<string, number>();
    const subs = new Map<string, { unsubscribe(): void }>();
    const want = (stream: string, on: boolean): void => {
      if (!on) {
        subs.get(stream)?.unsubscribe();
        subs.delete(stream);
        return;
      }
      if (subs.has(stream)) return;
      const [type, code] = stream.split(':') as ['ticker' | 'trade', string];
      const plugin = type === 'ticker' ? ticker : trade;
      subs.set(
        stream,
        p.observe(plugin as typeof ticker, { symbols: [code] }).subscribe((e: PriceEvent) => {
          got.set(e.stream, (got.get(e.stream) ?? 0) + 1);
        }),
      );
    };
    // Rounds of changes, some in the same tick (one request), some while a request is out.
    let seed = 5;
    const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let round = 0; round < 12; round++) {
      for (const code of CODES) {
        for (const type of ['ticker', 'trade']) {
          if (rand() < 0.35) want(`${type}:${code}`, rand() < 0.6);
        }
      }
      await sleep(round % 3 === 0 ? 5 : 120);
    }
    // Never empty at the end: Upbit cannot say an empty set, that case has its own test.
    want('ticker:KRW-BTC', true);
    want('trade:KRW-ETH', true);
    const desired = [...subs.keys()].sort();
    await waitFor(() => JSON.stringify(held(s)) === JSON.stringify(desired), 10_000);
    const st = s.stats();
    expect(st.connections.open).toBe(1);
    expect(st.subscriptions.duplicateAcrossConnections).toBe(0);
    expect(st.upbitErrors).toEqual({
      NO_TICKET: 0,
      NO_TYPE: 0,
      NO_CODES: 0,
      WRONG_FORMAT: 0,
      INVALID_PARAM: 0,
    });
    expect(st.closes1008).toBe(0);
    for (const stream of desired) expect(st.streams[stream]?.subscribers, stream).toBe(1);
    // Nothing lost: every stream still wanted delivers from here on.
    got.clear();
    await waitFor(() => desired.every((d) => (got.get(d) ?? 0) > 0), 10_000);
    expect([...got.keys()].filter((k) => !desired.includes(k))).toEqual([]);
    expect(p.stats()).toMatchObject({ streams: desired.length, connections: 1, unexpected: 0 });
  });

  it('after a drop, one request restores the whole set and data flows again', async () => {
    const s = await sim();
    const { p, statuses } = pool(s);
    const streams = ['ticker:KRW-BTC', 'ticker:KRW-ETH', 'trade:KRW-BTC', 'trade:KRW-XRP'];
    const got = new Map<string, number>();
    p.observe(ticker, { symbols: ['KRW-BTC', 'KRW-ETH'] }).subscribe((e) =>
      got.set(e.stream, (got.get(e.stream) ?? 0) + 1),
    );
    p.observe(trade, { symbols: ['KRW-BTC', 'KRW-XRP'] }).subscribe((e) =>
      got.set(e.stream, (got.get(e.stream) ?? 0) + 1),
    );
    await waitFor(() => held(s).length === 4, 10_000);
    const framesBefore = s.stats().subscriptions.subscribeFrames;
    expect(s.faults.drop()).toBe(1);
    await waitFor(() => s.stats().connections.accepted === 2 && held(s).length === 4, 10_000);
    expect(held(s)).toEqual([...streams].sort());
    got.clear();
    await waitFor(() => streams.every((x) => (got.get(x) ?? 0) > 0), 10_000);
    expect(s.stats().subscriptions.subscribeFrames - framesBefore).toBe(1);
    const gaps = statuses.filter((x) => x.type === 'gap');
    expect(gaps.map((g) => g.type === 'gap' && `${g.stream} ${g.reason}`).sort()).toEqual(
      streams.map((x) => `${x} reconnect`).sort(),
    );
    expect(p.stats().reconnects).toBe(1);
  });

  it('a rotation replaces the connection make-before-break: every trade once, none missing', async () => {
    const s = await sim();
    const { p, statuses } = pool(s, { rotateAfterMs: 1500, rotateJitterMs: 0 });
    // The control: a pool that does not rotate in the test, on the same trades.
    const { p: control } = pool(s);
    // Upbit's ids (trade ms x 10,000 plus a counter) are beyond 2^53: compared exactly.
    const ids: bigint[] = [];
    const truth: bigint[] = [];
    p.observe(trade, { symbols: ['KRW-BTC'] }).subscribe((e) => ids.push(BigInt(e.tradeIdText)));
    control
      .observe(trade, { symbols: ['KRW-BTC'] })
      .subscribe((e) => truth.push(BigInt(e.tradeIdText)));
    await waitFor(() => statuses.filter((x) => x.type === 'rotation').length >= 2, 10_000);
    const after = ids.length;
    await waitFor(() => ids.length > after + 5 && truth.at(-1)! >= ids.at(-1)!, 10_000);
    expect(s.stats().connections.accepted).toBeGreaterThanOrEqual(4);
    // Every trade once and in order: what the control saw over the same span, exactly.
    const from = ids[0]! > truth[0]! ? ids[0]! : truth[0]!;
    const span = (list: bigint[]) => list.filter((id) => id >= from && id <= ids.at(-1)!);
    expect(span(ids)).toEqual(span(truth));
    expect(ids.length).toBeGreaterThan(after);
    expect(statuses.filter((x) => x.type === 'gap')).toEqual([]);
    expect(p.stats().duplicatesSuppressed).toBeGreaterThan(0);
  });

  it('the heartbeat`s PING keeps a quiet connection past the 120 s idle close; without it, it is cut', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5));
    const s = await sim({ clock });
    const { p } = pool(s, { clock });
    // The control: a pool whose pings would come far too late.
    const { p: silent, statuses: silentStatuses } = pool(s, {
      clock,
      heartbeat: { intervalMs: 1_000_000, timeoutMs: 2_000_000 },
    });
    let candles = 0;
    p.watch('candle.1m:KRW-BTC').subscribe(() => candles++);
    silent.watch('candle.1m:KRW-ETH').subscribe();
    await waitFor(() => s.stats().connections.open === 2 && held(s).length === 2, 10_000);
    for (let t = 1; t <= 300; t++) {
      await clock.advance(1000);
      // Real socket I/O between simulated seconds: PINGs out, answers and pushes in. A due PING
      // is awaited, so a slow machine cannot make the simulated silence longer than it was.
      if (t % 20 === 0) await waitFor(() => s.stats().upbitPings >= t / 20, 10_000);
      else await sleep(2);
    }
    const closes = silentStatuses.filter(
      (x) => x.type === 'connection' && x.status.type === 'close',
    );
    expect(closes.length).toBeGreaterThanOrEqual(2);
    expect(closes[0]).toMatchObject({ status: { code: 1001, reason: 'Idle timeout' } });
    const kept = p.stats().perConnection[0]!;
    expect(kept).toMatchObject({ state: 'open', reconnects: 0, stales: 0 });
    expect(p.stats().reconnects).toBe(0);
    expect(candles).toBeGreaterThan(250);
    // It was the application PING that kept it (every 20 s: 15 in 300 s), not a ping frame.
    expect(s.stats().upbitPings).toBe(15);
    expect(kept.state).toBe('open');
  });

  it('malformed frames are counted with typed errors; the other streams flow on', async () => {
    const s = await sim();
    const { p, statuses } = pool(s);
    const got = new Map<string, number>();
    let rejected: UnifeedError | undefined;
    p.observe(ticker, { symbols: ['KRW-BTC', 'KRW-ETH'] }).subscribe((e) =>
      got.set(e.stream, (got.get(e.stream) ?? 0) + 1),
    );
    await waitFor(() => got.size === 2, 10_000);
    p.observe(ticker, { symbols: ['KRW-NOPE'] }).subscribe({ error: (e) => (rejected = e) });
    await waitFor(() => rejected !== undefined, 10_000);
    expect(rejected).toMatchObject({
      code: ErrorCode.StreamRejected,
      stream: 'ticker:KRW-NOPE',
      venueError: 'INVALID_PARAM',
    });
    for (const kind of ['wrong-types', 'invalid-json', 'unknown-stream', 'binary'] as const) {
      expect(s.faults.malformed(kind)).toBe(1);
    }
    await waitFor(() => p.stats().parseErrors === 1 && p.stats().unexpected === 1, 10_000);
    const errors = statuses.flatMap((x) =>
      x.type === 'parse-error'
        ? [`${x.error.code} ${x.stream}`]
        : x.type === 'connection' && x.status.type === 'error'
          ? [x.status.error.code]
          : [],
    );
    expect(errors.sort()).toEqual([
      'UNIFEED_DECODE',
      'UNIFEED_DECODE',
      'UNIFEED_PARSE ticker:KRW-BTC',
      'UNIFEED_UNEXPECTED_MESSAGE',
    ]);
    expect(p.stats().perConnection[0]!.decodeErrors).toBe(2);
    got.clear();
    await waitFor(
      () => (got.get('ticker:KRW-BTC') ?? 0) > 0 && (got.get('ticker:KRW-ETH') ?? 0) > 0,
      10_000,
    );
    expect(held(s)).toEqual(['ticker:KRW-BTC', 'ticker:KRW-ETH']);
    expect(p.stats().reconnects).toBe(0);
  });

  it('order book views equal the exchange`s book, through a reconnect', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5));
    const s = await sim({ clock });
    const { p } = pool(s);
    const views: BookView[] = [];
    orderBook(p, { symbol: 'KRW-BTC', depth: 5 }).subscribe((v) => views.push(v));
    expect(views[0]).toMatchObject({ venue: 'upbit', symbol: 'KRW-BTC', state: 'syncing' });
    const mismatches: string[] = [];
    const check = (v: BookView): void => {
      // The simulator's clock stands still between steps: its book now is the one sent.
      const truth = s.truth.book('KRW-BTC', 5)!;
      const same = (a: readonly (readonly [string, string])[], b: [string, string][]) =>
        a.length === b.length &&
        a.every((l, i) => Number(l[0]) === Number(b[i]![0]) && Number(l[1]) === Number(b[i]![1]));
      if (!same(v.bids, truth.bids) || !same(v.asks, truth.asks)) {
        mismatches.push(
          `${v.lastUpdateId}: ${JSON.stringify(v.bids[0])} vs ${JSON.stringify(truth.bids[0])}`,
        );
      }
    };
    await waitFor(() => views.at(-1)?.state === 'live', 10_000);
    check(views.at(-1)!);
    for (let step = 0; step < 20; step++) {
      const n = views.length;
      await clock.advance(50);
      await waitFor(() => views.length > n, 10_000);
      check(views.at(-1)!);
    }
    const live = views.at(-1)!;
    expect(live.bids).toHaveLength(5);
    expect(Number(live.bids[0]![0])).toBeLessThan(Number(live.asks[0]![0]));
    const before = views.length;
    s.faults.drop();
    await waitFor(() => views.slice(before).some((v) => v.state === 'resyncing'), 10_000);
    expect(views.slice(before).find((v) => v.state === 'resyncing')).toMatchObject({
      reason: 'stream-gap',
      bids: live.bids,
    });
    // Upbit sends the book at once on the new subscription: live again without a market move.
    await waitFor(() => views.at(-1)?.state === 'live', 10_000);
    check(views.at(-1)!);
    expect(mismatches).toEqual([]);
  });

  it('an Upbit book skips an older snapshot, and keeps the last good one through a crossed one', async () => {
    const script = [
      upbitBook(1000, 100, 101),
      upbitBook(900, 90, 91),
      upbitBook(1100, 102, 101),
      upbitBook(1200, 103, 104),
    ];
    const { p, views, seen } = await scriptedBook(script, 1200);
    expect(seen).toEqual([
      'syncing 0 - ',
      'live 1000 100 ',
      'resyncing 1000 100 crossed',
      'live 1200 103 ',
    ]);
    expect(views.at(-1)).toMatchObject({ venue: 'upbit', symbol: 'KRW-BTC', asks: [['104', '1']] });
    expect(bookStats(p)).toEqual([
      expect.objectContaining({
        book: 'orderbook:KRW-BTC',
        symbol: 'KRW-BTC',
        state: 'live',
        snapshots: 2,
        duplicates: 1,
        crossed: 1,
        resyncs: 1,
      }),
    ]);
  });

  it('an order book of a code Upbit refuses ends with the typed error', async () => {
    const s = await sim();
    const { p } = pool(s);
    let error: UnifeedError | undefined;
    orderBook(p, { symbol: 'KRW-NOPE' }).subscribe({ error: (e: UnifeedError) => (error = e) });
    await waitFor(() => error !== undefined, 10_000);
    expect(error).toMatchObject({ code: ErrorCode.StreamRejected, venueError: 'INVALID_PARAM' });
    expect(bookStats(p)).toEqual([]);
  });

  it('candles of Upbit intervals, with exact decimals', async () => {
    const s = await sim();
    const { p } = pool(s);
    const seen: { interval: string; openTime: number; volume: string }[] = [];
    klines(p, { symbols: ['KRW-BTC'], intervals: ['1s', '1m'] }).subscribe((k) =>
      seen.push({ interval: k.interval, openTime: k.openTime, volume: k.volume }),
    );
    await waitFor(() => new Set(seen.map((k) => k.interval)).size === 2 && seen.length > 3, 10_000);
    for (const k of seen) {
      expect(k.openTime % (k.interval === '1s' ? 1000 : 60_000)).toBe(0);
      expect(k.volume).toMatch(/^\d+(\.\d+)?$/);
    }
  });

  // Pins that stream gaps before Upbit's first snapshot leave the book syncing, no resync, and
  // that a locked book (bid = ask) is crossed. Found by mutation: such a book showed
  // "resyncing" with nothing ever loaded, and a locked book was shown live as a sane top.
  it('an Upbit book: holes before the first snapshot keep it syncing, uncounted; a locked book (bid = ask) is crossed', async () => {
    const broken = JSON.stringify({
      type: 'orderbook',
      code: 'KRW-BTC',
      timestamp: 1,
      orderbook_units: 'x',
    });
    const script = [
      broken,
      broken,
      upbitBook(1000, 100, 101),
      upbitBook(1100, 101, 101),
      upbitBook(1200, 103, 104),
    ];
    const { p, seen } = await scriptedBook(script, 1200);
    expect(seen).toEqual([
      'syncing 0 - ',
      'syncing 0 - stream-gap',
      'syncing 0 - stream-gap',
      'live 1000 100 ',
      'resyncing 1000 100 crossed',
      'live 1200 103 ',
    ]);
    expect(bookStats(p)).toEqual([
      expect.objectContaining({ streamGaps: 2, crossed: 1, resyncs: 1, snapshots: 2 }),
    ]);
  });

  // Pins that an ask of size 0 is left out as an empty bid is. Found by mutation: the empty ask
  // stood in the book as its best ask, at size 0, a price nobody offered.
  it('an Upbit unit whose ask side is empty (size 0) leaves the ask out, as it does an empty bid', () => {
    const e = parseUpbitOrderbook(
      {
        type: 'orderbook',
        code: 'KRW-BTC',
        timestamp: 1,
        orderbook_units: [
          { ask_price: 101, bid_price: 100, ask_size: 0, bid_size: 1 },
          { ask_price: 102, bid_price: 99, ask_size: 1, bid_size: 1 },
        ],
      },
      'orderbook:KRW-BTC',
      'upbit',
    );
    expect(e.asks).toEqual([['102', '1']]);
    expect(e.bids).toEqual([
      ['100', '1'],
      ['99', '1'],
    ]);
  });

  // Pins the cap on units at exactly 100. Found by mutation: an off-by-one refused Upbit's
  // deepest book (100 units) as malformed, or let a larger one through unchecked.
  it('an Upbit book of 100 units (the cap) parses; 101 is refused', () => {
    const units = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        ask_price: 1000 + i,
        bid_price: 999 - i,
        ask_size: 1,
        bid_size: 1,
      }));
    const book = (n: number) => ({
      type: 'orderbook',
      code: 'KRW-BTC',
      timestamp: 1,
      orderbook_units: units(n),
    });
    expect(parseUpbitOrderbook(book(100), 'orderbook:KRW-BTC', 'upbit').asks).toHaveLength(100);
    expect(() => parseUpbitOrderbook(book(101), 'orderbook:KRW-BTC', 'upbit')).toThrow();
  });
});
