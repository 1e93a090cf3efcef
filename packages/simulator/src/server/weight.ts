import type { Clock } from '@unifeed/core';
import type { VenueLimits } from '../venue.js';

/** The verdict on one REST request. */
export type WeightVerdict =
  | { kind: 'ok'; used: number }
  | { kind: 'limited'; used: number; retryAfterSeconds: number }
  | { kind: 'banned'; used: number; retryAfterSeconds: number; until: number };

const MINUTE = 60_000;

/**
 * Binance's REST weight budget: weight per calendar minute, 429 with Retry-After once it is
 * spent, and a 418 ban for a client that keeps going after several 429s.
 */
export class WeightBudget {
  readonly #clock: Clock;
  readonly #limits: VenueLimits;
  #minute = -1;
  #used = 0;
  #limitedInMinute = 0;
  #bannedUntil = 0;
  /** Weight charged since start. */
  total = 0;

  constructor(clock: Clock, limits: VenueLimits) {
    this.#clock = clock;
    this.#limits = limits;
  }

  get used(): number {
    this.#roll(this.#clock.now());
    return this.#used;
  }

  charge(weight: number): WeightVerdict {
    const now = this.#clock.now();
    this.#roll(now);
    if (now < this.#bannedUntil) {
      return this.#ban(now);
    }
    this.#used += weight;
    this.total += weight;
    if (this.#used <= this.#limits.restWeightPerMinute) return { kind: 'ok', used: this.#used };
    this.#limitedInMinute++;
    if (this.#limitedInMinute > this.#limits.restBanAfter429s) {
      this.#bannedUntil = now + this.#limits.restBanMs;
      return this.#ban(now);
    }
    const retryAfterSeconds = Math.max(1, Math.ceil(((this.#minute + 1) * MINUTE - now) / 1000));
    return { kind: 'limited', used: this.#used, retryAfterSeconds };
  }

  #ban(now: number): WeightVerdict {
    const retryAfterSeconds = Math.max(1, Math.ceil((this.#bannedUntil - now) / 1000));
    return { kind: 'banned', used: this.#used, retryAfterSeconds, until: this.#bannedUntil };
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
