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
  // What the last `apply` changed, to take it back. Reused from update to update, so that
  // being able to undo costs three array writes per level and no allocation.
  readonly #undoSides: BookSide[] = [];
  readonly #undoPrices: string[] = [];
  readonly #undoQuantities: (string | undefined)[] = [];
  #undoLength = 0;
  #undoId = 0;

  constructor(symbol: string) {
    this.symbol = symbol;
  }

  /** Replace the book with a snapshot. */
  load(bids: readonly Level[], asks: readonly Level[], lastUpdateId: number): void {
    this.#undoLength = 0;
    this.bids.load(bids);
    this.asks.load(asks);
    this.lastUpdateId = lastUpdateId;
  }

  /** Apply absolute quantities; "0" removes a level, removing an absent one is normal. */
  apply(bids: readonly Level[], asks: readonly Level[], lastUpdateId: number): void {
    this.#undoLength = 0;
    this.#undoId = this.lastUpdateId;
    this.#side(this.bids, bids);
    this.#side(this.asks, asks);
    this.lastUpdateId = lastUpdateId;
  }

  /** Take back the last `apply` (once): the book is as it was before it. */
  undo(): void {
    for (let i = this.#undoLength - 1; i >= 0; i--) {
      this.#undoSides[i]!.set(this.#undoPrices[i]!, this.#undoQuantities[i] ?? '0');
    }
    this.#undoLength = 0;
    this.lastUpdateId = this.#undoId;
  }

  #side(side: BookSide, levels: readonly Level[]): void {
    for (let i = 0; i < levels.length; i++) {
      const price = levels[i]![0];
      const n = this.#undoLength++;
      this.#undoSides[n] = side;
      this.#undoPrices[n] = price;
      this.#undoQuantities[n] = side.set(price, levels[i]![1]);
    }
  }

  crossed(): boolean {
    return this.bids.bestPrice() >= this.asks.bestPrice();
  }
}
