import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import {
  ErrorCode,
  UnifiedFeed,
  type FeedStatus,
  type UnifiedFeedOptions,
  type WebSocketConstructor,
} from '@unifeed/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WsClient, { type ClientOptions, type WebSocket } from 'ws';
import { startServer, waitFor, type TestServer } from './support/ws-server.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function server(onConnection?: (s: WebSocket, srv: TestServer) => void, maxPayload?: number) {
  const srv = await startServer(onConnection, maxPayload ? { maxPayload } : {});
  cleanup.push(() => srv.close());
  return srv;
}

/**
 * Every test runs with both Node clients: unifeed's own (the default) and `ws`, one option
 * away. Both must keep the same contract (transport.ts).
 */
const clients = [
  ['unifeed', undefined],
  ['ws', WsClient as unknown as WebSocketConstructor],
] as const;
let client: WebSocketConstructor | undefined;

function feed(options: UnifiedFeedOptions) {
  const f = new UnifiedFeed({
    backoff: { initialMs: 20, maxMs: 50, jitter: 0 },
    ...(client === undefined ? {} : { WebSocket: client }),
    ...options,
  });
  const statuses: FeedStatus[] = [];
  f.status$.subscribe((s) => statuses.push(s));
  cleanup.push(() => f.stop());
  return { f, statuses };
}

