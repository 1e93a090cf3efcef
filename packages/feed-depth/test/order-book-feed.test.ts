import {
  binanceSpot,
  ErrorCode,
  RestClient,
  StreamPool,
  upbit,
  type Venue,
  type WebSocketConstructor,
} from '@unifeed/core';
import { ManualClock } from '@unifeed/core/testing';
import type { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { bookDeltas, bookStats, orderBook } from '../src/index.js';
import { MINUTE, scriptedFetch } from './harness.js';

/**
 * A pool whose status handler closes it as its first connection starts (core allows this),
 * after `first` ran; the socket it would open is counted, and never opened.
 */
function closingPool(venue: Venue, first: (pool: StreamPool, rest: RestClient) => void = () => {}) {
  const clock = new ManualClock(10 * MINUTE);
  const sockets = { made: 0 };
  const WebSocket = class {
    constructor() {
      sockets.made++;
    }
  } as unknown as WebSocketConstructor;
  const pool = new StreamPool({ venue, WebSocket, clock, random: () => 0 });
  const { calls, fetch } = scriptedFetch();
  const rest = new RestClient({ baseUrl: 'https://rest.test', clock, fetch });
  pool.status$.subscribe((s) => {
    if (s.type !== 'connection' || s.status.type !== 'connecting') return;
    first(pool, rest);
    void pool.close();
  });
  return { clock, pool, rest, calls, sockets };
}

/** What a subscriber is told, in order. */
function record<T extends { state?: string; type?: string }>(o: Observable<T>): string[] {
  const told: string[] = [];
  o.subscribe({
    next: (v) => told.push(`next ${v.state ?? v.type}`),
    error: (e: { code?: string }) => told.push(`error ${e.code}`),
    complete: () => told.push('complete'),
  });
  return told;
}

describe('a book whose pool closes while the book subscribes', () => {
  it('completes its subscriber at once and leaves no timer, snapshot request or book behind', async () => {
    const h = closingPool(binanceSpot());
    const told = record(orderBook(h.pool, { symbol: 'BTCUSDT', rest: h.rest }));
    // As core's observe() does for a stream joined while its pool closed.
    expect(told).toEqual(['complete']);
    expect(h.clock.pending).toBe(0);
    await h.clock.advance(MINUTE);
    expect(h.calls).toHaveLength(0);
    expect(told).toEqual(['complete']);
    expect(bookStats(h.pool)).toEqual([]);
    expect(h.sockets.made).toBe(0);
  });

  it('completes every subscriber, bookDeltas and one that joined while the book started', async () => {
    let nested: string[] = [];
    // Joins the book being started, which then ends.
    const h = closingPool(binanceSpot(), (pool, rest) => {
      nested = record(orderBook(pool, { symbol: 'BTCUSDT', rest }));
    });
    const told = record(bookDeltas(h.pool, { symbol: 'BTCUSDT', rest: h.rest }));
    expect(nested).toEqual(['next syncing', 'complete']);
    expect(told).toEqual(['complete']);
    await h.clock.advance(MINUTE);
    expect([h.clock.pending, h.calls.length, h.sockets.made]).toEqual([0, 0, 0]);
  });

  it('on Upbit too: complete, without a view of a book that will never sync', async () => {
    const h = closingPool(upbit());
    const told = record(orderBook(h.pool, { symbol: 'KRW-BTC' }));
    expect(told).toEqual(['complete']);
    await h.clock.advance(MINUTE);
    expect(told).toEqual(['complete']);
    expect(bookStats(h.pool)).toEqual([]);
    expect(h.clock.pending).toBe(0);
  });

  it('a subscriber after the pool closed is refused with UNIFEED_POOL_CLOSED, as observe() is', async () => {
    const h = closingPool(binanceSpot());
    const book = orderBook(h.pool, { symbol: 'BTCUSDT', rest: h.rest });
    expect(record(book)).toEqual(['complete']);
    expect(record(book)).toEqual([`error ${ErrorCode.PoolClosed}`]);
    await h.clock.advance(MINUTE);
    expect([h.clock.pending, h.calls.length]).toEqual([0, 0]);
  });
});

describe('quietSnapshotMs', () => {
  const pool = new StreamPool({ venue: binanceSpot(), clock: new ManualClock(0) });

  it('is refused unless an integer from 0 to 2^31 - 1: Node would fire any other timer after 1 ms', () => {
    for (const bad of [NaN, -1, 0.5, Infinity, 2 ** 31, '5000' as unknown as number]) {
      expect(
        () => orderBook(pool, { symbol: 'BTCUSDT', quietSnapshotMs: bad }),
        String(bad),
      ).toThrow(
        expect.objectContaining({
          code: ErrorCode.InvalidOption,
          message: expect.stringContaining('quietSnapshotMs'),
        }),
      );
      expect(() => bookDeltas(pool, { symbol: 'BTCUSDT', quietSnapshotMs: bad })).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidOption }),
      );
    }
    for (const good of [0, 1, 2 ** 31 - 1]) {
      expect(() => orderBook(pool, { symbol: 'BTCUSDT', quietSnapshotMs: good })).not.toThrow();
    }
  });
});
