import {
  ErrorCode,
  given,
  requireInRange,
  requireObject,
  requirePositiveInteger,
  UnifeedError,
  type StreamPool,
} from '@unifeed/core';
import { quoted } from '@unifeed/core/fields';
import { Observable, type OperatorFunction } from 'rxjs';
import type { KlineEvent } from './event.js';
import { eachCandle } from './operator-input.js';
import { klines, type KlineParams } from './plugin.js';

/** Candles kept per symbol and interval unless told otherwise (the seeds' buffer). */
export const DEFAULT_SERIES_LENGTH = 1000;
/**
 * Most candles a series keeps: its ring is allocated whole, per symbol and interval, so a
 * length of 2^32 threw inside the stream, and 10^8 took 800 MB a series.
 */
export const MAX_SERIES_LENGTH = 1_000_000;

function requireLength(name: string, length: number): void {
  requirePositiveInteger(name, length);
  requireInRange(name, length, 1, MAX_SERIES_LENGTH);
}

/** What {@link KlineSeries.apply} did with a candle. */
export type SeriesChange =
  /** A newer candle than any held: appended, the oldest evicted when full. */
  | 'append'
  /** A held candle (usually the newest, or the previous one closing late) was replaced. */
  | 'update'
  /**
   * An older candle not held (a gap backfilled, history applied after the first live
   * update): put in its place by open time; the oldest is evicted when full.
   */
  | 'insert'
  /**
   * Not applied: a non-final update of a closed candle, or, in a full series, a candle older
   * than the oldest held.
   */
  | 'ignored';

/**
 * The last `capacity` candles of one (venue, stream), oldest first, in a ring buffer: O(1)
 * per update and never more than `capacity` entries. It is live: it changes as updates come,
 * so read it in the callback or take `toArray()`.
 */
export class KlineSeries implements Iterable<KlineEvent> {
  /** Most candles held; the oldest is evicted beyond. */
  readonly capacity: number;
  readonly #ring: (KlineEvent | undefined)[];
  /** Index of the oldest candle in `#ring`. */
  #head = 0;
  #length = 0;

  constructor(capacity: number = DEFAULT_SERIES_LENGTH) {
    requireLength('capacity', capacity);
    this.capacity = capacity;
    this.#ring = new Array<KlineEvent | undefined>(capacity);
  }

  /** Candles held now, at most `capacity`. */
  get length(): number {
    return this.#length;
  }

