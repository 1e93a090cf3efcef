import { RestClient, type WebSocketConstructor } from '@unifeed/core';
import { ManualClock } from '@unifeed/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  parseFuturesEvent,
  parseLossless,
  parseSpotEvent,
  userData,
  type AccountStatus,
  type FuturesOrderUpdate,
  type FuturesUserData,
} from '../src/index.js';
import {
  futuresEventIdentity,
  orderUpdateIdentity,
  RepeatFilter,
  spotEventIdentity,
} from '../src/repeats.js';
import {
  ACCOUNT_UPDATE,
  BALANCE_UPDATE,
  EXECUTION_REPORT,
  MARGIN_CALL,
  ORDER_TRADE_UPDATE_2026,
  OUTBOUND_ACCOUNT_POSITION,
  TRADE_LITE,
} from './fixtures.js';
import { FakeSocket, fakeVenue, settle } from './fake-venue.js';

/** An ORDER_TRADE_UPDATE frame with `o` fields replaced (and the event time, `E`). */
function orderFrame(o: Record<string, unknown>, E = 1772000000001): string {
  // Lossless: the fixture's ids are beyond 2^53. Written back as bare integers, as the venue does.
  const base = parseLossless(ORDER_TRADE_UPDATE_2026) as { o: Record<string, unknown> };
  return JSON.stringify({ ...base, E, o: { ...base.o, ...o } }).replace(
    /"(i|t)":"(\d+)"/g,
    '"$1":$2',
  );
}

const futuresOrder = (frame: string): FuturesOrderUpdate => {
  const e = parseFuturesEvent(parseLossless(frame));
  if (e.type !== 'ORDER_TRADE_UPDATE') throw new Error(`not an order update: ${e.type}`);
  return e.order;
};
const futuresId = (frame: string) => futuresEventIdentity(parseFuturesEvent(parseLossless(frame)));
const spotId = (frame: string) => spotEventIdentity(parseSpotEvent(parseLossless(frame)));

