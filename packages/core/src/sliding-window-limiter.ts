import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import { RateLimitHold } from './rate-limit-hold.js';
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
 * Reconnector waits as long as a refusal says, and which a handshake's 429 or 418 holds for
 * every feed ({@link holdFor}); and a connection's control-message rate (Binance: 5 or 10 per
 * second), where the pool holds requests back.
 */
export class SlidingWindowLimiter {
  readonly #clock: Clock;
  #limit: number;
  #windowMs: number;
  /** Times (`clock.monotonic()`) of the events in the window, oldest first. */
  readonly #times: number[] = [];
  /** A venue's "wait" (429, 418), on the monotonic clock: a wall-clock step ends no ban. */
  readonly #hold: RateLimitHold;

  constructor(options?: SlidingWindowLimiterOptions) {
    const o = requireObject('the options of SlidingWindowLimiter', options, true);
    // `null` is refused, not read as left out.
    this.#limit = given(o.limit, 300);
    this.#windowMs = given(o.windowMs, 300_000);
    // A limit of 0, NaN or 0.5 made tryAcquire() answer NaN, which a caller reads as "go": no
    // limit at all; a NaN window never let an event expire.
    requirePositiveInteger('limit', this.#limit);
    requireDuration('windowMs', this.#windowMs, 1);
    requireClock(o.clock);
    this.#clock = given(o.clock, realClock);
    this.#hold = new RateLimitHold(this.#clock);
  }

  /** Events allowed per window. */
  get limit(): number {
    return this.#limit;
  }

  /** Length of the sliding window in ms. */
  get windowMs(): number {
    return this.#windowMs;
  }

  /**
   * Take one event now if the budget allows and no hold is on, and return 0; else return ms
   * to wait, the longer of the window's wait and the hold's.
   */
  tryAcquire(): number {
    const now = this.#expire();
    const wait = this.#waitAt(now);
    if (wait === 0) this.#times.push(now);
    return wait;
  }

  /**
   * Ms until `tryAcquire` would succeed, 0 when it would now; takes nothing. Lets a caller
   * bound by several windows (Upbit: per second and per minute) take from all or none.
   */
  wait(): number {
    return this.#waitAt(this.#expire());
  }

  /**
   * Take nothing for `ms` from now, however much budget is left: the venue said to wait (a
   * handshake answered 429 or 418), and it counts per IP, so every user of the limiter waits.
   * A later, shorter hold never shortens a longer one; a hold of 0 or less, or NaN, holds
   * nothing.
   */
  holdFor(ms: number): void {
    // NaN would make the hold's end NaN: no hold at all, and a longer one forgotten.
    if (ms > 0) this.#hold.hold(ms);
  }

  /**
   * Keep the stricter of this budget and `limit` per `windowMs`: the lower limit and the
   * longer window. For a budget several users share, each stating the venue's limits as it
   * knows them (pools of one venue, one of them told lower limits): the venue counts once.
   * Values out of range are refused (`UNIFEED_INVALID_OPTION`), as the constructor's.
   */
  tighten(limit: number, windowMs: number): void {
    requirePositiveInteger('limit', limit);
    requireDuration('windowMs', windowMs, 1);
    this.#limit = Math.min(this.#limit, limit);
    this.#windowMs = Math.max(this.#windowMs, windowMs);
  }

  /**
   * Record an event that happens whether or not the budget allows (a heartbeat ping must go
   * out). It uses up budget, so the next `tryAcquire` waits longer.
   */
  record(): void {
    this.#times.push(this.#expire());
  }

  /**
   * Forget every event: the budget is whole again (a new connection starts a new count). A
   * hold stays: the venue's wait is not ours to end.
   */
  reset(): void {
    this.#times.length = 0;
  }

  /** Events in the current window. */
  get used(): number {
    this.#expire();
    return this.#times.length;
  }

  #waitAt(now: number): number {
    const held = this.#hold.remainingMs();
    if (this.#times.length < this.#limit) return held;
    return Math.max(held, this.#times[this.#times.length - this.#limit]! + this.#windowMs - now);
  }

  #expire(): number {
    const now = this.#clock.monotonic();
    while (this.#times.length > 0 && this.#times[0]! <= now - this.#windowMs) this.#times.shift();
    return now;
  }
}
