import type { KlineEvent } from './event.js';
import {
  asDecimal,
  asFlag,
  asInteger,
  asSymbolOfStream,
  asText,
  asUnsignedInteger,
  expectType,
  object,
  parseError,
} from '@unifeed/core/fields';

/**
 * Parse one kline payload (`{"e":"kline","E":..,"s":..,"k":{..}}`) of `stream` from `venue`.
 * Throws a `UNIFEED_PARSE` error naming the field and stream on a missing or mistyped field, a
 * negative trade count, a candle that opens after its close time or after the event that
 * reports it, or a symbol other than the stream's; ignores unknown fields (`B` and whatever
 * Binance adds). Pure, for replaying recorded data.
 */
export function parseKline(payload: unknown, stream: string, venue: string): KlineEvent {
  const p = object(payload, 'kline payload', stream);
  expectType(p, 'kline', stream);
  const k = object(p.k, "field 'k'", stream);
  const eventTime = asInteger(p.E, 'E', stream);
  const openTime = asInteger(k.t, 't', stream);
  const closeTime = asInteger(k.T, 'T', stream);
  // A candle is identified and ordered by its open time: one from the future would make every
  // real one after it look like a repeat to onlyClosed() and an old candle to a series. A
  // candle's length of slack past `E` leaves room for two servers' clocks at the boundary; a
  // candle further ahead than the next one would have to be.
  if (openTime > closeTime) throw parseError("field 't'", "is after 'T'", stream);
  if (openTime - eventTime > closeTime - openTime + 1) {
    throw parseError("field 't'", "is more than a candle after 'E', the event's time", stream);
  }
  // Named reads (k.o, not k['o'] through a shared helper) keep this hot path monomorphic.
  return {
    type: 'kline',
    venue,
    stream,
    // The candle repeats the symbol; either copy will do when the other is missing.
    symbol: asSymbolOfStream(typeof p.s === 'string' && p.s.length > 0 ? p.s : k.s, 's', stream),
    interval: intervalOfStream(k.i, stream),
    eventTime,
    openTime,
    closeTime,
    firstTradeId: asInteger(k.f, 'f', stream),
    lastTradeId: asInteger(k.L, 'L', stream),
    open: asDecimal(k.o, 'o', stream),
    high: asDecimal(k.h, 'h', stream),
    low: asDecimal(k.l, 'l', stream),
    close: asDecimal(k.c, 'c', stream),
    volume: asDecimal(k.v, 'v', stream),
    quoteVolume: asDecimal(k.q, 'q', stream),
    trades: asUnsignedInteger(k.n, 'n', stream),
    isClosed: asFlag(k.x, 'x', stream),
    takerBuyVolume: asDecimal(k.V, 'V', stream),
    takerBuyQuoteVolume: asDecimal(k.Q, 'Q', stream),
    raw: payload,
  };
}

const KLINE = '@kline_';

/**
 * `k.i`, which must be the interval the stream names (`btcusdt@kline_1m`, or with a suffix:
 * `@kline_1d@+08:00`): a 5m candle on a 1m stream would be taken for a 1m one by a series.
 * A name of another form (a replay's own) is not checked. Case counts: `1M` is a month.
 */
function intervalOfStream(v: unknown, stream: string): string {
  const interval = asText(v, 'i', stream);
  const at = stream.indexOf(KLINE);
  if (at < 0) return interval;
  const start = at + KLINE.length;
  const next = stream.indexOf('@', start);
  const end = next < 0 ? stream.length : next;
  if (end - start !== interval.length || !stream.startsWith(interval, start)) {
    throw parseError("field 'i'", 'is not the interval of the stream', stream);
  }
  return interval;
}
