import { binanceSpot, binanceUsdm, upbit, type Venue } from '@unifeed/core';
import { InvalidArgumentError } from 'commander';

export type VenueName = 'binance-usdm' | 'binance-spot' | 'upbit';

export const VENUES: readonly VenueName[] = ['binance-usdm', 'binance-spot', 'upbit'];

/** commander parser of `--venue`. */
export function parseVenue(value: string): VenueName {
  if ((VENUES as readonly string[]).includes(value)) return value as VenueName;
  throw new InvalidArgumentError(`one of ${VENUES.join(', ')}`);
}

/** commander parser of a whole number of at least `min`. */
export function wholeNumber(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`a whole number of at least ${min}`);
    }
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
