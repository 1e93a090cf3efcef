import { RestClient, type WebSocketConstructor } from '@unifeed/core';
import { ManualClock } from '@unifeed/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  spotUserData,
  userData,
  type AccountStatus,
  type FuturesBalance,
  type FuturesPosition,
  type SpotBalance,
} from '../src/index.js';
import { MAX_STATE_ENTRIES, StateMap } from '../src/state-map.js';
import { FakeSocket, fakeVenue, settle } from './fake-venue.js';

const connection = { WebSocket: FakeSocket as unknown as WebSocketConstructor };

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  FakeSocket.instances = [];
});

/** What a test reads of a feed: statuses as `type` or `error:<code>`, orders in brief. */
function watch(account: {
  status$: { subscribe(f: (s: AccountStatus) => void): unknown };
  events$: { subscribe(f: (e: { type: string }) => void): unknown };
  orders$: {
    subscribe(
      f: (o: { orderId: string; status: string; transactionTime: number }) => void,
    ): unknown;
  };
}) {
  const statuses: string[] = [];
  const events: string[] = [];
  const orders: string[] = [];
  account.status$.subscribe((s) =>
    statuses.push(
      s.type === 'error' ? `error:${s.error.code}` : s.type === 'gap' ? `gap:${s.reason}` : s.type,
    ),
  );
  account.events$.subscribe((e) => events.push(e.type));
  account.orders$.subscribe((o) => orders.push(`${o.orderId} ${o.status} ${o.transactionTime}`));
  return { statuses, events, orders };
}

async function runningSpot() {
  const clock = new ManualClock(1772000000000);
  const account = spotUserData({
    apiKey: 'key',
    apiSecret: 'secret',
    wsUrl: 'ws://127.0.0.1:1',
    clock,
    connection,
  });
  stops.push(() => account.stop());
  const started = account.start();
  await settle(clock);
  const socket = FakeSocket.instances.at(-1)!;
  socket.open();
  const { id } = JSON.parse(socket.sent.at(-1)!) as { id: number };
  socket.frame(JSON.stringify({ id, status: 200, result: { subscriptionId: 0 } }));
  await started;
  let balances: ReadonlyMap<string, SpotBalance> = new Map();
  account.balances$.subscribe((m) => (balances = m));
  const seen = watch(account);
  const send = async (...events: string[]) => {
    for (const e of events) socket.frame(`{"subscriptionId":0,"event":${e}}`);
    await settle(clock);
  };
  return { account, send, ...seen, balances: () => balances };
}

async function runningFutures() {
  const clock = new ManualClock(1772000000000);
  const account = userData({
    apiKey: 'key',
    wsUrl: 'ws://127.0.0.1:1',
    clock,
    rest: new RestClient({ baseUrl: 'http://127.0.0.1:1', clock, fetch: fakeVenue }),
    connection,
  });
  stops.push(() => account.stop());
  const started = account.start();
  await settle(clock);
  const socket = FakeSocket.instances.at(-1)!;
  socket.open();
  await started;
  let balances: ReadonlyMap<string, FuturesBalance> = new Map();
  let positions: ReadonlyMap<string, FuturesPosition> = new Map();
  account.balances$.subscribe((m) => (balances = m));
  account.positions$.subscribe((m) => (positions = m));
  const seen = watch(account);
  const send = async (...frames: string[]) => {
    for (const f of frames) socket.frame(f);
    await settle(clock);
  };
  return { account, send, ...seen, balances: () => balances, positions: () => positions };
}

const position = (T: number, amount: string) =>
  `{"e":"ACCOUNT_UPDATE","E":${T},"T":${T},"a":{"m":"ORDER","B":[],"P":[{"s":"BTCUSDT","pa":"${amount}","ep":"1","ps":"BOTH"}]}}`;

const spotBalances = (u: number, ...b: [string, string][]) =>
  `{"e":"outboundAccountPosition","E":${u},"u":${u},"B":[${b
    .map(([a, f]) => `{"a":"${a}","f":"${f}","l":"0.0"}`)
    .join(',')}]}`;

