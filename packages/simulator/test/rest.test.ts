import { once } from 'node:events';
import { connect as tcpConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { settle, simulatorFixture } from './helpers.js';

const { start, open, drain } = simulatorFixture();

interface Snapshot {
  lastUpdateId: number;
  bids: [string, string][];
  asks: [string, string][];
}

interface Diff {
  U: number;
  u: number;
  pu?: number;
  b: [string, string][];
  a: [string, string][];
}

/**
 * A minimal local book, kept exactly as protocol.md prescribes: spot events follow each other
 * (`U` = previous `u` + 1), futures ones chain by `pu` alone, their `U` may skip ids.
 */
class LocalBook {
  bids = new Map<string, string>();
  asks = new Map<string, string>();
  id: number;
  #applied = false;

  constructor(
    s: Snapshot,
    readonly futures: boolean,
  ) {
    this.id = s.lastUpdateId;
    for (const [p, q] of s.bids) this.bids.set(p, q);
    for (const [p, q] of s.asks) this.asks.set(p, q);
  }

  apply(d: Diff): void {
    if (d.u <= this.id) return;
    const continues =
      this.futures && this.#applied ? d.pu === this.id : d.U <= this.id + 1 || d.pu === this.id;
    if (!continues) throw new Error(`gap: U ${d.U} pu ${d.pu} after ${this.id}`);
    this.#applied = true;
    for (const [p, q] of d.b) {
      if (Number(q) === 0) this.bids.delete(p);
      else this.bids.set(p, q);
    }
    for (const [p, q] of d.a) {
      if (Number(q) === 0) this.asks.delete(p);
      else this.asks.set(p, q);
    }
    this.id = d.u;
  }

  top(n: number): { bids: [string, string][]; asks: [string, string][] } {
    const bids = [...this.bids].sort((x, y) => Number(y[0]) - Number(x[0])).slice(0, n);
    const asks = [...this.asks].sort((x, y) => Number(x[0]) - Number(y[0])).slice(0, n);
    return { bids, asks };
  }
}

async function getJson(url: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

describe('REST depth', () => {
  // Found by mutation: nothing checked the header; the client's default holds happen to match,
  // so its tests did not prove it reads Retry-After from the simulator.
  it('answers a scripted 429 or 418 with Retry-After, as the venue does', async () => {
    const { sim: s } = await start();
    s.faults.rest({ status: 429, count: 1 });
    s.faults.rest({ status: 418, count: 1 });
    const r429 = await fetch(`${s.restUrl}/fapi/v1/ping`);
    expect(r429.status).toBe(429);
    expect(r429.headers.get('retry-after')).toBe('60');
    const r418 = await fetch(`${s.restUrl}/fapi/v1/ping`);
    expect(r418.status).toBe(418);
    expect(Number(r418.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  for (const venue of ['binance-usdm', 'binance-spot'] as const) {
    it(`${venue}: snapshot plus diff stream rebuilds the true book`, async () => {
      const { sim: s, clock } = await start({ venue });
      const futures = venue === 'binance-usdm';
      const path = futures ? '/public/ws/ethusdt@depth@100ms' : '/ws/ethusdt@depth@100ms';
      const c = await open(path);
      await clock.advance(300);
      const prefix = futures ? '/fapi/v1' : '/api/v3';
      const snap = (await getJson(`${s.restUrl}${prefix}/depth?symbol=ETHUSDT&limit=1000`))
        .body as Snapshot;
      expect(snap.bids.length).toBe(1000);
      // The snapshot is exactly the book right after its lastUpdateId.
      const then = s.truth.bookAt('ETHUSDT', snap.lastUpdateId);
      expect(then?.bids.slice(0, 1000)).toEqual(snap.bids);
      expect(then?.asks.slice(0, 1000)).toEqual(snap.asks);
      await clock.advance(2000);
      await drain(c);
      const diffs = c.frames.map((f) => JSON.parse(f) as Diff);
      const book = new LocalBook(snap, futures);
      let applied = 0;
      let prevU: number | undefined;
      for (const d of diffs) {
        if (futures && prevU !== undefined) expect(d.pu).toBe(prevU);
        prevU = d.u;
        if (d.u > book.id) applied++;
        book.apply(d);
      }
      expect(applied).toBeGreaterThan(5);
      const truth = s.truth.bookAt('ETHUSDT', book.id);
      expect(truth).toBeDefined();
      expect(book.top(50)).toEqual({
        bids: truth?.bids.slice(0, 50),
        asks: truth?.asks.slice(0, 50),
      });
      expect(s.truth.book('ETHUSDT')?.lastUpdateId).toBe(book.id);
    });
  }

  it('charges the documented weights and reports them in x-mbx-used-weight-1m', async () => {
    const { sim: s } = await start({ venue: 'binance-spot' });
    const r1 = await getJson(`${s.restUrl}/api/v3/depth?symbol=BTCUSDT&limit=5000`);
    expect(r1.headers.get('x-mbx-used-weight-1m')).toBe('250');
    const r2 = await getJson(`${s.restUrl}/api/v3/depth?symbol=BTCUSDT`);
    expect(r2.headers.get('x-mbx-used-weight-1m')).toBe('255');
    expect(s.stats().rest.weightUsed).toBe(255);
  });

  it('answers 429 with Retry-After over budget, 418 when the client keeps going', async () => {
    const { sim: s, clock } = await start({
      limits: { restWeightPerMinute: 40, restBanAfter429s: 1, restBanMs: 120_000 },
    });
    const url = `${s.restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=1000`;
    expect((await getJson(url)).status).toBe(200);
    expect((await getJson(url)).status).toBe(200);
    const limited = await getJson(url);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBe(60);
    expect(limited.body).toMatchObject({ code: -1003 });
    const banned = await getJson(url);
    expect(banned.status).toBe(418);
    expect(Number(banned.headers.get('retry-after'))).toBe(120);
    await clock.advance(60_000);
    expect((await getJson(url)).status).toBe(418);
    await clock.advance(60_000);
    expect((await getJson(url)).status).toBe(200);
    expect(s.stats().rest).toMatchObject({ status429: 1, status418: 2 });
  });

  it('validates symbol and limit, and lists symbols in exchangeInfo', async () => {
    const { sim: s } = await start();
    expect((await getJson(`${s.restUrl}/fapi/v1/depth`)).body).toMatchObject({ code: -1102 });
    expect((await getJson(`${s.restUrl}/fapi/v1/depth?symbol=NOPEUSDT`)).body).toMatchObject({
      code: -1121,
    });
    // Lower case is refused (the stream names want it, REST does not): -1100, not a snapshot.
    const { sim: spot } = await start({ venue: 'binance-spot' });
    for (const url of [`${s.restUrl}/fapi/v1/depth`, `${spot.restUrl}/api/v3/depth`]) {
      const lower = await getJson(`${url}?symbol=btcusdt`);
      expect([lower.status, (lower.body as { code: number }).code]).toEqual([400, -1100]);
    }
    const d = (await getJson(`${s.restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=7`)).body as Snapshot;
    expect(d.bids.length).toBe(10);
    const info = (await getJson(`${s.restUrl}/fapi/v1/exchangeInfo`)).body as {
      symbols: { symbol: string }[];
    };
    expect(info.symbols.map((x) => x.symbol)).toEqual([
      'BTCUSDT',
      'ETHUSDT',
      'BNBUSDT',
      'SOLUSDT',
      'XRPUSDT',
    ]);
  });

  it('answers a request line no URL can be made of with 400, and goes on serving', async () => {
    const { sim: s } = await start();
    /** The status line the server answers `head` with, sent as is over TCP. */
    const statusOf = async (base: string, head: string): Promise<string> => {
      const { hostname, port } = new URL(base);
      const socket = tcpConnect(Number(port), hostname);
      await once(socket, 'connect');
      socket.end(`${head}\r\n\r\n`);
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      await once(socket, 'close');
      return text.split('\r\n')[0]!;
    };
    // `new URL('//', base)` throws: unguarded, the request or upgrade handler took the process.
    for (const path of ['//', '//[', '//a:b']) {
      expect(await statusOf(s.restUrl, `GET ${path} HTTP/1.1\r\nHost: x`)).toMatch(
        /^HTTP\/1.1 400/,
      );
      const upgrade = `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13`;
      expect(await statusOf(s.wsUrl.replace('ws:', 'http:'), upgrade)).toMatch(/^HTTP\/1.1 400/);
    }
    expect((await getJson(`${s.restUrl}/fapi/v1/time`)).status).toBe(200);
  });

  it('serves scripted slow and failing answers', async () => {
    const { sim: s, clock } = await start();
    s.faults.rest({ status: 503, count: 1 });
    s.faults.rest({ delayMs: 5000, path: '/fapi/v1/time' });
    expect((await getJson(`${s.restUrl}/fapi/v1/ping`)).status).toBe(503);
    let answered = false;
    const slow = getJson(`${s.restUrl}/fapi/v1/time`).then((r) => {
      answered = true;
      return r;
    });
    await settle(50);
    expect(answered).toBe(false);
    await clock.advance(5000);
    expect((await slow).body).toEqual({ serverTime: Date.UTC(2026, 0, 5) + 5000 });
  });
});
