/**
 * What an untyped caller (plain JavaScript, a config file, a cast) can pass to the depth
 * calls: each wrong value is refused at the call with a coded error, never a TypeError from
 * inside (or from a snapshot, later) and never read as the default.
 */
import { binanceSpot, ErrorCode, StreamPool, upbit } from '@unifeed/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BookSide,
  bookDeltas,
  bookStats,
  depthDiff,
  OrderBook,
  orderBook,
  partialDepth,
  partialDepths,
  upbitOrderbook,
  type OrderBookOptions,
} from '../src/index.js';

const spot = binanceSpot();

/** `value` as the parameter type a typed caller could not pass. */
const untyped = <T>(value: unknown): T => value as T;

const refused = (code: string, message?: string) =>
  expect.objectContaining({
    name: 'UnifeedError',
    code,
    ...(message === undefined ? {} : { message: expect.stringContaining(message) }),
  });

const spotPool = new StreamPool({ venue: spot });
const upbitPool = new StreamPool({ venue: upbit() });
afterAll(async () => {
  await spotPool.close();
  await upbitPool.close();
});

describe('plugin parameters', () => {
  it('null or undefined is UNIFEED_INVALID_OPTION, not a TypeError', () => {
    for (const params of [null, undefined, 'BTCUSDT', ['BTCUSDT']]) {
      expect(() => partialDepth.streams(untyped(params), spot)).toThrow(
        refused(ErrorCode.InvalidOption, 'the parameters of partialDepth must be an object'),
      );
      expect(() => depthDiff.streams(untyped(params), spot)).toThrow(
        refused(ErrorCode.InvalidOption, 'the parameters of depthDiff must be an object'),
      );
      expect(() => upbitOrderbook.streams(untyped(params), upbit())).toThrow(
        refused(ErrorCode.InvalidOption, 'the parameters of upbitOrderbook must be an object'),
      );
      expect(() => partialDepths(spotPool, untyped(params))).toThrow(
        refused(ErrorCode.InvalidOption),
      );
    }
  });

  it('a hole in the symbols is refused, never subscribed as a stream named "undefined"', () => {
    // eslint-disable-next-line no-sparse-arrays
    const holey = untyped<string[]>(['BTCUSDT', , 'ETHUSDT']);
    expect(() => depthDiff.streams({ symbols: holey }, spot)).toThrow(
      refused(ErrorCode.InvalidStream, 'not a symbol: "undefined"'),
    );
    expect(() => partialDepth.streams({ symbols: holey, levels: 5 }, spot)).toThrow(
      refused(ErrorCode.InvalidStream, 'not a symbol: "undefined"'),
    );
    // eslint-disable-next-line no-sparse-arrays
    const holeyCodes = untyped<string[]>(['KRW-BTC', , 'KRW-ETH']);
    expect(() => upbitOrderbook.streams({ codes: holeyCodes }, upbit())).toThrow(
      refused(ErrorCode.InvalidStream, 'not a market code: "undefined"'),
    );
  });

  it('an Upbit code that is no string is refused as such, not read through String()', () => {
    for (const code of [['KRW-BTC'], null, 42, Symbol('KRW-BTC')]) {
      expect(() => upbitOrderbook.streams({ codes: untyped([code]) }, upbit())).toThrow(
        refused(ErrorCode.InvalidStream, 'not a market code'),
      );
    }
  });
});

describe('the pool', () => {
  it('what is no StreamPool is UNIFEED_INVALID_OPTION at the call, not a TypeError or []', () => {
    for (const notPool of [null, undefined, 42, {}]) {
      const invalid = refused(ErrorCode.InvalidOption, '`pool` must be a StreamPool');
      expect(() => orderBook(untyped(notPool), { symbol: 'BTCUSDT' })).toThrow(invalid);
      expect(() => bookDeltas(untyped(notPool), { symbol: 'BTCUSDT' })).toThrow(invalid);
      expect(() => partialDepths(untyped(notPool), { symbols: ['BTCUSDT'], levels: 5 })).toThrow(
        invalid,
      );
      expect(() => bookStats(untyped(notPool))).toThrow(invalid);
    }
    expect(bookStats(spotPool)).toEqual([]);
  });
});