describe('order update identity', () => {
  it('is the same for the same frame, even restamped with a new event time', () => {
    const a = orderFrame({});
    expect(futuresId(a)).toBe(futuresId(a));
    expect(futuresId(orderFrame({}, 1772000000999))).toBe(futuresId(a));
  });

  it('tells apart every update that can follow another in the same millisecond', () => {
    const fill1 = orderFrame({ x: 'TRADE', X: 'PARTIALLY_FILLED', t: 11, z: '0.500' });
    const variants = [
      // Second fill of the same order, same ms: new trade id, more filled.
      orderFrame({ x: 'TRADE', X: 'PARTIALLY_FILLED', t: 12, z: '1.000' }),
      // Cancel right after the fill, same ms: same filled quantity, no trade id.
      orderFrame({ x: 'CANCELED', X: 'CANCELED', t: 0, z: '0.500' }),
      // An amendment in the same ms: only the price changed.
      orderFrame({ x: 'AMENDMENT', X: 'PARTIALLY_FILLED', t: 0, z: '0.500', p: '3000.20' }),
      // ... or only the quantity.
      orderFrame({ x: 'AMENDMENT', X: 'PARTIALLY_FILLED', t: 0, z: '0.500', q: '3.000' }),
      // Another order with the same trade id (trade ids are per symbol), or the same order id
      // on another symbol.
      orderFrame({ x: 'TRADE', X: 'PARTIALLY_FILLED', t: 11, z: '0.500', i: 1 }),
      orderFrame({ x: 'TRADE', X: 'PARTIALLY_FILLED', t: 11, z: '0.500', s: 'BTCUSDT' }),
      // The same fill a millisecond later is another update.
      orderFrame({ x: 'TRADE', X: 'PARTIALLY_FILLED', t: 11, z: '0.500', T: 1772000000002 }),
    ];
    const ids = [fill1, ...variants].map(futuresId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps ids beyond 2^53 exact: two orders one apart are two identities', () => {
    const a = futuresOrder(orderFrame({ i: '8389765739703625592' }));
    const b = futuresOrder(orderFrame({ i: '8389765739703625593' }));
    expect(a.orderId).toBe('8389765739703625592');
    expect(orderUpdateIdentity(a)).not.toBe(orderUpdateIdentity(b));
  });

  it('futures: TRADE_LITE and ACCOUNT_UPDATE have one, events without fields for it have none', () => {
    expect(futuresId(TRADE_LITE)).toBe(futuresId(TRADE_LITE));
    expect(futuresId(ACCOUNT_UPDATE)).toBe(futuresId(ACCOUNT_UPDATE));
    const otherBalance = ACCOUNT_UPDATE.replace('"wb":"122624.12345678"', '"wb":"1"');
    expect(futuresId(otherBalance)).not.toBe(futuresId(ACCOUNT_UPDATE));
    expect(futuresId(MARGIN_CALL)).toBeUndefined();
  });

  it('spot: two TRADE_PREVENTION reports of one order differing only in the prevented match', () => {
    // STP DECREMENT: a resting order prevented from matching two takers in one millisecond.
    const base = parseLossless(EXECUTION_REPORT) as Record<string, unknown>;
    const prevented = (v: string) =>
      JSON.stringify({ ...base, x: 'TRADE_PREVENTION', V: 'DECREMENT', v }).replace(
        /"(i|v)":"(\d+)"/g,
        '"$1":$2',
      );
    const first = parseSpotEvent(parseLossless(prevented('9007199254740993')));
    const second = parseSpotEvent(parseLossless(prevented('9007199254740994')));
    if (first.type !== 'executionReport') throw new Error(first.type);
    expect(first.order.preventedMatchId).toBe('9007199254740993');
    expect(spotEventIdentity(first)).not.toBe(spotEventIdentity(second));
    const f = new RepeatFilter(spotEventIdentity);
    expect([first, second, second].filter((e) => !f.repeats(e))).toEqual([first, second]);
  });

  it('spot: orders and absolute balances have one, balance deltas have none', () => {
    expect(spotId(EXECUTION_REPORT)).toBe(spotId(EXECUTION_REPORT));
    expect(spotId(OUTBOUND_ACCOUNT_POSITION)).toBe(spotId(OUTBOUND_ACCOUNT_POSITION));
    // Two equal deposits in one millisecond are two deposits.
    expect(spotId(BALANCE_UPDATE)).toBeUndefined();
  });
});

describe('RepeatFilter', () => {
  it('drops back-to-back repeats only; an event without identity separates them', () => {
    const f = new RepeatFilter<string>((e) => (e === '-' ? undefined : e));
    const passed = ['a', 'a', 'b', 'b', 'b', 'a', '-', 'a', '-', '-'].filter((e) => !f.repeats(e));
    expect(passed).toEqual(['a', 'b', 'a', '-', 'a', '-', '-']);
  });
});

// --- the futures feed on a fake venue -------------------------------------------------

let account: FuturesUserData | undefined;
afterEach(async () => {
  await account?.stop();
  account = undefined;
  FakeSocket.instances = [];
});

async function runningFeed() {
  const clock = new ManualClock(1772000000000);
  account = userData({
    apiKey: 'key',
    wsUrl: 'ws://127.0.0.1:1',
    clock,
    rest: new RestClient({ baseUrl: 'http://127.0.0.1:1', clock, fetch: fakeVenue }),
    connection: { WebSocket: FakeSocket as unknown as WebSocketConstructor },
  });
  const orders: string[] = [];
  const statuses: AccountStatus[] = [];
  const events: string[] = [];
  account.orders$.subscribe((o) => orders.push(`${o.executionType} ${o.status} ${o.tradeId}`));
  account.events$.subscribe((e) => events.push(e.type));
  account.status$.subscribe((s) => statuses.push(s));
  const started = account.start();
  await settle(clock);
  const socket = FakeSocket.instances.at(-1)!;
  socket.open();
  await started;
  const send = async (...frames: string[]) => {
    for (const f of frames) socket.frame(f);
    await settle(clock);
  };
  return { account, orders, events, statuses, send };
}

describe('userData: repeated frames', () => {
  const NEW = orderFrame({ x: 'NEW', X: 'NEW', t: 0, z: '0', l: '0', T: 1772000000000 });
  const FILL = orderFrame({ x: 'TRADE', X: 'FILLED', t: 7, z: '2.000', T: 1772000000000 });

  it('delivers a frame sent twice once, every stream of it, and counts the repeat', async () => {
    const t = await runningFeed();
    await t.send(NEW, NEW, FILL, FILL, ACCOUNT_UPDATE, ACCOUNT_UPDATE);
    expect(t.orders).toEqual(['NEW NEW undefined', 'TRADE FILLED 7']);
    expect(t.events).toEqual(['ORDER_TRADE_UPDATE', 'ORDER_TRADE_UPDATE', 'ACCOUNT_UPDATE']);
    expect(t.account.stats()).toMatchObject({
      events: 3,
      orders: 2,
      duplicatesSuppressed: 3,
      parseErrors: 0,
    });
  });

  it('a malformed frame repeating an identity is a parse error and hides nothing', async () => {
    const t = await runningFeed();
    // The fill's identity, but a side that is no side: it must not pass for the fill.
    const bad = FILL.replace('"S":"BUY"', '"S":42');
    await t.send(NEW, bad, FILL, FILL);
    expect(t.orders).toEqual(['NEW NEW undefined', 'TRADE FILLED 7']);
    const errors = t.statuses.filter((s) => s.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ error: { code: 'UNIFEED_PARSE' } });
    expect(t.account.stats()).toMatchObject({ parseErrors: 1, duplicatesSuppressed: 1 });
  });

  it('passes an update that returns after another one: only back-to-back repeats are dropped', async () => {
    const t = await runningFeed();
    await t.send(NEW, FILL, NEW);
    expect(t.orders).toEqual(['NEW NEW undefined', 'TRADE FILLED 7', 'NEW NEW undefined']);
    expect(t.account.stats().duplicatesSuppressed).toBe(0);
  });
});

