import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Level } from '../src/events.js';
import { BookSide } from '../src/book-side.js';
import { OrderBook } from '../src/order-book.js';
import { levels } from './harness.js';

/** The obvious book: a map per side, sorted only when read. */
class NaiveBook {
  readonly bids = new Map<number, Level>();
  readonly asks = new Map<number, Level>();

  apply(bids: readonly Level[], asks: readonly Level[]): void {
    for (const [side, list] of [
      [this.bids, bids],
      [this.asks, asks],
    ] as const) {
      for (const [p, q] of list) {
        if (Number(q) === 0) side.delete(Number(p));
        else side.set(Number(p), [p, q]);
      }
    }
  }

  levels(): { bids: Level[]; asks: Level[] } {
    const sorted = (m: Map<number, Level>, dir: 1 | -1) =>
      [...m.entries()].sort((a, b) => dir * (a[0] - b[0])).map(([, l]) => [l[0], l[1]] as Level);
    return { bids: sorted(this.bids, -1), asks: sorted(this.asks, 1) };
  }
}

/** Prices written several ways ("12.5", "12.50", "012.5" is not Binance's, so not used). */
const price = fc
  .tuple(fc.integer({ min: 1, max: 400 }), fc.constantFrom(0, 1, 2))
  .map(([ticks, extra]) => (ticks / 4).toFixed(2 + extra));
const quantity = fc.oneof(
  fc.constantFrom('0', '0.000', '0.00000000'),
  fc.integer({ min: 1, max: 10_000 }).map((n) => (n / 100).toFixed(2)),
);
const level = fc.tuple(price, quantity) as fc.Arbitrary<Level>;
const update = fc.record({
  bids: fc.array(level, { maxLength: 12 }),
  asks: fc.array(level, { maxLength: 12 }),
});

describe('OrderBook against a naive reference', () => {
  it('any sequence of diffs (repeated prices, zero deletes, absent deletes) gives the same book', () => {
    fc.assert(
      fc.property(fc.array(update, { maxLength: 60 }), (updates) => {
        const book = new OrderBook('X');
        const ref = new NaiveBook();
        let id = 0;
        for (const u of updates) {
          book.apply(u.bids, u.asks, ++id);
          ref.apply(u.bids, u.asks);
        }
        expect(levels(book)).toEqual(ref.levels());
        expect(book.lastUpdateId).toBe(id);
      }),
      { numRuns: 300 },
    );
  });

  it('a snapshot load then diffs equals the reference, and lookups compare prices numerically', () => {
    fc.assert(
      fc.property(update, fc.array(update, { maxLength: 20 }), (snap, updates) => {
        const book = new OrderBook('X');
        const ref = new NaiveBook();
        book.load(snap.bids, snap.asks, 1);
        ref.apply(snap.bids, snap.asks);
        for (const u of updates) {
          book.apply(u.bids, u.asks, 2);
          ref.apply(u.bids, u.asks);
        }
        expect(levels(book)).toEqual(ref.levels());
        for (const [p, l] of ref.bids) {
          expect(book.bids.quantity(String(p))).toBe(l[1]);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('undo takes back exactly the last update, whatever it was', () => {
    fc.assert(
      fc.property(update, update, update, (snap, before, last) => {
        const book = new OrderBook('X');
        book.load(snap.bids, snap.asks, 1);
        book.apply(before.bids, before.asks, 2);
        const expected = levels(book);
        book.apply(last.bids, last.asks, 3);
        book.undo();
        expect(levels(book)).toEqual(expected);
        expect(book.lastUpdateId).toBe(2);
      }),
      { numRuns: 300 },
    );
  });

  it('one price written two ways is one level, under its newest text', () => {
    const book = new OrderBook('X');
    book.apply([['0.1', '5']], [], 1);
    book.apply([['0.10', '6']], [], 2);
    expect(levels(book).bids).toEqual([['0.10', '6']]);
    expect(book.bids.quantity('0.1')).toBe('6');
    book.apply([['0.100', '0']], [], 3);
    expect(book.bids.size).toBe(0);
  });

  it('keeps the strings as received and sorts numerically, not as text', () => {
    const book = new OrderBook('X');
    book.apply(
      [
        ['9.5', '1'],
        ['10.25', '2'],
        ['100', '3'],
      ],
      [
        ['200.0', '1'],
        ['1000', '1'],
        ['99.999', '1'],
      ],
      1,
    );
    expect(levels(book)).toEqual({
      bids: [
        ['100', '3'],
        ['10.25', '2'],
        ['9.5', '1'],
      ],
      asks: [
        ['99.999', '1'],
        ['200.0', '1'],
        ['1000', '1'],
      ],
    });
    book.apply([['10.250', '0.000']], [], 2);
    expect(book.bids.size).toBe(2);
  });
});

describe('BookSide', () => {
  // Found in review: every set() was logged for undo(), and only mark() cleared the log, so a
  // side used on its own grew by one entry per update for ever, and undo() took back all of it.
  it('keeps no undo log unless a change is marked, and undo() takes back only that change', () => {
    const side = new BookSide('bids');
    for (let i = 0; i < 1000; i++) side.set('100.5', i % 2 ? '1' : '2');
    side.undo(); // nothing marked: nothing to take back
    expect(side.top(side.size)).toEqual([['100.5', '1']]);
    side.mark();
    side.set('100.5', '7');
    side.set('99.5', '3');
    side.undo();
    expect(side.top(side.size)).toEqual([['100.5', '1']]);
    side.undo(); // once only
    expect(side.top(side.size)).toEqual([['100.5', '1']]);
    side.load([['98.0', '1']]);
    side.undo(); // a load is not a change to take back
    expect(side.top(side.size)).toEqual([['98.0', '1']]);
  });
});
