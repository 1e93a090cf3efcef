/**
 * What an untyped caller (plain JavaScript, a config file, a cast) can pass to a plugin: each
 * wrong value is refused at the call with a coded error, never a TypeError from inside and
 * never read as something else.
 */
import { binanceSpot, binanceUsdm, ErrorCode, StreamPool, upbit } from '@unifeed/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  aggTrade,
  allBookTickers,
  allMarkPrices,
  allMiniTickers,
  allTickers,
  bookTicker,
  markPrice,
  miniTicker,
  ticker,
  trade,
} from '../src/index.js';

const spot = binanceSpot();
const usdm = binanceUsdm();
const venue = upbit();

/** `value` as the parameter type a typed caller could not pass. */
const untyped = <T>(value: unknown): T => value as T;

const refused = (code: string, message?: string) =>
  expect.objectContaining({
    name: 'UnifeedError',
    code,
    ...(message === undefined ? {} : { message: expect.stringContaining(message) }),
  });

describe('the parameters object', () => {
  const perSymbol = [
    ['bookTicker', bookTicker, spot],
    ['ticker', ticker, spot],
    ['ticker on Upbit', ticker, venue],
    ['miniTicker', miniTicker, spot],
    ['markPrice', markPrice, usdm],
    ['aggTrade', aggTrade, spot],
    ['trade', trade, spot],
    ['trade on Upbit', trade, venue],
  ] as const;

  it.each(perSymbol)(
    '%s: null or undefined is UNIFEED_INVALID_OPTION, not a TypeError',
    (_n, plugin, v) => {
      for (const params of [null, undefined]) {
        expect(() => plugin.streams(untyped(params), v)).toThrow(
          refused(ErrorCode.InvalidOption, `the parameters of ${plugin.name} must be an object`),
        );
      }
    },
  );

  it.each(perSymbol)(
    '%s: a symbol, a number or an array is no parameters object',
    (_n, plugin, v) => {
      for (const params of ['BTCUSDT', 42, ['BTCUSDT']]) {
        expect(() => plugin.streams(untyped(params), v)).toThrow(
          refused(ErrorCode.InvalidOption, 'must be an object'),
        );
      }
    },
  );

  it('all-market plugins take undefined for {}, and refuse null or a number', () => {
    expect(allBookTickers.streams(untyped(undefined), usdm)).toEqual(['!bookTicker']);
    expect(allMiniTickers.streams(untyped(undefined), spot)).toEqual(['!miniTicker@arr']);
    expect(allTickers.streams(untyped(undefined), spot)).toEqual(['!ticker@arr']);
    expect(allMarkPrices.streams(untyped(undefined), usdm)).toEqual(['!markPrice@arr']);
    for (const params of [null, 42, 'x']) {
      for (const [plugin, v] of [
        [allBookTickers, usdm],
        [allMiniTickers, spot],
        [allTickers, spot],
        [allMarkPrices, usdm],
      ] as const) {
        expect(() => plugin.streams(untyped(params), v)).toThrow(
          refused(ErrorCode.InvalidOption, `the parameters of ${plugin.name}`),
        );
      }
    }
  });

  describe('through a pool', () => {
    const pool = new StreamPool({ venue: spot });
    afterAll(() => pool.close());

    it('observe(plugin, null) throws UNIFEED_INVALID_OPTION at the call', () => {
      expect(() => pool.observe(bookTicker, untyped(null))).toThrow(
        refused(ErrorCode.InvalidOption),
      );
      expect(() => pool.observe(allTickers, untyped(null))).toThrow(
        refused(ErrorCode.InvalidOption),
      );
      expect(pool.stats().connections).toBe(0);
    });
  });
});

describe('symbols', () => {
  it('a hole in the array is refused, never subscribed as a stream named "undefined"', () => {
    // eslint-disable-next-line no-sparse-arrays
    const holey = untyped<string[]>(['BTCUSDT', , 'ETHUSDT']);
    expect(() => bookTicker.streams({ symbols: holey }, spot)).toThrow(
      refused(ErrorCode.InvalidStream, 'not a symbol: "undefined"'),
    );
    // eslint-disable-next-line no-sparse-arrays
    const holeyCodes = untyped<string[]>(['KRW-BTC', , 'KRW-ETH']);
    expect(() => ticker.streams({ symbols: holeyCodes }, venue)).toThrow(
      refused(ErrorCode.InvalidStream, 'not a market code: "undefined"'),
    );
  });

  it('an Upbit code that is no string is refused as such, not read through String()', () => {
    for (const code of [['KRW-BTC'], null, 42, Symbol('KRW-BTC')]) {
      expect(() => ticker.streams({ symbols: untyped([code]) }, venue)).toThrow(
        refused(ErrorCode.InvalidStream, 'not a market code'),
      );
      expect(() => trade.streams({ symbols: untyped([code]) }, venue)).toThrow(
        refused(ErrorCode.InvalidStream, 'not a market code'),
      );
    }
  });

  it('a Binance symbol that is no non-empty string is UNIFEED_INVALID_STREAM', () => {
    for (const symbol of [null, undefined, 42, '', ['BTCUSDT'], Symbol('BTCUSDT')]) {
      expect(() => aggTrade.streams({ symbols: untyped([symbol]) }, spot)).toThrow(
        refused(ErrorCode.InvalidStream, 'not a symbol'),
      );
    }
  });

  it('symbols that are no non-empty array are UNIFEED_INVALID_OPTION', () => {
    for (const symbols of [null, undefined, 'BTCUSDT', [], {}]) {
      expect(() => miniTicker.streams({ symbols: untyped(symbols) }, spot)).toThrow(
        refused(ErrorCode.InvalidOption, '`symbols` must be a non-empty array'),
      );
    }
  });

  it('a markPrice speed of null or a number is refused', () => {
    for (const speed of [null, 1, '2s']) {
      expect(() =>
        markPrice.streams({ symbols: ['BTCUSDT'], speed: untyped(speed) }, usdm),
      ).toThrow(refused(ErrorCode.InvalidStream, 'speed'));
      expect(() => allMarkPrices.streams({ speed: untyped(speed) }, usdm)).toThrow(
        refused(ErrorCode.InvalidStream, 'speed'),
      );
    }
  });
});
