import { Observable, Subject, filter } from 'rxjs';
import { MAX_TIMER_MS, realClock, type Clock, type TimerHandle } from './clock.js';
import { ErrorCode, UnifeedError } from './errors.js';
import { FanOut, type Sink } from './fan-out.js';
import { LatencyHistogram, type LatencySummary } from './histogram.js';
import { guardedLogger, silentLogger, type Logger } from './logger.js';
import {
  given,
  requireClock,
  requireDuration,
  requireInRange,
  requireLogger,
  requireObject,
  requireVenue,
  withDefaults,
  type PartialOptions,
} from './options.js';
import { ParsedStream, type ParsedStreamHost } from './parsed-stream.js';
import type { FeedPlugin } from './plugin.js';
import { PoolConnection, rejectedError } from './pool-connection.js';
import type { SlidingWindowLimiter } from './sliding-window-limiter.js';
import { venueAttemptLimiter } from './venue-attempt-limiter.js';
import type { RawFrame } from './transport.js';
import { UnifiedFeed, type FeedStatus, type UnifiedFeedOptions } from './unified-feed.js';
import type { Venue } from './venue.js';

/** Settings of a {@link StreamPool}: the venue, pool policies, and the options of every connection. */
export interface StreamPoolOptions extends Omit<
  UnifiedFeedOptions,
  'url' | 'onOpen' | 'onPing' | 'queueKey' | 'name'
> {
  /**
   * The exchange's dialect (`binanceSpot()`, `binanceUsdm()`, `upbit()`, or your own): its URLs,
   * limits, heartbeat and messages. Required; what is no `Venue` is refused at construction.
   */
  venue: Venue;
  /**
   * The connection-attempt budget every connection of the pool draws from; a handshake
   * answered 429 or 418 holds it for all of them.
   * @default `venueAttemptLimiter(venue, clock)`: one limiter per venue name, `wsUrl` host
   * and clock, shared by every pool of the process (and the USD-M futures account feed on that
   * host): the venue counts attempts per IP. `limits.connectionAttempts` per
   * `limits.connectionAttemptWindowMs` of the venue; of several pools that state different
   * limits, each holds as stated
   */
  attemptLimiter?: SlidingWindowLimiter | undefined;
  /**
   * Decodes a frame, once, in each connection's drain; wins over the venue's own.
   * @default the venue's `decode`, or `decodeJson` (UTF-8 text to `parseJson`) when it has none
   */
  decode?: ((frame: RawFrame) => unknown) | undefined;
  /**
   * A subscribe or unsubscribe request unanswered this long makes its connection reconnect;
   * judged once the frames read by then are dispatched (an answer may wait behind a backlog).
   * @default 10000
   */
  requestTimeoutMs?: number | undefined;
  /** A connection left with no streams closes after this grace period. @default 30000 */
  idleCloseMs?: number | undefined;
  /**
   * Connections are replaced (make-before-break) this long after they open: before the
   * venue's lifetime cut. @default the venue's lifetime minus 10 minutes, or minus a sixth of
   * it when that is less (Binance: 23 h 50 min)
   */
  rotateAfterMs?: number | undefined;
  /**
   * Up to this much random delay is added to `rotateAfterMs`, so connections rotate apart.
   * @default 300000, or a twelfth of the venue's lifetime when that is less
   */
  rotateJitterMs?: number | undefined;
  /**
   * A rotation's old connection closes at the latest this long after the new one is settled;
   * and for as long after the switch, what the new one sends is checked against what the old
   * one delivered, in case it lags behind. @default 10000
   */
  overlapMaxMs?: number | undefined;
  /** A stream is stale after this many times its cadence of silence. @default 10 */
  staleFactor?: number | undefined;
  /** ...and never before this much silence. @default 30000 */
  staleMinMs?: number | undefined;
  /** How often rates and stale streams are computed. @default 1000 */
  tickMs?: number | undefined;
  /**
   * Name of a query parameter added to every connection URL with the connection's slot,
   * `<pool>.<connection>` (e.g. `?slot=1.7`): the same value on every reconnect of a slot, a new
   * one for a rotation's replacement. A server (the simulator, a proxy, a venue's logs) can then
   * tell a reconnect from a second live socket of the same slot. Binance ignores query
   * parameters it does not know. @default undefined (no parameter)
   */
  slotParam?: string | undefined;
}

/** Why a stream has a hole. */
export type GapReason =
  'reconnect' | 'queue-drop' | 'conflated' | 'decode' | 'stale' | 'rotation' | 'resubscribe';

/** Everything a pool reports, as one discriminated union. */
export type PoolStatus =
  /** A status of one connection's feed. */
  | { type: 'connection'; connection: number; group: string; status: FeedStatus }
  /** Data of `stream` may be missing from here on: stateful consumers resync. */
  | { type: 'gap'; stream: string; reason: GapReason }
  /** A stream's subscribers got an error and were ended (exchange refusal). */
  | { type: 'stream-error'; stream: string; error: UnifeedError }
  /** A payload a plugin could not parse was skipped. */
  | { type: 'parse-error'; stream: string; plugin: string; error: UnifeedError }
  /** A stream with a fixed cadence was silent on a live connection and was resubscribed. */
  | { type: 'stream-stale'; stream: string; silentMs: number }
  /** A connection was replaced make-before-break. */
  | { type: 'rotation'; from: number; to: number; reason: 'lifetime' | 'shutdown' };

/** One connection in {@link StreamPoolStats}. */
export interface PoolConnectionStats {
  id: number;
  group: string;
  role: 'active' | 'draining';
  state: UnifiedFeed['state'];
  streams: number;
  live: number;
  messagesPerSecond: number;
  bytesPerSecond: number;
  reconnects: number;
  queueDepth: number;
  queueDropped: number;
  /** Frames the `conflate` policy replaced with a newer one of their stream. */
  queueConflated: number;
  /** Frames that could not be decoded (skipped and counted, never fatal). */
  decodeErrors: number;
  /** Times the heartbeat found this connection silent and replaced its socket. */
  stales: number;
  lagP99Ms: number;
}

/** Counters and gauges of a pool. */
export interface StreamPoolStats {
  venue: string;
  /** Streams with at least one subscriber. */
  streams: number;
  /** Subscribers over all streams: of `watch()` and of `observe()`, each once per stream. */
  subscribers: number;
  connections: number;
  streamsPerConnection: number[];
  messages: number;
  bytes: number;
  messagesPerSecond: number;
  bytesPerSecond: number;
  reconnects: number;
  /**
   * Holes announced on `status$`, but for `conflated` ones: those are the `conflate` policy
   * working at every burst of a ticker, counted in `queue.conflated`.
   */
  gaps: number;
  rejected: number;
  parseErrors: number;
  /**
   * Frames no connection could decode (skipped, and each an `UNIFEED_DECODE` error on
   * `status$`), closed connections included: the per-connection counts go with their connection.
   */
  decodeErrors: number;
  staleResubscribes: number;
  rotations: number;
  /** Messages for streams nobody here subscribes (late after an unsubscribe, duplicates). */
  unrouted: number;
  /**
   * Decoded messages that were neither data of a stream, nor the answer to a request in
   * flight, nor a notice; each was also reported as `UNIFEED_UNEXPECTED_MESSAGE`.
   */
  unexpected: number;
  /**
   * Repeats suppressed: messages seen on both connections of a rotation, and events of a plugin
   * with a `sequence` sent twice in a row.
   */
  duplicatesSuppressed: number;
  subscribeLatency: LatencySummary;
  /**
   * `dropped`: by full queues; `conflated`: replaced by a newer message of their stream under
   * the `conflate` policy (the policy working, not a full queue, though a hole all the same).
   */
  queue: { depth: number; maxDepth: number; dropped: number; conflated: number };
  /**
   * Receive-to-dispatch lag of every message of every connection this pool ever had.
   * `reconnects`, `queue.dropped`, `queue.conflated` and `queue.maxDepth` (the deepest any
   * connection's queue has been) likewise include closed connections: they never go down.
   */
  lag: LatencySummary;
  /** The worst connection's median receive-to-dispatch lag. */
  lagP50Ms: number;
  /** The worst connection's receive-to-dispatch lag. */
  lagP99Ms: number;
  perConnection: PoolConnectionStats[];
}

