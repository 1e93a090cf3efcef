import { ErrorCode, UnifeedError } from '@unifeed/core';
import { quoted } from '@unifeed/core/fields';
import type { Level } from './events.js';

interface Entry {
  /** Numeric price, for sorting only. */
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
 * One side of a book. Levels sit in one array sorted so that the best is last, because
 * nearly all activity is near the top: adding or removing a level there moves a few entries,
 * not the whole book. A map from the price text finds an existing level without parsing the
 * price, which is most updates (a quantity change); a new price is parsed once and placed by
 * binary search. The strings are kept exactly as received: numbers are only for sorting.
 */
export class BookSide implements ReadonlyBookSide {
  /** +1 for bids (ascending, best = highest last), -1 for asks (descending, best = lowest last). */
  readonly #dir: 1 | -1;
  readonly #levels: Entry[] = [];
  readonly #byText = new Map<string, Entry>();
  // What `set` changed since `mark()`, to take it back: the text and quantity a level had
  // (undefined: it was absent). Reused from update to update: no allocation once warm.
  readonly #undoText: string[] = [];
  readonly #undoQuantity: (string | undefined)[] = [];
  #undoLength = 0;
  /** Whether `set` is recorded: from `mark()` until `undo()`, so that an unmarked side keeps no log. */
  #recording = false;

  constructor(side: 'bids' | 'asks') {
    // Anything but 'bids' would silently sort as asks: the best bid would be the lowest.
    if (side !== 'bids' && side !== 'asks') {
      throw new UnifeedError(
        ErrorCode.InvalidOption,
        `a book side is 'bids' or 'asks', not ${quoted(side)}`,
      );
    }
    this.#dir = side === 'bids' ? 1 : -1;
  }

  get size(): number {
    return this.#levels.length;
  }

  /**
   * Set the quantity at a price; a zero quantity ("0", "0.000") removes the level, and
   * removing an absent level is fine.
   */
  set(price: string, quantity: string): void {
    let e = this.#byText.get(price);
    if (e === undefined) {
      const key = Number(price);
      const i = this.#search(key);
      const at = this.#levels[i];
      if (at !== undefined && at.key === key) {
        // The same price written differently ("0.1" and "0.10"): one level, the newest text.
        this.#log(at.price, at.quantity);
        this.#byText.delete(at.price);
        at.price = price;
        this.#byText.set(price, at);
        e = at;
      } else {
        if (isZero(quantity)) return;
        this.#log(price, undefined);
        this.#levels.splice(i, 0, (e = { key, price, quantity }));
        this.#byText.set(price, e);
        return;
      }
    } else {
      this.#log(price, e.quantity);
    }
    if (isZero(quantity)) {
      this.#levels.splice(this.#search(e.key), 1);
      this.#byText.delete(e.price);
    } else {
      e.quantity = quantity;
    }
  }

  /** Replace everything with `levels` (a snapshot). */
  load(levels: readonly Level[]): void {
    // One sort instead of a `set` per level: snapshots list the best level first and the best
    // is stored last, so inserting level by level would move the whole array every time.
    const byKey = new Map<number, Entry>();
    for (const [price, quantity] of levels) {
      const key = Number(price);
      if (isZero(quantity)) byKey.delete(key);
      else byKey.set(key, { key, price, quantity });
    }
    const dir = this.#dir;
    const sorted = [...byKey.values()].sort((a, b) => dir * (a.key - b.key));
    this.#levels.length = 0;
    this.#byText.clear();
    for (const e of sorted) {
      this.#levels.push(e);
      this.#byText.set(e.price, e);
    }
    // A loaded side has nothing to take back.
    this.#undoLength = 0;
    this.#recording = false;
  }

  /** Start a change: `undo()` takes back every `set` from here on. */
  mark(): void {
    this.#undoLength = 0;
    this.#recording = true;
  }

  /** Take back every `set` since `mark()`, texts included. */
  undo(): void {
    this.#recording = false;
    for (let i = this.#undoLength - 1; i >= 0; i--) {
      // By the old text: a differently written price is found by value and renamed back.
      this.set(this.#undoText[i]!, this.#undoQuantity[i] ?? '0');
    }
    this.#undoLength = 0;
  }

  #log(text: string, quantity: string | undefined): void {
    if (!this.#recording) return;
    const n = this.#undoLength++;
    this.#undoText[n] = text;
    this.#undoQuantity[n] = quantity;
  }

  at(i: number): Level | undefined {
    const e = this.#levels[this.#levels.length - 1 - i];
    return e === undefined || i < 0 ? undefined : [e.price, e.quantity];
  }

  top(n: number): Level[] {
    const levels = this.#levels;
    const end = Math.min(n, levels.length);
    const out = new Array<Level>(end);
    for (let i = 0; i < end; i++) {
      const e = levels[levels.length - 1 - i]!;
      out[i] = [e.price, e.quantity];
    }
    return out;
  }

  quantity(price: string): string | undefined {
    const hit = this.#byText.get(price);
    if (hit !== undefined) return hit.quantity;
    const key = Number(price);
    const e = this.#levels[this.#search(key)];
    return e !== undefined && e.key === key ? e.quantity : undefined;
  }

  /** Levels at `price` or better (a number, as the sort reads prices). */
  countTo(price: number): number {
    return this.#levels.length - this.#search(price);
  }

  /** The best price as a number (NaN when empty). */
  bestPrice(): number {
    const e = this.#levels[this.#levels.length - 1];
    return e === undefined ? Number.NaN : e.key;
  }

  /** The index of `key`, or where it would be inserted. */
  #search(key: number): number {
    const levels = this.#levels;
    const dir = this.#dir;
    let lo = 0;
    let hi = levels.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (dir * levels[mid]!.key < dir * key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** "0", "0.000", "0.00000000": quantities are non-negative decimal strings. */
function isZero(quantity: string): boolean {
  for (let i = 0; i < quantity.length; i++) {
    const c = quantity.charCodeAt(i);
    if (c !== 48 && c !== 46) return false;
  }
  return true;
}
