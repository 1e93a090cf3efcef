/**
 * What an untyped caller (plain JavaScript, a config file, a cast) can pass to the kline
 * calls: each wrong value is refused at the call with a coded error, never a TypeError from
 * inside and never read as something else.
 */
import { binanceSpot, ErrorCode, StreamPool, upbit } from '@unifeed/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  closedKlines,
  kline,
  klines,
  klineSeries,
  KlineSeries,
  toSeries,
  type KlineParams,
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

const good: KlineParams = { symbols: ['BTCUSDT'], intervals: ['1m'] };
const pool = new StreamPool({ venue: spot });
afterAll(() => pool.close());

describe('the parameters object', () => {
  it('null or undefined is UNIFEED_INVALID_OPTION, not a TypeError, in every call', () => {
    for (const params of [null, undefined, 'BTCUSDT', ['BTCUSDT']]) {
      const invalid = refused(ErrorCode.InvalidOption, 'the parameters of kline must be an object');
      expect(() => kline.streams(untyped(params), spot)).toThrow(invalid);
      expect(() => klines(pool, untyped(params))).toThrow(invalid);
      expect(() => closedKlines(pool, untyped(params))).toThrow(invalid);
      expect(() => klineSeries(pool, untyped(params))).toThrow(invalid);
    }
    expect(pool.stats().connections).toBe(0);
  });

  it('an unknown or mistyped interval is UNIFEED_INVALID_STREAM naming it', () => {
    for (const interval of ['2m', '1H', null, 1, Symbol('1m')]) {
      expect(() => klines(pool, { symbols: ['BTCUSDT'], intervals: untyped([interval]) })).toThrow(
        refused(ErrorCode.InvalidStream, 'has no kline interval'),
      );
    }
  });
});

describe('the pool', () => {
  it('what is no StreamPool is UNIFEED_INVALID_OPTION at the call, not a TypeError', () => {
    for (const notPool of [null, undefined, 42, {}, { observe: () => {} }]) {
      const invalid = refused(ErrorCode.InvalidOption, '`pool` must be a StreamPool');
      expect(() => klines(untyped(notPool), good)).toThrow(invalid);
      expect(() => closedKlines(untyped(notPool), good)).toThrow(invalid);
      expect(() => klineSeries(untyped(notPool), good)).toThrow(invalid);
    }
  });
});

describe('series options', () => {
  it('undefined is the defaults; null, a number, a string or an array is refused', () => {
    expect(() => toSeries(undefined)).not.toThrow();
    expect(() => klineSeries(pool, good, undefined)).not.toThrow();
    for (const options of [null, 42, '500', [500]]) {
      const invalid = refused(ErrorCode.InvalidOption, 'the series options must be an object');
      expect(() => toSeries(untyped(options))).toThrow(invalid);
      expect(() => klineSeries(pool, good, untyped(options))).toThrow(invalid);
    }
  });

  it('a length of null is refused, not taken for the default', () => {
    const invalid = refused(
      ErrorCode.InvalidOption,
      '`length` must be a positive integer, not null',
    );
    expect(() => toSeries({ length: untyped(null) })).toThrow(invalid);
    expect(() => klineSeries(pool, good, { length: untyped(null) })).toThrow(invalid);
    expect(() => new KlineSeries(untyped(null))).toThrow(refused(ErrorCode.InvalidOption));
  });

  it('apply refuses what is no candle with an integer open time', () => {
    const series = new KlineSeries(10);
    for (const candle of [null, undefined, 42, {}, { openTime: '1' }, { openTime: Number.NaN }]) {
      expect(() => series.apply(untyped(candle))).toThrow(
        refused(ErrorCode.InvalidOption, 'a series applies a KlineEvent'),
      );
    }
    expect(series.length).toBe(0);
  });
});

describe('Upbit codes', () => {
  it('a code that is no string is refused as such, not read through String()', () => {
    const venue = upbit();
    for (const code of [['KRW-BTC'], null, 42, Symbol('KRW-BTC')]) {
      expect(() => kline.streams({ symbols: untyped([code]), intervals: ['1m'] }, venue)).toThrow(
        refused(ErrorCode.InvalidStream, 'not a market code'),
      );
    }
    expect(kline.streams({ symbols: ['krw-btc'], intervals: ['1m'] }, venue)).toEqual([
      'candle.1m:KRW-BTC',
    ]);
  });
});
