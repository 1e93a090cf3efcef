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
  /**
   * How long events are remembered, ms; at least `windowMs`. A limit added later
   * ({@link SlidingWindowLimiter.alsoLimit}) with a longer window counts only the events still
   * remembered when it is added. @default windowMs
   */
  retainMs?: number | undefined;
  /** @default realClock */
  clock?: Clock | undefined;
}

/**
 * At most `limit` events in any window of `windowMs`, and as many more such limits as
 * {@link SlidingWindowLimiter.alsoLimit} adds, each held as stated. Two uses: the
 * connection-attempt budget shared by every feed of a venue (Binance: 300 per 5 minutes per
 * IP), where the Reconnector waits as long as a refusal says, and which a handshake's 429 or
 * 418 holds for every feed ({@link holdFor}); and a connection's control-message rate
 * (Binance: 5 or 10 per second), where the pool holds requests back.
 */
export class SlidingWindowLimiter {
  readonly #clock: Clock;
  /** Every limit stated, each as stated: the constructor's first. */
  readonly #windows: { limit: number; windowMs: number }[];
  /** How long an event is remembered: the longest window, or longer (`retainMs`). */
  #longestMs: number;
  /** Times (`clock.monotonic()`) of the events in the longest window, oldest first. */
  readonly #times: number[] = [];
  /** A venue's "wait" (429, 418), on the monotonic clock: a wall-clock step ends no ban. */
  readonly #hold: RateLimitHold;

  constructor(options?: SlidingWindowLimiterOptions) {
    const o = requireObject('the options of SlidingWindowLimiter', options, true);
    // `null` is refused, not read as left out.
    const limit = given(o.limit, 300);
    const windowMs = given(o.windowMs, 300_000);
    // A limit of 0, NaN or 0.5 made tryAcquire() answer NaN, which a caller reads as "go": no
    // limit at all; a NaN window never let an event expire.
    requirePositiveInteger('limit', limit);
    requireDuration('windowMs', windowMs, 1);
    this.#windows = [{ limit, windowMs }];
    const retainMs = given(o.retainMs, windowMs);
    requireDuration('retainMs', retainMs, windowMs);
    this.#longestMs = retainMs;
    requireClock(o.clock);
    this.#clock = given(o.clock, realClock);
    this.#hold = new RateLimitHold(this.#clock);
  }

  /** Events allowed per window (the constructor's; {@link alsoLimit} may add others). */
  get limit(): number {
    return this.#windows[0]!.limit;
  }

  /** Length of the sliding window in ms (the constructor's). */
  get windowMs(): number {
    return this.#windows[0]!.windowMs;
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
   * Also allow at most `limit` events per `windowMs`: every limit added holds as stated, along
   * with the constructor's. For a budget several users share, each stating the venue's limits
   * as it knows them (pools of one venue, one told lower limits): the venue counts once.
   * Mixing two statements into one (the lowest limit over the longest window) would make a
   * limit nobody stated: Upbit's 4 a second and 60 a minute became 4 a minute. Values out of
   * range are refused (`UNIFEED_INVALID_OPTION`), as the constructor's.
   */
  alsoLimit(limit: number, windowMs: number): void {
    requirePositiveInteger('limit', limit);
    requireDuration('windowMs', windowMs, 1);
    if (this.#windows.some((w) => w.limit === limit && w.windowMs === windowMs)) return;
    this.#windows.push({ limit, windowMs });
    this.#longestMs = Math.max(this.#longestMs, windowMs);
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

  /** Events in the current window (the constructor's). */
  get used(): number {
    const now = this.#expire();
    const since = now - this.windowMs;
    let n = 0;
    for (let i = this.#times.length - 1; i >= 0 && this.#times[i]! > since; i--) n++;
    return n;
  }

  #waitAt(now: number): number {
    let wait = this.#hold.remainingMs();
    const times = this.#times;
    for (const { limit, windowMs } of this.#windows) {
      // The limit-th newest event leaves this window at its time plus the window.
      if (times.length >= limit)
        wait = Math.max(wait, times[times.length - limit]! + windowMs - now);
    }
    return wait;
  }

  #expire(): number {
    const now = this.#clock.monotonic();
    while (this.#times.length > 0 && this.#times[0]! <= now - this.#longestMs) this.#times.shift();
    return now;
  }
}
