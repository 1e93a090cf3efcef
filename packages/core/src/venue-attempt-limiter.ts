import { realClock, type Clock } from './clock.js';
import { requireClock, requireObject } from './options.js';
import { isLoopbackHost } from './secure-url.js';
import { SlidingWindowLimiter } from './sliding-window-limiter.js';
import type { Venue } from './venue.js';

/** How long a venue's shared attempt budget remembers attempts, at least. */
const ATTEMPTS_RETAINED_MS = 10 * 60_000;

/**
 * The venue's connection-attempt budget is per IP, so every pool of a process that talks to
 * one venue shares one limiter (per clock, so tests on their own clocks stay apart).
 */
const attemptLimiters = new WeakMap<Clock, Map<string, SlidingWindowLimiter>>();

/**
 * The process's connection-attempt budget for one deployment of a venue, on `clock`: the
 * limiter every `StreamPool` of the venue draws from unless given its own, and the USD-M
 * futures account feed too. The venue counts attempts per IP, so a connection of your own to
 * the venue's host should draw from it as well (`attemptLimiter` of a `UnifiedFeed`); a
 * handshake answered 429 or 418 then holds all of them.
 *
 * One limiter per venue name, host of its `wsUrl` (production, a testnet and a simulator are
 * three budgets: a testnet's ban must hold no production connection; any port of one host is
 * one, since the venue bans the IP, except on the loopback, where each simulator is its own)
 * and clock, made by the first call with its `limits.connectionAttempts` per
 * `limits.connectionAttemptWindowMs`. A later call's limits, if different, are added to it,
 * each kept as stated ({@link SlidingWindowLimiter.alsoLimit}), counting the attempts of the
 * last 10 minutes (or the longest window): the venue counts once, whichever pool knows its
 * limits best.
 *
 * @param clock @default realClock
 */
export function venueAttemptLimiter(
  venue: {
    readonly name: string;
    readonly wsUrl?: string | undefined;
    readonly limits: Pick<Venue['limits'], 'connectionAttempts' | 'connectionAttemptWindowMs'>;
  },
  clock: Clock = realClock,
): SlidingWindowLimiter {
  requireObject('venue', venue);
  requireObject('venue.limits', venue.limits);
  // `null` is refused, not read as the real clock; nor may it key the map.
  requireClock(clock);
  const { connectionAttempts, connectionAttemptWindowMs } = venue.limits;
  let byVenue = attemptLimiters.get(clock);
  if (!byVenue) attemptLimiters.set(clock, (byVenue = new Map()));
  const key = venue.wsUrl === undefined ? venue.name : `${venue.name} ${deploymentOf(venue.wsUrl)}`;
  let limiter = byVenue.get(key);
  if (!limiter) {
    limiter = new SlidingWindowLimiter({
      limit: connectionAttempts,
      windowMs: connectionAttemptWindowMs,
      // A limit a later pool adds (a minute's, to a first pool's second) must count the
      // attempts already made: forgotten after the first window, 176 went in a minute
      // stated as 60.
      retainMs: Math.max(connectionAttemptWindowMs, ATTEMPTS_RETAINED_MS),
      clock,
    });
    byVenue.set(key, limiter);
  } else {
    // A pool made later with lower limits (`binanceUsdm({ limits })`) was ignored: the first
    // pool's limits sized the budget for good.
    limiter.alsoLimit(connectionAttempts, connectionAttemptWindowMs);
  }
  return limiter;
}

/**
 * What tells one deployment of a venue from another in a WebSocket URL: its host name, since
 * the venue bans an IP whatever the port (Binance spot serves `:9443` and `:443`); on the
 * loopback, its origin, port included: two simulators are two venues. The URL itself where it
 * does not parse (a custom venue's).
 */
function deploymentOf(url: string): string {
  try {
    const u = new URL(url);
    return isLoopbackHost(u.hostname) ? u.origin : u.hostname;
  } catch {
    return url;
  }
}
