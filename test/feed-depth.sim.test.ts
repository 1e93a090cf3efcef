import {
  binanceSpot,
  binanceUsdm,
  RestClient,
  StreamPool,
  venueRestClient,
  type PoolStatus,
  type Venue,
} from '@unifeed/core';
import { ManualClock } from '@unifeed/core/testing';
import {
  bookDeltas,
  bookStats,
  orderBook,
  partialDepths,
  type BookView,
  type Level,
  type PartialDepthEvent,
} from '@unifeed/feed-depth';
import { startSimulator, type Simulator } from '@unifeed/simulator';
import { afterEach, describe, expect, it } from 'vitest';
import { simulatorSymbols } from './support/simulator.js';
import { waitFor } from './support/ws-server.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

type VenueName = 'binance-spot' | 'binance-usdm';

async function sim(venue: VenueName, extra: Parameters<typeof startSimulator>[0] = {}) {
  // 40 levels a side: a 1,000-level snapshot holds the whole book, so a live local book can be
  // compared with the truth level for level, not only at the top.
  const s = await startSimulator({ venue, seed: 11, symbols: 8, bookLevels: 40, ...extra });
  cleanup.push(() => s.close());
  return s;
}

function venueOf(s: Simulator, name: VenueName): Venue {
  const urls = { wsUrl: s.wsUrl, restUrl: s.restUrl };
  return name === 'binance-spot' ? binanceSpot(urls) : binanceUsdm(urls);
}

function pool(venue: Venue) {
  const p = new StreamPool({ venue, backoff: { initialMs: 20, maxMs: 50, jitter: 0 } });
  cleanup.push(() => p.close());
  const statuses: PoolStatus[] = [];
  p.status$.subscribe((st) => statuses.push(st));
  return { p, statuses };
}

const sides = (v: BookView) => ({
  bids: v.book!.bids.top(v.book!.bids.size),
  asks: v.book!.asks.top(v.book!.asks.size),
});

/**
 * Watch books and compare every live view with the simulator's truth at the same update id,
 * in the handler, before the market moves on.
 */
function audited(s: Simulator, p: StreamPool, symbols: string[], extra = {}) {
  const audit = { checks: 0, mismatches: [] as string[], last: new Map<string, BookView>() };
  for (const symbol of symbols) {
    const sub = orderBook(p, { symbol, depth: 5, ...extra }).subscribe((v) => {
      audit.last.set(symbol, v);
      if (v.state !== 'live') return;
      const truth = s.truth.bookAt(symbol, v.lastUpdateId);
      if (truth === undefined) return; // older than the kept history
      audit.checks++;
      const mine = sides(v);
      if (JSON.stringify(mine) !== JSON.stringify({ bids: truth.bids, asks: truth.asks })) {
        audit.mismatches.push(`${symbol}@${v.lastUpdateId}`);
      }
      expect(v.bids).toEqual(truth.bids.slice(0, 5));
    });
    cleanup.push(() => sub.unsubscribe());
  }
  const live = (symbol: string) => audit.last.get(symbol)?.state === 'live';
  const allLive = () => symbols.every(live);
  const stats = (symbol: string) => bookStats(p).find((b) => b.symbol === symbol)!;
  return { audit, live, allLive, stats };
}

const DEPTH_PATH: Record<VenueName, string> = {
  'binance-spot': '/api/v3/depth',
  'binance-usdm': '/fapi/v1/depth',
};

