/**
 * What an untyped caller (plain JavaScript, a config file, a cast) can pass to the account
 * feeds: each wrong value is refused at construction with `UNIFEED_INVALID_OPTION`, quoting no
 * value, never a TypeError from inside (or from a timer, later) and never read as the default.
 */
import { RestClient, type WebSocketConstructor } from '@unifeed/core';
import { ManualClock } from '@unifeed/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  signParams,
  spotUserData,
  userData,
  type FuturesUserDataOptions,
  type SpotUserDataOptions,
} from '../src/index.js';
import { FakeSocket } from './fake-venue.js';

const connection = { WebSocket: FakeSocket as unknown as WebSocketConstructor };
const KEY = 'the-api-key-0123456789';
const SECRET = 'the-api-secret-0123456789';
const futuresBase = { apiKey: KEY, wsUrl: 'ws://127.0.0.1:1', connection };
const spotBase = { ...futuresBase, apiSecret: SECRET };

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  FakeSocket.instances = [];
});

/** `value` as the parameter type a typed caller could not pass. */
const untyped = <T>(value: unknown): T => value as T;

/** Refused with `UNIFEED_INVALID_OPTION` naming `name`, the key and secret quoted nowhere. */
function expectRefused(fn: () => unknown, name: string): void {
  let error: unknown;
  try {
    fn();
  } catch (err) {
    error = err;
  }
  expect(error).toMatchObject({
    name: 'UnifeedError',
    code: 'UNIFEED_INVALID_OPTION',
    message: expect.stringContaining(name),
  });
  const message = (error as Error).message;
  expect(message).not.toContain(KEY);
  expect(message).not.toContain(SECRET);
}

const futures = (over: Record<string, unknown>) =>
  userData(untyped<FuturesUserDataOptions>({ ...futuresBase, ...over }));
const spot = (over: Record<string, unknown>) =>
  spotUserData(untyped<SpotUserDataOptions>({ ...spotBase, ...over }));

describe('a secret given in the wrong place', () => {
  // Found in review: core's checks quote what they were given, so a secret passed as a number
  // option (config keys swapped) was written into the error, and into every log of it.
  it('is never quoted back, whichever option it was given as', () => {
    for (const over of [
      { recvWindow: SECRET },
      { requestTimeoutMs: SECRET },
      { retry: { initialMs: SECRET } },
      { retry: SECRET },
      { connection: { ...connection, backoff: SECRET } },
      { connection: { ...connection, heartbeat: { intervalMs: SECRET } } },
      { connection: { ...connection, handshakeTimeoutMs: SECRET } },
    ]) {
      const name = Object.keys(over)[0]!;
      expectRefused(() => spot(over), name === 'connection' ? '`' : name);
      if (name !== 'recvWindow' && name !== 'requestTimeoutMs') {
        expectRefused(() => futures(over), name === 'connection' ? '`' : name);
      }
    }
  });
});

describe('the options object', () => {
  it('null, undefined or no object is UNIFEED_INVALID_OPTION, not a TypeError', () => {
    for (const options of [null, undefined, KEY, 42, [KEY]]) {
      expectRefused(() => userData(untyped(options)), 'the options must be an object');
      expectRefused(() => spotUserData(untyped(options)), 'the options must be an object');
    }
  });

  it('a blank apiSecret is refused as a blank apiKey is', () => {
    for (const apiSecret of ['', '   ', null, 42]) {
      expectRefused(() => spot({ apiSecret }), '`apiSecret` must be a non-empty string');
    }
  });
});

describe('an option set to null is refused, never taken for the default', () => {
  const common = ['clock', 'logger', 'random', 'retry', 'connection', 'wsUrl'];
  it.each(common)('%s on futures and spot', (name) => {
    expectRefused(() => futures({ [name]: null }), `\`${name}\``);
    expectRefused(() => spot({ [name]: null }), `\`${name}\``);
  });

  it.each(['restUrl', 'keepAliveMs', 'keepAliveAttempts', 'rest'])('%s on futures', (name) => {
    expectRefused(() => futures({ [name]: null }), `\`${name}\``);
  });

  it('requestTimeoutMs on spot', () => {
    expectRefused(() => spot({ requestTimeoutMs: null }), '`requestTimeoutMs`');
  });

  it('undefined is still the default', () => {
    const options = {
      clock: undefined,
      logger: undefined,
      random: undefined,
      retry: undefined,
      connection: undefined,
    };
    const f = futures({ ...options, keepAliveMs: undefined, rest: undefined, restUrl: undefined });
    const s = spot({ ...options, requestTimeoutMs: undefined });
    stops.push(
      () => f.stop(),
      () => s.stop(),
    );
  });
});

describe('an option of the wrong type is refused at construction', () => {
  it('a clock or logger without its methods (a TypeError, or every line swallowed, before)', () => {
    for (const clock of [{}, { now: () => 0 }, 42]) {
      expectRefused(() => futures({ clock }), '`clock` must be a Clock');
      expectRefused(() => spot({ clock }), '`clock` must be a Clock');
    }
    for (const logger of [{}, { info: () => {} }, 42, 'debug']) {
      expectRefused(() => futures({ logger }), '`logger` must be a Logger');
      expectRefused(() => spot({ logger }), '`logger` must be a Logger');
    }
  });

  it('retry or connection that is no object (read as no settings, before)', () => {
    for (const value of [5, 'fast', [1000]]) {
      expectRefused(() => futures({ retry: value }), '`retry` must be an object');
      expectRefused(() => spot({ connection: value }), '`connection` must be an object');
    }
  });

  it('a keepAliveMs that is a string (passed the range check by coercion, before)', () => {
    expectRefused(() => futures({ keepAliveMs: '60000' }), '`keepAliveMs`');
    expectRefused(() => futures({ keepAliveAttempts: '5' }), '`keepAliveAttempts`');
  });

  it('a rest that is no RestClient (a TypeError at the first listen-key call, before)', () => {
    for (const rest of [{}, 'https://fapi.binance.com', 42]) {
      expectRefused(() => futures({ rest }), '`rest` must be a RestClient');
    }
    const clock = new ManualClock(0);
    const rest = new RestClient({ baseUrl: 'http://127.0.0.1:1', clock });
    const f = futures({ rest, clock });
    stops.push(() => f.stop());
  });
});

describe('signParams', () => {
  it('refuses parameters that are no object, and a blank secret, quoting neither', () => {
    for (const params of [null, undefined, 'timestamp=1', [1]]) {
      expectRefused(() => signParams(untyped(params), SECRET), 'the parameters to sign');
    }
    for (const secret of [null, undefined, '', '  ', 42]) {
      expectRefused(() => signParams({ apiKey: KEY }, untyped(secret)), '`secret`');
    }
  });

  it('refuses a value that is no string or finite number, never signs "undefined"', () => {
    for (const value of [undefined, null, Number.NaN, {}, true]) {
      expectRefused(
        () => signParams(untyped({ apiKey: KEY, timestamp: value }), SECRET),
        '"timestamp"',
      );
    }
    expect(signParams({ apiKey: KEY, timestamp: 1 }, SECRET)).toMatch(/^[0-9a-f]{64}$/);
  });
});
