import { DEFAULT_API_KEY, signParams as simSign } from '@unifeed/simulator';
import { describe, expect, it } from 'vitest';
import { spotUserData, type SpotUserDataOptions } from '../src/index.js';
import {
  accountFixture,
  observeAccount,
  QUIET_HEARTBEAT,
  recordingWebSocket,
  waitFor,
} from './support.js';

const f = accountFixture();

/** A spot account feed on the simulator's WebSocket API, with everything it did recorded. */
async function connect(
  options: Partial<SpotUserDataOptions> = {},
  lose?: (text: string) => boolean,
) {
  const env = await f.start({ venue: 'binance-spot' });
  const { sim, clock, wire } = env;
  const account = spotUserData({
    apiKey: DEFAULT_API_KEY.apiKey,
    apiSecret: DEFAULT_API_KEY.secret,
    wsUrl: sim.wsUrl,
    clock,
    random: () => 0,
    connection: { heartbeat: QUIET_HEARTBEAT, WebSocket: recordingWebSocket(wire, lose) },
    ...options,
  });
  f.onCleanup(() => account.stop());
  return {
    ...env,
    ...observeAccount(account),
    account,
    /** The subscribe requests the client sent, decoded. */
    requests: () =>
      wire.sent
        .map(
          (t) => JSON.parse(t) as { id: number; method: string; params: Record<string, unknown> },
        )
        .filter((r) => r.method === 'userDataStream.subscribe.signature'),
  };
}

