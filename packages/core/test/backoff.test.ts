import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF, parseRetryAfter, rateLimitHoldMs } from '../src/backoff.js';

const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };

describe('backoffDelay', () => {
  it('a random() outside 0 to 1, NaN included, means no jitter, never a NaN delay', () => {
    for (const r of [Number.NaN, -1, 2]) {
      expect(backoffDelay(0, DEFAULT_BACKOFF, () => r)).toBe(DEFAULT_BACKOFF.initialMs);
    }
  });

  it('grows by the factor from the initial delay up to the cap', () => {
    const delays = Array.from({ length: 8 }, (_, i) => backoffDelay(i, noJitter, () => 0.5));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('takes away at most the jitter share, as the random source says', () => {
    const opts = { ...DEFAULT_BACKOFF, jitter: 0.3 };
    expect(backoffDelay(0, opts, () => 0)).toBe(1000);
    expect(backoffDelay(0, opts, () => 0.5)).toBe(850);
    expect(backoffDelay(3, opts, () => 0.999)).toBe(Math.round(8000 * (1 - 0.3 * 0.999)));
  });

  it('honours every option', () => {
    const opts = { ...noJitter, initialMs: 50, factor: 3, maxMs: 1000 };
    expect([0, 1, 2, 3, 4].map((i) => backoffDelay(i, opts, Math.random))).toEqual([
      50, 150, 450, 1000, 1000,
    ]);
  });

  it('waits longer after close 1008 and HTTP 429, longest after 418', () => {
    expect(backoffDelay(0, noJitter, () => 0, { closeCode: 1008 })).toBe(60_000);
    expect(backoffDelay(0, noJitter, () => 0, { httpStatus: 429 })).toBe(60_000);
    expect(backoffDelay(0, noJitter, () => 0, { httpStatus: 418 })).toBe(300_000);
    expect(backoffDelay(0, noJitter, () => 0, { closeCode: 1006 })).toBe(1000);
  });

  it('holds a 418 at least bannedMs however short its Retry-After, as REST calls do', () => {
    const cause = { httpStatus: 418, retryAfterMs: 10_000 };
    expect(backoffDelay(0, noJitter, () => 0, cause)).toBe(300_000);
    expect(backoffDelay(0, noJitter, () => 0, cause)).toBe(rateLimitHoldMs(418, 10_000, noJitter));
    expect(backoffDelay(0, { ...noJitter, bannedMs: 0 }, () => 0, cause)).toBe(10_000);
  });

  it('uses Retry-After when the server gives it', () => {
    expect(backoffDelay(0, noJitter, () => 0, { httpStatus: 429, retryAfterMs: 7000 })).toBe(7000);
    expect(backoffDelay(0, noJitter, () => 0, { httpStatus: 418, retryAfterMs: 600_000 })).toBe(
      600_000,
    );
    // never shorter than the exponential delay
    expect(backoffDelay(5, noJitter, () => 0, { httpStatus: 429, retryAfterMs: 10 })).toBe(30_000);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('12', 0)).toBe(12_000);
    expect(parseRetryAfter('0.5', 0)).toBe(500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});
