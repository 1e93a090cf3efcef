import { binanceUsdm, ErrorCode, StreamPool, upbit } from '@unifeed/core';
import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { closedKlines, kline, klines, onlyClosed, parseUpbitCandle } from '../src/index.js';

const venue = upbit();

const CANDLE = {
  type: 'candle.60m',
  code: 'KRW-BTC',
  candle_date_time_utc: '2026-01-05T03:00:00',
  candle_date_time_kst: '2026-01-05T12:00:00',
  opening_price: 140000000,
  high_price: 140500000,
  low_price: 139800000,
  trade_price: 140100000,
  candle_acc_trade_volume: 12.34567891,
  candle_acc_trade_price: 1729876543.21,
  timestamp: 1767583212345,
  stream_type: 'REALTIME',
};

describe('Upbit candles', () => {
  it('names candle.<interval>:<code> for Upbit intervals only, at the call', () => {
    expect(
      kline.streams({ symbols: ['krw-btc'], intervals: ['1s', '60m', '240m'] }, venue),
    ).toEqual(['candle.1s:KRW-BTC', 'candle.60m:KRW-BTC', 'candle.240m:KRW-BTC']);
    for (const interval of ['1h', '4h', '1d', '2m'] as const) {
      expect(() =>
        kline.streams({ symbols: ['KRW-BTC'], intervals: [interval as '1h'] }, venue),
      ).toThrow(expect.objectContaining({ code: ErrorCode.InvalidStream }));
    }
    expect(() => kline.streams({ symbols: ['BTCUSDT'], intervals: ['1m'] }, venue)).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidStream }),
    );
    // From untyped callers (JavaScript, a JSON config): refused with the code, not a TypeError.
    for (const symbol of [123, null, undefined]) {
      expect(() =>
        kline.streams({ symbols: [symbol as unknown as string], intervals: ['1m'] }, venue),
      ).toThrow(expect.objectContaining({ code: ErrorCode.InvalidStream }));
    }
    // Binance's 10m does not exist: Upbit's intervals stay Upbit's.
    expect(() =>
      kline.streams({ symbols: ['BTCUSDT'], intervals: ['10m'] }, binanceUsdm()),
    ).toThrow(expect.objectContaining({ code: ErrorCode.InvalidStream }));
    // Pushed on trades: never judged stale by silence.
    expect(kline.cadenceMs?.('candle.1m:KRW-BTC', venue)).toBeUndefined();
  });

  it('parses a candle: exact decimals, open and close time from the UTC date, no closed flag', () => {
    expect(kline.parse(CANDLE, 'candle.60m:KRW-BTC', venue)).toEqual({
      type: 'kline',
      venue: 'upbit',
      stream: 'candle.60m:KRW-BTC',
      symbol: 'KRW-BTC',
      interval: '60m',
      eventTime: 1767583212345,
      openTime: Date.UTC(2026, 0, 5, 3),
      closeTime: Date.UTC(2026, 0, 5, 4) - 1,
      firstTradeId: undefined,
      lastTradeId: undefined,
      open: '140000000',
      high: '140500000',
      low: '139800000',
      close: '140100000',
      volume: '12.34567891',
      quoteVolume: '1729876543.21',
      trades: undefined,
      isClosed: false,
      takerBuyVolume: undefined,
      takerBuyQuoteVolume: undefined,
      raw: CANDLE,
    });
    expect(parseUpbitCandle({ ...CANDLE, type: 'candle.1s' }, 's', 'upbit').closeTime).toBe(
      Date.UTC(2026, 0, 5, 3) + 999,
    );
  });

  it('throws UNIFEED_PARSE naming the field of a malformed candle', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...CANDLE, type: 'ticker' }, 'type'],
      [{ ...CANDLE, candle_date_time_utc: '2026-01-05 03:00' }, 'candle_date_time_utc'],
      [{ ...CANDLE, candle_date_time_utc: 'not a date ........' }, 'candle_date_time_utc'],
      [{ ...CANDLE, trade_price: '140,000' }, 'trade_price'],
      [{ ...CANDLE, candle_acc_trade_volume: undefined }, 'candle_acc_trade_volume'],
    ];
    for (const [payload, field] of cases) {
      expect(() => parseUpbitCandle(payload, 'candle.60m:KRW-BTC', 'upbit'), field).toThrow(
        expect.objectContaining({ code: ErrorCode.Parse, message: expect.stringContaining(field) }),
      );
    }
  });

  it('refuses a start that is no real UTC time or is off the interval grid', () => {
    // A message time after every start below: only the start is wrong.
    const late = Date.UTC(2030, 0, 1);
    const parse = (type: string, start: string) =>
      parseUpbitCandle(
        { ...CANDLE, type, candle_date_time_utc: start, timestamp: late },
        `${type}:KRW-BTC`,
        'upbit',
      );
    const refused: [string, string][] = [
      ['candle.1m', '2026-02-30T00:00:00'], // Date.parse: March 2
      ['candle.1m', '2025-02-29T00:00:00'], // not a leap year
      ['candle.1m', '2100-02-29T00:00:00'], // nor is 2100
      ['candle.1m', '2026-04-31T00:00:00'],
      ['candle.1m', '2026-01-05T24:00:00'], // Date.parse: the next day
      ['candle.1m', '2026-01-05T23:60:00'],
      ['candle.1m', '2026-13-01T00:00:00'],
      ['candle.1m', '2026-00-10T00:00:00'],
      ['candle.1m', '2026-01-00T00:00:00'],
      ['candle.1m', '0099-01-01T00:00:00'], // Date.UTC: 1999
      ['candle.1m', '2026-01-05T00:00:17'], // seconds on a minute candle
      ['candle.1m', '2026-01-05T00:00:60'],
      ['candle.60m', '2026-01-05T03:30:00'],
      ['candle.240m', '2026-01-05T02:00:00'], // 4 h candles open at 00, 04 ... UTC
      ['candle.15m', '2026-01-05T03:05:00'],
      ['candle.1m', '2026-01-05T03:00:00Z'],
      ['candle.1m', '+2026-01-05T03:00:0'],
      ['candle.1m', '2026-01-05T0 :00:00'],
    ];
    for (const [type, start] of refused) {
      expect(() => parse(type, start), `${type} ${start}`).toThrow(
        expect.objectContaining({
          code: ErrorCode.Parse,
          message: expect.stringContaining('candle_date_time_utc'),
        }),
      );
    }
    const accepted: [string, string, number][] = [
      ['candle.1m', '2024-02-29T23:59:00', Date.UTC(2024, 1, 29, 23, 59)],
      ['candle.1m', '2000-02-29T00:00:00', Date.UTC(2000, 1, 29)],
      ['candle.1m', '2026-12-31T00:00:00', Date.UTC(2026, 11, 31)],
      ['candle.1m', '2026-08-31T00:00:00', Date.UTC(2026, 7, 31)],
      ['candle.1s', '2026-01-05T00:00:17', Date.UTC(2026, 0, 5, 0, 0, 17)],
      ['candle.240m', '2026-01-05T20:00:00', Date.UTC(2026, 0, 5, 20)],
    ];
    for (const [type, start, ms] of accepted) expect(parse(type, start).openTime).toBe(ms);
  });

  it('refuses a candle starting after its message, a negative price or volume, another code', () => {
    const cases: [Record<string, unknown>, string][] = [
      // CANDLE's timestamp is 03:20:12 UTC: the 04:00 candle has not begun.
      [{ ...CANDLE, candle_date_time_utc: '2026-01-05T04:00:00' }, 'candle_date_time_utc'],
      [{ ...CANDLE, candle_acc_trade_volume: -5 }, 'candle_acc_trade_volume'],
      [{ ...CANDLE, candle_acc_trade_price: -0.5 }, 'candle_acc_trade_price'],
      [{ ...CANDLE, opening_price: -1 }, 'opening_price'],
      [{ ...CANDLE, high_price: -1 }, 'high_price'],
      [{ ...CANDLE, low_price: -1 }, 'low_price'],
      [{ ...CANDLE, trade_price: -140100000 }, 'trade_price'],
      [{ ...CANDLE, trade_price: 1e-120 }, 'trade_price'],
      [{ ...CANDLE, code: 'KRW-ETH' }, 'code'],
    ];
    for (const [payload, field] of cases) {
      expect(() => parseUpbitCandle(payload, 'candle.60m:KRW-BTC', 'upbit'), field).toThrow(
        expect.objectContaining({ code: ErrorCode.Parse, message: expect.stringContaining(field) }),
      );
    }
    // A candle updated in its first millisecond; a volume of zero.
    const first = { ...CANDLE, timestamp: Date.UTC(2026, 0, 5, 3), candle_acc_trade_volume: 0 };
    expect(parseUpbitCandle(first, 'candle.60m:KRW-BTC', 'upbit').volume).toBe('0');
  });

  it('closedKlines refuses Upbit at the call: its candles never say that they closed', async () => {
    const pool = new StreamPool({ venue: upbit({ wsUrl: 'ws://127.0.0.1:9' }) });
    try {
      expect(() => closedKlines(pool, { symbols: ['KRW-BTC'], intervals: ['1m'] })).toThrow(
        expect.objectContaining({
          code: ErrorCode.InvalidStream,
          message: expect.stringContaining('klines()'),
        }),
      );
      // klines() itself is fine; nothing is subscribed until someone subscribes.
      expect(() => klines(pool, { symbols: ['KRW-BTC'], intervals: ['1m'] })).not.toThrow();
      expect(pool.stats().connections).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('onlyClosed errors on the first Upbit candle instead of dropping every one', () => {
    const candle = parseUpbitCandle(CANDLE, 'candle.60m:KRW-BTC', 'upbit');
    const seen: unknown[] = [];
    let error: unknown;
    from([candle, candle])
      .pipe(onlyClosed())
      .subscribe({ next: (e) => seen.push(e), error: (err: unknown) => (error = err) });
    expect(seen).toEqual([]);
    expect(error).toMatchObject({
      code: ErrorCode.InvalidStream,
      message: expect.stringContaining('upbit candles do not say when they close'),
    });
  });
});
