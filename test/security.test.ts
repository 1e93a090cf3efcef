import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import {
  binanceSpot,
  binanceUsdm,
  createLogger,
  ErrorCode,
  RestClient,
  sharedRestClient,
  SlidingWindowLimiter,
  StreamPool,
  UnifiedFeed,
  upbit,
  venueRestClient,
  type FeedStatus,
  type PoolStatus,
  type UnifeedError,
  type Venue,
  type WebSocketConstructor,
} from '@unifeed/core';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, waitFor } from './support/ws-server.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const insecure = expect.objectContaining({ code: ErrorCode.InsecureUrl });
const KEY = 'K'.repeat(64);

/** A pino logger at `trace` writing every line to memory. */
function traceLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level: 'trace' }, stream), lines };
}

/** An HTTP server on 127.0.0.1, port 0, that records every request and upgrade it gets. */
async function httpServer(
  handle: (req: IncomingMessage, res: import('node:http').ServerResponse) => void = (_, res) =>
    res.end('{}'),
) {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    handle(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { server, seen, origin: `127.0.0.1:${port}` };
}

describe('plain text to a remote host is refused', () => {
  it('UnifiedFeed: a fixed ws:// URL at construction, without the key it carries', () => {
    let err: UnifeedError | undefined;
    try {
      new UnifiedFeed({ url: `ws://fstream.example.com/ws/${KEY}?listenKey=${KEY}` });
    } catch (e) {
      err = e as UnifeedError;
    }
    expect(err).toEqual(insecure);
    expect(err!.message).not.toContain(KEY);
    for (const url of [
      'ws://127.0.0.1:1/ws',
      'ws://localhost:1',
      'ws://[::1]:1',
      'wss://x.example',
    ]) {
      expect(() => new UnifiedFeed({ url })).not.toThrow();
    }
  });

  it('UnifiedFeed: a ws:// URL from the url function is never opened, and the attempt fails typed', async () => {
    const ws = await startServer();
    cleanup.push(() => ws.close());
    const urls = [`ws://10.0.0.1:1/ws?listenKey=${KEY}`, ws.url];
    const f = new UnifiedFeed({
      url: (attempt) => urls[attempt - 1] ?? ws.url,
      backoff: { initialMs: 10, jitter: 0 },
    });
    cleanup.push(() => f.stop());
    const statuses: FeedStatus[] = [];
    f.status$.subscribe((s) => statuses.push(s));
    await f.start();
    const errors = statuses.flatMap((s) => (s.type === 'error' ? [s.error] : []));
    expect(errors).toEqual([insecure]);
    expect(errors[0]!.message).not.toContain(KEY);
    // The second attempt, to loopback, is the one that connected.
    expect(ws.accepted).toBe(1);
  });

  it('venues: a ws:// or http:// base to a remote host, at construction', () => {
    expect(() => binanceSpot({ wsUrl: 'ws://stream.example.com:9443' })).toThrow(insecure);
    expect(() => binanceUsdm({ wsUrl: 'ws://fstream.example.com' })).toThrow(insecure);
    expect(() => binanceSpot({ restUrl: 'http://api.example.com' })).toThrow(insecure);
    expect(() => binanceUsdm({ restUrl: 'http://10.1.2.3:8080' })).toThrow(insecure);
    expect(() =>
      binanceUsdm({ wsUrl: 'ws://127.0.0.1:9', restUrl: 'http://127.0.0.1:9' }),
    ).not.toThrow();
  });

  it('StreamPool: a venue that hands out a ws:// URL errors the subscriber, and leaves nothing open', async () => {
    const base = binanceSpot();
    const venue: Venue = { ...base, url: () => 'ws://stream.example.com/stream' };
    const pool = new StreamPool({ venue });
    cleanup.push(() => pool.close());
    const errors: unknown[] = [];
    pool.watch('btcusdt@trade').subscribe({ error: (e) => errors.push(e) });
    expect(errors).toEqual([insecure]);
    expect(pool.stats()).toMatchObject({ connections: 0, streams: 0 });
  });

  it('REST: RestClient, sharedRestClient and venueRestClient refuse http:// to a remote host', () => {
    const remote = 'http://api.example.com';
    expect(() => new RestClient({ baseUrl: remote })).toThrow(insecure);
    expect(() => sharedRestClient({ baseUrl: remote })).toThrow(insecure);
    expect(() =>
      venueRestClient({ restUrl: remote, limits: { restWeightPerMinute: 1200 } }),
    ).toThrow(insecure);
    expect(() => new RestClient({ baseUrl: 'http://127.0.0.1:1' })).not.toThrow();
  });
});

describe('redirects are not followed', () => {
  it.each([301, 302, 307, 308])(
    'REST: a %i to another host reaches nothing there, and fails typed without the URL',
    async (status) => {
      const target = await httpServer();
      const first = await httpServer((_, res) => {
        res.writeHead(status, { location: `http://${target.origin}/steal?signature=${KEY}` });
        res.end();
      });
      const rest = new RestClient({ baseUrl: `http://${first.origin}` });
      const err = (await rest
        .request({
          path: '/fapi/v1/listenKey',
          method: 'POST',
          query: { signature: KEY },
          apiKey: KEY,
          weight: 1,
        })
        .catch((e: unknown) => e)) as UnifeedError;
      expect(err).toMatchObject({ code: ErrorCode.Http });
      expect(first.seen).toEqual([`POST /fapi/v1/listenKey?signature=${KEY}`]);
      expect(target.seen).toEqual([]);
      expect(err.message).not.toContain(KEY);
      expect(err.message).not.toContain(target.origin);
    },
  );

  // Both clients: unifeed's own (the default in Node) follows no redirect at all; `ws`, one
  // option away, is told not to (`followRedirects: false` in transport.ts).
  it.each([
    ['unifeed', undefined],
    ['ws', WebSocket as unknown as WebSocketConstructor],
  ] as const)(
    'WebSocket (%s client): a 3xx answer to the upgrade is a rejected handshake, never followed, and logs no key',
    async (_name, Ctor) => {
      const target = await startServer();
      cleanup.push(() => target.close());
      const first = await httpServer();
      first.server.on('upgrade', (req: IncomingMessage, socket: import('node:net').Socket) => {
        first.seen.push(`UPGRADE ${req.url}`);
        // A raw upgrade socket has no error listener; the client's close after the answer
        // may reset it, which must not surface as an uncaught ECONNRESET.
        socket.on('error', () => socket.destroy());
        socket.end(
          `HTTP/1.1 302 Found\r\nLocation: ${target.url}/ws/${KEY}?listenKey=${KEY}\r\nContent-Length: 0\r\n\r\n`,
        );
      });
      const { logger, lines } = traceLogger();
      const f = new UnifiedFeed({
        url: `ws://${first.origin}/ws/${KEY}?listenKey=${KEY}`,
        WebSocket: Ctor,
        logger,
        backoff: { initialMs: 10, maxMs: 20, jitter: 0 },
      });
      cleanup.push(() => f.stop());
      const statuses: FeedStatus[] = [];
      f.status$.subscribe((s) => statuses.push(s));
      const errorsOf = () => statuses.flatMap((s) => (s.type === 'error' ? [s.error] : []));
      void f.start();
      // Wait for the client to have handled three answers, not for the server to have sent
      // them: the third can still be in flight when the server has seen the third upgrade.
      await waitFor(() => errorsOf().length >= 3, 5000);
      await f.stop();
      expect(target.accepted).toBe(0);
      expect(first.seen.filter((s) => s.startsWith('UPGRADE')).length).toBeGreaterThanOrEqual(3);
      const errors = errorsOf();
      expect(errors.every((e) => e.code === ErrorCode.HandshakeRejected)).toBe(true);
      // The lifecycle was logged, down to debug, and no line nor error names the key.
      expect(lines.some((l) => l.includes('"level":20') && l.includes('connecting'))).toBe(true);
      const texts = [...lines, ...errors.map((e) => `${e.message} ${String(e.cause)}`)];
      expect(texts.filter((t) => t.includes(KEY))).toEqual([]);
    },
  );
});

describe('a key is found in every form it takes', () => {
  it("a combined-stream URL naming the key, and credentials written without '//'", async () => {
    let err: UnifeedError | undefined;
    try {
      new UnifiedFeed({ url: `ws://fstream.example.com/stream?streams=btcusdt@trade/${KEY}` });
    } catch (e) {
      err = e as UnifeedError;
    }
    expect(err).toEqual(insecure);
    expect(err!.message).not.toContain(KEY);

    // WHATWG URL parsing, which ws uses, reads `ws:user:pw@host` as credentials.
    const ws = await startServer();
    cleanup.push(() => ws.close());
    const port = new URL(ws.url).port;
    const { logger, lines } = traceLogger();
    const f = new UnifiedFeed({
      url: `ws:user:secretpw@127.0.0.1:${port}/stream?streams=${KEY}`,
      logger,
    });
    cleanup.push(() => f.stop());
    await f.start();
    await f.stop();
    expect(ws.accepted).toBe(1);
    expect(lines.some((l) => l.includes('connecting'))).toBe(true);
    expect(lines.filter((l) => l.includes(KEY) || l.includes('secretpw'))).toEqual([]);
  });

  it('a key passed as a stream name is not quoted back in the error', () => {
    const spot = new StreamPool({ venue: binanceSpot() });
    const usdm = new StreamPool({ venue: binanceUsdm() });
    const up = new StreamPool({ venue: upbit() });
    cleanup.push(
      () => spot.close(),
      () => usdm.close(),
      () => up.close(),
    );
    const errors: UnifeedError[] = [];
    // Behind 70 characters too: a name cut to 100 before its redaction would keep 30 of the key.
    const long = 'x'.repeat(70);
    const attempts = [
      () => spot.watch(KEY),
      () => spot.watch(`${KEY}@trade`),
      () => spot.watch(`${long}/${KEY}`),
      () => usdm.watch(`btcusdt@${KEY.toLowerCase()}`),
      () => up.watch(`ticker:${long}/${KEY}`),
    ];
    for (const attempt of attempts) {
      try {
        attempt();
      } catch (e) {
        errors.push(e as UnifeedError);
      }
    }
    expect(errors.map((e) => e.code)).toEqual(Array(5).fill(ErrorCode.InvalidStream));
    expect(errors.filter((e) => /k{5}/i.test(e.message))).toEqual([]);
  });

  it('a URL object as a base URL is refused typed, not with a TypeError', () => {
    const url = new URL('wss://x.example') as unknown as string;
    const invalid = expect.objectContaining({ code: ErrorCode.InvalidOption });
    expect(() => binanceSpot({ wsUrl: url })).toThrow(invalid);
    expect(() => binanceUsdm({ restUrl: url })).toThrow(invalid);
  });
});

describe('frames over maxPayloadBytes are refused', () => {
  it('the connection is replaced, the error is typed and counted, and every stream recovers', async () => {
    const small = (stream: string, n: number) =>
      JSON.stringify({ stream, data: { e: 'trade', t: n, E: n, pad: 'x'.repeat(100) } });
    const ws = await startServer((socket, self) => {
      const connection = self.accepted;
      socket.on('message', (raw) => {
        const req = JSON.parse(String(raw)) as { params: string[]; id: number };
        socket.send(JSON.stringify({ result: null, id: req.id }));
        if (req.params.length < 2) return;
        if (connection === 1) {
          socket.send(small('aaausdt@trade', 1));
          socket.send(
            JSON.stringify({ stream: 'bbbusdt@trade', data: { t: 2, pad: 'x'.repeat(4096) } }),
          );
        } else {
          for (let n = 3; n <= 5; n++) {
            socket.send(small('aaausdt@trade', n));
            socket.send(small('bbbusdt@trade', n));
          }
        }
      });
    });
    cleanup.push(() => ws.close());
    const pool = new StreamPool({
      venue: binanceSpot({ wsUrl: ws.url }),
      maxPayloadBytes: 1024,
      backoff: { initialMs: 10, jitter: 0 },
      attemptLimiter: new SlidingWindowLimiter({ limit: 100, windowMs: 60_000 }),
    });
    cleanup.push(() => pool.close());
    const statuses: PoolStatus[] = [];
    pool.status$.subscribe((s) => statuses.push(s));
    const got: Record<string, number[]> = { a: [], b: [] };
    pool.watch('aaausdt@trade').subscribe((d) => got.a!.push((d as { t: number }).t));
    pool.watch('bbbusdt@trade').subscribe((d) => got.b!.push((d as { t: number }).t));
    await waitFor(() => got.a!.length === 4 && got.b!.length === 3, 5000);
    expect(got).toEqual({ a: [1, 3, 4, 5], b: [3, 4, 5] });
    const tooLarge = statuses.filter(
      (s) =>
        s.type === 'connection' &&
        s.status.type === 'error' &&
        s.status.error.code === ErrorCode.PayloadTooLarge,
    );
    expect(tooLarge).toHaveLength(1);
    expect(pool.stats()).toMatchObject({ reconnects: 1, connections: 1 });
    // Both streams were told that data may be missing across the replacement.
    const gaps = statuses.filter((s) => s.type === 'gap').map((s) => s.type === 'gap' && s.stream);
    expect(gaps.sort()).toEqual(['aaausdt@trade', 'bbbusdt@trade']);
    expect(ws.accepted).toBe(2);
  });
});
