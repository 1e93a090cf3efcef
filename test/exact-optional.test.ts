import { describe, expect, it } from 'vitest';
import { StreamPool, UnifiedFeed, binanceSpot, binanceUsdm, upbit } from '@unifeed/core';
import { ManualClock } from '@unifeed/core/testing';

/**
 * The README's examples as a consumer compiling with `exactOptionalPropertyTypes` writes them:
 * options read from the environment are `string | undefined`, and an option given as
 * `undefined` keeps its default. The workspace typechecks with that flag on, so this file
 * stops compiling (`pnpm typecheck`) if an option's type loses its `| undefined`; at runtime
 * it checks that the defaults were kept. Nothing here connects anywhere.
 */

/** An environment with none of the README's variables set, typed as `process.env` is. */
const env: NodeJS.ProcessEnv = {};

/** A number option read from the environment, as a consumer's config does: unset stays unset. */
function numberFrom(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

describe('options given as undefined (exactOptionalPropertyTypes)', () => {
  it("the README's pool example: binanceUsdm({ wsUrl: process.env.UNIFEED_WS_URL }) keeps the production URLs", async () => {
    // As README.md's StreamPool example, with the pool's clock injected so no timer is real.
    const pool = new StreamPool({
      venue: binanceUsdm({ wsUrl: env.UNIFEED_WS_URL, restUrl: env.UNIFEED_REST_URL }),
      clock: new ManualClock(0),
      slotParam: env.UNIFEED_SLOT_PARAM,
      requestTimeoutMs: numberFrom(env.UNIFEED_REQUEST_TIMEOUT_MS),
    });
    try {
      expect(pool.venue.name).toBe('binance-usdm');
      expect(pool.venue.url('public')).toBe('wss://fstream.binance.com/public/stream');
      expect(pool.venue.restUrl).toBe('https://fapi.binance.com');
    } finally {
      await pool.close();
    }
  });

  it('the other venue factories take undefined URLs the same way', () => {
    const spot = binanceSpot({ wsUrl: env.UNIFEED_WS_URL, restUrl: env.UNIFEED_REST_URL });
    expect(spot.url('market')).toBe('wss://stream.binance.com:9443/stream');
    expect(spot.restUrl).toBe('https://api.binance.com');
    const u = upbit({ wsUrl: env.UNIFEED_WS_URL, ticket: env.UNIFEED_TICKET });
    expect(u.name).toBe('upbit');
    expect(u.restUrl).toBe('https://api.upbit.com');
  });

  it("the README's UnifiedFeed example with its numbers left unset keeps every default", async () => {
    const feed = new UnifiedFeed({
      url: env.UNIFEED_URL ?? 'wss://stream.binance.com:9443/stream?streams=btcusdt@bookTicker',
      clock: new ManualClock(0),
      heartbeat: {
        intervalMs: numberFrom(env.UNIFEED_PING_MS),
        timeoutMs: numberFrom(env.UNIFEED_STALE_MS),
      },
      backoff: { initialMs: numberFrom(env.UNIFEED_BACKOFF_MS), maxMs: undefined },
      queue: { capacity: numberFrom(env.UNIFEED_QUEUE), overflow: undefined },
      name: env.UNIFEED_NAME,
    });
    // Never started: no socket, no timer.
    expect(feed.name).toBe('feed');
    expect(feed.stats().queue.capacity).toBe(10_000);
    await feed.stop();
  });
});
