import { binanceSpot, binanceUsdm, upbit, type Venue } from '@unifeed/core';
import { InvalidArgumentError } from 'commander';

export type VenueName = 'binance-usdm' | 'binance-spot' | 'upbit';

export const VENUES: readonly VenueName[] = ['binance-usdm', 'binance-spot', 'upbit'];

/** commander parser of `--venue`. */
export function parseVenue(value: string): VenueName {
  if ((VENUES as readonly string[]).includes(value)) return value as VenueName;
  throw new InvalidArgumentError(`one of ${VENUES.join(', ')}`);
}

/** commander parser of a whole number of at least `min` (and at most `max`). */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    // Number('') is 0: an empty value (`--metrics-port ""`) would pass as 0.
    const n = value.trim() === '' ? NaN : Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER
          ? `a whole number of at least ${min}`
          : `a whole number from ${min} to ${max}`,
      );
    }
    return n;
  };
}

/** A commander parser for a number above 0 and at most `max`, fractions allowed. */
export function positiveNumber(max: number) {
  return (value: string): number => {
    const n = value.trim() === '' ? NaN : Number(value);
    if (!(n > 0 && n <= max)) throw new InvalidArgumentError(`a number above 0, at most ${max}`);
    return n;
  };
}

/**
 * The venue, pointed at `url` (a simulator, testnet or proxy) when given. `url` is a base
 * (`ws://127.0.0.1:8080`); the REST base defaults to the same host over http(s).
 */
export function venueFor(name: VenueName, url?: string, restUrl?: string): Venue {
  const rest = restUrl ?? (url === undefined ? undefined : url.replace(/^ws/, 'http'));
  const options = { wsUrl: url, restUrl: rest };
  if (name === 'upbit') return upbit(options);
  return name === 'binance-spot' ? binanceSpot(options) : binanceUsdm(options);
}
