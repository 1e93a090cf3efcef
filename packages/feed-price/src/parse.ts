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
  decimal,
  expectType,
  flag,
  integer,
  object,
  optionalDecimal,
  optionalFlag,
  optionalInteger,
  parseError,
  text,
  type Payload,
} from '@unifeed/core/fields';

/**
 * Pure payload parsers, one per event kind: `(payload, stream, venue name) -> event`. They
 * throw a `UNIFEED_PARSE` error on a missing or mistyped required field, accept a missing
 * optional one as undefined, and ignore unknown fields. Every event literal lists all its
 * fields in one order, so all events of a kind share one hidden class.
 */
export type Parser<E> = (payload: unknown, stream: string, venue: string) => E;

export const parseBookTicker: Parser<BookTickerEvent> = (payload, stream, venue) => {
  const p = object(payload, 'bookTicker payload', stream);
  expectType(p, 'bookTicker', stream);
  return {
    type: 'bookTicker',
    venue,
    stream,
    symbol: text(p, 's', stream),
    updateId: integer(p, 'u', stream),
    eventTime: optionalInteger(p, 'E', stream),
    transactionTime: optionalInteger(p, 'T', stream),
    bidPrice: decimal(p, 'b', stream),
    bidQty: decimal(p, 'B', stream),
    askPrice: decimal(p, 'a', stream),
    askQty: decimal(p, 'A', stream),
    raw: payload,
  };
};

/** The 24 h window fields `ticker` and `miniTicker` share. */
function window(p: Payload, stream: string): WindowStats {
  return {
    eventTime: integer(p, 'E', stream),
    open: decimal(p, 'o', stream),
    high: decimal(p, 'h', stream),
    low: decimal(p, 'l', stream),
    close: decimal(p, 'c', stream),
    volume: decimal(p, 'v', stream),
    quoteVolume: decimal(p, 'q', stream),
  };
}

export const parseMiniTicker: Parser<MiniTickerEvent> = (payload, stream, venue) => {
  const p = object(payload, 'miniTicker payload', stream);
  expectType(p, '24hrMiniTicker', stream);
  return {
    type: 'miniTicker',
    venue,
    stream,
    symbol: text(p, 's', stream),
    ...window(p, stream),
    raw: payload,
  };
};

export const parseTicker: Parser<TickerEvent> = (payload, stream, venue) => {
  const p = object(payload, 'ticker payload', stream);
  expectType(p, '24hrTicker', stream);
  return {
    type: 'ticker',
    venue,
    stream,
    symbol: text(p, 's', stream),
    ...window(p, stream),
    priceChange: decimal(p, 'p', stream),
    priceChangePercent: decimal(p, 'P', stream),
    weightedAvgPrice: decimal(p, 'w', stream),
    prevClosePrice: optionalDecimal(p, 'x', stream),
    lastQty: decimal(p, 'Q', stream),
    bidPrice: optionalDecimal(p, 'b', stream),
    bidQty: optionalDecimal(p, 'B', stream),
    askPrice: optionalDecimal(p, 'a', stream),
    askQty: optionalDecimal(p, 'A', stream),
    openTime: integer(p, 'O', stream),
    closeTime: integer(p, 'C', stream),
    firstTradeId: integer(p, 'F', stream),
    lastTradeId: integer(p, 'L', stream),
    trades: integer(p, 'n', stream),
    raw: payload,
  };
};

export const parseMarkPrice: Parser<MarkPriceEvent> = (payload, stream, venue) => {
  const p = object(payload, 'markPrice payload', stream);
  expectType(p, 'markPriceUpdate', stream);
  // Contracts without funding send "r":"" (and "T":0): no rate rather than a parse error.
  const rate = p.r === '' ? undefined : decimal(p, 'r', stream);
  return {
    type: 'markPrice',
    venue,
    stream,
    symbol: text(p, 's', stream),
    eventTime: integer(p, 'E', stream),
    markPrice: decimal(p, 'p', stream),
    markPriceAvg: optionalDecimal(p, 'ap', stream),
    indexPrice: decimal(p, 'i', stream),
    estimatedSettlePrice: decimal(p, 'P', stream),
    fundingRate: rate,
    nextFundingTime: integer(p, 'T', stream),
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
    symbol: text(p, 's', stream),
    eventTime: integer(p, 'E', stream),
    aggTradeId: integer(p, 'a', stream),
    price: decimal(p, 'p', stream),
    qty: decimal(p, 'q', stream),
    nonRpiQty: optionalDecimal(p, 'nq', stream),
    firstTradeId: integer(p, 'f', stream),
    lastTradeId: integer(p, 'l', stream),
    tradeTime: integer(p, 'T', stream),
    isBuyerMaker: flag(p, 'm', stream),
    isBestMatch: optionalFlag(p, 'M', stream),
    raw: payload,
  };
};

export const parseTrade: Parser<TradeEvent> = (payload, stream, venue) => {
  const p = object(payload, 'trade payload', stream);
  expectType(p, 'trade', stream);
  return {
    type: 'trade',
    venue,
    stream,
    symbol: text(p, 's', stream),
    eventTime: integer(p, 'E', stream),
    tradeId: integer(p, 't', stream),
    price: decimal(p, 'p', stream),
    qty: decimal(p, 'q', stream),
    tradeTime: integer(p, 'T', stream),
    isBuyerMaker: flag(p, 'm', stream),
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
