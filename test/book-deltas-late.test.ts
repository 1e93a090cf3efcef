import { bookDeltas, orderBook, type BookDelta, type BookView } from '@unifeed/feed-depth';
import { afterEach, expect, it } from 'vitest';
import { binanceDepthMarket } from './support/binance-depth.js';
import { waitFor } from './support/ws-server.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

// Pins that a bookDeltas subscriber joining a book that is already live gets a snapshot of it
// first. Found by mutation: without it, the late subscriber got only the diffs after it joined
// and built a book missing every level set before, with no error to tell it so.
it('a bookDeltas subscriber joining a live book starts from a snapshot of it', async () => {
  const market = await binanceDepthMarket(() => ({
    bids: [['99.0', '1']],
    asks: [['101.0', '1']],
  }));
  cleanup.push(() => market.close());
  const options = { symbol: 'BTCUSDT', rest: market.rest, random: () => 0 };
  let last: BookView | undefined;
  orderBook(market.pool, options).subscribe((v) => (last = v));
  await market.subscribed();
  market.diff({ b: [['98.0', '2']] });
  await waitFor(() => last?.state === 'live' && last.lastUpdateId === market.id(), 5000);
  const late: BookDelta[] = [];
  bookDeltas(market.pool, options).subscribe((d) => late.push(d));
  expect(late).toEqual([
    {
      type: 'snapshot',
      venue: 'binance-spot',
      symbol: 'BTCUSDT',
      lastUpdateId: market.id(),
      bids: last!.bids,
      asks: last!.asks,
    },
  ]);
  expect(last!.bids.length).toBeGreaterThan(0);
});
