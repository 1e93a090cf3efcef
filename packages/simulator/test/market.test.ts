import { describe, expect, it } from 'vitest';
import { Book, rollback } from '../src/market/book.js';
import { candleBounds } from '../src/market/candles.js';
import { formatUnits } from '../src/market/decimal.js';
import { Prng } from '../src/market/prng.js';
import { SymbolMarket } from '../src/market/symbol-market.js';
import { defaultSymbols, symbolsFromList } from '../src/market/symbols.js';
import { isObj, simulatorFixture, START } from './helpers.js';

describe('decimals', () => {
  it('formats integer units exactly', () => {
    expect(formatUnits(2535190000, 8)).toBe('25.35190000');
    expect(formatUnits(5, 3)).toBe('0.005');
    expect(formatUnits(-15, 2)).toBe('-0.15');
    expect(formatUnits(0, 2)).toBe('0.00');
    expect(formatUnits(42, 0)).toBe('42');
  });
});

describe('candle bounds', () => {
  it('aligns fixed intervals to the epoch, weeks to Monday and months to the calendar', () => {
    const t = Date.UTC(2026, 1, 18, 13, 47, 12, 345); // a Wednesday
    expect(candleBounds('1m', t)).toEqual({
      t: Date.UTC(2026, 1, 18, 13, 47),
      T: Date.UTC(2026, 1, 18, 13, 48) - 1,
    });
    expect(candleBounds('4h', t).t).toBe(Date.UTC(2026, 1, 18, 12));
    expect(candleBounds('1w', t)).toEqual({
      t: Date.UTC(2026, 1, 16),
      T: Date.UTC(2026, 1, 23) - 1,
    });
    expect(candleBounds('1M', t)).toEqual({ t: Date.UTC(2026, 1, 1), T: Date.UTC(2026, 2, 1) - 1 });
    expect(candleBounds('1s', t)).toEqual({ t: t - 345, T: t - 345 + 999 });
  });
});

