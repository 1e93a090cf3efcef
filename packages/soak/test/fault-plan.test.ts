import { describe, expect, it } from 'vitest';
import { SoakErrorCode } from '../src/errors.js';
import {
  ACCOUNT_FIRST,
  FAULT_KINDS,
  MAX_RUN_MS,
  countByKind,
  planFaults,
} from '../src/fault-plan.js';

describe('planFaults', () => {
  it('is a pure function of the seed', () => {
    const a = planFaults({ seed: 7, durationMs: 120_000 });
    expect(planFaults({ seed: 7, durationMs: 120_000 })).toEqual(a);
    expect(planFaults({ seed: 8, durationMs: 120_000 })).not.toEqual(a);
  });

  it('has every fault kind, in time order inside the run and before its quiet tail', () => {
    for (const seed of [1, 2, 3, 99]) {
      const plan = planFaults({ seed, durationMs: 120_000, quietTailMs: 15_000 });
      const counts = countByKind(plan);
      for (const k of FAULT_KINDS) expect(counts[k], k).toBeGreaterThanOrEqual(1);
      const times = plan.map((f) => f.atMs);
      expect(times).toEqual([...times].sort((x, y) => x - y));
      expect(times[0]).toBeGreaterThan(0);
      expect(times.at(-1)).toBeLessThan(105_000);
      expect(plan.at(-1)?.kind).toBe('rest-418');
      expect(counts['rest-418']).toBe(1);
    }
  });

  it('adds faults to a longer run at the mean spacing', () => {
    const plan = planFaults({ seed: 1, durationMs: 30 * 60_000, meanSpacingMs: 4000 });
    expect(plan).toHaveLength(Math.floor((30 * 60_000 - 15_000) / 4000));
  });

  it('refuses a run too short for every fault, and a seed that is not an integer', () => {
    expect(() => planFaults({ seed: 1, durationMs: 20_000 })).toThrow(
      expect.objectContaining({ code: SoakErrorCode.InvalidOption }),
    );
    expect(() => planFaults({ seed: 1.5, durationMs: 120_000 })).toThrow(
      expect.objectContaining({ code: SoakErrorCode.InvalidOption }),
    );
  });

  it('refuses every option out of range before planning, naming it', () => {
    const cases: [string, object][] = [
      // A run of 1e300 minutes, or 2^31, planned faults until the heap ran out.
      ['durationMs', { durationMs: MAX_RUN_MS + 1 }],
      ['durationMs', { durationMs: 2 ** 31 * 60_000 }],
      ['durationMs', { durationMs: NaN }],
      ['durationMs', { durationMs: Infinity }],
      // 0.01 ms apart gave 4.5 million faults a minute.
      ['meanSpacingMs', { meanSpacingMs: 0.01 }],
      ['meanSpacingMs', { meanSpacingMs: 999 }],
      ['meanSpacingMs', { meanSpacingMs: NaN }],
      ['quietTailMs', { quietTailMs: NaN }],
      ['quietTailMs', { quietTailMs: -1 }],
      ['seed', { seed: NaN }],
    ];
    for (const [name, bad] of cases) {
      expect(() => planFaults({ seed: 1, durationMs: 120_000, ...bad }), name).toThrow(
        expect.objectContaining({
          code: SoakErrorCode.InvalidOption,
          message: expect.stringContaining(name) as unknown,
        }),
      );
    }
    expect(planFaults({ seed: 1, durationMs: 120_000, meanSpacingMs: 1000 })).toHaveLength(105);
  });

  it('aims the first duplicate and malformed frame at the account connection on every seed', () => {
    expect(ACCOUNT_FIRST).toEqual(['duplicate', 'malformed-invalid-json']);
    for (let seed = 1; seed <= 200; seed++) {
      const plan = planFaults({ seed, durationMs: 120_000 });
      for (const kind of ACCOUNT_FIRST) {
        expect(plan.find((f) => f.kind === kind)?.target, `seed ${seed} ${kind}`).toBe('private');
      }
    }
    // Only the first: later ones still aim where the seed says.
    const long = planFaults({ seed: 1, durationMs: 30 * 60_000 });
    const later = long.filter((f) => f.kind === 'duplicate').slice(1);
    expect(new Set(later.map((f) => f.target)).size).toBeGreaterThan(1);
  });
});
