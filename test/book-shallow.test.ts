/**
 * Found in review: a book knows the venue's levels only as deep as its snapshot went
 * (`snapshotLimit`); once the price moved past them, a live view showed the levels updated
 * since in place of the venue's it never learned (best ask 109 where the venue's was 106).
 * Such a book now resyncs (`shallow`) before it shows fewer known levels than a view asks for.
 */
import { bookStats, orderBook, type BookView } from '@unifeed/feed-depth';
import { afterEach, expect, it } from 'vitest';
import { binanceDepthMarket } from './support/binance-depth.js';
import { waitFor } from './support/ws-server.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

it('a view as deep as the snapshot stays the venue top while the price moves past it', async () => {
  const bids = new Map<number, string>([95, 96, 97, 98, 99].map((p) => [p, '1']));
  const asks = new Map<number, string>(
    [101, 102, 103, 104, 105, 106, 107, 108, 109, 110].map((p) => [p, '1']),
  );
  const top = (side: Map<number, string>, dir: 1 | -1, n: number) =>
    [...side]
      .sort((a, b) => dir * (a[0] - b[0]))
      .slice(0, n)
      .map(([p, q]) => [p.toFixed(1), q]);
  const market = await binanceDepthMarket((limit) => ({
    bids: top(bids, -1, limit),
    asks: top(asks, 1, limit),
  }));
  cleanup.push(() => market.close());
  const change = (side: 'b' | 'a', price: number, qty: string) => {
    const levels = side === 'b' ? bids : asks;
    if (qty === '0') levels.delete(price);
    else levels.set(price, qty);
    market.diff({ [side]: [[price.toFixed(1), qty]] });
  };
  const wrong: string[] = [];
  let last: BookView | undefined;
  const options = {
    symbol: 'BTCUSDT',
    depth: 5,
    snapshotLimit: 5,
    rest: market.rest,
    random: () => 0,
  };
  orderBook(market.pool, options).subscribe((v) => {
    last = v;
    if (v.state !== 'live' || v.lastUpdateId !== market.id()) return;
    const venueTop = top(asks, 1, 5);
    if (JSON.stringify(v.asks) !== JSON.stringify(venueTop)) {
      wrong.push(`@${v.lastUpdateId} ${JSON.stringify(v.asks)}, venue ${JSON.stringify(venueTop)}`);
    }
  });
  await market.subscribed();
  change('b', 99, '2');
  await waitFor(() => last?.state === 'live', 5000);
  for (const [side, price, qty] of [
    ['a', 101, '0'],
    ['a', 102, '0'],
    ['a', 103, '0'],
    ['a', 109, '3'],
    ['a', 104, '0'],
    ['a', 105, '0'],
  ] as const) {
    change(side, price, qty);
    await waitFor(() => last?.lastUpdateId === market.id() && last.state === 'live', 5000);
  }
  expect(wrong).toEqual([]);
  expect(last?.asks[0]).toEqual(['106.0', '1']);
  expect(bookStats(market.pool)[0]!.shallow).toBeGreaterThan(0);
});
