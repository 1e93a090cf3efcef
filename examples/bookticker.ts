import { UnifiedFeed } from '@unifeed/core';

// Binance's public combined stream by default; UNIFEED_URL points it at a simulator or proxy.
const url =
  process.env.UNIFEED_URL ?? 'wss://stream.binance.com:9443/stream?streams=btcusdt@bookTicker';
const limit = Number(process.env.UNIFEED_LIMIT ?? 10);

const feed = new UnifiedFeed({
  url,
  heartbeat: { intervalMs: 20_000, timeoutMs: 60_000 },
  backoff: { initialMs: 1000, maxMs: 30_000 },
  queue: { capacity: 10_000, overflow: 'drop-oldest' },
});

// Reconnects, back-off, stale connections and queue drops are status, never thrown errors.
feed.status$.subscribe((s) => console.error(`[${s.type}]`, JSON.stringify(s)));

let received = 0;
feed.messages$.subscribe(({ data, receivedAt }) => {
  console.log(JSON.stringify({ receivedAt, data }));
  if (++received === limit) void feed.stop();
});

await feed.start(); // resolves once connected; retries with back-off until then
