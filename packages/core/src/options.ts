import { MAX_TIMER_MS } from './clock.js';
import { ErrorCode, UnifeedError } from './errors.js';
import { quoted } from './fields/index.js';
import type { StreamPool } from './stream-pool.js';
import type { Venue } from './venue.js';

/**
 * Options of a group `T` as a caller gives them: every field may be left out or given as
 * `undefined`, which keeps its default (what {@link withDefaults} reads). `Partial<T>` would
 * refuse `undefined` under `exactOptionalPropertyTypes`, so a consumer could not pass a value
 * that may be unset (`{ intervalMs: config.pingMs }`).
 */
export type PartialOptions<T> = { [K in keyof T]?: T[K] | undefined };

/**
 * `defaults` with the fields `options` sets. A field set to `undefined` keeps its default, so
 * that `{ intervalMs: config.pingMs }` without a `pingMs` cannot switch a heartbeat off: a
 * plain spread would copy the `undefined` over the default. `options` that are given but no
 * object (`null` included) are refused, naming them as `name`.
 */
export function withDefaults<T extends object>(
  defaults: Readonly<T>,
  options?: PartialOptions<NoInfer<T>>,
  name = 'options',
): T {
  // `null`, a number or an array from an untyped caller would read as no options at all: every
  // figure the default, and nothing said.
  if (options !== undefined) requireObject(`\`${name}\``, options);
  const out = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(options ?? {})) {
    if (value !== undefined) out[key] = value;
  }
  return out as T;
}

/**
 * `value`, or `fallback` when it is left out (`undefined`). Not `??`: a `null` from an untyped
 * caller must reach the option's check and be refused, not quietly become the default.
 */
export function given<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
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

/**
 * Refuse an option that must be a string when given (a URL, a prefix): `null` would otherwise
 * be read as left out, and a venue's URL would point at the production exchange. Quotes no
 * value: a URL may carry credentials.
 */
export function requireOptionalString(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'string') {
    throw new UnifeedError(ErrorCode.InvalidOption, `\`${name}\` must be a string`);
  }
}

/**
 * `value` as an object (parameters, options): an untyped caller's `null`, array or string
 * would otherwise be a TypeError from deep inside, or silently read as no options. With
 * `optional`, `undefined` stands for `{}`.
 */
export function requireObject<T extends object>(
  name: string,
  value: T | undefined,
  optional = false,
): T {
  if (value === undefined && optional) return {} as T;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `${name} must be an object, not ${Array.isArray(value) ? 'an array' : quoted(value)}`,
    );
  }
  return value;
}

/**
 * `list` (of symbols, codes), refused unless a non-empty array; returned without holes, which
 * `map` would skip and a pool would get as a stream named `undefined`.
 */
export function requireList<T>(name: string, list: readonly T[]): T[] {
  if (!Array.isArray(list) || list.length === 0) {
    throw new UnifeedError(ErrorCode.InvalidOption, `\`${name}\` must be a non-empty array`);
  }
  return Array.from(list);
}

/** Refuse what is no `StreamPool` at a plugin's call, before it fails inside as a TypeError. */
export function requirePool(pool: StreamPool): void {
  const p = pool as Partial<StreamPool> | null | undefined;
  if (
    typeof p !== 'object' ||
    p === null ||
    typeof p.observe !== 'function' ||
    typeof p.venue?.name !== 'string'
  ) {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `\`pool\` must be a StreamPool, not ${quoted(pool)}`,
    );
  }
}

/** What a pool calls on every venue; the optional ones are checked only when given. */
const VENUE_METHODS: readonly (keyof Venue)[] = [
  'group',
  'url',
  'requests',
  'classify',
  'streamKey',
  'sequence',
];
const VENUE_OPTIONAL_METHODS: readonly (keyof Venue)[] = ['decode', 'repeatKey', 'sequenceScope'];

/**
 * Refuse a `venue` that is no `Venue` (`null`, a venue's name, an object short of a part):
 * the pool reads its name, limits and heartbeat as it is built, and calls its functions on
 * every subscription and message, where a missing one would be a TypeError inside a socket's
 * event.
 */
export function requireVenue(venue: unknown): void {
  const v = venue as Record<string, unknown> | null | undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `\`venue\` must be a Venue, not ${Array.isArray(v) ? 'an array' : quoted(v)}`,
    );
  }
  const isObject = (x: unknown) => typeof x === 'object' && x !== null;
  const missing =
    typeof v.name !== 'string'
      ? 'name'
      : !isObject(v.limits)
        ? 'limits'
        : !isObject(v.heartbeat)
          ? 'heartbeat'
          : undefined;
  if (missing !== undefined) {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `\`venue\` must be a Venue (it has no ${missing})`,
    );
  }
  const optional = VENUE_OPTIONAL_METHODS.filter((m) => v[m] !== undefined);
  requireMethods('venue', 'a Venue', v, [...VENUE_METHODS, ...optional]);
}

/**
 * Refuse a `clock` that is given but is no `Clock`: a missing method would be a
 * TypeError later, in a timer or a socket's event, where it stops the component for good.
 * Left out (`undefined`), the real clock is used; `null` is refused, not read as left out.
 */
export function requireClock(clock: unknown): void {
  requireMethods('clock', 'a Clock', clock, ['now', 'monotonic', 'setTimeout', 'clearTimeout']);
}

/**
 * Refuse a `logger` that is given but is no `Logger`: every call goes through `guardedLogger`,
 * which swallows a throw, so a wrong one (`42`, a config's `null`) would silence every line
 * without a word.
 */
export function requireLogger(logger: unknown): void {
  requireMethods('logger', 'a Logger', logger, [
    'trace',
    'debug',
    'info',
    'warn',
    'error',
    'child',
  ]);
}

/**
 * Refuse a `rest` that is given but is no `RestClient`: a wrong one would fail only at its
 * first request (an order book's snapshot, a listen key), after `start()`, inside a timer.
 */
export function requireRestClient(rest: unknown): void {
  requireMethods('rest', 'a RestClient', rest, ['request']);
}

/**
 * Refuse an `attemptLimiter` that is given but is no limiter: a wrong one would be a TypeError
 * at the first connection attempt, inside the reconnect loop, or at the first handshake
 * answered 429 or 418 (`holdFor`).
 */
export function requireLimiter(limiter: unknown): void {
  requireMethods('attemptLimiter', 'a SlidingWindowLimiter', limiter, ['tryAcquire', 'holdFor']);
}

/** Refuse `value` (option `name`) unless left out or an object with every one of `methods`. */
function requireMethods(name: string, what: string, value: unknown, methods: string[]): void {
  if (value === undefined) return;
  const v = value as Record<string, unknown> | null;
  const missing =
    typeof v === 'object' && v !== null
      ? methods.find((m) => typeof v[m] !== 'function')
      : methods[0];
  if (missing !== undefined) {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `\`${name}\` must be ${what} (it has no ${missing}())`,
    );
  }
}