  /** The candle at `index` (0 = oldest; negative counts from the newest, -1 = newest). */
  at(index: number): KlineEvent | undefined {
    const i = index < 0 ? this.#length + index : index;
    if (!Number.isInteger(i) || i < 0 || i >= this.#length) return undefined;
    return this.#ring[(this.#head + i) % this.capacity];
  }

  /** The newest candle: the one forming now, or the last closed one. */
  last(): KlineEvent | undefined {
    return this.at(-1);
  }

  /** A copy, oldest first. */
  toArray(): KlineEvent[] {
    const out = new Array<KlineEvent>(this.#length);
    for (let i = 0; i < this.#length; i++) out[i] = this.#ring[(this.#head + i) % this.capacity]!;
    return out;
  }

  *[Symbol.iterator](): Iterator<KlineEvent> {
    for (let i = 0; i < this.#length; i++) yield this.#ring[(this.#head + i) % this.capacity]!;
  }

  /**
   * Apply one update of this series' stream: replace the candle with the same open time,
   * append a newer one, or put an older one not held in its place. A closed candle is final:
   * a late non-final update of it is ignored. Public so that history (REST klines) can fill
   * the series, before live updates or after them, and a gap can be backfilled.
   */
  apply(candle: KlineEvent): SeriesChange {
    // History comes from the caller's own code: a candle without a time would land anywhere.
    if (typeof candle !== 'object' || candle === null || !Number.isSafeInteger(candle.openTime)) {
      throw new UnifeedError(
        ErrorCode.InvalidOption,
        `a series applies a KlineEvent with an integer openTime, not ${quoted(candle)}`,
      );
    }
    const n = this.#length;
    const newest = n === 0 ? undefined : this.#ring[(this.#head + n - 1) % this.capacity]!;
    if (newest === undefined || candle.openTime > newest.openTime) {
      this.#put(n, candle);
      return 'append';
    }
    // Same or older open time: almost always the newest or the one before it (a late close).
    for (let i = n - 1; i >= 0; i--) {
      const slot = (this.#head + i) % this.capacity;
      const held = this.#ring[slot]!;
      if (held.openTime === candle.openTime) {
        if (held.isClosed && !candle.isClosed) return 'ignored';
        // An older state of the forming candle (reordered by a relay) would roll it back.
        if (!held.isClosed && !candle.isClosed && candle.eventTime < held.eventTime) {
          return 'ignored';
        }
        this.#ring[slot] = candle;
        return 'update';
      }
      if (held.openTime < candle.openTime) return this.#put(i + 1, candle) ? 'insert' : 'ignored';
    }
    return this.#put(0, candle) ? 'insert' : 'ignored';
  }

  /**
   * Put `candle` at `index` (0 = oldest; the length appends), moving newer ones up (none for
   * an append, O(n) for a backfill) and evicting the oldest when full. False when a full series
   * would evict the candle itself: it is older than everything kept.
   */
  #put(index: number, candle: KlineEvent): boolean {
    const cap = this.capacity;
    if (this.#length === cap) {
      if (index === 0) return false;
      this.#head = (this.#head + 1) % cap;
      this.#length--;
      index--;
    }
    for (let i = this.#length; i > index; i--) {
      this.#ring[(this.#head + i) % cap] = this.#ring[(this.#head + i - 1) % cap];
    }
    this.#ring[(this.#head + index) % cap] = candle;
    this.#length++;
    return true;
  }
}

/** One change of a series: the series after it, and the candle that changed it. */
export interface KlineSeriesUpdate {
  /** The (live) series of `candle.stream`; the same object for the life of the subscription. */
  readonly series: KlineSeries;
  /** The update just applied. */
  readonly candle: KlineEvent;
  /** How it was applied (`ignored` updates are not emitted). */
  readonly change: Exclude<SeriesChange, 'ignored'>;
}

/** Options of {@link klineSeries} and {@link toSeries}. */
export interface KlineSeriesOptions {
  /**
   * Candles kept per symbol and interval (closed ones and the forming one), at most 1,000,000.
   * @default 1000
   */
  readonly length?: number | undefined;
}

/**
 * Keep one {@link KlineSeries} per (venue, stream) of the kline updates passing through, and
 * emit every change. Each subscription has its own series.
 */
export function toSeries(
  options?: KlineSeriesOptions,
): OperatorFunction<KlineEvent, KlineSeriesUpdate> {
  // Only a length left out is the default: `null` is refused like any other non-length.
  const length = given(
    requireObject('the series options', options, true).length,
    DEFAULT_SERIES_LENGTH,
  );
  requireLength('length', length);
  return (source) =>
    new Observable<KlineSeriesUpdate>((subscriber) => {
      const series = new Map<string, Map<string, KlineSeries>>();
      return source.subscribe({
        next: eachCandle(subscriber, (candle) => {
          let byStream = series.get(candle.venue);
          if (byStream === undefined) series.set(candle.venue, (byStream = new Map()));
          let s = byStream.get(candle.stream);
          if (s === undefined) byStream.set(candle.stream, (s = new KlineSeries(length)));
          const change = s.apply(candle);
          if (change !== 'ignored') subscriber.next({ series: s, candle, change });
        }),
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}

/**
 * The last `length` candles of every symbol and interval of `params`, kept current by updates
 * and closed candles, bounded by `length`. Emits on every change; throws at the call for an
 * interval the venue does not have or a bad `length`.
 */
export function klineSeries(
  pool: StreamPool,
  params: KlineParams,
  options?: KlineSeriesOptions,
): Observable<KlineSeriesUpdate> {
  const op = toSeries(options);
  return klines(pool, params).pipe(op);
}
