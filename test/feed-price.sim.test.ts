import {
  binanceSpot,
  binanceUsdm,
  StreamPool,
  type FeedPlugin,
  type PoolStatus,
  type Venue,
} from '@unifeed/core';
import {
  aggTrade,
  allBookTickers,
  allMarkPrices,
  allMiniTickers,
  bookTicker,
  markPrice,
  miniTicker,
  ticker,
  trade,
  type PriceEvent,
} from '@unifeed/feed-price';
import { startSimulator, type Simulator } from '@unifeed/simulator';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, waitFor } from './support/ws-server.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function sim(options: Parameters<typeof startSimulator>[0]): Promise<Simulator> {
  const s = await startSimulator({ seed: 11, symbols: 10, ...options });
  cleanup.push(() => s.close());
  return s;
}

function pool(venue: Venue, extra: Partial<ConstructorParameters<typeof StreamPool>[0]> = {}) {
  const p = new StreamPool({ venue, backoff: { initialMs: 20, maxMs: 100, jitter: 0 }, ...extra });
  cleanup.push(() => p.close());
  const statuses: PoolStatus[] = [];
  p.status$.subscribe((s) => statuses.push(s));
  return { p, statuses };
}

const DECIMAL = /^-?\d+(\.\d+)?$/;
const PRICE_FIELDS = [
  'bidPrice',
  'askPrice',
  'open',
  'close',
  'price',
  'qty',
  'markPrice',
  'indexPrice',
];

/**
 * What a subscriber may rely on: venue, a symbol, exact decimals, integer times.
 * Returns what is wrong, for the test to assert outside the subscriber callback.
 */
function problem(e: PriceEvent, venue: string): string | undefined {
  const rec = e as unknown as Record<string, unknown>;
  if (e.venue !== venue) return `venue ${e.venue}`;
  if (typeof e.symbol !== 'string' || e.symbol.length === 0) return 'symbol';
  if (typeof e.raw !== 'object' || e.raw === null) return 'raw';
  for (const f of PRICE_FIELDS) {
    const v = rec[f];
    if (v !== undefined && (typeof v !== 'string' || !DECIMAL.test(v))) return `${f} ${String(v)}`;
  }
  const t = rec.eventTime;
  if (t !== undefined && !Number.isSafeInteger(t)) return `eventTime ${String(t)}`;
  return undefined;
}

interface Tap {
  byStream: Map<string, number>;
  subs: { unsubscribe(): void }[];
  errors: unknown[];
  problems: string[];
}

/** Subscribe plugins; count events per stream and check each one. */
function tap(
  p: StreamPool,
  feeds: [FeedPlugin<never, PriceEvent | readonly PriceEvent[]>, unknown][],
): Tap {
  const t: Tap = { byStream: new Map(), subs: [], errors: [], problems: [] };
  for (const [plugin, params] of feeds) {
    const sub = p.observe(plugin, params as never).subscribe({
      next: (ev) => {
        for (const e of Array.isArray(ev) ? ev : [ev as PriceEvent]) {
          const bad = problem(e, p.venue.name);
          if (bad !== undefined) t.problems.push(`${e.stream}: ${bad}`);
          t.byStream.set(e.stream, (t.byStream.get(e.stream) ?? 0) + 1);
        }
      },
      error: (err: unknown) => t.errors.push(err),
    });
    t.subs.push(sub);
  }
  cleanup.push(() => t.subs.forEach((s) => s.unsubscribe()));
  return t;
}

const parseErrors = (statuses: PoolStatus[]) => statuses.filter((s) => s.type === 'parse-error');

