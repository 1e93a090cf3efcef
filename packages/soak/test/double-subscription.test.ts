import { describe, expect, it } from 'vitest';
import {
  DoubleSubscriptionCheck,
  poolConnectionOf,
  type ServerConnection,
} from '../src/checks/double-subscription.js';

const conn = (id: number, poolConn: number, subs: string[]): ServerConnection => ({
  id,
  slot: `/market/stream?slot=1.${poolConn}`,
  subscriptions: subs,
});

/** Draining server connection 10 (pool connection 1) and the replacement's sockets (pool 2). */
const at = (t: number, ...replacements: number[]) => ({
  at: t,
  duplicateSameConnection: 0,
  connections: [
    conn(10, 1, ['a@kline_1m']),
    ...replacements.map((r) => conn(r, 2, ['a@kline_1m'])),
  ],
  activePoolConnections: new Set([2]),
});

describe('DoubleSubscriptionCheck', () => {
  it('reads the pool connection from a slot key', () => {
    expect(poolConnectionOf('/market/stream?slot=3.17')).toBe(17);
    expect(poolConnectionOf('/private/ws')).toBeUndefined();
  });

  it('fails when a stream is subscribed again on the connection holding it', () => {
    const c = new DoubleSubscriptionCheck();
    const sample = { at: 0, connections: [], activePoolConnections: new Set<number>() };
    c.observe({ ...sample, duplicateSameConnection: 0 });
    c.observe({ ...sample, duplicateSameConnection: 2 });
    expect(c.violations.count).toBe(2);
  });

  it('counts repeats made before the first sample: the warm-up subscribes everything', () => {
    const c = new DoubleSubscriptionCheck();
    c.observe({
      at: 0,
      duplicateSameConnection: 3,
      connections: [],
      activePoolConnections: new Set<number>(),
    });
    expect(c.violations.count).toBe(3);
  });

  it('fails when two active pool connections hold one stream in consecutive samples', () => {
    const c = new DoubleSubscriptionCheck();
    const sample = {
      at: 0,
      duplicateSameConnection: 0,
      connections: [conn(10, 1, ['a@kline_1m', 'b@kline_1m']), conn(11, 2, ['a@kline_1m'])],
      activePoolConnections: new Set([1, 2]),
    };
    c.observe(sample);
    expect(c.violations.count).toBe(0); // one sample may race a close
    c.observe(sample);
    c.observe(sample);
    expect(c.violations.count).toBe(1);
    expect(c.violations.examples[0]).toContain('a@kline_1m');
  });

  it('excuses a rotation: the old connection is draining, or already gone from the pool', () => {
    const c = new DoubleSubscriptionCheck();
    const sample = {
      at: 0,
      duplicateSameConnection: 0,
      connections: [conn(10, 1, ['a@kline_1m']), conn(11, 2, ['a@kline_1m'])],
      activePoolConnections: new Set([2]),
    };
    c.observe(sample);
    c.observe(sample);
    expect(c.violations.count).toBe(0);
  });

  it('a draining connection is excused for overlapMaxMs plus the margin, then counted once', () => {
    const c = new DoubleSubscriptionCheck({ overlapMaxMs: 10_000, marginMs: 5000 });
    expect(c.boundMs).toBe(15_000);
    const sample = (at: number) => ({
      at,
      duplicateSameConnection: 0,
      connections: [
        conn(10, 1, ['a@kline_1m', 'b@kline_1m']),
        conn(11, 2, ['a@kline_1m', 'b@kline_1m']),
      ],
      activePoolConnections: new Set([2]),
    });
    // A rotation stuck in draining: the old connection never closes.
    for (let at = 100_000; at <= 115_000; at += 1000) c.observe(sample(at));
    expect(c.violations.count).toBe(0);
    c.observe(sample(115_001));
    expect(c.violations.count).toBe(1);
    expect(c.violations.examples[0]).toMatch(
      /server connection 10 \(draining\) still held 2 stream/,
    );
    // One violation per stuck connection, however long it stays.
    for (let at = 116_000; at <= 200_000; at += 1000) c.observe(sample(at));
    expect(c.violations.count).toBe(1);
  });

  it('times the excuse from the first overlap with a replacement, and forgets closed connections', () => {
    const c = new DoubleSubscriptionCheck({ overlapMaxMs: 1000, marginMs: 0 });
    c.observe(at(0, 11));
    // Another active connection joins while the first is still there: the clock runs on.
    c.observe(at(600, 11, 12));
    c.observe(at(1200, 12));
    expect(c.violations.count).toBe(1);
    // Gone from the server: forgotten (the map holds listed connections only), so a listing of
    // the id again starts a new excuse.
    c.observe({ ...at(1300, 12), connections: [conn(12, 2, ['a@kline_1m'])] });
    c.observe(at(5000, 12));
    expect(c.violations.count).toBe(1);
  });

  it('restarts the excuse when the replacement reconnects, as the pool restarts its overlap', () => {
    const c = new DoubleSubscriptionCheck({ overlapMaxMs: 10_000, marginMs: 5000 });
    // The replacement's first socket overlaps for 8 s, drops, and its second one (a new server
    // connection, seen between two samples) overlaps until the old connection closes.
    for (let t = 0; t <= 8000; t += 1000) c.observe(at(t, 11));
    for (let t = 9000; t <= 22_000; t += 1000) c.observe(at(t, 12));
    expect(c.violations.count).toBe(0);
    // A sample without the overlap (the replacement between sockets) ends it too.
    c.observe(at(23_000));
    for (let t = 24_000; t <= 38_000; t += 1000) c.observe(at(t, 13));
    expect(c.violations.count).toBe(0);
    // The bound still holds for each replacement socket.
    c.observe(at(39_001, 13));
    expect(c.violations.count).toBe(1);
  });
});
