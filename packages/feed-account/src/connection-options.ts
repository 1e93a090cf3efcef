import {
  ErrorCode,
  UnifeedError,
  isUnifeedError,
  realClock,
  requireClock,
  requireLogger,
  requireObject,
  requireFunction,
  guardedLogger,
  silentLogger,
  type BackoffOptions,
  type Clock,
  type Logger,
  type PartialOptions,
  type UnifiedFeedOptions,
} from '@unifeed/core';

/** Settings of the account feed's WebSocket connection, passed to its UnifiedFeed. */
export type AccountConnectionOptions = Partial<
  Pick<
    UnifiedFeedOptions,
    'WebSocket' | 'heartbeat' | 'backoff' | 'attemptLimiter' | 'queue' | 'handshakeTimeoutMs'
  >
>;

/** Options both account feeds take. */
export interface AccountFeedOptions {
  /** The API key. Sent only to the venue; never logged, reported or put in an error. */
  apiKey: string;
  /** @default realClock */
  clock?: Clock | undefined;
  /**
   * Where the feed logs (pass `createLogger()` of @unifeed/core for pino). Keys, secrets,
   * signatures and listen keys never reach it. @default silent
   */
  logger?: Logger | undefined;
  /** Random source in [0, 1) for back-off jitter. @default Math.random */
  random?: (() => number) | undefined;
  /**
   * Back-off of the feed's own retries (listen-key calls; spot resubscriptions).
   * @default { initialMs: 1000, factor: 2, maxMs: 60000, jitter: 0.3, minUptimeMs: 10000,
   *   rateLimitedMs: 60000, bannedMs: 300000 }
   */
  retry?: PartialOptions<BackoffOptions> | undefined;
  /**
   * The connection's heartbeat, reconnect back-off, queue and handshake settings.
   * @default UnifiedFeed's defaults (ping 20 s, stale after 60 s, back-off 1 s to 30 s); but
   * `attemptLimiter` of the futures feed: the USD-M pools' shared one,
   * `venueAttemptLimiter(binanceUsdm({ wsUrl }), clock)`, since it connects to their host (spot's goes to
   * the WebSocket API host and draws from none)
   */
  connection?: AccountConnectionOptions | undefined;
}

/** The resolved common settings. */
export interface CommonSettings {
  apiKey: string;
  clock: Clock;
  logger: Logger;
  random: () => number;
}

/** A refused option: `UNIFEED_INVALID_OPTION`, naming the option and quoting no value. */
export function invalidOption(message: string): UnifeedError {
  return new UnifeedError(ErrorCode.InvalidOption, message);
}

/**
 * `err` with the value it quotes cut off, if it is a refused option: core's checks say what
 * they were given (`..., not <value>`), and an account feed's options hold its secrets.
 */
export function withoutValue(err: unknown): unknown {
  if (!isUnifeedError(err) || err.code !== ErrorCode.InvalidOption) return err;
  const at = err.message.indexOf(', not ');
  return invalidOption(at < 0 ? err.message : err.message.slice(0, at));
}

/** A secret or key: a string that is not blank. */
export function requireKey(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidOption(`\`${name}\` must be a non-empty string`);
  }
}

/**
 * Check the common options; throws `UNIFEED_INVALID_OPTION` without quoting any value. Only an
 * option left out (`undefined`) takes its default: `null` is refused like any other wrong
 * value, never read as "the default" (a `clock: null` from a config would run on the real one).
 */
export function commonSettings(options: AccountFeedOptions, venue: string): CommonSettings {
  // Inside the feeds' constructors, whose withoutValue() cuts the value off every message.
  requireObject('the options', options);
  requireKey('apiKey', options.apiKey);
  requireClock(options.clock);
  // The logger is guarded against throwing, so a wrong one would swallow every line.
  requireLogger(options.logger);
  requireFunction('random', options.random);
  requireObject('`retry`', options.retry, true);
  requireObject('`connection`', options.connection, true);
  return {
    apiKey: options.apiKey,
    clock: options.clock ?? realClock,
    // `venue`, as the pool's logs say it; the connection adds its own `feed` name.
    logger: guardedLogger(options.logger ?? silentLogger).child({ venue }),
    random: options.random ?? Math.random,
  };
}
