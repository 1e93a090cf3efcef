/** Opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * The only source of time and timers in unifeed. Every component takes one so that tests
 * drive time deterministically (see `ManualClock` in `@unifeed/core/testing`) and so that
 * `stop()` can prove it left no timer behind.
 */
export interface Clock {
  /** Milliseconds since the epoch, like `Date.now()`. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock. It looks the globals up on every call, not once at import, so that
 * vitest fake timers installed after import still apply.
 */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};
