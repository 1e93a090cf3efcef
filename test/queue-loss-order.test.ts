/**
 * Found in review: a connection told its queue's losses (drops, conflations) after the frames
 * that came after them, so a book went live on the newer frames and then heard of a hole that
 * was already behind it: an Upbit book exact and yet `resyncing` until the next message
 * (minutes, on a quiet market), a Binance book's snapshot aborted and asked again a back-off
 * later. Losses are now told before the frames still queued.
 */
import { binanceSpot, RestClient, SlidingWindowLimiter, StreamPool, upbit } from '@unifeed/core';
import { bookDeltas, orderBook, type BookDelta, type BookView } from '@unifeed/feed-depth';
import type { WebSocket } from 'ws';
import { afterEach, expect, it } from 'vitest';
import { acceptingServer, startServer, waitFor } from './support/ws-server.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** Send `frames` in one TCP write, so that they arrive in one socket read. */
function burst(socket: WebSocket, frames: (string | Buffer)[]): void {
  const tcp = (socket as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
  tcp.cork();
  for (const frame of frames) socket.send(frame);
  process.nextTick(() => tcp.uncork());
}

const upbitBook = (timestamp: number, bid: number) =>
  JSON.stringify({
    type: 'orderbook',
    code: 'KRW-BTC',
    timestamp,
    total_ask_size: 1,
    total_bid_size: 2,
    orderbook_units: [{ ask_price: bid + 1, bid_price: bid, ask_size: 1, bid_size: 2 }],
    stream_type: 'REALTIME',
    level: 0,
  });

it.each([
  ['conflate', { overflow: 'conflate' as const }],
  ['drop-oldest', { capacity: 2, overflow: 'drop-oldest' as const }],
])(
  'Upbit, queue %s: a burst of whole books leaves the book live at the newest',
  async (_, queue) => {
    const server = await startServer((socket) => {
      socket.once('message', () => {
        // One burst of five whole books, each newer than the last; then the market is quiet.
        burst(
          socket,
          [1, 2, 3, 4, 5].map((i) => Buffer.from(upbitBook(1000 + i, 100 + i))),
        );
      });
    });
    cleanup.push(() => server.close());
    const pool = new StreamPool({ venue: upbit({ wsUrl: server.url, settleMs: 100 }), queue });
    cleanup.push(() => pool.close());
    const views: BookView[] = [];
    const deltas: BookDelta[] = [];
    orderBook(pool, { symbol: 'KRW-BTC', depth: 1 }).subscribe((v) => views.push(v));
    bookDeltas(pool, { symbol: 'KRW-BTC' }).subscribe((d) => deltas.push(d));
    await waitFor(() => views.some((v) => v.lastUpdateId === 1005), 10_000);
    await new Promise((r) => setTimeout(r, 200)); // quiet: nothing more will come
    expect(views.at(-1)).toMatchObject({ state: 'live', lastUpdateId: 1005 });
    expect(deltas.at(-1)).toMatchObject({ type: 'snapshot', lastUpdateId: 1005 });
  },
);

it('Binance: a queue drop on a live book resyncs once, at once, with one snapshot', async () => {
  const stream = 'btcusdt@depth@100ms';
  let venueId = 100;
  const { server, socket: latest } = await acceptingServer();
  cleanup.push(() => server.close());
  const send = (ids: number[]) => {
    venueId = ids.at(-1)!;
    const frames = ids.map((id) => {
      const data = { e: 'depthUpdate', E: id, s: 'BTCUSDT', U: id, u: id, b: [['99.0', `${id}`]] };
      return JSON.stringify({ stream, data: { ...data, a: [] } });
    });
    burst(latest()!, frames);
  };
  const fetches: { aborted: boolean }[] = [];
  const fetch = (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const call = { aborted: false };
    fetches.push(call);
    init?.signal?.addEventListener('abort', () => (call.aborted = true));
    const bids = [['99.0', `${venueId}`]];
    const body = { lastUpdateId: venueId, bids, asks: [['101.0', '1']] };
    return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
  };
  const rest = new RestClient({
    baseUrl: 'https://rest.test',
    fetch: fetch as typeof globalThis.fetch,
  });
  const pool = new StreamPool({
    venue: binanceSpot({ wsUrl: server.url, restUrl: 'https://rest.test' }),
    queue: { capacity: 2, overflow: 'drop-oldest' },
  });
  cleanup.push(() => pool.close());
  const views: BookView[] = [];
  orderBook(pool, { symbol: 'BTCUSDT', rest, random: () => 0 }).subscribe((v) => views.push(v));
  await waitFor(() => latest() !== undefined && pool.stats().streams > 0, 5000);
  await new Promise((r) => setTimeout(r, 200)); // the SUBSCRIBE answered
  send([101]);
  await waitFor(() => views.at(-1)?.state === 'live', 5000);
  send([102]); // a live update: the book is proven, its next resync asks at once
  await waitFor(() => views.at(-1)?.lastUpdateId === 102, 5000);
  const before = fetches.length;
  const resyncs = views.filter((v) => v.state === 'resyncing').length;
  const started = Date.now();
  send([103, 104, 105, 106, 107]); // one burst: the queue of 2 drops the oldest
  await waitFor(() => views.filter((v) => v.state === 'resyncing').length > resyncs, 5000);
  await waitFor(() => views.at(-1)?.state === 'live', 5000);
  expect(Date.now() - started).toBeLessThan(500); // not a back-off (1 s) later
  expect(views.at(-1)?.lastUpdateId).toBe(107);
  expect(fetches.slice(before)).toEqual([{ aborted: false }]);
  expect(views.filter((v) => v.state === 'resyncing').length - resyncs).toBe(1);
});

/**
 * An Upbit book of KRW-BTC on a pool that rotates after 1 s, with a quiet second market that
 * keeps the old connection in the overlap: returns once both connections carry the book, the
 * book live at 1000 from the old one. `sockets[0]` is the old connection, `sockets[1]` the new.
 */
async function upbitRotation(queue?: { overflow: 'conflate' }, onEth: () => void = () => {}) {
  const sockets: WebSocket[] = [];
  const server = await startServer((socket) => {
    socket.on('message', () => {
      if (!sockets.includes(socket)) sockets.push(socket);
    });
  });
  cleanup.push(() => server.close());
  const venue = upbit({ wsUrl: server.url, settleMs: 50 });
  const { connectionAttempts: limit, connectionAttemptWindowMs: windowMs } = venue.limits;
  const pool = new StreamPool({
    venue,
    attemptLimiter: new SlidingWindowLimiter({ limit, windowMs }),
    rotateAfterMs: 1000,
    rotateJitterMs: 0,
    overlapMaxMs: 60_000,
    ...(queue === undefined ? {} : { queue }),
  });
  cleanup.push(() => pool.close());
  const views: BookView[] = [];
  orderBook(pool, { symbol: 'KRW-BTC', depth: 1 }).subscribe((v) => views.push(v));
  pool.watch('orderbook:KRW-ETH').subscribe(onEth);
  await waitFor(() => sockets.length === 1, 5000);
  await new Promise((r) => setTimeout(r, 100)); // settled
  sockets[0]!.send(upbitBook(1000, 100));
  await waitFor(() => views.at(-1)?.lastUpdateId === 1000, 5000);
  await waitFor(() => sockets.length === 2, 5000); // the replacement
  await new Promise((r) => setTimeout(r, 200)); // settled: both carry the stream
  return { sockets, views };
}

// Found in review: during a rotation, the old connection conflated a burst the new one had
// already delivered; its conflated gap turned the exact book `resyncing`, and the surviving
// frame, a repeat, was suppressed: the book waited for the next message. A whole book replaced
// by a newer whole book loses nothing, so an Upbit book takes no hole from it.
it('Upbit, conflate, in a rotation: the old connection conflating what the new one delivered leaves the book live', async () => {
  const { sockets, views } = await upbitRotation({ overflow: 'conflate' });
  for (const ts of [1001, 1002, 1003]) sockets[1]!.send(upbitBook(ts, ts - 900));
  await waitFor(() => views.at(-1)?.lastUpdateId === 1003, 5000);
  burst(
    sockets[0]!,
    [1001, 1002, 1003].map((ts) => upbitBook(ts, ts - 900)),
  );
  await new Promise((r) => setTimeout(r, 300));
  expect(views.at(-1)).toMatchObject({ state: 'live', lastUpdateId: 1003 });
}, 20_000);

// Found in review: in a rotation, the old connection's lagging older book, arriving after the
// new connection's newer one, was announced as a `rotation` hole: the exact book went
// `resyncing` until the market moved again.
it('Upbit, in a rotation: the old connection lagging behind the new one leaves the book live', async () => {
  const { sockets, views } = await upbitRotation();
  sockets[1]!.send(upbitBook(1005, 105)); // the replacement's newest first
  await waitFor(() => views.at(-1)?.lastUpdateId === 1005, 5000);
  sockets[0]!.send(upbitBook(1001, 101)); // the old one's lagging older state
  sockets[0]!.send(upbitBook(1005, 105));
  await new Promise((r) => setTimeout(r, 300));
  expect(views.at(-1)).toMatchObject({ state: 'live', lastUpdateId: 1005 });
}, 20_000);

// Found in review: what a rotation's old connection could not flush in time (its subscriber
// slow) was dropped as the queue's drops, which an Upbit book cannot tell from a hole: exact,
// it turned `resyncing`. It is a rotation's loss, told as one.
it('Upbit, in a rotation: an old connection lagging behind a slow subscriber leaves the book live', async () => {
  const { sockets, views } = await upbitRotation(undefined, () => {
    const until = performance.now() + 30; // 30 ms a message
    while (performance.now() < until);
  });
  sockets[1]!.send(upbitBook(1005, 105));
  await waitFor(() => views.at(-1)?.lastUpdateId === 1005, 5000);
  const eth = (timestamp: number) => upbitBook(timestamp, 200).replace('KRW-BTC', 'KRW-ETH');
  burst(sockets[0]!, [
    ...Array.from({ length: 20 }, (_, i) => eth(2000 + i)),
    upbitBook(1001, 101),
    upbitBook(1005, 105),
  ]);
  await new Promise((r) => setTimeout(r, 60));
  sockets[1]!.send(eth(1500)); // every stream on the replacement: the rotation ends
  await new Promise((r) => setTimeout(r, 1500));
  expect(views.at(-1)).toMatchObject({ state: 'live', lastUpdateId: 1005 });
}, 20_000);
