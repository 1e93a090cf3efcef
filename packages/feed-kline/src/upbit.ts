import { asInteger, asNumericDecimal, asText, object, parseError } from '@unifeed/core/fields';
import type { KlineEvent } from './event.js';

const MINUTE = 60_000;

/** Length of an Upbit candle interval (`1s`, `1m` ... `240m`) in ms; undefined for anything else. */
export function upbitIntervalMs(interval: string): number | undefined {
  if (interval === '1s') return 1000;
  const m = /^(\d{1,3})m$/.exec(interval);
  return m === null ? undefined : Number(m[1]) * MINUTE;
}

/** `2026-01-05T03:15:00` (UTC, as Upbit writes `candle_date_time_utc`) -> ms, or NaN. */
function utcMs(text: string): number {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(text) ? Date.parse(`${text}Z`) : Number.NaN;
}

/**
 * One Upbit candle (`candle.<interval>`, DEFAULT format) as a {@link KlineEvent}. Prices and
 * volumes, JSON numbers on the wire, become exact decimal strings. Upbit sends no trade ids,
 * trade count, taker volumes or closed flag: those are undefined, and `isClosed` is false.
 */
export function parseUpbitCandle(payload: unknown, stream: string, venue: string): KlineEvent {
  const p = object(payload, 'candle payload', stream);
  const type = asText(p.type, 'type', stream);
  const interval = type.startsWith('candle.') ? type.slice(7) : '';
  const length = upbitIntervalMs(interval);
  if (length === undefined) throw parseError("field 'type'", 'is not an Upbit candle type', stream);
  const openTime = utcMs(asText(p.candle_date_time_utc, 'candle_date_time_utc', stream));
  if (!Number.isSafeInteger(openTime)) {
    throw parseError("field 'candle_date_time_utc'", 'is not a UTC date and time', stream);
  }
  return {
    type: 'kline',
    venue,
    stream,
    symbol: asText(p.code, 'code', stream),
    interval,
    eventTime: asInteger(p.timestamp, 'timestamp', stream),
    openTime,
    closeTime: openTime + length - 1,
    firstTradeId: undefined,
    lastTradeId: undefined,
    open: asNumericDecimal(p.opening_price, 'opening_price', stream),
    high: asNumericDecimal(p.high_price, 'high_price', stream),
    low: asNumericDecimal(p.low_price, 'low_price', stream),
    close: asNumericDecimal(p.trade_price, 'trade_price', stream),
    volume: asNumericDecimal(p.candle_acc_trade_volume, 'candle_acc_trade_volume', stream),
    quoteVolume: asNumericDecimal(p.candle_acc_trade_price, 'candle_acc_trade_price', stream),
    trades: undefined,
    isClosed: false,
    takerBuyVolume: undefined,
    takerBuyQuoteVolume: undefined,
    raw: payload,
  };
}
