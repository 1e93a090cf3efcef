import { describe, expect, it } from 'vitest';
import { binanceUsdm } from '../src/binance.js';
import { PoolConnection } from '../src/pool-connection.js';
import { ManualClock, flushMicrotasks } from '../src/testing/index.js';
import type { UnifiedFeed } from '../src/unified-feed.js';

/** A connection on a fake feed that takes every frame; what it sent and what was refused. */
function connection() {
  const clock = new ManualClock(1000);
  const sent: string[] = [];
  const refused: string[] = [];
  const conn = new PoolConnection(1, 'market', {
    clock,
    venue: binanceUsdm(),
    requestTimeoutMs: 10_000,
    heldElsewhere: () => false,
    events: { rejected: (s) => refused.push(s), answered: () => {}, timedOut: () => {} },
  });
  conn.feed = {
    state: 'open',
    send: (text: string) => sent.push(text) > 0,
  } as unknown as UnifiedFeed;
  return { clock, conn, sent, refused };
}

describe('PoolConnection', () => {
  it('an error naming no request answers the one in flight only when read after it went out', async () => {
    const { clock, conn, sent, refused } = connection();
    conn.desired.add('nosuchcoin@aggTrade');
    conn.opened();
    await flushMicrotasks();
    expect(sent).toHaveLength(1);
    const refusal = { code: 2, msg: 'Invalid request: invalid stream' };
    // Read before the request went out (a dropped socket's, still queued): not its answer.
    expect(conn.answer(null, refusal, clock.monotonic() - 1)).toBe(false);
    expect(refused).toEqual([]);
    await clock.advance(5);
    expect(conn.answer(null, refusal, clock.monotonic())).toBe(true);
    expect(refused).toEqual(['nosuchcoin@aggTrade']);
    expect(conn.desired.size).toBe(0);
  });
});
