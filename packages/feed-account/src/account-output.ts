import { ErrorCode, UnifeedError, type Logger } from '@unifeed/core';
import { Subject, type Observable } from 'rxjs';
import { eventLabel } from './envelope.js';
import { AccountError, AccountErrorCode, type FeedError } from './errors.js';
import type { OrderUpdate } from './events.js';
import { RepeatFilter } from './repeats.js';
import { MAX_STATE_ENTRIES, setRecent } from './state-map.js';
import type { AccountFeedState, AccountStatus } from './status.js';

/** Counters every account feed reports. */
export interface AccountEventCounts {
  /** Events delivered on `events$`. */
  events: number;
  /**
   * Events by the venue's event name, cut at 64 characters; past 100 distinct names, the
   * others are counted under `*`.
   */
  byType: Record<string, number>;
  /** Order updates delivered on `orders$`. */
  orders: number;
  /**
   * Frames skipped as unreadable, each reported as `UNIFEED_PARSE` (never fatal): events that
   * do not parse, and on spot frames that are neither an event nor the answer to the request
   * in flight (a late answer, a refusal naming no request while none is out).
   */
  parseErrors: number;
  /**
   * Events dropped because they repeated the event parsed just before them (same identity:
   * order, execution type, status, trade id, filled quantity, transaction time, price and
   * quantity for an order update, and for spot the prevented match id): a frame the venue or
   * a proxy sent twice. Not in `events`.
   */
  duplicatesSuppressed: number;
  /** Gaps reported on `status$`. */
  gaps: number;
  /**
   * Parts of events skipped as older than what the feed already held, each event with any
   * reported once as `UNIFEED_OUT_OF_ORDER` (never fatal): a balance or position whose update
   * time (spot `u`, futures `T`) is before the one kept for it, or before its removal (not
   * applied), and an order update whose transaction time (`T`) is before that of the last
   * update delivered for the same order (delivered all the same: its fill is news). The venue
   * does not promise order across connections, nor at all on spot. The events themselves are
   * still on `events$`.
   */
  outOfOrder: number;
}

/** State that ends with the feed (the balance and position maps). */
export interface Endable {
  error(err: unknown): void;
  complete(): void;
}

/** Distinct event names counted at most; later ones share one counter (a hostile peer). */
const MAX_EVENT_TYPES = 100;

/**
 * The consumer side of an account feed, shared by futures and spot: the subjects, the
 * lifecycle state, the start promise and the one place a feed ends, so that a fatal error ends
 * every observable exactly once and `stop()` completes them exactly once.
 */
