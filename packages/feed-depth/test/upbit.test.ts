import { binanceSpot, ErrorCode, StreamPool, upbit } from '@unifeed/core';
import { ManualClock } from '@unifeed/core/testing';
import { describe, expect, it } from 'vitest';
import {
  bookStats,
  depthDiff,
  orderBook,
  parseUpbitOrderbook,
  partialDepth,
  upbitOrderbook,
} from '../src/index.js';

const venue = upbit();

const BOOK = {
  type: 'orderbook',
  code: 'KRW-BTC',
  timestamp: 1767583212345,
  total_ask_size: 1.5,
  total_bid_size: 2.25,
  orderbook_units: [
    { ask_price: 140001000, bid_price: 140000000, ask_size: 0.5, bid_size: 1.25 },
    { ask_price: 140002000, bid_price: 139999000, ask_size: 1e-7, bid_size: 0 },
    { ask_price: 140003000, bid_price: 139998000, ask_size: 1, bid_size: 1 },
  ],
  stream_type: 'REALTIME',
  level: 0,
};

describe('Upbit order book snapshots', () => {
  it('names orderbook:<code> on Upbit only; Binance-only depth kinds refuse Upbit at the call', () => {
    expect(upbitOrderbook.streams({ codes: ['krw-btc', 'KRW-ETH'] }, venue)).toEqual([
      'orderbook:KRW-BTC',
      'orderbook:KRW-ETH',
    ]);
    expect(() => upbitOrderbook.streams({ codes: ['KRW-BTC'] }, binanceSpot())).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidStream }),
    );
    expect(() => upbitOrderbook.streams({ codes: ['BTCUSDT'] }, venue)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidStream }),
    );
    expect(() => partialDepth.streams({ symbols: ['KRW-BTC'], levels: 5 }, venue)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidStream }),
    );
    expect(() => depthDiff.streams({ symbols: ['KRW-BTC'] }, venue)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidStream }),
    );
  });

  it('parses a snapshot into best-first sides of exact strings, empty sides of a unit left out', () => {
    expect(upbitOrderbook.parse(BOOK, 'orderbook:KRW-BTC', venue)).toEqual({
      type: 'partialDepth',
      venue: 'upbit',
      stream: 'orderbook:KRW-BTC',
      symbol: 'KRW-BTC',
      lastUpdateId: 1767583212345,
      eventTime: 1767583212345,
      bids: [
        ['140000000', '1.25'],
        ['139998000', '1'],
      ],
      asks: [
        ['140001000', '0.5'],
        ['140002000', '0.0000001'],
        ['140003000', '1'],
      ],
    });
    const reversed = { ...BOOK, orderbook_units: [...BOOK.orderbook_units].reverse() };
    expect(parseUpbitOrderbook(reversed, 's', 'upbit').bids[0]).toEqual(['140000000', '1.25']);
  });

  it('a book on a closed pool errors every subscriber and leaves no book behind', async () => {
    const p = new StreamPool({ venue: upbit(), clock: new ManualClock(0) });
    await p.close();
    const ends: string[] = [];
    for (let i = 0; i < 2; i++) {
      orderBook(p, { symbol: 'KRW-BTC' }).subscribe({
        error: (e: { code?: string }) => ends.push(`error ${e.code}`),
        complete: () => ends.push('complete'),
      });
    }
    expect(ends).toEqual([`error ${ErrorCode.PoolClosed}`, `error ${ErrorCode.PoolClosed}`]);
    expect(bookStats(p)).toEqual([]);
  });

  it('throws UNIFEED_PARSE naming what is malformed', () => {
    const unit = BOOK.orderbook_units[0]!;
    const cases: [unknown, string][] = [
      [{ ...BOOK, type: 'ticker' }, 'type'],
      [{ ...BOOK, orderbook_units: {} }, 'orderbook_units'],
      [{ ...BOOK, orderbook_units: [7] }, 'unit 0'],
      [{ ...BOOK, orderbook_units: [{ ...unit, ask_price: '1e3' }] }, 'ask_price'],
      [{ ...BOOK, orderbook_units: [{ ...unit, bid_size: -1 }] }, 'negative'],
      [{ ...BOOK, timestamp: null }, 'timestamp'],
      [{ ...BOOK, code: 'KRW-ETH' }, 'code'],
      // Not cut to "0.000…0" and dropped as an empty side: refused.
      [{ ...BOOK, orderbook_units: [{ ...unit, ask_size: 1e-120 }] }, 'ask_size'],
    ];
    for (const [payload, what] of cases) {
      expect(() => parseUpbitOrderbook(payload, 'orderbook:KRW-BTC', 'upbit'), what).toThrow(
        expect.objectContaining({ code: ErrorCode.Parse, message: expect.stringContaining(what) }),
      );
    }
  });
});