describe('feed-price against the simulator', () => {
  it('spot: bookTicker, ticker, miniTicker, aggTrade, trade, !miniTicker@arr all parse', async () => {
    const s = await sim({ venue: 'binance-spot', speed: 4 });
    const { p, statuses } = pool(binanceSpot({ wsUrl: s.wsUrl, restUrl: s.restUrl }));
    const symbols = ['BTCUSDT', 'ethusdt'];
    const t = tap(p, [
      [bookTicker, { symbols }],
      [ticker, { symbols }],
      [miniTicker, { symbols }],
      [aggTrade, { symbols }],
      [trade, { symbols }],
      [allMiniTickers, {}],
    ]);
    const want = ['bookTicker', 'ticker', 'miniTicker', 'aggTrade', 'trade'].flatMap((k) =>
      ['btcusdt', 'ethusdt'].map((sym) => `${sym}@${k}`),
    );
    want.push('!miniTicker@arr');
    await waitFor(() => want.every((w) => (t.byStream.get(w) ?? 0) >= 2), 10_000, 20);
    expect(parseErrors(statuses)).toEqual([]);
    expect(t.errors).toEqual([]);
    expect(t.problems).toEqual([]);
  });

  it('futures: bookTicker, ticker, miniTicker, markPrice (3 s, 1 s), aggTrade, !markPrice@arr', async () => {
    const s = await sim({ venue: 'binance-usdm', speed: 4 });
    const { p, statuses } = pool(binanceUsdm({ wsUrl: s.wsUrl, restUrl: s.restUrl }));
    const symbols = ['BTCUSDT'];
    const t = tap(p, [
      [bookTicker, { symbols }],
      [ticker, { symbols }],
      [miniTicker, { symbols }],
      [markPrice, { symbols }],
      [markPrice, { symbols, speed: '1s' }],
      [aggTrade, { symbols }],
      [allMarkPrices, {}],
      [allMiniTickers, {}],
    ]);
    const want = [
      'btcusdt@bookTicker',
      'btcusdt@ticker',
      'btcusdt@miniTicker',
      'btcusdt@markPrice',
      'btcusdt@markPrice@1s',
      'btcusdt@aggTrade',
      '!markPrice@arr',
      '!miniTicker@arr',
    ];
    await waitFor(() => want.every((w) => (t.byStream.get(w) ?? 0) >= 1), 10_000, 20);
    expect(parseErrors(statuses)).toEqual([]);
    expect(t.errors).toEqual([]);
    expect(t.problems).toEqual([]);
  });

  it('futures !bookTicker: typed events of every symbol, each checked', async () => {
    const s = await sim({ venue: 'binance-usdm', speed: 4 });
    const { p, statuses } = pool(binanceUsdm({ wsUrl: s.wsUrl, restUrl: s.restUrl }));
    const bySymbol = new Map<string, number>();
    const problems: string[] = [];
    const sub = p.observe(allBookTickers, {}).subscribe((e) => {
      bySymbol.set(e.symbol, (bySymbol.get(e.symbol) ?? 0) + 1);
      const bad = e.stream === '!bookTicker' ? problem(e, 'binance-usdm') : `stream ${e.stream}`;
      if (bad !== undefined) problems.push(bad);
    });
    cleanup.push(() => sub.unsubscribe());
    // The simulator's 10 symbols, each updated several times.
    await waitFor(
      () => bySymbol.size === 10 && [...bySymbol.values()].every((n) => n >= 3),
      10_000,
    );
    expect(problems).toEqual([]);
    expect(parseErrors(statuses)).toEqual([]);
    expect(p.stats().perConnection.map((c) => c.group)).toEqual(['public']);
  });

  it('futures !bookTicker: symbols sharing an update id in a row are each delivered', async () => {
    const quote = (s: string, u: number) => ({
      e: 'bookTicker',
      u,
      E: 1568014460893,
      T: 1568014460891,
      s,
      b: '25.35190000',
      B: '31.21000000',
      a: '25.36520000',
      A: '40.66000000',
    });
    // Each symbol counts its own ids: equal ids of different symbols are different news.
    const sent = [
      quote('AAAUSDT', 7),
      quote('BBBUSDT', 7),
      quote('CCCUSDT', 7),
      quote('AAAUSDT', 8),
    ];
    const server = await startServer((socket) => {
      socket.on('message', (data) => {
        const req = JSON.parse(String(data)) as { id: number; method: string };
        socket.send(JSON.stringify({ result: null, id: req.id }));
        if (req.method !== 'SUBSCRIBE') return;
        for (const data of sent) socket.send(JSON.stringify({ stream: '!bookTicker', data }));
      });
    });
    cleanup.push(() => server.close());
    const { p } = pool(binanceUsdm({ wsUrl: server.url }));
    const got: string[] = [];
    const sub = p
      .observe(allBookTickers, {})
      .subscribe((e) => got.push(`${e.symbol}:${e.updateId}`));
    cleanup.push(() => sub.unsubscribe());
    await waitFor(() => got.length === sent.length, 5000);
    expect(got).toEqual(['AAAUSDT:7', 'BBBUSDT:7', 'CCCUSDT:7', 'AAAUSDT:8']);
    expect(p.stats().duplicatesSuppressed).toBe(0);
  });

  it('a stream the venue lacks throws UNIFEED_INVALID_STREAM at observe: nothing reaches the network', async () => {
    const s = await sim({ venue: 'binance-usdm' });
    const { p } = pool(binanceUsdm({ wsUrl: s.wsUrl, restUrl: s.restUrl }));
    expect(() => p.observe(trade, { symbols: ['btcusdt'] })).toThrow(
      expect.objectContaining({ code: 'UNIFEED_INVALID_STREAM' }),
    );
    const sp = await sim({ venue: 'binance-spot' });
    const { p: q } = pool(binanceSpot({ wsUrl: sp.wsUrl, restUrl: sp.restUrl }));
    expect(() => q.observe(markPrice, { symbols: ['btcusdt'] })).toThrow(
      expect.objectContaining({ code: 'UNIFEED_INVALID_STREAM' }),
    );
    expect(() => q.observe(allMarkPrices, {})).toThrow(
      expect.objectContaining({ code: 'UNIFEED_INVALID_STREAM' }),
    );
    expect(() => q.observe(allBookTickers, {})).toThrow(
      expect.objectContaining({ code: 'UNIFEED_INVALID_STREAM' }),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(s.stats().connections.accepted + sp.stats().connections.accepted).toBe(0);
    expect(p.stats().connections + q.stats().connections).toBe(0);
  });

  it('a malformed payload is counted, reported as UNIFEED_PARSE with its stream, and skipped', async () => {
    const s = await sim({ venue: 'binance-usdm', speed: 4 });
    const { p, statuses } = pool(binanceUsdm({ wsUrl: s.wsUrl, restUrl: s.restUrl }));
    const t = tap(p, [[markPrice, { symbols: ['btcusdt'], speed: '1s' }]]);
    await waitFor(() => (t.byStream.get('btcusdt@markPrice@1s') ?? 0) >= 1, 5000);
    expect(s.faults.malformed('wrong-types')).toBe(1);
    await waitFor(() => parseErrors(statuses).length === 1, 5000);
    const before = t.byStream.get('btcusdt@markPrice@1s')!;
    await waitFor(() => t.byStream.get('btcusdt@markPrice@1s')! > before, 5000);
    const [report] = parseErrors(statuses);
    expect(report).toMatchObject({
      type: 'parse-error',
      stream: 'btcusdt@markPrice@1s',
      plugin: 'markPrice',
      error: { code: 'UNIFEED_PARSE', stream: 'btcusdt@markPrice@1s' },
    });
    expect(p.stats().parseErrors).toBe(1);
    expect(t.errors).toEqual([]);
  });
});

describe('property: through the pool, only well-formed events reach a subscriber', () => {
  it('random and mutated bookTicker payloads: delivered + parse errors = sent, never an error', async () => {
    const base = {
      u: 400900217,
      s: 'BNBUSDT',
      b: '25.35190000',
      B: '31.21000000',
      a: '25.36520000',
      A: '40.66000000',
    };
    const junk = fc.oneof(fc.jsonValue(), fc.constantFrom('', '1e5', '1.', NaN, null, 1.5));
    const payload = fc.oneof(
      fc.constant(base),
      junk,
      fc
        .tuple(fc.constantFrom('u', 's', 'b', 'B', 'a', 'A', 'E', 'e'), fc.option(junk))
        .map(([k, v]) => {
          const copy: Record<string, unknown> = { ...base };
          if (v === null) delete copy[k];
          else copy[k] = v;
          return copy;
        }),
    );
    // Each payload that keeps a numeric `u` gets its own: two good ones in a row with one id
    // are one message sent twice, which the pool delivers once (tested on its own).
    const payloads = fc
      .sample(payload, { numRuns: 1000, seed: 42 })
      .map((p, i) =>
        typeof p === 'object' && p !== null && !Array.isArray(p) && typeof p.u === 'number'
          ? { ...p, u: base.u + i }
          : p,
      );
    const stream = 'bnbusdt@bookTicker';
    const sentinel = { ...base, u: base.u + payloads.length };
    const server = await startServer((socket) => {
      socket.on('message', (data) => {
        const req = JSON.parse(String(data)) as { id: number; method: string };
        socket.send(JSON.stringify({ result: null, id: req.id }));
        if (req.method !== 'SUBSCRIBE') return;
        for (const data of payloads) socket.send(JSON.stringify({ stream, data }));
        socket.send(JSON.stringify({ stream, data: sentinel })); // still flowing
      });
    });
    cleanup.push(() => server.close());
    const { p, statuses } = pool(binanceSpot({ wsUrl: server.url }));
    const got: PriceEvent[] = [];
    const errors: unknown[] = [];
    const sub = p.observe(bookTicker, { symbols: ['BNBUSDT'] }).subscribe({
      next: (e) => got.push(e),
      error: (e: unknown) => errors.push(e),
    });
    cleanup.push(() => sub.unsubscribe());
    await waitFor(() => got.length + parseErrors(statuses).length === payloads.length + 1, 10_000);
    expect(errors).toEqual([]);
    expect(p.stats().duplicatesSuppressed).toBe(0);
    expect(got.at(-1)?.raw).toEqual(sentinel);
    expect(got.map((e) => problem(e, 'binance-spot')).filter(Boolean)).toEqual([]);
    expect(got.length).toBeGreaterThan(100);
    expect(parseErrors(statuses).length).toBeGreaterThan(100);
    for (const s of parseErrors(statuses)) {
      expect(s).toMatchObject({ stream, error: { code: 'UNIFEED_PARSE', stream } });
      if (s.type === 'parse-error') expect(s.error.message.length).toBeLessThan(200);
    }
    expect(p.stats().parseErrors).toBe(parseErrors(statuses).length);
  });
});
