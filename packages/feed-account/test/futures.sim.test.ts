import { DEFAULT_API_KEY, type Simulator } from '@unifeed/simulator';
import { describe, expect, it } from 'vitest';
import {
  userData,
  type FuturesOrderUpdate,
  type FuturesPosition,
  type FuturesUserDataOptions,
} from '../src/index.js';
import {
  accountFixture,
  listenKeys,
  observeAccount,
  QUIET_HEARTBEAT,
  recordingRest,
  recordingWebSocket,
  waitFor,
} from './support.js';

const f = accountFixture();
const KEEPALIVE = 30 * 60_000;

/** A futures account feed on the simulator, with everything it did recorded. */
async function connect(options: Partial<FuturesUserDataOptions> = {}) {
  const env = await f.start();
  const { sim, clock, wire } = env;
  const account = userData({
    apiKey: DEFAULT_API_KEY.apiKey,
    wsUrl: sim.wsUrl,
    clock,
    random: () => 0,
    rest: recordingRest(sim.restUrl, clock, wire),
    connection: { heartbeat: QUIET_HEARTBEAT, WebSocket: recordingWebSocket(wire) },
    ...options,
  });
  f.onCleanup(() => account.stop());
  const seen = observeAccount(account);
  let positions: ReadonlyMap<string, FuturesPosition> = new Map();
  account.positions$.subscribe({ next: (p) => (positions = p), ...seen.end('positions') });
  return { ...env, ...seen, account, positions: () => positions };
}