const spotOrder = (id: number, x: string, X: string, T: number, symbol = 'BTCUSDT') =>
  `{"e":"executionReport","E":${T},"s":"${symbol}","c":"c1","S":"BUY","o":"LIMIT","f":"GTC","q":"1.0","p":"1.0","P":"0","x":"${x}","X":"${X}","i":${id},"l":"0","z":"${X === 'FILLED' ? '1.0' : '0'}","L":"0","n":"0","N":null,"T":${T},"t":-1,"m":false}`;

const futuresOrder = (id: number, x: string, X: string, T: number) =>
  `{"e":"ORDER_TRADE_UPDATE","E":${T},"T":${T},"o":{"s":"BTCUSDT","c":"c1","S":"BUY","o":"LIMIT","f":"GTC","q":"1","p":"1","ap":"0","sp":"0","x":"${x}","X":"${X}","i":${id},"l":"0","z":"0","L":"0","T":${T},"t":0,"m":false}}`;

describe('StateMap: the newest state, not the last arrival', () => {
  const entry = (updatedAt: number, v: string) => ({ updatedAt, v });

  it('keeps the newer entry when an older one arrives; equal times apply in arrival order', () => {
    const m = new StateMap<{ updatedAt: number; v: string }>();
    expect(m.set('a', entry(200, 'new'))).toBe(true);
    expect(m.set('a', entry(100, 'old'))).toBe(false);
    m.commit();
    expect(m.current.get('a')?.v).toBe('new');
    expect(m.set('a', entry(200, 'same time, later'))).toBe(true);
    m.commit();
    expect(m.current.get('a')?.v).toBe('same time, later');
  });

  it('remembers a removal: an older entry neither survives it nor comes back after it', () => {
    const m = new StateMap<{ updatedAt: number; v: string }>();
    m.set('a', entry(20, 'open'));
    expect(m.delete('a', 10)).toBe(false);
    m.commit();
    expect(m.current.get('a')?.v).toBe('open');
    expect(m.delete('a', 30)).toBe(true);
    expect(m.set('a', entry(25, 'late'))).toBe(false);
    // A removal of a key never held still dates it.
    expect(m.delete('b', 30)).toBe(true);
    expect(m.set('b', entry(29, 'late'))).toBe(false);
    expect(m.set('b', entry(30, 'reopened'))).toBe(true);
    m.commit();
    expect([...m.current.keys()]).toEqual(['b']);
  });

  it('remembers removals of at most MAX_STATE_ENTRIES keys, the least recently removed forgotten first', () => {
    const m = new StateMap<{ updatedAt: number; v: string }>();
    for (let i = 0; i <= MAX_STATE_ENTRIES; i++) m.delete(`k${i}`, 100);
    expect(m.set('k0', entry(1, 'forgotten removal'))).toBe(true);
    expect(m.set('k1', entry(1, 'remembered removal'))).toBe(false);
  });
});

describe('spotUserData: events that arrive late', () => {
  it('an outboundAccountPosition older than the balance held leaves it; the rest of it applies', async () => {
    const t = await runningSpot();
    await t.send(spotBalances(200, ['BTC', '5.0']));
    await t.send(spotBalances(100, ['BTC', '10.0'], ['ETH', '3.0']));
    expect(t.balances().get('BTC')).toMatchObject({ free: '5.0', updatedAt: 200 });
    expect(t.balances().get('ETH')).toMatchObject({ free: '3.0', updatedAt: 100 });
    // Counted and reported once, never a gap; the event itself is still delivered.
    expect(t.account.stats()).toMatchObject({ outOfOrder: 1, gaps: 0, parseErrors: 0 });
    expect(t.statuses).toEqual(['error:UNIFEED_OUT_OF_ORDER']);
    expect(t.events).toEqual(['outboundAccountPosition', 'outboundAccountPosition']);
    // Equal times apply, in arrival order.
    await t.send(spotBalances(200, ['BTC', '6.0']));
    expect(t.balances().get('BTC')).toMatchObject({ free: '6.0' });
    expect(t.account.stats().outOfOrder).toBe(1);
  });

  it('an executionReport older than the last of its order is delivered, counted and reported', async () => {
    const t = await runningSpot();
    await t.send(
      spotOrder(1, 'TRADE', 'FILLED', 20),
      spotOrder(1, 'NEW', 'NEW', 10),
      // Another order, or the same id on another symbol, has its own history.
      spotOrder(2, 'NEW', 'NEW', 10),
      spotOrder(1, 'NEW', 'NEW', 10, 'ETHBTC'),
    );
    // Delivered all the same: a late fill is news to a consumer summing fills.
    expect(t.orders).toEqual(['1 FILLED 20', '1 NEW 10', '2 NEW 10', '1 NEW 10']);
    expect(t.events).toHaveLength(4);
    expect(t.account.stats()).toMatchObject({ orders: 4, outOfOrder: 1 });
    expect(t.statuses).toEqual(['error:UNIFEED_OUT_OF_ORDER']);
  });

  it('a negative free or locked amount is a parse error: the balance held stays, the feed runs', async () => {
    const t = await runningSpot();
    await t.send(spotBalances(100, ['ETH', '2.0']));
    await t.send(
      '{"e":"outboundAccountPosition","E":3,"u":300,"B":[{"a":"ETH","f":"-7.5","l":"-1"}]}',
    );
    expect(t.balances().get('ETH')).toMatchObject({ free: '2.0' });
    expect(t.statuses).toEqual(['error:UNIFEED_PARSE', 'gap:parse']);
    await t.send(spotBalances(400, ['ETH', '1.0']));
    expect(t.balances().get('ETH')).toMatchObject({ free: '1.0' });
    expect(t.account.stats()).toMatchObject({ parseErrors: 1, state: 'running' });
  });
});

