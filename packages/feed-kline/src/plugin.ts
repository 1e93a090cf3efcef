import {
  ErrorCode,
  marketStream,
  requireList,
  requireObject,
  requirePool,
  UnifeedError,
  UPBIT_CANDLE_INTERVALS,
  USDM_KLINE_INTERVALS,
  type FeedPlugin,
  type StreamPool,
  type Venue,
} from '@unifeed/core';
import type { Observable } from 'rxjs';
import { quoted, streamSymbol } from '@unifeed/core/fields';
import type { KlineEvent, KlineInterval } from './event.js';
import { parseKline } from './parse.js';
import { parseUpbitCandle } from './upbit.js';

/** Parameters of the kline feeds: every symbol times every interval, in one call. */
export interface KlineParams {
  /** Symbols in any case, e.g. `['BTCUSDT', 'ethusdt']`, or Upbit codes (`KRW-BTC`); at least one. */
  readonly symbols: readonly string[];
  /**
   * Intervals, exactly as the venue writes them (`1M` is a month, `1m` a minute; Upbit's hours
   * are `60m` and `240m`); at least one.
   */
  readonly intervals: readonly KlineInterval[];
}

interface VenueKlines {
  readonly intervals: ReadonlySet<string>;
  /** ms between pushes of a stream of `interval`; undefined when pushed on trades only. */
  cadenceMs(interval: string): number | undefined;
  /** The stream of one symbol and interval. */
  stream(symbol: string, interval: string): string;
  /** Whether the venue's candles say when they close (`x`): {@link closedKlines} needs it. */
  readonly flagsClosed: boolean;
}

const FUTURES_INTERVALS = USDM_KLINE_INTERVALS;
const PREFIX = '@kline_';

/** Per venue (protocol.md): its intervals and push cadence. */
const VENUES: Readonly<Record<string, VenueKlines>> = {
  'binance-spot': {
    intervals: new Set(['1s', ...FUTURES_INTERVALS]),
    cadenceMs: (interval) => (interval === '1s' ? 1000 : 2000),
    stream: binanceStream,
    flagsClosed: true,
  },
  'binance-usdm': {
    intervals: new Set(FUTURES_INTERVALS),
    cadenceMs: () => 250,
    stream: binanceStream,
    flagsClosed: true,
  },
  // Upbit pushes a candle when a trade changes it: a quiet market's candle may be silent long.
  upbit: {
    intervals: new Set(UPBIT_CANDLE_INTERVALS),
    cadenceMs: () => undefined,
    stream: (symbol, interval) => marketStream(`candle.${interval}` as 'candle.1m', symbol),
    flagsClosed: false,
  },
};

function binanceStream(symbol: string, interval: string): string {
  return `${streamSymbol(symbol)}${PREFIX}${interval}`;
}

function venueKlines(venue: Venue): VenueKlines {
  const v = Object.hasOwn(VENUES, venue.name) ? VENUES[venue.name] : undefined;
  if (v === undefined) {
    throw new UnifeedError(ErrorCode.InvalidStream, `${venue.name} has no kline streams`);
  }
  return v;
}

/**
 * Klines of every interval a venue has, for many symbols and intervals in one call (531 x 6
 * is one `observe`; the pool batches the subscriptions). An interval the venue lacks
 * (futures `1s`, `2m`, a lower-cased `1M`...) is `UNIFEED_INVALID_STREAM` at the call.
 */
export const kline: FeedPlugin<KlineParams, KlineEvent> = {
  name: 'kline',
  streams(params, venue) {
    const v = venueKlines(venue);
    requireObject('the parameters of kline', params);
    requireList('symbols', params.symbols);
    requireList('intervals', params.intervals);
    for (const i of params.intervals) {
      if (!v.intervals.has(i)) {
        throw new UnifeedError(
          ErrorCode.InvalidStream,
          `${venue.name} has no kline interval ${quoted(i)} (it has ${[...v.intervals].join(' ')})`,
        );
      }
    }
    const out: string[] = [];
    for (const s of params.symbols) {
      for (const i of params.intervals) out.push(v.stream(s, i));
    }
    return out;
  },
  parse: (payload, stream, venue) =>
    venue.name === 'upbit'
      ? parseUpbitCandle(payload, stream, venue.name)
      : parseKline(payload, stream, venue.name),
  // A candle's closing update and the next one's first can share one event time: the closing
  // one sorts first, so that neither is taken for a repeat of the other. Upbit pushes a candle
  // on every trade with no id and says nothing of closing: two in one ms are two states.
  sequence: (e) => (e.venue === 'upbit' ? undefined : e.eventTime * 2 + (e.isClosed ? 0 : 1)),
  cadenceMs(stream, venue) {
    const at = stream.lastIndexOf(PREFIX);
    return at < 0 ? undefined : venueKlines(venue).cadenceMs(stream.slice(at + PREFIX.length));
  },
};

/**
 * Every kline update of `params` on `pool`: `pool.observe(kline, params)`. Throws at the call
 * for an interval or symbol the venue does not have.
 */
export function klines(pool: StreamPool, params: KlineParams): Observable<KlineEvent> {
  requirePool(pool);
  return pool.observe(kline, params);
}

/**
 * Throws `UNIFEED_INVALID_STREAM` when `venue`'s candles never say that they closed (Upbit):
 * finished candles cannot be told from the stream there, and guessing from the clock or the
 * next candle is what {@link closedKlines} promises not to do.
 */
export function requireClosedFlag(venue: Venue): void {
  if (!venueKlines(venue).flagsClosed) throw noClosedFlag(venue.name);
}

/**
 * `UNIFEED_INVALID_STREAM` when the venue named `venue` is one whose candles never say that
 * they closed (Upbit), else undefined: also for a venue not known here, whose events may well
 * carry the flag.
 */
export function closedFlagError(venue: string): UnifeedError | undefined {
  return Object.hasOwn(VENUES, venue) && !VENUES[venue]!.flagsClosed
    ? noClosedFlag(venue)
    : undefined;
}

function noClosedFlag(venue: string): UnifeedError {
  return new UnifeedError(
    ErrorCode.InvalidStream,
    `${venue} candles do not say when they close: use klines() (each update is the candle so far)`,
  );
}
