import { ManualClock } from '@unifeed/core/testing';
import { describe, expect, it } from 'vitest';
import type { FeedError } from '../src/errors.js';
import { DEFAULT_LISTEN_KEY_RETRY } from '../src/listen-key.js';
import { signParams } from '../src/signature.js';
import { WsApiSubscription } from '../src/ws-api-subscription.js';

type Request = { id: number; method: string; params: Record<string, string | number> };

/** A subscription whose frames go to a list, on a ManualClock: no socket, no sleeping. */
function subscription(options: { open?: () => boolean; recvWindow?: number } = {}) {
  const clock = new ManualClock(1_000_000);
  const sent: Request[] = [];
  const log: string[] = [];
  const failures: FeedError[] = [];
  const sub = new WsApiSubscription({
    apiKey: 'the-key',
    secret: 'the-secret',
    clock,
    send: (text) => {
      if (options.open && !options.open()) return false;
      sent.push(JSON.parse(text) as Request);
      return true;
    },
    requestTimeoutMs: 10_000,
    recvWindow: options.recvWindow,
    retry: DEFAULT_LISTEN_KEY_RETRY,
    random: () => 0,
    events: {
      subscribed: (id) => log.push(`subscribed ${id}`),
      refused: (e) => log.push(`refused ${e.code} ${e.venueCode}`),
      failed: (e, delayMs) => {
        failures.push(e);
        log.push(`failed ${e.code} ${delayMs}`);
      },
      timedOut: (e) => {
        failures.push(e);
        log.push(`timed out ${e.code}`);
      },
    },
  });
  return { clock, sent, log, failures, sub, last: () => sent.at(-1)! };
}

