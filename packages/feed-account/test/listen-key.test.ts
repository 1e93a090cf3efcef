import { RestClient, silentLogger } from '@unifeed/core';
import { ManualClock } from '@unifeed/core/testing';
import { describe, expect, it } from 'vitest';
import type { AccountError } from '../src/errors.js';
import { DEFAULT_LISTEN_KEY_RETRY, ListenKeySession } from '../src/listen-key.js';
import type { AccountStatus, RenewReason } from '../src/status.js';

const MIN = 60_000;
const KEEPALIVE = 30 * MIN;

type Answer = { status: number; body: unknown; headers?: Record<string, string> | undefined };

/**
 * A listen-key session against a scripted venue, on a ManualClock: nothing here touches the
 * network or sleeps. `answers[method]` is consumed in order (a promise holds the call until it
 * settles); an empty list answers 200 with the current key.
 */
function session(
  options: {
    attempts?: number;
    /** A status listener, handed the session (one that closes it, say). */
    onReport?: (s: AccountStatus, keys: ListenKeySession) => void;
  } = {},
) {
  const clock = new ManualClock(0);
  const calls: string[] = [];
  let current = 'key-1';
  const answers: Record<string, (Answer | Promise<Answer>)[]> = { POST: [], PUT: [], DELETE: [] };
  const fetch: typeof globalThis.fetch = async (_url, init) => {
    const method = init?.method ?? 'GET';
    calls.push(`${method}@${clock.now()}`);
    const a = await (answers[method]?.shift() ?? {
      status: 200,
      body: method === 'DELETE' ? {} : { listenKey: current },
    });
    return new Response(JSON.stringify(a.body), { status: a.status, headers: a.headers ?? {} });
  };
  const changed: RenewReason[] = [];
  const refused: AccountError[] = [];
  const reports: AccountStatus[] = [];
  const keys = new ListenKeySession({
    rest: new RestClient({ baseUrl: 'https://fapi.example.com', clock, fetch }),
    apiKey: 'k',
    path: '/fapi/v1/listenKey',
    clock,
    keepAliveMs: KEEPALIVE,
    keepAliveAttempts: options.attempts ?? 3,
    retry: DEFAULT_LISTEN_KEY_RETRY,
    random: () => 0,
    logger: silentLogger,
    events: {
      changed: (r) => changed.push(r),
      refused: (e) => refused.push(e),
      report: (s) => {
        reports.push(s);
        options.onReport?.(s, keys);
      },
    },
  });
  return {
    clock,
    keys,
    calls,
    answers,
    changed,
    refused,
    reports,
    setKey: (k: string) => (current = k),
    reported: (type: string) => reports.filter((s) => s.type === type),
  };
}

const fail = (status: number, code?: number, headers?: Record<string, string>): Answer => ({
  status,
  body: code === undefined ? {} : { code, msg: 'x' },
  headers,
});

