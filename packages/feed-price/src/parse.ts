import type {
  AggTradeEvent,
  BookTickerEvent,
  MarkPriceEvent,
  MiniTickerEvent,
  TickerEvent,
  TradeEvent,
  WindowStats,
} from './events.js';
import {
  asDecimal,
  asFlag,
  asInteger,
  asSymbolOfStream,
  expectType,
  object,
  optionalDecimal,
  optionalFlag,
  optionalInteger,
  parseError,
  type Payload,
} from '@unifeed/core/fields';

/**
 * Pure payload parsers, one per event kind: `(payload, stream, venue name) -> event`. They
 * throw a `UNIFEED_PARSE` error on a missing or mistyped required field or a symbol other than
 * the one the stream names, accept a missing optional one as undefined, and ignore unknown
 * fields. Every event literal lists all its
 * fields in one order, so all events of a kind share one hidden class. Required fields are read
 * by name (`p.b`) and checked with the `as*` forms, which keeps each load monomorphic.
 */
export type Parser<E> = (payload: unknown, stream: string, venue: string) => E;

export const parseBookTicker: Parser<BookTickerEvent> = (payload, stream, venue) => {
  const p = object(payload, 'bookTicker payload', stream);
  expectType(p, 'bookTicker', stream);
  return {
    type: 'bookTicker',
    venue,
    stream,
    symbol: asSymbolOfStream(p.s, 's', stream),
    updateId: asInteger(p.u, 'u', stream),
    eventTime: optionalInteger(p, 'E', stream),
    transactionTime: optionalInteger(p, 'T', stream),
    bidPrice: asDecimal(p.b, 'b', stream),
    bidQty: asDecimal(p.B, 'B', stream),
    askPrice: asDecimal(p.a, 'a', stream),
    askQty: asDecimal(p.A, 'A', stream),
    raw: payload,
  };
};

/** The 24 h window fields `ticker` and `miniTicker` share. */
function window(p: Payload, stream: string): WindowStats {
  return {
    eventTime: asInteger(p.E, 'E', stream),
    open: asDecimal(p.o, 'o', stream),
    high: asDecimal(p.h, 'h', stream),
    low: asDecimal(p.l, 'l', stream),
    close: asDecimal(p.c, 'c', stream),
    volume: asDecimal(p.v, 'v', stream),
    quoteVolume: asDecimal(p.q, 'q', stream),
  };
}

export const parseMiniTicker: Parser<MiniTickerEvent> = (payload, stream, venue) => {
  const p = object(payload, 'miniTicker payload', stream);
  expectType(p, '24hrMiniTicker', stream);
  return {
    type: 'miniTicker',
    venue,
    stream,
    symbol: asSymbolOfStream(p.s, 's', stream),
    ...window(p, stream),
    raw: payload,
  };
};

export const parseTicker: Parser<TickerEvent> = (payload, stream, venue) => {
  const p = object(payload, 'ticker payload', stream);
  expectType(p, '24hrTicker', stream);
  // Spot sends the previous close and the top of the book; USD-M never does. Required on
  // spot: a frame without them is broken, not a quote with no bid.
  const decimal =
    venue === 'binance-spot'
      ? (key: string) => asDecimal(p[key], key, stream)
      : (key: string) => optionalDecimal(p, key, stream);
  return {
    type: 'ticker',
    venue,
    stream,
    symbol: asSymbolOfStream(p.s, 's', stream),
    ...window(p, stream),
    priceChange: asDecimal(p.p, 'p', stream),
    priceChangePercent: asDecimal(p.P, 'P', stream),
    weightedAvgPrice: asDecimal(p.w, 'w', stream),
    prevClosePrice: decimal('x'),
    lastQty: asDecimal(p.Q, 'Q', stream),
    bidPrice: decimal('b'),
    bidQty: decimal('B'),
    askPrice: decimal('a'),
    askQty: decimal('A'),
    openTime: asInteger(p.O, 'O', stream),
    closeTime: asInteger(p.C, 'C', stream),
    firstTradeId: asInteger(p.F, 'F', stream),
    lastTradeId: asInteger(p.L, 'L', stream),
    trades: asInteger(p.n, 'n', stream),
    raw: payload,
  };
};

export const parseMarkPrice: Parser<MarkPriceEvent> = (payload, stream, venue) => {
  const p = object(payload, 'markPrice payload', stream);
  expectType(p, 'markPriceUpdate', stream);
  // Contracts without funding send "r":"" (and "T":0): no rate rather than a parse error.
  const rate = p.r === '' ? undefined : asDecimal(p.r, 'r', stream);
  return {
    type: 'markPrice',
    venue,
    stream,
    symbol: asSymbolOfStream(p.s, 's', stream),
    eventTime: asInteger(p.E, 'E', stream),
    markPrice: asDecimal(p.p, 'p', stream),
    markPriceAvg: optionalDecimal(p, 'ap', stream),
    indexPrice: asDecimal(p.i, 'i', stream),
    estimatedSettlePrice: asDecimal(p.P, 'P', stream),
    fundingRate: rate,
    nextFundingTime: asInteger(p.T, 'T', stream),
    raw: payload,
  };
};

export const parseAggTrade: Parser<AggTradeEvent> = (payload, stream, venue) => {
  const p = object(payload, 'aggTrade payload', stream);
  expectType(p, 'aggTrade', stream);
  return {
    type: 'aggTrade',
    venue,
    stream,
    symbol: asSymbolOfStream(p.s, 's', stream),
    eventTime: asInteger(p.E, 'E', stream),
    aggTradeId: asInteger(p.a, 'a', stream),
    price: asDecimal(p.p, 'p', stream),
    qty: asDecimal(p.q, 'q', stream),
    nonRpiQty: optionalDecimal(p, 'nq', stream),
    firstTradeId: asInteger(p.f, 'f', stream),
    lastTradeId: asInteger(p.l, 'l', stream),
    tradeTime: asInteger(p.T, 'T', stream),
    isBuyerMaker: asFlag(p.m, 'm', stream),
    isBestMatch: optionalFlag(p, 'M', stream),
    raw: payload,
  };
};

export const parseTrade: Parser<TradeEvent> = (payload, stream, venue) => {
  const p = object(payload, 'trade payload', stream);
  expectType(p, 'trade', stream);
  const id = asInteger(p.t, 't', stream);
  return {
    type: 'trade',
    venue,
    stream,
    symbol: asSymbolOfStream(p.s, 's', stream),
    eventTime: asInteger(p.E, 'E', stream),
    tradeId: id,
    tradeIdText: String(id),
    price: asDecimal(p.p, 'p', stream),
    qty: asDecimal(p.q, 'q', stream),
    tradeTime: asInteger(p.T, 'T', stream),
    isBuyerMaker: asFlag(p.m, 'm', stream),
    isBestMatch: optionalFlag(p, 'M', stream),
    raw: payload,
  };
};

/**
 * An all-market array (`!miniTicker@arr`, ...): one event per element, all from one frame.
 * One malformed element rejects the frame: Binance builds every element alike, so a bad one
 * means the format changed, and a half-parsed cross-section would be silently incomplete.
 */
export function arrayOf<E>(parse: Parser<E>, what: string): Parser<readonly E[]> {
  return (payload, stream, venue) => {
    if (!Array.isArray(payload)) throw parseError(`${what} payload`, 'is not an array', stream);
    const out = new Array<E>(payload.length);
    for (let i = 0; i < payload.length; i++) out[i] = parse(payload[i], stream, venue);
    return out;
  };
}
