import {
  asInteger,
  asSymbolOfStream,
  asText,
  asUnsignedNumericDecimal,
  object,
  parseError,
} from '@unifeed/core/fields';
import type { KlineEvent } from './event.js';

const MINUTE = 60_000;

/** Length of an Upbit candle interval (`1s`, `1m` ... `240m`) in ms; undefined for anything else. */
export function upbitIntervalMs(interval: string): number | undefined {
  if (interval === '1s') return 1000;
  const m = /^(\d{1,3})m$/.exec(interval);
  return m === null ? undefined : Number(m[1]) * MINUTE;
}

/** Upbit's `candle_date_time_utc` form. */
const UTC_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/;

/**
 * `2026-01-05T03:15:00` (UTC, as Upbit writes `candle_date_time_utc`) -> ms, or NaN for any
 * other text and for a time that does not exist: `Date.parse` rolls `2026-02-30` over to
 * March 2 and `24:00:00` to the next day, a candle that never was, so the time must read back
 * as written. Before 1970 is no Upbit candle.
 */
function utcMs(text: string): number {
  if (!UTC_TIME.test(text)) return Number.NaN;
  const ms = Date.parse(`${text}Z`);
  return ms >= 0 && new Date(ms).toISOString().startsWith(text) ? ms : Number.NaN;
}

/**
 * One Upbit candle (`candle.<interval>`, DEFAULT format) as a {@link KlineEvent}. Prices and
 * volumes, JSON numbers on the wire, become exact decimal strings. Upbit sends no trade ids,
 * trade count, taker volumes or closed flag: those are undefined, and `isClosed` is false.
 * `UNIFEED_PARSE` for a start that is no real UTC time, is off the interval's grid or is after
 * `timestamp`; a negative price or volume; a `code` other than the stream's.
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
  // Candles start on their interval's grid (whole minutes, hours; 240m at 00:00 UTC, 09:00
  // KST): an open time off it is no candle of this series, and a later one would not replace it.
  if (openTime % length !== 0) {
    throw parseError("field 'candle_date_time_utc'", `is not a ${interval} candle's start`, stream);
  }
  const eventTime = asInteger(p.timestamp, 'timestamp', stream);
  if (openTime > eventTime) {
    throw parseError("field 'candle_date_time_utc'", "is after 'timestamp'", stream);
  }
  return {
    type: 'kline',
    venue,
    stream,
    symbol: asSymbolOfStream(p.code, 'code', stream),
    interval,
    eventTime,
    openTime,
    closeTime: openTime + length - 1,
    firstTradeId: undefined,
    lastTradeId: undefined,
    open: asUnsignedNumericDecimal(p.opening_price, 'opening_price', stream),
    high: asUnsignedNumericDecimal(p.high_price, 'high_price', stream),
    low: asUnsignedNumericDecimal(p.low_price, 'low_price', stream),
    close: asUnsignedNumericDecimal(p.trade_price, 'trade_price', stream),
    volume: asUnsignedNumericDecimal(p.candle_acc_trade_volume, 'candle_acc_trade_volume', stream),
    quoteVolume: asUnsignedNumericDecimal(
      p.candle_acc_trade_price,
      'candle_acc_trade_price',
      stream,
    ),
    trades: undefined,
    isClosed: false,
    takerBuyVolume: undefined,
    takerBuyQuoteVolume: undefined,
    raw: payload,
  };
}
