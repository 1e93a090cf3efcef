import {
  RestClient,
  SlidingWindowLimiter,
  StreamPool,
  binanceUsdm,
  venueAttemptLimiter,
  type Logger,
  type WebSocketConstructor,
} from '@unifeed/core';
import { ManualClock, throwingLogger } from '@unifeed/core/testing';
import type { Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AccountError,
  AccountErrorCode,
  spotUserData,
  userData,
  type SpotUserData,
} from '../src/index.js';
import { FakeSocket, fakeVenue, settle } from './fake-venue.js';
import { EXECUTION_REPORT, MARGIN_CALL, OUTBOUND_ACCOUNT_POSITION } from './fixtures.js';

const connection = { WebSocket: FakeSocket as unknown as WebSocketConstructor };

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  FakeSocket.instances = [];
});

/**
 * A futures feed on the fake venue (or `venue`); the test opens its sockets. Jitter takes half
 * its share off every back-off: 1 s is 850 ms.
 */
function futures(clock: ManualClock, venue: typeof fetch = fakeVenue, keepAliveMs?: number) {
  const account = userData({
    apiKey: 'key',
    wsUrl: 'ws://127.0.0.1:1',
    clock,
    random: () => 0.5,
    rest: new RestClient({ baseUrl: 'http://127.0.0.1:1', clock, fetch: venue }),
    connection,
    keepAliveMs,
  });
  stops.push(() => account.stop());
  return account;
}

