import { ViolationLog } from './violations.js';

type Levels = readonly (readonly [string, string])[];

/** A book's two sides, best first. */
export interface BookSides {
  bids: Levels;
  asks: Levels;
}

/** The exchange's book of `symbol` right after update `id`; undefined once out of its history. */
export type TruthSource = (symbol: string, id: number) => BookSides | undefined;

function sameSide(a: Levels, b: Levels): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
  }
  return true;
}

/**
 * An order book that differs from the exchange's truth while it says `live`. Every live view
 * is compared level for level, as exact strings, with the truth at the view's update id, in the
 * handler before the market moves on. Views whose id the truth no longer keeps are counted as
 * unverified, not as passes.
 */
export class BookTruthCheck {
  readonly violations = new ViolationLog('a live order book that differs from the truth');
  readonly #truth: TruthSource;
  #checked = 0;
  #unverified = 0;

  constructor(truth: TruthSource) {
    this.#truth = truth;
  }

  get checked(): number {
    return this.#checked;
  }

  get unverified(): number {
    return this.#unverified;
  }

  view(symbol: string, state: string, lastUpdateId: number, book: BookSides | undefined): void {
    if (state !== 'live' || book === undefined) return;
    const truth = this.#truth(symbol, lastUpdateId);
    if (truth === undefined) {
      this.#unverified++;
      return;
    }
    this.#checked++;
    if (!sameSide(book.bids, truth.bids) || !sameSide(book.asks, truth.asks)) {
      this.violations.add(
        `${symbol}@${lastUpdateId}: best ${book.bids[0]?.[0] ?? '-'}/${book.asks[0]?.[0] ?? '-'}, truth ${truth.bids[0]?.[0] ?? '-'}/${truth.asks[0]?.[0] ?? '-'}, levels ${book.bids.length}+${book.asks.length} vs ${truth.bids.length}+${truth.asks.length}`,
      );
    }
  }
}
