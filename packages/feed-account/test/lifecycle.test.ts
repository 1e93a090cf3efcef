import { RestClient, type WebSocketConstructor } from '@unifeed/core';
import { ManualClock } from '@unifeed/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { spotUserData, userData } from '../src/index.js';
import { FakeSocket, fakeVenue, settle } from './fake-venue.js';
import { OUTBOUND_ACCOUNT_POSITION } from './fixtures.js';

const connection = { WebSocket: FakeSocket as unknown as WebSocketConstructor };

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  FakeSocket.instances = [];
});

/** A futures feed on the fake venue; the test opens its sockets. */
function futures(clock: ManualClock) {
  const account = userData({
    apiKey: 'key',
    wsUrl: 'ws://127.0.0.1:1',
    clock,
    rest: new RestClient({ baseUrl: 'http://127.0.0.1:1', clock, fetch: fakeVenue }),
    connection,
  });
  stops.push(() => account.stop());
  return account;
}

/** A spot feed on a fake socket, and a way to answer its latest subscribe request. */
function spot(clock: ManualClock) {
  const account = spotUserData({
    apiKey: 'key',
    apiSecret: 'secret',
    wsUrl: 'ws://127.0.0.1:1',
    clock,
    connection,
  });
  stops.push(() => account.stop());
  const answer = (rest: Record<string, unknown>) => {
    const socket = FakeSocket.instances.at(-1)!;
    const { id } = JSON.parse(socket.sent.at(-1)!) as { id: number };
    socket.frame(JSON.stringify({ id, ...rest }));
  };
  return { account, answer };
}

/** A spot feed started on subscription 0, and a way to send it events. */
async function runningSpot() {
  const clock = new ManualClock(1772000000000);
  const { account, answer } = spot(clock);
  const started = account.start();
  await settle(clock);
  FakeSocket.instances[0]!.open();
  answer({ status: 200, result: { subscriptionId: 0 } });
  await started;
  const send = async (event: string) => {
    FakeSocket.instances[0]!.frame(`{"subscriptionId":0,"event":${event}}`);
    await settle(clock);
  };
  return { account, answer, send, clock };
}

describe('start() once the feed has ended', () => {
  it('futures: after stop() it rejects with UNIFEED_STOPPED, not the old resolution', async () => {
    const clock = new ManualClock(1772000000000);
    const account = futures(clock);
    const started = account.start();
    await settle(clock);
    FakeSocket.instances[0]!.open();
    await started;
    await account.stop();
    await expect(account.start()).rejects.toMatchObject({ code: 'UNIFEED_STOPPED' });
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('spot: after stop() it rejects with UNIFEED_STOPPED, not the old resolution', async () => {
    const { account } = await runningSpot();
    await account.stop();
    await expect(account.start()).rejects.toMatchObject({ code: 'UNIFEED_STOPPED' });
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('spot: after a fatal error while running it rejects with that error', async () => {
    const { account, answer, send, clock } = await runningSpot();
    // The key is revoked: the resubscription after a termination is refused.
    await send('{"e":"eventStreamTerminated","E":1772000000001}');
    answer({ status: 401, error: { code: -2015, msg: 'Invalid API-key' } });
    await settle(clock);
    expect(account.state).toBe('failed');
    await expect(account.start()).rejects.toMatchObject({ code: 'UNIFEED_AUTH' });
  });
});

describe('userData: a connection replaced after a listen-key change', () => {
  it('does not outlive stop(), even when its peer never answers the close', async () => {
    const clock = new ManualClock(1772000000000);
    const account = futures(clock);
    const started = account.start();
    await settle(clock);
    const old = FakeSocket.instances[0]!;
    // A half-open peer: the close handshake never completes, so only the timeout ends it.
    old.close = () => {};
    old.open();
    await started;
    old.frame('{"e":"listenKeyExpired","E":"1","listenKey":"k1"}');
    await settle(clock);
    FakeSocket.instances[1]!.open();
    await settle(clock);
    let stopped = false;
    const stopping = account.stop().then(() => {
      stopped = true;
    });
    await settle(clock);
    expect(stopped).toBe(false);
    await clock.advance(2000); // UnifiedFeed's closeTimeoutMs
    await stopping;
    expect(clock.pending).toBe(0);
  });
});

describe('retry options', () => {
  it('an undefined field keeps the listen-key default; a value out of range is refused', () => {
    const base = { apiKey: 'key', wsUrl: 'ws://127.0.0.1:1', connection };
    const invalid = expect.objectContaining({ code: 'UNIFEED_INVALID_OPTION' });
    expect(() => userData({ ...base, retry: { jitter: 2 } })).toThrow(invalid);
    expect(() => spotUserData({ ...base, apiSecret: 's', retry: { initialMs: 0 } })).toThrow(
      invalid,
    );
    const account = spotUserData({ ...base, apiSecret: 's', retry: { initialMs: undefined } });
    stops.push(() => account.stop());
  });
});

describe('spot: state before events, unknown and malformed events', () => {
  it('balances$ already holds what an outboundAccountPosition brought when events$ delivers it', async () => {
    const t = await runningSpot();
    let latest: ReadonlyMap<string, unknown> = new Map();
    t.account.balances$.subscribe((m) => (latest = m));
    const seen: boolean[] = [];
    t.account.events$.subscribe((e) => {
      if (e.type === 'outboundAccountPosition') seen.push(latest.has('ETH'));
    });
    await t.send(OUTBOUND_ACCOUNT_POSITION);
    expect(seen).toEqual([true]);
  });

  it('counts an unknown event by its venue name', async () => {
    const t = await runningSpot();
    await t.send('{"e":"listStatus","E":1772000000005}');
    expect(t.account.stats().byType).toMatchObject({ listStatus: 1 });
  });

  it('an eventStreamTerminated it cannot parse still subscribes again', async () => {
    const t = await runningSpot();
    const before = t.account.stats().subscribeRequests;
    await t.send('{"e":"eventStreamTerminated","E":"later"}');
    expect(t.account.stats()).toMatchObject({
      parseErrors: 1,
      terminations: 1,
      subscribeRequests: before + 1,
    });
  });

  it('a listener that stops the feed on that parse error leaves it stopped, nothing resubscribed', async () => {
    const t = await runningSpot();
    t.account.status$.subscribe((st) => {
      if (st.type === 'error') void t.account.stop();
    });
    await t.send('{"e":"eventStreamTerminated","E":"later"}');
    expect(t.account.state).toBe('stopped');
    expect(t.account.stats()).toMatchObject({ parseErrors: 1, terminations: 0 });
  });
});
