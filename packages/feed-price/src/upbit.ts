import { marketStream, requireList, type UpbitStreamType } from '@unifeed/core';
import {
  asId,
  asInteger,
  asNumericDecimal,
  asSymbolOfStream,
  asUnsignedNumericDecimal,
  object,
  parseError,
  type Payload,
} from '@unifeed/core/fields';
import type { TickerEvent, TradeEvent } from './events.js';
import type { Parser } from './parse.js';

/** The `venue` name of Upbit, as `upbit()` from @unifeed/core calls itself. */
export const UPBIT = 'upbit';

const DAY = 86_400_000;

/**
 * Upbit stream names for `codes` (`KRW-BTC`, in any case): `<type>:<CODE>`. Throws
 * `UNIFEED_INVALID_STREAM` at the call for what is no market code.
 */
export function upbitStreams(codes: readonly string[], type: UpbitStreamType): string[] {
  return requireList('symbols', codes).map((c) => marketStream(type, c));
}

/** Upbit says what a message is in `type`; a message of another type on the stream is a bug. */
function expectUpbitType(p: Payload, expected: string, stream: string): void {
  if (p.type !== expected) throw parseError("field 'type'", `is not "${expected}"`, stream);
}

/**
 * Start of the UTC day holding `ms`: Upbit counts `acc_trade_volume`, `acc_trade_price` and
 * `prev_closing_price` from 00:00 UTC (09:00 KST, when its daily candle opens).
 */
function utcDayStart(ms: number): number {
  return Math.floor(ms / DAY) * DAY;
}

/** `rate` (a decimal string such as `-0.0123`) times 100, exactly: the point moves two places. */
function percent(rate: string): string {
  const negative = rate.startsWith('-');
  const digits = negative ? rate.slice(1) : rate;
  const dot = digits.indexOf('.');
  const whole = dot < 0 ? digits : digits.slice(0, dot);
  const fraction = (dot < 0 ? '' : digits.slice(dot + 1)).padEnd(2, '0');
  const int = (whole + fraction.slice(0, 2)).replace(/^0+(?=\d)/, '');
  const rest = fraction.slice(2);
  return `${negative ? '-' : ''}${int}${rest.length > 0 ? `.${rest}` : ''}`;
}

/** Upbit `ticker` (DEFAULT format) as a {@link TickerEvent}; fields Upbit lacks are undefined. */
export const parseUpbitTicker: Parser<TickerEvent> = (payload, stream, venue) => {
  const p = object(payload, 'ticker payload', stream);
  expectUpbitType(p, 'ticker', stream);
  const time = asInteger(p.timestamp, 'timestamp', stream);
  return {
    type: 'ticker',
    venue,
    stream,
    symbol: asSymbolOfStream(p.code, 'code', stream),
    eventTime: time,
    open: asUnsignedNumericDecimal(p.opening_price, 'opening_price', stream),
    high: asUnsignedNumericDecimal(p.high_price, 'high_price', stream),
    low: asUnsignedNumericDecimal(p.low_price, 'low_price', stream),
    close: asUnsignedNumericDecimal(p.trade_price, 'trade_price', stream),
    volume: asUnsignedNumericDecimal(p.acc_trade_volume, 'acc_trade_volume', stream),
    quoteVolume: asUnsignedNumericDecimal(p.acc_trade_price, 'acc_trade_price', stream),
    priceChange: asNumericDecimal(p.signed_change_price, 'signed_change_price', stream),
    priceChangePercent: percent(
      asNumericDecimal(p.signed_change_rate, 'signed_change_rate', stream),
    ),
    weightedAvgPrice: undefined,
    prevClosePrice: asUnsignedNumericDecimal(p.prev_closing_price, 'prev_closing_price', stream),
    lastQty: asUnsignedNumericDecimal(p.trade_volume, 'trade_volume', stream),
    bidPrice: undefined,
    bidQty: undefined,
    askPrice: undefined,
    askQty: undefined,
    openTime: utcDayStart(time),
    closeTime: time,
    firstTradeId: undefined,
    lastTradeId: undefined,
    trades: undefined,
    raw: payload,
  };
};

/** Upbit `trade` (DEFAULT format) as a {@link TradeEvent}. */
export const parseUpbitTrade: Parser<TradeEvent> = (payload, stream, venue) => {
  const p = object(payload, 'trade payload', stream);
  expectUpbitType(p, 'trade', stream);
  const side = p.ask_bid;
  if (side !== 'ASK' && side !== 'BID')
    throw parseError("field 'ask_bid'", 'is not ASK or BID', stream);
  // Some 1.7e16 (the trade time times 10,000 plus a counter): exact only as text.
  const id = asId(p.sequential_id, 'sequential_id', stream);
  return {
    type: 'trade',
    venue,
    stream,
    symbol: asSymbolOfStream(p.code, 'code', stream),
    eventTime: asInteger(p.timestamp, 'timestamp', stream),
    tradeId: Number(id),
    tradeIdText: id,
    price: asUnsignedNumericDecimal(p.trade_price, 'trade_price', stream),
    qty: asUnsignedNumericDecimal(p.trade_volume, 'trade_volume', stream),
    tradeTime: asInteger(p.trade_timestamp, 'trade_timestamp', stream),
    // ASK: the taker sold into the bid, so the buyer was the maker.
    isBuyerMaker: side === 'ASK',
    isBestMatch: undefined,
    raw: payload,
  };
};