describe('userData: events after their state, unknown and malformed ones', () => {
  it('positions$ already holds what an ACCOUNT_UPDATE brought when events$ delivers it', async () => {
    const t = await runningFeed();
    let latest: ReadonlyMap<string, unknown> = new Map();
    t.account.positions$.subscribe((m) => (latest = m));
    const seen: boolean[] = [];
    t.account.events$.subscribe((e) => {
      if (e.type === 'ACCOUNT_UPDATE') seen.push(latest.has('ETHUSDT:LONG'));
    });
    await t.send(
      ACCOUNT_UPDATE.replace('"s":"BTCUSDT","pa":"0"', '"s":"ETHUSDT","pa":"1.5"').replace(
        '"ps":"BOTH"',
        '"ps":"LONG"',
      ),
    );
    expect(seen).toEqual([true]);
  });

  it('counts an event it does not know by its venue name', async () => {
    const t = await runningFeed();
    await t.send('{"e":"SOMETHING_NEW","E":1772000000005}');
    expect(t.account.stats().byType).toMatchObject({ SOMETHING_NEW: 1 });
  });

  it('an event it cannot parse is a gap too: it may have been an order update', async () => {
    const t = await runningFeed();
    const gapsBefore = t.account.stats().gaps;
    await t.send(ACCOUNT_UPDATE.replace('"E":', '"E":"soon","x":'));
    expect(t.statuses.filter((s) => s.type === 'gap').slice(-1)).toEqual([
      { type: 'gap', reason: 'parse' },
    ]);
    expect(t.account.stats()).toMatchObject({ parseErrors: 1, gaps: gapsBefore + 1 });
    // A listener that stops the feed on the error hears of no gap after it.
    const stopped = await runningFeed();
    stopped.account.status$.subscribe((st) => st.type === 'error' && void stopped.account.stop());
    await stopped.send(ACCOUNT_UPDATE.replace('"E":', '"E":"soon","x":'));
    expect(stopped.statuses.some((st) => st.type === 'gap' && st.reason === 'parse')).toBe(false);
  });

  it('a listenKeyExpired it cannot parse still renews the key', async () => {
    const t = await runningFeed();
    await t.send('{"e":"listenKeyExpired","E":"soon","listenKey":"k1"}');
    expect(t.account.stats()).toMatchObject({ parseErrors: 1, listenKey: { renewals: 1 } });
  });
});