describe('WsApiSubscription', () => {
  it('signs apiKey, timestamp and recvWindow sorted by name', () => {
    const t = subscription({ recvWindow: 3000 });
    t.sub.subscribe();
    const { params, method } = t.last();
    expect(method).toBe('userDataStream.subscribe.signature');
    const { signature, ...signed } = params;
    expect(signed).toEqual({ apiKey: 'the-key', timestamp: 1_000_000, recvWindow: 3000 });
    // Independent of key order: the payload is sorted.
    expect(signature).toBe(
      signParams({ timestamp: 1_000_000, recvWindow: 3000, apiKey: 'the-key' }, 'the-secret'),
    );
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
  });

  it('confirms on status 200 and ignores answers to other ids', () => {
    const t = subscription();
    t.sub.subscribe();
    const { id } = t.last();
    expect(t.sub.answer({ id: id + 1, status: 200, result: { subscriptionId: 9 } })).toBe(false);
    expect(t.sub.answer({ id, status: 200, result: { subscriptionId: 3 } })).toBe(true);
    expect(t.sub.subscriptionId).toBe(3);
    expect(t.log).toEqual(['subscribed 3']);
    expect(t.clock.pending).toBe(0);
  });

  it('a refusal that is not about credentials is retried with back-off', async () => {
    const t = subscription();
    t.sub.subscribe();
    const refuse = () =>
      t.sub.answer({
        id: t.last().id,
        status: 400,
        error: { code: -1001, msg: 'Internal error; unable to process your request.' },
      });
    refuse();
    expect(t.failures[0]).toMatchObject({
      code: 'UNIFEED_USER_DATA_REJECTED',
      status: 400,
      venueCode: -1001,
    });
    expect(t.failures[0]!.message).toContain('Internal error');
    await t.clock.advance(999);
    expect(t.sent).toHaveLength(1);
    await t.clock.advance(1);
    expect(t.sent).toHaveLength(2);
    refuse();
    await t.clock.advance(2000);
    expect(t.sent).toHaveLength(3);
    t.sub.answer({ id: t.last().id, status: 200, result: { subscriptionId: 0 } });
    expect(t.log).toEqual([
      'failed UNIFEED_USER_DATA_REJECTED 1000',
      'failed UNIFEED_USER_DATA_REJECTED 2000',
      'subscribed 0',
    ]);
  });

  it('a step of the wall clock while the time request is out counts once, not twice', async () => {
    const t = subscription();
    t.sub.subscribe();
    t.sub.answer({
      id: t.last().id,
      status: 400,
      error: {
        code: -1021,
        msg: "Timestamp for this request was 1000ms ahead of the server's time.",
      },
    });
    await t.clock.advance(20);
    t.clock.stepWall(10_000); // NTP corrects our clock, 10 s, while the request is out
    await t.clock.advance(20);
    // The venue's clock agrees with ours as it reads now: the offset is 0, not half the step.
    t.sub.answer({ id: t.last().id, status: 200, result: { serverTime: t.clock.now() - 20 } });
    expect(t.sub.clockOffsetMs).toBe(0);
  });

  it("a refused timestamp measures the venue's clock and signs with it, on later sockets too", async () => {
    const t = subscription();
    const venueNow = () => t.clock.now() - 3000; // our clock runs 3 s ahead
    const tooEarly = {
      status: 400,
      error: {
        code: -1021,
        msg: "Timestamp for this request was 1000ms ahead of the server's time.",
      },
    };
    t.sub.subscribe();
    t.sub.answer({ id: t.last().id, ...tooEarly });
    expect(t.last()).toMatchObject({ method: 'time' });
    expect(t.failures).toEqual([]);
    await t.clock.advance(40); // a round trip: the venue answers halfway
    t.sub.answer({ id: t.last().id, status: 200, result: { serverTime: venueNow() - 20 } });
    expect(t.sub.clockOffsetMs).toBe(-3000);
    const { params, method } = t.last();
    expect(method).toBe('userDataStream.subscribe.signature');
    expect(params.timestamp).toBe(venueNow());
    t.sub.answer({ id: t.last().id, status: 200, result: { subscriptionId: 0 } });
    expect(t.log).toEqual(['subscribed 0']);
    t.sub.reset(); // a new socket: still signed with the venue's time
    t.sub.subscribe();
    expect(t.last().params.timestamp).toBe(venueNow());
  });

  it('a 429 answering the time request holds like one answering a subscribe', async () => {
    const t = subscription();
    t.sub.subscribe();
    t.sub.answer({ id: t.last().id, status: 400, error: { code: -1021, msg: 'ahead' } });
    const retryAfter = t.clock.now() + 90_000;
    t.sub.answer({
      id: t.last().id,
      status: 429,
      error: { code: -1003, msg: 'Too many requests', data: { retryAfter } },
    });
    expect(t.log).toEqual(['failed UNIFEED_USER_DATA_REJECTED 90000']);
    expect(t.failures[0]).toMatchObject({ status: 429, venueCode: -1003 });
    t.sub.reset(); // a new socket: still held
    t.sub.subscribe();
    await t.clock.advance(89_999);
    expect(t.sent).toHaveLength(2);
    await t.clock.advance(1);
    expect(t.sent).toHaveLength(3);
  });

  it('a timestamp refused again right after measuring backs off instead of asking for ever', async () => {
    const t = subscription();
    const refuse = () =>
      t.sub.answer({
        id: t.last().id,
        status: 400,
        error: { code: -1021, msg: 'outside of the recvWindow' },
      });
    t.sub.subscribe();
    refuse();
    t.sub.answer({ id: t.last().id, status: 200, result: { serverTime: t.clock.now() } });
    refuse(); // our clock was right: the delay is elsewhere (recvWindow too short)
    expect(t.log).toEqual(['failed UNIFEED_USER_DATA_REJECTED 1000']);
    expect(t.sent.map((r) => r.method)).toEqual([
      'userDataStream.subscribe.signature',
      'time',
      'userDataStream.subscribe.signature',
    ]);
    await t.clock.advance(1000);
    refuse(); // after the back-off, measured again
    expect(t.last().method).toBe('time');
    t.sub.answer({ id: t.last().id, status: 500, error: { code: -1001, msg: 'x' } });
    expect(t.log.at(-1)).toBe('failed UNIFEED_USER_DATA_REJECTED 2000');
  });

  it.each([
    [401, -2015],
    [400, -1022],
    [400, -2014],
  ])('status %i, code %i: refused, fatal, no retry', async (status, code) => {
    const t = subscription();
    t.sub.subscribe();
    t.sub.answer({ id: t.last().id, status, error: { code, msg: 'no' } });
    expect(t.log).toEqual([`refused UNIFEED_AUTH ${code}`]);
    await t.clock.advance(3_600_000);
    expect(t.sent).toHaveLength(1);
    expect(t.clock.pending).toBe(0);
  });

  it('429 and 418 answers wait for the rate-limit delays or the venue retryAfter', async () => {
    const t = subscription();
    t.sub.subscribe();
    t.sub.answer({ id: t.last().id, status: 429, error: { code: -1003, msg: 'Too many' } });
    expect(t.log.at(-1)).toBe('failed UNIFEED_USER_DATA_REJECTED 60000');
    await t.clock.advance(60_000);
    const retryAfter = t.clock.now() + 600_000;
    t.sub.answer({
      id: t.last().id,
      status: 418,
      error: { code: -1003, msg: 'banned', data: { retryAfter } },
    });
    expect(t.log.at(-1)).toBe('failed UNIFEED_USER_DATA_REJECTED 600000');
    await t.clock.advance(600_000);
    t.sub.answer({ id: t.last().id, status: 418, error: { code: -1003, msg: 'banned' } });
    expect(t.log.at(-1)).toBe('failed UNIFEED_USER_DATA_REJECTED 300000');
    expect(t.sent).toHaveLength(3);
  });

  it.each([
    ['has passed on the local clock', -1000],
    ['is sooner', 120_000],
  ])('a 418 waits at least five minutes when retryAfter %s', (_, inMs) => {
    const t = subscription();
    t.sub.subscribe();
    // A local clock ahead of the venue's puts the end of the ban in the past.
    const retryAfter = t.clock.now() + inMs;
    t.sub.answer({
      id: t.last().id,
      status: 418,
      error: { code: -1003, msg: 'banned', data: { retryAfter } },
    });
    expect(t.log.at(-1)).toBe('failed UNIFEED_USER_DATA_REJECTED 300000');
  });

  it('a rate-limit hold outlives reset: a new socket subscribes only after retryAfter', async () => {
    const t = subscription();
    t.sub.subscribe();
    const retryAfter = t.clock.now() + 60_000;
    t.sub.answer({
      id: t.last().id,
      status: 429,
      error: { code: -1003, msg: 'x', data: { retryAfter } },
    });
    // The socket goes and a new one opens at once, as the wall clock steps forward: the ban is
    // the venue's minute, which a step here does not shorten.
    t.clock.stepWall(120_000);
    t.sub.reset();
    t.sub.subscribe();
    expect(t.sent).toHaveLength(1);
    t.clock.stepWall(-120_000);
    await t.clock.advance(59_999);
    expect(t.sent).toHaveLength(1);
    await t.clock.advance(1);
    expect(t.sent).toHaveLength(2);
    expect(t.last().params.timestamp).toBe(retryAfter);
    // Stop during a hold leaves no timer.
    t.sub.reset();
    t.sub.subscribe();
    t.sub.reset();
    expect(t.clock.pending).toBe(0);
  });

  it('a refusal that is not a rate limit holds nothing: a new socket subscribes at once', () => {
    const t = subscription();
    t.sub.subscribe();
    t.sub.answer({ id: t.last().id, status: 400, error: { code: -1001, msg: 'Internal error' } });
    t.sub.reset();
    t.sub.subscribe();
    expect(t.sent).toHaveLength(2);
  });

  // Found in review: a venue that ended each subscription as it confirmed it had 10,406
  // signed requests a second out of one connection, spending the weight orders need.
  it('a subscription ended soon after it was confirmed is made again after the back-off', async () => {
    const t = subscription();
    const confirm = () =>
      t.sub.answer({ id: t.last().id, status: 200, result: { subscriptionId: 1 } });
    t.sub.subscribe();
    confirm();
    await t.clock.advance(10_000); // it lasted minUptimeMs: again at once
    t.sub.terminated();
    expect(t.sub.resubscribe()).toBe(0);
    expect(t.sent).toHaveLength(2);
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      confirm();
      t.sub.terminated(); // at once: the back-off, doubling (random 0: no jitter)
      const delayMs = t.sub.resubscribe();
      waits.push(delayMs);
      await t.clock.advance(delayMs - 1);
      expect(t.sent).toHaveLength(2 + i);
      await t.clock.advance(1);
      expect(t.sent).toHaveLength(3 + i);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000]);
    // A wait is a timer of the subscription: reset (the socket went, stop) clears it.
    confirm();
    t.sub.terminated();
    t.sub.resubscribe();
    expect(t.sub.timerArmed).toBe(true);
    t.sub.reset();
    expect(t.clock.pending).toBe(0);
  });

  it('times out once, and reset forgets the request and the retry', async () => {
    const t = subscription();
    t.sub.subscribe();
    await t.clock.advance(9999);
    expect(t.log).toEqual([]);
    await t.clock.advance(1);
    expect(t.log).toEqual(['timed out UNIFEED_SUBSCRIBE_TIMEOUT']);
    // Names the method, never its parameters.
    expect(t.failures[0]!.message).toBe(
      'userDataStream.subscribe.signature: no answer in 10000 ms',
    );
    // A late answer to the timed-out request is not ours any more.
    expect(t.sub.answer({ id: t.last().id, status: 200, result: { subscriptionId: 1 } })).toBe(
      false,
    );
    t.sub.subscribe();
    t.sub.answer({ id: t.last().id, status: 503, error: { code: -1000, msg: 'x' } });
    expect(t.sub.timerArmed).toBe(true);
    t.sub.reset();
    expect(t.sub.timerArmed).toBe(false);
    expect(t.clock.pending).toBe(0);
  });

  it('a refusal with id null is the request in flight refused; with none out, not ours', async () => {
    const t = subscription();
    const unreadable = { id: null, status: 400, error: { code: -1102, msg: 'Invalid JSON.' } };
    expect(t.sub.answer(unreadable)).toBe(false); // nothing out
    t.sub.subscribe();
    // A success naming no request is nobody's: the request stays out.
    expect(t.sub.answer({ id: null, status: 200, result: { subscriptionId: 1 } })).toBe(false);
    expect(t.sub.answer(unreadable)).toBe(true);
    expect(t.failures[0]).toMatchObject({
      code: 'UNIFEED_USER_DATA_REJECTED',
      status: 400,
      venueCode: -1102,
    });
    expect(t.log).toEqual(['failed UNIFEED_USER_DATA_REJECTED 1000']);
    // Refused, not timed out: the retry comes after the back-off, and no timeout fires.
    await t.clock.advance(1000);
    expect(t.sent).toHaveLength(2);
    expect(t.log).toHaveLength(1);
  });

  it('sends nothing and arms nothing while the socket is not open', () => {
    const t = subscription({ open: () => false });
    t.sub.subscribe();
    expect(t.sent).toEqual([]);
    expect(t.sub.requests).toBe(0);
    expect(t.clock.pending).toBe(0);
  });

  // Pins that a 418 ban holds across reset(). Found by mutation: a reconnect cleared the ban
  // and subscribed at once, which the venue answers by extending the IP ban.
  it('a 418 ban outlives reset too: a new socket subscribes only after the ban', async () => {
    const t = subscription();
    t.sub.subscribe();
    t.sub.answer({ id: t.last().id, status: 418, error: { code: -1003, msg: 'banned' } });
    expect(t.log.at(-1)).toBe('failed UNIFEED_USER_DATA_REJECTED 300000');
    t.sub.reset();
    t.sub.subscribe();
    expect(t.sent).toHaveLength(1);
    await t.clock.advance(299_999);
    expect(t.sent).toHaveLength(1);
    await t.clock.advance(1);
    expect(t.sent).toHaveLength(2);
  });

  // Pins that a confirmed subscription resets the back-off. Found by mutation: after one bad
  // spell, every later refusal waited the grown delay, a user-data feed down for longer.
  it('a confirmed subscription starts the back-off over: the next refusal waits the first delay', async () => {
    const t = subscription();
    const refuse = () =>
      t.sub.answer({ id: t.last().id, status: 400, error: { code: -1001, msg: 'x' } });
    t.sub.subscribe();
    refuse();
    await t.clock.advance(1000);
    refuse();
    await t.clock.advance(2000);
    t.sub.answer({ id: t.last().id, status: 200, result: { subscriptionId: 1 } });
    t.sub.reset();
    t.sub.subscribe();
    refuse();
    expect(t.log).toEqual([
      'failed UNIFEED_USER_DATA_REJECTED 1000',
      'failed UNIFEED_USER_DATA_REJECTED 2000',
      'subscribed 1',
      'failed UNIFEED_USER_DATA_REJECTED 1000',
    ]);
  });

  // Pins that a non-200 answer with id null refuses the request in flight even without an
  // error object. Found by mutation: it was not ours, so the request waited for its timeout.
  it('an answer with id null and a non-200 status but no error object refuses the request in flight', () => {
    const t = subscription();
    t.sub.subscribe();
    expect(t.sub.answer({ id: null, status: 400 })).toBe(true);
    expect(t.log).toEqual(['failed UNIFEED_USER_DATA_REJECTED 1000']);
  });

  // Pins that a ban's retryAfter (venue time) is read with the measured clock offset. Found by
  // mutation: with our clock ahead, the wait came out 30 s short and the retry hit the ban.
  it("a ban's retryAfter is read on the venue's clock once it is measured", async () => {
    const t = subscription();
    const venueNow = () => t.clock.now() - 30_000; // our clock runs 30 s ahead
    t.sub.subscribe();
    t.sub.answer({ id: t.last().id, status: 400, error: { code: -1021, msg: 'ahead' } });
    t.sub.answer({ id: t.last().id, status: 200, result: { serverTime: venueNow() } });
    expect(t.sub.clockOffsetMs).toBe(-30_000);
    t.sub.answer({
      id: t.last().id,
      status: 418,
      error: { code: -1003, msg: 'banned', data: { retryAfter: venueNow() + 600_000 } },
    });
    expect(t.log.at(-1)).toBe('failed UNIFEED_USER_DATA_REJECTED 600000');
  });
});
