import { describe, expect, it } from 'vitest';
import { addFeedStats } from '../src/feed-stats.js';
import { LatencyHistogram } from '../src/histogram.js';
import type { UnifiedFeedStats } from '../src/unified-feed.js';

function stats(n: number, state: UnifiedFeedStats['state'], lagMs: number[]): UnifiedFeedStats {
  const lag = new LatencyHistogram();
  for (const ms of lagMs) lag.record(ms);
  return {
    name: 'account',
    state,
    connections: n,
    reconnects: n - 1,
    attempts: n,
    messages: 10 * n,
    bytes: 1000 * n,
    decodeErrors: n,
    oversizedFrames: n,
    pingsSent: n,
    stales: n,
    lastMessageAt: n,
    queue: {
      depth: n,
      maxDepth: 5 * n,
      capacity: 100,
      dropped: n,
      conflated: 2 * n,
      paused: n > 1,
      pauses: n,
      dropsByKey: { a: n, [`k${n}`]: 1 },
    },
    lag: lag.summary(),
  };
}

describe('addFeedStats', () => {
  it('sums the counters of a replaced feed into the current one; the present is the current', () => {
    const s = addFeedStats(stats(1, 'stopped', [0.4, 3]), stats(2, 'open', [30]));
    expect(s).toMatchObject({
      state: 'open',
      connections: 3,
      reconnects: 1,
      attempts: 2,
      messages: 30,
      bytes: 3000,
      decodeErrors: 3,
      oversizedFrames: 3,
      pingsSent: 3,
      stales: 3,
      lastMessageAt: 2,
      queue: { depth: 2, maxDepth: 10, dropped: 3, conflated: 6, paused: true, pauses: 3 },
    });
    expect(s.queue.dropsByKey).toEqual({ a: 3, k1: 1, k2: 1 });
    expect(s.lag).toMatchObject({ count: 3, maxMs: 30 });
    expect(s.lag.sumMs).toBeCloseTo(33.4);
  });
});
