import type { Venue } from './venue.js';

/**
 * A feed: data plus pure functions. It names the streams for its parameters and parses
 * their payloads; sockets, heartbeats and subscriptions stay in the pool.
 */
export interface FeedPlugin<Params, Event> {
  /** For errors and stats, e.g. `kline`. */
  readonly name: string;
  /**
   * The stream names for `params` on `venue`. Throws a `UnifeedError`
   * (`UNIFEED_INVALID_STREAM`) for anything the venue does not have, before anything
   * reaches the network.
   */
  streams(params: Params, venue: Venue): string[];
  /**
   * Parse one payload of `stream`. Throws on a malformed payload; the pool counts it, reports
   * `UNIFEED_PARSE` on its status stream and skips it. Called once per message however many
   * subscribers the stream has.
   */
  parse(payload: unknown, stream: string, venue: Venue): Event;
  /**
   * The normal interval between messages of `stream`, ms, for streams with a fixed cadence
   * (klines, tickers, mark price). A stream silent for far longer is resubscribed.
   * Undefined for event-driven streams (trades, book tickers), which may be silent for long.
   */
  cadenceMs?(stream: string, venue: Venue): number | undefined;
  /**
   * A number that grows with every event of one stream (an update or trade id). An event
   * whose sequence equals the one delivered just before it on the same stream is the same
   * message sent twice (a venue or proxy replaying after a hiccup): it is delivered once and
   * counted in `duplicatesSuppressed`. Read after `parse`, so a malformed frame that repeats
   * an id is a parse error, never taken for a repeat, and never hides the good one after it.
   * Absent (or undefined for an event) where there is no such id: tickers, whose event time
   * is not unique. A throw here is counted as a parse failure, like one from `parse`.
   */
  sequence?(event: Event): number | undefined;
}
