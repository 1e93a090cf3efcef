import { realClock, type Clock } from '@unifeed/core';

/**
 * A stopwatch started now: the returned function gives the ms since, on the monotonic clock.
 * The commands time every duration and deadline with it (the demo's run length, fault spacing
 * and recovery timeout, the redraw throttles), never with `Date.now()`: a step of the wall clock
 * (NTP, a resumed laptop) would otherwise mark pending faults lost, end a run early, or freeze
 * a redraw until the wall clock caught up again.
 */
export function stopwatch(clock: Pick<Clock, 'monotonic'> = realClock): () => number {
  const started = clock.monotonic();
  return () => clock.monotonic() - started;
}
