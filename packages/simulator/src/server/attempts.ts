/**
 * Connection attempts in a sliding window (Binance: 300 per 5 minutes per IP). Holds at
 * most `limit` times, so it is bounded however hard a client hammers it. Times are monotonic
 * clock readings (`Clock.monotonic()`): a wall-clock step must not hold or empty the window.
 */
export class AttemptWindow {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #times: number[] = [];

  constructor(limit: number, windowMs: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Record an attempt at `now`; false when it is over the limit (and is not recorded). */
  admit(now: number): boolean {
    while (this.#times.length > 0 && now - (this.#times[0] ?? 0) >= this.#windowMs)
      this.#times.shift();
    if (this.#times.length >= this.#limit) return false;
    this.#times.push(now);
    return true;
  }

  /** Seconds until the oldest attempt leaves the window. */
  retryAfterSeconds(now: number): number {
    const oldest = this.#times[0] ?? now;
    return Math.max(1, Math.ceil((oldest + this.#windowMs - now) / 1000));
  }
}