describe.each(clients)('%s client', (_name, Ctor) => {
  beforeEach(() => {
    client = Ctor;
  });

  describe('UnifiedFeed against a real ws server', () => {
    it('sends ping frames on schedule and counts the pongs as life', async () => {
      const pings: number[] = [];
      const srv = await server((s) => s.on('ping', () => pings.push(Date.now())));
      const { f, statuses } = feed({
        url: srv.url,
        heartbeat: { intervalMs: 100, timeoutMs: 250 },
      });
      await f.start();
      const t0 = Date.now();
      await waitFor(() => pings.length >= 5, 3000);
      // the server answers every ping with a pong, so the 250 ms timeout never fires
      expect(statuses.some((s) => s.type === 'stale')).toBe(false);
      // Arrival times jitter (a late ping makes the next gap short), so the schedule is checked
      // on the mean interval, and pings never outnumber the elapsed time.
      const span = pings.at(-1)! - pings[0]!;
      const meanGap = span / (pings.length - 1);
      expect(meanGap).toBeGreaterThanOrEqual(90);
      expect(meanGap).toBeLessThan(300);
      expect(pings.length - 1).toBeLessThanOrEqual(Math.floor(span / 100) + 1);
      // upper bounds leave room for a throttled host (CPU steal seen here); the lower bounds hold
      expect(pings[0]! - t0).toBeLessThan(500);
      expect(f.stats().pingsSent).toBeGreaterThanOrEqual(5);
      expect(srv.accepted).toBe(1);
    });

    it('detects a half-open server (no pongs, no data) within the timeout and reconnects', async () => {
      const srv = await server((s, self) => {
        // The first connection goes half-open: the server stops reading, so pings get no pong.
        if (self.accepted === 1) s.pause();
      });
      const { f, statuses } = feed({ url: srv.url, heartbeat: { intervalMs: 50, timeoutMs: 200 } });
      await f.start();
      const opened = Date.now();
      await waitFor(() => statuses.some((s) => s.type === 'stale'), 2000);
      const staleAfter = Date.now() - opened;
      expect(staleAfter).toBeGreaterThanOrEqual(190);
      expect(staleAfter).toBeLessThan(1500);
      await waitFor(() => f.state === 'open' && srv.accepted === 2, 2000);
      expect(f.stats().stales).toBe(1);
    });

    it('a TCP server that never completes the upgrade: handshake timeout, back-off, no crash', async () => {
      const sockets = new Set<net.Socket>();
      const tcp = net.createServer((s) => {
        sockets.add(s);
        s.on('error', () => {});
      });
      tcp.listen(0, '127.0.0.1');
      await once(tcp, 'listening');
      cleanup.push(async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => tcp.close(() => r()));
      });
      const url = `ws://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
      const { f, statuses } = feed({ url, handshakeTimeoutMs: 150 });
      void f.start();
      await waitFor(() => statuses.filter((s) => s.type === 'backoff').length >= 3, 3000);
      const errors = statuses.flatMap((s) => (s.type === 'error' ? [s.error.code] : []));
      expect(errors.filter((c) => c === ErrorCode.HandshakeTimeout).length).toBeGreaterThanOrEqual(
        3,
      );
      expect(f.state).not.toBe('open');
      await f.stop();
      expect(f.state).toBe('stopped');
    });

    it('an HTTP 429 on the upgrade backs off for Retry-After', async () => {
      const http = net.createServer((s) => {
        s.on('error', () => {});
        s.once('data', () =>
          s.end('HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n'),
        );
      });
      http.listen(0, '127.0.0.1');
      await once(http, 'listening');
      cleanup.push(() => new Promise<void>((r) => http.close(() => r())));
      const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
      const { f, statuses } = feed({ url });
      void f.start();
      await waitFor(() => statuses.some((s) => s.type === 'backoff'), 2000);
      expect(statuses.find((s) => s.type === 'backoff')).toMatchObject({ delayMs: 7000 });
      // The status and the wait are fields of the error: a 418 ban is told from a 429 without
      // parsing its message.
      expect(statuses.find((s) => s.type === 'error')).toMatchObject({
        error: { code: ErrorCode.HandshakeRejected, status: 429, retryAfterMs: 7000 },
      });
    });

    it('an oversized frame is a typed error and the connection is replaced', async () => {
      const srv = await server((s, self) => {
        if (self.accepted === 1) s.send(JSON.stringify({ big: 'x'.repeat(4096) }));
        else s.send('{"small":true}');
      });
      const { f, statuses } = feed({ url: srv.url, maxPayloadBytes: 1024 });
      const got: unknown[] = [];
      f.messages$.subscribe((m) => got.push(m.data));
      await f.start();
      await waitFor(() => got.length === 1, 3000);
      expect(got).toEqual([{ small: true }]);
      expect(statuses.find((s) => s.type === 'error')).toMatchObject({
        error: { code: ErrorCode.PayloadTooLarge },
      });
      expect(f.stats().oversizedFrames).toBe(1);
      expect(srv.accepted).toBe(2);
    });
  });

  /** Send `n` frames, each `{"k":"<key>","i":<i>,"pad":"..."}`, in one burst. */
  function burst(s: WebSocket, n: number, keys = ['a']) {
    const pad = 'x'.repeat(60);
    for (let i = 0; i < n; i++) s.send(`{"k":"${keys[i % keys.length]}","i":${i},"pad":"${pad}"}`);
  }

  interface Item {
    k: string;
    i: number;
  }

  async function runPolicy(
    overflow: NonNullable<UnifiedFeedOptions['queue']>['overflow'],
    n: number,
    extra: Partial<UnifiedFeedOptions> = {},
    keys?: string[],
  ) {
    const srv = await server((s) => burst(s, n, keys));
    const { f, statuses } = feed({
      url: srv.url,
      queue: { capacity: 100, overflow },
      queueKey: (raw) => String(raw).slice(6, 7),
      sliceMaxMessages: 20,
      ...extra,
    });
    const got: Item[] = [];
    f.messages$.subscribe((m) => {
      got.push(m.data as Item);
      // a slow consumer: ~50 µs of work per message
      const until = performance.now() + 0.05;
      while (performance.now() < until);
    });
    await f.start();
    await waitFor(() => {
      const q = f.stats().queue;
      return got.length + q.dropped + q.conflated >= n && q.depth === 0;
    }, 30_000);
    const gaps = statuses.flatMap((s) => (s.type === 'gap' ? [s] : []));
    return { f, got, gaps, statuses };
  }

  describe('every queue policy on a real socket', () => {
    it('drop-oldest: newest survive, every drop counted and announced as a gap', async () => {
      const { f, got, gaps } = await runPolicy('drop-oldest', 3000);
      const { dropped } = f.stats().queue;
      expect(dropped).toBeGreaterThan(0);
      expect(got.length + dropped).toBe(3000);
      expect(got.at(-1)!.i).toBe(2999);
      expect(gaps.reduce((n, g) => n + g.dropped, 0)).toBe(dropped);
      expect(gaps.every((g) => g.key === 'a')).toBe(true);
    });

    it('drop-newest: the oldest survive', async () => {
      const { f, got } = await runPolicy('drop-newest', 3000);
      const { dropped } = f.stats().queue;
      expect(dropped).toBeGreaterThan(0);
      expect(got.length + dropped).toBe(3000);
      expect(got[0]!.i).toBe(0);
      expect(got.map((x) => x.i)).toEqual([...got.map((x) => x.i)].sort((a, b) => a - b));
    });

    it('conflate: the newest frame of every key is delivered', async () => {
      const keys = ['a', 'b', 'c', 'd'];
      const { f, got, gaps } = await runPolicy('conflate', 3000, {}, keys);
      // Replaced by a newer frame of their key, each counted and told (`conflated`), none lost
      // for want of room: four keys never fill 100 slots.
      const { dropped, conflated } = f.stats().queue;
      expect([dropped, conflated > 0]).toEqual([0, true]);
      expect(got.length + conflated).toBe(3000);
      expect(gaps.reduce((n, g) => n + g.dropped, 0)).toBe(conflated);
      expect(gaps.every((g) => g.reason === 'conflated')).toBe(true);
      for (const [j, k] of keys.entries()) {
        expect(got.filter((x) => x.k === k).at(-1)!.i).toBe(2996 + j);
      }
      expect(new Set(gaps.map((g) => g.key)).size).toBeGreaterThan(1);
    });

    it('error: overflow is reported as UNIFEED_QUEUE_OVERFLOW and the feed goes on', async () => {
      const { f, got, statuses } = await runPolicy('error', 3000);
      expect(f.stats().queue.dropped).toBeGreaterThan(0);
      expect(got.length + f.stats().queue.dropped).toBe(3000);
      expect(
        statuses.some((s) => s.type === 'error' && s.error.code === ErrorCode.QueueOverflow),
      ).toBe(true);
      expect(f.state).toBe('open');
    });

    it('pause: reading really stops, and nothing is lost', async () => {
      // half of 4,000 leaves room for one TCP chunk of frames read before the pause took hold
      const { f, got } = await runPolicy('pause', 20_000, {
        queue: { capacity: 4000, overflow: 'pause' },
      });
      const q = f.stats().queue;
      expect(q.pauses).toBeGreaterThan(0);
      expect(q.dropped).toBe(0);
      expect(got.map((x) => x.i)).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
      expect(q.maxDepth).toBeLessThanOrEqual(4000);
    }, 60_000);

    // Found in review: while the queue held the socket paused, no pong was read, and a live
    // connection was called stale and replaced, losing what the kernel had buffered.
    it('pause: a subscriber that keeps the socket paused past the heartbeat timeout is no stale venue', async () => {
      const srv = await server((s) => {
        let i = 0;
        const timer = setInterval(() => {
          for (let k = 0; k < 10; k++) s.send(JSON.stringify({ i: i++ }));
        }, 10);
        s.on('close', () => clearInterval(timer));
      });
      const { f, statuses } = feed({
        url: srv.url,
        heartbeat: { intervalMs: 300, timeoutMs: 1000 },
        queue: { capacity: 200, overflow: 'pause' },
      });
      f.messages$.subscribe(() => {
        const until = performance.now() + 20; // 50 messages a second against 1,000 sent
        while (performance.now() < until);
      });
      await f.start();
      const t0 = Date.now();
      await waitFor(() => Date.now() - t0 > 3000, 5000, 50);
      expect(f.stats().queue.pauses).toBeGreaterThan(0);
      expect(statuses.filter((s) => s.type === 'stale')).toEqual([]);
      expect(srv.accepted).toBe(1);
    }, 20_000);
  });
});

describe('which client a feed opens its socket with', () => {
  it("the constructor given; without one, unifeed's own in Node, even beside a platform WebSocket", async () => {
    const srv = await server();
    const made: string[] = [];
    class CountingWs extends WsClient {
      constructor(url: string, protocols?: string | string[], options?: ClientOptions) {
        super(url, protocols, options);
        made.push('given');
      }
    }
    // Node 22 has a global WebSocket; a Node feed must not take it by default.
    const platform = function PlatformWebSocket() {
      made.push('platform');
      throw new Error('the platform socket was used');
    };
    const global = globalThis as { WebSocket?: unknown };
    const before = Object.getOwnPropertyDescriptor(global, 'WebSocket');
    global.WebSocket = platform;
    try {
      client = undefined;
      await feed({ url: srv.url }).f.start();
      client = CountingWs as unknown as WebSocketConstructor;
      await feed({ url: srv.url }).f.start();
    } finally {
      client = undefined;
      if (before) Object.defineProperty(global, 'WebSocket', before);
      else delete global.WebSocket;
    }
    expect(made).toEqual(['given']);
    expect(srv.accepted).toBe(2);
  });
});
