import type { BookLevels } from './market/book.js';
import type { Market } from './market/market.js';
import type { Encoder } from './payloads.js';
import type { DiffLogEntry, StreamHub } from './server/hub.js';

/** A book as decimal strings, best level first. */
export interface TruthBook {
  lastUpdateId: number;
  bids: [string, string][];
  asks: [string, string][];
}

/**
 * Ground truth for tests: the exact book at the latest update id, the book right after any
 * recent diff event, and the log of diff events sent (or withheld by a gap fault).
 */
export class Truth {
  readonly #market: Market;
  readonly #encoder: Encoder;
  readonly #hub: StreamHub;

  constructor(market: Market, encoder: Encoder, hub: StreamHub) {
    this.#market = market;
    this.#encoder = encoder;
    this.#hub = hub;
  }

  #format(symbol: string, levels: BookLevels): TruthBook {
    const m = this.#market.get(symbol);
    if (m === undefined) return { lastUpdateId: 0, bids: [], asks: [] };
    const f = (l: [number, number]): [string, string] => [
      this.#encoder.px(m, l[0]),
      this.#encoder.qty(m, l[1]),
    ];
    return {
      lastUpdateId: levels.lastUpdateId,
      bids: levels.bids.map(f),
      asks: levels.asks.map(f),
    };
  }

  /** The full book now; undefined for an unknown symbol. */
  book(symbol: string, depth = Number.MAX_SAFE_INTEGER): TruthBook | undefined {
    const s = symbol.toUpperCase();
    const m = this.#market.get(s);
    if (m === undefined) return undefined;
    return this.#format(s, m.book.top(depth));
  }

  /**
   * The full book right after update id `updateId` (the `u` of a diff event or a snapshot's
   * `lastUpdateId`); undefined when it is older than the kept history.
   */
  bookAt(symbol: string, updateId: number): TruthBook | undefined {
    const s = symbol.toUpperCase();
    const levels = this.#market.get(s)?.bookAt(updateId);
    return levels === undefined ? undefined : this.#format(s, levels);
  }

  /** Diff events of `symbol`, oldest first (bounded). */
  diffLog(symbol: string): readonly DiffLogEntry[] {
    return this.#hub.diffLog(symbol.toUpperCase());
  }

  /** Last traded price of `symbol` as a decimal string. */
  lastPrice(symbol: string): string | undefined {
    const m = this.#market.get(symbol.toUpperCase());
    return m === undefined ? undefined : this.#encoder.px(m, m.lastPrice);
  }
}
