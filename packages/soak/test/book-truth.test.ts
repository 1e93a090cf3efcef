import { describe, expect, it } from 'vitest';
import { BookTruthCheck, type BookSides } from '../src/checks/book-truth.js';

const truthBook: BookSides = {
  bids: [
    ['100.0', '1'],
    ['99.9', '2'],
  ],
  asks: [['100.1', '3']],
};
const truth = (_symbol: string, id: number) => (id >= 10 ? truthBook : undefined);

describe('BookTruthCheck', () => {
  it('passes a live book equal to the truth and ignores books not live', () => {
    const c = new BookTruthCheck(truth);
    c.view('BTCUSDT', 'live', 10, truthBook);
    c.view('BTCUSDT', 'resyncing', 11, { bids: [], asks: [] });
    expect(c.violations.count).toBe(0);
    expect(c.checked).toBe(1);
  });

  it('fails a live book with a wrong, missing or extra level', () => {
    const c = new BookTruthCheck(truth);
    c.view('BTCUSDT', 'live', 10, { ...truthBook, asks: [['100.1', '4']] });
    c.view('BTCUSDT', 'live', 11, { ...truthBook, bids: truthBook.bids.slice(0, 1) });
    c.view('BTCUSDT', 'live', 12, { ...truthBook, asks: [...truthBook.asks, ['100.2', '1']] });
    expect(c.violations.count).toBe(3);
  });

  it('counts a view the truth has forgotten as unverified, not as checked', () => {
    const c = new BookTruthCheck(truth);
    c.view('BTCUSDT', 'live', 3, { bids: [], asks: [] });
    expect(c.unverified).toBe(1);
    expect(c.checked).toBe(0);
    expect(c.violations.count).toBe(0);
  });
});