export class AccountOutput<E extends { readonly type: string }, O extends OrderUpdate> {
  readonly #events = new Subject<E>();
  readonly #orders = new Subject<O>();
  readonly #status = new Subject<AccountStatus>();
  readonly #states: readonly Endable[];
  readonly #log: Logger;
  readonly #byType = new Map<string, number>();
  readonly #counts = {
    events: 0,
    orders: 0,
    parseErrors: 0,
    duplicatesSuppressed: 0,
    gaps: 0,
    outOfOrder: 0,
  };
  /** Transaction time of the last update delivered per `<symbol>|<orderId>`. */
  readonly #orderTimes = new Map<string, number>();
  readonly #repeats: RepeatFilter<E>;
  #state: AccountFeedState = 'idle';
  #gate: { promise: Promise<void>; resolve(): void; reject(e: Error): void } | undefined;
  #fatal: AccountError | undefined;

  /** `identity` names what makes an event unique (see `repeats.ts`); undefined: always new. */
  constructor(log: Logger, states: readonly Endable[], identity: (event: E) => string | undefined) {
    this.#log = log;
    this.#states = states;
    this.#repeats = new RepeatFilter(identity);
  }

  get state(): AccountFeedState {
    return this.#state;
  }

  /** True once stopping, stopped or failed: nothing more is delivered. */
  get ended(): boolean {
    return this.#state === 'stopping' || this.#state === 'stopped' || this.#state === 'failed';
  }

  get events$(): Observable<E> {
    return this.#events.asObservable();
  }

  get orders$(): Observable<O> {
    return this.#orders.asObservable();
  }

  get status$(): Observable<AccountStatus> {
    return this.#status.asObservable();
  }

  /**
   * The start promise: one for any number of calls. Resolves at the first `ready()`; rejects
   * with the fatal error, or `UNIFEED_STOPPED` when stopped first. `first` is true for the one
   * call that must connect. Once the feed has ended, every call rejects (`UNIFEED_STOPPED`, or
   * the fatal error).
   */
  begin(): { promise: Promise<void>; first: boolean } {
    if (this.ended) {
      // Not the shared promise: it may have resolved before the end, and a start() that
      // resolves on a stopped feed would pass for one that connected.
      const promise = Promise.reject(
        this.#fatal ?? new UnifeedError(ErrorCode.Stopped, 'account feed is stopped'),
      );
      promise.catch(() => {});
      return { promise, first: false };
    }
    if (this.#gate) return { promise: this.#gate.promise, first: false };
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A caller that drops the promise must not see an unhandled rejection.
    promise.catch(() => {});
    this.#gate = { promise, resolve, reject };
    this.#state = 'starting';
    return { promise, first: true };
  }

  /** Events flow (again). */
  ready(): void {
    if (this.ended) return;
    this.#state = 'running';
    this.#gate?.resolve();
    this.report({ type: 'ready' });
  }

  report(status: AccountStatus): void {
    if (this.ended) return;
    if (status.type === 'gap') {
      this.#counts.gaps++;
      this.#log.warn({ reason: status.reason }, 'account events may be missing');
    }
    this.#status.next(status);
  }

  /**
   * True when a parsed `event` repeats the one parsed just before it: the caller drops it
   * before touching any state. Counted in `duplicatesSuppressed`.
   */
  repeated(event: E): boolean {
    if (!this.#repeats.repeats(event)) return false;
    this.#counts.duplicatesSuppressed++;
    this.#log.debug({ type: event.type }, 'repeated user-data event dropped');
    return true;
  }

  event(event: E): void {
    if (this.ended) return;
    this.#counts.events++;
    // By the venue's name: an event this feed does not know is counted as what it is.
    const name = (event as { eventType?: unknown }).eventType;
    const type = event.type === 'other' && typeof name === 'string' ? eventLabel(name) : event.type;
    const key = this.#byType.has(type) || this.#byType.size < MAX_EVENT_TYPES ? type : '*';
    this.#byType.set(key, (this.#byType.get(key) ?? 0) + 1);
    this.#events.next(event);
  }

  /**
   * Deliver an order update. One with an earlier transaction time than the last delivered for
   * its order is counted and reported as out of order, and delivered all the same: its fill
   * (`lastFilledQuantity`) is news even late, and a consumer summing fills must not lose it. A
   * consumer that keeps the last state per order compares `transactionTime`.
   */
  order(order: O, eventType: string): void {
    if (this.ended) return;
    // Order ids are unique per symbol only.
    const key = `${order.symbol}|${order.orderId}`;
    const last = this.#orderTimes.get(key);
    if (last !== undefined && order.transactionTime < last) this.outOfOrder(eventType, 1);
    else setRecent(this.#orderTimes, key, order.transactionTime, MAX_STATE_ENTRIES);
    this.#counts.orders++;
    this.#orders.next(order);
  }

  /**
   * `skipped` parts of an `eventType` event were older than the state held and not applied:
   * counted, logged and reported once for the event, never fatal. No gap: nothing is missing,
   * it came late.
   */
  outOfOrder(eventType: string, skipped: number): void {
    this.#counts.outOfOrder += skipped;
    this.warn(
      new AccountError(
        AccountErrorCode.OutOfOrder,
        `user-data: ${eventLabel(eventType)} older than the state held; ${skipped} stale ${skipped === 1 ? 'entry' : 'entries'} skipped`,
      ),
      'out-of-order user-data event; stale parts skipped',
    );
  }

  /**
   * An event that could not be parsed: skipped, counted and reported, never fatal, and a gap,
   * as an undecodable frame is one: it may have been an order update or a balance change.
   * The one path for both feeds.
   */
  parseFailed(err: unknown): void {
    this.unexpected(err);
    this.report({ type: 'gap', reason: 'parse' });
  }

  /**
   * (Spot) a frame that is no event and no answer of ours: skipped, counted with the parse
   * errors and reported, never fatal; no gap, as no event was in it.
   */
  unexpected(err: unknown): void {
    this.#counts.parseErrors++;
    // Only our own errors are safe to pass on: they name fields, never values.
    const error =
      err instanceof UnifeedError
        ? err
        : new UnifeedError(ErrorCode.Parse, 'user-data: a frame could not be parsed');
    this.#log.warn({ code: error.code }, error.message);
    this.report({ type: 'error', error });
  }

  /** A non-fatal error: logged and reported. */
  warn(error: FeedError, message: string): void {
    this.#log.warn({ code: error.code, err: error.message }, message);
    this.report({ type: 'error', error });
  }

  /**
   * The credentials were refused: every observable ends with `error`, once, and the start
   * promise rejects. Returns false when the feed had already ended.
   */
  fail(error: AccountError): boolean {
    if (this.ended) return false;
    this.#log.error(
      { code: error.code, status: error.status, venueCode: error.venueCode },
      error.message,
    );
    // Failed before anyone hears: a listener that stops the feed on `fatal` finds it ended
    // (no DELETE of the refused key, and start() rejects with this error, not STOPPED).
    this.#state = 'failed';
    this.#fatal = error;
    this.#status.next({ type: 'fatal', error });
    this.#gate?.reject(error);
    this.#events.error(error);
    this.#orders.error(error);
    for (const s of this.#states) s.error(error);
    this.#status.complete();
    return true;
  }

  /** Stopping begins. Returns false when the feed had already ended (stopped or failed). */
  beginStop(): boolean {
    if (this.ended) return false;
    this.#state = 'stopping';
    this.#gate?.reject(
      new UnifeedError(ErrorCode.Stopped, 'account feed stopped before it was ready'),
    );
    return true;
  }

  /** Stopping is done: report it and complete every observable. */
  finish(): void {
    if (this.#state !== 'stopping') return;
    this.#state = 'stopped';
    this.#status.next({ type: 'stopped' });
    this.#events.complete();
    this.#orders.complete();
    for (const s of this.#states) s.complete();
    this.#status.complete();
  }

  counts(): AccountEventCounts {
    return { ...this.#counts, byType: Object.fromEntries(this.#byType) };
  }
}
