import { ViolationLog } from './violations.js';

/** Recent ids remembered per stream: a repeat within them is a second delivery. */
const RECENT = 16;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Length of a kline interval (`1m`, `4h`, `1w`); undefined for months, which vary. */
export function intervalMs(interval: string): number | undefined {
  const m = /^(\d+)([smhdw])$/.exec(interval);
  if (m === null) return undefined;
  const unit = m[2] === 'w' ? 7 * 86_400_000 : UNIT_MS[m[2]!]!;
  return Number(m[1]) * unit;
}

/** The fields of an order update its key is made of (`FuturesOrderUpdate` has them). */
export interface OrderUpdateFields {
  readonly symbol: string;
  readonly orderId: string;
  readonly executionType: string;
  readonly status: string;
  readonly tradeId: string | undefined;
  readonly filledQuantity: string;
  readonly transactionTime: number;
  readonly price: string;
  readonly quantity: string;
}

/**
 * The id of one real order update, for {@link DeliveryCheck.event}: the venue gives none, so it
 * is made of what must differ between two updates of an order. NEW, CANCELED and EXPIRED
 * happen once per order (execution type and status); each fill has its own trade id and a
 * larger cumulative filled quantity; a cancel right after a fill in the same millisecond
 * differs in type and status; an amendment changes the price or the quantity, and a later one
 * has a later transaction time. Order ids are unique per symbol only. The event time is left
 * out: a replayed frame may be stamped anew, and a replay is exactly what this must catch.
 * Written here, not imported from the feed, so that the check does not share the feed's
 * mistakes.
 */
export function orderUpdateKey(o: OrderUpdateFields): string {
  return `${o.symbol} ${o.orderId} ${o.executionType}/${o.status} trade ${o.tradeId ?? '-'} filled ${o.filledQuantity} at ${o.transactionTime} ${o.quantity}@${o.price}`;
}

interface CandleTrack {
  lastOpen: number;
  /** A gap was announced for the stream since the last closed candle. */
  gapSince: boolean;
}

/**
 * Events delivered twice to a subscriber, and closed candles missed. Ids of events that carry
 * one (book ticker update ids, closed candles' open times, order update keys) are remembered
 * per stream; a repeat
 * is a second delivery. Closed candles of a stream must follow each other one interval apart,
 * unless the pool announced a gap on that stream in between (a candle that closed while the
 * connection was down is not invented, the hole is reported instead).
 */
export class DeliveryCheck {
  readonly duplicates = new ViolationLog('an event delivered twice to a subscriber');
  readonly missed = new ViolationLog('a closed candle missed');
  readonly #recent = new Map<string, (number | string)[]>();
  /** By `subscriber|stream`. */
  readonly #candles = new Map<string, CandleTrack>();
  /** Candle tracks of each stream, whichever subscriber. */
  readonly #byStream = new Map<string, CandleTrack[]>();
  #closed = 0;
  #events = 0;

  /** Closed candles seen. */
  get closedCandles(): number {
    return this.#closed;
  }

  /** Events with an id seen. */
  get events(): number {
    return this.#events;
  }

  /** The pool announced a hole in `stream`. */
  gap(stream: string): void {
    for (const track of this.#byStream.get(stream) ?? []) track.gapSince = true;
  }

  /**
   * An event with a per-stream id that never repeats (update id, trade id, an
   * {@link orderUpdateKey}).
   */
  event(subscriber: string, stream: string, id: number | string): void {
    this.#events++;
    const key = `${subscriber}|${stream}`;
    let recent = this.#recent.get(key);
    if (recent === undefined) this.#recent.set(key, (recent = []));
    if (recent.includes(id)) {
      this.duplicates.add(`${subscriber}: ${stream} id ${id} again`);
      return;
    }
    recent.push(id);
    if (recent.length > RECENT) recent.shift();
  }

  /** A closed candle delivered to `subscriber`. */
  closedCandle(subscriber: string, stream: string, interval: string, openTime: number): void {
    this.#closed++;
    this.event(subscriber, stream, openTime);
    const length = intervalMs(interval);
    const key = `${subscriber}|${stream}`;
    const track = this.#candles.get(key);
    if (track === undefined) {
      const fresh = { lastOpen: openTime, gapSince: false };
      this.#candles.set(key, fresh);
      let list = this.#byStream.get(stream);
      if (list === undefined) this.#byStream.set(stream, (list = []));
      list.push(fresh);
      return;
    }
    if (length === undefined) return;
    if (openTime <= track.lastOpen) return; // a repeat, counted above, or a late straggler
    const skipped = Math.round((openTime - track.lastOpen) / length) - 1;
    if (skipped > 0 && !track.gapSince) {
      this.missed.add(
        `${key}: ${skipped} candle(s) after ${new Date(track.lastOpen).toISOString()} with no gap announced`,
        skipped,
      );
    }
    track.lastOpen = openTime;
    track.gapSince = false;
  }
}
