import type { Clock } from './clock.js';

/**
 * The time no call may go after a 429 or 418, on the clock's monotonic reading: a wall-clock
 * step must not end a venue's ban early. A later, shorter hold never shortens a longer one.
 * RestClient's weight budget and the spot WebSocket API subscription each keep one.
 */
export class RateLimitHold {
  readonly #clock: Clock;
  #until = Number.NEGATIVE_INFINITY;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Hold calls for `ms` from now, unless held longer already. */
  hold(ms: number): void {
    this.#until = Math.max(this.#until, this.#clock.monotonic() + ms);
  }

  /** Ms until calls may go again; 0 when not held. */
  remainingMs(): number {
    return Math.max(0, this.#until - this.#clock.monotonic());
  }

  /** The wall-clock time (ms) the hold ends, for stats; 0 when not held. */
  wallUntil(): number {
    const left = this.remainingMs();
    return left > 0 ? this.#clock.now() + left : 0;
  }
}