describe('ListenKeySession', () => {
  // Found by mutation: a reconnect's POST while a renewal waits its back-off must not re-arm the
  // keepalive over the renewal's timer: the renewal would never go out, and the session would
  // stay "renewing" for good, ignoring every later expiry and keeping no key alive again.
  it('a reconnect POST while a renewal waits its back-off leaves the renewal in place', async () => {
    const t = session();
    await t.keys.acquire();
    t.keys.renew('expired'); // at once
    await t.clock.advance(0);
    t.keys.renew('expired'); // died at once again: waits 1 s
    await t.clock.advance(0);
    expect(t.calls).toEqual(['POST@0', 'POST@0']);
    await t.keys.acquire(); // the connection reconnected meanwhile
    await t.clock.advance(1000);
    expect(t.calls).toEqual(['POST@0', 'POST@0', 'POST@0', 'POST@1000']);
    await t.clock.advance(KEEPALIVE);
    expect(t.calls.at(-1)).toBe(`PUT@${1000 + KEEPALIVE}`);
  });

  it('keeps the key alive every keepAliveMs after the last POST, and never before', async () => {
    const t = session();
    expect(await t.keys.acquire()).toBe('key-1');
    await t.clock.advance(KEEPALIVE - 1);
    expect(t.calls).toEqual(['POST@0']);
    await t.clock.advance(1);
    await t.clock.advance(3 * 60 * MIN - KEEPALIVE);
    expect(t.calls).toEqual([
      'POST@0',
      `PUT@${KEEPALIVE}`,
      `PUT@${2 * KEEPALIVE}`,
      `PUT@${3 * KEEPALIVE}`,
      `PUT@${4 * KEEPALIVE}`,
      `PUT@${5 * KEEPALIVE}`,
      `PUT@${6 * KEEPALIVE}`,
    ]);
    expect(t.keys.stats()).toMatchObject({ created: 1, keptAlive: 6, renewals: 0 });
    expect(t.changed).toEqual([]);
  });

  it('a POST before the keepalive is due pushes the keepalive a full interval out', async () => {
    const t = session();
    await t.keys.acquire();
    await t.clock.advance(20 * MIN);
    await t.keys.acquire();
    await t.clock.advance(KEEPALIVE - 1);
    expect(t.calls).toEqual(['POST@0', `POST@${20 * MIN}`]);
    await t.clock.advance(1);
    expect(t.calls.at(-1)).toBe(`PUT@${20 * MIN + KEEPALIVE}`);
  });

  it('a keepalive failing after a reconnect POST re-armed it retries nothing: one chain', async () => {
    const t = session();
    let answerPut!: (a: Answer) => void;
    t.answers.PUT!.push(new Promise<Answer>((resolve) => (answerPut = resolve)));
    await t.keys.acquire();
    await t.clock.advance(KEEPALIVE); // the PUT hangs
    await t.keys.acquire(); // a reconnect: the key is extended, the keepalive re-armed
    answerPut(fail(503));
    await t.clock.advance(0);
    await t.clock.advance(2 * KEEPALIVE);
    expect(t.calls).toEqual([
      'POST@0',
      `PUT@${KEEPALIVE}`,
      `POST@${KEEPALIVE}`,
      `PUT@${2 * KEEPALIVE}`,
      `PUT@${3 * KEEPALIVE}`,
    ]);
    expect(t.reported('keepalive-failed')).toEqual([]);
    await t.keys.close(false);
    expect(t.clock.pending).toBe(0);
  });

  it('a keepalive answered after a renewal is ignored', async () => {
    const t = session();
    let answerPut!: (a: Answer) => void;
    t.answers.PUT!.push(new Promise<Answer>((resolve) => (answerPut = resolve)));
    await t.keys.acquire();
    await t.clock.advance(KEEPALIVE); // the PUT hangs
    t.setKey('key-2');
    t.keys.renew('expired');
    await t.clock.advance(0);
    answerPut(fail(400, -1125)); // about key-1, which is gone
    await t.clock.advance(0);
    expect(t.keys.stats()).toMatchObject({ renewals: 1, keepAliveFailures: 0 });
    expect(t.changed).toEqual(['expired']);
    await t.clock.advance(KEEPALIVE);
    expect(t.calls).toEqual([
      'POST@0',
      `PUT@${KEEPALIVE}`,
      `POST@${KEEPALIVE}`,
      `PUT@${2 * KEEPALIVE}`,
    ]);
    await t.keys.close(false);
    expect(t.clock.pending).toBe(0);
  });

  it('retries a failed keepalive with back-off (1 s, 2 s), then carries on', async () => {
    const t = session();
    t.answers.PUT!.push(fail(503), fail(500, -1000));
    await t.keys.acquire();
    await t.clock.advance(KEEPALIVE);
    await t.clock.advance(999);
    expect(t.calls).toHaveLength(2);
    await t.clock.advance(1);
    expect(t.calls.at(-1)).toBe(`PUT@${KEEPALIVE + 1000}`);
    await t.clock.advance(2000);
    expect(t.calls.at(-1)).toBe(`PUT@${KEEPALIVE + 3000}`);
    expect(t.reported('keepalive-failed').map((s) => 'delayMs' in s && s.delayMs)).toEqual([
      1000, 2000,
    ]);
    // Succeeded on the third: the next one is a full interval after it.
    await t.clock.advance(KEEPALIVE);
    expect(t.calls.at(-1)).toBe(`PUT@${2 * KEEPALIVE + 3000}`);
    expect(t.keys.stats()).toMatchObject({ keptAlive: 2, keepAliveFailures: 2, renewals: 0 });
    expect(t.changed).toEqual([]);
  });

  it('waits at least as long as a 429 asks', async () => {
    const t = session();
    t.answers.PUT!.push(fail(429, -1003, { 'retry-after': '7' }));
    await t.keys.acquire();
    await t.clock.advance(KEEPALIVE);
    expect(t.reported('keepalive-failed')).toMatchObject([{ attempt: 1, delayMs: 7000 }]);
    await t.clock.advance(6999);
    expect(t.calls).toHaveLength(2);
    await t.clock.advance(1);
    expect(t.calls).toHaveLength(3);
  });

  it('after keepAliveAttempts failures asks for the key again; the same key changes nothing', async () => {
    const t = session({ attempts: 3 });
    t.answers.PUT!.push(fail(503), fail(503), fail(503));
    await t.keys.acquire();
    await t.clock.advance(KEEPALIVE + 3000);
    expect(t.calls).toEqual([
      'POST@0',
      `PUT@${KEEPALIVE}`,
      `PUT@${KEEPALIVE + 1000}`,
      `PUT@${KEEPALIVE + 3000}`,
      `POST@${KEEPALIVE + 3000}`,
    ]);
    expect(t.reported('renewing')).toEqual([
      { type: 'renewing', reason: 'keepalive-failed', delayMs: 0 },
    ]);
    expect(t.changed).toEqual([]);
    expect(t.keys.key).toBe('key-1');
    // Back on schedule.
    await t.clock.advance(KEEPALIVE);
    expect(t.calls.at(-1)).toBe(`PUT@${2 * KEEPALIVE + 3000}`);
  });

  it('after keepAliveAttempts failures moves to the new key the venue hands out', async () => {
    const t = session({ attempts: 2 });
    t.answers.PUT!.push(fail(503), fail(503));
    await t.keys.acquire();
    t.setKey('key-2');
    await t.clock.advance(KEEPALIVE + 1000);
    expect(t.changed).toEqual(['keepalive-failed']);
    expect(t.keys.key).toBe('key-2');
    expect(t.keys.stats()).toMatchObject({ renewals: 1, changes: 1 });
  });

  it('-1125 on a keepalive: a new key at once, no retries of the dead one', async () => {
    const t = session();
    t.answers.PUT!.push(fail(400, -1125));
    await t.keys.acquire();
    t.setKey('key-2');
    await t.clock.advance(KEEPALIVE);
    expect(t.calls).toEqual(['POST@0', `PUT@${KEEPALIVE}`, `POST@${KEEPALIVE}`]);
    expect(t.changed).toEqual(['unknown-key']);
    expect(t.reported('keepalive-failed')).toEqual([]);
  });

  it('an expired key is replaced even if the venue hands back the same text', async () => {
    const t = session();
    await t.keys.acquire();
    t.keys.renew('expired');
    t.keys.renew('expired'); // joins the renewal in flight
    await t.clock.advance(0);
    expect(t.calls).toEqual(['POST@0', 'POST@0']);
    expect(t.changed).toEqual(['expired']);
  });

  it('renewals in a row wait the retry back-off; one after a key that lived minUptimeMs goes at once', async () => {
    const t = session();
    await t.keys.acquire();
    const renewNow = async () => {
      t.keys.renew('expired');
      await t.clock.advance(0);
    };
    await renewNow();
    await renewNow(); // the renewed key died at once: 1 s
    expect(t.calls).toEqual(['POST@0', 'POST@0']);
    await t.clock.advance(1000);
    await renewNow(); // again: 2 s
    await t.clock.advance(1999);
    expect(t.calls).toEqual(['POST@0', 'POST@0', 'POST@1000']);
    await t.clock.advance(1);
    expect(t.calls.at(-1)).toBe('POST@3000');
    // The last renewed key lived 10 s (`minUptimeMs`): the next renewal is on its own.
    await t.clock.advance(DEFAULT_LISTEN_KEY_RETRY.minUptimeMs);
    await renewNow();
    expect(t.calls.at(-1)).toBe('POST@13000');
    expect(t.reported('renewing').map((s) => 'delayMs' in s && s.delayMs)).toEqual([
      0, 1000, 2000, 0,
    ]);
    expect(t.keys.stats()).toMatchObject({ renewals: 4 });
    expect(t.changed).toEqual(['expired', 'expired', 'expired', 'expired']);
  });

  it('closed while a renewal waits its back-off: no timer left, no POST', async () => {
    const t = session();
    await t.keys.acquire();
    t.keys.renew('expired');
    await t.clock.advance(0);
    t.keys.renew('expired');
    expect(t.keys.timerArmed).toBe(true);
    await t.keys.close(false);
    expect(t.clock.pending).toBe(0);
    await t.clock.advance(MIN);
    expect(t.calls).toEqual(['POST@0', 'POST@0']);
  });

  it('a renewal ending on the key a reconnect already got in the meantime changes nothing', async () => {
    const t = session();
    let answerPost!: (a: Answer) => void;
    await t.keys.acquire();
    t.answers.POST!.push(new Promise<Answer>((resolve) => (answerPost = resolve)));
    t.keys.renew('expired'); // its POST hangs
    await t.clock.advance(0);
    t.setKey('key-2');
    expect(await t.keys.acquire()).toBe('key-2'); // the connection reconnected on its own
    answerPost({ status: 200, body: { listenKey: 'key-2' } });
    await t.clock.advance(0);
    expect(t.changed).toEqual([]);
    expect(t.keys.key).toBe('key-2');
  });

  it('a failing renewal is retried with back-off until it works', async () => {
    const t = session();
    t.answers.POST!.push({ status: 200, body: { listenKey: 'key-1' } }, fail(502), fail(502));
    await t.keys.acquire();
    t.setKey('key-2');
    t.keys.renew('unknown-key');
    await t.clock.advance(0);
    await t.clock.advance(1000);
    expect(t.changed).toEqual([]);
    await t.clock.advance(2000);
    expect(t.calls).toEqual(['POST@0', 'POST@0', 'POST@1000', 'POST@3000']);
    expect(t.changed).toEqual(['unknown-key']);
    expect(t.reported('error')).toHaveLength(2);
  });

  it('refused credentials on a keepalive: reported once, nothing retried', async () => {
    const t = session();
    t.answers.PUT!.push(fail(401, -2015));
    await t.keys.acquire();
    await t.clock.advance(KEEPALIVE);
    expect(t.refused).toHaveLength(1);
    expect(t.refused[0]).toMatchObject({ code: 'UNIFEED_AUTH', status: 401, venueCode: -2015 });
    expect(t.keys.timerArmed).toBe(false);
    await t.keys.close(false);
    await t.clock.advance(3 * 60 * MIN);
    expect(t.calls).toEqual(['POST@0', `PUT@${KEEPALIVE}`]);
    expect(t.clock.pending).toBe(0);
  });

  it('refused credentials on acquire: rejects with UNIFEED_AUTH and reports it', async () => {
    const t = session();
    t.answers.POST!.push(fail(400, -2014));
    await expect(t.keys.acquire()).rejects.toMatchObject({
      code: 'UNIFEED_AUTH',
      venueCode: -2014,
    });
    expect(t.refused).toHaveLength(1);
  });

  it('closed by a listener of its failure report, it leaves no retry timer', async () => {
    const onReport = (s: AccountStatus, keys: ListenKeySession) => {
      if (s.type === 'keepalive-failed' || s.type === 'error') void keys.close(false);
    };
    const t = session({ onReport });
    t.answers.PUT!.push(fail(429, -1003, { 'retry-after': '120' }));
    await t.keys.acquire();
    await t.clock.advance(KEEPALIVE);
    expect(t.reported('keepalive-failed')).toHaveLength(1);
    expect(t.clock.pending).toBe(0);
    const u = session({ onReport });
    u.answers.POST!.push({ status: 200, body: { listenKey: 'key-1' } }, fail(502));
    await u.keys.acquire();
    u.keys.renew('unknown-key');
    await u.clock.advance(0);
    expect(u.reported('error')).toHaveLength(1);
    expect(u.clock.pending).toBe(0);
  });

  it('close deletes the key and leaves no timer, also in the middle of a retry', async () => {
    const t = session();
    t.answers.PUT!.push(fail(503));
    await t.keys.acquire();
    await t.clock.advance(KEEPALIVE);
    expect(t.keys.timerArmed).toBe(true);
    await t.keys.close();
    expect(t.calls.at(-1)).toBe(`DELETE@${KEEPALIVE}`);
    expect(t.keys.timerArmed).toBe(false);
    expect(t.clock.pending).toBe(0);
    await t.clock.advance(3 * 60 * MIN);
    expect(t.calls).toHaveLength(3);
    await t.keys.close();
    expect(t.calls).toHaveLength(3);
  });

  it('close gives up on the DELETE after 5 s when the weight budget holds calls (418)', async () => {
    const t = session();
    await t.keys.acquire();
    t.answers.PUT!.push(fail(418, -1003, { 'retry-after': '600' }));
    await t.clock.advance(KEEPALIVE); // the keepalive earns a 10-minute hold
    let closed = false;
    const closing = t.keys.close().then(() => (closed = true));
    await t.clock.advance(4_999);
    expect(closed).toBe(false);
    await t.clock.advance(1);
    await closing;
    expect(t.calls.filter((c) => c.startsWith('DELETE'))).toEqual([]);
    expect(t.clock.pending).toBe(0);
  });

  it('acquires made while a POST is on its way share it', async () => {
    const t = session();
    const [a, b] = await Promise.all([t.keys.acquire(), t.keys.acquire()]);
    expect(a).toBe('key-1');
    expect(b).toBe('key-1');
    expect(t.calls.filter((c) => c.startsWith('POST'))).toHaveLength(1);
    await t.keys.acquire();
    expect(t.calls.filter((c) => c.startsWith('POST'))).toHaveLength(2);
    await t.keys.close();
  });
});
