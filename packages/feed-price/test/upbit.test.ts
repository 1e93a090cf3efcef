import { ErrorCode, upbit, binanceSpot } from '@unifeed/core';
import { describe, expect, it } from 'vitest';
import { bookTicker, parseUpbitTicker, parseUpbitTrade, ticker, trade } from '../src/index.js';

const venue = upbit();

// As Upbit sends them (DEFAULT format): prices and volumes are JSON numbers.
const TICKER = {
  type: 'ticker',
  code: 'KRW-BTC',
  opening_price: 140000000,
  high_price: 141500000,
  low_price: 138200000.5,
  trade_price: 139000000,
  prev_closing_price: 140500000,
  change: 'FALL',
  change_price: 1500000,
  signed_change_price: -1500000,
  change_rate: 0.0106761566,
  signed_change_rate: -0.0106761566,
  trade_volume: 0.00012345,
  acc_trade_volume: 1234.56789012,
  acc_trade_volume_24h: 2345.6,
  acc_trade_price: 171234567890.12,
  acc_trade_price_24h: 321234567890.5,
  trade_date: '20260105',
  trade_time: '031500',
  trade_timestamp: 1767582900000,
  ask_bid: 'BID',
  acc_ask_volume: 600.1,
  acc_bid_volume: 634.46789012,
  highest_52_week_price: 160000000,
  highest_52_week_date: '2025-10-06',
  lowest_52_week_price: 90000000,
  lowest_52_week_date: '2025-04-07',
  market_state: 'ACTIVE',
  is_trading_suspended: false,
  delisting_date: null,
  market_warning: 'NONE',
  timestamp: 1767582900123,
  stream_type: 'REALTIME',
};

const TRADE = {
  type: 'trade',
  code: 'KRW-ETH',
  timestamp: 1767582900200,
  trade_date: '2026-01-05',
  trade_time: '03:15:00',
  trade_timestamp: 1767582900150,
  trade_price: 5012000,
  trade_volume: 1.5e-7,
  ask_bid: 'ASK',
  prev_closing_price: 5000000,
  change: 'RISE',
  change_price: 12000,
  // The trade time times 10,000 plus a counter, beyond 2^53: the Upbit venue's decode keeps
  // its digits as text (decodeLossless), which is what a parser gets.
  sequential_id: '17675829001500000',
  best_ask_price: 5013000,
  best_ask_size: 0.2,
  best_bid_price: 5012000,
  best_bid_size: 1.1,
  stream_type: 'REALTIME',
};

