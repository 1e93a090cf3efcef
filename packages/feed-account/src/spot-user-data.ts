import {
  backoffOptions,
  decodeLossless,
  ErrorCode,
  given,
  requireDuration,
  requireInRange,
  secureBase,
  UnifeedError,
  type FeedStatus,
  type UnifiedFeedStats,
  requireOptionalString,
} from '@unifeed/core';
import { object } from '@unifeed/core/fields';
import type { Observable } from 'rxjs';
import { AccountOutput, type AccountEventCounts } from './account-output.js';
import {
  withoutValue,
  commonSettings,
  requireKey,
  type AccountFeedOptions,
  type CommonSettings,
} from './connection-options.js';
import { eventName } from './envelope.js';
import type { AccountError } from './errors.js';
import type { SpotAccountEvent, SpotBalance, SpotOrderUpdate } from './events.js';
import { Link } from './link.js';
import { DEFAULT_LISTEN_KEY_RETRY } from './listen-key.js';
import { parseSpotEvent } from './parse-spot.js';
import { spotEventIdentity } from './repeats.js';
import { StateMap } from './state-map.js';
import { fromFeedStatus, type AccountFeedState, type AccountStatus } from './status.js';
import { WsApiSubscription } from './ws-api-subscription.js';

/** Binance refuses a larger `recvWindow`. */
const MAX_RECV_WINDOW_MS = 60_000;

/** Options of {@link spotUserData}. */
export interface SpotUserDataOptions extends AccountFeedOptions {
  /**
   * The API secret that signs the subscription (HMAC-SHA256). Used only to sign; never sent,
   * logged, reported or put in an error.
   */
  apiSecret: string;
  /** WebSocket API base; the feed connects to `<wsUrl>/ws-api/v3`. @default 'wss://ws-api.binance.com:443' */
  wsUrl?: string | undefined;
  /**
   * A subscribe request unanswered this long replaces the connection; from 1 to 2^31 - 1
   * (a timer's range). @default 10000
   */
  requestTimeoutMs?: number | undefined;
  /**
   * `recvWindow` of the signed request, ms, from 1 to 60000 (the venue's limit); the
   * venue's default (5000) when unset. @default unset
   */
  recvWindow?: number | undefined;
}

/** Counters of a spot account feed. Nothing in here is secret. */
export interface SpotUserDataStats extends AccountEventCounts {
  venue: 'binance-spot';
  state: AccountFeedState;
  /** Subscribe requests sent (one per connection, plus retries and resubscriptions). */
  subscribeRequests: number;
  /**
   * The venue's clock minus this one, ms, measured when the venue refused a timestamp (-1021);
   * requests are signed with it. 0 until then.
   */
  clockOffsetMs: number;
  /** Times the venue ended the subscription (`eventStreamTerminated`). */
  terminations: number;
  /** Event frames for a subscription that is not ours (an old one): ignored. */
  strayEvents: number;
  /**
   * Requests (subscribe, or `time` after a refused timestamp) unanswered within
   * `requestTimeoutMs`: each was reported as `UNIFEED_SUBSCRIBE_TIMEOUT` and replaced the
   * connection.
   */
  requestTimeouts: number;
  /** The connection's counters, undefined after stop. */
  connection: UnifiedFeedStats | undefined;
  balances: number;
}

interface ApiFrame {
  id?: unknown;
  status?: unknown;
  result?: unknown;
  error?: unknown;
  subscriptionId?: unknown;
  event?: unknown;
  /** The market streams' bare notice name (`serverShutdown`); see {@link isShutdownNotice}. */
  e?: unknown;
}

/** Spot user data over the WebSocket API. See {@link spotUserData}. */
export class SpotUserData {
  readonly #s: CommonSettings;
  readonly #balances = new StateMap<SpotBalance>();
  readonly #out: AccountOutput<SpotAccountEvent, SpotOrderUpdate>;
  readonly #link: Link;
  readonly #subscription: WsApiSubscription;
  /** Why the next confirmed subscription follows a hole, if it does. */
  #hole: 'reconnect' | 'stream-terminated' | undefined;
  #terminations = 0;
  #stray = 0;
  #timeouts = 0;
  #teardown: Promise<void> | undefined;

