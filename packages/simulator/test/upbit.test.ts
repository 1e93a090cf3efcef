import { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { isObj, settle, simulatorFixture, waitFor } from './helpers.js';

const { start, open } = simulatorFixture({ venue: 'upbit' });

const ticket = { ticket: 'test' };
const of =
  (type: string, code = 'KRW-BTC') =>
  (m: unknown) =>
    isObj(m) && m['type'] === type && m['code'] === code;
const upbitError = (name: string) => (m: unknown) =>
  isObj(m) && isObj(m['error']) && m['error']['name'] === name;

function upgradeStatus(url: string): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] });
      ws.terminate();
    });
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('upgrade succeeded'));
    });
    ws.on('error', () => undefined);
  });
}

describe('upbit mode', () => {
  it('serves /websocket/v1 only, with Upbit market codes', async () => {
    const { sim } = await start();
    expect((await upgradeStatus(`${sim.wsUrl}/stream`)).status).toBe(400);
    expect((await upgradeStatus(`${sim.wsUrl}/ws`)).status).toBe(400);
    const c = await open('/websocket/v1');
    c.send('PING');
    expect(await c.next((m) => isObj(m) && m['status'] === 'UP')).toEqual({ status: 'UP' });
    expect(sim.venue).toMatchObject({ id: 'upbit', dialect: 'upbit' });
  });

  it('a request replaces the whole set; new streams get a SNAPSHOT first, kept ones none', async () => {
    const { sim, clock } = await start();
    const c = await open('/websocket/v1');
    c.send([ticket, { type: 'ticker', codes: ['KRW-BTC', 'KRW-ETH'] }, { format: 'DEFAULT' }]);
    const snap = await c.next(of('ticker'));
    expect(snap).toMatchObject({ type: 'ticker', code: 'KRW-BTC', stream_type: 'SNAPSHOT' });
    await waitFor(() => sim.stats().connectionList[0]!.subscriptions.length === 2);
    c.send([
      ticket,
      { type: 'ticker', codes: ['KRW-ETH'] },
      { type: 'orderbook', codes: ['KRW-ETH'] },
    ]);
    await c.next(of('orderbook', 'KRW-ETH'));
    await waitFor(() => sim.stats().connectionList[0]!.subscriptions.length === 2);
    expect(sim.stats().connectionList[0]!.subscriptions.sort()).toEqual([
      'orderbook:KRW-ETH',
      'ticker:KRW-ETH',
    ]);
    const snapshots = c.frames.filter((f) => f.includes('"SNAPSHOT"')).map((f) => JSON.parse(f));
    expect(snapshots.map((m: { type: string; code: string }) => `${m.type}:${m.code}`)).toEqual([
      'ticker:KRW-BTC',
      'ticker:KRW-ETH',
      'orderbook:KRW-ETH',
    ]);
    const before = c.frames.length;
    for (let i = 0; i < 40; i++) await clock.advance(50);
    await settle(50);
    const later = c.frames
      .slice(before)
      .map((f) => JSON.parse(f) as { type: string; code: string });
    expect(later.length).toBeGreaterThan(0);
    expect(new Set(later.map((m) => `${m.type}:${m.code}`))).toEqual(
      new Set(['ticker:KRW-ETH', 'orderbook:KRW-ETH']),
    );
    expect(sim.stats().subscriptions).toMatchObject({ subscribeFrames: 2, rejectedStreams: 0 });
  });

  it('sends binary frames of UTF-8 JSON with Upbit field names and numbers', async () => {
    const { sim, clock } = await start();
    const c = await open('/websocket/v1');
    let binary = 0;
    let text = 0;
    c.ws.on('message', (_d, isBinary: boolean) => (isBinary ? binary++ : text++));
    c.send([
      ticket,
      { type: 'ticker', codes: ['KRW-BTC'] },
      { type: 'trade', codes: ['KRW-BTC'] },
      { type: 'orderbook', codes: ['KRW-BTC'] },
      { type: 'candle.1s', codes: ['KRW-BTC'] },
    ]);
    await waitFor(() => sim.stats().connectionList[0]!.subscriptions.length === 4);
    for (let i = 0; i < 60; i++) await clock.advance(50);
    const trade = (await c.next(of('trade'))) as Record<string, unknown>;
    expect(trade).toMatchObject({ type: 'trade', code: 'KRW-BTC', stream_type: 'REALTIME' });
    for (const k of [
      'trade_price',
      'trade_volume',
      'sequential_id',
      'trade_timestamp',
      'timestamp',
    ])
      expect(typeof trade[k], k).toBe('number');
    expect(['ASK', 'BID']).toContain(trade['ask_bid']);
    // Upbit's trade id: the trade time times 10,000 plus a counter, beyond 2^53 (so read in
    // the frame's text, which JSON.parse would round).
    const frame = c.frames.find((f) => f.startsWith('{"type":"trade"'))!;
    const sid = /"sequential_id":(\d+),/.exec(frame)![1]!;
    expect(sid).toMatch(new RegExp(`^${/"trade_timestamp":(\d+),/.exec(frame)![1]!}\\d{4}$`));
    expect(Number(sid)).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
    const ticker = (await c.next(of('ticker'))) as Record<string, unknown>;
    for (const k of ['trade_price', 'opening_price', 'high_price', 'low_price', 'acc_trade_volume'])
      expect(typeof ticker[k], k).toBe('number');
    expect(['RISE', 'EVEN', 'FALL']).toContain(ticker['change']);
    const book = (await c.next(of('orderbook'))) as {
      orderbook_units: {
        ask_price: number;
        bid_price: number;
        ask_size: number;
        bid_size: number;
      }[];
    };
    expect(book.orderbook_units).toHaveLength(15);
    const u = book.orderbook_units;
    expect(u[0]!.bid_price).toBeLessThan(u[0]!.ask_price);
    for (let i = 1; i < u.length; i++) {
      expect(u[i]!.ask_price).toBeGreaterThan(u[i - 1]!.ask_price);
      expect(u[i]!.bid_price).toBeLessThan(u[i - 1]!.bid_price);
    }
    const candle = (await c.next(of('candle.1s'))) as Record<string, unknown>;
    expect(candle['candle_date_time_utc']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(typeof candle['candle_acc_trade_volume']).toBe('number');
    await settle();
    expect(binary).toBeGreaterThan(4);
    expect(text).toBe(0);
    // Every frame opens with type then code: what a client keys an unparsed frame by.
    for (const f of c.frames) expect(f).toMatch(/^\{"type":"[a-z0-9.]+","code":"[A-Z]+-[A-Z]+"/);
  });

  it('speaks the SIMPLE format when asked', async () => {
    const { sim, clock } = await start();
    const c = await open('/websocket/v1');
    c.send([
      ticket,
      { type: 'orderbook', codes: ['KRW-BTC'] },
      { type: 'trade', codes: ['KRW-BTC'] },
      { format: 'SIMPLE' },
    ]);
    await waitFor(() => sim.stats().connectionList[0]!.subscriptions.length === 2);
    for (let i = 0; i < 60; i++) await clock.advance(50);
    const m = (await c.next(
      (x) => isObj(x) && x['st'] === 'REALTIME' && x['ty'] === 'orderbook',
    )) as Record<string, unknown>;
    expect(m).toMatchObject({ ty: 'orderbook', cd: 'KRW-BTC' });
    expect((m['obu'] as Record<string, unknown>[])[0]).toHaveProperty('ap');
    expect(m).not.toHaveProperty('orderbook_units');
    await c.next((x) => isObj(x) && x['ty'] === 'trade');
    // The trade id keeps all its digits in SIMPLE too.
    const frame = c.frames.find((f) => f.startsWith('{"ty":"trade"'))!;
    expect(frame).toMatch(/"sid":\d{17},/);
    expect(frame).not.toContain('sequential_id');
  });

  it('answers bad requests with error objects and keeps the previous set', async () => {
    const { sim, clock } = await start();
    const c = await open('/websocket/v1');
    c.send([ticket, { type: 'ticker', codes: ['KRW-BTC'] }]);
    await c.next(of('ticker'));
    const cases: [unknown, string][] = [
      ['{"ticket":', 'WRONG_FORMAT'],
      [{ ticket: 'x' }, 'WRONG_FORMAT'],
      [[{ type: 'ticker', codes: ['KRW-ETH'] }], 'NO_TICKET'],
      [[ticket, { format: 'DEFAULT' }], 'NO_TYPE'],
      [[ticket, { type: 'ticker', codes: [] }], 'NO_CODES'],
      [[ticket, { type: 'ticker' }], 'NO_CODES'],
      [[ticket, { type: 'ticker', codes: ['KRW-NOPE'] }], 'INVALID_PARAM'],
      [[ticket, { type: 'ticker', codes: ['krw-btc'] }], 'INVALID_PARAM'],
      [[ticket, { type: 'depth', codes: ['KRW-BTC'] }], 'INVALID_PARAM'],
      [[ticket, { type: 'candle.2m', codes: ['KRW-BTC'] }], 'INVALID_PARAM'],
      [[ticket, { type: 'ticker', codes: ['KRW-ETH'] }, { format: 'XML' }], 'WRONG_FORMAT'],
      // String() throws on it: a reply all the same, no crash.
      [
        [ticket, { type: 'ticker', codes: ['KRW-ETH'] }, { format: { toString: 0 } }],
        'WRONG_FORMAT',
      ],
    ];
    for (const [request, name] of cases) {
      const seen = c.frames.filter((f) => f.includes(`"${name}"`)).length;
      c.send(request);
      await waitFor(() => c.frames.filter((f) => f.includes(`"${name}"`)).length > seen);
      // Under the limit of 5 messages a second, on the simulator's clock.
      await clock.advance(250);
    }
    expect(sim.stats().connectionList[0]!.subscriptions).toEqual(['ticker:KRW-BTC']);
    expect(sim.stats().upbitErrors).toEqual({
      NO_TICKET: 1,
      NO_TYPE: 1,
      NO_CODES: 2,
      WRONG_FORMAT: 4,
      INVALID_PARAM: 4,
    });
    const err = c.frames.map((f) => JSON.parse(f)).find(upbitError('NO_TICKET'));
    expect(err).toEqual({ error: { name: 'NO_TICKET', message: expect.any(String) } });
  });

  it('closes a connection silent for 120 s; PING or a ping frame keeps it', async () => {
    const { clock } = await start();
    const idle = await open('/websocket/v1');
    const pinged = await open('/websocket/v1');
    const framed = await open('/websocket/v1');
    for (let t = 0; t < 300; t += 30) {
      pinged.send('PING');
      framed.ws.ping();
      await settle();
      await clock.advance(30_000);
    }
    expect(await idle.closed).toEqual({ code: 1001, reason: 'Idle timeout' });
    expect(pinged.ws.readyState).toBe(WebSocket.OPEN);
    expect(framed.ws.readyState).toBe(WebSocket.OPEN);
    expect(pinged.frames.filter((f) => f === '{"status":"UP"}')).toHaveLength(10);
  });

  it('a connection frozen and unfrozen still times out when silent', async () => {
    const { sim, clock } = await start();
    const c = await open('/websocket/v1');
    sim.faults.freeze();
    await clock.advance(200_000); // frozen: no judging, no close
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    sim.faults.unfreeze();
    for (let i = 0; i < 125; i++) await clock.advance(1000);
    expect(await c.closed).toEqual({ code: 1001, reason: 'Idle timeout' });
  });

  it('data flowing to the client does not count as life: only what the client sends', async () => {
    const { clock } = await start();
    const c = await open('/websocket/v1');
    c.send([ticket, { type: 'orderbook', codes: ['KRW-BTC'] }]);
    await c.next(of('orderbook'));
    for (let i = 0; i < 125; i++) await clock.advance(1000);
    expect(await c.closed).toEqual({ code: 1001, reason: 'Idle timeout' });
  });

  it('closes 1008 over 5 messages a second or 100 a minute', async () => {
    const { sim, clock } = await start();
    const fast = await open('/websocket/v1');
    for (let i = 0; i < 6; i++) fast.send('PING');
    expect(await fast.closed).toEqual({ code: 1008, reason: 'Too many requests' });
    expect(fast.frames).toHaveLength(5);
    await clock.advance(1000);
    const steady = await open('/websocket/v1');
    for (let second = 0; second < 25; second++) {
      for (let i = 0; i < 4; i++) steady.send('PING');
      await waitFor(() => steady.frames.length === (second + 1) * 4);
      await clock.advance(1000);
    }
    expect(steady.ws.readyState).toBe(WebSocket.OPEN);
    steady.send('PING');
    expect(await steady.closed).toEqual({ code: 1008, reason: 'Too many requests' });
    expect(steady.frames).toHaveLength(100);
    expect(sim.stats().closes1008).toBe(2);
  });

  it('answers HTTP 429 past 5 connection attempts a second', async () => {
    const { sim, clock } = await start();
    for (let i = 0; i < 5; i++) await open('/websocket/v1');
    const r = await upgradeStatus(`${sim.wsUrl}/websocket/v1`);
    expect(r).toEqual({ status: 429, retryAfter: '1' });
    await clock.advance(1000);
    await open('/websocket/v1');
    expect(sim.stats().handshakes.rejected429).toBe(1);
  });
});
