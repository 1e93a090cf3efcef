import { isUnifeedError, type FeedPlugin, type Venue } from '@unifeed/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aggTrade,
  allMarkPrices,
  allMiniTickers,
  allTickers,
  bookTicker,
  markPrice,
  miniTicker,
  ticker,
  trade,
} from '../src/index.js';
import * as F from './fixtures.js';

type Kind = 'dec' | 'dec?' | 'int' | 'int?' | 'bool' | 'bool?' | 'str';

/** What a well-formed event of each type holds, checked independently of the parsers. */
const SCHEMA: Record<string, Record<string, Kind>> = {
  bookTicker: {
    symbol: 'str',
    updateId: 'int',
    eventTime: 'int?',
    transactionTime: 'int?',
    bidPrice: 'dec',
    bidQty: 'dec',
    askPrice: 'dec',
    askQty: 'dec',
  },
  miniTicker: {
    symbol: 'str',
    eventTime: 'int',
    open: 'dec',
    high: 'dec',
    low: 'dec',
    close: 'dec',
    volume: 'dec',
    quoteVolume: 'dec',
  },
  ticker: {
    symbol: 'str',
    eventTime: 'int',
    open: 'dec',
    close: 'dec',
    priceChange: 'dec',
    prevClosePrice: 'dec?',
    bidPrice: 'dec?',
    askQty: 'dec?',
    openTime: 'int',
    trades: 'int',
  },
  markPrice: {
    symbol: 'str',
    eventTime: 'int',
    markPrice: 'dec',
    markPriceAvg: 'dec?',
    indexPrice: 'dec',
    fundingRate: 'dec?',
    nextFundingTime: 'int',
  },
  aggTrade: {
    symbol: 'str',
    eventTime: 'int',
    aggTradeId: 'int',
    price: 'dec',
    qty: 'dec',
    nonRpiQty: 'dec?',
    tradeTime: 'int',
    isBuyerMaker: 'bool',
    isBestMatch: 'bool?',
  },
  trade: {
    symbol: 'str',
    tradeId: 'int',
    price: 'dec',
    qty: 'dec',
    isBuyerMaker: 'bool',
    isBestMatch: 'bool?',
  },
};

const DECIMAL = /^-?\d+(\.\d+)?$/;

function fits(kind: Kind, v: unknown): boolean {
  if (kind.endsWith('?') && v === undefined) return true;
  switch (kind.replace('?', '')) {
    case 'dec':
      return typeof v === 'string' && DECIMAL.test(v);
    case 'int':
      return Number.isSafeInteger(v);
    case 'bool':
      return typeof v === 'boolean';
    default:
      return typeof v === 'string' && v.length > 0;
  }
}

/** A well-formed event: every field of its schema fits, and venue/stream are the given ones. */
function wellFormed(e: unknown, stream: string, venue: Venue): boolean {
  if (Array.isArray(e)) return e.every((x) => wellFormed(x, stream, venue));
  const ev = e as Record<string, unknown>;
  const schema = SCHEMA[String(ev.type)];
  if (!schema || ev.venue !== venue.name || ev.stream !== stream || !('raw' in ev)) return false;
  return Object.entries(schema).every(([k, kind]) => fits(kind, ev[k]));
}

interface Case {
  plugin: FeedPlugin<never, unknown>;
  stream: string;
  venue: Venue;
  example: string;
}

