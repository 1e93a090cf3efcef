import { ErrorCode, UnifeedError } from '@unifeed/core';
import { quoted } from '@unifeed/core/fields';
import { BookSide, type ReadonlyBookSide } from './book-side.js';
import type { Level } from './events.js';

/** Read access to a whole book. */
export interface ReadonlyOrderBook {
  readonly symbol: string;
  /** The update id the book is at. */
  readonly lastUpdateId: number;
  readonly bids: ReadonlyBookSide;
  readonly asks: ReadonlyBookSide;
  /** Best bid >= best ask: a book that cannot be right. */
  crossed(): boolean;
}

/**
 * A price-level book: two sorted sides and the update id it is at. It only stores; whether an
 * update may be applied is the sync's decision ({@link BookSync}).
 */
export class OrderBook implements ReadonlyOrderBook {
  readonly symbol: string;
  readonly bids = new BookSide('bids');
  readonly asks = new BookSide('asks');
  lastUpdateId = 0;
  #undoId = 0;

  constructor(symbol: string) {
    if (typeof symbol !== 'string' || symbol === '') {
      throw new UnifeedError(
        ErrorCode.InvalidOption,
        `an order book's symbol must be a non-empty string, not ${quoted(symbol)}`,
      );
    }
    this.symbol = symbol;
  }

  /** Replace the book with a snapshot. */
  load(bids: readonly Level[], asks: readonly Level[], lastUpdateId: number): void {
    this.bids.load(bids);
    this.asks.load(asks);
    this.lastUpdateId = lastUpdateId;
  }

  /** Apply absolute quantities; "0" removes a level, removing an absent one is normal. */
  apply(bids: readonly Level[], asks: readonly Level[], lastUpdateId: number): void {
    this.bids.mark();
    this.asks.mark();
    this.#undoId = this.lastUpdateId;
    for (let i = 0; i < bids.length; i++) this.bids.set(bids[i]![0], bids[i]![1]);
    for (let i = 0; i < asks.length; i++) this.asks.set(asks[i]![0], asks[i]![1]);
    this.lastUpdateId = lastUpdateId;
  }

  /** Take back the last `apply` (once): the book is exactly as it was before it. */
  undo(): void {
    this.bids.undo();
    this.asks.undo();
    this.lastUpdateId = this.#undoId;
  }

  crossed(): boolean {
    return this.bids.bestPrice() >= this.asks.bestPrice();
  }
}
