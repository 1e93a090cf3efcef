import type { Level } from './events.js';

interface Entry {
  /** Sort key: the price for asks, minus the price for bids, so both sort ascending. */
  readonly key: number;
  price: string;
  quantity: string;
}

/** Read access to one side of a book, best level first. */
export interface ReadonlyBookSide {
  /** Number of levels. */
  readonly size: number;
  /** Level `i` (0 = best), or undefined past the end. */
  at(i: number): Level | undefined;
  /** The best `n` levels as new tuples. */
  top(n: number): Level[];
  /** The quantity at `price` (compared numerically: "0.10" finds "0.1"), or undefined. */
  quantity(price: string): string | undefined;
}

/**
 * One side of a book: levels sorted by numeric price in one array, found by binary search.
 * Changing the quantity of an existing level, by far the most common update, is O(log n);
 * adding or removing one is a search and one `splice` (a memory move, no reallocation in the
 * common case). The strings are kept exactly as received: numbers are only for sorting.
 */
export class BookSide implements ReadonlyBookSide {
  readonly #sign: 1 | -1;
  readonly #levels: Entry[] = [];

  /** `bids` sort highest first, `asks` lowest first. */
  constructor(side: 'bids' | 'asks') {
    this.#sign = side === 'bids' ? -1 : 1;
  }

  get size(): number {
    return this.#levels.length;
  }

  /** Set the quantity at a price; a zero quantity removes the level (absent is fine). */
  set(price: string, quantity: string): void {
    const key = this.#sign * Number(price);
    const levels = this.#levels;
    const i = this.#search(key);
    const found = i < levels.length && levels[i]!.key === key;
    if (Number(quantity) === 0) {
      if (found) levels.splice(i, 1);
      return;
    }
    if (found) {
      const e = levels[i]!;
      e.price = price;
      e.quantity = quantity;
    } else {
      levels.splice(i, 0, { key, price, quantity });
    }
  }

  /** Replace everything with `levels` (a snapshot). */
  load(levels: readonly Level[]): void {
    this.#levels.length = 0;
    for (const [price, quantity] of levels) this.set(price, quantity);
  }

  at(i: number): Level | undefined {
    const e = this.#levels[i];
    return e === undefined ? undefined : [e.price, e.quantity];
  }

  top(n: number): Level[] {
    const end = Math.min(n, this.#levels.length);
    const out = new Array<Level>(end);
    for (let i = 0; i < end; i++) {
      const e = this.#levels[i]!;
      out[i] = [e.price, e.quantity];
    }
    return out;
  }

  quantity(price: string): string | undefined {
    const key = this.#sign * Number(price);
    const i = this.#search(key);
    const e = this.#levels[i];
    return e !== undefined && e.key === key ? e.quantity : undefined;
  }

  /** The best price as a number (NaN when empty). */
  bestPrice(): number {
    const e = this.#levels[0];
    return e === undefined ? Number.NaN : this.#sign * e.key;
  }

  /** First index whose key is >= `key`. */
  #search(key: number): number {
    const levels = this.#levels;
    let lo = 0;
    let hi = levels.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (levels[mid]!.key < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
