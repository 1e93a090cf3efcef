import { binanceSpot, binanceUsdm, isUnifeedError } from '@unifeed/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kline, parseKline, type KlineEvent } from '../src/index.js';

const spot = binanceSpot();
const usdm = binanceUsdm();

/** protocol.md's kline example, exactly; it elides `E` (`..`), filled with a time. */
const KLINE = `{"e":"kline","E":1672515782136,"s":"BNBBTC","k":{"t":1672515780000,"T":1672515839999,"s":"BNBBTC","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}`;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isUnifeedError(err)) return err.code;
    throw err;
  }
  return 'no error';
}

describe('parseKline', () => {
  it('maps the protocol.md example field by field', () => {
    const raw = JSON.parse(KLINE) as unknown;
    expect(kline.parse(raw, 'bnbbtc@kline_1m', spot)).toEqual({
      type: 'kline',
      venue: 'binance-spot',
      stream: 'bnbbtc@kline_1m',
      symbol: 'BNBBTC',
      interval: '1m',
      eventTime: 1672515782136,
      openTime: 1672515780000,
      closeTime: 1672515839999,
      firstTradeId: 100,
      lastTradeId: 200,
      open: '0.0010',
      high: '0.0025',
      low: '0.0015',
      close: '0.0020',
      volume: '1000',
      quoteVolume: '1.0000',
      trades: 100,
      isClosed: false,
      takerBuyVolume: '500',
      takerBuyQuoteVolume: '0.500',
      raw,
    } satisfies KlineEvent);
  });

  it('tolerates a missing outer symbol, a string E, unknown and missing ignorable fields', () => {
    const p = JSON.parse(KLINE) as { s?: string; E: unknown; k: Record<string, unknown> };
    delete p.s;
    p.E = '1672515782136';
    delete p.k.B;
    p.k.zz = [1];
    const e = parseKline(p, 'bnbbtc@kline_1m', 'binance-spot');
    expect(e.symbol).toBe('BNBBTC');
    expect(e.eventTime).toBe(1672515782136);
  });

  it.each([
    ['no k', (p: Record<string, unknown>) => delete p.k],
    ['k not an object', (p: Record<string, unknown>) => (p.k = 'x')],
    ['x not a boolean', (p: { k: Record<string, unknown> }) => (p.k.x = 'true')],
    ['o a number', (p: { k: Record<string, unknown> }) => (p.k.o = 0.001)],
    ['t missing', (p: { k: Record<string, unknown> }) => delete p.k.t],
    ['e another type', (p: Record<string, unknown>) => (p.e = 'markPriceUpdate')],
  ])('%s: UNIFEED_PARSE', (_n, patch) => {
    const p = JSON.parse(KLINE) as Record<string, unknown> & { k: Record<string, unknown> };
    patch(p);
    expect(codeOf(() => parseKline(p, 's@kline_1m', 'binance-usdm'))).toBe('UNIFEED_PARSE');
  });

  it('property: any input parses to a well-formed candle or throws UNIFEED_PARSE', () => {
    const base = JSON.parse(KLINE) as { k: Record<string, unknown> } & Record<string, unknown>;
    const junk = fc.oneof(fc.jsonValue(), fc.constantFrom('', '1e3', '1.', NaN, 1.5, null));
    const check = (payload: unknown): boolean => {
      let e: KlineEvent;
      try {
        e = parseKline(payload, 'bnbbtc@kline_1m', 'binance-usdm');
      } catch (err) {
        return isUnifeedError(err, 'UNIFEED_PARSE');
      }
      const dec = /^-?\d+(\.\d+)?$/;
      return (
        [e.open, e.high, e.low, e.close, e.volume, e.quoteVolume, e.takerBuyVolume].every((s) =>
          dec.test(s ?? ''),
        ) &&
        dec.test(e.takerBuyQuoteVolume ?? '') &&
        [e.eventTime, e.openTime, e.closeTime, e.firstTradeId, e.lastTradeId, e.trades].every(
          Number.isSafeInteger,
        ) &&
        typeof e.isClosed === 'boolean' &&
        e.symbol.length > 0 &&
        e.interval.length > 0
      );
    };
    fc.assert(fc.property(fc.anything(), check), { numRuns: 300 });
    const keys = [...Object.keys(base), ...Object.keys(base.k).map((k) => `k.${k}`)];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...keys), fc.option(junk, { nil: undefined })), {
          minLength: 1,
          maxLength: 4,
        }),
        (edits) => {
          const p = { ...base, k: { ...base.k } };
          for (const [key, value] of edits) {
            const [target, field] = key.startsWith('k.') ? [p.k, key.slice(2)] : [p, key];
            if (typeof target !== 'object' || target === null) continue;
            if (value === undefined) delete (target as Record<string, unknown>)[field];
            else (target as Record<string, unknown>)[field] = value;
          }
          return check(p);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('parseKline: candles that cannot be, and candles of another symbol', () => {
  it.each([
    // protocol.md's example has E 1672515782136, t 1672515780000.
    ['t after T', { t: 9e15, T: 1 }, "field 't'"],
    [
      't after E: opens 250 years after the event reporting it',
      { t: 9e12, T: 9e12 + 59_999 },
      "field 't'",
    ],
    // A candle's length past E is clock slack; one ms beyond it is not.
    ['t a candle and a ms after E', { t: 1672515842137, T: 1672515902136 }, "field 't'"],
    ['a negative trade count', { n: -5 }, "field 'n'"],
  ])('%s: UNIFEED_PARSE', (_name, patch, field) => {
    const p = JSON.parse(KLINE) as { k: Record<string, unknown> };
    Object.assign(p.k, patch);
    expect(() => parseKline(p, 'bnbbtc@kline_1m', 'binance-spot')).toThrow(
      expect.objectContaining({ code: 'UNIFEED_PARSE', message: expect.stringContaining(field) }),
    );
  });

  it('accepts a candle opening at its event time, with no trade (n 0, ids -1)', () => {
    const p = JSON.parse(KLINE) as { E: number; k: Record<string, unknown> };
    Object.assign(p.k, { t: p.E, T: p.E + 59_999, n: 0, f: -1, L: -1 });
    expect(parseKline(p, 'bnbbtc@kline_1m', 'binance-spot')).toMatchObject({
      openTime: p.E,
      trades: 0,
      firstTradeId: -1,
    });
  });

  it("accepts a candle opening up to its own length after E: two servers' clocks at a boundary", () => {
    const p = JSON.parse(KLINE) as { E: number; k: Record<string, unknown> };
    Object.assign(p.k, { t: p.E + 60_000, T: p.E + 119_999 });
    expect(parseKline(p, 'bnbbtc@kline_1m', 'binance-spot').openTime).toBe(p.E + 60_000);
  });

  it("refuses an interval other than the stream's; 1M is a month, not a minute", () => {
    const p = JSON.parse(KLINE) as { k: Record<string, unknown> };
    for (const stream of ['bnbbtc@kline_5m', 'bnbbtc@kline_1M', 'bnbbtc@kline_1mx']) {
      expect([stream, codeOf(() => parseKline(p, stream, 'binance-spot'))]).toEqual([
        stream,
        'UNIFEED_PARSE',
      ]);
    }
    expect(parseKline(p, 'bnbbtc@kline_1m@+08:00', 'binance-spot').interval).toBe('1m');
    expect(parseKline(p, 'replay-1', 'binance-spot').interval).toBe('1m');
  });

  it("refuses a symbol other than the stream's, from s or from k.s when s is missing", () => {
    const other = JSON.parse(KLINE.replaceAll('BNBBTC', 'ETHUSDT')) as Record<string, unknown>;
    expect(codeOf(() => parseKline(other, 'bnbbtc@kline_1m', 'binance-spot'))).toBe(
      'UNIFEED_PARSE',
    );
    delete other.s;
    expect(codeOf(() => parseKline(other, 'bnbbtc@kline_1m', 'binance-spot'))).toBe(
      'UNIFEED_PARSE',
    );
    // The stream's symbol is lower case, the payload's upper case: the same symbol.
    expect(parseKline(JSON.parse(KLINE), 'bnbbtc@kline_1m', 'binance-spot').symbol).toBe('BNBBTC');
  });
});

describe('kline plugin: sequence', () => {
  it("grows with the event time, and a candle's close sorts before the next candle's first update of the same ms", () => {
    const at = (E: number, t: number, x: boolean): number => {
      const raw = JSON.parse(KLINE) as { E: number; k: { t: number; T: number; x: boolean } };
      raw.E = E;
      raw.k.t = t;
      raw.k.T = t + 59_999;
      raw.k.x = x;
      return kline.sequence!(kline.parse(raw, 'bnbbtc@kline_1m', spot))!;
    };
    const update = at(1_000, 0, false);
    const closing = at(60_000, 0, true);
    const opening = at(60_000, 60_000, false);
    expect(update).toBeLessThan(closing);
    expect(closing).toBeLessThan(opening);
    // The same message twice has the same sequence: the pool delivers it once.
    expect(at(60_000, 0, true)).toBe(closing);
  });
});

describe('kline plugin: streams and cadence', () => {
  it('531 x 6 is one call: 3,186 stream names, symbol lower-cased, interval untouched', () => {
    const symbols = Array.from({ length: 531 }, (_, i) => `SYM${i}USDT`);
    const intervals = ['1m', '3m', '5m', '15m', '30m', '4h'] as const;
    const streams = kline.streams({ symbols, intervals }, usdm);
    expect(streams).toHaveLength(3186);
    expect(new Set(streams).size).toBe(3186);
    expect(streams[0]).toBe('sym0usdt@kline_1m');
    expect(kline.streams({ symbols: ['BTCUSDT'], intervals: ['1M', '1m'] }, spot)).toEqual([
      'btcusdt@kline_1M',
      'btcusdt@kline_1m',
    ]);
  });

  it('spot has 1s, futures does not; unknown intervals and bad symbols are refused', () => {
    expect(kline.streams({ symbols: ['btcusdt'], intervals: ['1s'] }, spot)).toEqual([
      'btcusdt@kline_1s',
    ]);
    const bad: [string, () => unknown][] = [
      ['futures 1s', () => kline.streams({ symbols: ['btcusdt'], intervals: ['1s'] }, usdm)],
      ['2m', () => kline.streams({ symbols: ['btcusdt'], intervals: ['2m' as '1m'] }, spot)],
      ['1H', () => kline.streams({ symbols: ['btcusdt'], intervals: ['1H' as '1h'] }, spot)],
      // Untyped callers: a BigInt (which JSON.stringify throws on) or a megabyte of text.
      ['10n', () => kline.streams({ symbols: ['btcusdt'], intervals: [10n as never] }, spot)],
      [
        '1 MB',
        () => kline.streams({ symbols: ['a'], intervals: ['x'.repeat(2 ** 20) as '1m'] }, spot),
      ],
      ['symbol @', () => kline.streams({ symbols: ['a@b'], intervals: ['1m'] }, spot)],
      ['venue', () => kline.streams({ symbols: ['a'], intervals: ['1m'] }, { ...spot, name: 'x' })],
    ];
    for (const [name, fn] of bad)
      expect([name, codeOf(fn)]).toEqual([name, 'UNIFEED_INVALID_STREAM']);
    // Quoted cut to 40 characters (with dashes: a run of 40 letters would be redacted as a key).
    expect(() =>
      kline.streams({ symbols: ['a'], intervals: ['x-'.repeat(2 ** 19) as '1m'] }, spot),
    ).toThrow(/no kline interval "(x-){20}" \(it has/);
    expect(codeOf(() => kline.streams({ symbols: [], intervals: ['1m'] }, spot))).toBe(
      'UNIFEED_INVALID_OPTION',
    );
    expect(codeOf(() => kline.streams({ symbols: ['x'], intervals: [] }, spot))).toBe(
      'UNIFEED_INVALID_OPTION',
    );
  });

  it('cadence: 250 ms futures, 2 s spot, 1 s for spot 1s', () => {
    expect(kline.cadenceMs?.('btcusdt@kline_1m', usdm)).toBe(250);
    expect(kline.cadenceMs?.('btcusdt@kline_1M', usdm)).toBe(250);
    expect(kline.cadenceMs?.('btcusdt@kline_1m', spot)).toBe(2000);
    expect(kline.cadenceMs?.('btcusdt@kline_1s', spot)).toBe(1000);
  });
});
