import type { Clock, TimerHandle } from '@unifeed/core';

/**
 * A Clock that counts the timers alive on it. Every timer of the library goes through the
 * injected Clock, so the pool's, books', REST client's and account's pending timers are exactly
 * `live`: a leak shows as growth, whatever Node itself keeps.
 */
export class CountingClock implements Clock {
  readonly #inner: Clock;
  readonly #live = new Set<TimerHandle>();
  #created = 0;

  constructor(inner: Clock) {
    this.#inner = inner;
  }

  /** Timers set and neither fired nor cleared. */
  get live(): number {
    return this.#live.size;
  }

  /** Timers ever set. */
  get created(): number {
    return this.#created;
  }

  now(): number {
    return this.#inner.now();
  }

  monotonic(): number {
    return this.#inner.monotonic();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    this.#created++;
    const handle: TimerHandle = this.#inner.setTimeout(() => {
      this.#live.delete(handle);
      fn();
    }, ms);
    this.#live.add(handle);
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#live.delete(handle);
    this.#inner.clearTimeout(handle);
  }
}