const CASES: Case[] = [
  { plugin: bookTicker, stream: 'bnbusdt@bookTicker', venue: F.spot, example: F.SPOT_BOOK_TICKER },
  { plugin: bookTicker, stream: 'bnbusdt@bookTicker', venue: F.usdm, example: F.USDM_BOOK_TICKER },
  { plugin: ticker, stream: 'bnbbtc@ticker', venue: F.spot, example: F.SPOT_TICKER },
  { plugin: ticker, stream: 'bnbbtc@ticker', venue: F.usdm, example: F.USDM_TICKER },
  { plugin: miniTicker, stream: 'bnbbtc@miniTicker', venue: F.spot, example: F.SPOT_MINI_TICKER },
  { plugin: markPrice, stream: 'btcusdt@markPrice', venue: F.usdm, example: F.USDM_MARK_PRICE },
  { plugin: aggTrade, stream: 'bnbbtc@aggTrade', venue: F.spot, example: F.SPOT_AGG_TRADE },
  { plugin: aggTrade, stream: 'bnbbtc@aggTrade', venue: F.usdm, example: F.USDM_AGG_TRADE },
  { plugin: trade, stream: 'bnbbtc@trade', venue: F.spot, example: F.SPOT_TRADE },
  {
    plugin: allMiniTickers,
    stream: '!miniTicker@arr',
    venue: F.spot,
    example: `[${F.SPOT_MINI_TICKER},${F.SPOT_MINI_TICKER}]`,
  },
  { plugin: allTickers, stream: '!ticker@arr', venue: F.spot, example: `[${F.SPOT_TICKER}]` },
  {
    plugin: allMarkPrices,
    stream: '!markPrice@arr',
    venue: F.usdm,
    example: `[${F.USDM_MARK_PRICE}]`,
  },
];

/**
 * The property every parser must hold for any input: it returns a well-formed event, or it
 * throws a UnifeedError with code UNIFEED_PARSE, naming the stream. Nothing else.
 */
function parsesOrRejects(c: Case, payload: unknown): boolean {
  let event: unknown;
  try {
    event = c.plugin.parse(payload, c.stream, c.venue);
  } catch (err) {
    return isUnifeedError(err, 'UNIFEED_PARSE') && err.stream === c.stream;
  }
  return wellFormed(event, c.stream, c.venue);
}

/** A value Binance might send by mistake, or anything at all. */
const junk = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom('', '1e5', '0x10', ' 1', '1.', '.5', '-', 'NaN', '１'),
  fc.constantFrom(Number.NaN, Infinity, -1, 2 ** 60, 1.5, true, null),
  fc.string(),
);

type Mutation = { op: 'delete'; at: number } | { op: 'set'; at: number; value: unknown };

const mutations = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: junk }),
  ),
  { minLength: 1, maxLength: 4 },
);

/** Delete or overwrite fields of an object (or of an element, for arrays). */
function mutate(payload: unknown, ms: readonly Mutation[], extraKey: string): unknown {
  if (Array.isArray(payload)) {
    const copy = [...payload] as unknown[];
    const i = (ms[0]?.at ?? 0) % copy.length;
    copy[i] = mutate(copy[i], ms, extraKey);
    return copy;
  }
  const obj = { ...(payload as Record<string, unknown>) };
  const keys = [...Object.keys(obj), extraKey];
  for (const m of ms) {
    const key = keys[m.at % keys.length]!;
    if (m.op === 'delete') delete obj[key];
    else obj[key] = m.value;
  }
  return obj;
}

describe('property: no parser throws anything but UNIFEED_PARSE, no malformed event', () => {
  for (const c of CASES) {
    const label = `${c.plugin.name} (${c.venue.name})`;

    it(`${label}: the example parses`, () => {
      expect(parsesOrRejects(c, JSON.parse(c.example))).toBe(true);
      expect(() => c.plugin.parse(JSON.parse(c.example), c.stream, c.venue)).not.toThrow();
    });

    it(`${label}: random values`, () => {
      fc.assert(
        fc.property(fc.oneof(junk, fc.anything()), (v) => parsesOrRejects(c, v)),
        { numRuns: 300 },
      );
    });

    it(`${label}: mutated examples`, () => {
      const base = JSON.parse(c.example) as unknown;
      fc.assert(
        fc.property(mutations, fc.string({ maxLength: 3 }), (ms, extra) =>
          parsesOrRejects(c, mutate(base, ms, extra)),
        ),
        { numRuns: 400 },
      );
    });

    it(`${label}: unknown fields added never matter`, () => {
      const base = JSON.parse(c.example) as unknown;
      fc.assert(
        fc.property(fc.string({ minLength: 3 }), fc.jsonValue(), (key, value) => {
          const add = (x: unknown) =>
            key in (x as object) ? x : { ...(x as object), [`~${key}`]: value };
          const p = Array.isArray(base) ? base.map(add) : add(base);
          c.plugin.parse(p, c.stream, c.venue);
        }),
        { numRuns: 100 },
      );
    });
  }
});
