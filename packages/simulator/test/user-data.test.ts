import { describe, expect, it } from 'vitest';
import { DEFAULT_API_KEY, signParams, type Simulator } from '@unifeed/simulator';
import { isObj, reply, simulatorFixture } from './helpers.js';

const { start, open } = simulatorFixture();

type Data = Record<string, unknown>;

async function listenKey(s: Simulator, method: string, apiKey = DEFAULT_API_KEY.apiKey) {
  const res = await fetch(`${s.restUrl}/fapi/v1/listenKey`, {
    method,
    headers: { 'X-MBX-APIKEY': apiKey },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('futures user data', () => {
  it('creates, extends and deletes listen keys with X-MBX-APIKEY', async () => {
    const { sim: s } = await start();
    expect((await listenKey(s, 'POST', 'wrong')).status).toBe(401);
    const created = await listenKey(s, 'POST');
    expect(created.body['listenKey']).toMatch(/^[0-9a-f]{64}$/);
    expect((await listenKey(s, 'POST')).body).toEqual(created.body);
    expect((await listenKey(s, 'PUT')).status).toBe(200);
    expect((await listenKey(s, 'DELETE')).body).toEqual({});
    expect(await listenKey(s, 'PUT')).toEqual({
      status: 400,
      body: { code: -1125, msg: 'This listenKey does not exist.' },
    });
  });

  it('streams order and account events on /private/ws and expires the key after 60 min', async () => {
    // An hour jumps in one advance, so no pong could come back: server pings are off here.
    const { sim: s, clock } = await start({ limits: { pingIntervalMs: 0 } });
    const key = String((await listenKey(s, 'POST')).body['listenKey']);
    const c = await open(`/private/ws?listenKey=${key}`);
    const order = s.account.placeOrder({
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '0.010',
      price: '60000',
    });
    s.account.fill(order.orderId);
    const isOrder = (x: string) => (m: unknown) => isObj(m) && isObj(m['o']) && m['o']['x'] === x;
    await c.next(isOrder('NEW'));
    const trade = (await c.next(isOrder('TRADE'))) as { o: Record<string, unknown> };
    expect(trade.o).toMatchObject({ X: 'FILLED', z: '0.01000000', L: '60000.00000000' });
    // The order id is above 2^53 and must arrive as its exact digits.
    expect(c.frames.find((f) => f.includes('"x":"TRADE"'))).toContain(`"i":${order.orderId},`);
    const acct = (await c.next((m) => isObj(m) && m['e'] === 'ACCOUNT_UPDATE')) as {
      a: { P: { s: string; pa: string }[] };
    };
    expect(acct.a.P[0]).toMatchObject({ s: 'BTCUSDT', pa: '0.01000000' });
    await clock.advance(60 * 60_000);
    expect(await c.next((m) => isObj(m) && m['e'] === 'listenKeyExpired')).toMatchObject({
      listenKey: key,
    });
    expect((await listenKey(s, 'PUT')).body).toMatchObject({ code: -1125 });
  });

  it('delivers only the event types named in events=', async () => {
    const { sim: s } = await start();
    const key = String((await listenKey(s, 'POST')).body['listenKey']);
    const c = await open(`/private/ws?listenKey=${key}&events=ACCOUNT_UPDATE`);
    const o = s.account.placeOrder({ symbol: 'BTCUSDT', side: 'SELL', quantity: '1', price: '1' });
    s.account.fill(o.orderId);
    await c.next((m) => isObj(m) && m['e'] === 'ACCOUNT_UPDATE');
    expect(c.frames.some((f) => f.includes('ORDER_TRADE_UPDATE'))).toBe(false);
  });

  it('expires a listen key on demand', async () => {
    const { sim: s } = await start();
    const key = String((await listenKey(s, 'POST')).body['listenKey']);
    const c = await open(`/private/stream?listenKey=${key}`);
    s.faults.expireListenKey();
    const expired = (await c.next((m) => isObj(m) && m['stream'] === key)) as { data: Data };
    expect(expired.data).toMatchObject({ e: 'listenKeyExpired', listenKey: key });
    // As captured from the venue, E is a string in this event.
    expect(typeof expired.data['E']).toBe('string');
  });
});

describe('spot WS API user data', () => {
  it('checks the HMAC signature and wraps events with the subscription id', async () => {
    const { sim: s, clock } = await start({ venue: 'binance-spot' });
    const c = await open(`/ws-api/v3`);
    const params = { apiKey: DEFAULT_API_KEY.apiKey, timestamp: clock.now() };
    c.send({
      id: 1,
      method: 'userDataStream.subscribe.signature',
      params: { ...params, signature: 'f00' },
    });
    expect(await c.next(reply(1))).toMatchObject({ status: 400, error: { code: -1022 } });
    // A parameter String() cannot print (an object whose toString is no function) is a bad
    // signature, not a crash of the simulator.
    c.send({
      id: 9,
      method: 'userDataStream.subscribe.signature',
      params: { ...params, odd: { toString: 0 }, signature: 'f00' },
    });
    expect(await c.next(reply(9))).toMatchObject({ status: 400, error: { code: -1022 } });
    const signature = signParams(params, DEFAULT_API_KEY.secret);
    c.send({
      id: 2,
      method: 'userDataStream.subscribe.signature',
      params: { ...params, signature },
    });
    expect(await c.next(reply(2))).toMatchObject({ status: 200, result: { subscriptionId: 0 } });
    s.account.adjustBalance('BTC', '1.5');
    expect(
      await c.next((m) => isObj(m) && isObj(m['event']) && m['event']['e'] === 'balanceUpdate'),
    ).toMatchObject({
      subscriptionId: 0,
      event: { a: 'BTC', d: '1.50000000' },
    });
    const o = s.account.placeOrder({
      symbol: 'ETHUSDT',
      side: 'SELL',
      quantity: '2',
      price: '3000',
    });
    s.account.fill(o.orderId, { quantity: '1' });
    const report = (await c.next(
      (m) => isObj(m) && isObj(m['event']) && m['event']['x'] === 'TRADE',
    )) as { event: Record<string, unknown> };
    expect(report.event).toMatchObject({
      e: 'executionReport',
      X: 'PARTIALLY_FILLED',
      l: '1.00000000',
    });
    expect(
      await c.next(
        (m) => isObj(m) && isObj(m['event']) && m['event']['e'] === 'outboundAccountPosition',
      ),
    ).toBeTruthy();
    expect(s.account.balance('USDT')).toBe('103000.00000000');
    s.faults.expireListenKey();
    expect(
      await c.next(
        (m) => isObj(m) && isObj(m['event']) && m['event']['e'] === 'eventStreamTerminated',
      ),
    ).toMatchObject({ subscriptionId: 0 });
    // Terminated: later account events go nowhere.
    const frames = c.frames.length;
    s.account.adjustBalance('BTC', '1');
    c.send({ id: 3, method: 'ping' });
    await c.next(reply(3));
    expect(c.frames.length).toBe(frames + 1);
  });

  it('refuses a timestamp over 1 s ahead of its clock or older than recvWindow (-1021), and tells its time', async () => {
    const { clock } = await start({ venue: 'binance-spot' });
    const c = await open(`/ws-api/v3`);
    const subscribe = (id: number, params: Record<string, number | string>) => {
      const signed = { apiKey: DEFAULT_API_KEY.apiKey, ...params };
      c.send({
        id,
        method: 'userDataStream.subscribe.signature',
        params: { ...signed, signature: signParams(signed, DEFAULT_API_KEY.secret) },
      });
    };
    subscribe(1, { timestamp: clock.now() + 1001 });
    expect(await c.next(reply(1))).toMatchObject({ status: 400, error: { code: -1021 } });
    subscribe(2, { timestamp: clock.now() - 5001 });
    expect(await c.next(reply(2))).toMatchObject({ status: 400, error: { code: -1021 } });
    subscribe(3, { timestamp: clock.now() - 5001, recvWindow: 6000 });
    expect(await c.next(reply(3))).toMatchObject({ status: 200 });
    c.send({ id: 4, method: 'time' });
    expect(await c.next(reply(4))).toMatchObject({
      status: 200,
      result: { serverTime: clock.now() },
    });
  });
});
