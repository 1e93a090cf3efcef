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

describe('DoubleSubscriptionCheck', () => {
  it('reads the pool connection from a slot key', () => {
    expect(poolConnectionOf('/market/stream?slot=3.17')).toBe(17);
    expect(poolConnectionOf('/private/ws')).toBeUndefined();
  });

  it('fails when a stream is subscribed again on the connection holding it', () => {
    const c = new DoubleSubscriptionCheck();
    const sample = { connections: [], activePoolConnections: new Set<number>() };
    c.observe({ ...sample, duplicateSameConnection: 0 });
    c.observe({ ...sample, duplicateSameConnection: 2 });
    expect(c.violations.count).toBe(2);
  });

  it('fails when two active pool connections hold one stream in consecutive samples', () => {
    const c = new DoubleSubscriptionCheck();
    const sample = {
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
      duplicateSameConnection: 0,
      connections: [conn(10, 1, ['a@kline_1m']), conn(11, 2, ['a@kline_1m'])],
      activePoolConnections: new Set([2]),
    };
    c.observe(sample);
    c.observe(sample);
    expect(c.violations.count).toBe(0);
  });
});
