import { ErrorCode, streamKind, UnifeedError, type FeedPlugin } from '@unifeed/core';
import { parseDepthDiff, parsePartialDepth } from '@unifeed/feed-depth';
import { parseKline } from '@unifeed/feed-kline';
import {
  parseAggTrade,
  parseBookTicker,
  parseMarkPrice,
  parseMiniTicker,
  parseTicker,
  parseTrade,
} from '@unifeed/feed-price';

type Parse = (payload: unknown, stream: string, venue: string) => unknown;

const PARTIAL_DEPTH = /@depth\d+/;

/** The feed packages' parser for each stream kind `watch` knows. */
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

function parserOf(stream: string): Parse {
  const kind = streamKind(stream);
  const parse = Object.hasOwn(PARSERS, kind) ? PARSERS[kind] : undefined;
  if (parse === undefined) {
    throw new UnifeedError(
      ErrorCode.InvalidStream,
      `unifeed watch has no parser for '${kind}' streams (it has ${Object.keys(PARSERS).join(', ')})`,
    );
  }
  return parse;
}

/**
 * Any mix of stream names, each parsed by its feed package into typed events. An all-market
 * array (`!miniTicker@arr`) is parsed element by element into an array of events.
 */
export const typedStreams: FeedPlugin<{ streams: readonly string[] }, unknown> = {
  name: 'watch',
  streams(params) {
    for (const s of params.streams) parserOf(s);
    return [...params.streams];
  },
  parse(payload, stream, venue) {
    const parse = parserOf(stream);
    return Array.isArray(payload)
      ? payload.map((p: unknown) => parse(p, stream, venue.name))
      : parse(payload, stream, venue.name);
  },
};