describe.each(['binance-spot', 'binance-usdm'] as const)('order books on %s', (name) => {
  it('a gap on one symbol resyncs that book only, without a reconnect; every live view equals the truth', async () => {
    const s = await sim(name);
    const symbols = await simulatorSymbols(s, 3);
    const { p } = pool(venueOf(s, name));
    const { audit, allLive, live, stats } = audited(s, p, symbols);
    await waitFor(allLive, 10_000);
    const accepted = s.stats().connections.accepted;
    s.faults.depthGap(symbols[0]!, 2);
    await waitFor(() => stats(symbols[0]!).gaps >= 1 && live(symbols[0]!), 10_000);
    const checks = audit.checks;
    await waitFor(() => audit.checks > checks + 30, 10_000);
    expect(stats(symbols[0]!).resyncs).toBeGreaterThanOrEqual(1);
    expect(stats(symbols[1]!).resyncs).toBe(0);
    expect(stats(symbols[2]!).resyncs).toBe(0);
    expect(s.stats().connections.accepted).toBe(accepted);
    expect(audit.mismatches).toEqual([]);
  });

  it('duplicated and reordered diffs: duplicates skipped, reorders resynced, never a wrong live book', async () => {
    const s = await sim(name);
    // One symbol, so that consecutive messages on the connection are of the same stream.
    const symbols = await simulatorSymbols(s, 1);
    const { p } = pool(venueOf(s, name));
    const { audit, allLive, stats } = audited(s, p, symbols);
    await waitFor(allLive, 10_000);
    s.faults.duplicate(10);
    // The pool delivers a message sent twice in a row once; the book never sees the repeat.
    await waitFor(() => p.stats().duplicatesSuppressed >= 10, 10_000);
    expect(stats(symbols[0]!).resyncs).toBe(0);
    s.faults.reorder(3);
    await waitFor(() => stats(symbols[0]!).gaps > 0, 10_000);
    await waitFor(allLive, 10_000);
    const checks = audit.checks;
    await waitFor(() => audit.checks > checks + 30, 10_000);
    expect(audit.mismatches).toEqual([]);
  });

  it('dropped connections: the pool announces the hole, every book resyncs and matches again', async () => {
    const s = await sim(name);
    const symbols = await simulatorSymbols(s, 3);
    const { p } = pool(venueOf(s, name));
    const { audit, allLive, stats } = audited(s, p, symbols);
    await waitFor(allLive, 10_000);
    s.faults.drop({ code: 1006 });
    await waitFor(() => symbols.every((x) => stats(x).streamGaps >= 1), 10_000);
    await waitFor(allLive, 10_000);
    const checks = audit.checks;
    await waitFor(() => audit.checks > checks + 30, 10_000);
    expect(audit.mismatches).toEqual([]);
  });

  it('a subscriber joining a book while it resyncs hears why at once', async () => {
    const s = await sim(name);
    const [symbol] = await simulatorSymbols(s, 1);
    const { p } = pool(venueOf(s, name));
    const { allLive, stats } = audited(s, p, [symbol!]);
    await waitFor(allLive, 10_000);
    s.faults.rest({ path: DEPTH_PATH[name], delayMs: 2000, count: 1 }); // a slow resync
    s.faults.depthGap(symbol!, 1);
    await waitFor(() => stats(symbol!).state === 'resyncing', 10_000);
    let first: BookView | undefined;
    orderBook(p, { symbol: symbol!, depth: 5 })
      .subscribe((v) => (first ??= v))
      .unsubscribe();
    expect(first).toMatchObject({ state: 'resyncing', reason: 'gap' });
  });

  it('slow snapshots and a snapshot older than the first buffered event still end in the truth', async () => {
    const s = await sim(name);
    const symbols = await simulatorSymbols(s, 2);
    const { p } = pool(venueOf(s, name));
    s.faults.rest({ path: DEPTH_PATH[name], delayMs: 1500, count: 2 });
    const { audit, allLive, stats, live } = audited(s, p, symbols);
    await waitFor(allLive, 10_000);
    expect(stats(symbols[0]!).snapshotLatency.maxMs).toBeGreaterThanOrEqual(1400);
    s.faults.rest({ path: DEPTH_PATH[name], staleSteps: 60, count: 1 });
    s.faults.depthGap(symbols[0]!, 1);
    await waitFor(() => stats(symbols[0]!).staleSnapshots >= 1, 10_000);
    await waitFor(() => live(symbols[0]!), 10_000);
    const checks = audit.checks;
    await waitFor(() => audit.checks > checks + 20, 10_000);
    expect(audit.mismatches).toEqual([]);
  });

  it('429 and 418 hold every snapshot for as long as the venue asks, and never earn another', async () => {
    const s = await sim(name);
    const symbols = await simulatorSymbols(s, 2);
    const { p } = pool(venueOf(s, name));
    // The REST client on its own manual clock: the 60 s and 300 s holds pass in a moment.
    const clock = new ManualClock(Date.now());
    const rest = new RestClient({ baseUrl: s.restUrl, clock, maxWeightPerMinute: 1000 });
    s.faults.rest({ path: DEPTH_PATH[name], status: 429, count: 1 });
    const { audit, allLive, stats } = audited(s, p, symbols, { rest, random: () => 0 });
    await waitFor(() => rest.stats().status429 === 1, 10_000);
    // The refused book's retry waits behind the hold instead of reaching the venue.
    await waitFor(() => rest.stats().pending === 1, 10_000);
    const sent = s.stats().rest.requests;
    await clock.advance(59_000);
    expect(s.stats().rest.requests).toBe(sent);
    await clock.advance(1_000);
    await waitFor(allLive, 10_000);

    s.faults.rest({ path: DEPTH_PATH[name], status: 418, count: 1 });
    s.faults.depthGap(symbols[0]!, 1);
    await waitFor(() => rest.stats().status418 === 1, 10_000);
    s.faults.depthGap(symbols[1]!, 1);
    await waitFor(() => rest.stats().pending >= 1, 10_000);
    const before = s.stats().rest.requests;
    await clock.advance(299_000);
    expect(s.stats().rest.requests).toBe(before);
    await clock.advance(1_000);
    await waitFor(allLive, 10_000);
    expect(s.stats().rest.status429).toBe(1);
    expect(s.stats().rest.status418).toBe(1);
    expect(stats(symbols[0]!).snapshotFailures).toBeGreaterThanOrEqual(1);
    expect(audit.mismatches).toEqual([]);
  });

  it('bookDeltas keeps a user-side copy equal to the truth', async () => {
    const s = await sim(name);
    const [symbol] = await simulatorSymbols(s, 1);
    const { p } = pool(venueOf(s, name));
    const bids = new Map<number, Level>();
    const asks = new Map<number, Level>();
    let live = false;
    let checks = 0;
    const mismatches: number[] = [];
    const sorted = (m: Map<number, Level>, dir: number) =>
      [...m.entries()].sort((a, b) => dir * (a[0] - b[0])).map(([, l]) => [...l]);
    const sub = bookDeltas(p, { symbol: symbol! }).subscribe((d) => {
      if (d.type === 'resyncing') {
        live = false;
        return;
      }
      if (d.type === 'snapshot') {
        bids.clear();
        asks.clear();
        live = true;
      }
      for (const [m, list] of [
        [bids, d.bids],
        [asks, d.asks],
      ] as const) {
        for (const [px, q] of list) {
          if (Number(q) === 0) m.delete(Number(px));
          else m.set(Number(px), [px, q]);
        }
      }
      const truth = s.truth.bookAt(symbol!, d.lastUpdateId);
      if (!live || truth === undefined) return;
      checks++;
      if (
        JSON.stringify([sorted(bids, -1), sorted(asks, 1)]) !==
        JSON.stringify([truth.bids, truth.asks])
      ) {
        mismatches.push(d.lastUpdateId);
      }
    });
    cleanup.push(() => sub.unsubscribe());
    await waitFor(() => checks > 20, 10_000);
    s.faults.depthGap(symbol!, 1);
    await waitFor(() => checks > 60, 15_000);
    expect(mismatches).toEqual([]);
  });

  it('an unknown symbol ends its book with the venue error; the other books go on', async () => {
    const s = await sim(name);
    const [symbol] = await simulatorSymbols(s, 1);
    const { p, statuses } = pool(venueOf(s, name));
    const { audit, allLive } = audited(s, p, [symbol!]);
    let error: unknown;
    let completed = false;
    // Binance streams nothing for an unknown symbol: the snapshot asked after a quiet spell fails.
    orderBook(p, { symbol: 'NOPEUSDT', quietSnapshotMs: 300 }).subscribe({
      error: (e: unknown) => (error = e),
      complete: () => (completed = true),
    });
    await waitFor(() => error !== undefined, 10_000);
    expect(error).toMatchObject({ code: 'UNIFEED_HTTP', status: 400, venueCode: -1121 });
    expect(completed).toBe(false);
    expect(bookStats(p).map((b) => b.symbol)).toEqual([symbol]);
    await waitFor(() => p.stats().streams === 1, 5_000);
    await waitFor(allLive, 10_000);
    const checks = audit.checks;
    await waitFor(() => audit.checks > checks + 10, 10_000);
    expect(audit.mismatches).toEqual([]);
    expect(statuses.filter((x) => x.type === 'stream-error')).toEqual([]);
  });

  it('books of one symbol kept apart are named apart; the defaults spelled out join the default book', async () => {
    const s = await sim(name);
    const [symbol] = await simulatorSymbols(s, 1);
    const { p } = pool(venueOf(s, name));
    const rest = new RestClient({ baseUrl: s.restUrl });
    const slow = name === 'binance-spot' ? ('1000ms' as const) : ('250ms' as const);
    const states = new Map<string, string>();
    const books = [
      {},
      {
        snapshotLimit: 1000,
        maxBuffer: 2000,
        quietSnapshotMs: 5000,
        speed: '100ms' as const,
        rest: venueRestClient(p.venue), // the process-wide client a book uses by default
      },
      { snapshotLimit: 100 },
      { speed: slow },
      { rest },
    ].map((extra, i) =>
      orderBook(p, { symbol: symbol!, ...extra }).subscribe((v) => states.set(`${i}`, v.state)),
    );
    cleanup.push(() => books.forEach((b) => b.unsubscribe()));
    await waitFor(
      () => states.size === 5 && [...states.values()].every((v) => v === 'live'),
      10_000,
    );
    const stream = `${symbol!.toLowerCase()}@depth`;
    const kept = bookStats(p);
    expect(kept.map((b) => b.symbol)).toEqual([symbol, symbol, symbol, symbol]);
    expect(kept.map((b) => b.book)).toEqual([
      `${stream}@100ms`,
      `${stream}@100ms snapshotLimit=100`,
      stream,
      expect.stringMatching(new RegExp(`^${stream}@100ms rest=\\d+$`)),
    ]);
    expect(kept.every((b) => b.state === 'live')).toBe(true);
  });

  it('partial depth: 5, 10 or 20 levels at each speed, symbol from the stream name', async () => {
    const s = await sim(name);
    const symbols = await simulatorSymbols(s, 2);
    const { p } = pool(venueOf(s, name));
    const speeds =
      name === 'binance-spot'
        ? (['1000ms', '100ms'] as const)
        : (['250ms', '500ms', '100ms'] as const);
    const seen = new Map<string, PartialDepthEvent>();
    let wrong = 0;
    for (const levels of [5, 10, 20] as const) {
      for (const speed of speeds) {
        const sub = partialDepths(p, { symbols, levels, speed }).subscribe((e) => {
          seen.set(e.stream, e);
          if (e.bids.length !== levels || e.asks.length !== levels) wrong++;
          if (!symbols.includes(e.symbol) || e.venue !== name) wrong++;
          const truth = s.truth.bookAt(e.symbol, e.lastUpdateId);
          if (truth && JSON.stringify(truth.bids.slice(0, levels)) !== JSON.stringify(e.bids)) {
            wrong++;
          }
        });
        cleanup.push(() => sub.unsubscribe());
      }
    }
    await waitFor(() => seen.size === 2 * 3 * speeds.length, 10_000);
    expect(wrong).toBe(0);
    const names = [...seen.keys()];
    expect(names).toContain(`${symbols[0]!.toLowerCase()}@depth5`);
    expect(names).toContain(`${symbols[1]!.toLowerCase()}@depth20@100ms`);
  });

  it('refuses at the call what the venue does not have', async () => {
    const s = await sim(name);
    const { p } = pool(venueOf(s, name));
    const badSpeed = name === 'binance-spot' ? '250ms' : '1000ms';
    expect(() => orderBook(p, { symbol: 'BTCUSDT', speed: badSpeed })).toThrow(
      expect.objectContaining({ code: 'UNIFEED_INVALID_STREAM' }),
    );
    expect(() =>
      orderBook(p, { symbol: 'BTCUSDT', snapshotLimit: name === 'binance-spot' ? 6000 : 200 }),
    ).toThrow(expect.objectContaining({ code: 'UNIFEED_INVALID_OPTION' }));
    // A view deeper than the snapshot would show the venue's levels past it as absent.
    expect(() => orderBook(p, { symbol: 'BTCUSDT', snapshotLimit: 5 })).toThrow(
      expect.objectContaining({
        code: 'UNIFEED_INVALID_OPTION',
        message: expect.stringMatching(/depth 10 is deeper than snapshotLimit 5/),
      }),
    );
    expect(() => orderBook(p, { symbol: 'BTCUSDT', snapshotLimit: 5, depth: 5 })).not.toThrow();
    expect(() => partialDepths(p, { symbols: ['BTCUSDT'], levels: 15 as 5 })).toThrow(
      expect.objectContaining({ code: 'UNIFEED_INVALID_STREAM' }),
    );
    expect(() => orderBook(p, { symbol: 'BTC@USDT' })).toThrow(
      expect.objectContaining({ code: 'UNIFEED_INVALID_STREAM' }),
    );
  });
});