describe('Upbit ticker and trade', () => {
  it('names Upbit streams <type>:<code>, refuses what Upbit lacks at the call', () => {
    expect(ticker.streams({ symbols: ['krw-btc', 'KRW-ETH'] }, venue)).toEqual([
      'ticker:KRW-BTC',
      'ticker:KRW-ETH',
    ]);
    expect(trade.streams({ symbols: ['KRW-BTC'] }, venue)).toEqual(['trade:KRW-BTC']);
    expect(() => ticker.streams({ symbols: ['BTCUSDT'] }, venue)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidStream }),
    );
    expect(() => ticker.streams({ symbols: [] }, venue)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidOption }),
    );
    expect(() => bookTicker.streams({ symbols: ['KRW-BTC'] }, venue)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidStream }),
    );
    // Binance names are untouched by Upbit's support.
    expect(ticker.streams({ symbols: ['BTCUSDT'] }, binanceSpot())).toEqual(['btcusdt@ticker']);
    // Event-driven on Upbit: a quiet market's ticker is never called stale.
    expect(ticker.cadenceMs?.('ticker:KRW-BTC', venue)).toBeUndefined();
  });

  it('parses a ticker: numbers become exact decimal strings, the symbol stays the code', () => {
    const e = ticker.parse(TICKER, 'ticker:KRW-BTC', venue);
    expect(e).toEqual({
      type: 'ticker',
      venue: 'upbit',
      stream: 'ticker:KRW-BTC',
      symbol: 'KRW-BTC',
      eventTime: 1767582900123,
      open: '140000000',
      high: '141500000',
      low: '138200000.5',
      close: '139000000',
      volume: '1234.56789012',
      quoteVolume: '171234567890.12',
      priceChange: '-1500000',
      priceChangePercent: '-1.06761566',
      weightedAvgPrice: undefined,
      prevClosePrice: '140500000',
      lastQty: '0.00012345',
      bidPrice: undefined,
      bidQty: undefined,
      askPrice: undefined,
      askQty: undefined,
      // Upbit's day starts at 00:00 UTC (09:00 KST), not at 00:00 KST (15:00 UTC before).
      openTime: Date.UTC(2026, 0, 5),
      closeTime: 1767582900123,
      firstTradeId: undefined,
      lastTradeId: undefined,
      trades: undefined,
      raw: TICKER,
    });
  });

  // Found in review: Upbit writes decimals as numbers, and a KRW market's day turnover passes
  // 15 digits; a plain JSON.parse gave its nearest double as though it were exact.
  it('keeps every digit of a turnover of 16 digits or more, as the venue decodes the frame', () => {
    const text = JSON.stringify({ ...TICKER, acc_trade_price: 0 }).replace(
      '"acc_trade_price":0',
      '"acc_trade_price":44575981826.4731735',
    );
    const e = parseUpbitTicker(venue.decode!(text), 'ticker:KRW-BTC', 'upbit');
    expect(e.quoteVolume).toBe('44575981826.4731735');
    expect(String(JSON.parse(text).acc_trade_price)).not.toBe('44575981826.4731735');
  });

  it('moves the rate`s point exactly for every sign and size', () => {
    const pct = (rate: number) =>
      parseUpbitTicker({ ...TICKER, signed_change_rate: rate }, 's', 'upbit').priceChangePercent;
    expect(pct(0)).toBe('0');
    expect(pct(0.00012345)).toBe('0.012345');
    expect(pct(-0.5)).toBe('-50');
    expect(pct(12.5)).toBe('1250');
    expect(pct(1e-9)).toBe('0.0000001');
  });

  it('parses a trade: ASK is a taker sell, so the buyer was the maker', () => {
    const e = trade.parse(TRADE, 'trade:KRW-ETH', venue);
    expect(e).toEqual({
      type: 'trade',
      venue: 'upbit',
      stream: 'trade:KRW-ETH',
      symbol: 'KRW-ETH',
      eventTime: 1767582900200,
      tradeId: 17675829001500000,
      tradeIdText: '17675829001500000',
      price: '5012000',
      qty: '0.00000015',
      tradeTime: 1767582900150,
      isBuyerMaker: true,
      isBestMatch: undefined,
      raw: TRADE,
    });
    expect(parseUpbitTrade({ ...TRADE, ask_bid: 'BID' }, 's', 'upbit').isBuyerMaker).toBe(false);
  });

  it('tells apart two trades of one ms, whose ids a plain JSON.parse would make one number', () => {
    const frame = (id: string) =>
      JSON.stringify({ ...TRADE, sequential_id: 0 }).replace(
        '"sequential_id":0',
        `"sequential_id":${id}`,
      );
    const ids = ['17675829001500000', '17675829001500001'];
    const [a, b] = ids.map((id) => trade.parse(venue.decode!(frame(id)), 'trade:KRW-ETH', venue));
    expect([a!.tradeIdText, b!.tradeIdText]).toEqual(ids);
    expect(trade.sequence!(b!)).toBeGreaterThan(trade.sequence!(a!)!);
    const plain = ids.map(
      (id) => (JSON.parse(frame(id)) as { sequential_id: number }).sequential_id,
    );
    expect(plain[0]).toBe(plain[1]);
  });

  it('refuses a negative price or volume and another code; keeps negative changes', () => {
    const negative = [
      'opening_price',
      'high_price',
      'low_price',
      'trade_price',
      'acc_trade_volume',
      'acc_trade_price',
      'prev_closing_price',
      'trade_volume',
    ];
    for (const field of negative) {
      expect(
        () => ticker.parse({ ...TICKER, [field]: -5 }, 'ticker:KRW-BTC', venue),
        field,
      ).toThrow(
        expect.objectContaining({ code: ErrorCode.Parse, message: expect.stringContaining(field) }),
      );
    }
    for (const field of ['trade_price', 'trade_volume']) {
      expect(() => trade.parse({ ...TRADE, [field]: -5 }, 'trade:KRW-ETH', venue), field).toThrow(
        expect.objectContaining({ code: ErrorCode.Parse, message: expect.stringContaining(field) }),
      );
    }
    // A fall: the signed change and rate are negative by design.
    expect(ticker.parse(TICKER, 'ticker:KRW-BTC', venue)).toMatchObject({
      priceChange: '-1500000',
      priceChangePercent: '-1.06761566',
    });
    const codes: [() => unknown, string][] = [
      [() => ticker.parse({ ...TICKER, code: 'KRW-ETH' }, 'ticker:KRW-BTC', venue), 'ticker'],
      [() => trade.parse({ ...TRADE, code: 'KRW-BTC' }, 'trade:KRW-ETH', venue), 'trade'],
    ];
    for (const [parse, name] of codes) {
      expect(parse, name).toThrow(
        expect.objectContaining({
          code: ErrorCode.Parse,
          message: expect.stringContaining('code'),
        }),
      );
    }
  });

  it('throws UNIFEED_PARSE naming the field of a malformed payload', () => {
    const cases: [unknown, string][] = [
      [{ ...TICKER, trade_price: '1e5' }, 'trade_price'],
      [{ ...TICKER, trade_price: null }, 'trade_price'],
      [{ ...TICKER, opening_price: Infinity }, 'opening_price'],
      [{ ...TICKER, type: 'trade' }, 'type'],
      [{ ...TICKER, timestamp: '17:00' }, 'timestamp'],
      [{ ...TRADE, ask_bid: 'SELL' }, 'ask_bid'],
      [{ ...TRADE, sequential_id: 1.5 }, 'sequential_id'],
      [{ ...TRADE, sequential_id: '17675829001500000x' }, 'sequential_id'],
    ];
    for (const [payload, field] of cases) {
      const parse =
        (payload as { type: string }).type === 'trade' && field !== 'type'
          ? () => trade.parse(payload, 'trade:KRW-ETH', venue)
          : () => ticker.parse(payload, 'ticker:KRW-BTC', venue);
      expect(parse, field).toThrow(
        expect.objectContaining({ code: ErrorCode.Parse, message: expect.stringContaining(field) }),
      );
    }
    expect(() => ticker.parse([], 'ticker:KRW-BTC', venue)).toThrow(
      expect.objectContaining({ code: ErrorCode.Parse }),
    );
  });
});
