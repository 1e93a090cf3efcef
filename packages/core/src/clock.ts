/** Opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * The only source of time and timers in unifeed. Every component takes one so that tests
 * drive time deterministically (see `ManualClock` in `@unifeed/core/testing`) and so that
 * `stop()` can prove it left no timer behind.
 *
 * Two readings, because the wall clock steps (NTP, a VM resumed, an operator): `now()` for
 * timestamps (what is signed, reported or compared with a venue's times), `monotonic()` for
 * every duration and deadline (silence, uptime, rate windows, holds). A duration taken on the
 * wall clock turns a step forward into minutes of silence (every connection stale at once) and
 * a step back into a rate window that never empties.
 */
export interface Clock {
  /** Milliseconds since the epoch, like `Date.now()`. */
  now(): number;
  /**
   * Milliseconds from an arbitrary origin that only moves forward at the rate of real time,
   * like `performance.now()`: unaffected by wall-clock steps. Only differences mean anything.
   */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The longest delay a host timer takes: Node and browsers run a longer one (a `Retry-After`
 * read wrong, a huge `idleCloseMs`) after 1 ms instead.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The real clock. It looks the globals up on every call, not once at import, so that
 * vitest fake timers installed after import still apply. A delay beyond what timers take
 * fires at the longest they take (24.8 days), not at once.
 */
export const realClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, Math.min(ms, MAX_TIMER_MS)),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Epoch time that no step of the wall clock moves: `clock.monotonic()` plus the wall clock's
 * lead over it at this call. For calendar windows counted by elapsed time (a venue's weight
 * minute): they stay calendar minutes of the wall clock as it read then, which is the wall
 * clock itself for as long as it does not step, and a step neither empties nor stretches one.
 */
export function steadyEpochTime(clock: Clock): () => number {
  const offset = clock.now() - clock.monotonic();
  return () => clock.monotonic() + offset;
}
