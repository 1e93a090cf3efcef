import { ManualClock } from '../src/testing/index.js';

/**
 * A wall clock that can step (NTP, a resumed VM: set `step`) while its timers keep real time:
 * they run on a ManualClock, advanced with `advance`.
 */
export function steppedClock(start = 1_000_000) {
  const m = new ManualClock(start);
  const c = {
    step: 0,
    now: () => m.now() + c.step,
    setTimeout: (fn: () => void, ms: number) => m.setTimeout(fn, ms),
    clearTimeout: (t: Parameters<ManualClock['clearTimeout']>[0]) => m.clearTimeout(t),
    advance: (ms: number) => m.advance(ms),
  };
  return c;
}