describe('spotUserData (WebSocket API) on the simulator', { timeout: 30_000 }, () => {
  it("a local clock 3 s ahead of the venue's: the refused timestamp is measured and corrected", async () => {
    const t = await connect();
    await t.clock.advance(3000); // ours only: the simulator's stays behind
    await t.account.start();
    const [first, second] = t.requests();
    expect(first!.params['timestamp']).toBe(t.simClock.now() + 3000);
    expect(second!.params['timestamp']).toBe(t.simClock.now());
    expect(t.account.stats()).toMatchObject({ subscribeRequests: 2, clockOffsetMs: -3000 });
  });

  it('signs the subscription as the venue checks it, and keeps balances equal to the account', async () => {
    const t = await connect();
    const { sim } = t;
    await t.account.start();
    expect(t.wire.urls).toEqual([`${sim.wsUrl}/ws-api/v3`]);
    const [request] = t.requests();
    const { signature, ...signed } = request!.params;
    expect(Object.keys(signed).sort()).toEqual(['apiKey', 'timestamp']);
    expect(signed['timestamp']).toBe(t.clock.now());
    // The simulator's independent implementation agrees, byte for byte.
    expect(signature).toBe(simSign(signed, DEFAULT_API_KEY.secret));

    sim.account.adjustBalance('BTC', '1.5');
    const a = sim.account.placeOrder({
      symbol: 'ETHUSDT',
      side: 'BUY',
      quantity: '2',
      price: '3000',
    });
    sim.account.fill(a.orderId, { quantity: '0.5' });
    sim.account.fill(a.orderId, { price: '2999.5' });
    const b = sim.account.placeOrder({
      symbol: 'BTCUSDT',
      side: 'SELL',
      quantity: '1',
      price: '60000',
    });
    sim.account.fill(b.orderId, { quantity: '0.25' });
    sim.account.cancel(b.orderId);
    await waitFor(() => t.orders.length === 6, 'six execution reports');

    expect(t.orders.map((o) => `${o.orderId} ${o.executionType} ${o.status}`)).toEqual([
      `${a.orderId} NEW NEW`,
      `${a.orderId} TRADE PARTIALLY_FILLED`,
      `${a.orderId} TRADE FILLED`,
      `${b.orderId} NEW NEW`,
      `${b.orderId} TRADE PARTIALLY_FILLED`,
      `${b.orderId} CANCELED CANCELED`,
    ]);
    expect(BigInt(a.orderId)).toBeGreaterThan(2n ** 53n);
    expect(t.orders[2]).toMatchObject({
      lastQuantity: '1.50000000',
      lastPrice: '2999.50000000',
      tradeId: '2',
      orderListId: undefined,
    });
    expect(t.events.find((e) => e.type === 'balanceUpdate')).toMatchObject({
      asset: 'BTC',
      delta: '1.50000000',
    });
    await waitFor(() => t.balances().get('BTC')?.free === sim.account.balance('BTC'), 'BTC');
    for (const asset of ['BTC', 'ETH', 'USDT']) {
      expect(t.balances().get(asset)?.free).toBe(sim.account.balance(asset));
    }
    expect(sim.account.balance('USDT')).toBe('109000.75000000');
    expect(t.account.stats()).toMatchObject({ orders: 6, parseErrors: 0, strayEvents: 0 });
  });

  it("delivers each execution report once when the simulator sends the account's frames twice", async () => {
    const t = await connect();
    const { sim } = t;
    await t.account.start();
    expect(sim.faults.duplicate(50)).toBe(1);
    const a = sim.account.placeOrder({ symbol: 'ETHUSDT', side: 'BUY', quantity: '2', price: '5' });
    sim.account.fill(a.orderId);
    sim.account.adjustBalance('BTC', '1');
    await waitFor(() => t.events.filter((e) => e.type === 'balanceUpdate').length === 2, 'deposit');
    expect(t.orders.map((o) => `${o.executionType} ${o.status}`)).toEqual([
      'NEW NEW',
      'TRADE FILLED',
    ]);
    // balanceUpdate is a delta with no identity: both copies pass, as two real deposits would.
    expect(t.events.filter((e) => e.type === 'outboundAccountPosition')).toHaveLength(2);
    expect(t.account.stats()).toMatchObject({ orders: 2, duplicatesSuppressed: 4, parseErrors: 0 });
  });

  it('a wrong secret is one fatal error: the signature is refused, nothing retries', async () => {
    const t = await connect({ apiSecret: 'not-the-secret' });
    await expect(t.account.start()).rejects.toMatchObject({
      code: 'UNIFEED_AUTH',
      status: 400,
      venueCode: -1022,
    });
    expect(t.said('fatal')).toHaveLength(1);
    expect(t.ends.sort()).toEqual([
      'balances error UNIFEED_AUTH',
      'events error UNIFEED_AUTH',
      'orders error UNIFEED_AUTH',
      'status complete',
    ]);
    await t.account.stop();
    await t.advance(60 * 60_000, 5 * 60_000);
    expect(t.requests()).toHaveLength(1);
    expect(t.wire.urls).toHaveLength(1);
    expect(t.clock.pending).toBe(0);
  });

  it('an unknown API key is fatal too (-2015)', async () => {
    const t = await connect({ apiKey: 'someone-else' });
    await expect(t.account.start()).rejects.toMatchObject({
      code: 'UNIFEED_AUTH',
      status: 401,
      venueCode: -2015,
    });
    expect(t.account.state).toBe('failed');
  });

  it('subscribes again after eventStreamTerminated, and events keep flowing', async () => {
    const t = await connect();
    const { sim } = t;
    await t.account.start();
    sim.faults.expireListenKey();
    await waitFor(() => t.said('gap').length === 1, 'the resubscription');
    expect(t.said('gap')).toEqual([{ type: 'gap', reason: 'stream-terminated' }]);
    expect(t.events.map((e) => e.type)).toEqual(['eventStreamTerminated']);
    expect(t.requests()).toHaveLength(2);
    sim.account.adjustBalance('USDT', '-10');
    await waitFor(() => t.balances().get('USDT')?.free === '99990.00000000', 'USDT after');
    expect(t.account.stats()).toMatchObject({ terminations: 1, subscribeRequests: 2 });
    expect(t.wire.urls).toHaveLength(1);
  });

  it('reconnects and subscribes again after a network failure', async () => {
    const t = await connect();
    const { sim } = t;
    await t.account.start();
    expect(sim.faults.drop({ code: 1006 })).toBe(1);
    await waitFor(() => t.said('backoff').length === 1, 'back-off');
    await t.advance(1000, 1000);
    await waitFor(() => t.said('gap').length === 1, 'subscribed again');
    expect(t.said('gap')).toEqual([{ type: 'gap', reason: 'reconnect' }]);
    expect(t.requests()).toHaveLength(2);
    const o = sim.account.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: '1', price: '1' });
    await waitFor(() => t.orders.length === 1, 'an execution report after the reconnect');
    expect(t.orders[0]!.orderId).toBe(o.orderId);
    expect(t.said('fatal')).toEqual([]);
  });

  it("moves to a new connection on the WebSocket API's shutdown notice, and events keep flowing", async () => {
    const t = await connect();
    const { sim } = t;
    await t.account.start();
    expect(sim.faults.serverShutdown()).toBe(1);
    await waitFor(() => t.said('backoff').length === 1, 'the notice acted on');
    await t.advance(1000, 1000);
    await waitFor(() => t.said('gap').length === 1, 'subscribed again');
    expect(t.said('gap')).toEqual([{ type: 'gap', reason: 'reconnect' }]);
    expect(t.wire.urls).toHaveLength(2);
    expect(t.requests()).toHaveLength(2);
    const o = sim.account.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: '1', price: '1' });
    await waitFor(() => t.orders.length === 1, 'an execution report on the new connection');
    expect(t.orders[0]!.orderId).toBe(o.orderId);
    expect(t.events.map((e) => e.type)).toEqual(['executionReport']);
    expect(t.account.stats()).toMatchObject({ strayEvents: 0, parseErrors: 0 });
  });

  it('replaces the connection when the subscribe request is never answered', async () => {
    let lost = 0;
    // The first subscribe request is lost on the way: no answer will ever come.
    const t = await connect({ requestTimeoutMs: 5000 }, (text) =>
      text.includes('subscribe.signature') ? lost++ === 0 : false,
    );
    const started = t.account.start();
    await waitFor(() => t.requests().length === 1, 'the request sent');
    await t.advance(4999, 4999);
    expect(t.said('backoff')).toEqual([]);
    await t.advance(1, 1);
    await waitFor(() => t.said('backoff').length === 1, 'the timeout');
    await t.advance(1000, 1000);
    await started;
    expect(t.requests()).toHaveLength(2);
    expect(t.wire.urls).toHaveLength(2);
    expect(t.account.state).toBe('running');
  });

  it('refuses a plain ws:// URL to a remote host, and a missing secret', () => {
    expect(() =>
      spotUserData({ apiKey: 'k', apiSecret: 's', wsUrl: 'ws://ws-api.example.com' }),
    ).toThrow(expect.objectContaining({ code: 'UNIFEED_INSECURE_URL' }));
    expect(() => spotUserData({ apiKey: 'k', apiSecret: '' })).toThrow(
      expect.objectContaining({ code: 'UNIFEED_INVALID_OPTION' }),
    );
  });
});
