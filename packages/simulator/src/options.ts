import type { Clock } from '@unifeed/core';
import type { ApiCredentials } from './server/user-data.js';
import type { VenueId, VenueLimits } from './venue.js';

/** Pre-encoded frames of one stream, written as fast as each subscriber's socket drains. */
export interface FirehoseOptions {
  /** The stream to flood, e.g. `btcusdt@bookTicker`. Subscribers get it instead of normal pushes. */
  stream: string;
  /** Distinct frames pre-encoded and cycled. @default 1024 */
  frames?: number | undefined;
  /** Bytes a socket may have buffered before the firehose waits for it. @default 1048576 */
  highWaterBytes?: number | undefined;
}

/** Options of {@link startSimulator}. */
export interface SimulatorOptions {
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number | undefined;
  /** Interface to bind. Tests keep the default. @default '127.0.0.1' */
  host?: string | undefined;
  /** Which dialect to speak: Binance spot or USD-M, or Upbit. @default 'binance-usdm' */
  venue?: VenueId | undefined;
  /**
   * Symbols: a count (the first N of BTCUSDT, ETHUSDT, ..., then SYM001USDT, SYM002USDT, ...)
   * or an explicit list. @default 531
   */
  symbols?: number | readonly string[] | undefined;
  /** Seed of the market; one seed always yields the same market. @default 1 */
  seed?: number | undefined;
  /** Cadence multiplier: 10 pushes every stream ten times as often. @default 1 */
  speed?: number | undefined;
  /** Source of time and every timer; pass a ManualClock to run a day in milliseconds. @default realClock */
  clock?: Clock | undefined;
  /** Overrides of any venue limit (protocol.md numbers). @default the venue's */
  limits?: Partial<VenueLimits> | undefined;
  /**
   * Simulated ms per market step. Cadences that are not a multiple of it are kept on average
   * (a 250 ms stream on 100 ms steps pushes at 300, 500, 800, 1000 ms). @default 50
   */
  tickMs?: number | undefined;
  /**
   * Spread each cadence's pushes evenly over its period, every stream at a fixed offset
   * derived from its name, as a venue fed by many independent producers does; off, every
   * stream of one cadence goes out in the same step. Benchmarks of latency turn it on: in
   * one step thousands of streams arrive as one burst, and the last message of a burst
   * waits for all the others whatever the client does. Streams pushed on every change
   * (trades, bookTicker) still go out with each market step, and a cadence shorter than
   * `tickMs` repeats the same market state. @default false
   */
  spreadPushes?: boolean | undefined;
  /**
   * For benchmarks that time delivery finer than `E`'s whole ms: every regular push that is a
   * JSON object gets a field `"St"` (not Binance's) with this clock's reading once the payload
   * is encoded; its connection's frames go out when the rest of the connection's batch is
   * encoded too. Not on all-market arrays, snapshots, firehose frames or user data. Clients
   * ignore unknown fields. @default none
   */
  sendTime?: (() => number) | undefined;
  /** Book levels per side (at least this many). @default 1000 */
  bookLevels?: number | undefined;
  /** Book steps kept per symbol for `truth.bookAt`. @default 256 */
  truthHistory?: number | undefined;
  /** Diff events kept per symbol in `truth.diffLog`. @default 1000 */
  diffLogSize?: number | undefined;
  /** API keys the user-data endpoints accept. @default one key `sim-api-key` / `sim-secret` */
  apiKeys?: readonly ApiCredentials[] | undefined;
  /**
   * Query parameter that names a client's connection slot. A connection's slot (its key in
   * `stats().connections.bySlot`) is its path plus this parameter's value when the URL has it
   * (`/market/stream?slot=1.7`), else its path alone: a client that sends one value per logical
   * connection (StreamPool's `slotParam`) gets a high-water mark per connection, so a second
   * live socket of one slot shows as `highWater` 2. @default 'slot'
   */
  slotParam?: string | undefined;
  /** Firehose mode for benchmarks. @default off */
  firehose?: FirehoseOptions | undefined;
}

export const DEFAULT_API_KEY: ApiCredentials = { apiKey: 'sim-api-key', secret: 'sim-secret' };
