import { describe, expect, it } from 'vitest';
import { MAX_SYMBOLS } from '@unifeed/simulator';
import { SoakErrorCode } from '../src/errors.js';
import { runSoak, type SoakOptions } from '../src/soak.js';

describe('runSoak options', () => {
  // Each is refused before the simulator or any check starts: at once, with the soak's code
  // and the option's name (before, `symbols: 0` failed with core's code after the simulator
  // started, and NaN warm-up limits or sub-second fault spacings ran).
  const cases: [string, Partial<SoakOptions>][] = [
    ['minutes', { minutes: 0 }],
    ['minutes', { minutes: NaN }],
    ['minutes', { minutes: 7 * 24 * 60 + 1, faultSpacingMs: 1e8 }],
    ['minutes', { minutes: 1e300, faultSpacingMs: 1e305 }],
    ['symbols', { symbols: 0 }],
    ['symbols', { symbols: NaN }],
    ['symbols', { symbols: 1.5 }],
    ['symbols', { symbols: MAX_SYMBOLS + 1 }],
    ['faultSpacingMs', { faultSpacingMs: 0.01 }],
    ['faultSpacingMs', { faultSpacingMs: NaN }],
    ['warmupTimeoutMs', { warmupTimeoutMs: NaN }],
    ['warmupTimeoutMs', { warmupTimeoutMs: 0 }],
    ['seed', { seed: 1.5 }],
  ];
  it.each(cases)(
    'refuses a bad %s up front',
    async (name, bad) => {
      const started = Date.now();
      await expect(runSoak({ minutes: 1, seed: 1, ...bad })).rejects.toMatchObject({
        name: 'SoakError',
        code: SoakErrorCode.InvalidOption,
        message: expect.stringContaining(name) as unknown,
      });
      expect(Date.now() - started).toBeLessThan(1000);
    },
    10_000,
  );
});
