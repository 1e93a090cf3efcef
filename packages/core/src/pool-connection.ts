import type { Clock, TimerHandle } from './clock.js';
import { ErrorCode, UnifeedError } from './errors.js';
import { SlidingWindowLimiter } from './sliding-window-limiter.js';
import type { UnifiedFeed } from './unified-feed.js';
import type { Venue, VenueRequest } from './venue.js';

/** What a {@link PoolConnection} tells the pool. */
export interface PoolConnectionEvents {
  /** The exchange refused `stream` alone (after bisecting a refused batch). */
  rejected(stream: string, code: number, msg: string): void;
  /** A request was answered after `latencyMs`, refused or not. */
  answered(request: VenueRequest, latencyMs: number, refused: boolean): void;
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
   * True while another connection still holds `stream` on the exchange (released there, its
   * unsubscribe not yet confirmed): subscribing here now would put it on the exchange twice.
   */
  heldElsewhere(stream: string): boolean;
  events: PoolConnectionEvents;
}

interface Inflight {
  request: VenueRequest;
  sentAt: number;
  timer: TimerHandle;
}

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
  /** 'active' takes new streams; 'draining' is being replaced and only awaits its close. */
  role: 'active' | 'draining' = 'active';
  feed!: UnifiedFeed;
  readonly limiter: SlidingWindowLimiter;
  readonly #o: PoolConnectionOptions;
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
    // Two messages of the budget stay free: a heartbeat ping is recorded without waiting for
    // room, and the socket answers the server's pings with pongs by itself.
    this.limiter = new SlidingWindowLimiter({
      limit: Math.max(1, options.venue.limits.controlMessagesPerSecond - 2),
      windowMs: 1000,
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

  /** Route an answer to the request in flight. False when no request in flight has `id`. */
  answer(id: number, error?: { code: number; msg: string }): boolean {
    const inflight = this.#inflight;
    if (!inflight || inflight.request.id !== id) return false;
    this.#o.clock.clearTimeout(inflight.timer);
    this.#inflight = undefined;
    const { request } = inflight;
    if (error) {
      this.#refused(request, error);
    } else {
      for (const s of request.streams) {
        if (request.op === 'subscribe') this.live.add(s);
        else {
          this.live.delete(s);
          this.#refresh.delete(s);
        }
      }
    }
    this.#o.events.answered(request, this.#o.clock.now() - inflight.sentAt, error !== undefined);
    this.#pump();
    return true;
  }

  #refused(request: VenueRequest, error: { code: number; msg: string }): void {
    if (request.op === 'unsubscribe') {
      // The server does not have them: treat as gone.
      for (const s of request.streams) {
        this.live.delete(s);
        this.#refresh.delete(s);
      }
      return;
    }
    if (request.streams.length === 1) {
      const stream = request.streams[0]!;
      this.desired.delete(stream);
      this.#o.events.rejected(stream, error.code, error.msg);
      return;
    }
    // Bisect: one bad name must not cost the others their data.
    const half = Math.ceil(request.streams.length / 2);
    this.#suspects.push(request.streams.slice(0, half), request.streams.slice(half));
  }

  #pump(): void {
    if (this.#closed || this.#inflight || this.#pumpTimer !== undefined) return;
    if (this.feed.state !== 'open') return;
    const next = this.#nextRequest();
    if (!next) return;
    const wait = this.limiter.tryAcquire();
    if (wait > 0) {
      this.#pumpTimer = this.#o.clock.setTimeout(() => {
        this.#pumpTimer = undefined;
        this.#pump();
      }, wait);
      return;
    }
    const request = next;
    if (!this.feed.send(request.frame)) return;
    const timer = this.#o.clock.setTimeout(() => {
      if (this.#inflight?.request !== request) return;
      this.#inflight = undefined;
      this.#o.events.timedOut(request);
    }, this.#o.requestTimeoutMs);
    this.#inflight = { request, sentAt: this.#o.clock.now(), timer };
  }

  #nextRequest(): VenueRequest | undefined {
    const nextId = () => this.#nextId++;
    const all = [...this.desired];
    while (this.#suspects.length > 0) {
      const slice = this.#suspects.shift()!.filter((s) => this.desired.has(s) && !this.live.has(s));
      if (slice.length === 0) continue;
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
    return this.#o.venue.requests({ subscribe, unsubscribe, all }, nextId)[0];
  }

  #reset(): void {
    if (this.#inflight) this.#o.clock.clearTimeout(this.#inflight.timer);
    if (this.#pumpTimer !== undefined) this.#o.clock.clearTimeout(this.#pumpTimer);
    this.#inflight = undefined;
    this.#pumpTimer = undefined;
    this.live.clear();
    this.#refresh.clear();
    // Suspects are kept: a stream the exchange refused once is still bisected after a reconnect.
  }
}

/** The error a refused stream's subscribers receive. */
export function rejectedError(stream: string, code: number, msg: string): UnifeedError {
  return new UnifeedError(
    ErrorCode.StreamRejected,
    `exchange refused ${stream}: ${msg} (code ${code})`,
    { stream, venueCode: code },
  );
}
