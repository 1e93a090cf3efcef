import {
  ErrorCode,
  requireList,
  requireObject,
  requirePool,
  UnifeedError,
  type FeedPlugin,
  type StreamPool,
} from '@unifeed/core';
import { streamSymbol } from '@unifeed/core/fields';
import type { Observable } from 'rxjs';
import { depthDialect, speedSuffix, type DepthSpeed } from './dialect.js';
import type { DepthDiffEvent, PartialDepthEvent } from './events.js';
import { parseDepthDiff, parsePartialDepth } from './parse.js';

/** Parameters of {@link partialDepth}. */
export interface PartialDepthParams {
  /** Symbols in any case; at least one. */
  readonly symbols: readonly string[];
  /** Levels per side. */
  readonly levels: 5 | 10 | 20;
  /**
   * Push interval. Spot has `1000ms` and `100ms`; futures `250ms`, `500ms` and `100ms`.
   * @default the venue's default speed (spot `1000ms`, futures `250ms`)
   */
  readonly speed?: DepthSpeed | undefined;
}

/** Parameters of {@link depthDiff}. */
export interface DepthDiffParams {
  readonly symbols: readonly string[];
  /** @default the venue's default speed (spot `1000ms`, futures `250ms`) */
  readonly speed?: DepthSpeed | undefined;
}

const LEVELS = new Set([5, 10, 20]);

function symbols(list: readonly string[]): string[] {
  return requireList('symbols', list).map((s) => streamSymbol(s));
}

/** The push interval a stream name ends with, or the venue's default. */
function cadenceOf(stream: string, defaultSpeed: DepthSpeed): number {
  const m = /@(\d+)ms$/.exec(stream);
  return Number(m === null ? defaultSpeed.slice(0, -2) : m[1]);
}

/**
 * The top 5, 10 or 20 levels of each symbol, replaced whole on every push (no local book to
 * keep). Spot payloads carry no symbol: it comes from the stream name.
 */
export const partialDepth: FeedPlugin<PartialDepthParams, PartialDepthEvent> = {
  name: 'partialDepth',
  streams(params, venue) {
    const d = depthDialect(venue);
    requireObject('the parameters of partialDepth', params);
    if (!LEVELS.has(params.levels)) {
      throw new UnifeedError(
        ErrorCode.InvalidStream,
        `partial depth has 5, 10 or 20 levels, not ${JSON.stringify(params.levels)}`,
      );
    }
    const suffix = speedSuffix(d, params.speed, venue);
    return symbols(params.symbols).map((s) => `${s}@depth${params.levels}${suffix}`);
  },
  parse: (payload, stream, venue) => parsePartialDepth(payload, stream, venue.name),
  cadenceMs: (stream, venue) => cadenceOf(stream, depthDialect(venue).speeds[0]!),
};

/**
 * Raw diff events, unchecked: for users who keep their own book from their own snapshots.
 * {@link bookDeltas} is the checked alternative.
 */
export const depthDiff: FeedPlugin<DepthDiffParams, DepthDiffEvent> = {
  name: 'depthDiff',
  streams(params, venue) {
    requireObject('the parameters of depthDiff', params);
    const suffix = speedSuffix(depthDialect(venue), params.speed, venue);
    return symbols(params.symbols).map((s) => `${s}@depth${suffix}`);
  },
  parse: (payload, stream, venue) => parseDepthDiff(payload, stream, venue.name),
  sequence: (e) => e.lastUpdateId,
  // Diff events come only when the book changes: a quiet market may be silent for long.
};

/** Partial books of `params` on `pool`: `pool.observe(partialDepth, params)`. */
export function partialDepths(
  pool: StreamPool,
  params: PartialDepthParams,
): Observable<PartialDepthEvent> {
  requirePool(pool);
  return pool.observe(partialDepth, params);
}
