import {
  asInteger,
  asSymbolOfStream,
  asUnsignedInteger,
  expectType,
  isUnsignedDecimal,
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
      !isUnsignedDecimal(l[0]) ||
      !isUnsignedDecimal(l[1])
    ) {
      throw parseError(`level ${i} of '${key}'`, 'is not [price, quantity]', stream);
    }
  }
  return v as Level[];
}

/**
 * `levels` best first: bids by falling price, asks by rising. Venues differ in the order they
 * send (protocol.md: "Sort; never assume order"); a side already in order, the usual case, is
 * returned as it is, without a copy.
 */
export function bestFirst(levels: readonly Level[], side: 'bids' | 'asks'): readonly Level[] {
  const dir = side === 'bids' ? -1 : 1;
  for (let i = 1; i < levels.length; i++) {
    if (dir * (Number(levels[i]![0]) - Number(levels[i - 1]![0])) < 0) {
      return [...levels].sort((a, b) => dir * (Number(a[0]) - Number(b[0])));
    }
  }
  return levels;
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
      lastUpdateId: asUnsignedInteger(p.lastUpdateId, 'lastUpdateId', stream),
      eventTime: undefined,
      bids: bestFirst(asLevels(p.bids, 'bids', stream), 'bids'),
      asks: bestFirst(asLevels(p.asks, 'asks', stream), 'asks'),
    };
  }
  expectType(p, 'depthUpdate', stream);
  return {
    type: 'partialDepth',
    venue,
    stream,
    symbol: p.s === undefined ? symbolOfStream(stream) : asSymbolOfStream(p.s, 's', stream),
    lastUpdateId: asUnsignedInteger(p.u, 'u', stream),
    eventTime: optionalInteger(p, 'E', stream),
    bids: bestFirst(asLevels(p.b, 'b', stream), 'bids'),
    asks: bestFirst(asLevels(p.a, 'a', stream), 'asks'),
  };
}

/** A diff event of either venue; `pu` is present on futures only. */
export function parseDepthDiff(payload: unknown, stream: string, venue: string): DepthDiffEvent {
  const p = object(payload, 'depth diff payload', stream);
  expectType(p, 'depthUpdate', stream);
  // Update ids count up from 0: a negative one is no real id, yet a run of them would chain.
  const first = asUnsignedInteger(p.U, 'U', stream);
  const last = asUnsignedInteger(p.u, 'u', stream);
  if (first > last) throw parseError("field 'U'", "is greater than 'u'", stream);
  const pu = p.pu;
  return {
    type: 'depthDiff',
    venue,
    stream,
    symbol: asSymbolOfStream(p.s, 's', stream),
    eventTime: asInteger(p.E, 'E', stream),
    firstUpdateId: first,
    lastUpdateId: last,
    previousUpdateId:
      pu === undefined || pu === null ? undefined : asUnsignedInteger(pu, 'pu', stream),
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
    lastUpdateId: asUnsignedInteger(p.lastUpdateId, 'lastUpdateId', what),
    bids: asLevels(p.bids, 'bids', what),
    asks: asLevels(p.asks, 'asks', what),
  };
}
