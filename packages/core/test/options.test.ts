import { describe, expect, it } from 'vitest';
import { backoffOptions } from '../src/backoff.js';
import { binanceSpot, binanceUsdm } from '../src/binance.js';
import { BoundedQueue } from '../src/bounded-queue.js';
import { ErrorCode } from '../src/errors.js';
import { Heartbeat } from '../src/heartbeat.js';
import {
  given,
  requireClock,
  requireInRange,
  requireList,
  requireLogger,
  requireObject,
  requireOptionalString,
  requirePool,
  requireRestClient,
  requireVenue,
  withDefaults,
} from '../src/options.js';
import { RestClient, sharedRestClient, venueRestClient } from '../src/rest-client.js';
import { SlidingWindowLimiter } from '../src/sliding-window-limiter.js';
import { StreamPool } from '../src/stream-pool.js';
import { Reconnector } from '../src/reconnector.js';
import { ManualClock } from '../src/testing/index.js';
import { UnifiedFeed, type UnifiedFeedOptions } from '../src/unified-feed.js';
import { upbit } from '../src/upbit.js';

const invalid = expect.objectContaining({ code: ErrorCode.InvalidOption });
const target = { ping() {}, stale() {} };

describe('options', () => {
  it('a field set to undefined keeps its default; set fields override it', () => {
    const defaults = { a: 1, b: 2 };
    expect(withDefaults(defaults, { a: undefined, b: 3 })).toEqual({ a: 1, b: 3 });
    expect(withDefaults(defaults)).toEqual(defaults);
    expect(defaults).toEqual({ a: 1, b: 2 });
  });

  it('an undefined heartbeat or back-off field keeps the default instead of breaking the timers', () => {
    const clock = new ManualClock(0);
    const hb = new Heartbeat(clock, target, { intervalMs: undefined, timeoutMs: undefined });
    expect(hb.options).toEqual({ intervalMs: 20_000, timeoutMs: 60_000 });
    const r = new Reconnector({ clock, random: () => 0, backoff: { initialMs: undefined } });
    expect(r.options.initialMs).toBe(1000);
    // A ban's Retry-After holds: with a NaN delay Math.max ignored it.
    expect(r.retry(() => {}, { httpStatus: 418, retryAfterMs: 600_000 })).toBe(600_000);
    r.cancel();
    const usdm = binanceUsdm({ limits: { streamsPerConnection: undefined } });
    expect(usdm.limits.streamsPerConnection).toBe(200);
  });

  it('refuses heartbeat and back-off figures that would turn a timer into a 1 ms loop', () => {
    const clock = new ManualClock(0);
    for (const heartbeat of [{ intervalMs: 0 }, { timeoutMs: Number.NaN }, { intervalMs: -5 }]) {
      expect(() => new Heartbeat(clock, target, heartbeat)).toThrow(invalid);
      expect(() => new UnifiedFeed({ url: 'wss://x', heartbeat })).toThrow(invalid);
    }
    for (const backoff of [
      { initialMs: 0 },
      { initialMs: Number.NaN },
      { factor: 0.5 },
      { jitter: 1.5 },
      { maxMs: 500 }, // below the initial delay
      { bannedMs: -1 },
      { minUptimeMs: Number.POSITIVE_INFINITY },
    ]) {
      expect(() => new Reconnector({ clock, backoff })).toThrow(invalid);
      expect(() => new UnifiedFeed({ url: 'wss://x', backoff })).toThrow(invalid);
    }
    expect(() => new Reconnector({ clock, backoff: { jitter: 0, factor: 1 } })).not.toThrow();
  });

  it('backoffOptions fills from the defaults it is given and checks the result', () => {
    const mine = { ...backoffOptions(), initialMs: 5000, maxMs: 60_000 };
    expect(backoffOptions({ initialMs: undefined }, mine).initialMs).toBe(5000);
    expect(() => backoffOptions({ maxMs: 4000 }, mine)).toThrow(invalid);
  });

  it('refuses a low-water mark a paused socket would never reach, and an unknown policy', () => {
    expect(() => new BoundedQueue({ capacity: 8, overflow: 'pause', lowWater: -1 })).toThrow(
      invalid,
    );
    expect(() => new BoundedQueue({ capacity: 8, lowWater: 8 })).toThrow(invalid);
    expect(() => new BoundedQueue({ capacity: 8, lowWater: 0 })).not.toThrow();
    expect(
      () => new BoundedQueue({ capacity: 8, overflow: 'drop-everything' as 'drop-oldest' }),
    ).toThrow(invalid);
  });

  it('refuses venue limits that would pack no stream or send no request', () => {
    expect(() => binanceSpot({ limits: { streamsPerConnection: 0 } })).toThrow(invalid);
    expect(() => binanceUsdm({ limits: { paramsPerRequest: 2.5 } })).toThrow(invalid);
    expect(() => upbit({ limits: { controlMessagesPerMinute: Number.NaN } })).toThrow(invalid);
    expect(binanceSpot({ limits: { streamsPerConnection: 1 } }).limits.streamsPerConnection).toBe(
      1,
    );
  });

  it("refuses a duration past a host timer's longest, which would be clamped to 24.8 days", () => {
    const clock = new ManualClock(0);
    const tooLong = 2 ** 31; // MAX_TIMER_MS + 1
    for (const heartbeat of [{ intervalMs: tooLong }, { timeoutMs: 1e300 }]) {
      expect(() => new Heartbeat(clock, target, heartbeat)).toThrow(invalid);
    }
    for (const backoff of [
      { maxMs: tooLong },
      { minUptimeMs: tooLong },
      { rateLimitedMs: 1e300 },
      { bannedMs: tooLong },
    ]) {
      expect(() => new Reconnector({ clock, backoff }), JSON.stringify(backoff)).toThrow(invalid);
    }
    expect(() => new UnifiedFeed({ url: 'wss://x', sliceMaxMs: tooLong })).toThrow(invalid);
    // The longest itself is a setting.
    expect(() => new Heartbeat(clock, target, { timeoutMs: tooLong - 1 })).not.toThrow();
    expect(
      () => new Reconnector({ clock, backoff: { maxMs: tooLong - 1, bannedMs: tooLong - 1 } }),
    ).not.toThrow();
  });

  it('refuses a heartbeat ping that cannot be sent as asked', () => {
    for (const heartbeat of [
      { mode: 'Message' }, // would quietly ping by frame
      { mode: 'message' }, // nothing to send: a venue that answers only its own ping goes stale
      { message: '' },
      { message: 42 },
    ]) {
      expect(
        () =>
          new UnifiedFeed({
            url: 'wss://x',
            heartbeat: heartbeat as unknown as UnifiedFeedOptions['heartbeat'],
          }),
        JSON.stringify(heartbeat),
      ).toThrow(
        expect.objectContaining({
          code: ErrorCode.InvalidOption,
          message: expect.stringContaining('heartbeat.') as unknown,
        }),
      );
    }
    for (const heartbeat of [
      { mode: 'message', message: 'PING' },
      { mode: 'frame' },
      {},
    ] as const) {
      expect(() => new UnifiedFeed({ url: 'wss://x', heartbeat })).not.toThrow();
    }
  });

  it('refuses option groups that are no object, which read as no options at all', () => {
    const clock = new ManualClock(0);
    for (const bad of [null, 5, 'fast', [1000]]) {
      const any = bad as never;
      expect(() => new UnifiedFeed({ url: 'wss://x', backoff: any }), 'backoff').toThrow(
        '`backoff` must be an object',
      );
      expect(() => new UnifiedFeed({ url: 'wss://x', heartbeat: any }), 'heartbeat').toThrow(
        '`heartbeat` must be an object',
      );
      expect(() => new UnifiedFeed({ url: 'wss://x', queue: any }), 'queue').toThrow(
        '`queue` must be an object',
      );
      expect(() => new Reconnector({ clock, backoff: any })).toThrow(invalid);
      expect(() => binanceUsdm({ limits: any }), 'limits').toThrow('`limits` must be an object');
    }
    // Left out, each is the defaults.
    expect(() => new UnifiedFeed({ url: 'wss://x', backoff: undefined })).not.toThrow();
  });

  it('the shared argument checks refuse what would fail later, and pass what is right', () => {
    for (const clock of [null, {}, 5, { ...new ManualClock(0), clearTimeout: 1 }]) {
      expect(() => requireClock(clock), JSON.stringify(clock)).toThrow(invalid);
    }
    expect(() => requireClock(undefined)).not.toThrow();
    expect(() => requireClock(new ManualClock(0))).not.toThrow();
    expect(() => requireClock({ now: () => 0, monotonic: () => 0 })).toThrow(
      '`clock` must be a Clock (it has no setTimeout())',
    );
    for (const value of [null, 'x', 5, ['a']]) {
      expect(() => requireObject('the options of x', value as object)).toThrow(invalid);
    }
    expect(() => requireObject('the options of x', undefined)).toThrow(invalid);
    expect(requireObject('the options of x', undefined, true)).toEqual({});
    const given = { a: 1 };
    expect(requireObject('the options of x', given)).toBe(given);
    for (const list of [[], null, 'btcusdt', undefined]) {
      expect(() => requireList('symbols', list as string[])).toThrow(
        '`symbols` must be a non-empty array',
      );
    }
    // A hole becomes undefined, which the symbol check then refuses: map() would skip it.
    // eslint-disable-next-line no-sparse-arrays
    expect(requireList('symbols', ['a', , 'b'])).toEqual(['a', undefined, 'b']);
    for (const pool of [null, undefined, {}, { observe: () => {} }]) {
      expect(() => requirePool(pool as unknown as StreamPool)).toThrow(invalid);
    }
    const pool = new StreamPool({ venue: binanceSpot(), clock: new ManualClock(0) });
    expect(() => requirePool(pool)).not.toThrow();
    void pool.close();
  });

  // Found in review: the pool and the REST client took a clock of null (the real one) and any
  // logger: guarded, a wrong one silenced every line.
  it('a feed, a pool and a REST client refuse a clock or a logger that is none', () => {
    const venue = binanceSpot();
    for (const [option, value] of [
      ['clock', null],
      ['clock', {}],
      ['logger', 42],
      ['logger', null],
      ['logger', { info() {} }],
    ] as const) {
      const bad = { [option]: value } as never;
      expect(() => new StreamPool({ venue, ...(bad as object) }), option).toThrow(invalid);
      expect(() => new RestClient({ baseUrl: 'https://x.example', ...(bad as object) })).toThrow(
        invalid,
      );
      expect(() => new UnifiedFeed({ url: 'wss://x', ...(bad as object) })).toThrow(invalid);
    }
    expect(() => requireLogger(undefined)).not.toThrow();
    expect(() => requireLogger({ info() {} })).toThrow(
      '`logger` must be a Logger (it has no trace())',
    );
  });

  it('one check of a RestClient serves the order book and the account feed', () => {
    for (const rest of [null, {}, 42, 'https://api.binance.com', { request: 1 }]) {
      expect(() => requireRestClient(rest)).toThrow(
        expect.objectContaining({
          code: ErrorCode.InvalidOption,
          message: '`rest` must be a RestClient (it has no request())',
        }),
      );
    }
    expect(() => requireRestClient(undefined)).not.toThrow();
    const rest = new RestClient({ baseUrl: 'https://x.example', clock: new ManualClock(0) });
    expect(() => requireRestClient(rest)).not.toThrow();
  });

  it('one check of a string option serves every venue; it quotes no value, which may be a secret', () => {
    expect(() => requireOptionalString('wsUrl', undefined)).not.toThrow();
    expect(() => requireOptionalString('wsUrl', '')).not.toThrow();
    for (const value of [
      null,
      42,
      { href: 'wss://k'.padEnd(60, 'k') },
      new URL('wss://x.example'),
    ]) {
      expect(() => requireOptionalString('wsUrl', value)).toThrow(
        expect.objectContaining({
          code: ErrorCode.InvalidOption,
          message: '`wsUrl` must be a string',
        }),
      );
    }
  });

  it('one check of a venue: every built-in one passes, a copy with its parts too', () => {
    for (const venue of [binanceSpot(), binanceUsdm(), upbit(), { ...upbit() }]) {
      expect(() => requireVenue(venue)).not.toThrow();
    }
    for (const part of ['group', 'url', 'requests', 'classify', 'streamKey', 'sequence']) {
      expect(() => requireVenue({ ...binanceSpot(), [part]: undefined }), part).toThrow(
        expect.objectContaining({
          code: ErrorCode.InvalidOption,
          message: `\`venue\` must be a Venue (it has no ${part}())`,
        }),
      );
    }
  });

  it('a clock, a decoder, a limiter or an options object given as null is refused, not read as left out', () => {
    const venue = binanceSpot();
    const refusals: [string, () => unknown][] = [
      ['limiter clock', () => new SlidingWindowLimiter({ clock: null as never })],
      ['pool decode', () => new StreamPool({ venue, decode: null as never })],
      ['pool attemptLimiter null', () => new StreamPool({ venue, attemptLimiter: null as never })],
      ['pool attemptLimiter 42', () => new StreamPool({ venue, attemptLimiter: 42 as never })],
      [
        'feed attemptLimiter',
        () => new UnifiedFeed({ url: 'wss://x', attemptLimiter: {} as never }),
      ],
      ['feed options', () => new UnifiedFeed(null as never)],
      ['sharedRestClient', () => sharedRestClient(null as never)],
      ['venueRestClient venue', () => venueRestClient(null as never)],
      ['venueRestClient options', () => venueRestClient(venue, null as never)],
      ['venueRestClient limits', () => venueRestClient({ restUrl: 'https://x.example' } as never)],
      ['watch options', () => new StreamPool({ venue }).watch('btcusdt@trade', null as never)],
    ];
    for (const [what, make] of refusals) expect(make, what).toThrow(invalid);
  });

  it('a REST call that is no object is refused by rejection, not a TypeError', async () => {
    const client = new RestClient({ baseUrl: 'https://x.example', clock: new ManualClock(0) });
    for (const req of [null, 42, 'GET /x']) {
      await expect(client.request(req as never)).rejects.toMatchObject({
        code: ErrorCode.InvalidOption,
      });
    }
  });

  it('a numeric option given as null is refused, not read as its default', () => {
    for (const option of [
      'handshakeTimeoutMs',
      'closeTimeoutMs',
      'maxPayloadBytes',
      'sliceMaxMs',
    ]) {
      expect(() => new UnifiedFeed({ url: 'wss://x', [option]: null }), option).toThrow(invalid);
    }
    for (const option of ['timeoutMs', 'concurrency', 'maxPending', 'maxBodyBytes']) {
      expect(
        () => new RestClient({ baseUrl: 'https://x.example', [option]: null }),
        option,
      ).toThrow(invalid);
    }
    expect(given(undefined, 5)).toBe(5);
    expect(given(null, 5)).toBeNull();
    expect(given(0, 5)).toBe(0);
  });

  it('names the option and the range in the error', () => {
    expect(() => requireInRange('backoff.jitter', 2, 0, 1)).toThrow(
      '`backoff.jitter` must be a number from 0 to 1, not 2',
    );
    expect(() => requireInRange('heartbeat.intervalMs', Number.NaN, 1)).toThrow(
      '`heartbeat.intervalMs` must be a number at least 1, not NaN',
    );
  });
});