  constructor(options: SpotUserDataOptions) {
    // Every refused option of an account feed is named, never quoted: a secret given in
    // the wrong place (config keys swapped) would be written into the error and its logs.
    try {
      this.#s = commonSettings(options, 'binance-spot');
      // Blank as the key is: it would sign every request, each refused by the venue (-1022).
      requireKey('apiSecret', options.apiSecret);
      // Node fires a timer of 0, of a negative delay or of NaN at once: every request would time
      // out unanswered and replace the connection, for ever. Only `undefined` is the default.
      const requestTimeoutMs = given(options.requestTimeoutMs, 10_000);
      requireDuration('requestTimeoutMs', requestTimeoutMs, 1);
      // Refused by the venue otherwise: caught here, not as a subscription refused at runtime.
      if (options.recvWindow !== undefined) {
        requireInRange('recvWindow', options.recvWindow, 1, MAX_RECV_WINDOW_MS);
      }
      requireOptionalString('wsUrl', options.wsUrl);
      const base = secureBase(options.wsUrl ?? 'wss://ws-api.binance.com:443', 'WebSocket API URL');
      this.#out = new AccountOutput(this.#s.logger, [this.#balances], spotEventIdentity);
      this.#link = new Link(
        {
          ...options.connection,
          name: 'account-spot',
          url: `${base}/ws-api/v3`,
          clock: this.#s.clock,
          random: this.#s.random,
          logger: this.#s.logger,
          decode: decodeLossless,
          // Every (re)connect starts without a subscription: ask for one.
          onOpen: () => this.#subscription.subscribe(),
        },
        {
          message: (data) => this.#onMessage(data),
          status: (status) => this.#onStatus(status),
        },
      );
      this.#subscription = new WsApiSubscription({
        apiKey: this.#s.apiKey,
        secret: options.apiSecret,
        clock: this.#s.clock,
        send: (text) => this.#link.feed.send(text),
        requestTimeoutMs,
        recvWindow: options.recvWindow,
        retry: backoffOptions(options.retry, DEFAULT_LISTEN_KEY_RETRY, 'retry'),
        random: this.#s.random,
        events: {
          subscribed: () => this.#subscribed(),
          refused: (error) => this.#fatal(error),
          failed: (error, delayMs) =>
            this.#out.warn(error, `user-data subscription refused; retrying in ${delayMs} ms`),
          timedOut: (error) => this.#timedOut(error),
        },
      });
    } catch (err) {
      throw withoutValue(err);
    }
  }

  get state(): AccountFeedState {
    return this.#out.state;
  }

  /** Every user-data event, typed. Errors only with the fatal `UNIFEED_AUTH`; completes on stop. */
  get events$(): Observable<SpotAccountEvent> {
    return this.#out.events$;
  }

  /**
   * Order updates (`executionReport`), in arrival order. One older (`T`) than the last
   * delivered for its order is counted as out of order (`stats().outOfOrder`) and delivered:
   * its fill is news; compare `transactionTime` to keep an order's latest state.
   */
  get orders$(): Observable<SpotOrderUpdate> {
    return this.#out.orders$;
  }

  /**
   * Balances by asset as the venue last reported them (`outboundAccountPosition`, absolute
   * free and locked); the current map at once, then one map per change. Starts empty.
   * `balanceUpdate` deltas are not applied: the venue follows each with the absolute amounts.
   * A balance older (`u`) than the one held is not applied (`stats().outOfOrder`).
   */
  get balances$(): Observable<ReadonlyMap<string, SpotBalance>> {
    return this.#balances.changes$;
  }

  /** Connection, subscription and gap statuses; `fatal` is the last before it completes. */
  get status$(): Observable<AccountStatus> {
    return this.#out.status$;
  }

  /**
   * Connect and subscribe. Any number of calls share one promise, which resolves when the
   * subscription is confirmed, and rejects with `UNIFEED_AUTH` when the key or signature is
   * refused or `UNIFEED_STOPPED` when `stop()` comes first; a call after `stop()` rejects too,
   * and connects nothing.
   */
  start(): Promise<void> {
    const { promise, first } = this.#out.begin();
    if (first) this.#link.start();
    return promise;
  }

  /** Close the connection, clear every timer and complete every observable. Idempotent. */
  stop(): Promise<void> {
    // Read a tick later: stopped from a `fatal` listener, the teardown begins once it returns.
    if (!this.#out.beginStop())
      return this.#teardown ?? Promise.resolve().then(() => this.#teardown);
    // Closing the socket ends the subscription on the venue's side.
    this.#subscription.reset();
    this.#teardown = this.#link.stop().then(() => this.#out.finish());
    return this.#teardown;
  }

  stats(): SpotUserDataStats {
    return {
      venue: 'binance-spot',
      state: this.#out.state,
      ...this.#out.counts(),
      subscribeRequests: this.#subscription.requests,
      clockOffsetMs: this.#subscription.clockOffsetMs,
      terminations: this.#terminations,
      strayEvents: this.#stray,
      requestTimeouts: this.#timeouts,
      connection: this.#out.ended ? undefined : this.#link.feed.stats(),
      balances: this.#balances.size,
    };
  }

  #onStatus(status: FeedStatus): void {
    if (this.#out.ended) return;
    if (status.type === 'open' && this.#link.opens > 1) this.#hole = 'reconnect';
    // Whatever ends the socket ends the subscription and any request in flight. Frames read
    // before that are still queued (a fill read with a shutdown notice, say): they belong to
    // the subscription and are delivered first, or its id, gone, would make them strays. Told
    // once the feed is in back-off (a stale socket's comes right after), so that a queued
    // notice's reconnect() merges into the retry under way.
    if (status.type === 'close' || status.type === 'backoff') {
      this.#link.feed.flush();
      if (this.#out.ended) return;
      this.#subscription.reset();
    }
    const relayed = fromFeedStatus(status);
    if (relayed !== undefined) this.#out.report(relayed);
  }

  #subscribed(): void {
    const hole = this.#hole;
    this.#hole = undefined;
    if (hole !== undefined) this.#out.report({ type: 'gap', reason: hole });
    this.#out.ready();
  }

  /** The venue ended the subscription (`event`, when it could be read): subscribe again. */
  #streamTerminated(event: SpotAccountEvent | undefined): void {
    // A listener of the parse error just reported may have stopped the feed.
    if (this.#out.ended) return;
    this.#terminations++;
    this.#subscription.terminated();
    this.#hole = 'stream-terminated';
    if (event !== undefined) this.#out.event(event);
    // An events$ subscriber may have stopped the feed: no request, no hold timer after that.
    if (this.#out.ended) return;
    const delayMs = this.#subscription.resubscribe();
    this.#s.logger.info(
      { delayMs },
      'user-data subscription ended by the venue; subscribing again',
    );
  }

  /**
   * A request went unanswered: reported before the reconnect, as core's pool reports its own, so
   * that a reconnect loop on a venue that never answers shows its cause.
   */
  #timedOut(error: UnifeedError): void {
    this.#timeouts++;
    this.#out.warn(error, 'user-data request unanswered; reconnecting');
    // A listener of that error may have stopped the feed.
    if (!this.#out.ended) this.#link.feed.reconnect('user-data request unanswered');
  }

  #onMessage(data: unknown): void {
    if (this.#out.ended) return;
    let frame: ApiFrame;
    try {
      frame = object(data, 'WebSocket API frame', 'user-data');
    } catch (err) {
      // Events come inside an object: a number, a string or an array was none.
      this.#out.unexpected(err);
      return;
    }
    if ('id' in frame && this.#subscription.answer(frame)) return;
    if (isShutdownNotice(frame)) {
      // The venue is about to close this connection for maintenance: a new one now, on a
      // server that stays, rather than after the close (and its 60 s of silence at worst).
      this.#s.logger.info({}, 'server shutdown notice; reconnecting');
      this.#link.feed.reconnect('server shutdown notice');
      return;
    }
    if (!('event' in frame)) {
      // Skipped like a futures frame that does not parse, but never silently: a venue that
      // changed its answers, or answers a request we gave up on, must show in the counters.
      this.#out.unexpected(unexpectedFrame(frame));
      return;
    }
    if (frame.subscriptionId !== this.#subscription.subscriptionId) {
      this.#stray++;
      return;
    }
    let event: SpotAccountEvent;
    try {
      event = parseSpotEvent(frame.event);
    } catch (err) {
      this.#out.parseFailed(err);
      // The notice matters, not its time: a malformed one still says the subscription ended,
      // and without subscribing again the feed would hear nothing until a reconnect.
      if (eventName(frame.event) === 'eventStreamTerminated') this.#streamTerminated(undefined);
      return;
    }
    // After parsing, so that only a good frame can make the next one a repeat.
    if (this.#out.repeated(event)) return;
    if (event.type === 'eventStreamTerminated') {
      this.#streamTerminated(event);
      return;
    }
    let stale = 0;
    if (event.type === 'outboundAccountPosition') {
      for (const b of event.balances) if (!this.#balances.set(b.asset, b)) stale++;
    }
    // The state first: a subscriber of an event that reads balances$ sees the state after it.
    this.#balances.commit();
    if (stale > 0) this.#out.outOfOrder(event.type, stale);
    if (event.type === 'executionReport') this.#out.order(event.order, event.type);
    this.#out.event(event);
  }

  #fatal(error: AccountError): void {
    if (!this.#out.fail(error)) return;
    this.#subscription.reset();
    this.#teardown = this.#link.stop();
  }
}

/**
 * The parse error for an object that is neither the answer to the request in flight nor an
 * event. It quotes nothing of the frame but an answer's status and venue code, numbers that
 * say which refusal went astray.
 */
function unexpectedFrame(frame: ApiFrame): UnifeedError {
  if (!('id' in frame)) {
    return new UnifeedError(ErrorCode.Parse, 'user-data: a frame that is no answer and no event', {
      stream: 'user-data',
    });
  }
  const status = safeInteger(frame.status);
  const error = frame.error as { code?: unknown } | null | undefined;
  const venueCode = safeInteger(error?.code);
  const detail = [
    status === undefined ? '' : `status ${status}`,
    venueCode === undefined ? '' : `code ${venueCode}`,
  ]
    .filter((x) => x !== '')
    .join(', ');
  return new UnifeedError(
    ErrorCode.Parse,
    `user-data: an answer to no request in flight${detail === '' ? '' : ` (${detail})`}`,
    { stream: 'user-data', status, venueCode },
  );
}

/**
 * The venue's notice that this server goes away soon. The WebSocket API sends it as
 * `{"event":{"e":"serverShutdown","E":...}}` with no `subscriptionId` (its connection events);
 * the bare `{"e":"serverShutdown","E":...}` is the market streams' form, accepted too. Told by
 * its name alone, whatever subscription it may name: it is about the socket, and delivered as
 * a user-data event, or dropped as a stray, it would leave the feed on a server about to close.
 */
function isShutdownNotice(frame: ApiFrame): boolean {
  return frame.e === 'serverShutdown' || eventName(frame.event) === 'serverShutdown';
}

function safeInteger(v: unknown): number | undefined {
  return Number.isSafeInteger(v) ? (v as number) : undefined;
}

/**
 * Spot user data over the WebSocket API (listen keys for spot stopped working on 2026-02-20):
 * one connection to `<wsUrl>/ws-api/v3`, a `userDataStream.subscribe.signature` request signed
 * with HMAC-SHA256 on every (re)connect and after `eventStreamTerminated`; typed events, order
 * updates and balances kept from the events. A refused key or signature ends every observable
 * with `UNIFEED_AUTH`; network failures reconnect.
 *
 * ```ts
 * const account = spotUserData({ apiKey, apiSecret });
 * account.balances$.subscribe({
 *   next: (b) => console.log(b.get('BTC')?.free),
 *   error: (err) => console.error('account feed ended:', err), // unhandled, the process exits
 * });
 * await account.start();
 * ```
 */
export function spotUserData(options: SpotUserDataOptions): SpotUserData {
  return new SpotUserData(options);
}
