import type { Clock } from './clock.js';

const MINUTE = 60_000;
/**
 * How far our clock may be from the venue's. In the first second of a minute the venue may
 * still be counting the previous one, so a call then must fit both minutes' budgets.
 */
const SKEW_MS = 1_000;

/**
 * Binance's REST weight limit, kept on our side so that we never earn a 429: weight per
 * calendar minute, corrected upward by the `x-mbx-used-weight-1m` the venue reports (other
 * processes on the same IP spend it too), and a hold after a 429 or 418 that no call passes.
 */
export class RestWeightBudget {
  /** Weight we allow ourselves per minute. */
  readonly maxPerMinute: number;
  readonly #clock: Clock;
  #minute = Number.NaN;
  #used = 0;
  /** Weight of the previous minute, which matters during the first SKEW_MS of this one. */
  #previous = 0;
  #heldUntil = 0;

  constructor(maxPerMinute: number, clock: Clock) {
    this.maxPerMinute = maxPerMinute;
    this.#clock = clock;
  }

  /** Weight spent in the current minute, as far as we know. */
  get used(): number {
    this.#roll(this.#clock.now());
    return this.#used;
  }

  /** Time before which no call may go (0 when not held). */
  get heldUntil(): number {
    return this.#heldUntil;
  }

  /**
   * Spend `weight` now and return 0, or return the ms to wait before asking again. A call
   * heavier than the whole budget still goes, alone, in an otherwise unused minute.
   */
  tryTake(weight: number): number {
    const now = this.#clock.now();
    if (now < this.#heldUntil) return this.#heldUntil - now;
    this.#roll(now);
    const start = this.#minute * MINUTE;
    const inSkew = now < start + SKEW_MS;
    if (inSkew && this.#previous > 0 && this.#previous + weight > this.maxPerMinute) {
      return start + SKEW_MS - now;
    }
    if (this.#used > 0 && this.#used + weight > this.maxPerMinute) {
      return start + MINUTE + SKEW_MS - now;
    }
    this.#used += weight;
    if (inSkew) this.#previous += weight;
    return 0;
  }

  /**
   * The venue's count (`x-mbx-used-weight-1m`). Only ever raises ours. In the first second of
   * a minute it may still be the previous minute's count, so it goes there.
   */
  observe(usedWeight: number): void {
    const now = this.#clock.now();
    this.#roll(now);
    if (now < this.#minute * MINUTE + SKEW_MS) {
      this.#previous = Math.max(this.#previous, usedWeight);
    } else if (usedWeight > this.#used) {
      this.#used = usedWeight;
    }
  }

  /** Let nothing through before `time` (after a 429 or 418). */
  holdUntil(time: number): void {
    if (time > this.#heldUntil) this.#heldUntil = time;
  }

  #roll(now: number): void {
    const minute = Math.floor(now / MINUTE);
    if (minute === this.#minute) return;
    this.#previous = minute === this.#minute + 1 ? this.#used : 0;
    this.#minute = minute;
    this.#used = 0;
  }
}
