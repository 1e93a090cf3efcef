import {
  backoffDelay,
  excerpt,
  rateLimitHoldMs,
  ErrorCode,
  RateLimitHold,
  UnifeedError,
  type BackoffOptions,
  type Clock,
  type TimerHandle,
} from '@unifeed/core';
import {
  AccountError,
  AccountErrorCode,
  authError,
  refusesCredentials,
  type FeedError,
} from './errors.js';
import { RenewalPace } from './renewal-pace.js';
import { hmacSignature } from './signature.js';

const METHOD = 'userDataStream.subscribe.signature';
/** Binance: the request's timestamp is ahead of the venue's clock, or older than recvWindow. */
const TIMESTAMP_REFUSED = -1021;

/** What a {@link WsApiSubscription} tells its owner. */
export interface WsApiSubscriptionEvents {
  /** The venue confirmed the subscription. */
  subscribed(subscriptionId: number): void;
  /** The venue refused the credentials or the signature: fatal. */
  refused(error: AccountError): void;
  /** A non-fatal refusal; a new request follows after `delayMs`. */
  failed(error: FeedError, delayMs: number): void;
  /**
   * No answer within `requestTimeoutMs` (`error`: `UNIFEED_SUBSCRIBE_TIMEOUT`, naming the
   * method): the connection is presumed broken.
   */
  timedOut(error: UnifeedError): void;
}

/** Settings of a {@link WsApiSubscription}. */
export interface WsApiSubscriptionOptions {
  apiKey: string;
  secret: string;
  clock: Clock;
  /** Sends a text frame; false when the socket is not open. */
  send(text: string): boolean;
  requestTimeoutMs: number;
  /** Added to every request when set. */
  recvWindow: number | undefined;
  retry: Readonly<BackoffOptions>;
  random: () => number;
  events: WsApiSubscriptionEvents;
}

/**
 * The spot user-data subscription on one WebSocket API connection: a signed
 * `userDataStream.subscribe.signature` request, its answer matched by id, a timeout, and
 * retries with back-off after a non-fatal refusal. At most one request is out and at most one
 * timer armed; `reset()` forgets both when the socket goes, but not a rate-limit hold: after a
 * 429 or 418 no request leaves before the hold ends, not even on a new socket. A refused
 * timestamp (-1021: the local clock runs ahead of the venue's by over a second, or behind by
 * over `recvWindow`) asks the venue's time (`time`) and signs with it from then on, so that a
 * drifting clock does not turn into retries for ever. It never logs or reports the signature
 * or the key.
 */
export class WsApiSubscription {
  readonly #o: WsApiSubscriptionOptions;
  #nextId = 1;
  /** `sentAt`: `clock.monotonic()`. */
  #pending: { id: number; timer: TimerHandle; method: string; sentAt: number } | undefined;
  /** The venue's clock minus the local one, ms, as last measured; kept across `reset()`. */
  #offsetMs = 0;
  /** The request out was signed right after measuring the offset: a second -1021 backs off. */
  #justMeasured = false;
  #retryTimer: TimerHandle | undefined;
  /** Set by a 429 or 418, kept across `reset()`. */
  readonly #hold: RateLimitHold;
  #failures = 0;
  #subscriptionId: number | undefined;
  #requests = 0;
  /** When a subscription the venue ended is made again; kept across `reset()`. */
  readonly #pace: RenewalPace;
  /** The request out (or the next) makes again one the venue ended. */
  #renewing = false;

  constructor(options: WsApiSubscriptionOptions) {
    this.#o = options;
    this.#hold = new RateLimitHold(options.clock);
    this.#pace = new RenewalPace(options.clock, options.retry, options.random);
  }

  /** The confirmed subscription, if any. */
  get subscriptionId(): number | undefined {
    return this.#subscriptionId;
  }

  /** Subscribe requests sent so far. */
  get requests(): number {
    return this.#requests;
  }

  /** The venue's clock minus the local one, as measured after a refused timestamp; else 0. */
  get clockOffsetMs(): number {
    return this.#offsetMs;
  }

