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

const DASH = 45;
const COLON = 58;
const LETTER_T = 84;
const ZERO = 48;

/**
 * `2026-01-05T03:15:00` (UTC, as Upbit writes `candle_date_time_utc`) -> ms, or NaN for any
 * other text and for a time that does not exist: `Date.parse` would roll `2026-02-30` over to
 * March 2 and `24:00:00` to the next day, a candle that never was.
 */
function utcMs(s: string): number {
  if (
    s.length !== 19 ||
    s.charCodeAt(4) !== DASH ||
    s.charCodeAt(7) !== DASH ||
    s.charCodeAt(10) !== LETTER_T ||
    s.charCodeAt(13) !== COLON ||
    s.charCodeAt(16) !== COLON
  ) {
    return Number.NaN;
  }
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  // NaN (a non-digit) fails every comparison. Before 1970 is no Upbit candle, and Date.UTC
  // would take a year below 100 for 19xx.
  const valid =
    year >= 1970 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59;
  return valid ? Date.UTC(year, month - 1, day, hour, minute, second) : Number.NaN;
}

/** The `length` digits of `s` at `from` as a number, or NaN if one is not a digit. */
function digits(s: string, from: number, length: number): number {
  let n = 0;
  for (let i = from; i < from + length; i++) {
    const d = s.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return n;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  // 31 for January, March, May, July, August, October, December.
  return 30 + ((month + (month >> 3)) & 1);
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
