import {
  ErrorCode,
  UnifeedError,
  USDM_KLINE_INTERVALS,
  type FeedPlugin,
  type StreamPool,
  type Venue,
} from '@unifeed/core';
import type { Observable } from 'rxjs';
import { streamSymbol } from '@unifeed/core/fields';
import type { KlineEvent, KlineInterval } from './event.js';
import { parseKline } from './parse.js';

/** Parameters of the kline feeds: every symbol times every interval, in one call. */
export interface KlineParams {
  /** Symbols in any case, e.g. `['BTCUSDT', 'ethusdt']`; at least one. */
  readonly symbols: readonly string[];
  /** Intervals, exactly as Binance writes them (`1M` is a month, `1m` a minute); at least one. */
  readonly intervals: readonly KlineInterval[];
}

interface VenueKlines {
  readonly intervals: ReadonlySet<string>;
  /** ms between pushes of a `kline_<interval>` stream. */
  cadenceMs(interval: string): number;
}

const FUTURES_INTERVALS = USDM_KLINE_INTERVALS;

/** Per venue (protocol.md): its intervals and push cadence. */
const VENUES: Readonly<Record<string, VenueKlines>> = {
  'binance-spot': {
    intervals: new Set(['1s', ...FUTURES_INTERVALS]),
    cadenceMs: (interval) => (interval === '1s' ? 1000 : 2000),
  },
  'binance-usdm': {
    intervals: new Set(FUTURES_INTERVALS),
    cadenceMs: () => 250,
  },
};

const PREFIX = '@kline_';

function venueKlines(venue: Venue): VenueKlines {
  const v = Object.hasOwn(VENUES, venue.name) ? VENUES[venue.name] : undefined;
  if (v === undefined) {
    throw new UnifeedError(ErrorCode.InvalidStream, `${venue.name} has no kline streams`);
  }
  return v;
}

function nonEmpty(name: string, list: readonly unknown[]): void {
  if (!Array.isArray(list) || list.length === 0) {
    throw new UnifeedError(ErrorCode.InvalidOption, `\`${name}\` must be a non-empty array`);
  }
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
    nonEmpty('symbols', params.symbols);
    nonEmpty('intervals', params.intervals);
    for (const i of params.intervals) {
      if (!v.intervals.has(i)) {
        throw new UnifeedError(
          ErrorCode.InvalidStream,
          `${venue.name} has no kline interval ${JSON.stringify(i)} (it has ${[...v.intervals].join(' ')})`,
        );
      }
    }
    const out: string[] = [];
    for (const s of params.symbols) {
      const sym = streamSymbol(s);
      for (const i of params.intervals) out.push(`${sym}${PREFIX}${i}`);
    }
    return out;
  },
  parse: (payload, stream, venue) => parseKline(payload, stream, venue.name),
  // A candle's closing update and the next one's first can share one event time: the closing
  // one sorts first, so that neither is taken for a repeat of the other.
  sequence: (e) => e.eventTime * 2 + (e.isClosed ? 0 : 1),
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
  return pool.observe(kline, params);
}