  /**
   * Send a signed subscribe request now (replacing any retry or request in flight), or when a
   * rate-limit hold ends if one is on.
   */
  subscribe(measured = false): void {
    this.reset();
    this.#justMeasured = measured;
    const wait = this.#hold.remainingMs();
    if (wait > 0) {
      // The venue counts a reconnect's request like any other: sending it before the hold
      // ends is how a 429 becomes a 418 and an IP ban.
      this.#retryTimer = this.#o.clock.setTimeout(() => {
        this.#retryTimer = undefined;
        this.subscribe();
      }, wait);
      return;
    }
    const params: Record<string, string | number> = {
      apiKey: this.#o.apiKey,
      timestamp: Math.round(this.#o.clock.now() + this.#offsetMs),
    };
    if (this.#o.recvWindow !== undefined) params.recvWindow = this.#o.recvWindow;
    const signature = hmacSignature(params, this.#o.secret);
    if (this.#request(METHOD, { ...params, signature })) this.#requests++;
  }

  /** Send one request and time it out; false (nothing out) when the socket is not open. */
  #request(method: string, params?: Record<string, string | number>): boolean {
    const id = this.#nextId++;
    const frame = JSON.stringify(params === undefined ? { id, method } : { id, method, params });
    if (!this.#o.send(frame)) return false; // not open: the next open subscribes
    const timer = this.#o.clock.setTimeout(() => {
      if (this.#pending?.id !== id) return;
      this.#pending = undefined;
      this.#o.events.timedOut(
        new UnifeedError(
          ErrorCode.SubscribeTimeout,
          `${method}: no answer in ${this.#o.requestTimeoutMs} ms`,
        ),
      );
    }, this.#o.requestTimeoutMs);
    this.#pending = { id, timer, method, sentAt: this.#o.clock.monotonic() };
    return true;
  }

  /**
   * Handle a WebSocket API answer (`{id, status, result | error}`). Returns false when the
   * frame is not the answer to the request in flight. An error with `id: null` is taken as the
   * refusal of the request in flight: Binance answers so a request it could not read, and only
   * one of ours is ever out.
   */
  answer(frame: { id?: unknown; status?: unknown; result?: unknown; error?: unknown }): boolean {
    const pending = this.#pending;
    if (pending === undefined) return false;
    if (frame.id !== pending.id && !(frame.id === null && isErrorAnswer(frame))) return false;
    this.#o.clock.clearTimeout(pending.timer);
    this.#pending = undefined;
    const status = typeof frame.status === 'number' ? frame.status : undefined;
    const result = frame.result as
      { subscriptionId?: unknown; serverTime?: unknown } | null | undefined;
    if (pending.method === 'time') {
      if (status === 200 && typeof result?.serverTime === 'number') {
        // The answer left the venue about halfway through the round trip, which is measured
        // on the monotonic clock: a step of the wall clock during it must not count twice.
        const roundTripMs = this.#o.clock.monotonic() - pending.sentAt;
        this.#offsetMs = Math.round(result.serverTime - (this.#o.clock.now() - roundTripMs / 2));
        this.subscribe(true);
        return true;
      }
      // No usable time: back off as for the refusal that made us ask, and as this answer
      // says if it is a 429 or 418 of its own (the venue counts `time` requests too).
      const { code, until } = venueError(frame.error);
      return this.#failed(
        new AccountError(
          AccountErrorCode.SubscribeRejected,
          `${METHOD}: timestamp refused, and time answered with status ${status ?? 'none'}`,
          { status: status ?? 400, venueCode: code ?? TIMESTAMP_REFUSED },
        ),
        status,
        until,
      );
    }
    if (status === 200 && typeof result?.subscriptionId === 'number') {
      this.#failures = 0;
      this.#subscriptionId = result.subscriptionId;
      // As for listen keys, only a renewal counts: the first end after a start is renewed at once.
      if (this.#renewing) this.#pace.settled();
      this.#renewing = false;
      this.#o.events.subscribed(result.subscriptionId);
      return true;
    }
    const error = frame.error as { code?: unknown; msg?: unknown } | null | undefined;
    const { code, until } = venueError(frame.error);
    if (refusesCredentials(status, code)) {
      this.#o.events.refused(authError(METHOD, status, code));
      return true;
    }
    if (code === TIMESTAMP_REFUSED && !this.#justMeasured) {
      // Our clock, not the request: measure the venue's and sign with it.
      if (this.#request('time')) return true;
    }
    // The venue's message helps (a timestamp outside recvWindow...); it is short and quotes
    // no parameter, but it is cut anyway so that an echo could never flood a log.
    const msg = typeof error?.msg === 'string' ? `: ${excerpt(error.msg, 120)}` : '';
    const refusal =
      status === undefined
        ? new UnifeedError(ErrorCode.Decode, `${METHOD}: an answer without a status`)
        : new AccountError(
            AccountErrorCode.SubscribeRejected,
            `${METHOD} refused with status ${status}${code === undefined ? '' : `, code ${code}`}${msg}`,
            { status, venueCode: code },
          );
    return this.#failed(refusal, status, until);
  }

  /**
   * A non-fatal refusal: retry after the back-off. 429 and 418 wait at least as long as the
   * back-off policy says for them (a minute, five), or until the venue's `retryAfter` (`until`,
   * a time in ms): retrying sooner escalates to an IP ban.
   */
  #failed(refusal: FeedError, status: number | undefined, until: unknown): true {
    const asked =
      typeof until === 'number'
        ? Math.max(0, until - (this.#o.clock.now() + this.#offsetMs))
        : undefined;
    // The same floors as core's RestClient: `retryAfter` is the venue's time, and a local clock
    // ahead of it would shorten a ban.
    const retryAfterMs = rateLimitHoldMs(status, asked, this.#o.retry);
    const delayMs = backoffDelay(this.#failures++, this.#o.retry, this.#o.random, {
      httpStatus: status,
      retryAfterMs,
    });
    if (status === 429 || status === 418) this.#hold.hold(delayMs);
    this.#retryTimer = this.#o.clock.setTimeout(() => {
      this.#retryTimer = undefined;
      this.subscribe();
    }, delayMs);
    this.#o.events.failed(refusal, delayMs);
    return true;
  }

  /** The venue ended the subscription (`eventStreamTerminated`). */
  terminated(): void {
    this.#subscriptionId = undefined;
  }

  /**
   * Subscribe again after the venue ended the subscription: at once, unless the one it ended
   * was confirmed less than `retry.minUptimeMs` ago (then after the back-off, see
   * {@link RenewalPace}). Returns the wait, ms.
   */
  resubscribe(): number {
    this.#renewing = true;
    const delayMs = this.#pace.delayMs();
    if (delayMs === 0) {
      this.subscribe();
      return 0;
    }
    this.reset();
    this.#retryTimer = this.#o.clock.setTimeout(() => {
      this.#retryTimer = undefined;
      this.subscribe();
    }, delayMs);
    return delayMs;
  }

  /**
   * The socket went away (or stop): no request is out, no subscription exists, no timer runs.
   * A rate-limit hold stays: the next `subscribe()` waits for it.
   */
  reset(): void {
    if (this.#pending !== undefined) this.#o.clock.clearTimeout(this.#pending.timer);
    this.#pending = undefined;
    if (this.#retryTimer !== undefined) this.#o.clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#subscriptionId = undefined;
  }

  /** True while a timer of this subscription is armed (tests check that stop leaves none). */
  get timerArmed(): boolean {
    return this.#pending !== undefined || this.#retryTimer !== undefined;
  }
}

/** An answer that refuses its request: an `error`, or a status other than 200. */
function isErrorAnswer(frame: { status?: unknown; error?: unknown }): boolean {
  return (
    (frame.error !== undefined && frame.error !== null) ||
    (typeof frame.status === 'number' && frame.status !== 200)
  );
}

/** The venue's code and `retryAfter` (a time in ms, on 429 and 418) of a WS API error. */
function venueError(error: unknown): { code: number | undefined; until: unknown } {
  const e = error as { code?: unknown; data?: { retryAfter?: unknown } } | null | undefined;
  return { code: typeof e?.code === 'number' ? e.code : undefined, until: e?.data?.retryAfter };
}
