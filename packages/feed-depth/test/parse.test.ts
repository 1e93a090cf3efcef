import { describe, expect, it } from 'vitest';
import { parseDepthDiff, parsePartialDepth, parseSnapshot } from '../src/parse.js';

describe('parsePartialDepth', () => {
  it('spot: no symbol in the payload, so it comes from the stream name', () => {
    const e = parsePartialDepth(
      { lastUpdateId: 160, bids: [['0.0024', '10']], asks: [['0.0026', '100']] },
      'bnbbtc@depth5@100ms',
      'binance-spot',
    );
    expect(e).toMatchObject({
      type: 'partialDepth',
      symbol: 'BNBBTC',
      lastUpdateId: 160,
      eventTime: undefined,
      bids: [['0.0024', '10']],
      asks: [['0.0026', '100']],
    });
  });

  it('futures: the diff shape, and levels sorted best first whatever order they came in', () => {
    const e = parsePartialDepth(
      {
        e: 'depthUpdate',
        E: 123456789,
        T: 123456788,
        s: 'BTCUSDT',
        U: 157,
        u: 160,
        pu: 149,
        b: [
          ['99.0', '1'],
          ['100.0', '2'],
        ],
        a: [
          ['102.0', '1'],
          ['101.0', '3'],
        ],
      },
      'btcusdt@depth5',
      'binance-usdm',
    );
    expect(e.lastUpdateId).toBe(160);
    expect(e.eventTime).toBe(123456789);
    expect(e.bids).toEqual([
      ['100.0', '2'],
      ['99.0', '1'],
    ]);
    expect(e.asks).toEqual([
      ['101.0', '3'],
      ['102.0', '1'],
    ]);
  });

  it('refuses malformed levels with a typed error naming the stream', () => {
    for (const bids of [[['1.0']], [['1.0', 2]], [['-1', '1']], 'x', [['1e5', '1']]]) {
      expect(() =>
        parsePartialDepth({ lastUpdateId: 1, bids, asks: [] }, 'x@depth5', 'binance-spot'),
      ).toThrow(expect.objectContaining({ code: 'UNIFEED_PARSE', stream: 'x@depth5' }));
    }
  });
});

describe('parseDepthDiff', () => {
  it('reads both venues, pu only on futures', () => {
    const spot = parseDepthDiff(
      { e: 'depthUpdate', E: 1, s: 'BNBBTC', U: 157, u: 160, b: [['0.0024', '10']], a: [] },
      'bnbbtc@depth',
      'binance-spot',
    );
    expect(spot).toMatchObject({
      firstUpdateId: 157,
      lastUpdateId: 160,
      previousUpdateId: undefined,
    });
    const fut = parseDepthDiff(
      { e: 'depthUpdate', E: 1, T: 1, s: 'BTCUSDT', U: 157, u: 160, pu: 149, b: [], a: [] },
      'btcusdt@depth@100ms',
      'binance-usdm',
    );
    expect(fut.previousUpdateId).toBe(149);
  });

  it('refuses U > u and another event type', () => {
    const base = { e: 'depthUpdate', E: 1, s: 'X', U: 10, u: 9, b: [], a: [] };
    expect(() => parseDepthDiff(base, 'x@depth', 'v')).toThrow(
      expect.objectContaining({ code: 'UNIFEED_PARSE' }),
    );
    expect(() => parseDepthDiff({ ...base, e: 'trade', u: 11 }, 'x@depth', 'v')).toThrow(
      expect.objectContaining({ code: 'UNIFEED_PARSE' }),
    );
  });
});

describe("update ids and symbols that cannot be the stream's", () => {
  const diff = { e: 'depthUpdate', E: 1, s: 'BTCUSDT', U: 101, u: 102, b: [], a: [] };
  const stream = 'btcusdt@depth@100ms';

  it('refuses a negative U, u or pu, partial-book id or snapshot lastUpdateId', () => {
    const diffs: [Record<string, unknown>, string][] = [
      [{ ...diff, U: -4, u: -4 }, "field 'U'"],
      [{ ...diff, U: -4 }, "field 'U'"],
      [{ ...diff, u: -1, U: -3 }, "field 'U'"],
      [{ ...diff, pu: -1 }, "field 'pu'"],
      [{ ...diff, pu: '-1' }, "field 'pu'"],
    ];
    for (const [payload, field] of diffs) {
      expect(() => parseDepthDiff(payload, stream, 'binance-usdm'), field).toThrow(
        expect.objectContaining({ code: 'UNIFEED_PARSE', message: expect.stringContaining(field) }),
      );
    }
    expect(() =>
      parsePartialDepth({ lastUpdateId: -5, bids: [], asks: [] }, 'btcusdt@depth5', 'v'),
    ).toThrow(expect.objectContaining({ code: 'UNIFEED_PARSE' }));
    expect(() => parsePartialDepth({ ...diff, u: -5 }, 'btcusdt@depth5', 'v')).toThrow(
      expect.objectContaining({ code: 'UNIFEED_PARSE' }),
    );
    expect(() => parseSnapshot({ lastUpdateId: -5, bids: [], asks: [] }, 'BTCUSDT')).toThrow(
      expect.objectContaining({ code: 'UNIFEED_PARSE' }),
    );
    // 0 is an id like any other; a missing or null pu is spot's.
    expect(parseDepthDiff({ ...diff, U: 0, u: 0, pu: null }, stream, 'v')).toMatchObject({
      firstUpdateId: 0,
      previousUpdateId: undefined,
    });
    expect(parseSnapshot({ lastUpdateId: 0, bids: [], asks: [] }, 'BTCUSDT').lastUpdateId).toBe(0);
  });

  it("refuses a diff or partial book of another symbol than the stream's", () => {
    // The reviewer's diff: ETHUSDT's levels would have landed in BTCUSDT's book.
    const eth = { ...diff, s: 'ETHUSDT', b: [['10', '999']] };
    for (const parse of [parseDepthDiff, parsePartialDepth]) {
      expect(() => parse(eth, stream, 'binance-spot'), parse.name).toThrow(
        expect.objectContaining({ code: 'UNIFEED_PARSE', stream }),
      );
      expect(parse(diff, stream, 'binance-spot').symbol).toBe('BTCUSDT');
    }
  });
});