describe('order book options', () => {
  it('null or undefined options are UNIFEED_INVALID_OPTION on either venue kind', () => {
    for (const pool of [spotPool, upbitPool]) {
      for (const options of [null, undefined, 'BTCUSDT']) {
        expect(() => orderBook(pool, untyped(options))).toThrow(
          refused(ErrorCode.InvalidOption, 'the options of orderBook must be an object'),
        );
        expect(() => bookDeltas(pool, untyped(options))).toThrow(
          refused(ErrorCode.InvalidOption, 'the options of bookDeltas must be an object'),
        );
      }
    }
  });

  it('null is refused, never taken for the default', () => {
    const cases: [keyof OrderBookOptions, string, string][] = [
      ['snapshotLimit', ErrorCode.InvalidOption, 'snapshotLimit'],
      ['maxBuffer', ErrorCode.InvalidOption, 'maxBuffer'],
      ['quietSnapshotMs', ErrorCode.InvalidOption, 'quietSnapshotMs'],
      ['depth', ErrorCode.InvalidOption, 'depth'],
      ['speed', ErrorCode.InvalidStream, 'speed'],
      ['rest', ErrorCode.InvalidOption, 'rest'],
      ['random', ErrorCode.InvalidOption, 'random'],
    ];
    for (const [name, code, message] of cases) {
      const options = untyped<OrderBookOptions>({ symbol: 'BTCUSDT', [name]: null });
      expect(() => orderBook(spotPool, options)).toThrow(refused(code, message));
      expect(() => bookDeltas(spotPool, options)).toThrow(refused(code, message));
    }
    expect(bookStats(spotPool)).toEqual([]);
  });

  it('a rest that is no RestClient, or a random that is no function, is refused at the call', () => {
    for (const rest of [{}, 42, 'https://api.binance.com']) {
      expect(() => orderBook(spotPool, { symbol: 'BTCUSDT', rest: untyped(rest) })).toThrow(
        refused(ErrorCode.InvalidOption, '`rest` must be a RestClient'),
      );
    }
    expect(() => orderBook(spotPool, { symbol: 'BTCUSDT', random: untyped(0.5) })).toThrow(
      refused(ErrorCode.InvalidOption, '`random` must be a function'),
    );
  });

  it('a symbol that is no non-empty string is refused at the call, on Upbit too', () => {
    for (const symbol of [undefined, null, 42, '', ['BTCUSDT']]) {
      expect(() => orderBook(spotPool, { symbol: untyped(symbol) })).toThrow(
        refused(ErrorCode.InvalidStream),
      );
      expect(() => bookDeltas(spotPool, { symbol: untyped(symbol) })).toThrow(
        refused(ErrorCode.InvalidStream),
      );
      expect(() => orderBook(upbitPool, { symbol: untyped(symbol) })).toThrow(
        refused(ErrorCode.InvalidStream),
      );
      // Was refused only on subscribe, as an error of the observable.
      expect(() => bookDeltas(upbitPool, { symbol: untyped(symbol) })).toThrow(
        refused(ErrorCode.InvalidStream),
      );
    }
    expect(() => bookDeltas(upbitPool, { symbol: 'BTCUSDT' })).toThrow(
      refused(ErrorCode.InvalidStream),
    );
  });
});

describe('book structures', () => {
  it('a side other than bids or asks is refused, not sorted as asks', () => {
    for (const side of ['bid', 'x', null, undefined]) {
      expect(() => new BookSide(untyped(side))).toThrow(
        refused(ErrorCode.InvalidOption, "a book side is 'bids' or 'asks'"),
      );
    }
    expect(new BookSide('bids').size).toBe(0);
  });

  it('an order book without a symbol is refused', () => {
    for (const symbol of [null, undefined, 42, '']) {
      expect(() => new OrderBook(untyped(symbol))).toThrow(
        refused(ErrorCode.InvalidOption, "an order book's symbol must be a non-empty string"),
      );
    }
    expect(new OrderBook('BTCUSDT').symbol).toBe('BTCUSDT');
  });
});
