import { ErrorCode, UnifeedError, type Venue } from '@unifeed/core';
import { quoted } from '@unifeed/core/fields';

/** The depth facts of one venue (protocol.md, "keeping a local order book"). */
export interface DepthDialect {
  /** Push speeds of diff and partial streams; the first is the stream name without a suffix. */
  readonly speeds: readonly DepthSpeed[];
  /** Snapshot endpoint. */
  readonly snapshotPath: string;
  /** Snapshot `limit`s the endpoint accepts. */
  validLimit(limit: number): boolean;
  /** Weight of one snapshot of `limit` levels. */
  snapshotWeight(limit: number): number;
  /**
   * How consecutive diff events chain. `previous`: futures, `pu` must equal the previous
   * event's `u`. `adjacent`: spot, `U` must equal the previous event's `u` + 1.
   */
  readonly chain: 'previous' | 'adjacent';
}

/** How often a depth stream pushes. */
export type DepthSpeed = '100ms' | '250ms' | '500ms' | '1000ms';

const DIALECTS: Readonly<Record<string, DepthDialect>> = {
  'binance-spot': {
    speeds: ['1000ms', '100ms'],
    snapshotPath: '/api/v3/depth',
    validLimit: (limit) => Number.isInteger(limit) && limit >= 1 && limit <= 5000,
    snapshotWeight: (limit) => (limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250),
    chain: 'adjacent',
  },
  'binance-usdm': {
    speeds: ['250ms', '500ms', '100ms'],
    snapshotPath: '/fapi/v1/depth',
    validLimit: (limit) => [5, 10, 20, 50, 100, 500, 1000].includes(limit),
    snapshotWeight: (limit) => (limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20),
    chain: 'previous',
  },
};

export function depthDialect(venue: Venue): DepthDialect {
  const d = Object.hasOwn(DIALECTS, venue.name) ? DIALECTS[venue.name] : undefined;
  if (d === undefined) {
    throw new UnifeedError(ErrorCode.InvalidStream, `${venue.name} has no depth streams`);
  }
  return d;
}

/** `''`, or `@100ms` for a speed other than the venue's default. Refuses a speed it lacks. */
export function speedSuffix(dialect: DepthDialect, speed: DepthSpeed | undefined, venue: Venue) {
  if (speed === undefined || speed === dialect.speeds[0]) return '';
  if (!dialect.speeds.includes(speed)) {
    throw new UnifeedError(
      ErrorCode.InvalidStream,
      `${venue.name} has no depth speed ${quoted(speed)} (it has ${dialect.speeds.join(' ')})`,
    );
  }
  return `@${speed}`;
}