describe('userData: events that arrive late', () => {
  it('an ACCOUNT_UPDATE older than the balance and position held leaves both', async () => {
    const t = await runningFutures();
    await t.send(
      '{"e":"ACCOUNT_UPDATE","E":20,"T":20,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"100","cw":"100"}],"P":[{"s":"BTCUSDT","pa":"2","ep":"1","ps":"BOTH"}]}}',
      '{"e":"ACCOUNT_UPDATE","E":10,"T":10,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"50","cw":"50"}],"P":[{"s":"BTCUSDT","pa":"1","ep":"1","ps":"BOTH"}]}}',
    );
    expect(t.balances().get('USDT')).toMatchObject({ walletBalance: '100', updatedAt: 20 });
    expect(t.positions().get('BTCUSDT:BOTH')).toMatchObject({ amount: '2', updatedAt: 20 });
    expect(t.account.stats()).toMatchObject({ outOfOrder: 2, gaps: 0 });
    expect(t.statuses).toEqual(['error:UNIFEED_OUT_OF_ORDER']);
    expect(t.events).toEqual(['ACCOUNT_UPDATE', 'ACCOUNT_UPDATE']);
  });

  it('an older zero position removes nothing newer; an older open one does not reopen a closed one', async () => {
    const t = await runningFutures();
    await t.send(position(20, '2'), position(10, '0'));
    expect(t.positions().get('BTCUSDT:BOTH')).toMatchObject({ amount: '2' });
    await t.send(position(30, '-0.000'), position(25, '1'));
    expect(t.positions().has('BTCUSDT:BOTH')).toBe(false);
    // A later one opens it again.
    await t.send(position(30, '3'));
    expect(t.positions().get('BTCUSDT:BOTH')).toMatchObject({ amount: '3' });
    expect(t.account.stats()).toMatchObject({ outOfOrder: 2, positions: 1 });
  });

  it('an ORDER_TRADE_UPDATE older than the last of its order is delivered, counted and reported', async () => {
    const t = await runningFutures();
    await t.send(
      futuresOrder(7, 'TRADE', 'FILLED', 20),
      futuresOrder(7, 'NEW', 'NEW', 10),
      // The order's newest time stays 20: a second late one is out of order too.
      futuresOrder(7, 'TRADE', 'PARTIALLY_FILLED', 15),
    );
    expect(t.orders).toEqual(['7 FILLED 20', '7 NEW 10', '7 PARTIALLY_FILLED 15']);
    expect(t.events).toHaveLength(3);
    expect(t.account.stats()).toMatchObject({ orders: 3, outOfOrder: 2 });
    expect(t.statuses).toEqual(['error:UNIFEED_OUT_OF_ORDER', 'error:UNIFEED_OUT_OF_ORDER']);
  });
});
