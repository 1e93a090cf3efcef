import type { Clock } from './clock.js';
import { RateLimitHold } from './rate-limit-hold.js';

const MINUTE = 60_000;
/**
 * How far our clock may be from the venue's, either way. In the first second of a minute the
 * venue may still be counting the previous one, so a call then must fit both minutes' budgets;
 * in the last second it may already count the next one, so that weight counts there too.
 */
const SKEW_MS = 1_000;

/**
 * Binance's REST weight limit, kept on our side so that we never earn a 429: weight per
 * calendar minute, corrected upward by the `x-mbx-used-weight-1m` the venue reports (other
 * processes on the same IP spend it too), and a hold after a 429 or 418 that no call passes.
 *
 * Minutes are the wall clock's (the venue counts calendar minutes on its own clock, which a
 * synced wall clock follows), read through the monotonic clock so that they run steadily. A
 * step of the wall clock (an NTP correction, a resume from suspend) re-aligns them to it, with
 * what the minute had spent (stepping back, and the minute before) carried into the minute it
 * lands in: kept on the clock read at construction, they would stay off the venue's for the
 * life of the process and let one venue minute take most of two budgets (a 429, then a ban);
 * started afresh, a step back would spend the venue's same minute twice.
 */
export class RestWeightBudget {
  #maxPerMinute: number;
  readonly #clock: Clock;
  /** The wall clock minus the monotonic one, as last aligned. */
  #offset: number;
  /** The wall clock stepped since the last reading: the next roll carries what was spent. */
  #stepped = false;
  /** ...and it stepped back: the minute before may be the one it landed in as well. */
  #steppedBack = false;
  #minute = Number.NaN;
  #used = 0;
  /** Weight of the previous minute, which matters during the first SKEW_MS of this one. */
  #previous = 0;
  /** Weight spent in the last SKEW_MS of this minute: a venue clock ahead counts it in its next. */
  #carry = 0;
  readonly #hold: RateLimitHold;

  constructor(maxPerMinute: number, clock: Clock) {
    this.#maxPerMinute = maxPerMinute;
    this.#clock = clock;
    this.#offset = clock.now() - clock.monotonic();
    this.#hold = new RateLimitHold(clock);
  }

  /** Weight we allow ourselves per minute. */
  get maxPerMinute(): number {
    return this.#maxPerMinute;
  }

  /** Allow at most `maxPerMinute` from now on; never raises the limit. */
  lower(maxPerMinute: number): void {
    this.#maxPerMinute = Math.min(this.#maxPerMinute, maxPerMinute);
  }

  /** Weight spent in the current minute, as far as we know. */
  get used(): number {
    this.#roll(this.#now());
    return this.#used;
  }

  /** Wall-clock time (ms) before which no call may go; 0 when not held. */
  get heldUntil(): number {
    return this.#hold.wallUntil();
  }

  /**
   * Spend `weight` now and return 0, or return the ms to wait before asking again. A call
   * heavier than the whole budget still goes, alone, in an otherwise unused minute. `reserved`
   * calls (listen keys) may also spend a reserve of 5 % above the limit, so that a minute
   * spent on bulk calls (a mass order-book resync) does not hold back a keepalive.
   */
  tryTake(weight: number, reserved = false): number {
    const held = this.#hold.remainingMs();
    if (held > 0) return held;
    const now = this.#now();
    this.#roll(now);
    const max = reserved
      ? this.maxPerMinute + Math.ceil(this.maxPerMinute / 20)
      : this.maxPerMinute;
    const start = this.#minute * MINUTE;
    const inSkew = now < start + SKEW_MS;
    if (inSkew && this.#previous > 0 && this.#previous + weight > max) {
      return start + SKEW_MS - now;
    }
    if (this.#used > 0 && this.#used + weight > max) {
      return start + MINUTE + SKEW_MS - now;
    }
    this.#used += weight;
    if (inSkew) this.#previous += weight;
    if (now >= start + MINUTE - SKEW_MS) this.#carry += weight;
    return 0;
  }

  /**
   * The venue's count (`x-mbx-used-weight-1m`). Only ever raises ours. In the first second of
   * a minute it may still be the previous minute's count, so it goes there.
   */
  observe(usedWeight: number): void {
    const now = this.#now();
    this.#roll(now);
    if (now < this.#minute * MINUTE + SKEW_MS) {
      this.#previous = Math.max(this.#previous, usedWeight);
    } else if (usedWeight > this.#used) {
      this.#used = usedWeight;
    }
  }

  /** Let nothing through for `ms` from now (after a 429 or 418), unless held longer already. */
  hold(ms: number): void {
    this.#hold.hold(ms);
  }

  /** The wall clock's time, run on the monotonic clock between steps. */
  #now(): number {
    const monotonic = this.#clock.monotonic();
    const wall = this.#clock.now();
    const steady = monotonic + this.#offset;
    if (Math.abs(wall - steady) > SKEW_MS) {
      if (!Number.isNaN(this.#minute)) {
        // Up to date on the old reading first: only what its current minute (and, stepping
        // back, the one before) spent is carried, not a busy minute of long ago.
        this.#roll(steady);
        this.#stepped = true;
        this.#steppedBack = wall < steady;
      }
      this.#offset = wall - monotonic;
    }
    return monotonic + this.#offset;
  }

  #roll(now: number): void {
    const minute = Math.floor(now / MINUTE);
    if (this.#stepped) {
      // Which venue minute the weight spent before the step fell in is not known: it counts in
      // the minute the clock landed in (at worst a wait of a minute for nothing).
      this.#stepped = false;
      const carried = this.#used + (this.#steppedBack ? this.#previous : 0);
      this.#used = carried;
      this.#previous = carried;
      this.#minute = minute;
      this.#carry = 0;
      return;
    }
    if (minute === this.#minute) return;
    const next = minute === this.#minute + 1;
    this.#previous = next ? this.#used : 0;
    this.#used = next ? this.#carry : 0;
    this.#carry = 0;
    this.#minute = minute;
  }
}
