import { binanceSpot, RestClient, StreamPool } from '@unifeed/core';
import { bookStats, orderBook, type BookView } from '@unifeed/feed-depth';
import { afterEach, expect, it } from 'vitest';
import { binanceDepthMarket } from './support/binance-depth.js';
import { waitFor } from './support/ws-server.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

// Pins that a book's "known levels" need shrinks when its deepest view leaves. Found by
// mutation: the book kept resyncing as too shallow for a depth-5 view nobody held any more,
// each resync a REST snapshot (weight) and a gap in the depth-1 view that was left.
it('a deep view that leaves no longer makes the book resync as shallow for it', async () => {
  const asks = new Map<number, string>([101, 102, 103, 104, 105, 106, 107].map((p) => [p, '1']));
  const top = (n: number) =>
    [...asks]
      .sort((a, b) => a[0] - b[0])
      .slice(0, n)
      .map(([p, q]) => [p.toFixed(1), q]);
  const market = await binanceDepthMarket((limit) => ({ bids: [['99.0', '1']], asks: top(limit) }));
  cleanup.push(() => market.close());
  const change = (price: number, qty: string) => {
    if (qty === '0') asks.delete(price);
    else asks.set(price, qty);
    market.diff({ a: [[price.toFixed(1), qty]] });
  };
  const options = { symbol: 'BTCUSDT', snapshotLimit: 5, rest: market.rest, random: () => 0 };
  let last: BookView | undefined;
  orderBook(market.pool, { ...options, depth: 1 }).subscribe((v) => (last = v));
  const deep = orderBook(market.pool, { ...options, depth: 5 }).subscribe();
  await market.subscribed();
  change(101, '2');
  await waitFor(() => last?.state === 'live' && last.lastUpdateId === market.id(), 5000);
  deep.unsubscribe(); // only the depth-1 view is left
  for (const price of [101, 102]) {
    change(price, '0');
    await waitFor(() => last?.lastUpdateId === market.id(), 5000);
  }
  expect(last).toMatchObject({ state: 'live', asks: [['103.0', '1']] });
  expect(bookStats(market.pool)[0]).toMatchObject({ shallow: 0 });
  expect(market.snapshots()).toBe(1);
});

// Pins maxBuffer as part of the book's key. Found by mutation: a view asking for a smaller
// buffer shared a book kept with the default one, and so did not get the limit it asked for.
it('views asking for different maxBuffer keep books of their own', async () => {
  const fetch = () => new Promise<Response>(() => {});
  const rest = new RestClient({ baseUrl: 'https://rest.test', fetch: fetch as typeof fetch });
  const pool = new StreamPool({
    venue: binanceSpot({ wsUrl: 'ws://127.0.0.1:9', restUrl: 'https://rest.test' }),
  });
  cleanup.push(() => pool.close());
  const a = orderBook(pool, { symbol: 'BTCUSDT', rest }).subscribe({ error: () => {} });
  const b = orderBook(pool, { symbol: 'BTCUSDT', rest, maxBuffer: 50 }).subscribe({
    error: () => {},
  });
  cleanup.push(() => (a.unsubscribe(), b.unsubscribe()));
  expect(bookStats(pool).map((s) => s.book.replace(/ rest=\d+/, ''))).toEqual([
    'btcusdt@depth@100ms',
    'btcusdt@depth@100ms maxBuffer=50',
  ]);
});
