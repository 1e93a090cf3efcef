import type { KlineEvent } from './event.js';
import { asDecimal, asFlag, asInteger, asText, expectType, object } from '@unifeed/core/fields';

/**
 * Parse one kline payload (`{"e":"kline","E":..,"s":..,"k":{..}}`) of `stream` from `venue`.
 * Throws a `UNIFEED_PARSE` error naming the field and stream on a missing or mistyped field;
 * ignores unknown fields (`B` and whatever Binance adds). Pure, for replaying recorded data.
 */
export function parseKline(payload: unknown, stream: string, venue: string): KlineEvent {
  const p = object(payload, 'kline payload', stream);
  expectType(p, 'kline', stream);
  const k = object(p.k, "field 'k'", stream);
  // Named reads (k.o, not k['o'] through a shared helper) keep this hot path monomorphic.
  return {
    type: 'kline',
    venue,
    stream,
    // The candle repeats the symbol; either copy will do when the other is missing.
    symbol: typeof p.s === 'string' && p.s.length > 0 ? p.s : asText(k.s, 's', stream),
    interval: asText(k.i, 'i', stream),
    eventTime: asInteger(p.E, 'E', stream),
    openTime: asInteger(k.t, 't', stream),
    closeTime: asInteger(k.T, 'T', stream),
    firstTradeId: asInteger(k.f, 'f', stream),
    lastTradeId: asInteger(k.L, 'L', stream),
    open: asDecimal(k.o, 'o', stream),
    high: asDecimal(k.h, 'h', stream),
    low: asDecimal(k.l, 'l', stream),
    close: asDecimal(k.c, 'c', stream),
    volume: asDecimal(k.v, 'v', stream),
    quoteVolume: asDecimal(k.q, 'q', stream),
    trades: asInteger(k.n, 'n', stream),
    isClosed: asFlag(k.x, 'x', stream),
    takerBuyVolume: asDecimal(k.V, 'V', stream),
    takerBuyQuoteVolume: asDecimal(k.Q, 'Q', stream),
    raw: payload,
  };
}
