import { describe, expect, it } from 'vitest';
import { HoleCheck } from '../src/checks/holes.js';

const S = 'btcusdt@depth@100ms';
const ev = (first: number, last: number, previous?: number) => ({
  stream: S,
  first,
  last,
  previous,
});

describe('HoleCheck', () => {
  it('passes a continuous chain, repeats and stragglers', () => {
    const h = new HoleCheck();
    h.event(ev(1, 5, 0), 0);
    h.event(ev(6, 9, 5), 10);
    h.event(ev(6, 9, 5), 20); // repeat
    h.event(ev(10, 12, 9), 30);
    h.tick(10_000);
    h.finish();
    expect(h.violations.count).toBe(0);
    expect(h.holes).toBe(0);
  });

  it('fails a hole nobody announced once the grace period is over', () => {
    const h = new HoleCheck({ graceMs: 1000 });
    h.event(ev(1, 5, 0), 0);
    h.event(ev(8, 9, 7), 10);
    h.tick(500);
    expect(h.violations.count).toBe(0);
    h.tick(1500);
    expect(h.violations.count).toBe(1);
  });

  it('spot chains (no pu): U must follow u', () => {
    const h = new HoleCheck({ graceMs: 0 });
    h.event(ev(1, 5), 0);
    h.event(ev(6, 9), 0);
    h.event(ev(11, 12), 0);
    h.finish();
    expect(h.violations.count).toBe(1);
  });

  it('passes a hole announced before it or within the grace period after it', () => {
    const h = new HoleCheck({ graceMs: 1000 });
    h.event(ev(1, 5, 0), 0);
    h.announce(S, 5); // reconnect gap, then the hole
    h.event(ev(8, 9, 7), 10);
    h.event(ev(12, 13, 11), 20); // the book's resync comes right after
    h.announce(S, 30);
    h.tick(5000);
    h.finish();
    expect(h.holes).toBe(2);
    expect(h.violations.count).toBe(0);
  });

  it('an announcement explains one hole, not the next', () => {
    const h = new HoleCheck({ graceMs: 1000 });
    h.event(ev(1, 5, 0), 0);
    h.event(ev(8, 9, 7), 10);
    h.announce(S, 20);
    h.event(ev(12, 13, 11), 30);
    h.finish();
    expect(h.violations.count).toBe(1);
  });
});

describe('HoleCheck while the consumer is not live', () => {
  it('a hole while the book waits for a snapshot is announced by that state; after it, not', () => {
    const h = new HoleCheck({ graceMs: 0 });
    h.event(ev(1, 5, 0), 0);
    h.pause(S, true);
    h.event(ev(8, 9, 7), 10);
    h.pause(S, false);
    h.event(ev(12, 13, 11), 20);
    h.finish();
    expect(h.holes).toBe(2);
    expect(h.violations.count).toBe(1);
  });
});
