import type { Clock, TimerHandle } from '../clock.js';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A {@link Clock} that only moves when told to. Timers fire in deadline order (ties in the
 * order they were set) during {@link ManualClock.advance}, and a timer set by a firing timer
 * fires in the same call if its deadline is inside the advanced span. `monotonic()` starts
 * equal to `now()`; {@link ManualClock.stepWall} moves only the wall clock, as NTP does.
 */
export class ManualClock implements Clock {
  /** The timers' time, and `monotonic()`. */
  #now: number;
  /** What the wall clock has been stepped by: `now()` minus `monotonic()`. */
  #wallStep = 0;
  #nextId = 1;
  #timers = new Map<number, Timer>();

  /** @param start the initial `now()`, in ms since the epoch. @default 0 */
  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now + this.#wallStep;
  }

  monotonic(): number {
    return this.#now;
  }

  /**
   * Step the wall clock by `ms` (negative: back), as NTP or a resumed VM does: `now()` jumps,
   * while `monotonic()` and the timers keep real time.
   */
  stepWall(ms: number): void {
    this.#wallStep += ms;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Number of timers set and not yet fired or cleared. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Deadline of the earliest pending timer, or undefined. */
  nextDeadline(): number | undefined {
    return this.#earliest()?.at;
  }

  /**
   * Move time forward by `ms`, firing every timer that falls due, then let pending promise
   * callbacks run, so that code awaiting inside a timer callback has settled when this resolves.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.at > target) break;
      this.#timers.delete(next.id);
      this.#now = next.at;
      next.fn();
      await flushMicrotasks();
    }
    this.#now = target;
    await flushMicrotasks();
  }

  #earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.#timers.values()) {
      if (best === undefined || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    }
    return best;
  }
}

/** Resolve after every queued microtask (and those they queue, a bounded number of rounds). */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