describe('a reconnect storm of 100 books', () => {
  it('drops every connection: every book resyncs within the weight budget, no 429, all equal the truth', async () => {
    const s = await sim('binance-usdm', { symbols: 100 });
    const symbols = await simulatorSymbols(s, 100);
    const { p } = pool(venueOf(s, 'binance-usdm'));
    const { audit, allLive, stats } = audited(s, p, symbols, { snapshotLimit: 100 });
    await waitFor(allLive, 20_000);
    s.faults.drop({ code: 1011 });
    await waitFor(() => symbols.every((x) => stats(x).streamGaps >= 1), 10_000);
    await waitFor(allLive, 20_000);
    expect(s.stats().rest.status429).toBe(0);
    expect(s.stats().rest.status418).toBe(0);
    expect(audit.mismatches).toEqual([]);
    expect(audit.checks).toBeGreaterThan(200);
  }, 60_000);
});

describe('a 500-book resync storm against the simulator, on a manual clock', () => {
  it('every book goes live and resyncs after a mass reconnect within the weight budget: no 429, all equal the truth', async () => {
    // The simulator and the REST client share a manual clock, so the budget's minutes pass
    // in a moment; one market step a minute keeps the diff traffic small. The pool keeps real
    // time for its sockets.
    const clock = new ManualClock(Math.floor(Date.now() / 60_000) * 60_000 + 30_000);
    const s = await sim('binance-usdm', {
      symbols: 500,
      clock,
      tickMs: 60_000,
      limits: { pingIntervalMs: 0 },
    });
    const symbols = await simulatorSymbols(s, 500);
    const { p } = pool(venueOf(s, 'binance-usdm'));
    // Answers come in real time while the manual clock jumps: no timeout on manual time.
    const rest = new RestClient({
      baseUrl: s.restUrl,
      clock,
      maxWeightPerMinute: 1920,
      timeoutMs: 3_600_000,
    });
    const { audit, allLive, stats } = audited(s, p, symbols, { rest, quietSnapshotMs: 50 });
    /** Minutes of manual time until every book is live (at most `minutes`). */
    const liveWithin = async (minutes: number) => {
      let m = 0;
      for (; m < minutes && !allLive(); m++) {
        // Let the calls the budget allows in this minute finish, then move to the next.
        await waitFor(() => rest.stats().inFlight === 0, 20_000);
        await clock.advance(60_000);
        await waitFor(() => rest.stats().inFlight === 0, 20_000);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(allLive()).toBe(true);
      return m;
    };
    await waitFor(() => rest.stats().requests >= 96, 20_000);
    // 500 x 20 weight at 1,920 a minute: the budget spreads the storm over six minutes.
    expect(await liveWithin(8)).toBeGreaterThanOrEqual(5);
    expect(rest.stats().budgetWaits).toBeGreaterThanOrEqual(5);
    expect(rest.stats().failures).toBe(0);
    expect(s.stats().rest.status429).toBe(0);

    s.faults.drop({ code: 1011 });
    await waitFor(() => symbols.every((x) => stats(x).streamGaps >= 1), 20_000);
    await waitFor(() => p.stats().perConnection.every((c) => c.state === 'open'), 20_000);
    expect(await liveWithin(8)).toBeGreaterThanOrEqual(5);
    expect(rest.stats().failures).toBe(0);
    expect(s.stats().rest.status429).toBe(0);
    expect(s.stats().rest.status418).toBe(0);
    expect(audit.mismatches).toEqual([]);
    expect(audit.checks).toBeGreaterThanOrEqual(1000);
  }, 120_000);
});

describe('a hole announced by the pool, seen through the views', () => {
  it('a diff the pool could not parse resyncs that book; its resyncing view keeps the last good book; books share one REST client', async () => {
    const s = await sim('binance-usdm');
    const symbols = await simulatorSymbols(s, 2);
    const exchangeInfo = s.stats().rest.requests;
    const venue = venueOf(s, 'binance-usdm');
    const { p } = pool(venue);
    const { audit, allLive, live, stats } = audited(s, p, symbols);
    const views = new Map<string, BookView[]>(symbols.map((x) => [x, []]));
    for (const symbol of symbols) {
      const sub = orderBook(p, { symbol, depth: 5 }).subscribe((v) => views.get(symbol)!.push(v));
      cleanup.push(() => sub.unsubscribe());
    }
    await waitFor(allLive, 10_000);
    // Neither book was given a REST client: both took the process-wide one for the venue.
    const shared = venueRestClient(venue);
    expect(shared.stats().requests).toBeGreaterThanOrEqual(2);
    expect(shared.stats().requests).toBe(s.stats().rest.requests - exchangeInfo);

    // A depth frame with the wrong types on the /public connection: the plugin cannot parse
    // it, the pool reports it, and the book it belongs to can no longer be trusted.
    expect(s.faults.malformed('wrong-types', { path: '/public/stream' })).toBe(1);
    await waitFor(() => symbols.some((x) => stats(x).streamGaps >= 1), 10_000);
    const [hit, other] = stats(symbols[0]!).streamGaps >= 1 ? symbols : [...symbols].reverse();
    expect(p.stats().parseErrors).toBe(1);
    await waitFor(() => live(hit!), 10_000);
    const seen = views.get(hit!)!;
    const i = seen.findIndex((v) => v.state === 'resyncing');
    expect(i).toBeGreaterThan(0);
    const lastGood = seen[i - 1]!;
    expect(lastGood.state).toBe('live');
    expect(seen[i]).toMatchObject({
      state: 'resyncing',
      reason: 'stream-gap',
      lastUpdateId: lastGood.lastUpdateId,
      bids: lastGood.bids,
      asks: lastGood.asks,
    });
    expect(stats(hit!).resyncs).toBe(1);
    expect(stats(other!).resyncs).toBe(0);
    expect(shared.stats().requests).toBe(s.stats().rest.requests - exchangeInfo);
    const checks = audit.checks;
    await waitFor(() => audit.checks > checks + 20, 10_000);
    expect(audit.mismatches).toEqual([]);
  });
});
