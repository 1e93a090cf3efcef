import { describe, expect, it } from 'vitest';
import { ErrorCode, isUnifeedError } from '../src/errors.js';
import {
  asNumericDecimal,
  asSymbolOfStream,
  asUnsignedInteger,
  asUnsignedNumericDecimal,
} from '../src/fields/index.js';

const S = 'ticker:KRW-BTC';

const parseError = expect.objectContaining({ code: ErrorCode.Parse });

describe('asNumericDecimal', () => {
  it('spells out exponent forms exactly, as the shortest digits that read back', () => {
    expect(asNumericDecimal(1.5e-7, 'v', S)).toBe('0.00000015');
    expect(asNumericDecimal(-1.5e-7, 'v', S)).toBe('-0.00000015');
    expect(asNumericDecimal(1e-7, 'v', S)).toBe('0.0000001');
    expect(asNumericDecimal(1.2345678901234566e-7, 'v', S)).toBe('0.00000012345678901234566');
    expect(asNumericDecimal(1e21, 'v', S)).toBe('1000000000000000000000');
    expect(asNumericDecimal(-1.5e21, 'v', S)).toBe('-1500000000000000000000');
    expect(asNumericDecimal(140000000, 'v', S)).toBe('140000000');
    expect(asNumericDecimal(-0, 'v', S)).toBe('0');
    // The longest that fits: 64 characters.
    expect(asNumericDecimal(1e-62, 'v', S)).toHaveLength(64);
    expect(asNumericDecimal(1e63, 'v', S)).toHaveLength(64);
  });

  it('refuses a number whose plain form would pass 64 characters instead of cutting it to zero', () => {
    for (const v of [1.2345e-300, 5e-324, -1e-70, 1e-63, 1.5e-62, 1e64, 1.7976931348623157e308]) {
      expect(() => asNumericDecimal(v, 'trade_price', S), String(v)).toThrow(
        expect.objectContaining({
          code: ErrorCode.Parse,
          message: expect.stringContaining("field 'trade_price'"),
        }),
      );
    }
  });

  it('any double is its exact shortest digits written out, or refused', () => {
    // Every power of ten, and doubles from random bits of a fixed seed (core has no fast-check).
    const values: number[] = [];
    for (let e = -330; e <= 310; e++) values.push(Number(`1e${e}`), Number(`-9.87654321e${e}`));
    const view = new DataView(new ArrayBuffer(8));
    let seed = 0x2545f491;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    for (let i = 0; i < 20_000; i++) {
      view.setUint32(0, next());
      view.setUint32(4, next());
      values.push(view.getFloat64(0));
    }
    for (const v of values.filter(Number.isFinite)) {
      let text: string;
      try {
        text = asNumericDecimal(v, 'v', S);
      } catch (err) {
        expect(isUnifeedError(err, 'UNIFEED_PARSE'), String(v)).toBe(true);
        continue;
      }
      // === and not toEqual: -0 reads as "0", the same number.
      expect([v, /^-?\d+(\.\d+)?$/.test(text), text.length <= 64, Number(text) === v]).toEqual([
        v,
        true,
        true,
        true,
      ]);
    }
  });
});

describe('the unsigned readers', () => {
  it('refuse a negative price, size or id, and accept zero', () => {
    expect(asUnsignedNumericDecimal(0, 'v', S)).toBe('0');
    expect(asUnsignedNumericDecimal(-0, 'v', S)).toBe('0');
    expect(asUnsignedNumericDecimal('1.5', 'v', S)).toBe('1.5');
    expect(() => asUnsignedNumericDecimal(-5, 'v', S)).toThrow(parseError);
    expect(() => asUnsignedNumericDecimal(-1e-9, 'v', S)).toThrow(parseError);
    expect(() => asUnsignedNumericDecimal('-1', 'v', S)).toThrow(parseError);
    expect(asUnsignedInteger(0, 'u', S)).toBe(0);
    expect(asUnsignedInteger('17', 'u', S)).toBe(17);
    expect(() => asUnsignedInteger(-4, 'u', S)).toThrow(parseError);
    expect(() => asUnsignedInteger('-4', 'u', S)).toThrow(parseError);
  });
});

describe('asSymbolOfStream', () => {
  it("accepts the stream's own symbol in either case, and any on a stream of every symbol", () => {
    expect(asSymbolOfStream('BTCUSDT', 's', 'btcusdt@depth@100ms')).toBe('BTCUSDT');
    expect(asSymbolOfStream('BTCUSDT', 's', 'BTCUSDT@trade')).toBe('BTCUSDT');
    expect(asSymbolOfStream('1000SHIBUSDT', 's', '1000shibusdt@kline_1m')).toBe('1000SHIBUSDT');
    expect(asSymbolOfStream('KRW-BTC', 'code', 'candle.1m:KRW-BTC')).toBe('KRW-BTC');
    expect(asSymbolOfStream('ETHUSDT', 's', '!bookTicker')).toBe('ETHUSDT');
    expect(asSymbolOfStream('ETHUSDT', 's', '!miniTicker@arr')).toBe('ETHUSDT');
  });

  it('refuses another symbol, a prefix or extension of it, and letters that only match by bit', () => {
    const refused: [string, string][] = [
      ['ETHUSDT', 'btcusdt@depth@100ms'],
      ['BTCUSD', 'btcusdt@depth'],
      ['BTCUSDTX', 'btcusdt@depth'],
      ['KRW-ETH', 'ticker:KRW-BTC'],
      ['KRW-BT', 'ticker:KRW-BTC'],
      // Setting bit 5 makes `[` a `{` and a CR a `-`: only letters may differ in case.
      ['A[B', 'a{b@trade'],
      ['A\rB', 'a-b@trade'],
    ];
    for (const [symbol, stream] of refused) {
      expect(() => asSymbolOfStream(symbol, 's', stream), `${symbol} on ${stream}`).toThrow(
        expect.objectContaining({ code: ErrorCode.Parse, stream }),
      );
    }
    expect(() => asSymbolOfStream(undefined, 's', 'btcusdt@trade')).toThrow(parseError);
    expect(() => asSymbolOfStream('', 's', 'btcusdt@trade')).toThrow(parseError);
  });
});
