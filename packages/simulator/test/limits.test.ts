import { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { isObj, reply, settle, simulatorFixture, waitFor } from './helpers.js';

const { start, open } = simulatorFixture();

/** Resolve with the HTTP status the server answered an upgrade with. */
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

describe('limits', () => {
  it('answers an error when a connection would exceed its stream limit', async () => {
    await start({ limits: { streamsPerConnection: 3 } });
    const c = await open('/market/ws');
    c.send({ method: 'SUBSCRIBE', params: ['btcusdt@kline_1m', 'btcusdt@kline_5m'], id: 1 });
    expect(await c.next(reply(1))).toEqual({ result: null, id: 1 });
    c.send({ method: 'SUBSCRIBE', params: ['btcusdt@kline_15m', 'btcusdt@kline_1h'], id: 2 });
    expect(await c.next(reply(2))).toMatchObject({ error: { code: 2 }, id: 2 });
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 3 });
    expect(await c.next(reply(3))).toEqual({
      result: ['btcusdt@kline_1m', 'btcusdt@kline_5m'],
      id: 3,
    });
  });

  it('closes 1008 "Too many requests" over the inbound message rate', async () => {
    const { sim: s } = await start({ venue: 'binance-spot' });
    const c = await open('/ws');
    for (let i = 1; i <= 6; i++) c.send({ method: 'LIST_SUBSCRIPTIONS', id: i });
    expect(await c.closed).toEqual({ code: 1008, reason: 'Too many requests' });
    expect(c.frames.length).toBe(5);
    expect(s.stats().closes1008).toBe(1);
  });

  it('counts the window on the simulated clock', async () => {
    const { clock } = await start({ venue: 'binance-spot' });
    const c = await open('/ws');
    for (let round = 0; round < 3; round++) {
      for (let i = 1; i <= 5; i++) c.send({ method: 'LIST_SUBSCRIPTIONS', id: round * 10 + i });
      await c.next(reply(round * 10 + 5));
      await clock.advance(1000);
    }
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('counts a sliding second, not a calendar one: a burst across its edge is too many', async () => {
    const { clock } = await start({ venue: 'binance-spot' });
    const c = await open('/ws');
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 1 });
    await c.next(reply(1));
    await clock.advance(990);
    for (let i = 2; i <= 5; i++) c.send({ method: 'LIST_SUBSCRIPTIONS', id: i });
    await c.next(reply(5));
    await clock.advance(10); // the first has left the last second; the other four have not
    for (let i = 6; i <= 7; i++) c.send({ method: 'LIST_SUBSCRIPTIONS', id: i });
    expect(await c.closed).toEqual({ code: 1008, reason: 'Too many requests' });
  });

  it('answers HTTP 429 with Retry-After on too many connection attempts', async () => {
    const { sim: s } = await start({ limits: { connectionAttempts: 2 } });
    await open('/market/ws');
    await open('/market/ws');
    const r = await upgradeStatus(`${s.wsUrl}/market/ws`);
    expect(r.status).toBe(429);
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
    expect(s.stats().handshakes.rejected429).toBe(1);
  });

  it('rejects an unknown path with 400 but ignores unknown stream names in the URL', async () => {
    const { sim: s } = await start();
    expect((await upgradeStatus(`${s.wsUrl}/nowhere`)).status).toBe(400);
    expect((await upgradeStatus(`${s.wsUrl}/private/ws?listenKey=nope`)).status).toBe(400);
    const c = await open('/market/ws/0');
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 1 });
    expect(await c.next(reply(1))).toEqual({ result: [], id: 1 });
  });

  it('disconnects at the end of the connection lifetime', async () => {
    const { clock } = await start({ limits: { lifetimeMs: 60_000, pingIntervalMs: 0 } });
    const c = await open('/market/ws/btcusdt@kline_1m');
    await clock.advance(59_000);
    await settle();
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    await clock.advance(1000);
    expect(await c.closed).toEqual({ code: 1001, reason: 'Connection lifetime expired' });
  });

  it('pings at the venue interval and keeps a client that answers', async () => {
    const { clock } = await start({ venue: 'binance-spot' });
    const c = await open('/ws');
    let pings = 0;
    c.ws.on('ping', () => pings++);
    for (let i = 1; i <= 4; i++) {
      await clock.advance(20_000);
      await waitFor(() => pings === i);
    }
    expect(pings).toBe(4);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('disconnects a client that does not pong in time', async () => {
    const { clock } = await start({ venue: 'binance-spot' });
    const c = await open('/ws', { autoPong: false });
    await clock.advance(20_000);
    await settle();
    // Spot: an unsolicited pong that does not echo the ping payload keeps nothing alive.
    c.ws.pong('not-the-payload');
    await settle();
    await clock.advance(60_000);
    expect((await c.closed).code).toBe(1006);
  });

  it('lets any pong keep a futures connection alive', async () => {
    const { clock } = await start({ venue: 'binance-usdm' });
    const c = await open('/market/ws', { autoPong: false });
    await clock.advance(180_000);
    await settle();
    c.ws.pong('anything');
    // A reply proves the server has read the pong, which the socket delivered before it.
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 1 });
    await c.next(reply(1));
    await clock.advance(600_000);
    await settle();
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('sends the spot serverShutdown notice, on the WebSocket API in its own wrapped form', async () => {
    const { sim: s, clock } = await start({ venue: 'binance-spot' });
    const raw = await open('/ws');
    const combined = await open('/stream?streams=btcusdt@trade');
    const api = await open('/ws-api/v3');
    expect(s.faults.serverShutdown()).toBe(3);
    expect(await raw.next((m) => isObj(m) && m['e'] === 'serverShutdown')).toBeTruthy();
    expect(
      await combined.next((m) => isObj(m) && m['stream'] === '!serverShutdown' && isObj(m['data'])),
    ).toBeTruthy();
    // Binance's WS API connection event: `event` wraps it, no subscription id, no bare `e`.
    const notice = await api.next((m) => isObj(m) && isObj(m['event']));
    expect(notice).toEqual({ event: { e: 'serverShutdown', E: clock.now() } });
  });
});
