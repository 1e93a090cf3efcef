import {
  ErrorCode,
  UnifeedError,
  realClock,
  guardedLogger,
  silentLogger,
  type BackoffOptions,
  type Clock,
  type Logger,
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
  clock?: Clock;
  /**
   * Where the feed logs (pass `createLogger()` of @unifeed/core for pino). Keys, secrets,
   * signatures and listen keys never reach it. @default silent
   */
  logger?: Logger;
  /** Random source in [0, 1) for back-off jitter. @default Math.random */
  random?: () => number;
  /**
   * Back-off of the feed's own retries (listen-key calls; spot resubscriptions).
   * @default { initialMs: 1000, factor: 2, maxMs: 60000, jitter: 0.3 }
   */
  retry?: Partial<BackoffOptions>;
  /**
   * The connection's heartbeat, reconnect back-off, queue and handshake settings.
   * @default UnifiedFeed's defaults (ping 20 s, stale after 60 s, back-off 1 s to 30 s)
   */
  connection?: AccountConnectionOptions;
}

/** The resolved common settings. */
export interface CommonSettings {
  apiKey: string;
  clock: Clock;
  logger: Logger;
  random: () => number;
}

/** Check the common options; throws `UNIFEED_INVALID_OPTION` without quoting any value. */
export function commonSettings(options: AccountFeedOptions, venue: string): CommonSettings {
  if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
    throw new UnifeedError(ErrorCode.InvalidOption, '`apiKey` must be a non-empty string');
  }
  return {
    apiKey: options.apiKey,
    clock: options.clock ?? realClock,
    // `venue`, as the pool's logs say it; the connection adds its own `feed` name.
    logger: guardedLogger(options.logger ?? silentLogger).child({ venue }),
    random: options.random ?? Math.random,
  };
}
