import type { Clock } from './clock.js';
import { realClock } from './clock.js';

/** Settings of an {@link AttemptLimiter}. */
export interface AttemptLimiterOptions {
  /** Attempts allowed per window. @default 300 (Binance: per IP) */
  limit?: number;
  /** Length of the sliding window in ms. @default 300000 (5 minutes) */
  windowMs?: number;
  /** @default realClock */
  clock?: Clock;
}

/**
 * A sliding-window budget of connection attempts, shared by every feed of a process that
 * talks to one venue (Binance: 300 attempts per 5 minutes per IP). Feeds ask before each
 * attempt; a refusal says how long to wait, and the Reconnector waits that long.
 */
export class AttemptLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly #clock: Clock;
  /** Times of the attempts in the window, oldest first; never longer than `limit`. */
  readonly #times: number[] = [];

  constructor(options: AttemptLimiterOptions = {}) {
    this.limit = options.limit ?? 300;
    this.windowMs = options.windowMs ?? 300_000;
    this.#clock = options.clock ?? realClock;
  }

  /** Take one attempt now if the budget allows and return 0; else return ms to wait. */
  tryAcquire(): number {
    const now = this.#clock.now();
    while (this.#times.length > 0 && this.#times[0]! <= now - this.windowMs) this.#times.shift();
    if (this.#times.length < this.limit) {
      this.#times.push(now);
      return 0;
    }
    return this.#times[0]! + this.windowMs - now;
  }

  /** Attempts taken in the current window. */
  get used(): number {
    const now = this.#clock.now();
    return this.#times.filter((t) => t > now - this.windowMs).length;
  }
}
