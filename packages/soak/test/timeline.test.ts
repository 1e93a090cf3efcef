import { readFileSync } from 'node:fs';
import { ManualClock } from '@unifeed/core/testing';
import { describe, expect, it } from 'vitest';
import {
  DoubleSubscriptionCheck,
  type ServerConnection,
} from '../src/checks/double-subscription.js';
import { HoleCheck } from '../src/checks/holes.js';
import { SilenceCheck } from '../src/checks/silence.js';
import { SoakTimeline } from '../src/timeline.js';

const DEPTH = 'btcusdt@depth@100ms';
const diff = (first: number, last: number, previous: number) => ({
  stream: DEPTH,
  first,
  last,
  previous,
});

/** The checks as soak.ts builds them, fed through the timeline on a ManualClock. */
function setup() {
  const clock = new ManualClock(1_700_000_000_000);
  const checks = {
    silence: new SilenceCheck(),
    holes: new HoleCheck({ graceMs: 2000 }),
    doubles: new DoubleSubscriptionCheck({ overlapMaxMs: 10_000 }),
  };
  return { clock, checks, time: new SoakTimeline(clock, checks) };
}

const conn = (id: number, poolConn: number): ServerConnection => ({
  id,
  slot: `/market/stream?slot=1.${poolConn}`,
  subscriptions: ['a@kline_1m'],
});
/** Draining server connection 10 (pool connection 1) overlapping its replacement 11 (pool 2). */
const overlap = {
  duplicateSameConnection: 0,
  connections: [conn(10, 1), conn(11, 2)],
  activePoolConnections: new Set([2]),
};

describe('SoakTimeline: the soak times its checks on the monotonic clock', () => {
  it('reads the monotonic clock, which a wall-clock step does not move', async () => {
    const { clock, time } = setup();
    const runStart = time.now();
    clock.stepWall(3_600_000);
    await clock.advance(250);
    expect(time.now() - runStart).toBe(250);
    clock.stepWall(-7_200_000);
    await clock.advance(250);
    expect(time.now() - runStart).toBe(500);
  });

  it('a hole announced within the grace passes although the wall clock stepped +5 s', async () => {
    const { clock, checks, time } = setup();
    time.depth(diff(1, 5, 0));
    await clock.advance(100);
    time.depth(diff(8, 9, 7)); // a hole: 6..7 missing
    clock.stepWall(5000);
    await clock.advance(100);
    time.gap(DEPTH);
    await clock.advance(5000);
    time.sample(overlap);
    checks.holes.finish();
    expect(checks.holes.holes).toBe(1);
    expect(checks.holes.violations.count).toBe(0);
  });

  it('a hole left unannounced still counts after the grace although the wall clock stepped back', async () => {
    const { clock, checks, time } = setup();
    time.depth(diff(1, 5, 0));
    time.depth(diff(8, 9, 7));
    clock.stepWall(-10_000);
    await clock.advance(2500);
    time.sample(overlap);
    expect(checks.holes.violations.count).toBe(1);
  });

  it('a stream that delivered after the faults ended is not silent although the wall clock stepped -10 s', async () => {
    const { clock, checks, time } = setup();
    time.delivered('a@kline_1m');
    time.delivered('user-data');
    await clock.advance(1000);
    time.endFaults();
    clock.stepWall(-10_000);
    await clock.advance(1000);
    time.delivered('a@kline_1m');
    time.depth(diff(1, 5, 0));
    time.delivered('user-data');
    expect(time.silent()).toEqual([]);
    expect(time.sinceFaultsEnded()).toBe(1000);
    time.finishSilence();
    expect(checks.silence.violations.count).toBe(0);
  });

  it('a stream silent since the faults ended still fails although the wall clock stepped +10 s', async () => {
    const { clock, checks, time } = setup();
    time.delivered('a@kline_1m');
    time.delivered('b@kline_1m');
    await clock.advance(1000);
    time.endFaults();
    clock.stepWall(10_000);
    await clock.advance(1000);
    time.delivered('a@kline_1m');
    expect(time.silent()).toEqual(['b@kline_1m']);
    time.finishSilence();
    expect(checks.silence.violations.examples).toEqual([
      'b@kline_1m: silent for 2.0 s, none since the faults ended',
    ]);
  });

  it('a rotation overlap within its bound passes although the wall clock stepped +60 s', async () => {
    const { clock, checks, time } = setup();
    time.sample(overlap);
    clock.stepWall(60_000);
    await clock.advance(1000);
    time.sample(overlap);
    expect(checks.doubles.violations.count).toBe(0);
    // Past the bound (10 s + 5 s margin) on the monotonic clock, it counts.
    await clock.advance(15_000);
    time.sample(overlap);
    expect(checks.doubles.violations.count).toBe(1);
  });

  it('soak.ts reads no wall clock for a time, duration or deadline', () => {
    const source = readFileSync(new URL('../src/soak.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/Date\.now\(/);
    expect(source).not.toMatch(
      /silence\.(delivered|silentSince|finish)\(|holes\.(event|announce|tick)\(|doubles\.observe\(/,
    );
    // The one wall reading: what is left of the REST client's hold, a wall-clock `heldUntil`.
    const wall = source.split('\n').filter((l) => /\bclock\.now\(\)/.test(l));
    expect(wall).toEqual(['      const heldMs = rest.stats().heldUntil - clock.now();']);
  });
});
