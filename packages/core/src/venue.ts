import { requirePositiveInteger, withDefaults, type PartialOptions } from './options.js';
import type { RawFrame } from './transport.js';

/** The numbers a venue imposes. Every one is a setting: exchanges change them. */
export interface VenueLimits {
  /** Most streams one connection may carry. */
  streamsPerConnection: number;
  /** Most stream names one subscribe or unsubscribe request may carry. */
  paramsPerRequest: number;
  /** Inbound control messages (requests, pings, pongs) the server accepts per second per connection. */
  controlMessagesPerSecond: number;
  /**
   * The same count over a minute, for venues with a second window (Upbit: 100).
   * @default no per-minute limit
   */
  controlMessagesPerMinute?: number;
  /** The server disconnects a connection this old. */
  connectionLifetimeMs: number;
  /** Connection attempts allowed per `connectionAttemptWindowMs`, per IP. */
  connectionAttempts: number;
  connectionAttemptWindowMs: number;
  /** REST request weight allowed per minute per IP (`x-mbx-used-weight-1m` counts it). */
  restWeightPerMinute: number;
}

/**
 * A venue's limits with the caller's overrides (`undefined` keeps the venue's figure), each
 * checked: a count of 0 or NaN would pack no stream or send no request.
 */
export function venueLimits(
  defaults: VenueLimits,
  given?: PartialOptions<VenueLimits>,
): VenueLimits {
  const limits = withDefaults(defaults, given, 'limits');
  for (const [name, value] of Object.entries(limits)) {
    if (value !== undefined) requirePositiveInteger(`limits.${name}`, value as number);
  }
  return Object.freeze(limits);
}

/** How a venue wants to be pinged. */
export type HeartbeatStyle =
  | { style: 'frame' }
  /**
   * The venue's application ping, sent instead of ping frames: its answer comes from the
   * venue's application, not from whatever terminates the socket in front of it, so it proves
   * more (Upbit: `PING` -> `{"status":"UP"}`).
   */
  | { style: 'message'; message: string };

/** What an inbound message is, as far as the pool cares. */
export type Classified =
  /** Market or account data of one stream. */
  | { kind: 'data'; stream: string; payload: unknown }
  /** The answer to a request with this id. */
  | { kind: 'response'; id: number; result: unknown }
  /**
   * A request failed (`id` null when the server could not read one, or names none: Upbit).
   * `code` is the venue's number (Binance `2`) or name (Upbit `INVALID_PARAM`).
   */
  | { kind: 'error'; id: number | null; code: number | string; msg: string }
  /** The server announced it will go away (Binance `serverShutdown`). */
  | { kind: 'shutdown' }
  | { kind: 'pong' }
  | { kind: 'unknown' };

/** A subscription change for one connection, as the pool computed it. */
export interface SubscriptionChange {
  subscribe: readonly string[];
  unsubscribe: readonly string[];
  /** The connection's whole set after the change (for venues where a request replaces the set). */
  all: readonly string[];
}

/** One request frame and what it asks for. */
export interface VenueRequest {
  id: number;
  /**
   * The text to send. Null when the venue has no way to say the change (Upbit cannot
   * subscribe to nothing): it takes effect locally, and what the server keeps sending is
   * counted as unrouted until the connection closes.
   */
  frame: string | null;
  /**
   * `subscribe` and `unsubscribe` add or remove `streams`; `replace` makes `streams` the
   * connection's whole set (Upbit: every request replaces the set).
   */
  op: 'subscribe' | 'unsubscribe' | 'replace';
  streams: readonly string[];
}

/**
 * How a venue answers requests. `id`: every request gets an answer carrying its id (Binance);
 * an error without one answers the request in flight only when its code is one of
 * `unreadCodes`, those the venue sends when it could not read a request, and so its id. Any
 * other names no request (a rate-limit warning), and taken for the one in flight it would
 * refuse a stream for good. `errors-only`: only a refusal comes back, naming no request
 * (Upbit); a request counts as accepted once data of a stream it added arrives, or when
 * `settleMs` pass without a refusal.
 */
export type VenueAnswers =
  | {
      style: 'id';
      /**
       * Codes of the errors without an id that answer the request in flight: those the venue
       * sends for a request it could not read (Binance: 0 to 3). Any other id-less error is
       * counted as unexpected and answers nothing. @default none
       */
      unreadCodes?: readonly (number | string)[];
    }
  | { style: 'errors-only'; settleMs: number };

/**
 * An exchange dialect, as data plus small pure functions. The pool knows nothing of any
 * exchange; everything that differs between venues is here.
 */
export interface Venue {
  /** e.g. `binance-spot`, `binance-usdm`. Events carry it. */
  readonly name: string;
  readonly limits: Readonly<VenueLimits>;
  readonly heartbeat: HeartbeatStyle;
  /** @default { style: 'id' } */
  readonly answers?: VenueAnswers;
  /** REST base URL (scheme, host, port). */
  readonly restUrl: string;
  /**
   * WebSocket base URL (scheme, host, port): which deployment of the venue the connections go
   * to (production, a testnet, a simulator). The process's connection-attempt budget is one per
   * venue name and this URL's host ({@link venueAttemptLimiter}), so a testnet's ban holds no
   * production connection (the host name; on the loopback the origin, so that each simulator
   * is its own). @default none: one budget for every venue of the name
   */
  readonly wsUrl?: string;
  /**
   * The stream group a stream belongs to. Connections never mix groups, so each group has
   * its URL. Throws `UNIFEED_INVALID_STREAM` for a stream the venue does not have.
   */
  group(stream: string): string;
  /** The URL of a connection for one group, without streams (they are subscribed by request). */
  url(group: string): string;
  /**
   * The request frames that apply a change; ids come from `nextId`. Chunked by
   * `paramsPerRequest`. The pool sends the first, waits for its answer and asks again.
   */
  requests(change: SubscriptionChange, nextId: () => number): VenueRequest[];
  /** Classify a decoded message. Must not throw. */
  classify(message: unknown): Classified;
  /** Cheap stream name of a raw frame, without parsing it (conflation and per-stream drop counts). */
  streamKey(frame: RawFrame): string;
  /**
   * How the venue's frames decode, where plain JSON would lose something: Upbit writes
   * decimals and trade ids as numbers past what a double holds, so its numbers of 16 digits or
   * more are kept as text. A pool's own `decode` option wins.
   * @default `decodeJson`
   */
  readonly decode?: (frame: RawFrame) => unknown;
  /**
   * A number that increases with every message of a stream (update id, trade id, event
   * time) within its {@link sequenceScope}, used to deliver once what two connections both
   * received. Undefined when unknown.
   */
  sequence(payload: unknown): number | undefined;
  /**
   * What identifies a message where `sequence` cannot: Upbit's trades, whose unique
   * `sequential_id` comes in no promised order (`sequence` undefined), and its tickers, books
   * and candles, two of which may share a `timestamp` (their `sequence`). In a rotation's
   * overlap a message without a sequence, or with the last delivered one, is a repeat if a
   * message of its key was delivered; without a sequence, no hole can be told either.
   * @default none: an equal sequence is a repeat, and without one both copies are delivered
   */
  repeatKey?(payload: unknown): string | undefined;
  /**
   * What a message's `sequence` counts within, for a stream that carries several counters:
   * the symbol of an all-market stream's message (`!bookTicker` sends each symbol's own update
   * ids). Messages of two scopes are never taken for repeats of each other.
   * @default undefined: one scope, the whole stream
   */
  sequenceScope?(payload: unknown): string | undefined;
}
