import { binanceUsdm, RestClient, silentLogger } from '@unifeed/core';
import { ManualClock } from '@unifeed/core/testing';
import { describe, expect, it } from 'vitest';
import { BookSync } from '../src/book-sync.js';
import { depthDialect } from '../src/dialect.js';
import { diff, MINUTE } from './harness.js';

const BOOKS = 500;
const VENUE_LIMIT = 2400;
/** USD-M weight of a 1,000-level snapshot. */
const WEIGHT = 20;

/**
 * A venue REST side that charges weight per calendar minute as Binance does and answers 429
 * past its limit; every snapshot is at update id 1000 for any symbol.
 */
function weightedVenue(clock: ManualClock) {
  const seen = { requests: 0, status429: 0, maxUsed: 0 };
  let minute = -1;
  let used = 0;
  const fetch = (url: string | URL | Request): Promise<Response> => {
    seen.requests++;
    const m = Math.floor(clock.now() / MINUTE);
    if (m !== minute) [minute, used] = [m, 0];
    const weight = Number(new URL(String(url)).searchParams.get('limit')) === 1000 ? WEIGHT : 1;
    used += weight;
    seen.maxUsed = Math.max(seen.maxUsed, used);
    const headers = { 'x-mbx-used-weight-1m': String(used) };
    if (used > VENUE_LIMIT) {
      seen.status429++;
      return Promise.resolve(
        new Response('{"code":-1003}', {
          status: 429,
          headers: { ...headers, 'retry-after': '60' },
        }),
      );
    }
    const body = { lastUpdateId: 1000, bids: [['1.0', '1']], asks: [['2.0', '1']] };
    return Promise.resolve(new Response(JSON.stringify(body), { status: 200, headers }));
  };
  return { seen, fetch: fetch as typeof globalThis.fetch };
}

describe('a 500-book resync storm', () => {
  it('stays inside the weight budget: no 429, every book live once the budget allows', async () => {
    const clock = new ManualClock(100 * MINUTE);
    const venue = weightedVenue(clock);
    const rest = new RestClient({
      baseUrl: 'https://fapi.test',
      clock,
      fetch: venue.fetch,
      maxWeightPerMinute: Math.floor(VENUE_LIMIT * 0.8),
    });
    const books = Array.from(
      { length: BOOKS },
      (_, i) =>
        new BookSync({
          book: `sym${i}usdt@depth@100ms`,
          symbol: `SYM${i}USDT`,
          dialect: depthDialect(binanceUsdm()),
          rest,
          snapshotLimit: 1000,
          maxBuffer: 2000,
          quietSnapshotMs: 10 * MINUTE,
          clock,
          random: () => 0.5,
          logger: silentLogger,
          onChange: () => {},
          onFatal: () => {},
        }),
    );
    // Answers go through real Response streams: let them finish at this instant of the clock.
    const settle = async () => {
      for (let i = 0; i < 1000 && (rest.stats().inFlight > 0 || i < 3); i++) {
        await new Promise((r) => setImmediate(r));
      }
    };
    const liveAfter = async (id: number) => {
      let minutes = 0;
      while (books.some((b) => b.state !== 'live') && minutes < 20) {
        for (const b of books) if (b.state !== 'live') b.onDiff(diff(id, id + 5, [], [], id - 1));
        await settle();
        // A second at a time: the answers are real streams, read in real turns of the event
        // loop, and a minute in one jump would pass their calls' 10 s timeout before that.
        for (let s = 0; s < 60; s++) {
          await clock.advance(1000);
          await settle();
        }
        minutes++;
      }
      return minutes;
    };

    // Everything at once: the first sync of 500 books, as after a process start.
    const first = await liveAfter(999);
    expect(books.every((b) => b.state === 'live')).toBe(true);
    // 500 x 20 = 10,000 weight at 1,920 a minute: six minutes (and the skew guard's second
    // past each minute), not a 429.
    const minutes = Math.ceil((BOOKS * WEIGHT) / 1920);
    expect(first).toBeGreaterThanOrEqual(minutes);
    expect(first).toBeLessThanOrEqual(minutes + 1);
    expect(venue.seen.status429).toBe(0);
    expect(venue.seen.maxUsed).toBeLessThanOrEqual(1920);

    // Then a mass reconnect announces a hole in every stream at once.
    for (const b of books) b.onStreamGap();
    expect(books.every((b) => b.state === 'resyncing')).toBe(true);
    await liveAfter(999);
    expect(books.every((b) => b.state === 'live')).toBe(true);
    expect(venue.seen.status429).toBe(0);
    expect(venue.seen.requests).toBe(2 * BOOKS);
    expect(rest.stats()).toMatchObject({ status429: 0, failures: 0, pending: 0 });
    for (const b of books) b.stop();
    expect(clock.pending).toBe(0);
  });
});
