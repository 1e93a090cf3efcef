import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { binanceUsdm, SlidingWindowLimiter, StreamPool, type PoolStatus } from '@unifeed/core';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/ws-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Found in review: a 418 held the connection that heard it only. Every other pool of the venue
// on the IP connected at once and got its own 418, and Binance lengthens the ban of a client
// that keeps knocking.
describe('a 418 (IP banned) on one handshake', () => {
  it('holds every pool of the venue that shares the attempt limiter', async () => {
    const upgrades: string[] = [];
    const server = createServer();
    server.on('upgrade', (req, socket) => {
      upgrades.push(new URL(req.url ?? '/', 'http://x').pathname);
      socket.end("HTTP/1.1 418 I'm a teapot\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n");
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const venue = binanceUsdm({
      wsUrl: `ws://127.0.0.1:${port}`,
      restUrl: `http://127.0.0.1:${port}`,
    });
    // A limiter of the test's own: the venue's default one is process-wide, and a ban held in
    // it would hold every later test of this worker that uses binanceUsdm on the real clock.
    const attemptLimiter = new SlidingWindowLimiter({ limit: 300, windowMs: 300_000 });
    const a = new StreamPool({ venue, attemptLimiter });
    const b = new StreamPool({ venue, attemptLimiter });
    try {
      const aStatus: PoolStatus[] = [];
      a.status$.subscribe((s) => aStatus.push(s));
      a.watch('btcusdt@bookTicker').subscribe({ error: () => {} });
      await waitFor(
        () => aStatus.some((s) => s.type === 'connection' && s.status.type === 'backoff'),
        2000,
      );
      expect(upgrades).toEqual(['/public/stream']);
      b.watch('ethusdt@aggTrade').subscribe({ error: () => {} });
      await sleep(500);
      expect(upgrades).toEqual(['/public/stream']);
      expect(attemptLimiter.wait()).toBeGreaterThan(299_000);
    } finally {
      await Promise.all([a.close(), b.close()]);
      server.close();
    }
  });
});
