import type { Clock, TimerHandle } from './clock.js';
import { ErrorCode, UnifeedError } from './errors.js';
import { SlidingWindowLimiter } from './sliding-window-limiter.js';
import type { UnifiedFeed } from './unified-feed.js';
import type { Venue, VenueRequest } from './venue.js';

/** What an answered request changed on the server. */
export interface AppliedChange {
  subscribed: readonly string[];
  unsubscribed: readonly string[];
  /**
   * Unsubscribed streams that were taken back while their unsubscribe was out: the exchange
   * stopped them, and what it sends before the new subscribe is applied is lost.
   */
  interrupted: readonly string[];
}

/** What a {@link PoolConnection} tells the pool. */
export interface PoolConnectionEvents {
  /** The exchange refused `stream` alone (after bisecting a refused batch). */
  rejected(stream: string, code: number | string, msg: string): void;
  /**
   * A request was answered (or, on a venue that answers only errors, taken as accepted) after
   * `latencyMs`, refused or not; `change` is what it changed on the server.
   */
  answered(request: VenueRequest, latencyMs: number, refused: boolean, change: AppliedChange): void;
  /** A request was not answered in time. */
  timedOut(request: VenueRequest): void;
}

/** Settings the pool passes down. */
export interface PoolConnectionOptions {
  clock: Clock;
  venue: Venue;
  /** Requests unanswered after this long make the connection reconnect. */
  requestTimeoutMs: number;
  /**
   * True while another connection still holds `stream` on the exchange, or may (released
   * there, its subscribe unanswered or its unsubscribe not yet confirmed): subscribing here now
   * would put it on the exchange twice.
   */
  heldElsewhere(stream: string): boolean;
  events: PoolConnectionEvents;
}

/**
 * The longest a connection waits for a refusal after doubling its settle time: as long as a
 * request waits for an answer by id (`requestTimeoutMs`'s default).
 */
const MAX_SETTLE_MS = 10_000;
/** Where a settle time of 0 doubles from after a late refusal: doubling 0 stays 0. */
const MIN_LATE_SETTLE_MS = 250;
/**
 * How often a request's verdict, due while frames read before it still wait in the feed's
 * queue, looks again whether they have been dispatched.
 */
const BACKLOG_RECHECK_MS = 50;

interface Inflight {
  request: VenueRequest;
  /** `clock.monotonic()`: a message's `readAt` is compared with it. */
  sentAt: number;
  timer: TimerHandle | undefined;
  /** Streams the request adds: data of one proves a request that gets no answer applied. */
  added: ReadonlySet<string>;
}

const NO_CHANGE: AppliedChange = Object.freeze({
  subscribed: [],
  unsubscribed: [],
  interrupted: [],
});

/**
 * The subscription state of one connection, and the only code that sends requests on it.
 * `desired` is what the pool wants here; `live` what the server confirmed on the current
 * socket. One request is in flight at a time; when it is answered the next one is computed
 * from the difference, so changes made meanwhile are merged, never raced. Requests go out
 * under the venue's control-message rate, which the heartbeat's pings also draw from.
 */
export class PoolConnection {
  readonly id: number;
  readonly group: string;
  readonly desired = new Set<string>();
  readonly live = new Set<string>();
  /**
   * Streams the server still sends though the pool let them go: a replace venue's empty set
   * cannot be said on the wire (Upbit), so the previous set stays until the next request.
   */
  readonly #unsaid = new Set<string>();
  /** 'active' takes new streams; 'draining' is being replaced and only awaits its close. */
  role: 'active' | 'draining' = 'active';
  feed!: UnifiedFeed;
  /** The venue's per-second message budget of this connection. */
  readonly limiter: SlidingWindowLimiter;
  /** The per-minute budget, on venues that have one (Upbit). */
  readonly minuteLimiter: SlidingWindowLimiter | undefined;
  readonly #o: PoolConnectionOptions;
  /**
   * Settle time of a venue that answers only refusals; undefined when it answers by id. Doubled
   * (up to {@link MAX_SETTLE_MS}) by each refusal that came after it: see {@link lateRefusal}.
   */
  #settleMs: number | undefined;
  /** Codes of the id-less errors that answer the request in flight (all, when `#settleMs` is set). */
  readonly #unreadCodes: ReadonlySet<number | string>;
  /** Streams of refused batches, retried in smaller slices to find the bad ones. */
  readonly #suspects: string[][] = [];
  /** Live streams to unsubscribe and subscribe again (silent while the socket is alive). */
  readonly #refresh = new Set<string>();
  #inflight: Inflight | undefined;
  #pumpTimer: TimerHandle | undefined;
  #pumpQueued = false;
  #nextId = 1;
  #closed = false;

