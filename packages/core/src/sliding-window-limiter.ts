import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import {
  given,
  requireClock,
  requireDuration,
  requireObject,
  requirePositiveInteger,
} from './options.js';

/** Settings of a {@link SlidingWindowLimiter}. */
export interface SlidingWindowLimiterOptions {
  /** Events allowed per window, a positive integer. @default 300 (Binance: connection attempts per IP) */
  limit?: number | undefined;
  /** Length of the sliding window in ms, at least 1. @default 300000 (5 minutes) */
  windowMs?: number | undefined;
  /** @default realClock */
  clock?: Clock | undefined;
}

/**
 * At most `limit` events in any window of `windowMs`. Two uses: the connection-attempt
 * budget shared by every feed of a venue (Binance: 300 per 5 minutes per IP), where the
 * Reconnector waits as long as a refusal says; and a connection's control-message rate
 * (Binance: 5 or 10 per second), where the pool holds requests back.
 */
export class SlidingWindowLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly #clock: Clock;
  /** Times (`clock.monotonic()`) of the events in the window, oldest first. */
  readonly #times: number[] = [];

  constructor(options?: SlidingWindowLimiterOptions) {
    const o = requireObject('the options of SlidingWindowLimiter', options, true);
    // `null` is refused, not read as left out.
    this.limit = given(o.limit, 300);
    this.windowMs = given(o.windowMs, 300_000);
    // A limit of 0, NaN or 0.5 made tryAcquire() answer NaN, which a caller reads as "go": no
    // limit at all; a NaN window never let an event expire.
    requirePositiveInteger('limit', this.limit);
    requireDuration('windowMs', this.windowMs, 1);
    requireClock(o.clock);
    this.#clock = given(o.clock, realClock);
  }

  /** Take one event now if the budget allows and return 0; else return ms to wait. */
  tryAcquire(): number {
    const now = this.#expire();
    if (this.#times.length < this.limit) {
      this.#times.push(now);
      return 0;
    }
    return this.#times[this.#times.length - this.limit]! + this.windowMs - now;
  }

  /**
   * Ms until `tryAcquire` would succeed, 0 when it would now; takes nothing. Lets a caller
   * bound by several windows (Upbit: per second and per minute) take from all or none.
   */
  wait(): number {
    const now = this.#expire();
    if (this.#times.length < this.limit) return 0;
    return this.#times[this.#times.length - this.limit]! + this.windowMs - now;
  }

  /**
   * Record an event that happens whether or not the budget allows (a heartbeat ping must go
   * out). It uses up budget, so the next `tryAcquire` waits longer.
   */
  record(): void {
    this.#times.push(this.#expire());
  }

  /** Forget every event: the budget is whole again (a new connection starts a new count). */
  reset(): void {
    this.#times.length = 0;
  }

  /** Events in the current window. */
  get used(): number {
    this.#expire();
    return this.#times.length;
  }

  #expire(): number {
    const now = this.#clock.monotonic();
    while (this.#times.length > 0 && this.#times[0]! <= now - this.windowMs) this.#times.shift();
    return now;
  }
}
