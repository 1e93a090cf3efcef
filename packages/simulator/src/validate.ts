import { isNumberIn, MAX_TIMER_MS } from '@unifeed/core';
import { SimulatorError, SimulatorErrorCode } from './errors.js';
import type { SimulatorOptions } from './options.js';
import type { VenueId, VenueLimits } from './venue.js';

/** Most symbols one simulator serves, as a count or a list. */
export const MAX_SYMBOLS = 10_000;
/** Fastest cadence multiplier: one market step per ms is the timer's floor anyway. */
export const MAX_SPEED = 1000;
/** Longest market step: a minute. */
export const MAX_TICK_MS = 60_000;

const VENUES: readonly VenueId[] = ['binance-usdm', 'binance-spot', 'upbit'];

/** Limits for which 0 means "none" / "never" / "disabled" (docs/simulator.md). */
const ZERO_ALLOWED: ReadonlySet<string> = new Set([
  'messagesPerMinute',
  'idleTimeoutMs',
  'lifetimeMs',
  'pingIntervalMs',
]);
const LIMIT_KEYS: ReadonlySet<string> = new Set<keyof VenueLimits>([
  'streamsPerConnection',
  'messagesPerSecond',
  'messagesPerMinute',
  'idleTimeoutMs',
  'connectionAttempts',
  'connectionWindowMs',
  'lifetimeMs',
  'pingIntervalMs',
  'pongTimeoutMs',
  'pongMustEcho',
  'restWeightPerMinute',
  'restBanAfter429s',
  'restBanMs',
  'listenKeyValidityMs',
  'maxBufferedBytes',
]);

function invalid(name: string, want: string, value: unknown): SimulatorError {
  const shown = typeof value === 'string' ? `'${value}'` : String(value);
  return new SimulatorError(
    SimulatorErrorCode.InvalidOption,
    `${name} must be ${want}, got ${shown.slice(0, 60)}`,
  );
}

/** `value` (when not undefined) a number in [min, max]; an integer when `integer`. */
function range(name: string, value: unknown, min: number, max: number, integer = true): void {
  if (value !== undefined && !isNumberIn(value, min, max, integer)) {
    throw invalid(name, `${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`, value);
  }
}

/** A positive finite number at most `max` (undefined passes). */
function positive(name: string, value: unknown, max: number): void {
  if (value !== undefined && !(isNumberIn(value, 0, max) && (value as number) > 0)) {
    throw invalid(name, `a positive number at most ${max}`, value);
  }
}

function text(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) {
    throw invalid(name, 'a non-empty string', value);
  }
}

function kind(name: string, value: unknown, type: 'boolean' | 'function' | 'object'): void {
  if (value === undefined) return;
  const ok =
    type === 'object' ? typeof value === 'object' && value !== null : typeof value === type;
  if (!ok) throw invalid(name, `a${type === 'object' ? 'n' : ''} ${type}`, value);
}

/**
 * Checks every option of `startSimulator` before anything is built or listens; throws a
 * {@link SimulatorError} `UNIFEED_SIM_INVALID_OPTION` naming the first bad one.
 */
export function validateOptions(o: SimulatorOptions): void {
  kind('options', o, 'object');
  range('port', o.port, 0, 65_535);
  text('host', o.host);
  if (o.venue !== undefined && !VENUES.includes(o.venue)) {
    throw invalid('venue', `one of ${VENUES.join(', ')}`, o.venue);
  }
  const symbols: unknown = o.symbols;
  if (Array.isArray(symbols)) {
    if (symbols.length < 1 || symbols.length > MAX_SYMBOLS) {
      throw invalid('symbols', `a list of 1 to ${MAX_SYMBOLS} names`, `${symbols.length} names`);
    }
    const seen = new Set<string>();
    for (const s of symbols as unknown[]) {
      text('symbols[]', s ?? null);
      const upper = (s as string).toUpperCase();
      if (seen.has(upper)) throw invalid('symbols', 'a list without repeats', s);
      seen.add(upper);
    }
  } else {
    range('symbols', symbols, 1, MAX_SYMBOLS);
  }
  range('seed', o.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  positive('speed', o.speed, MAX_SPEED);
  positive('tickMs', o.tickMs, MAX_TICK_MS);
  kind('clock', o.clock, 'object');
  kind('spreadPushes', o.spreadPushes, 'boolean');
  kind('sendTime', o.sendTime, 'function');
  range('bookLevels', o.bookLevels, 1, 100_000);
  range('truthHistory', o.truthHistory, 1, 100_000);
  range('diffLogSize', o.diffLogSize, 1, 1_000_000);
  if (o.apiKeys !== undefined) {
    if (!Array.isArray(o.apiKeys)) throw invalid('apiKeys', 'a list', o.apiKeys);
    for (const k of o.apiKeys as unknown[]) {
      kind('apiKeys[]', k ?? null, 'object');
      text('apiKeys[].apiKey', (k as { apiKey?: unknown }).apiKey ?? null);
      text('apiKeys[].secret', (k as { secret?: unknown }).secret ?? null);
    }
  }
  text('slotParam', o.slotParam);
  kind('limits', o.limits, 'object');
  for (const [key, value] of Object.entries(o.limits ?? {})) {
    const name = `limits.${key}`;
    if (!LIMIT_KEYS.has(key)) throw invalid('limits', 'VenueLimits fields only', key);
    if (key === 'pongMustEcho') kind(name, value ?? null, 'boolean');
    else {
      const max = key.endsWith('Ms') ? MAX_TIMER_MS : Number.MAX_SAFE_INTEGER;
      range(name, value ?? null, ZERO_ALLOWED.has(key) ? 0 : 1, max);
    }
  }
  kind('firehose', o.firehose, 'object');
  if (o.firehose !== undefined) {
    text('firehose.stream', o.firehose.stream ?? null);
    range('firehose.frames', o.firehose.frames, 1, 100_000);
    range('firehose.highWaterBytes', o.firehose.highWaterBytes, 1, Number.MAX_SAFE_INTEGER);
  }
}
