import { MAX_TIMER_MS } from './clock.js';
import { ErrorCode, UnifeedError } from './errors.js';

/**
 * `defaults` with the fields `options` sets. A field set to `undefined` keeps its default, so
 * that `{ intervalMs: config.pingMs }` without a `pingMs` cannot switch a heartbeat off: a
 * plain spread would copy the `undefined` over the default.
 */
export function withDefaults<T extends object>(defaults: Readonly<T>, options?: Partial<T>): T {
  const out = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(options ?? {})) {
    if (value !== undefined) out[key] = value;
  }
  return out as T;
}

/**
 * Whether `value` is a finite number from `min` to `max`, and a safe integer when `integer`:
 * the one test behind every package's range checks, whichever error each throws.
 */
export function isNumberIn(value: unknown, min: number, max: number, integer = false): boolean {
  return (
    typeof value === 'number' &&
    (integer ? Number.isSafeInteger(value) : Number.isFinite(value)) &&
    value >= min &&
    value <= max
  );
}

/** Refuse an option that must be a positive integer (a count, a length, a capacity). */
export function requirePositiveInteger(name: string, value: number): void {
  if (!isNumberIn(value, 1, Number.MAX_SAFE_INTEGER, true)) {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `\`${name}\` must be a positive integer, not ${String(value)}`,
    );
  }
}

/**
 * Refuse an option that must be a finite number from `min` to `max` (a duration, a factor, a
 * share). NaN, and a string where a number belongs, are refused too: they turn timers into
 * 1 ms loops.
 */
export function requireInRange(name: string, value: number, min: number, max = Infinity): void {
  if (!isNumberIn(value, min, max)) {
    const range = max === Infinity ? `at least ${min}` : `from ${min} to ${max}`;
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `\`${name}\` must be a number ${range}, not ${String(value)}`,
    );
  }
}

/**
 * Refuse a duration in ms below `min` or over {@link MAX_TIMER_MS} (24.8 days): a host timer
 * runs a longer one at once, so a longer one is clamped, and a value that large is a unit
 * mistake (seconds given as ms times 1000, say) better told at once than found in a month.
 */
export function requireDuration(name: string, value: number, min: number): void {
  requireInRange(name, value, min, MAX_TIMER_MS);
}

/**
 * Refuse an option that must be a function when given (an injected clock reading, a
 * constructor, a hook): a wrong one would throw a TypeError later, inside a socket's event or
 * a timer, where it stops the feed for good.
 */
export function requireFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new UnifeedError(ErrorCode.InvalidOption, `\`${name}\` must be a function`);
  }
}
