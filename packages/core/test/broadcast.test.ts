import { config } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { Broadcast } from '../src/broadcast.js';

describe('Broadcast', () => {
  it('is hot: each subscriber gets what comes after it joined, in order, until it leaves', () => {
    const b = new Broadcast<number>();
    const log: string[] = [];
    b.next(0); // nobody yet
    const first = b.observable.subscribe((v) => log.push(`a:${v}`));
    b.next(1);
    b.observable.subscribe((v) => log.push(`b:${v}`));
    b.next(2);
    first.unsubscribe();
    b.next(3);
    expect(log).toEqual(['a:1', 'a:2', 'b:2', 'b:3']);
  });

  it('a subscriber that leaves during a value is gone from the next value on', () => {
    const b = new Broadcast<number>();
    const log: string[] = [];
    const leaving = b.observable.subscribe((v) => log.push(`a:${v}`));
    b.observable.subscribe((v) => {
      log.push(`b:${v}`);
      leaving.unsubscribe();
    });
    b.next(1);
    b.next(2);
    expect(log).toEqual(['a:1', 'b:1', 'b:2']);
  });

  it('a subscriber that throws keeps nothing from the others: rxjs reports the error apart', () => {
    vi.useFakeTimers();
    const reported: unknown[] = [];
    config.onUnhandledError = (err) => reported.push(err);
    try {
      const b = new Broadcast<number>();
      const log: number[] = [];
      b.observable.subscribe(() => {
        throw new Error('subscriber bug');
      });
      b.observable.subscribe((v) => log.push(v));
      expect(() => b.next(1)).not.toThrow();
      expect(log).toEqual([1]);
      vi.runAllTimers();
      expect(reported).toMatchObject([{ message: 'subscriber bug' }]);
    } finally {
      config.onUnhandledError = null;
      vi.useRealTimers();
    }
  });

  it('complete() completes every subscriber once, and completes late ones at once', () => {
    const b = new Broadcast<number>();
    const log: string[] = [];
    const sub = b.observable.subscribe({ complete: () => log.push('a:complete') });
    b.complete();
    b.complete();
    expect(sub.closed).toBe(true);
    b.next(1);
    b.observable.subscribe({
      next: (v) => log.push(`late:${v}`),
      complete: () => log.push('late:complete'),
    });
    expect(log).toEqual(['a:complete', 'late:complete']);
  });

  it('a value sent from a complete handler reaches no one, as with a Subject', () => {
    const b = new Broadcast<number>();
    const log: string[] = [];
    b.observable.subscribe({ complete: () => b.next(9) });
    b.observable.subscribe({
      next: (v) => log.push(`b:${v}`),
      complete: () => log.push('b:complete'),
    });
    b.complete();
    expect(log).toEqual(['b:complete']);
  });

  it('finishDelivery: a value delivered from inside a callback comes after the one under way, for everyone', () => {
    const b = new Broadcast<number>();
    const got: string[] = [];
    b.observable.subscribe((v) => {
      got.push(`a${v}`);
      if (v === 1) {
        b.finishDelivery(); // as flush() does, before it delivers what is queued
        b.next(2);
      }
    });
    b.observable.subscribe((v) => got.push(`b${v}`));
    b.observable.subscribe((v) => got.push(`c${v}`));
    b.next(1);
    b.next(3);
    expect(got).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'c2', 'a3', 'b3', 'c3']);
    b.finishDelivery(); // no delivery under way: nothing
    expect(got).toHaveLength(9);
  });

  // Pins that a subscriber leaving from its own callback does not shift the others. Found by
  // mutation: the next subscriber in line was skipped for that value, a silently lost update.
  it('a subscriber that leaves during its own value costs the next one nothing', () => {
    const b = new Broadcast<number>();
    const log: string[] = [];
    const sub = b.observable.subscribe((v) => {
      log.push(`a:${v}`);
      sub.unsubscribe();
    });
    b.observable.subscribe((v) => log.push(`b:${v}`));
    b.observable.subscribe((v) => log.push(`c:${v}`));
    b.next(1);
    b.next(2);
    expect(log).toEqual(['a:1', 'b:1', 'c:1', 'b:2', 'c:2']);
  });

  // Pins that a subscriber joining mid-delivery waits for the next value, and that a nested
  // next() does not cut the outer delivery short. Found by mutation: the late one got a value
  // from before it joined, or the others lost the outer value.
  it('a subscriber that joins during a value gets only the next; a nested delivery leaves the outer one whole', () => {
    const b = new Broadcast<number>();
    const log: string[] = [];
    b.observable.subscribe((v) => {
      log.push(`a:${v}`);
      if (v === 1) {
        b.observable.subscribe((w) => log.push(`late:${w}`));
        b.next(2);
      }
    });
    b.observable.subscribe((v) => log.push(`b:${v}`));
    b.next(1);
    expect(log.filter((l) => l.startsWith('b:')).sort()).toEqual(['b:1', 'b:2']);
    expect(log.filter((l) => l.startsWith('late:'))).toEqual(['late:2']);
  });
});
