import {
  ErrorCode,
  parseUpbitStream,
  streamKind,
  UnifeedError,
  type FeedPlugin,
} from '@unifeed/core';
import { parseDepthDiff, parsePartialDepth, parseUpbitOrderbook } from '@unifeed/feed-depth';
import { parseKline, parseUpbitCandle } from '@unifeed/feed-kline';
import {
  parseAggTrade,
  parseBookTicker,
  parseMarkPrice,
  parseMiniTicker,
  parseTicker,
  parseTrade,
  parseUpbitTicker,
  parseUpbitTrade,
} from '@unifeed/feed-price';

type Parse = (payload: unknown, stream: string, venue: string) => unknown;

const PARTIAL_DEPTH = /@depth\d+/;

/** The feed packages' parser for each Binance stream kind `watch` knows. */
const PARSERS: Readonly<Record<string, Parse>> = {
  bookTicker: parseBookTicker,
  ticker: parseTicker,
  miniTicker: parseMiniTicker,
  markPrice: parseMarkPrice,
  aggTrade: parseAggTrade,
  trade: parseTrade,
  kline: parseKline,
  depth: (p, s, v) =>
    PARTIAL_DEPTH.test(s) ? parsePartialDepth(p, s, v) : parseDepthDiff(p, s, v),
};

/** The same for Upbit's types: every `candle.<interval>` has one parser. */
const UPBIT_PARSERS: Readonly<Record<string, Parse>> = {
  ticker: parseUpbitTicker,
  trade: parseUpbitTrade,
  orderbook: parseUpbitOrderbook,
  candle: parseUpbitCandle,
};

function parserOf(stream: string, venue: string): Parse {
  // Upbit names a stream `<type>:<code>` and Binance `<symbol>@<kind>`: each venue's own
  // reading of the name refuses the other's with UNIFEED_INVALID_STREAM.
  const upbit = venue === 'upbit';
  const kind = upbit ? parseUpbitStream(stream).type.split('.')[0]! : streamKind(stream);
  const parsers = upbit ? UPBIT_PARSERS : PARSERS;
  const parse = Object.hasOwn(parsers, kind) ? parsers[kind] : undefined;
  if (parse === undefined) {
    throw new UnifeedError(
      ErrorCode.InvalidStream,
      `unifeed watch has no parser for '${kind}' streams (it has ${Object.keys(parsers).join(', ')})`,
    );
  }
  return parse;
}

/**
 * Any mix of one venue's stream names, each parsed by its feed package into typed events. An
 * all-market array (`!miniTicker@arr`) is parsed element by element into an array of events.
 */
export const typedStreams: FeedPlugin<{ streams: readonly string[] }, unknown> = {
  name: 'watch',
  streams(params, venue) {
    for (const s of params.streams) parserOf(s, venue.name);
    return [...params.streams];
  },
  parse(payload, stream, venue) {
    const parse = parserOf(stream, venue.name);
    return Array.isArray(payload)
      ? payload.map((p: unknown) => parse(p, stream, venue.name))
      : parse(payload, stream, venue.name);
  },
};