/** A spot feed on a fake socket, and a way to answer its latest subscribe request. */
function spot(clock: ManualClock, logger?: Logger) {
  const account = spotUserData({
    apiKey: 'key',
    apiSecret: 'secret',
    wsUrl: 'ws://127.0.0.1:1',
    clock,
    connection,
    logger,
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
async function runningSpot(logger?: Logger) {
  const clock = new ManualClock(1772000000000);
  const { account, answer } = spot(clock, logger);
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

// Found in review: the URL named no events, which the venue documents as part of it
// (`&events=ORDER_TRADE_UPDATE/ACCOUNT_UPDATE`): a venue that sends only the events named
// would send none on a connection that opens and answers pings.
describe('the futures connection URL', () => {
  it('names the listen key and every account event the feed parses', async () => {
    const clock = new ManualClock(1772000000000);
    const account = futures(clock);
    void account.start().catch(() => undefined);
    await settle(clock);
    const url = new URL(FakeSocket.instances[0]!.url);
    expect(url.pathname).toBe('/private/ws');
    expect(url.searchParams.get('listenKey')).toBe('k1');
    expect(url.searchParams.get('events')?.split('/')).toEqual([
      'ORDER_TRADE_UPDATE',
      'ACCOUNT_UPDATE',
      'MARGIN_CALL',
      'TRADE_LITE',
      'ACCOUNT_CONFIG_UPDATE',
      'STRATEGY_UPDATE',
      'GRID_UPDATE',
      'CONDITIONAL_ORDER_TRIGGER_REJECT',
      'ALGO_UPDATE',
    ]);
  });
});

// Found in review: the futures connection went to the USD-M host outside the budget of
// connection attempts every USD-M pool of the process shares (the venue counts them per IP).
describe("the futures connection's attempt budget", () => {
  /** A USD-M pool on `clock` allowed one attempt per 5 minutes, which its one stream takes. */
  async function poolTakingTheBudget(clock: ManualClock) {
    const pool = new StreamPool({
      venue: binanceUsdm({ wsUrl: 'ws://127.0.0.1:1', limits: { connectionAttempts: 1 } }),
      clock,
      WebSocket: FakeSocket as unknown as WebSocketConstructor,
    });
    pool.watch('btcusdt@aggTrade').subscribe({ error: () => {} });
    await settle(clock);
    expect(FakeSocket.instances.map((s) => new URL(s.url).pathname)).toEqual(['/market/stream']);
    stops.push(() => pool.close());
    return pool;
  }
  const accountSockets = () =>
    FakeSocket.instances.filter((s) => new URL(s.url).pathname === '/private/ws');

  it("is by default the USD-M pools' shared one", async () => {
    const clock = new ManualClock(1772000000000);
    const pool = await poolTakingTheBudget(clock);
    const account = futures(clock);
    void account.start().catch(() => undefined);
    await settle(clock);
    await clock.advance(299_000);
    await settle(clock);
    expect(accountSockets()).toHaveLength(0);
    await pool.close();
    await clock.advance(1000);
    await settle(clock);
    expect(accountSockets()).toHaveLength(1);
  });

  // Found in review: keyed by the venue's name alone, a production pool's 418 held a testnet
  // account feed (and the other way round) for 5 minutes.
  it("is not held by another host's ban (production's, for a feed on a testnet)", async () => {
    const clock = new ManualClock(1772000000000);
    venueAttemptLimiter(binanceUsdm(), clock).holdFor(300_000); // a production pool heard 418
    void futures(clock) // on 127.0.0.1
      .start()
      .catch(() => undefined);
    await settle(clock);
    expect(accountSockets()).toHaveLength(1);
  });

  it('is the one `connection.attemptLimiter` gives, when given', async () => {
    const clock = new ManualClock(1772000000000);
    await poolTakingTheBudget(clock);
    const own = new SlidingWindowLimiter({ clock });
    const account = userData({
      apiKey: 'key',
      wsUrl: 'ws://127.0.0.1:1',
      clock,
      rest: new RestClient({ baseUrl: 'http://127.0.0.1:1', clock, fetch: fakeVenue }),
      connection: { ...connection, attemptLimiter: own },
    });
    stops.push(() => account.stop());
    void account.start().catch(() => undefined);
    await settle(clock);
    expect(accountSockets()).toHaveLength(1);
    expect(own.used).toBe(1);
    expect(venueAttemptLimiter(binanceUsdm({ wsUrl: 'ws://127.0.0.1:1' }), clock).used).toBe(1);
  });
});

// Found in review: a refused listen-key POST before a connection was reported as UNIFEED_URL,
// its code, status and wait only in `cause`: a 418 ban looked like any URL failure.
describe('a listen-key POST refused before a connection', () => {
  it("is reported with the REST client's error as it is", async () => {
    const clock = new ManualClock(1772000000000);
    const refusing = (async () =>
      new Response('{"code":-1003,"msg":"Too many requests"}', {
        status: 429,
        headers: { 'retry-after': '7' },
      })) as unknown as typeof fetch;
    const account = futures(clock, refusing);
    const errors: unknown[] = [];
    account.status$.subscribe((s) => s.type === 'error' && errors.push(s.error));
    void account.start().catch(() => undefined);
    await settle(clock);
    expect(errors[0]).toMatchObject({ code: 'UNIFEED_RATE_LIMITED', status: 429 });
  });
});

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

  it('spot: a listener that stops the feed on fatal: start() still rejects with the refusal', async () => {
    const clock = new ManualClock(1772000000000);
    const { account, answer } = spot(clock);
    account.status$.subscribe((s) => s.type === 'fatal' && void account.stop());
    const started = account.start();
    await settle(clock);
    FakeSocket.instances[0]!.open();
    answer({ status: 401, error: { code: -2015, msg: 'Invalid API-key' } });
    await expect(started).rejects.toMatchObject({ code: 'UNIFEED_AUTH' });
    expect(account.state).toBe('failed');
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

describe('a fatal error ends every data observable with it', () => {
  /** How each observable behaved: every `next`, then how it ended, in order. */
  function record(streams: Record<string, Observable<unknown>>) {
    const log: string[] = [];
    const errors: unknown[] = [];
    for (const [name, stream] of Object.entries(streams)) {
      stream.subscribe({
        next: (v) =>
          log.push(`${name} next${name === 'status' ? ` ${(v as { type: string }).type}` : ''}`),
        error: (e: unknown) => {
          log.push(`${name} error`);
          errors.push(e);
        },
        complete: () => log.push(`${name} complete`),
      });
    }
    return { log, errors };
  }

  /** Every data observable errored with the refusal, once; status$ said `fatal`, then completed. */
  function expectEndedBy(
    t: ReturnType<typeof record>,
    names: string[],
    refusal: Record<string, unknown>,
  ): void {
    const ends = t.log.filter((l) => !l.includes(' next'));
    expect(ends.sort()).toEqual([...names.map((n) => `${n} error`), 'status complete'].sort());
    expect(t.errors).toHaveLength(names.length);
    for (const e of t.errors) {
      expect(e).toBeInstanceOf(AccountError);
      expect(e).toMatchObject({ code: AccountErrorCode.Auth, ...refusal });
    }
    // The same error, not one per observable.
    expect(new Set(t.errors).size).toBe(1);
    const fatal = t.log.indexOf('status next fatal');
    expect(fatal).toBeGreaterThan(-1);
    expect(t.log.slice(fatal + 1).every((l) => !l.includes(' next'))).toBe(true);
  }

  it('futures: orders$, events$, balances$ and positions$ error, status$ says fatal, nothing after', async () => {
    const clock = new ManualClock(1772000000000);
    // The key is revoked while running: the keepalive is answered 401.
    const revoked: typeof fetch = (input, init) =>
      init?.method === 'PUT'
        ? Promise.resolve(Response.json({ code: -2015, msg: 'Invalid API-key' }, { status: 401 }))
        : fakeVenue(input, init);
    const account = futures(clock, revoked, 5_000);
    const t = record({
      orders: account.orders$,
      events: account.events$,
      balances: account.balances$,
      positions: account.positions$,
      status: account.status$,
    });
    const started = account.start();
    await settle(clock);
    const socket = FakeSocket.instances[0]!;
    socket.open();
    await started;
    socket.frame(MARGIN_CALL);
    await settle(clock);
    await clock.advance(5_000); // the keepalive, refused
    await settle(clock);
    expect(account.state).toBe('failed');
    // What the socket still had, or sends later, reaches no one.
    socket.frame(MARGIN_CALL.replace('1587727187525', '1587727187526'));
    await clock.advance(60 * 60_000);
    await settle(clock);
    const names = ['orders', 'events', 'balances', 'positions'];
    expectEndedBy(t, names, { status: 401, venueCode: -2015 });
    expect(t.log.filter((l) => l === 'events next')).toHaveLength(1);
    expect(FakeSocket.instances).toHaveLength(1);
    // A subscriber that comes later gets the error at once.
    const late: unknown[] = [];
    account.positions$.subscribe({ error: (e) => late.push(e) });
    expect(late).toEqual([t.errors[0]]);
  });

  it('spot: orders$, events$ and balances$ error, status$ says fatal, nothing after', async () => {
    const { account, answer, send, clock } = await runningSpot();
    const t = record({
      orders: account.orders$,
      events: account.events$,
      balances: account.balances$,
      status: account.status$,
    });
    // The key is revoked: the resubscription after a termination is refused.
    await send('{"e":"eventStreamTerminated","E":1772000000001}');
    answer({ status: 401, error: { code: -2015, msg: 'Invalid API-key' } });
    await settle(clock);
    expect(account.state).toBe('failed');
    await send(OUTBOUND_ACCOUNT_POSITION);
    await clock.advance(60 * 60_000);
    await settle(clock);
    expectEndedBy(t, ['orders', 'events', 'balances'], { status: 401, venueCode: -2015 });
    expect(t.log.filter((l) => l === 'events next')).toHaveLength(1); // the termination
    expect(FakeSocket.instances).toHaveLength(1);
  });
});

describe('stop() from a fatal listener', () => {
  /**
   * Half-open peer: the close handshake never completes, so only closeTimeoutMs (2 s) ends it.
   * The clean-up that runs first after the test lets that timeout pass, so that a test that
   * fails still ends its feed.
   */
  function halfOpen(socket: FakeSocket, clock: ManualClock, account: { stop(): Promise<void> }) {
    socket.close = () => {};
    stops.unshift(async () => {
      const stopped = account.stop();
      await clock.advance(2_000);
      await stopped;
    });
  }

  /** A `fatal` listener that stops the feed; returns what its stop() returned. */
  function stopOnFatal(account: {
    status$: Observable<{ type: string }>;
    stop(): Promise<void>;
  }): () => Promise<void> {
    let stopping: Promise<void> | undefined;
    account.status$.subscribe((s) => {
      if (s.type === 'fatal') stopping = account.stop();
    });
    return () => stopping!;
  }

  /** `stopping` resolves only once the socket closed: after its close timeout, no timer left. */
  async function waitsForTeardown(stopping: Promise<void>, clock: ManualClock) {
    let resolved = false;
    const stopped = stopping.then(() => (resolved = true));
    await settle(clock);
    // The socket is still closing: stop() must not have resolved yet.
    expect(resolved).toBe(false);
    expect(clock.pending).toBe(1); // the close timeout
    await clock.advance(2_000);
    await stopped;
    expect(clock.pending).toBe(0);
  }

  it('futures: waits for the teardown that begins after the listener returns', async () => {
    const clock = new ManualClock(1772000000000);
    // The credentials are revoked while running: the keepalive is answered 401.
    const revoked: typeof fetch = (input, init) =>
      init?.method === 'PUT'
        ? Promise.resolve(
            new Response('{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}', {
              status: 401,
              headers: { 'content-type': 'application/json' },
            }),
          )
        : fakeVenue(input, init);
    const account = futures(clock, revoked, 5_000);
    const stopping = stopOnFatal(account);
    const started = account.start();
    await settle(clock);
    halfOpen(FakeSocket.instances[0]!, clock, account);
    FakeSocket.instances[0]!.open();
    await started;
    await clock.advance(5_000); // the keepalive
    await settle(clock);
    expect(account.state).toBe('failed');
    await waitsForTeardown(stopping(), clock);
  });

  it('spot: waits for the teardown that begins after the listener returns', async () => {
    const clock = new ManualClock(1772000000000);
    const { account, answer } = spot(clock);
    const stopping = stopOnFatal(account);
    const started = account.start();
    await settle(clock);
    halfOpen(FakeSocket.instances[0]!, clock, account);
    FakeSocket.instances[0]!.open();
    answer({ status: 401, error: { code: -2015, msg: 'Invalid API-key' } });
    await expect(started).rejects.toMatchObject({ code: 'UNIFEED_AUTH' });
    await waitsForTeardown(stopping(), clock);
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

describe('userData: moving to a new listen key', () => {
  it('delivers what the old connection had read but not yet handed on', async () => {
    const clock = new ManualClock(1772000000000);
    let answerPut: ((r: Response) => void) | undefined;
    const venue: typeof fetch = (input, init) =>
      init?.method === 'PUT'
        ? new Promise<Response>((resolve) => (answerPut = resolve))
        : fakeVenue(input, init);
    const account = futures(clock, venue, 30_000);
    let events = 0;
    account.events$.subscribe(() => events++);
    const started = account.start();
    await settle(clock);
    const old = FakeSocket.instances[0]!;
    old.open();
    await started;
    await clock.advance(30_000); // the keepalive goes out; its answer waits
    expect(answerPut).toBeDefined();
    // One read of more frames than a drain slice takes (1,024): the rest wait in the queue
    // for the next slice, a timer of the (manual) clock.
    const frames = 1_100;
    for (let i = 0; i < frames; i++)
      old.frame(MARGIN_CALL.replace('1587727187525', String(1587727187525 + i)));
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
    expect(events).toBe(1_024);
    // The venue extended another key than ours: the feed moves to it at once.
    answerPut!(Response.json({ listenKey: 'k2' }));
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    expect(FakeSocket.instances).toHaveLength(2);
    expect(events).toBe(frames);
    expect(account.stats()).toMatchObject({ events: frames });
  });
});

describe('userData: renewals that follow each other closely', () => {
  const EXPIRED = '{"e":"listenKeyExpired","E":"1772000000000","listenKey":"k1"}';

  /** Open the newest socket if it is still connecting, and have the venue expire its key. */
  async function expireNewest(clock: ManualClock): Promise<void> {
    await settle(clock);
    const s = FakeSocket.instances.at(-1)!;
    if (s.readyState === 0) {
      s.open();
      s.frame(EXPIRED);
    }
  }

  it('a venue expiring the key on every new connection gets paced renewals, not a loop', async () => {
    const clock = new ManualClock(1772000000000);
    const posts: number[] = [];
    const venue: typeof fetch = (input, init) => {
      if (init?.method === 'POST') posts.push(clock.now());
      return fakeVenue(input, init);
    };
    const account = futures(clock, venue);
    const renewing: { reason: string; delayMs: number }[] = [];
    account.status$.subscribe((s) => s.type === 'renewing' && renewing.push(s));
    void account.start();
    for (let i = 0; i < 30; i++) await expireNewest(clock);
    // The first expiry renews at once; the next, on the connection that renewal opened, waits.
    expect(FakeSocket.instances).toHaveLength(2);
    expect(posts).toHaveLength(3); // connect, renewal, connect on the renewed key
    expect(renewing.map((s) => s.delayMs)).toEqual([0, 850]);
    expect(account.stats().listenKey.renewals).toBe(2);
    // Each renewal in a row waits its back-off, longer each time, as reconnects do.
    await clock.advance(850);
    await expireNewest(clock);
    expect(FakeSocket.instances).toHaveLength(3);
    expect(renewing.at(-1)).toEqual({ type: 'renewing', reason: 'expired', delayMs: 1700 });
    await clock.advance(1699);
    await settle(clock);
    expect(FakeSocket.instances).toHaveLength(3);
    // Stopped while a renewal waits: no timer, no socket, no POST after it.
    await account.stop();
    expect(clock.pending).toBe(0);
    const sent = posts.length;
    await clock.advance(60_000);
    expect(posts).toHaveLength(sent);
    expect(FakeSocket.instances).toHaveLength(3);
  });

  it('a renewal after a key that lived minUptimeMs goes out at once again', async () => {
    const clock = new ManualClock(1772000000000);
    const account = futures(clock);
    const renewing: number[] = [];
    account.status$.subscribe((s) => s.type === 'renewing' && renewing.push(s.delayMs));
    void account.start();
    await expireNewest(clock);
    await expireNewest(clock); // the second in a row: waits
    await clock.advance(850); // the paced renewal goes out; its key lives 10 s
    await settle(clock);
    FakeSocket.instances.at(-1)!.open();
    await clock.advance(10_000);
    FakeSocket.instances.at(-1)!.frame(EXPIRED);
    await settle(clock);
    expect(renewing).toEqual([0, 850, 0]);
    expect(FakeSocket.instances).toHaveLength(4);
  });
});

describe('userData: a renewal that ends after the connection reconnected by itself', () => {
  it('leaves the connection on the renewed key alone: no third socket', async () => {
    const clock = new ManualClock(1772000000000);
    let answerRenewal: ((r: Response) => void) | undefined;
    let posts = 0;
    const venue: typeof fetch = (input, init) => {
      if (init?.method !== 'POST') return fakeVenue(input, init);
      posts++;
      if (posts === 1) return Promise.resolve(Response.json({ listenKey: 'k1' }));
      // The renewal's POST is slow; the reconnect's, after it, is answered at once.
      if (posts === 2) return new Promise<Response>((resolve) => (answerRenewal = resolve));
      return Promise.resolve(Response.json({ listenKey: 'k2' }));
    };
    const account = futures(clock, venue);
    const statuses: string[] = [];
    account.status$.subscribe((s) => statuses.push(s.type === 'gap' ? `gap ${s.reason}` : s.type));
    const started = account.start();
    await settle(clock);
    const old = FakeSocket.instances[0]!;
    old.open();
    await started;
    old.frame('{"e":"listenKeyExpired","E":"1772000000000","listenKey":"k1"}');
    await settle(clock);
    expect(answerRenewal).toBeDefined();
    // The venue closes the dead key's socket; the connection reconnects through its own POST.
    old.readyState = 3;
    old.onclose?.({ code: 1000, reason: '' });
    await settle(clock);
    await clock.advance(1_000); // the reconnect's back-off
    await settle(clock);
    FakeSocket.instances[1]!.open();
    await settle(clock);
    answerRenewal!(Response.json({ listenKey: 'k2' }));
    await settle(clock);
    expect(FakeSocket.instances.map((s) => new URL(s.url).searchParams.get('listenKey'))).toEqual([
      'k1',
      'k2',
    ]);
    expect(account.stats()).toMatchObject({ links: 1, listenKey: { renewals: 1 } });
    expect(statuses.filter((s) => s.startsWith('gap'))).toEqual(['gap reconnect']);
    expect(account.state).toBe('running');
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

  it('spot: a request timeout or recvWindow a timer or the venue cannot take is refused', () => {
    const base = { apiKey: 'key', apiSecret: 's', wsUrl: 'ws://127.0.0.1:1', connection };
    const invalid = (name: string) =>
      expect.objectContaining({
        code: 'UNIFEED_INVALID_OPTION',
        message: expect.stringContaining(name),
      });
    for (const requestTimeoutMs of [0, -1, Number.NaN, Infinity, 2 ** 31]) {
      expect(() => spotUserData({ ...base, requestTimeoutMs })).toThrow(
        invalid('requestTimeoutMs'),
      );
    }
    for (const recvWindow of [0, -5, Number.NaN, 60_001]) {
      expect(() => spotUserData({ ...base, recvWindow })).toThrow(invalid('recvWindow'));
    }
    const account = spotUserData({ ...base, requestTimeoutMs: 2 ** 31 - 1, recvWindow: 60_000 });
    stops.push(() => account.stop());
  });

  it('a connection option out of range is refused at construction, on spot and futures alike', () => {
    const invalid = expect.objectContaining({ code: 'UNIFEED_INVALID_OPTION' });
    for (const bad of [{ handshakeTimeoutMs: 0 }, { queue: { capacity: 0 } }]) {
      const options = {
        apiKey: 'key',
        wsUrl: 'ws://127.0.0.1:1',
        connection: { ...connection, ...bad },
      };
      expect(() => userData(options)).toThrow(invalid);
      expect(() => spotUserData({ ...options, apiSecret: 's' })).toThrow(invalid);
    }
  });
});

describe('base URL options', () => {
  it('a URL object, or anything else but a string, is refused with UNIFEED_INVALID_OPTION', () => {
    const invalid = expect.objectContaining({
      name: 'UnifeedError',
      code: 'UNIFEED_INVALID_OPTION',
      message: expect.stringContaining('must be a string'),
    });
    for (const url of [new URL('wss://x.example'), 42]) {
      // The options say string; a caller without types (or with a cast) can pass anything.
      const wsUrl = url as unknown as string;
      expect(() => spotUserData({ apiKey: 'k', apiSecret: 's', wsUrl, connection })).toThrow(
        invalid,
      );
      expect(() => userData({ apiKey: 'k', wsUrl, connection })).toThrow(invalid);
      expect(() => userData({ apiKey: 'k', restUrl: wsUrl, connection })).toThrow(invalid);
    }
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

  it('an event it cannot parse is a parse error and a gap: it may have been an order update', async () => {
    const t = await runningSpot();
    const gaps: string[] = [];
    t.account.status$.subscribe((s) => s.type === 'gap' && gaps.push(s.reason));
    await t.send('{"e":"outboundAccountPosition","E":"later"}');
    expect(gaps).toEqual(['parse']);
    expect(t.account.stats()).toMatchObject({ parseErrors: 1, gaps: 1 });
  });

  it('counts an unknown event by its venue name', async () => {
    const t = await runningSpot();
    await t.send('{"e":"listStatus","E":1772000000005}');
    expect(t.account.stats().byType).toMatchObject({ listStatus: 1 });
  });

  it('a logger that throws changes nothing: a terminated subscription is renewed, events flow', async () => {
    const t = await runningSpot(throwingLogger());
    const gaps: string[] = [];
    t.account.status$.subscribe((s) => s.type === 'gap' && gaps.push(s.reason));
    const before = t.account.stats().subscribeRequests;
    await t.send('{"e":"eventStreamTerminated","E":1772000000001}');
    expect(t.account.stats().subscribeRequests).toBe(before + 1);
    t.answer({ status: 200, result: { subscriptionId: 1 } });
    await settle(t.clock);
    expect(gaps).toEqual(['stream-terminated']);
    expect(t.account.state).toBe('running');
  });

  // Found in review: 10,406 signed requests a second out of one connection.
  it('a venue that ends every subscription as it confirms it gets requests at the back-off pace', async () => {
    const t = await runningSpot();
    const socket = FakeSocket.instances[0]!;
    const requests = () => t.account.stats().subscribeRequests;
    await t.send('{"e":"eventStreamTerminated","E":1772000000001}'); // a lone end: again at once
    expect(requests()).toBe(2);
    let answered = 1;
    for (let ms = 0; ms < 16_000; ms += 100) {
      if (answered < requests()) {
        answered++;
        t.answer({ status: 200, result: { subscriptionId: answered } });
        socket.frame(`{"subscriptionId":${answered},"event":{"e":"eventStreamTerminated","E":1}}`);
        await settle(t.clock);
      }
      await t.clock.advance(100);
    }
    // Then 1, 2, 4 and 8 s apart (each +-30 %): 4 more requests in 16 s, or 3.
    expect(requests()).toBeGreaterThanOrEqual(5);
    expect(requests()).toBeLessThanOrEqual(6);
    expect(t.account.state).toBe('running');
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

  it('an events$ subscriber that stops the feed on eventStreamTerminated leaves no hold timer armed', async () => {
    const clock = new ManualClock(1772000000000);
    const { account, answer } = spot(clock);
    void account.start();
    await settle(clock);
    const socket = FakeSocket.instances[0]!;
    socket.open();
    // A 429: no request may leave for at least a minute, the next subscribe waits for it.
    answer({
      status: 429,
      error: { code: -1003, msg: 'Too many requests.', data: { retryAfter: clock.now() + 60_000 } },
    });
    let stopping: Promise<void> | undefined;
    account.events$.subscribe((e) => {
      if (e.type === 'eventStreamTerminated') stopping = account.stop();
    });
    // During a hold, a subscribe() after the stop would arm the timer that waits it out (with
    // none, the stopping connection sends nothing anyway). No subscription is confirmed during
    // the hold, so a termination naming none is taken as ours.
    socket.frame('{"event":{"e":"eventStreamTerminated","E":1772000000001}}');
    await settle(clock);
    expect(stopping).toBeDefined();
    await stopping;
    expect(account.state).toBe('stopped');
    expect(clock.pending).toBe(0);
    await clock.advance(10 * 60_000);
    await settle(clock);
    expect(socket.sent).toHaveLength(1);
    expect(FakeSocket.instances).toHaveLength(1);
  });
});

describe('spot: frames that are no event of ours', () => {
  /** Every error status, as `code message`. */
  function errorsOf(account: { status$: SpotUserData['status$'] }) {
    const errors: string[] = [];
    account.status$.subscribe((s) => {
      if (s.type === 'error') errors.push(`${s.error.code} ${s.error.message}`);
    });
    return errors;
  }

  it('counts and reports each as UNIFEED_PARSE, quoting nothing of it, and keeps running', async () => {
    const t = await runningSpot();
    const errors = errorsOf(t.account);
    const socket = FakeSocket.instances[0]!;
    const frames = [
      '42',
      '"a-string-frame"',
      'null',
      '[{"subscriptionId":0}]',
      '{"unknown":"field-value"}',
      // Answers to nothing in flight: a late one, and a request the venue could not read.
      '{"id":77,"status":200,"result":{"subscriptionId":"late-value"}}',
      '{"id":null,"status":400,"error":{"code":-1102,"msg":"Invalid JSON."}}',
    ];
    for (const f of frames) socket.frame(f);
    await settle(t.clock);
    expect(t.account.stats()).toMatchObject({ parseErrors: frames.length, events: 0, gaps: 0 });
    expect(errors).toHaveLength(frames.length);
    for (const e of errors) expect(e).toMatch(/^UNIFEED_PARSE user-data: /);
    expect(errors.at(-1)).toBe(
      'UNIFEED_PARSE user-data: an answer to no request in flight (status 400, code -1102)',
    );
    for (const quoted of ['42', 'a-string-frame', 'field-value', 'late-value', 'Invalid JSON']) {
      expect(errors.join('\n')).not.toContain(quoted);
    }
    expect(t.account.state).toBe('running');
    await t.send('{"e":"listStatus","E":1772000000005}');
    expect(t.account.stats().events).toBe(1);
  });

  it('a server shutdown notice moves to a new connection at once; it is no parse error', async () => {
    const t = await runningSpot();
    const errors = errorsOf(t.account);
    FakeSocket.instances[0]!.frame('{"e":"serverShutdown","E":1772000000001}');
    await settle(t.clock);
    await t.clock.advance(1_300); // the reconnect's back-off: 1 s, jitter included
    await settle(t.clock);
    expect(errors).toEqual([]);
    expect(t.account.stats().parseErrors).toBe(0);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  // The WebSocket API's own form (its connection events): wrapped in `event`, no subscription id.
  const WRAPPED_SHUTDOWN = '{"event":{"e":"serverShutdown","E":1770123456789}}';

  it("the WebSocket API's wrapped shutdown notice moves to a new connection, as the bare one does", async () => {
    const t = await runningSpot();
    const errors = errorsOf(t.account);
    FakeSocket.instances[0]!.frame(WRAPPED_SHUTDOWN);
    await settle(t.clock);
    await t.clock.advance(1_300); // the reconnect's back-off: 1 s, jitter included
    await settle(t.clock);
    expect(errors).toEqual([]);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(t.account.stats()).toMatchObject({ events: 0, strayEvents: 0, parseErrors: 0 });
  });

  it('a wrapped shutdown notice before the subscription is confirmed is no user-data event', async () => {
    const clock = new ManualClock(1772000000000);
    const { account } = spot(clock);
    const events: string[] = [];
    account.events$.subscribe({ next: (e) => events.push(e.type), error: () => {} });
    void account.start();
    await settle(clock);
    FakeSocket.instances[0]!.open();
    // The subscribe request is out, unanswered: no subscription id to tell the notice by.
    FakeSocket.instances[0]!.frame(WRAPPED_SHUTDOWN);
    await settle(clock);
    await clock.advance(1_300);
    await settle(clock);
    expect(events).toEqual([]);
    expect(account.stats()).toMatchObject({ events: 0, byType: {}, parseErrors: 0 });
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('an order read with a shutdown notice is delivered, not taken as a stray', async () => {
    const t = await runningSpot();
    const orders: string[] = [];
    t.account.orders$.subscribe((o) => orders.push(o.orderId));
    // Read together, drained together: the notice ends the subscription in the middle.
    FakeSocket.instances[0]!.frame('{"e":"serverShutdown","E":1772000000001}');
    FakeSocket.instances[0]!.frame(`{"subscriptionId":0,"event":${EXECUTION_REPORT}}`);
    await settle(t.clock);
    expect(orders).toEqual(['9007199254740993']);
    expect(t.account.stats()).toMatchObject({ events: 1, strayEvents: 0 });
  });

  it('an order read just before the venue closed the socket is delivered before the close', async () => {
    const t = await runningSpot();
    const seen: string[] = [];
    t.account.orders$.subscribe((o) => seen.push(o.orderId));
    t.account.status$.subscribe((s) => seen.push(s.type));
    const socket = FakeSocket.instances[0]!;
    socket.frame(`{"subscriptionId":0,"event":${EXECUTION_REPORT}}`);
    socket.onclose?.({ code: 1001, reason: 'going away' });
    await settle(t.clock);
    expect(seen.slice(0, 2)).toEqual(['9007199254740993', 'close']);
    expect(t.account.stats()).toMatchObject({ events: 1, strayEvents: 0 });
  });

  it('an error with id null while the subscribe is out is its refusal, retried with back-off', async () => {
    const clock = new ManualClock(1772000000000);
    const { account, answer } = spot(clock);
    const errors = errorsOf(account);
    const started = account.start();
    await settle(clock);
    const socket = FakeSocket.instances[0]!;
    socket.open();
    socket.frame('{"id":null,"status":400,"error":{"code":-1102,"msg":"Invalid JSON."}}');
    await settle(clock);
    expect(errors).toEqual([
      'UNIFEED_USER_DATA_REJECTED userDataStream.subscribe.signature refused with status 400, code -1102: Invalid JSON.',
    ]);
    expect(account.stats()).toMatchObject({ parseErrors: 0, subscribeRequests: 1 });
    await clock.advance(1_300); // the retry back-off: 1 s, jitter included
    expect(account.stats().subscribeRequests).toBe(2);
    answer({ status: 200, result: { subscriptionId: 0 } });
    await started;
    expect(account.state).toBe('running');
  });

  it('a subscribe request unanswered is reported (UNIFEED_SUBSCRIBE_TIMEOUT) and counted before the reconnect', async () => {
    const clock = new ManualClock(1772000000000);
    const { account, answer } = spot(clock);
    const seen: string[] = [];
    account.status$.subscribe((s) => seen.push(s.type === 'error' ? s.error.code : s.type));
    const started = account.start();
    await settle(clock);
    FakeSocket.instances[0]!.open();
    await clock.advance(9_999);
    expect(seen).not.toContain('UNIFEED_SUBSCRIBE_TIMEOUT');
    await clock.advance(1);
    await settle(clock);
    expect(seen.slice(seen.indexOf('UNIFEED_SUBSCRIBE_TIMEOUT'))).toEqual([
      'UNIFEED_SUBSCRIBE_TIMEOUT',
      'backoff',
    ]);
    expect(account.stats().requestTimeouts).toBe(1);
    await clock.advance(1_300); // the connection's back-off: 1 s, jitter included
    await settle(clock);
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.instances[1]!.open();
    answer({ status: 200, result: { subscriptionId: 1 } });
    await started;
    expect(account.stats()).toMatchObject({ requestTimeouts: 1, subscribeRequests: 2 });
  });

  it('a frame that does not decode is a decode gap, not a queue drop', async () => {
    const t = await runningSpot();
    const gaps: string[] = [];
    t.account.status$.subscribe((s) => s.type === 'gap' && gaps.push(s.reason));
    FakeSocket.instances[0]!.frame('{"subscriptionId":0,"event":');
    await settle(t.clock);
    expect(gaps).toEqual(['decode']);
  });

  // Pins that an event naming another subscription than the confirmed one is a stray. Found by
  // mutation: another subscription's events (a stale one's, after a resubscribe) were
  // delivered as this account's.
  it('an event of another subscription than the one confirmed is a stray: counted, not delivered', async () => {
    const t = await runningSpot();
    const events: string[] = [];
    t.account.events$.subscribe((e) => events.push(e.type));
    FakeSocket.instances[0]!.frame(
      '{"subscriptionId":7,"event":{"e":"listStatus","E":1772000000005}}',
    );
    await settle(t.clock);
    expect(events).toEqual([]);
    expect(t.account.stats()).toMatchObject({ events: 0, strayEvents: 1, parseErrors: 0 });
  });
});

describe('venue event names of any length', () => {
  it('are counted by their first 64 characters, and a parse error names no more of them', async () => {
    const t = await runningSpot();
    const errors: string[] = [];
    t.account.status$.subscribe((s) => s.type === 'error' && errors.push(s.error.message));
    const name = `x${'y'.repeat(1_000_000)}`;
    await t.send(`{"e":"${name}","E":1772000000005}`);
    await t.send(`{"e":"${name}","E":"not-a-time"}`);
    expect(t.account.stats().byType).toEqual({ [name.slice(0, 64)]: 1 });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.length).toBeLessThan(200);
  });
});
