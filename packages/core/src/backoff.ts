import { requireDuration, requireInRange, withDefaults, type PartialOptions } from './options.js';

/** Back-off settings of a {@link Reconnector}. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. @default 1000 */
  initialMs: number;
  /** Upper bound of the exponential delay. @default 30000 */
  maxMs: number;
  /** Growth of the delay per consecutive failed attempt. @default 2 */
  factor: number;
  /**
   * Share of each delay taken away at random, so that many clients cut off together do not
   * come back together: `delay = base × (1 − jitter × random())`. 0 disables jitter.
   * @default 0.3
   */
  jitter: number;
  /**
   * A connection must stay healthy this long (frames still arriving this long after it
   * opened; a pong counts) before the attempt counter resets. Without it a server that accepts
   * and then drops, or falls silent, would be hammered at the initial delay.
   * @default 10000
   */
  minUptimeMs: number;
  /**
   * Least delay after close 1008 (Binance: "Too many requests") or an HTTP 429 on the
   * handshake without a `Retry-After` header: repeated offenders get their IP banned.
   * @default 60000
   */
  rateLimitedMs: number;
  /**
   * Least delay after an HTTP 418 (IP banned) on the handshake, whatever its `Retry-After`
   * says: the venue's clock may run behind ours, and a retry inside a ban lengthens it.
   * @default 300000
   */
  bannedMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialMs: 1000,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.3,
  minUptimeMs: 10_000,
  rateLimitedMs: 60_000,
  bannedMs: 300_000,
});

/**
 * `defaults` with the fields `given` sets (an `undefined` keeps the default), each checked:
 * a NaN delay fires at once and, through Math.max, ignores even a ban's Retry-After.
 */
export function backoffOptions(
  given?: PartialOptions<BackoffOptions>,
  defaults: Readonly<BackoffOptions> = DEFAULT_BACKOFF,
  name = 'backoff',
): BackoffOptions {
  const b = withDefaults(defaults, given, name);
  requireDuration(`${name}.initialMs`, b.initialMs, 1);
  requireDuration(`${name}.maxMs`, b.maxMs, b.initialMs);
  requireInRange(`${name}.factor`, b.factor, 1);
  requireInRange(`${name}.jitter`, b.jitter, 0, 1);
  requireDuration(`${name}.minUptimeMs`, b.minUptimeMs, 0);
  requireDuration(`${name}.rateLimitedMs`, b.rateLimitedMs, 0);
  requireDuration(`${name}.bannedMs`, b.bannedMs, 0);
  return b;
}

/** Why the previous connection ended, as far as it changes the next delay. */
export interface RetryCause {
  /** WebSocket close code, when the socket closed. */
  closeCode?: number | undefined;
  /** HTTP status of a rejected handshake. */
  httpStatus?: number | undefined;
  /** The server's `Retry-After`, converted to ms. */
  retryAfterMs?: number | undefined;
}

/** Close code Binance uses for "Too many requests". */
export const CLOSE_POLICY_VIOLATION = 1008;

/**
 * The delay before retry number `attempt` (0-based), given the cause of the last failure.
 * Pure, so that it can be checked exhaustively: randomness comes from `random()` in [0, 1).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number,
  cause: RetryCause = {},
): number {
  const base = Math.min(options.maxMs, options.initialMs * options.factor ** attempt);
  // A random() that gives NaN (an injected one gone wrong) would make every delay NaN: a timer
  // of 1 ms, retrying in a loop. Outside 0 to 1, no jitter.
  const r = random();
  const delay = Math.round(base * (1 - options.jitter * (r >= 0 && r <= 1 ? r : 0)));
  // The same holds as REST calls get, so a socket and a REST call never read one ban two
  // ways. A close 1008 is Binance's 429 on an open socket.
  const status = cause.httpStatus ?? (cause.closeCode === CLOSE_POLICY_VIOLATION ? 429 : undefined);
  const hold = rateLimitHoldMs(status, cause.retryAfterMs, options);
  return hold === undefined ? delay : Math.max(delay, hold);
}

/**
 * How long calls hold after a 429 or 418 answer, given the wait the venue asked for
 * (`askedMs`, if any): a 418 (IP banned) at least `bannedMs` whatever it asked, since the
 * venue's time may run behind ours; a 429 what it asked, else `rateLimitedMs`. Undefined for
 * other statuses: the wait asked for, if any.
 */
export function rateLimitHoldMs(
  status: number | undefined,
  askedMs: number | undefined,
  options: Pick<BackoffOptions, 'bannedMs' | 'rateLimitedMs'> = DEFAULT_BACKOFF,
): number | undefined {
  if (status === 418) return Math.max(askedMs ?? 0, options.bannedMs);
  if (status === 429) return askedMs ?? options.rateLimitedMs;
  return askedMs;
}

/** Parse an HTTP `Retry-After` header (seconds or an HTTP date) into ms from `now`. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