describe('symbols', () => {
  it('lists the majors first, then generated names, 531 by default', () => {
    const all = defaultSymbols();
    expect(all.length).toBe(531);
    expect(all.slice(0, 2).map((s) => s.symbol)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(all[10]?.symbol).toBe('SYM001USDT');
    expect(new Set(all.map((s) => s.symbol)).size).toBe(531);
    expect(symbolsFromList(['bnbbtc'])[0]).toMatchObject({
      symbol: 'BNBBTC',
      baseAsset: 'BNB',
      quoteAsset: 'BTC',
    });
  });
});

describe('book', () => {
  it('keeps best levels right and rolls back to any batch boundary', () => {
    const rng = new Prng(3);
    const book = new Book(1000, 10, 100, () => rng.int(1, 9));
    expect(book.bestBid).toBe(1000);
    expect(book.bestAsk).toBe(1001);
    const start = book.copy();
    const batches = [];
    book.beginBatch();
    book.set('bid', 1000, 0);
    book.set('ask', 1000, 5);
    const first = book.endBatch();
    expect(first).toMatchObject({ U: 101, u: 102 });
    expect(book.bestBid).toBe(999);
    expect(book.bestAsk).toBe(1000);
    batches.push(first);
    book.beginBatch();
    book.set('ask', 1000, 0);
    const second = book.endBatch();
    batches.push(second);
    expect(book.bestAsk).toBe(1001);
    const atFirst = book.copy();
    expect(
      rollback(
        atFirst,
        book.lastUpdateId,
        batches.filter((b) => b !== undefined),
        102,
      ),
    ).toBe(true);
    expect(atFirst.asks.get(1000)).toBe(5);
    const atStart = book.copy();
    expect(
      rollback(
        atStart,
        book.lastUpdateId,
        batches.filter((b) => b !== undefined),
        100,
      ),
    ).toBe(true);
    expect(atStart).toEqual(start);
    // 101 is inside the first batch: no diff event ever ended there.
    expect(
      rollback(
        book.copy(),
        book.lastUpdateId,
        batches.filter((b) => b !== undefined),
        101,
      ),
    ).toBe(false);
  });

  // Found in review: each step started a trade's place within its ms at 0 again, so two steps
  // in one ms (a catch-up, a fast clock) gave two trades one Upbit sequential_id.
  it('gives every trade its own place within its ms, across steps in the same ms', () => {
    const spec = defaultSymbols(1)[0];
    if (spec === undefined) throw new Error('no symbol');
    const m = new SymbolMarket(spec, { seed: 3, levels: 100, historySize: 16, now: START });
    const seen = new Set<string>();
    let trades = 0;
    for (let i = 0; i < 2000; i++) {
      m.step(START + Math.floor(i / 4)); // four steps in every ms
      for (const t of m.trades) {
        const key = `${t.time}:${t.inMs}`;
        expect(seen.has(key), key).toBe(false);
        seen.add(key);
        trades++;
      }
    }
    expect(trades).toBeGreaterThan(500);
  });

  it('a symbol market never crosses its book and keeps 1000+ levels over many steps', () => {
    const spec = defaultSymbols(1)[0];
    if (spec === undefined) throw new Error('no symbol');
    const m = new SymbolMarket(spec, { seed: 1, levels: 1000, historySize: 16, now: START });
    for (let i = 0; i < 20_000; i++) {
      m.step(START + i * 50);
      if (m.book.bestBid >= m.book.bestAsk) throw new Error(`crossed at step ${i}`);
    }
    expect(m.book.bids.size).toBeGreaterThanOrEqual(1000);
    expect(m.book.asks.size).toBeGreaterThanOrEqual(1000);
    expect(m.book.bids.size).toBeLessThanOrEqual(1200);
    expect(m.day.count).toBeGreaterThan(10_000);
  });
});

describe('speed', () => {
  const { start, open } = simulatorFixture();

  it('multiplies every cadence', async () => {
    const { clock } = await start({ speed: 2 });
    const c = await open('/market/ws/btcusdt@kline_1m');
    await clock.advance(125);
    const k = await c.next((m) => isObj(m) && m['e'] === 'kline');
    expect(k).toMatchObject({ E: START + 125 });
  });
});

describe('spread pushes', () => {
  const { start, open, drain } = simulatorFixture();
  const intervals = ['1m', '3m', '5m', '15m', '30m', '1h'];

  /** `E` of every kline update (not a close) per stream over `ms` of 250 ms cadence. */
  async function pushTimes(spreadPushes: boolean, ms: number): Promise<Map<string, number[]>> {
    const { clock } = await start({ spreadPushes });
    const streams: string[] = [];
    for (const symbol of ['btcusdt', 'ethusdt', 'bnbusdt', 'solusdt', 'xrpusdt']) {
      for (const i of intervals) streams.push(`${symbol}@kline_${i}`);
    }
    const c = await open(`/market/stream?streams=${streams.join('/')}`);
    await clock.advance(ms);
    await drain(c);
    const times = new Map<string, number[]>();
    for (const f of c.frames) {
      const m = JSON.parse(f) as { stream: string; data: { E: number; k: { x: boolean } } };
      if (m.data.k.x) continue;
      times.set(m.stream, [...(times.get(m.stream) ?? []), m.data.E]);
    }
    expect(times.size).toBe(streams.length);
    return times;
  }

  it('pushes every stream once per cadence, each at its own fixed offset, instead of all in one step', async () => {
    const spread = await pushTimes(true, 1000);
    const firstSlots = new Set<number>();
    for (const times of spread.values()) {
      // Four periods of 250 ms: one push in each, always the same distance apart.
      expect(times.length).toBe(4);
      expect(times.slice(1).map((t, i) => t - (times[i] ?? 0))).toEqual([250, 250, 250]);
      firstSlots.add(times[0] ?? 0);
    }
    // 30 streams over 250 one-ms slots: bunched into a handful of slots would be a burst.
    expect(firstSlots.size).toBeGreaterThanOrEqual(20);

    const aligned = await pushTimes(false, 1000);
    const alignedSlots = new Set([...aligned.values()].map((t) => t[0]));
    expect(alignedSlots.size).toBe(1);
  });
});
