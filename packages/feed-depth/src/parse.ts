import {
  asInteger,
  asText,
  expectType,
  isDecimal,
  object,
  optionalInteger,
  parseError,
} from '@unifeed/core/fields';
import type { DepthDiffEvent, Level, PartialDepthEvent } from './events.js';

/** Most levels one side of a payload may have: Binance's deepest snapshot is 5,000. */
const MAX_LEVELS = 10_000;

/**
 * A side of a payload as levels: an array of `[price, quantity]` decimal strings. The arrays
 * are checked in place and returned as they are, without a copy, because depth is the
 * heaviest payload there is.
 */
export function asLevels(v: unknown, key: string, stream: string): readonly Level[] {
  if (!Array.isArray(v) || v.length > MAX_LEVELS) {
    throw parseError(`field '${key}'`, 'is missing or not an array of levels', stream);
  }
  for (let i = 0; i < v.length; i++) {
    const l: unknown = v[i];
    if (
      !Array.isArray(l) ||
      l.length < 2 ||
      typeof l[0] !== 'string' ||
      typeof l[1] !== 'string' ||
      !isDecimal(l[0]) ||
      !isDecimal(l[1]) ||
      l[0].charCodeAt(0) === 45 ||
      l[1].charCodeAt(0) === 45
    ) {
      throw parseError(`level ${i} of '${key}'`, 'is not [price, quantity]', stream);
    }
  }
  return v as Level[];
}

/** `btcusdt@depth20@100ms` -> `BTCUSDT`. */
export function symbolOfStream(stream: string): string {
  const at = stream.indexOf('@');
  return (at < 0 ? stream : stream.slice(0, at)).toUpperCase();
}

/**
 * A partial book. Spot sends `{lastUpdateId, bids, asks}` with no symbol and no event type;
 * futures sends the diff-event shape (`e: depthUpdate`, `s`, `u`, `b`, `a`).
 */
export function parsePartialDepth(
  payload: unknown,
  stream: string,
  venue: string,
): PartialDepthEvent {
  const p = object(payload, 'partial depth payload', stream);
  if (p.e === undefined) {
    return {
      type: 'partialDepth',
      venue,
      stream,
      symbol: symbolOfStream(stream),
      lastUpdateId: asInteger(p.lastUpdateId, 'lastUpdateId', stream),
      eventTime: undefined,
      bids: asLevels(p.bids, 'bids', stream),
      asks: asLevels(p.asks, 'asks', stream),
    };
  }
  expectType(p, 'depthUpdate', stream);
  return {
    type: 'partialDepth',
    venue,
    stream,
    symbol: p.s === undefined ? symbolOfStream(stream) : asText(p.s, 's', stream),
    lastUpdateId: asInteger(p.u, 'u', stream),
    eventTime: optionalInteger(p, 'E', stream),
    bids: asLevels(p.b, 'b', stream),
    asks: asLevels(p.a, 'a', stream),
  };
}

/** A diff event of either venue; `pu` is present on futures only. */
export function parseDepthDiff(payload: unknown, stream: string, venue: string): DepthDiffEvent {
  const p = object(payload, 'depth diff payload', stream);
  expectType(p, 'depthUpdate', stream);
  const first = asInteger(p.U, 'U', stream);
  const last = asInteger(p.u, 'u', stream);
  if (first > last) throw parseError("field 'U'", "is greater than 'u'", stream);
  return {
    type: 'depthDiff',
    venue,
    stream,
    symbol: asText(p.s, 's', stream),
    eventTime: asInteger(p.E, 'E', stream),
    firstUpdateId: first,
    lastUpdateId: last,
    previousUpdateId: optionalInteger(p, 'pu', stream),
    bids: asLevels(p.b, 'b', stream),
    asks: asLevels(p.a, 'a', stream),
  };
}

/** A REST depth snapshot: `{lastUpdateId, bids, asks}` (futures adds `E`, `T`). */
export interface DepthSnapshot {
  readonly lastUpdateId: number;
  readonly bids: readonly Level[];
  readonly asks: readonly Level[];
}

export function parseSnapshot(body: unknown, symbol: string): DepthSnapshot {
  const what = `${symbol} snapshot`;
  const p = object(body, 'depth snapshot', what);
  return {
    lastUpdateId: asInteger(p.lastUpdateId, 'lastUpdateId', what),
    bids: asLevels(p.bids, 'bids', what),
    asks: asLevels(p.asks, 'asks', what),
  };
}