  constructor(id: number, group: string, options: PoolConnectionOptions) {
    this.id = id;
    this.group = group;
    this.#o = options;
    const { limits, answers } = options.venue;
    this.#settleMs = answers?.style === 'errors-only' ? answers.settleMs : undefined;
    this.#unreadCodes = new Set(answers?.style === 'id' ? answers.unreadCodes : []);
    // Two messages of the budget stay free: a heartbeat ping is recorded without waiting for
    // room, and the socket answers the server's pings with pongs by itself.
    this.limiter = new SlidingWindowLimiter({
      limit: Math.max(1, limits.controlMessagesPerSecond - 2),
      windowMs: 1000,
      clock: options.clock,
    });
    // Over a minute, room for the heartbeat's three pings (20 s) and a margin.
    this.minuteLimiter =
      limits.controlMessagesPerMinute === undefined
        ? undefined
        : new SlidingWindowLimiter({
            limit: Math.max(1, limits.controlMessagesPerMinute - 5),
            windowMs: 60_000,
            clock: options.clock,
          });
  }

  /** True when the server has every desired stream and nothing else, and no request is out. */
  get settled(): boolean {
    if (this.#inflight || this.#suspects.length > 0 || this.#refresh.size > 0) return false;
    if (this.live.size !== this.desired.size) return false;
    for (const s of this.desired) if (!this.live.has(s)) return false;
    return true;
  }

  /** Send whatever the difference needs, after the current tick (changes coalesce). */
  schedule(): void {
    if (this.#pumpQueued || this.#closed) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  /** A heartbeat ping went out: it uses the same budgets as requests. */
  recordPing(): void {
    this.limiter.record();
    this.minuteLimiter?.record();
  }

  /** Unsubscribe and subscribe `stream` again. */
  refresh(stream: string): void {
    if (!this.live.has(stream)) return;
    this.#refresh.add(stream);
    this.schedule();
  }

  /** The socket (re)opened: the server has nothing; restore the whole set in one pass. */
  opened(): void {
    this.#reset();
    // The server counts messages per socket: a new socket starts with the whole budget.
    this.limiter.reset();
    this.minuteLimiter?.reset();
    this.schedule();
  }

  /** The socket went away: nothing is live any more and no answer will come. */
  dropped(): void {
    this.#reset();
  }

  close(): void {
    this.#closed = true;
    this.#reset();
  }

  /**
   * The exchange has `stream` on this connection, or will if the request in flight succeeds:
   * until that is answered, another connection must not subscribe it too.
   */
  holds(stream: string): boolean {
    return (
      this.live.has(stream) ||
      this.#inflight?.added.has(stream) === true ||
      this.#unsaid.has(stream)
    );
  }

  /**
   * Route an answer to the request in flight. False when no request in flight has `id`. An
   * error naming no request (`id` null) is the answer to the one in flight if it was read
   * after that one went out (`readAt`, monotonic): there is never more than one. Upbit's refusals
   * never name one; Binance's do only when it could not read the request (unreadable JSON, an
   * invalid stream: the venue's `unreadCodes`), and its other id-less errors answer nothing,
   * leaving the request to its answer or its timeout. One read before the request (a dropped
   * socket's, still queued) answers an earlier request, not this one.
   */
  answer(
    id: number | null,
    error?: { code: number | string; msg: string },
    readAt = Number.POSITIVE_INFINITY,
  ): boolean {
    const inflight = this.#inflight;
    if (!inflight) return false;
    const matches =
      id === null
        ? error !== undefined &&
          readAt >= inflight.sentAt &&
          (this.#settleMs !== undefined || this.#unreadCodes.has(error.code))
        : inflight.request.id === id;
    if (!matches) return false;
    this.#finish(inflight, error);
    return true;
  }

  /**
   * A refusal came with no request in flight. On a venue that answers only refusals it is the
   * answer to one that settled by time: taken as applied, it was not, and the server still has
   * the set from before it, while every later request, which names the whole set, repeats the
   * refused stream and is refused too. So true: the caller must start the connection over,
   * whose one request for the whole set finds the bad stream by bisection, and this
   * connection waits twice as long for a refusal from now on, for a venue that answers slower
   * than `settleMs`. False on a venue that answers by id (nothing to learn), and on any but the
   * open socket of a connection in charge: a rotation's old one is replaced by a request for
   * the whole set anyway, and a dropped socket's refusal, read late, says nothing of the next.
   */
  lateRefusal(): boolean {
    if (this.#settleMs === undefined || this.role !== 'active' || this.feed.state !== 'open') {
      return false;
    }
    this.#settleMs = Math.min(
      Math.max(this.#settleMs * 2, MIN_LATE_SETTLE_MS),
      Math.max(this.#settleMs, MAX_SETTLE_MS),
    );
    return true;
  }

  /**
   * Data of `stream` arrived. On a venue that answers only refusals, data of a stream the
   * request in flight adds proves that the server applied it: no need to wait for `settleMs`.
   */
  sawData(stream: string): void {
    const inflight = this.#inflight;
    if (inflight !== undefined && this.#settleMs !== undefined && inflight.added.has(stream)) {
      this.#finish(inflight);
    }
  }

  #finish(inflight: Inflight, error?: { code: number | string; msg: string }): void {
    this.#o.clock.clearTimeout(inflight.timer);
    this.#inflight = undefined;
    const { request } = inflight;
    const change = error ? this.#refused(request, error) : this.#apply(request);
    this.#o.events.answered(
      request,
      this.#o.clock.monotonic() - inflight.sentAt,
      error !== undefined,
      change,
    );
    this.#pump();
  }

  #apply(request: VenueRequest): AppliedChange {
    const subscribed: string[] = [];
    const unsubscribed: string[] = [];
    const interrupted: string[] = [];
    if (request.op === 'replace') {
      const next = new Set(request.streams);
      // Applied on the wire: the server's set is this one now. A stream it kept sending after
      // an unsayable empty set, taken back since, stops until a request names it.
      if (request.frame !== null) {
        for (const s of this.#unsaid) if (this.desired.has(s) && !next.has(s)) interrupted.push(s);
        this.#unsaid.clear();
      }
      for (const s of this.live) if (!next.has(s)) unsubscribed.push(s);
      for (const s of next) if (!this.live.has(s)) subscribed.push(s);
    } else if (request.op === 'subscribe') {
      for (const s of request.streams) if (!this.live.has(s)) subscribed.push(s);
    } else {
      for (const s of request.streams) if (this.live.has(s)) unsubscribed.push(s);
    }
    for (const s of subscribed) this.live.add(s);
    for (const s of unsubscribed) {
      this.live.delete(s);
      // A refresh (a stale stream's resubscribe) is announced when it is decided.
      const refreshed = this.#refresh.delete(s);
      if (this.desired.has(s) && !refreshed) interrupted.push(s);
    }
    return { subscribed, unsubscribed, interrupted };
  }

  #refused(request: VenueRequest, error: { code: number | string; msg: string }): AppliedChange {
    if (request.op === 'unsubscribe') {
      // The server does not have them: treat as gone.
      return this.#apply(request);
    }
    const added =
      request.op === 'replace'
        ? request.streams.filter((s) => !this.live.has(s))
        : [...request.streams];
    if (added.length === 0) {
      // A replace that only removes streams was refused: nothing new can be at fault. Take the
      // removal as done, or it would be asked again forever; late data is counted unrouted.
      return this.#apply(request);
    }
    if (added.length === 1) {
      const stream = added[0]!;
      this.desired.delete(stream);
      this.#o.events.rejected(stream, error.code, error.msg);
      return NO_CHANGE;
    }
    // Bisect: one bad name must not cost the others their data.
    const half = Math.ceil(added.length / 2);
    this.#suspects.push(added.slice(0, half), added.slice(half));
    return NO_CHANGE;
  }

  #pump(): void {
    if (this.#closed || this.#inflight || this.#pumpTimer !== undefined) return;
    if (this.feed.state !== 'open') return;
    const request = this.#nextRequest();
    if (!request) return;
    if (request.frame !== null) {
      const wait = Math.max(this.limiter.wait(), this.minuteLimiter?.wait() ?? 0);
      if (wait > 0) {
        // Nothing is taken while the pump waits: the request is computed afresh then, and a
        // refused batch's slice is still first in line, not mixed with streams taken meanwhile.
        this.#pumpTimer = this.#o.clock.setTimeout(() => {
          this.#pumpTimer = undefined;
          this.#pump();
        }, wait);
        return;
      }
    }
    // Taken now, as it goes: whenever a refused batch's slice is left, the request is the
    // first one's (#nextRequest).
    this.#suspects.shift();
    if (request.frame === null) {
      // Nothing can be said on the wire (Upbit has no request for an empty set): the change
      // takes effect here alone, and the server goes on sending what it had.
      for (const s of this.live) if (!request.streams.includes(s)) this.#unsaid.add(s);
      this.#o.events.answered(request, 0, false, this.#apply(request));
      this.#pump();
      return;
    }
    this.limiter.tryAcquire();
    this.minuteLimiter?.tryAcquire();
    if (!this.feed.send(request.frame)) return;
    const added = new Set<string>();
    if (request.op !== 'unsubscribe') {
      // A stream the server still sends after a change it could not be told of is not new:
      // its data would prove nothing of this request.
      for (const s of request.streams) if (!this.live.has(s) && !this.#unsaid.has(s)) added.add(s);
    }
    const inflight: Inflight = {
      request,
      sentAt: this.#o.clock.monotonic(),
      timer: undefined,
      added,
    };
    this.#inflight = inflight;
    const settleMs = this.#settleMs;
    if (settleMs === undefined) {
      this.#judgeAfter(inflight, this.#o.requestTimeoutMs, () => {
        this.#inflight = undefined;
        this.#o.events.timedOut(request);
      });
    } else {
      // No refusal in time: the venue accepted it.
      this.#judgeAfter(inflight, settleMs, () => this.#finish(inflight));
    }
  }

  /**
   * Run `verdict` on the request in flight `ms` from now, once every frame read by then has
   * been dispatched, and not while the socket is held unread. An answer read in time may wait
   * in the feed's queue behind frames a slow subscriber has not taken yet, or in the kernel
   * while the `pause` policy holds the socket: judged before it is dispatched, a request
   * answered at once timed out (and the connection started over, with a gap on every stream)
   * or, on a venue that answers only refusals, was taken as applied.
   */
  #judgeAfter(inflight: Inflight, ms: number, verdict: () => void): void {
    let deadline: number | undefined;
    const judge = (): void => {
      if (this.#inflight !== inflight) return;
      // While paused nothing is read, the answer neither: the deadline is taken once reading
      // resumes.
      deadline = this.feed.readingPaused ? undefined : (deadline ?? this.#o.clock.monotonic());
      if (
        deadline === undefined ||
        (this.feed.queuedSince ?? Number.POSITIVE_INFINITY) <= deadline
      ) {
        inflight.timer = this.#o.clock.setTimeout(judge, BACKLOG_RECHECK_MS);
        return;
      }
      verdict();
    };
    inflight.timer = this.#o.clock.setTimeout(judge, ms);
  }

  /**
   * The next request: for the first slice of a refused batch still to try, else for the
   * difference between `desired` and `live`. It takes nothing: #pump does, once the request
   * may go out.
   */
  #nextRequest(): VenueRequest | undefined {
    const nextId = () => this.#nextId++;
    while (this.#suspects.length > 0) {
      const slice = this.#suspects[0]!.filter((s) => this.desired.has(s) && !this.live.has(s));
      // Nothing left to try (released, or subscribed meanwhile): the slice is done.
      if (slice.length === 0) {
        this.#suspects.shift();
        continue;
      }
      // The set to try (for venues whose request replaces it): what is still wanted, and the
      // slice; a released stream would only take the place of a wanted one.
      const all = [...this.live].filter((s) => this.desired.has(s)).concat(slice);
      return this.#o.venue.requests({ subscribe: slice, unsubscribe: [], all }, nextId)[0];
    }
    const suspected = new Set(this.#suspects.flat());
    const unsubscribe: string[] = [];
    for (const s of this.live)
      if (!this.desired.has(s) || this.#refresh.has(s)) unsubscribe.push(s);
    const subscribe: string[] = [];
    for (const s of this.desired) {
      if (!this.live.has(s) && !suspected.has(s) && !this.#o.heldElsewhere(s)) subscribe.push(s);
    }
    if (subscribe.length === 0 && unsubscribe.length === 0) return undefined;
    // The set after the change, for venues whose request replaces the set.
    const leaving = new Set(unsubscribe);
    const all = [...this.live].filter((s) => !leaving.has(s)).concat(subscribe);
    return this.#o.venue.requests({ subscribe, unsubscribe, all }, nextId)[0];
  }

  #reset(): void {
    if (this.#inflight) this.#o.clock.clearTimeout(this.#inflight.timer);
    if (this.#pumpTimer !== undefined) this.#o.clock.clearTimeout(this.#pumpTimer);
    this.#inflight = undefined;
    this.#pumpTimer = undefined;
    this.live.clear();
    this.#unsaid.clear();
    this.#refresh.clear();
    // Suspects are kept: a stream the exchange refused once is still bisected after a reconnect.
  }
}

/** The error a refused stream's subscribers receive. */
export function rejectedError(stream: string, code: number | string, msg: string): UnifeedError {
  return new UnifeedError(
    ErrorCode.StreamRejected,
    `exchange refused ${stream}: ${msg} (code ${code})`,
    typeof code === 'number' ? { stream, venueCode: code } : { stream, venueError: code },
  );
}