/** The pool's own numbers, with their defaults filled in. */
type PoolSettings = {
  [
    K in
      | 'requestTimeoutMs'
      | 'idleCloseMs'
      | 'rotateAfterMs'
      | 'rotateJitterMs'
      | 'overlapMaxMs'
      | 'staleFactor'
      | 'staleMinMs'
      | 'tickMs'
  ]-?: Exclude<StreamPoolOptions[K], undefined>;
};

/**
 * Keys kept per stream for a venue with `repeatKey`: a second's worth of messages of a busy
 * stream, where the two connections of a rotation repeat each other within their lag.
 */
const SEEN_LIMIT = 256;

/**
 * The least each setting may be. Zero would time every request out at once, rotate every
 * connection the moment it opened and run the tick in a loop; a stale factor under 1 would
 * judge a stream silent before its cadence had passed once.
 */
const SETTING_MINIMUMS: Readonly<PoolSettings> = {
  requestTimeoutMs: 1,
  idleCloseMs: 0,
  rotateAfterMs: 1,
  rotateJitterMs: 0,
  overlapMaxMs: 0,
  staleFactor: 1,
  staleMinMs: 0,
  tickMs: 1,
};

interface StreamState {
  readonly name: string;
  readonly group: string;
  /** `watch` subscribers (rxjs Subscribers) and parsed streams. */
  readonly subscribers: FanOut<unknown>;
  connection: PoolConnection;
  /** During a rotation: the connection being replaced, which may deliver the same messages. */
  previous: PoolConnection | undefined;
  /**
   * From a rotation's start until the new connection has passed it (at most `overlapMaxMs`
   * after the switch): the highest sequence delivered per scope (`Venue.sequenceScope`; `''`
   * for the whole stream). Undefined the rest of the time, so a stream keeps nothing for it.
   */
  delivered: Map<string, number> | undefined;
  /**
   * For a venue whose messages carry no order (`Venue.repeatKey`): the keys of the latest
   * messages delivered since the overlap began, at most {@link SEEN_LIMIT}, for as long as
   * `delivered` is kept.
   */
  seen: Set<string> | undefined;
  /**
   * When the tick may drop `delivered` and `seen` (monotonic): `overlapMaxMs` after the latest
   * overlap ended, so that an earlier rotation's deadline does not cut a later one's short.
   */
  marksUntil: number;
  /**
   * While `previous` delivers too: per scope, where the new connection's run begins. It
   * carries everything from its first message on a socket on, so every message from the run's
   * start up to the mark was delivered, and what the old one brings below it, once the new one
   * got ahead, is a message only the old one had and the pool did not deliver: a hole.
   */
  firstNew: Map<string, NewRun> | undefined;
  /** A hole of this overlap was reported: one gap per overlap, which one resync covers. */
  holeReported: boolean;
  /** The shortest cadence its subscribers expect, by which the tick judges it silent. */
  cadenceMs: number | undefined;
  /**
   * The cadence each subscriber that gave one expects: the stream is judged by the shortest
   * of those still subscribed, not by one a subscriber that left had asked for.
   */
  cadences: Map<Sink<unknown>, number> | undefined;
  /**
   * Data arrived since the last tick. A flag per message instead of a clock reading: the tick
   * dates it (`lastMessageAt`), to within a tick, which a silence of 30 s or more can spare.
   */
  heard: boolean;
  /** When the stream was last heard (`clock.monotonic()`, to the tick) or confirmed. */
  lastMessageAt: number;
}

/** The new connection's run of one scope during a rotation (see {@link StreamState.firstNew}). */
interface NewRun {
  /** Its first sequence. */
  seq: number;
  /**
   * The replacement's current socket has carried the scope: false from its reconnect until the
   * new socket's first message of the scope, which decides whether the run goes on (#carried).
   */
  thisSocket: boolean;
}

interface Slot {
  conn: PoolConnection;
  lifetimeTimer: TimerHandle | undefined;
  idleTimer: TimerHandle | undefined;
  wasOpen: boolean;
  /** A rotation asked for while this connection was still taking over from another. */
  rotateNext: 'lifetime' | 'shutdown' | undefined;
  lastMessages: number;
  lastBytes: number;
  messagesPerSecond: number;
  bytesPerSecond: number;
}

interface Rotation {
  from: Slot;
  to: Slot;
  /** Streams the new connection has not delivered yet. */
  waiting: Set<string>;
  timer: TimerHandle | undefined;
  /**
   * When the old connection was pinged as the rotation began (monotonic; undefined if it could
   * not be): a frame from it since proves it alive, none says it froze before (see
   * #finishRotation).
   */
  probedAt: number | undefined;
}

/**
 * Many exchange streams over the fewest connections a venue allows. Streams are reference
 * counted: the first subscriber subscribes on the exchange, the last one's unsubscribe
 * unsubscribes; a stream shared by many subscribers is subscribed and parsed once.
 */
