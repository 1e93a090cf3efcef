import { RateLimitHold, steadyEpochTime, type Clock } from '@unifeed/core';
import type { VenueLimits } from '../venue.js';

/** The verdict on one REST request. */
export type WeightVerdict =
  | { kind: 'ok'; used: number }
  | { kind: 'limited'; used: number; retryAfterSeconds: number }
  | {
      kind: 'banned';
      used: number;
      retryAfterSeconds: number;
      /** End of the ban as a wall-clock timestamp (ms since the epoch), as Binance reports it. */
      until: number;
    };

const MINUTE = 60_000;

/**
 * Binance's REST weight budget: weight per calendar minute, 429 with Retry-After once it is
 * spent, and a 418 ban for a client that keeps going after several 429s.
 *
 * The minute and the ban are durations, so they run on the monotonic clock: a wall-clock step
 * (NTP, a resumed VM) must neither reset the budget nor lift or prolong a ban. The minutes
 * stay calendar minutes of the wall clock as it read at start ({@link steadyEpochTime}).
 */
export class WeightBudget {
  readonly #limits: VenueLimits;
  /** Epoch time on the monotonic clock: the minutes' clock. */
  readonly #time: () => number;
  #minute = -1;
  #used = 0;
  #limitedInMinute = 0;
  /** The 418 ban, on the monotonic clock; reported as a wall-clock end. */
  readonly #ban: RateLimitHold;
  /** Weight charged since start. */
  total = 0;

  constructor(clock: Clock, limits: VenueLimits) {
    this.#limits = limits;
    this.#time = steadyEpochTime(clock);
    this.#ban = new RateLimitHold(clock);
  }

  get used(): number {
    this.#roll(this.#time());
    return this.#used;
  }

  charge(weight: number): WeightVerdict {
    const now = this.#time();
    this.#roll(now);
    if (this.#ban.remainingMs() > 0) return this.#banned();
    this.#used += weight;
    this.total += weight;
    if (this.#used <= this.#limits.restWeightPerMinute) return { kind: 'ok', used: this.#used };
    this.#limitedInMinute++;
    if (this.#limitedInMinute > this.#limits.restBanAfter429s) {
      this.#ban.hold(this.#limits.restBanMs);
      return this.#banned();
    }
    const retryAfterSeconds = Math.max(1, Math.ceil(((this.#minute + 1) * MINUTE - now) / 1000));
    return { kind: 'limited', used: this.#used, retryAfterSeconds };
  }

  /** The verdict while banned: what is left of the ban, its end on the wall clock as it reads now. */
  #banned(): WeightVerdict {
    const retryAfterSeconds = Math.max(1, Math.ceil(this.#ban.remainingMs() / 1000));
    const until = Math.round(this.#ban.wallUntil());
    return { kind: 'banned', used: this.#used, retryAfterSeconds, until };
  }

  #roll(now: number): void {
    const minute = Math.floor(now / MINUTE);
    if (minute !== this.#minute) {
      this.#minute = minute;
      this.#used = 0;
      this.#limitedInMinute = 0;
    }
  }
}