/** PUT with the default key from outside the feed: what the venue says about the key now. */
async function putKey(sim: Simulator): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${sim.restUrl}/fapi/v1/listenKey`, {
    method: 'PUT',
    headers: { 'X-MBX-APIKEY': DEFAULT_API_KEY.apiKey },
  });
  return { status: res.status, body: await res.json() };
}

const summary = (o: FuturesOrderUpdate) => `${o.orderId} ${o.executionType} ${o.status}`;

describe('userData (USD-M futures) on the simulator', { timeout: 30_000 }, () => {
  it('delivers typed events with exact ids; balances and positions equal the account', async () => {
    const t = await connect();
    const { sim } = t;
    await t.account.start();
    expect(t.account.state).toBe('running');
    expect(t.wire.urls[0]).toMatch(
      /\/private\/ws\?listenKey=[0-9a-f]{64}&events=ORDER_TRADE_UPDATE\//,
    );

    const a = sim.account.placeOrder({
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '0.010',
      price: '60000',
    });
    sim.account.fill(a.orderId, { quantity: '0.004' });
    sim.account.fill(a.orderId);
    const b = sim.account.placeOrder({
      symbol: 'ETHUSDT',
      side: 'SELL',
      quantity: '2',
      price: '3000',
    });
    sim.account.fill(b.orderId, { quantity: '1.5' });
    sim.account.cancel(b.orderId);
    const c = sim.account.placeOrder({
      symbol: 'BNBUSDT',
      side: 'BUY',
      quantity: '1',
      price: '500',
    });
    sim.account.fill(c.orderId);
    const d = sim.account.placeOrder({
      symbol: 'BNBUSDT',
      side: 'SELL',
      quantity: '1',
      price: '510',
    });
    sim.account.fill(d.orderId);
    sim.account.adjustBalance('USDT', '250.5');
    sim.account.marginCall('ETHUSDT', '3000');

    await waitFor(() => t.events.some((e) => e.type === 'MARGIN_CALL'), 'the margin call');
    // Ids above 2^53, exact: a plain JSON.parse would have rounded them to one value.
    expect(BigInt(a.orderId)).toBeGreaterThan(2n ** 53n);
    expect(t.orders.map(summary)).toEqual([
      `${a.orderId} NEW NEW`,
      `${a.orderId} TRADE PARTIALLY_FILLED`,
      `${a.orderId} TRADE FILLED`,
      `${b.orderId} NEW NEW`,
      `${b.orderId} TRADE PARTIALLY_FILLED`,
      `${b.orderId} CANCELED CANCELED`,
      `${c.orderId} NEW NEW`,
      `${c.orderId} TRADE FILLED`,
      `${d.orderId} NEW NEW`,
      `${d.orderId} TRADE FILLED`,
    ]);
    const fill = t.orders[1]!;
    expect(fill).toMatchObject({
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '0.010',
      lastQuantity: '0.00400000',
      lastPrice: '60000.00000000',
      filledQuantity: '0.00400000',
      tradeId: '1',
    });
    expect(t.orders[0]!.tradeId).toBeUndefined();

    // The maintained state is the simulator's, to the last digit.
    expect([...t.positions().keys()].sort()).toEqual(['BTCUSDT:BOTH', 'ETHUSDT:BOTH']);
    expect(t.positions().get('BTCUSDT:BOTH')?.amount).toBe(sim.account.position('BTCUSDT'));
    expect(t.positions().get('ETHUSDT:BOTH')?.amount).toBe(sim.account.position('ETHUSDT'));
    expect(sim.account.position('ETHUSDT')).toBe('-1.50000000');
    expect(sim.account.position('BNBUSDT')).toBe('0.00000000');
    expect(t.balances().get('USDT')?.walletBalance).toBe(sim.account.balance('USDT'));
    expect(sim.account.balance('USDT')).toBe('100250.50000000');

    const call = t.events.find((e) => e.type === 'MARGIN_CALL');
    expect(call).toMatchObject({ positions: [{ symbol: 'ETHUSDT', amount: '-1.50000000' }] });
    expect(t.account.stats()).toMatchObject({ orders: 10, parseErrors: 0, gaps: 0, links: 1 });
  });

  it("delivers each order update once when the simulator sends the account's frames twice", async () => {
    const t = await connect();
    const { sim } = t;
    await t.account.start();
    expect(sim.faults.duplicate(50, { path: '/private/ws' })).toBe(1);
    const a = sim.account.placeOrder({
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '1',
      price: '10',
    });
    sim.account.fill(a.orderId, { quantity: '0.4' });
    sim.account.fill(a.orderId);
    sim.account.marginCall('BTCUSDT', '10');
    await waitFor(() => t.events.some((e) => e.type === 'MARGIN_CALL'), 'the margin call');
    expect(t.orders.map(summary)).toEqual([
      `${a.orderId} NEW NEW`,
      `${a.orderId} TRADE PARTIALLY_FILLED`,
      `${a.orderId} TRADE FILLED`,
    ]);
    // Three order updates and two ACCOUNT_UPDATEs came twice; the margin call has no identity
    // and is delivered as often as it was sent.
    const types = t.events.map((e) => e.type);
    expect(types.filter((x) => x === 'ACCOUNT_UPDATE')).toHaveLength(2);
    expect(types.filter((x) => x === 'MARGIN_CALL')).toHaveLength(2);
    expect(t.account.stats()).toMatchObject({ orders: 3, duplicatesSuppressed: 5, parseErrors: 0 });
  });

  it('renews an expired key mid-stream without losing an order update', async () => {
    const t = await connect();
    const { sim } = t;
    await t.account.start();
    const a = sim.account.placeOrder({
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '1',
      price: '10',
    });
    // The order update goes out right before the expiry notice, on the same socket.
    sim.faults.expireListenKey();
    await waitFor(() => t.said('renewed').length === 1, 'renewal');
    sim.account.fill(a.orderId);
    const b = sim.account.placeOrder({
      symbol: 'ETHUSDT',
      side: 'SELL',
      quantity: '2',
      price: '20',
    });
    await waitFor(() => t.orders.length === 3, 'three order updates');

    expect(t.orders.map(summary)).toEqual([
      `${a.orderId} NEW NEW`,
      `${a.orderId} TRADE FILLED`,
      `${b.orderId} NEW NEW`,
    ]);
    expect(t.said('renewing')).toEqual([{ type: 'renewing', reason: 'expired', delayMs: 0 }]);
    expect(t.said('gap')).toEqual([{ type: 'gap', reason: 'listen-key-expired' }]);
    expect(t.events.some((e) => e.type === 'listenKeyExpired')).toBe(true);
    const keys = listenKeys(t.wire);
    expect(keys).toHaveLength(2);
    expect(t.wire.urls.at(-1)).toContain(keys[1]);
    expect(t.account.stats()).toMatchObject({ links: 2, listenKey: { renewals: 1, changes: 1 } });
    // The connection's totals span both links: counters never go down.
    const connection = t.account.stats().connection!;
    expect(connection.connections).toBe(2);
    expect(connection.messages).toBeGreaterThanOrEqual(4); // three updates and the notice
    // One socket remains: the expired one was closed.
    await waitFor(() => sim.stats().connections.open === 1, 'the old socket closed');
    expect(t.ends).toEqual([]);
  });

  it('keeps the key alive every 30 minutes: after 3 hours, same key, same connection', async () => {
    const t = await connect();
    await t.account.start();
    for (let i = 1; i <= 6; i++) {
      // Each answer is awaited before time moves on, so a slow machine cannot shift the
      // schedule: the keepalives fall at exactly 30, 60, ... 180 minutes.
      await t.advance(KEEPALIVE, 5 * 60_000);
      await waitFor(() => t.account.stats().listenKey.keptAlive === i, `keepalive ${i}`);
      expect(t.account.stats().listenKey.lastKeepAliveAt).toBe(t.clock.now());
    }
    expect(t.wire.calls.filter((c) => c === 'PUT /fapi/v1/listenKey')).toHaveLength(6);
    expect(listenKeys(t.wire)).toHaveLength(1);
    expect(t.account.stats()).toMatchObject({ links: 1, listenKey: { renewals: 0 } });
    expect(t.events.some((e) => e.type === 'listenKeyExpired')).toBe(false);
    const o = t.sim.account.placeOrder({
      symbol: 'BTCUSDT',
      side: 'SELL',
      quantity: '1',
      price: '1',
    });
    await waitFor(() => t.orders.length === 1, 'an order update three hours in');
    expect(t.orders[0]!.orderId).toBe(o.orderId);
  });

  it('retries a failed keepalive with back-off and keeps the key', async () => {
    const t = await connect();
    await t.account.start();
    t.sim.faults.rest({ status: 503, path: '/fapi/v1/listenKey', count: 2 });
    await t.advance(KEEPALIVE);
    await waitFor(() => t.said('keepalive-failed').length === 1, 'first failure');
    // random() = 0: the back-off is exactly 1 s, then 2 s.
    await t.advance(999, 999);
    expect(t.said('keepalive-failed')).toHaveLength(1);
    await t.advance(1, 1);
    await waitFor(() => t.said('keepalive-failed').length === 2, 'second failure');
    await t.advance(2000, 2000);
    await waitFor(() => t.account.stats().listenKey.keptAlive === 1, 'the retry succeeds');
    expect(t.said('keepalive-failed').map((s) => 'delayMs' in s && s.delayMs)).toEqual([
      1000, 2000,
    ]);
    expect(t.account.stats()).toMatchObject({
      links: 1,
      listenKey: { keepAliveFailures: 2, renewals: 0, changes: 0 },
    });
    expect((await putKey(t.sim)).status).toBe(200);
  });

  it('after failed keepalives gets a new key (POST) and moves the connection to it', async () => {
    const t = await connect({ keepAliveAttempts: 3 });
    const { sim } = t;
    await t.account.start();
    // The key dies silently (deleted elsewhere) while the venue's REST side is failing.
    await fetch(`${sim.restUrl}/fapi/v1/listenKey`, {
      method: 'DELETE',
      headers: { 'X-MBX-APIKEY': DEFAULT_API_KEY.apiKey },
    });
    sim.faults.rest({ status: 500, path: '/fapi/v1/listenKey', count: 3 });
    await t.advance(KEEPALIVE);
    await t.advanceUntil(() => t.said('renewed').length === 1, 1000);
    expect(t.said('keepalive-failed')).toHaveLength(2);
    expect(t.said('renewing')).toEqual([
      { type: 'renewing', reason: 'keepalive-failed', delayMs: 0 },
    ]);
    expect(t.said('gap')).toEqual([{ type: 'gap', reason: 'listen-key-lost' }]);
    expect(listenKeys(t.wire)).toHaveLength(2);
    const o = sim.account.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: '1', price: '1' });
    await waitFor(() => t.orders.length === 1, 'an order update on the new key');
    expect(t.orders[0]!.orderId).toBe(o.orderId);
  });

  it('after failed keepalives keeps the connection when the venue hands back the same key', async () => {
    const t = await connect({ keepAliveAttempts: 2 });
    await t.account.start();
    t.sim.faults.rest({ status: 502, path: '/fapi/v1/listenKey', count: 2 });
    await t.advance(KEEPALIVE);
    await t.advanceUntil(() => t.account.stats().listenKey.created === 2, 1000);
    expect(t.account.stats().listenKey.renewals).toBe(1);
    expect(listenKeys(t.wire)).toHaveLength(1);
    expect(t.account.stats().links).toBe(1);
    expect(t.said('gap')).toEqual([]);
  });

  it('gets a new key when a keepalive answers -1125', async () => {
    const t = await connect();
    const { sim } = t;
    await t.account.start();
    await fetch(`${sim.restUrl}/fapi/v1/listenKey`, {
      method: 'DELETE',
      headers: { 'X-MBX-APIKEY': DEFAULT_API_KEY.apiKey },
    });
    expect(await putKey(sim)).toMatchObject({ status: 400, body: { code: -1125 } });
    await t.advance(KEEPALIVE);
    await waitFor(() => t.said('renewed').length === 1, 'renewal');
    expect(t.said('renewing')).toEqual([{ type: 'renewing', reason: 'unknown-key', delayMs: 0 }]);
    expect(t.said('keepalive-failed')).toEqual([]);
    expect(listenKeys(t.wire)).toHaveLength(2);
    const o = sim.account.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: '1', price: '1' });
    await waitFor(() => t.orders.length === 1, 'an order update on the new key');
    expect(t.orders[0]!.orderId).toBe(o.orderId);
    expect(t.ends).toEqual([]);
  });

  it('reconnects after a network failure, on the live key, and reports the gap', async () => {
    const t = await connect();
    await t.account.start();
    expect(t.sim.faults.drop({ code: 1006 })).toBe(1);
    await waitFor(() => t.said('backoff').length === 1, 'back-off');
    await t.advance(1000, 1000);
    await waitFor(() => t.said('gap').length === 1, 'reconnected');
    expect(t.said('gap')).toEqual([{ type: 'gap', reason: 'reconnect' }]);
    expect(t.wire.urls).toHaveLength(2);
    expect(t.wire.urls[1]).toBe(t.wire.urls[0]);
    const o = t.sim.account.placeOrder({
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '1',
      price: '1',
    });
    await waitFor(() => t.orders.length === 1, 'an order update after the reconnect');
    expect(t.orders[0]!.orderId).toBe(o.orderId);
    expect(t.said('fatal')).toEqual([]);
  });

  it('a bad API key is one fatal error: every observable ends once, nothing retries', async () => {
    const t = await connect({ apiKey: 'not-a-key-of-this-venue' });
    const started = t.account.start();
    await expect(started).rejects.toMatchObject({
      code: 'UNIFEED_AUTH',
      status: 401,
      venueCode: -2015,
    });
    expect(t.said('fatal')).toHaveLength(1);
    expect(t.ends.sort()).toEqual([
      'balances error UNIFEED_AUTH',
      'events error UNIFEED_AUTH',
      'orders error UNIFEED_AUTH',
      'positions error UNIFEED_AUTH',
      'status complete',
    ]);
    const requests = t.sim.stats().rest.requests;
    await t.advance(2 * 60 * 60_000, 10 * 60_000);
    expect(t.sim.stats().rest.requests).toBe(requests);
    expect(t.sim.stats().connections.accepted).toBe(0);
    expect(t.account.state).toBe('failed');
    await t.account.stop();
    await expect(t.account.start()).rejects.toMatchObject({ code: 'UNIFEED_AUTH' });
    expect(t.clock.pending).toBe(0);
    expect(t.ends).toHaveLength(5);
  });

  it('credentials revoked while running: a keepalive answered 401 is one fatal error, the socket closes, nothing retries', async () => {
    const t = await connect();
    await t.account.start();
    t.sim.faults.rest({ status: 401, path: '/fapi/v1/listenKey', count: 1 });
    await t.advance(KEEPALIVE);
    await waitFor(() => t.said('fatal').length === 1, 'fatal');
    expect(t.account.state).toBe('failed');
    expect(t.ends.sort()).toEqual([
      'balances error UNIFEED_AUTH',
      'events error UNIFEED_AUTH',
      'orders error UNIFEED_AUTH',
      'positions error UNIFEED_AUTH',
      'status complete',
    ]);
    await waitFor(() => t.sim.stats().connections.open === 0, 'the socket closed');
    const requests = t.sim.stats().rest.requests;
    const accepted = t.sim.stats().connections.accepted;
    await t.advance(2 * 60 * 60_000, 10 * 60_000);
    expect(t.sim.stats().rest.requests).toBe(requests);
    expect(t.sim.stats().connections.accepted).toBe(accepted);
    await t.account.stop();
    expect(t.clock.pending).toBe(0);
    expect(t.ends).toHaveLength(5);
  });

  it('stop deletes the key, leaves no timer and completes every observable once', async () => {
    const t = await connect();
    await t.account.start();
    const stopping = t.account.stop();
    expect(t.account.stop()).toBe(stopping);
    await stopping;
    expect(t.wire.calls.at(-1)).toBe('DELETE /fapi/v1/listenKey');
    expect(await putKey(t.sim)).toMatchObject({ status: 400, body: { code: -1125 } });
    expect(t.clock.pending).toBe(0);
    expect(t.ends.sort()).toEqual([
      'balances complete',
      'events complete',
      'orders complete',
      'positions complete',
      'status complete',
    ]);
    expect(t.statuses.at(-1)).toEqual({ type: 'stopped' });
    await waitFor(() => t.sim.stats().connections.open === 0, 'the socket closed');
  });

  it('refuses a plain ws:// URL to a remote host before any request', () => {
    expect(() =>
      userData({ apiKey: 'k', wsUrl: 'ws://fstream.example.com', restUrl: 'https://x.example' }),
    ).toThrow(expect.objectContaining({ code: 'UNIFEED_INSECURE_URL' }));
    expect(() => userData({ apiKey: 'k', restUrl: 'http://fapi.example.com' })).toThrow(
      expect.objectContaining({ code: 'UNIFEED_INSECURE_URL' }),
    );
    for (const keepAliveMs of [3_600_000, 1, 0.5, 4999, Number.NaN]) {
      expect(() => userData({ apiKey: 'k', keepAliveMs })).toThrow(
        expect.objectContaining({ code: 'UNIFEED_INVALID_OPTION' }),
      );
    }
  });
});
