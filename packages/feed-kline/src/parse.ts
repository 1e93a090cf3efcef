import type { KlineEvent } from './event.js';
import { decimal, expectType, flag, integer, object, text } from '@unifeed/core/fields';

/**
 * Parse one kline payload (`{"e":"kline","E":..,"s":..,"k":{..}}`) of `stream` from `venue`.
 * Throws a `UNIFEED_PARSE` error naming the field and stream on a missing or mistyped field;
 * ignores unknown fields (`B` and whatever Binance adds). Pure, for replaying recorded data.
 */
export function parseKline(payload: unknown, stream: string, venue: string): KlineEvent {
  const p = object(payload, 'kline payload', stream);
  expectType(p, 'kline', stream);
  const k = object(p.k, "field 'k'", stream);
  return {
    type: 'kline',
    venue,
    stream,
    // The candle repeats the symbol; either copy will do when the other is missing.
    symbol: typeof p.s === 'string' && p.s.length > 0 ? p.s : text(k, 's', stream),
    interval: text(k, 'i', stream),
    eventTime: integer(p, 'E', stream),
    openTime: integer(k, 't', stream),
    closeTime: integer(k, 'T', stream),
    firstTradeId: integer(k, 'f', stream),
    lastTradeId: integer(k, 'L', stream),
    open: decimal(k, 'o', stream),
    high: decimal(k, 'h', stream),
    low: decimal(k, 'l', stream),
    close: decimal(k, 'c', stream),
    volume: decimal(k, 'v', stream),
    quoteVolume: decimal(k, 'q', stream),
    trades: integer(k, 'n', stream),
    isClosed: flag(k, 'x', stream),
    takerBuyVolume: decimal(k, 'V', stream),
    takerBuyQuoteVolume: decimal(k, 'Q', stream),
    raw: payload,
  };
}
