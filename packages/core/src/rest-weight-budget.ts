import type { Clock } from './clock.js';

const MINUTE = 60_000;
/**
 * Our minute starts this long after the clock's: if our clock runs up to a second ahead of
 * the venue's, weight we spend "in the new minute" is not still counted in its old one.
 */
const SKEW_MS = 1_000;

/**
 * Binance's REST weight limit, kept on our side so that we never earn a 429: weight per
 * calendar minute, corrected upward by the `x-mbx-used-weight-1m` the venue reports (other
 * processes on the same IP spend it too), and a hold after a 429 or 418 that no request passes.
 */
export class RestWeightBudget {
  /** Weight we allow ourselves per minute. */
  readonly maxPerMinute: number;
  readonly #clock: Clock;
  #minute = -1;
  #used = 0;
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

  /** Time before which no request may go (0 when not held). */
  get heldUntil(): number {
    return this.#heldUntil;
  }

  /**
   * Spend `weight` now and return 0, or return the ms to wait before asking again. A request
   * heavier than the whole budget still goes, alone, at the start of a minute.
   */
  tryTake(weight: number): number {
    const now = this.#clock.now();
    if (now < this.#heldUntil) return this.#heldUntil - now;
    this.#roll(now);
    if (this.#used > 0 && this.#used + weight > this.maxPerMinute) {
      return (this.#minute + 1) * MINUTE + SKEW_MS - now;
    }
    this.#used += weight;
    return 0;
  }

  /** The venue's count for this minute (`x-mbx-used-weight-1m`). Only ever raises ours. */
  observe(usedWeight: number): void {
    this.#roll(this.#clock.now());
    if (usedWeight > this.#used) this.#used = usedWeight;
  }

  /** Let nothing through before `time` (after a 429 or 418). */
  holdUntil(time: number): void {
    if (time > this.#heldUntil) this.#heldUntil = time;
  }

  #roll(now: number): void {
    const minute = Math.floor((now - SKEW_MS) / MINUTE);
    if (minute !== this.#minute) {
      this.#minute = minute;
      this.#used = 0;
    }
  }
}
