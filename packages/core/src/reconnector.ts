import type { SlidingWindowLimiter } from './sliding-window-limiter.js';
import {
  backoffDelay,
  backoffOptions,
  rateLimitHoldMs,
  type BackoffOptions,
  type RetryCause,
} from './backoff.js';
import type { Clock, TimerHandle } from './clock.js';
import type { PartialOptions } from './options.js';

/** Settings of a {@link Reconnector}. */
export interface ReconnectorOptions {
  /** Times the retries (`setTimeout`) and a connection's uptime (`monotonic`). Required. */
  clock: Clock;
  /** Random source in [0, 1) for jitter. @default Math.random */
  random?: (() => number) | undefined;
  /**
   * Back-off settings; unset fields take {@link DEFAULT_BACKOFF}'s.
   * @default { initialMs: 1000, factor: 2, maxMs: 30000, jitter: 0.3, minUptimeMs: 10000,
   *   rateLimitedMs: 60000, bannedMs: 300000 }
   */
  backoff?: PartialOptions<BackoffOptions> | undefined;
  /**
   * Shared connection-attempt budget; every attempt draws from it, and a handshake answered
   * 429 or 418 holds it for every connection that shares it. @default none
   */
  limiter?: SlidingWindowLimiter | undefined;
  /**
   * Called whenever a retry is scheduled, with the attempt number (1-based) and the delay in
   * ms, after its timer is armed: it may `cancel()` the retry. @default none
   */
  onBackoff?: ((attempt: number, delayMs: number) => void) | undefined;
}

/**
 * The only place back-off lives. It owns one timer at most: a retry requested while one is
 * pending is ignored, so however many parts of the system ask for a reconnect at once, one
 * attempt follows. Attempts reset only after a connection stayed healthy `minUptimeMs`.
 */
export class Reconnector {
  readonly options: Readonly<BackoffOptions>;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #limiter: SlidingWindowLimiter | undefined;
  readonly #onBackoff: ((attempt: number, delayMs: number) => void) | undefined;
  #attempts = 0;
  #timer: TimerHandle | undefined;
  #openedAt: number | undefined;

  constructor(options: ReconnectorOptions) {
    this.options = Object.freeze(backoffOptions(options.backoff));
    this.#clock = options.clock;
    this.#random = options.random ?? Math.random;
    this.#limiter = options.limiter;
    this.#onBackoff = options.onBackoff;
  }

  /** Consecutive retries since the last healthy connection. */
  get attempts(): number {
    return this.#attempts;
  }

  /** True while a retry (or a wait for the attempt budget) is scheduled. */
  get pending(): boolean {
    return this.#timer !== undefined;
  }

  /** Attempt now, or as soon as the shared attempt budget allows. */
  connectNow(connect: () => void): void {
    if (this.pending) return;
    this.#fire(connect);
  }

  /**
   * Schedule `connect` after the back-off delay for `cause`. Returns the delay, or undefined
   * when a retry is already pending (the request is merged into it). A handshake answered
   * HTTP 429 or 418 also holds the shared attempt budget, as long as this connection waits.
   */
  retry(connect: () => void, cause: RetryCause = {}): number | undefined {
    // Before the merge: the venue's answer is about the IP, whichever retry carries it. A
    // close 1008 is not: Binance sends it for one connection's message rate.
    if (cause.httpStatus === 429 || cause.httpStatus === 418) {
      const hold = rateLimitHoldMs(cause.httpStatus, cause.retryAfterMs, this.options);
      if (hold !== undefined) this.#limiter?.holdFor(hold);
    }
    if (this.pending) return undefined;
    const delay = backoffDelay(this.#attempts, this.options, this.#random, cause);
    this.#attempts++;
    // Arm first: a listener may cancel() from inside onBackoff, and must find the timer.
    this.#arm(connect, delay);
    this.#onBackoff?.(this.#attempts, delay);
    return delay;
  }

  /** Cancel a pending retry. */
  cancel(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A connection opened: start its uptime. */
  opened(): void {
    this.#openedAt = this.#clock.monotonic();
  }

  /**
   * The open connection ended: reset the attempts if it was healthy long enough, i.e. frames
   * still arrived `minUptimeMs` after it opened. `lastLifeAt` is when the last one did, a
   * `clock.monotonic()` reading (default: now). Time the socket was open but silent proves nothing: a server that accepts and then
   * says nothing (stale after 60 s), or never answers a subscription, would otherwise reset
   * the back-off on every cycle and be retried at the initial delay for ever.
   */
  closed(lastLifeAt: number = this.#clock.monotonic()): void {
    if (this.#openedAt !== undefined && lastLifeAt - this.#openedAt >= this.options.minUptimeMs) {
      this.#attempts = 0;
    }
    this.#openedAt = undefined;
  }

  #arm(connect: () => void, delay: number): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#fire(connect);
    }, delay);
  }

  #fire(connect: () => void): void {
    const wait = this.#limiter?.tryAcquire() ?? 0;
    if (wait > 0) this.#arm(connect, wait);
    else connect();
  }
}