export class StreamPool {
  readonly venue: Venue;
  readonly #o: StreamPoolOptions;
  readonly #settings: PoolSettings;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #attempts: SlidingWindowLimiter;
  readonly #streams = new Map<string, StreamState>();
  readonly #slots = new Map<number, Slot>();
  readonly #rotations = new Map<number, Rotation>();
  /** Streams switched to one connection, whose repeat marks the tick drops at `until`. */
  readonly #settling: { until: number; states: StreamState[] }[] = [];
  readonly #parsed = new Map<FeedPlugin<never, unknown>, Map<string, ParsedStream>>();
  readonly #status = new Subject<PoolStatus>();
  readonly #subscribeLatency = new LatencyHistogram();
  /** What connections closed by the pool had counted, so that totals never go down. */
  readonly #retired = {
    reconnects: 0,
    dropped: 0,
    conflated: 0,
    decodeErrors: 0,
    bytes: 0,
    maxDepth: 0,
    lag: new LatencyHistogram(),
  };
  /** When the rates were last computed: a late tick divides by the time that really passed. */
  #lastTickAt: number | undefined;
  #tickTimer: TimerHandle | undefined;
  /** This pool's part of a slot key (`slotParam`): unique per process. */
  readonly #poolId = nextPoolId++;
  #nextConnection = 1;
  #closed = false;
  /** `close()`'s work: every later call gets the same promise. */
  #closing: Promise<void> | undefined;
  /**
   * Stops of the connections the pool closed, each until it settles: one may wait up to
   * `closeTimeoutMs` for its peer, its timer armed. `close()` waits for them all, those let go
   * of before it (a rotation's old one, an idle one) too: they are no longer among `#slots`.
   */
  readonly #retiring = new Set<Promise<void>>();
  #counts = {
    gaps: 0,
    rejected: 0,
    parseErrors: 0,
    staleResubscribes: 0,
    rotations: 0,
    unrouted: 0,
    unexpected: 0,
    duplicatesSuppressed: 0,
    messages: 0,
    messagesPerSecond: 0,
    bytesPerSecond: 0,
  };

  constructor(options: StreamPoolOptions) {
    requireObject('the options of StreamPool', options);
    requireVenue(options.venue);
    // A string first: `RegExp.test(null)` tests the text "null", and passes.
    const slotParam: unknown = options.slotParam;
    if (
      slotParam !== undefined &&
      (typeof slotParam !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(slotParam))
    ) {
      throw new UnifeedError(
        ErrorCode.InvalidOption,
        '`slotParam` must be 1 to 32 letters, digits, `_` or `-`',
      );
    }
    this.#o = options;
    this.venue = options.venue;
    const lifetime = this.venue.limits.connectionLifetimeMs;
    const defaults: PoolSettings = {
      requestTimeoutMs: 10_000,
      idleCloseMs: 30_000,
      // Margins in proportion to a short lifetime (a proxy's cut, say): ten minutes off five
      // would rotate every connection the moment it opened, for ever.
      rotateAfterMs: lifetime - Math.min(600_000, lifetime / 6),
      rotateJitterMs: Math.min(300_000, lifetime / 12),
      overlapMaxMs: 10_000,
      staleFactor: 10,
      staleMinMs: 30_000,
      tickMs: 1000,
    };
    const chosen: PartialOptions<PoolSettings> = {};
    for (const name of Object.keys(defaults) as (keyof PoolSettings)[])
      chosen[name] = options[name];
    this.#settings = withDefaults(defaults, chosen);
    for (const name of Object.keys(defaults) as (keyof PoolSettings)[]) {
      // All durations but the factor, which multiplies a cadence into one: none may pass a
      // host timer's longest.
      requireInRange(name, this.#settings[name], SETTING_MINIMUMS[name], MAX_TIMER_MS);
    }
    requireClock(options.clock);
    requireLogger(options.logger);
    this.#clock = options.clock ?? realClock;
    this.#log = guardedLogger(options.logger ?? silentLogger).child({ venue: this.venue.name });
    // Not `??`: a `null` reaches the connections' check below and is refused there. Nor
    // `given()`, which would make the shared limiter, with this venue's limits, for every later
    // pool of the venue, even when this one brings its own.
    this.#attempts =
      options.attemptLimiter === undefined
        ? venueAttemptLimiter(this.venue, this.#clock)
        : options.attemptLimiter;
    // The connections' options are checked where every feed's are, in its constructor, by a
    // feed that is never started (nor asked for its URL): else a bad one would be found only
    // as each connection opened, failing every subscriber.
    new UnifiedFeed({ ...this.#feedOptions(), url: () => '', name: this.venue.name });
    this.#armTick();
  }

  /** The pool's clock: components built on a pool (order books) keep time with it. */
  get clock(): Clock {
    return this.#clock;
  }

  /** The pool's logger, bound to its venue. */
  get logger(): Logger {
    return this.#log;
  }

  /** Everything that happens in the pool. Completes on `close()`. */
  get status$(): Observable<PoolStatus> {
    return this.#status.asObservable();
  }

  /** Only the gaps: the streams whose data may have holes, and why. */
  get gaps$(): Observable<Extract<PoolStatus, { type: 'gap' }>> {
    return this.#status.pipe(
      filter((s): s is Extract<PoolStatus, { type: 'gap' }> => s.type === 'gap'),
    );
  }

  /**
   * Raw payloads of one stream. Cold and reference counted. Throws `UNIFEED_INVALID_STREAM`
   * at the call for a name the venue does not have. Errors only if the exchange refuses the
   * stream; completes on `close()`; reconnects are gaps on `status$`, never errors.
   */
  watch(stream: string, options: { cadenceMs?: number | undefined } = {}): Observable<unknown> {
    this.#assertOpen();
    requireObject('the options of watch', options);
    const group = this.#groupOf(stream);
    // NaN would judge the stream silent at every tick, and spread through Math.min to every
    // other subscriber of it.
    if (options.cadenceMs !== undefined) {
      requireDuration('cadenceMs', options.cadenceMs, 1);
    }
    return new Observable<unknown>((subscriber) => {
      if (this.#closed) {
        subscriber.complete();
        return;
      }
      const state = this.#acquire(stream, group, subscriber, options.cadenceMs);
      if (state === undefined) {
        subscriber.complete();
        return;
      }
      return () => this.#release(stream, subscriber);
    });
  }

  /**
   * Typed events of a plugin for `params`: the generic seam every feed package uses. Each
   * (plugin, stream) pair is subscribed and parsed once, however many subscribers it has.
   * Throws at the call when the plugin refuses the parameters for this venue.
   */
  observe<P, E>(plugin: FeedPlugin<P, E>, params: P): Observable<E> {
    this.#assertOpen();
    const streams = [...new Set(plugin.streams(params, this.venue))];
    const groups = streams.map((s) => this.#groupOf(s));
    return new Observable<E>((subscriber) => {
      let open = streams.length;
      if (this.#closed || open === 0) {
        subscriber.complete();
        return;
      }
      // One sink for all the call's streams: events go straight to the subscriber (no merge()
      // layer per message); it completes when every stream has, errors with the first error.
      const sink: Sink<unknown> = {
        next: (event) => subscriber.next(event as E),
        error: (err) => subscriber.error(err),
        complete: () => {
          if (--open === 0) subscriber.complete();
        },
      };
      // The joined streams, not a closure per stream to leave each: a pool holds thousands.
      const joined: ParsedStream[] = [];
      const leaveAll = (): void => {
        for (const parsed of joined) this.#leaveParsed(parsed, sink);
      };
      try {
        for (let i = 0; i < streams.length; i++) {
          joined.push(this.#joinParsed(plugin, streams[i]!, groups[i]!, sink));
        }
      } catch (err) {
        leaveAll(); // no stream joined so far stays subscribed
        throw err;
      }
      // Closed by a status handler while a stream's connection opened: close() completed the
      // streams it found, not those joined after.
      if (this.#closed) subscriber.complete();
      return leaveAll;
    });
  }

  stats(): StreamPoolStats {
    const perConnection: PoolConnectionStats[] = [];
    const retired = this.#retired;
    let reconnects = retired.reconnects;
    let decodeErrors = retired.decodeErrors;
    let bytes = retired.bytes;
    let depth = 0;
    let maxDepth = retired.maxDepth;
    let dropped = retired.dropped;
    let conflated = retired.conflated;
    let lagP50Ms = 0;
    let lagP99Ms = 0;
    const lag = new LatencyHistogram();
    lag.absorb(retired.lag.summary());
    for (const slot of this.#slots.values()) {
      const f = slot.conn.feed.stats();
      reconnects += f.reconnects;
      decodeErrors += f.decodeErrors;
      bytes += f.bytes;
      depth += f.queue.depth;
      maxDepth = Math.max(maxDepth, f.queue.maxDepth);
      dropped += f.queue.dropped;
      conflated += f.queue.conflated;
      lag.absorb(f.lag);
      lagP50Ms = Math.max(lagP50Ms, f.lag.p50Ms);
      lagP99Ms = Math.max(lagP99Ms, f.lag.p99Ms);
      perConnection.push({
        id: slot.conn.id,
        group: slot.conn.group,
        role: slot.conn.role,
        state: f.state,
        streams: slot.conn.desired.size,
        live: slot.conn.live.size,
        messagesPerSecond: slot.messagesPerSecond,
        bytesPerSecond: slot.bytesPerSecond,
        reconnects: f.reconnects,
        queueDepth: f.queue.depth,
        queueDropped: f.queue.dropped,
        queueConflated: f.queue.conflated,
        decodeErrors: f.decodeErrors,
        stales: f.stales,
        lagP99Ms: f.lag.p99Ms,
      });
    }
    let subscribers = 0;
    // An observe() of a stream is one sink here, its parsed stream, with its own subscribers.
    const count = (sink: Sink<unknown>): number =>
      sink instanceof ParsedStream ? sink.sinks.size : 1;
    for (const s of this.#streams.values()) subscribers += s.subscribers.sum(count);
    const c = this.#counts;
    return {
      venue: this.venue.name,
      streams: this.#streams.size,
      subscribers,
      connections: this.#slots.size,
      streamsPerConnection: perConnection.map((p) => p.streams),
      messages: c.messages,
      bytes,
      messagesPerSecond: c.messagesPerSecond,
      bytesPerSecond: c.bytesPerSecond,
      reconnects,
      gaps: c.gaps,
      rejected: c.rejected,
      parseErrors: c.parseErrors,
      decodeErrors,
      staleResubscribes: c.staleResubscribes,
      rotations: c.rotations,
      unrouted: c.unrouted,
      unexpected: c.unexpected,
      duplicatesSuppressed: c.duplicatesSuppressed,
      subscribeLatency: this.#subscribeLatency.summary(),
      queue: { depth, maxDepth, dropped, conflated },
      lag: lag.summary(),
      lagP50Ms,
      lagP99Ms,
      perConnection,
    };
  }

  /**
   * Stop every connection, complete every subscriber, and leave no timer or socket. Resolves
   * once every connection the pool ever opened has closed; every call gets the same promise.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      let closed!: (done: Promise<void>) => void;
      // Kept before the work starts: a subscriber completed by it may call close() again.
      this.#closing = new Promise<void>((resolve) => (closed = resolve));
      closed(this.#shutdown());
    }
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    this.#clock.clearTimeout(this.#tickTimer);
    // Only the tick writes the rates: stopped, it would leave a closed pool's last second
    // graphed as live traffic for good.
    this.#counts.messagesPerSecond = 0;
    this.#counts.bytesPerSecond = 0;
    for (const r of this.#rotations.values()) this.#clock.clearTimeout(r.timer);
    this.#rotations.clear();
    this.#settling.length = 0;
    for (const slot of [...this.#slots.values()]) this.#dropSlot(slot);
    for (const state of [...this.#streams.values()]) {
      state.subscribers.complete();
    }
    this.#streams.clear();
    await Promise.all(this.#retiring);
    this.#status.complete();
  }

  // --- streams --------------------------------------------------------------------------

  /**
   * Add `sink` to the parsed events of one (plugin, stream) pair, shared by all its sinks so
   * that each payload is parsed once. The pair exists only while it has sinks: an `observe()`
   * result that is never subscribed leaves nothing behind.
   */
  #joinParsed<P, E>(
    plugin: FeedPlugin<P, E>,
    stream: string,
    group: string,
    sink: Sink<unknown>,
  ): ParsedStream {
    const key = plugin as FeedPlugin<never, unknown>;
    let byStream = this.#parsed.get(key);
    if (!byStream) this.#parsed.set(key, (byStream = new Map()));
    let parsed = byStream.get(stream);
    if (!parsed) {
      parsed = new ParsedStream(key, stream, this.venue, this.#parsedHost);
      const cadenceMs = plugin.cadenceMs?.(stream, this.venue);
      const state = this.#acquire(stream, group, parsed, cadenceMs);
      if (state === undefined) return parsed; // the pool closed meanwhile: joins nothing
      byStream.set(stream, parsed);
    }
    parsed.sinks.add(sink);
    return parsed;
  }

  #leaveParsed(parsed: ParsedStream, sink: Sink<unknown>): void {
    if (!parsed.sinks.delete(sink) || parsed.sinks.size > 0) return;
    this.#release(parsed.stream, parsed);
    this.#forgetParsed(parsed);
  }

  #forgetParsed(parsed: ParsedStream): void {
    const byStream = this.#parsed.get(parsed.plugin);
    if (byStream?.get(parsed.stream) !== parsed) return;
    byStream.delete(parsed.stream);
    if (byStream.size === 0) this.#parsed.delete(parsed.plugin);
  }

  readonly #parsedHost: ParsedStreamHost = {
    parseFailed: (plugin, stream, err) => this.#parseFailed(plugin, stream, err),
    repeated: () => {
      this.#counts.duplicatesSuppressed++;
    },
    // Gone before the news: an error handler that subscribes again starts afresh.
    errored: (parsed) => this.#forgetParsed(parsed),
  };

  #parseFailed(plugin: string, stream: string, err: unknown): void {
    this.#counts.parseErrors++;
    const error =
      err instanceof UnifeedError
        ? err
        : new UnifeedError(ErrorCode.Parse, `${plugin} could not parse a ${stream} payload`, {
            cause: err,
            stream,
          });
    this.#status.next({ type: 'parse-error', stream, plugin, error });
  }

  /**
   * `sink` joins the stream's state, subscribed on a connection if new. Undefined when the
   * pool was closed meanwhile: a new connection announces itself (`connecting`) as it starts,
   * and a status handler may close the pool then.
   */
  #acquire(
    stream: string,
    group: string,
    sink: Sink<unknown>,
    cadenceMs: number | undefined,
  ): StreamState | undefined {
    // Closed by a status handler while an earlier stream of the same call subscribed.
    if (this.#closed) return undefined;
    const existing = this.#streams.get(stream);
    if (existing) {
      this.#join(existing, sink, cadenceMs);
      return existing;
    }
    const conn = this.#connectionFor(group, stream);
    const state: StreamState = {
      name: stream,
      group,
      subscribers: new FanOut(),
      connection: conn,
      previous: undefined,
      delivered: undefined,
      firstNew: undefined,
      holeReported: false,
      seen: undefined,
      marksUntil: 0,
      cadenceMs: undefined,
      cadences: undefined,
      heard: false,
      lastMessageAt: this.#clock.monotonic(),
    };
    this.#streams.set(stream, state);
    conn.desired.add(stream);
    this.#cancelIdle(conn.id);
    conn.schedule();
    // A new connection starts only with its first stream placed: its `connecting` reaches
    // status handlers, and streams they subscribe must find this one's room taken (and this
    // stream's state, if they take it too).
    if (conn.feed.state === 'idle') this.#start(this.#slots.get(conn.id)!);
    if (this.#closed) return undefined;
    // A handler took the stream and let it go again: this state is gone, and a subscriber
    // joined to it would wait for ever.
    if (this.#streams.get(stream) !== state) return this.#acquire(stream, group, sink, cadenceMs);
    this.#join(state, sink, cadenceMs);
    return state;
  }

  #join(state: StreamState, sink: Sink<unknown>, cadenceMs: number | undefined): void {
    state.subscribers.add(sink);
    if (cadenceMs === undefined) return;
    (state.cadences ??= new Map()).set(sink, cadenceMs);
    state.cadenceMs = Math.min(state.cadenceMs ?? Infinity, cadenceMs);
  }

  /**
   * `subscriber` leaves `stream`; the last one out unsubscribes. A stream the exchange refused
   * is already gone (or subscribed afresh, without this subscriber): nothing to do then.
   */
  #release(stream: string, subscriber: Sink<unknown>): void {
    const state = this.#streams.get(stream);
    if (state === undefined || !state.subscribers.delete(subscriber)) return;
    if (state.cadences?.delete(subscriber)) {
      state.cadenceMs = state.cadences.size > 0 ? Math.min(...state.cadences.values()) : undefined;
    }
    if (state.subscribers.size > 0) return;
    this.#streams.delete(state.name);
    const conn = state.connection;
    this.#arrived(conn, state.name);
    conn.desired.delete(state.name);
    conn.schedule();
    if (conn.desired.size === 0) this.#armIdle(conn.id);
  }

  /**
   * The connection still holding `stream` on the exchange (released, its subscribe unanswered
   * or its unsubscribe not yet confirmed): taking it back there avoids a second copy elsewhere.
   * Otherwise the first active connection of the group with room, or a new one, not started
   * yet: the caller starts it once the stream is placed (see #acquire).
   */
  #connectionFor(group: string, stream: string): PoolConnection {
    const limit = this.venue.limits.streamsPerConnection;
    for (const slot of this.#slots.values()) {
      const c = slot.conn;
      if (c.group === group && c.role === 'active' && c.holds(stream) && c.desired.size < limit) {
        return c;
      }
    }
    for (const slot of this.#slots.values()) {
      const c = slot.conn;
      if (c.group === group && c.role === 'active' && c.desired.size < limit) return c;
    }
    return this.#openSlot(group).conn;
  }

  // --- connections ----------------------------------------------------------------------

  /** Another active connection still holds `stream`, or may, after releasing it. */
  #heldElsewhere(stream: string, conn: PoolConnection): boolean {
    for (const slot of this.#slots.values()) {
      const c = slot.conn;
      if (c !== conn && c.role === 'active' && c.holds(stream) && !c.desired.has(stream)) {
        return true;
      }
    }
    return false;
  }

  #scheduleGroup(group: string): void {
    for (const slot of this.#slots.values()) if (slot.conn.group === group) slot.conn.schedule();
  }

  #openSlot(group: string): Slot {
    const id = this.#nextConnection++;
    const conn: PoolConnection = new PoolConnection(id, group, {
      clock: this.#clock,
      venue: this.venue,
      requestTimeoutMs: this.#settings.requestTimeoutMs,
      heldElsewhere: (stream): boolean => this.#heldElsewhere(stream, conn),
      events: {
        rejected: (stream, code, msg) => this.#rejected(stream, code, msg, conn),
        answered: (_request, latencyMs, refused, change) => {
          if (change.subscribed.length > 0) {
            this.#subscribeLatency.record(latencyMs);
            // Silence is measured from the confirmation, not from before an outage.
            const now = this.#clock.monotonic();
            for (const s of change.subscribed) {
              const state = this.#streams.get(s);
              if (state) state.lastMessageAt = now;
            }
          }
          // Released and taken back while its unsubscribe was out: the exchange stopped it, and
          // sends it again only once the new subscribe is applied.
          this.#gaps(
            change.interrupted.filter((s) => this.#streams.get(s)?.connection === conn),
            'resubscribe',
          );
          // A stream waiting for this one to let go (an unsubscribe, or a subscribe of a stream
          // released meanwhile that failed) may now be subscribed elsewhere.
          if (change.unsubscribed.length > 0 || refused) this.#scheduleGroup(group);
          this.#checkRotation(conn.id);
        },
        timedOut: (request) => {
          this.#status.next({
            type: 'connection',
            connection: id,
            group,
            status: {
              type: 'error',
              error: new UnifeedError(
                ErrorCode.SubscribeTimeout,
                `no answer to request ${request.id} (${request.op} of ${request.streams.length})`,
              ),
            },
          });
          conn.feed.reconnect('request timed out');
        },
      },
    });
    conn.feed = new UnifiedFeed({
      ...this.#feedOptions(),
      url: this.#connectionUrl(group, id),
      name: `${this.venue.name}#${id}`,
      onOpen: () => this.#opened(slot),
      onPing: () => conn.recordPing(),
    });
    const slot: Slot = {
      conn,
      lifetimeTimer: undefined,
      idleTimer: undefined,
      wasOpen: false,
      rotateNext: undefined,
      lastMessages: 0,
      lastBytes: 0,
      messagesPerSecond: 0,
      bytesPerSecond: 0,
    };
    this.#slots.set(id, slot);
    conn.feed.messages$.subscribe((m) => {
      try {
        this.#onMessage(slot, m.data, m.readAt);
      } catch (err) {
        // A venue's dialect that throws on a hostile message (the built-in ones are written
        // not to) must not leave the socket loop: rxjs would rethrow it on a timer, an
        // uncaught exception that ends the process. Subscribers' throws never come here.
        const kind = err instanceof Error ? err.name : 'error';
        this.#unexpected(slot, `a message the venue's dialect could not read (${kind})`);
      }
    });
    conn.feed.status$.subscribe((status) => this.#onFeedStatus(slot, status));
    return slot;
  }

  /** Connect a slot: its `connecting` goes to status handlers now, which may close the pool. */
  #start(slot: Slot): void {
    // start() only rejects when the slot is dropped before it connected: nothing to report.
    slot.conn.feed.start().catch(() => {});
  }

  /** What every connection's feed is given, but its URL, name and hooks. */
  #feedOptions(): Omit<UnifiedFeedOptions, 'url' | 'name'> {
    const {
      venue: _v,
      requestTimeoutMs: _r,
      idleCloseMs: _i,
      slotParam: _s,
      ...feedOptions
    } = this.#o;
    const heartbeat =
      this.venue.heartbeat.style === 'message'
        ? { ...this.#o.heartbeat, message: this.venue.heartbeat.message, mode: 'message' as const }
        : this.#o.heartbeat;
    return {
      ...feedOptions,
      heartbeat,
      clock: this.#clock,
      attemptLimiter: this.#attempts,
      decode: given(this.#o.decode, this.venue.decode),
      queueKey: this.venue.streamKey,
      logger: this.#log,
    };
  }

  #connectionUrl(group: string, id: number): string {
    const url = this.venue.url(group);
    const param = this.#o.slotParam;
    if (param === undefined) return url;
    const slot = `${param}=${this.#poolId}.${id}`;
    return `${url}${url.includes('?') ? '&' : '?'}${slot}`;
  }

  #opened(slot: Slot): void {
    slot.wasOpen = true;
    slot.conn.opened();
    // A replacement's socket (re)opened: it carries from its first message on this socket
    // on, and each moved stream waits for it again before the old connection may close.
    const rotation = this.#rotations.get(slot.conn.id);
    if (rotation !== undefined) {
      for (const stream of slot.conn.desired) {
        const state = this.#streams.get(stream);
        if (state?.connection !== slot.conn || state.previous === undefined) continue;
        this.#reopened(state);
        rotation.waiting.add(stream);
      }
    }
    this.#clock.clearTimeout(slot.lifetimeTimer);
    const jitter = Math.floor((this.#o.random ?? Math.random)() * this.#settings.rotateJitterMs);
    // Each is in a timer's range, not always their sum: a clock that does not clamp (only
    // realClock does) would rotate 1 ms after every open.
    slot.lifetimeTimer = this.#clock.setTimeout(
      () => {
        slot.lifetimeTimer = undefined;
        this.#rotate(slot, 'lifetime');
      },
      Math.min(this.#settings.rotateAfterMs + jitter, MAX_TIMER_MS),
    );
  }

  #onFeedStatus(slot: Slot, status: FeedStatus): void {
    const conn = slot.conn;
    this.#status.next({ type: 'connection', connection: conn.id, group: conn.group, status });
    if (status.type === 'gap') {
      // The old connection of a rotation may be the only one that had a dropped frame (read
      // before the replacement's subscribe took effect): which one cannot be told, so its drops
      // are announced too, at the cost of a resync the replacement may not have needed.
      const state = this.#streams.get(status.key);
      if (state?.connection === conn || state?.previous === conn)
        this.#gap(status.key, status.reason);
    } else if (status.type === 'backoff' && conn.role === 'draining') {
      this.#drainingLost(slot);
    } else if (status.type === 'backoff' && slot.wasOpen) {
      slot.wasOpen = false;
      this.#clock.clearTimeout(slot.lifetimeTimer);
      slot.lifetimeTimer = undefined;
      conn.dropped();
      this.#scheduleGroup(conn.group);
      // A replacement that drops gets a whole overlap again once it is confirmed anew.
      const rotation = this.#rotations.get(conn.id);
      if (rotation !== undefined) {
        this.#clock.clearTimeout(rotation.timer);
        rotation.timer = undefined;
        // Every stream it took over was released meanwhile: with its request gone, nothing
        // else would ever end the rotation, and two empty connections would stay open.
        if (rotation.waiting.size === 0) queueMicrotask(() => this.#checkRotation(conn.id));
      }
      // A draining connection's streams are served by its replacement, and a replacement's
      // by the connection it replaces while that one still carries them: no hole.
      const holes = [...conn.desired].filter((stream) => {
        const state = this.#streams.get(stream);
        return state?.connection === conn && !state.previous?.live.has(stream);
      });
      this.#gaps(holes, 'reconnect');
    }
  }

  #onMessage(slot: Slot, data: unknown, readAt: number): void {
    const msg = this.venue.classify(data);
    const conn = slot.conn;
    switch (msg.kind) {
      case 'data':
        conn.sawData(msg.stream);
        this.#dispatch(conn, msg.stream, msg.payload);
        return;
      case 'response':
        if (!conn.answer(msg.id)) this.#unexpected(slot, 'an answer to no request in flight');
        return;
      case 'error':
        if (conn.answer(msg.id, { code: msg.code, msg: msg.msg }, readAt)) return;
        // A refused request was taken as applied: what the server has is unknown.
        if (conn.lateRefusal()) {
          this.#unexpected(
            slot,
            `a refusal after settleMs (code ${msg.code}); the connection starts over`,
          );
          if (!this.#closed) conn.feed.reconnect('a refusal after settleMs');
          return;
        }
        // An id-less error that is no refusal of a request (`-1003`): the request in flight
        // still waits for its own answer, or its timeout.
        this.#unexpected(slot, `a venue error that answers no request (code ${msg.code})`);
        return;
      case 'shutdown':
        this.#rotate(slot, 'shutdown');
        return;
      case 'pong':
        return;
      case 'unknown':
        this.#unexpected(slot, 'a message that is no data, answer or notice');
        return;
    }
  }

  /**
   * A message the venue's dialect has no place for: skipped, but counted and reported, so a
   * venue that changed its format is noticed instead of going quietly silent. The message
   * never quotes the frame: it could hold a listen key, and it could be megabytes.
   */
  #unexpected(slot: Slot, what: string): void {
    this.#counts.unexpected++;
    const conn = slot.conn;
    const error = new UnifeedError(ErrorCode.UnexpectedMessage, `connection ${conn.id}: ${what}`);
    this.#log.warn({ connection: conn.id, code: error.code }, error.message);
    this.#status.next({
      type: 'connection',
      connection: conn.id,
      group: conn.group,
      status: { type: 'error', error },
    });
  }

  #dispatch(conn: PoolConnection, stream: string, payload: unknown): void {
    const state = this.#streams.get(stream);
    if (!state || (state.connection !== conn && state.previous !== conn)) {
      this.#counts.unrouted++;
      return;
    }
    if (state.delivered !== undefined) {
      if (state.previous !== undefined && state.connection === conn) this.#arrived(conn, stream);
      const verdict = this.#overlap(state, payload, state.previous === conn);
      if (verdict === 'repeat') {
        this.#counts.duplicatesSuppressed++;
        return;
      }
      if (verdict === 'missed') {
        // Delivering it now would put it after later messages: the stream has a hole. Said
        // once: a gap per late message would restart the resync the first one began.
        if (!state.holeReported) this.#gap(stream, 'rotation');
        state.holeReported = true;
        return;
      }
    }
    state.heard = true;
    this.#counts.messages++;
    state.subscribers.next(payload);
  }

  /**
   * Rotation overlap: both connections carry the stream, and each message is delivered once.
   * After the old one closed, the new one may still repeat what the old delivered last, so a
   * scope stays checked until the new connection passes it. Sequences are compared within a
   * scope only: the symbols of `!bookTicker` each count their own update ids, and two symbols'
   * liquidations share a ms.
   */
  #overlap(state: StreamState, payload: unknown, fromOld: boolean): 'new' | 'repeat' | 'missed' {
    const delivered = state.delivered!;
    const seq = this.venue.sequence(payload);
    const key = this.venue.repeatKey?.(payload);
    if (seq === undefined) {
      if (key !== undefined && this.#seenBefore(state, key)) return 'repeat';
    } else {
      const scope = this.venue.sequenceScope?.(payload) ?? '';
      const last = delivered.get(scope);
      if (state.previous !== undefined && !fromOld) this.#carried(state, scope, seq, last);
      // An equal sequence is a repeat, unless the venue tells messages apart by key (two
      // states of one ms): then it is one if its key was delivered.
      const repeat =
        last !== undefined &&
        (seq < last || (seq === last && (key === undefined || this.#seenBefore(state, key))));
      if (repeat) {
        const first = fromOld ? state.firstNew?.get(scope)?.seq : undefined;
        return first !== undefined && seq < first ? 'missed' : 'repeat';
      }
      if (key !== undefined) this.#seenBefore(state, key);
      if (state.previous !== undefined) delivered.set(scope, seq);
      else delivered.delete(scope);
    }
    // Keys say nothing of order: they are kept until the tick drops the marks.
    if (state.previous === undefined && delivered.size === 0 && state.seen === undefined) {
      state.delivered = undefined;
    }
    return 'new';
  }

  /** Whether a message of this key was delivered in the overlap; remembers it if not. */
  #seenBefore(state: StreamState, key: string): boolean {
    const seen = (state.seen ??= new Set());
    if (seen.has(key)) return true;
    // The two connections repeat each other within their lag; the oldest key goes first.
    if (seen.size >= SEEN_LIMIT) seen.delete(seen.values().next().value!);
    seen.add(key);
    return false;
  }

  /**
   * The new connection carried `seq` of `scope`, the mark being `last`. Its first message
   * there begins its run; the first on a later socket (the replacement reconnected) goes on
   * with the run of the one before if it is at or below the mark (that run was delivered up to
   * it, and this socket carries everything on from here), and above the mark begins a new
   * run: what lies between may be only on the old connection, a hole if it comes late.
   */
  #carried(state: StreamState, scope: string, seq: number, last: number | undefined): void {
    state.firstNew ??= new Map();
    const run = state.firstNew.get(scope);
    if (run === undefined) {
      state.firstNew.set(scope, { seq, thisSocket: true });
    } else if (!run.thisSocket) {
      run.thisSocket = true;
      if (last === undefined || seq > last) run.seq = seq;
    }
  }

  /** Forget what the new connection carried first, and any hole said: a new overlap. */
  #newOverlap(state: StreamState): void {
    state.firstNew = undefined;
    state.holeReported = false;
  }

  /**
   * The replacement reconnected: a new overlap, whose hole is said again. What its earlier
   * socket carried was delivered, so what the old connection brings below that run is a hole
   * still, also before the new socket's first message shows where its own run begins (#carried).
   */
  #reopened(state: StreamState): void {
    state.holeReported = false;
    for (const run of state.firstNew?.values() ?? []) run.thisSocket = false;
  }

  /**
   * `from` refused `stream`. Its subscribers now may be another connection's, if the stream was
   * released and taken again while `from`'s request was out: that one asks for itself.
   */
  #rejected(stream: string, code: number | string, msg: string, from: PoolConnection): void {
    const state = this.#streams.get(stream);
    if (!state || state.connection !== from) return;
    this.#counts.rejected++;
    this.#streams.delete(stream);
    const conn = state.connection;
    this.#arrived(conn, stream);
    if (conn.desired.size === 0) this.#armIdle(conn.id);
    const error = rejectedError(stream, code, msg);
    this.#log.warn({ stream, code }, 'stream rejected');
    this.#status.next({ type: 'stream-error', stream, error });
    state.subscribers.error(error);
  }

  #gap(stream: string, reason: GapReason): void {
    // A handler of an earlier notice may have closed the pool: its streams have ended.
    if (this.#closed) return;
    if (reason !== 'conflated') this.#counts.gaps++;
    this.#status.next({ type: 'gap', stream, reason });
  }

  /**
   * Announce holes in streams chosen before anyone hears of one: a handler may release and
   * take streams again (a restart on a gap), and walking a live set while it does would
   * announce the restarted stream again, for ever, and lend a stream taken meanwhile a hole.
   */
  #gaps(streams: readonly string[], reason: GapReason): void {
    for (const stream of streams) this.#gap(stream, reason);
  }

  // --- rotation -------------------------------------------------------------------------

  /** Make-before-break: a new connection subscribes the same streams; the old closes after. */
  #rotate(from: Slot, reason: 'lifetime' | 'shutdown'): void {
    if (this.#closed || from.conn.role !== 'active') return;
    if (this.#rotations.has(from.conn.id)) {
      // It is still taking over from a connection that carries its streams: replaced now, the
      // streams would name the two newest connections and that one's data would go nowhere.
      from.rotateNext = reason;
      return;
    }
    from.conn.role = 'draining';
    this.#clock.clearTimeout(from.lifetimeTimer);
    from.lifetimeTimer = undefined;
    const moving = [...from.conn.desired].filter(
      (stream) => this.#streams.get(stream)?.connection === from.conn,
    );
    if (moving.length === 0) {
      // Nothing to carry over (an idle connection in its grace period): a replacement would
      // have nothing to confirm, so nothing would ever end the rotation or close it.
      this.#log.info({ connection: from.conn.id, reason }, 'closing an empty connection');
      this.#dropSlot(from);
      return;
    }
    // Started only once the streams are its: its `connecting` reaches status handlers, which
    // may close the pool or let a stream go, and must find the rotation whole.
    const to = this.#openSlot(from.conn.group);
    const waiting = new Set<string>();
    for (const stream of moving) {
      const state = this.#streams.get(stream)!;
      state.connection = to.conn;
      state.previous = from.conn;
      this.#newOverlap(state);
      // Marks left from a rotation just before are bounds of what was delivered: still true.
      state.delivered ??= new Map();
      to.conn.desired.add(stream);
      waiting.add(stream);
    }
    // Pinged now, the old connection answers long before the replacement (handshake, subscribe)
    // delivers: one that has sent nothing since by the rotation's end froze before it.
    const probedAt = from.conn.feed.probe() ? this.#clock.monotonic() : undefined;
    this.#rotations.set(to.conn.id, { from, to, waiting, timer: undefined, probedAt });
    this.#counts.rotations++;
    this.#log.info({ from: from.conn.id, to: to.conn.id, reason }, 'rotating connection');
    to.conn.schedule();
    this.#status.next({ type: 'rotation', from: from.conn.id, to: to.conn.id, reason });
    // A handler closed the pool, and the replacement with it.
    if (!this.#closed) this.#start(to);
  }

  /**
   * `stream` waits no longer on the rotation to `conn`: delivered there, released or refused.
   * The last one may end the rotation (once the replacement is settled).
   */
  #arrived(conn: PoolConnection, stream: string): void {
    const rotation = this.#rotations.get(conn.id);
    if (rotation?.waiting.delete(stream) && rotation.waiting.size === 0) {
      queueMicrotask(() => this.#checkRotation(conn.id));
    }
  }

  /**
   * Close a rotation's old connection once the new one has every stream confirmed and has
   * delivered each at least once, or `overlapMaxMs` after it is confirmed (quiet streams).
   */
  #checkRotation(connId: number): void {
    const rotation = this.#rotations.get(connId);
    if (!rotation || !rotation.to.conn.settled) return;
    if (rotation.waiting.size > 0) {
      rotation.timer ??= this.#clock.setTimeout(() => {
        rotation.timer = undefined;
        // The replacement dropped meanwhile: the old connection is all the stream has.
        // Its resubscribe's answer checks again.
        if (rotation.to.conn.settled) this.#finishRotation(rotation);
      }, this.#settings.overlapMaxMs);
      return;
    }
    this.#finishRotation(rotation);
  }

  /**
   * The connection being replaced went away before its replacement took over: what the new one
   * does not carry yet is a hole. The old one is not reconnected; the new one carries on.
   */
  #drainingLost(slot: Slot): void {
    // What it read but has not dispatched yet goes through the overlap's dedupe first, as when
    // a rotation ends: stopping it clears its queue, and with it messages only it had (read
    // before the replacement's subscribe took effect), unannounced. A subscriber of one of
    // them may close the pool meanwhile.
    const left = slot.conn.feed.flush(ROTATION_FLUSH_MS);
    if (this.#closed) return;
    const holes = this.#endOverlap(slot.conn).filter(
      (s) => !s.connection.live.has(s.name) || left?.has(s.name) === true,
    );
    this.#gaps(
      holes.map((s) => s.name),
      'rotation',
    );
    // Then the rotation ends by the path of a replacement that took over: one emptied
    // meanwhile, which its idle timer passed over while the rotation ran, is idle-closed now,
    // not left open until its own lifetime runs out. (None: a gap handler closed the pool.)
    const rotation = [...this.#rotations.values()].find((r) => r.from === slot);
    if (rotation !== undefined) this.#finishRotation(rotation);
  }

  /**
   * The rotation is over, whichever way it ended (the replacement took over, or the old one
   * died first: #drainingLost): the old connection closes, and the replacement is on its own,
   * idle-closed if it was emptied meanwhile, rotated in turn if that was asked.
   */
  #finishRotation(rotation: Rotation): void {
    if (this.#rotations.get(rotation.to.conn.id) !== rotation) return;
    this.#rotations.delete(rotation.to.conn.id);
    this.#clock.clearTimeout(rotation.timer);
    const old = rotation.from.conn;
    // Silent since it was pinged: it froze (half-open) before the rotation, and what it should
    // have carried until the replacement began is lost. Told, or the rotation would hide the
    // outage the heartbeat was about to find.
    const frozen = rotation.probedAt !== undefined && old.feed.lastFrameAt < rotation.probedAt;
    // What the old connection read but has not dispatched yet (it lags behind a busy queue)
    // goes through the overlap's dedupe first: closing would clear it, unannounced.
    const left = old.feed.flush(ROTATION_FLUSH_MS);
    const moved = this.#endOverlap(old);
    this.#dropSlot(rotation.from);
    if (frozen) {
      this.#log.warn(
        { connection: old.id },
        'rotated connection was silent: its streams have a hole',
      );
    }
    // Frozen, every stream it carried has a hole; else those a slow subscriber left frames of.
    const holes = frozen ? moved : moved.filter((s) => left?.has(s.name) === true);
    if (holes.length > 0) {
      this.#gaps(
        holes.map((s) => s.name),
        'rotation',
      );
      if (this.#closed) return;
    }
    // Emptied during the rotation, it waited for it to end (see #armIdle).
    if (rotation.to.conn.desired.size === 0) this.#armIdle(rotation.to.conn.id);
    this.#rotateNext(rotation.to);
  }

  /** A replacement now in charge is replaced in turn if a rotation was asked for meanwhile. */
  #rotateNext(slot: Slot): void {
    const reason = slot.rotateNext;
    slot.rotateNext = undefined;
    if (reason !== undefined) this.#rotate(slot, reason);
  }

  /**
   * The streams `from` carried during a rotation have one connection again. It may lag behind
   * `from` and repeat what `from` delivered: each stream's marks stay until it passes them, or
   * until the tick `overlapMaxMs` later drops them (a symbol that never comes again).
   */
  #endOverlap(from: PoolConnection): StreamState[] {
    const states: StreamState[] = [];
    for (const state of this.#streams.values()) {
      if (state.previous !== from) continue;
      state.previous = undefined;
      this.#newOverlap(state);
      states.push(state);
    }
    const until = this.#clock.monotonic() + this.#settings.overlapMaxMs;
    for (const state of states) state.marksUntil = until;
    if (states.length > 0) this.#settling.push({ until, states });
    return states;
  }

  /** Close a connection; its stop joins `#retiring` until it settles. */
  #dropSlot(slot: Slot): void {
    if (this.#slots.get(slot.conn.id) === slot) {
      const f = slot.conn.feed.stats();
      this.#retired.reconnects += f.reconnects;
      this.#retired.dropped += f.queue.dropped;
      this.#retired.conflated += f.queue.conflated;
      this.#retired.decodeErrors += f.decodeErrors;
      this.#retired.bytes += f.bytes;
      this.#retired.maxDepth = Math.max(this.#retired.maxDepth, f.queue.maxDepth);
      this.#retired.lag.absorb(f.lag);
    }
    this.#slots.delete(slot.conn.id);
    this.#clock.clearTimeout(slot.lifetimeTimer);
    this.#clock.clearTimeout(slot.idleTimer);
    slot.conn.close();
    // A connection waiting for this one to let go of a stream may subscribe it now.
    if (!this.#closed) this.#scheduleGroup(slot.conn.group);
    const stopping = slot.conn.feed.stop();
    this.#retiring.add(stopping);
    const forget = (): boolean => this.#retiring.delete(stopping);
    stopping.then(forget, forget);
  }

  #armIdle(connId: number): void {
    const slot = this.#slots.get(connId);
    if (!slot || slot.idleTimer !== undefined) return;
    slot.idleTimer = this.#clock.setTimeout(() => {
      slot.idleTimer = undefined;
      // A replacement still taking over waits: the rotation's end arms this again.
      if (slot.conn.desired.size === 0 && !this.#rotations.has(connId)) this.#dropSlot(slot);
    }, this.#settings.idleCloseMs);
  }

  #cancelIdle(connId: number): void {
    const slot = this.#slots.get(connId);
    if (slot?.idleTimer === undefined) return;
    this.#clock.clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
  }

  // --- housekeeping ---------------------------------------------------------------------

  /** One timer for the whole pool: rates, and streams silent for far longer than their cadence. */
  #armTick(): void {
    this.#tickTimer = this.#clock.setTimeout(() => {
      this.#tickTimer = undefined;
      if (this.#closed) return;
      this.#tick();
      // A status handler of the tick may have closed the pool.
      if (!this.#closed) this.#armTick();
    }, this.#settings.tickMs);
  }

  #tick(): void {
    const now = this.#clock.monotonic();
    const nominal = this.#settings.tickMs;
    const since = now - (this.#lastTickAt ?? now - nominal);
    // A tick that ran late covers the time that passed (and one that ran in the same ms as the
    // last, none: the nominal span stands in).
    const everyMs = since > 0 ? since : nominal;
    this.#lastTickAt = now;
    let messages = 0;
    let bytes = 0;
    for (const slot of this.#slots.values()) {
      const f = slot.conn.feed.traffic();
      slot.messagesPerSecond = ((f.messages - slot.lastMessages) * 1000) / everyMs;
      slot.bytesPerSecond = ((f.bytes - slot.lastBytes) * 1000) / everyMs;
      slot.lastMessages = f.messages;
      slot.lastBytes = f.bytes;
      messages += slot.messagesPerSecond;
      bytes += slot.bytesPerSecond;
    }
    this.#counts.messagesPerSecond = messages;
    this.#counts.bytesPerSecond = bytes;
    while (this.#settling.length > 0 && this.#settling[0]!.until <= now) {
      for (const state of this.#settling.shift()!.states) {
        // Rotated again meanwhile, or ended a later overlap: the marks are that one's now.
        if (state.previous === undefined && state.marksUntil <= now) {
          state.delivered = undefined;
          state.seen = undefined;
        }
      }
    }
    const { staleFactor: factor, staleMinMs: minMs } = this.#settings;
    // Decided and resubscribed first, told after (see #gaps).
    const stale: [stream: string, silentMs: number][] = [];
    for (const state of this.#streams.values()) {
      if (state.heard) {
        // Dated for every stream: one that gains a cadence later must not find an old flag.
        state.heard = false;
        state.lastMessageAt = now;
        continue;
      }
      if (state.cadenceMs === undefined) continue;
      const conn = state.connection;
      if (conn.feed.state !== 'open' || !conn.live.has(state.name)) continue;
      const silentMs = now - state.lastMessageAt;
      if (silentMs < Math.max(minMs, state.cadenceMs * factor)) continue;
      this.#counts.staleResubscribes++;
      state.lastMessageAt = now;
      conn.refresh(state.name);
      stale.push([state.name, silentMs]);
    }
    for (const [stream, silentMs] of stale) {
      if (this.#closed) return;
      this.#log.warn({ stream, silentMs }, 'stream silent, resubscribing');
      this.#status.next({ type: 'stream-stale', stream, silentMs });
      this.#gap(stream, 'stale');
    }
  }

  /** The venue's group of a stream name, which the venue checks; a name is a string first. */
  #groupOf(stream: unknown): string {
    if (typeof stream !== 'string') {
      throw new UnifeedError(
        ErrorCode.InvalidStream,
        `a stream name is a string, not ${Array.isArray(stream) ? 'an array' : typeof stream}`,
      );
    }
    return this.venue.group(stream);
  }

  #assertOpen(): void {
    if (this.#closed) throw new UnifeedError(ErrorCode.PoolClosed, 'pool is closed');
  }
}

/**
 * How long a closing connection's queue may take to reach its subscribers before what is left
 * is told as a `rotation` gap: the flush blocks the event loop, and a full queue through a
 * 20 ms subscriber held it for minutes, every other connection's socket and timers with it.
 */
const ROTATION_FLUSH_MS = 100;

let nextPoolId = 1;
