import { EventEmitter } from 'node:events';
import { Subject, type Observable } from 'rxjs';
import type * as TE from 'typed-emitter';
import type { SlidingWindowLimiter } from './sliding-window-limiter.js';
import { parseRetryAfter, type BackoffOptions, type RetryCause } from './backoff.js';
import { BoundedQueue, type QueueOptions } from './bounded-queue.js';
import { Broadcast } from './broadcast.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { ErrorCode, UnifeedError, isUnifeedError } from './errors.js';
import {
  given,
  requireClock,
  requireDuration,
  requireFunction,
  requireInRange,
  requireLimiter,
  requireLogger,
  requireObject,
  requirePositiveInteger,
  type PartialOptions,
} from './options.js';
import { MESSAGE_TOO_LARGE } from './frame-reader.js';
import { CLOSE_NORMAL, CLOSE_TOO_BIG } from './websocket-codes.js';
import { Heartbeat, type HeartbeatOptions } from './heartbeat.js';
import { openNodeTransport } from './node-transport.js';
import { LatencyHistogram, type LatencySummary } from './histogram.js';
import { guardedLogger, silentLogger, type Logger } from './logger.js';
import { quoted } from './fields/index.js';
import { redactUrl } from './redact.js';
import { Reconnector } from './reconnector.js';
import { requireSecureUrl } from './secure-url.js';
import {
  decodeJson,
  frameSize,
  openTransport,
  type RawFrame,
  type Transport,
  type TransportListener,
  type TransportOptions,
  type WebSocketConstructor,
} from './transport.js';

/** Lifecycle of a {@link UnifiedFeed}. A stopped feed stays stopped. */
export type FeedState = 'idle' | 'connecting' | 'open' | 'backoff' | 'stopping' | 'stopped';

/** One decoded inbound message, as `messages$` emits it. */
export interface InboundMessage {
  /** The decoded frame (by default `parseJson`'s value, the value `JSON.parse` gives). */
  data: unknown;
  /** When the frame came off the socket, by the feed's clock (ms): a wall-clock timestamp. */
  receivedAt: number;
  /**
   * The same moment by the clock's `monotonic()` (ms): what durations and "before or after"
   * are measured with, which a step of the wall clock does not move.
   */
  readAt: number;
}

/** Everything that happens to a feed, as one discriminated union (`status$`). */
export type FeedStatus =
  | { type: 'connecting'; attempt: number }
  | { type: 'open'; connection: number }
  | { type: 'close'; code: number; reason: string }
  | { type: 'stale'; silentMs: number }
  | { type: 'backoff'; attempt: number; delayMs: number }
  | { type: 'gap'; key: string; dropped: number; reason: FeedGapReason }
  | { type: 'error'; error: UnifeedError }
  | { type: 'stopped' };

/**
 * Why frames of a stream were lost: the full queue dropped them (`queue-drop`), the `conflate`
 * policy replaced them with a newer frame of their stream (`conflated`: by design for a ticker,
 * a hole for a book's diffs or a closed candle), or one could not be decoded (`decode`; an
 * `error` status says so too).
 */
export type FeedGapReason = 'queue-drop' | 'conflated' | 'decode';

/** Typed events; the same facts as {@link FeedStatus}. */
export type UnifiedFeedEvents = {
  connecting: (attempt: number) => void;
  open: (connection: number) => void;
  close: (code: number, reason: string) => void;
  stale: (silentMs: number) => void;
  backoff: (attempt: number, delayMs: number) => void;
  /** `dropped` frames of stream `key` were lost: a hole in that stream. */
  gap: (key: string, dropped: number, reason: FeedGapReason) => void;
  /** Only emitted when someone listens: an unheard error must not throw. */
  error: (error: UnifeedError) => void;
  stopped: () => void;
};

/** Heartbeat settings of a feed. */
export interface FeedHeartbeatOptions extends HeartbeatOptions {
  /**
   * Application ping text, sent when the socket cannot send ping frames (browser sockets)
   * and the venue has one (OKX `ping`, Upbit `PING`), or always with `mode: 'message'`.
   * @default none
   */
  message?: string | undefined;
  /**
   * `frame`: a ping frame, or `message` where the socket has no ping frames. `message`: always
   * `message`, for venues whose application ping is their heartbeat (Upbit); its answer then
   * also proves the venue's application alive, not only the socket. @default 'frame'
   */
  mode?: 'frame' | 'message' | undefined;
}

/** Settings of a {@link UnifiedFeed}. */
export interface UnifiedFeedOptions {
  /**
   * Where to connect. A function is called before every attempt (1-based attempt number) so
   * the owner can change the URL, e.g. fetch a fresh listen key; it may return a promise.
   */
  url: string | ((attempt: number) => string | Promise<string>);
  /**
   * WebSocket constructor (`ws`, mock-socket in tests, a browser's). Without one, Node uses
   * unifeed's own client (node-transport.ts), which reads each socket into one reused buffer.
   * @default unifeed's client in Node, the global `WebSocket` elsewhere
   */
  WebSocket?: WebSocketConstructor | undefined;
  /** @default realClock */
  clock?: Clock | undefined;
  /** Random source in [0, 1) for back-off jitter. @default Math.random */
  random?: (() => number) | undefined;
  /** Where the feed logs. Secrets are redacted from every URL it logs. @default silent */
  logger?: Logger | undefined;
  /** @default { intervalMs: 20000, timeoutMs: 60000 } */
  heartbeat?: PartialOptions<FeedHeartbeatOptions> | undefined;
  /**
   * @default { initialMs: 1000, factor: 2, maxMs: 30000, jitter: 0.3, minUptimeMs: 10000,
   *   rateLimitedMs: 60000, bannedMs: 300000 }
   */
  backoff?: PartialOptions<BackoffOptions> | undefined;
  /** A connection-attempt budget shared with other feeds of the same venue. @default none */
  attemptLimiter?: SlidingWindowLimiter | undefined;
  /** @default { capacity: 10000, overflow: 'drop-oldest' } */
  queue?: PartialOptions<QueueOptions> | undefined;
  /**
   * Cheap key of a raw frame (its stream), used by the `conflate` policy and to count drops
   * per stream. Must not parse the frame. A frame it throws on gets the key `*` (kept, as a
   * frame of no stream is). @default every frame has the key `*`
   */
  queueKey?: ((frame: RawFrame) => string) | undefined;
  /** Decodes a frame, once, in the drain. @default `decodeJson`: UTF-8 text to `parseJson` */
  decode?: ((frame: RawFrame) => unknown) | undefined;
  /** An attempt that has not opened by then is abandoned and retried; at least 1. @default 10000 */
  handshakeTimeoutMs?: number | undefined;
  /** How long `stop()` waits for the closing handshake before terminating (0: not at all). @default 2000 */
  closeTimeoutMs?: number | undefined;
  /** Larger inbound frames are refused and the connection replaced. @default 16 MiB */
  maxPayloadBytes?: number | undefined;
  /** Most messages dispatched per drain slice before yielding to the event loop. @default 1024 */
  sliceMaxMessages?: number | undefined;
  /** Longest a drain slice may run before yielding to the event loop, ms. @default 10 */
  sliceMaxMs?: number | undefined;
  /** Called after every (re)connect, so the owner can (re)subscribe. */
  onOpen?: ((feed: UnifiedFeed) => void) | undefined;
  /**
   * Called for every heartbeat ping sent, so an owner can count it against a message rate. A
   * throw is logged, never passed on.
   */
  onPing?: (() => void) | undefined;
  /** A name for logs and stats. @default 'feed' */
  name?: string | undefined;
}

/** Counters and gauges of one feed. */
export interface UnifiedFeedStats {
  name: string;
  state: FeedState;
  /** Connection attempts (sockets created) so far. */
  connections: number;
  /** Times a socket opened after the first. */
  reconnects: number;
  /** Consecutive failed attempts now. */
  attempts: number;
  messages: number;
  bytes: number;
  decodeErrors: number;
  oversizedFrames: number;
  pingsSent: number;
  stales: number;
  lastMessageAt: number | undefined;
  queue: {
    depth: number;
    maxDepth: number;
    capacity: number;
    /** Frames dropped for want of room. */
    dropped: number;
    /** Frames the `conflate` policy replaced with a newer frame of their stream. */
    conflated: number;
    paused: boolean;
    /** Times the `pause` policy stopped reading the socket. */
    pauses: number;
    dropsByKey: Record<string, number>;
  };
  /** Receive to dispatch, ms. */
  lag: LatencySummary;
}

const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;
/**
 * Frames queued during one socket read before they are drained, within the read, instead of
 * in the microtask after it. A read of 64 KiB carries a hundred kline frames or more; parked
 * until the read ends, they and their Buffer views live through any scavenge in between, and
 * bytes surviving scavenges make V8 double its young generation and raise its old generation's
 * limit with it (bench:compare's fan-in at 10x: 0.3 MB surviving a second, against 0.08 with
 * batches of 32). Dispatching each frame as it arrives costs 30 % more CPU per message
 * (bench/firehose.bench.ts): a batch keeps the drain one hot loop.
 */
const READ_BATCH = 32;

interface Frame {
  raw: RawFrame;
  receivedAt: number;
  readAt: number;
}

const readAtOf = (frame: Frame): number => frame.readAt;

// typed-emitter is a CommonJS type package whose default export NodeNext sees as `.default`.
type TypedEmitter<Events extends TE.EventMap> = TE.default<Events>;
type OpenTransport = (
  url: string,
  options: TransportOptions,
  listener: TransportListener,
) => Transport;

/**
 * The given constructor; else unifeed's own client in Node (ping frames, pause, maxPayload),
 * the platform's WebSocket elsewhere.
 */
function transportOpener(Ctor: WebSocketConstructor | undefined): OpenTransport {
  const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
  const platform = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  const chosen = Ctor ?? (isNode || platform === undefined ? undefined : platform);
  return chosen === undefined
    ? openNodeTransport
    : (url, options, listener) => openTransport(chosen, url, options, listener);
}

/**
 * Throws `UNIFEED_INSECURE_URL` for plain `ws://` to a host that is not loopback: what such a
 * socket reads can be altered on the way. A URL that does not parse goes on to the socket,
 * which reports it (redacted) as it reports any URL it cannot open.
 */
function refusePlainRemote(url: string): void {
  try {
    requireSecureUrl(url, 'WebSocket URL');
  } catch (err) {
    if (isUnifeedError(err, ErrorCode.InsecureUrl)) throw err;
  }
}

const FeedEmitter = EventEmitter as unknown as new () => TypedEmitter<UnifiedFeedEvents>;

/**
 * One connection, and the single owner of everything that keeps it alive: the socket, the
 * heartbeat, the back-off reconnector and the bounded queue. It knows nothing of streams or
 * symbols; its owner (re)subscribes from `onOpen`.
 *
 * Invariants: at most one socket exists at a time; each socket has an epoch and events of a
 * replaced socket are ignored and its listeners removed before the next socket is created;
 * however many reconnects are requested at once, one attempt follows; after `stop()` no
 * timer and no socket remain.
 */
export class UnifiedFeed extends FeedEmitter {
  readonly name: string;
  readonly #options: UnifiedFeedOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #openTransport: OpenTransport;
  readonly #reconnector: Reconnector;
  readonly #heartbeat: Heartbeat;
  readonly #queue: BoundedQueue<Frame>;
  readonly #lag = new LatencyHistogram();
  /** Not a Subject: one value passes here per frame (broadcast.ts). */
  readonly #messages = new Broadcast<InboundMessage>();
  readonly #status = new Subject<FeedStatus>();
  readonly #decode: (frame: RawFrame) => unknown;
  readonly #maxPayload: number;
  readonly #sliceMax: number;
  readonly #sliceMs: number;
  readonly #handshakeMs: number;
  readonly #closeMs: number;

  #state: FeedState = 'idle';
  #epoch = 0;
  #transport: Transport | undefined;
  #handshakeTimer: TimerHandle | undefined;
  #drainTimer: TimerHandle | undefined;
  /** The stream of a raw frame (`queueKey`), `*` without one. */
  readonly #frameKey: (frame: RawFrame) => string;
  /**
   * Monotonic clock reading shared by the frames of the current socket read; set while the
   * read goes on, until the drain after it (queued with its first frame) ends it.
   */
  #readAt: number | undefined;
  /** The wall clock at the same moment: the read's frames' `receivedAt`. */
  #receivedAt = 0;
  /** Frames left in the current socket read's slice: those drained during the read count. */
  #readBudget = 0;
  #rejection: RetryCause | undefined;
  #start: { promise: Promise<void>; resolve(): void; reject(e: Error): void } | undefined;
  #stopping: Promise<void> | undefined;
  #opens = 0;
  #sockets = 0;
  #frames = 0;
  #bytes = 0;
  #decodeErrors = 0;
  #oversized = 0;
  #pings = 0;
  #stales = 0;
  #lastMessageAt: number | undefined;

  constructor(options: UnifiedFeedOptions) {
    super();
    requireObject('the options of UnifiedFeed', options);
    // A fixed URL is checked at once; one from a function, before every attempt.
    if (typeof options.url === 'string') refusePlainRemote(options.url);
    else if (typeof options.url !== 'function') {
      throw new UnifeedError(ErrorCode.InvalidOption, '`url` must be a string or a function');
    }
    for (const name of ['WebSocket', 'random', 'decode', 'queueKey', 'onOpen', 'onPing'] as const) {
      requireFunction(name, options[name]);
    }
    requireClock(options.clock);
    requireLimiter(options.attemptLimiter);
    this.#options = options;
    this.name = options.name ?? 'feed';
    requireLogger(options.logger);
    this.#clock = options.clock ?? realClock;
    this.#log = guardedLogger(options.logger ?? silentLogger).child({ feed: this.name });
    this.#openTransport = transportOpener(options.WebSocket);
    this.#decode = options.decode ?? decodeJson;
    this.#maxPayload = given(options.maxPayloadBytes, DEFAULT_MAX_PAYLOAD);
    // `ws` reads the limit as a 32-bit integer, and 0 as none: 0, NaN or 2^31 would lift it.
    requirePositiveInteger('maxPayloadBytes', this.#maxPayload);
    requireInRange('maxPayloadBytes', this.#maxPayload, 1, 2 ** 31 - 1);
    this.#sliceMax = given(options.sliceMaxMessages, 1024);
    // Zero would drain nothing and re-arm its zero-delay timer for ever.
    requirePositiveInteger('sliceMaxMessages', this.#sliceMax);
    this.#sliceMs = given(options.sliceMaxMs, 10);
    // NaN would never end a slice by time; the timeouts' NaN, 0 or negative would fire at once
    // (every handshake abandoned before a server could answer: reconnecting for ever).
    requireDuration('sliceMaxMs', this.#sliceMs, 0);
    this.#handshakeMs = given(options.handshakeTimeoutMs, 10_000);
    requireDuration('handshakeTimeoutMs', this.#handshakeMs, 1);
    this.#closeMs = given(options.closeTimeoutMs, 2000);
    requireDuration('closeTimeoutMs', this.#closeMs, 0);
    requireHeartbeatPing(options.heartbeat);
    this.#reconnector = new Reconnector({
      clock: this.#clock,
      random: options.random,
      backoff: options.backoff,
      limiter: options.attemptLimiter,
      onBackoff: (attempt, delayMs) => {
        this.#log.info({ attempt, delayMs }, 'backoff');
        this.#report({ type: 'backoff', attempt, delayMs });
      },
    });
    this.#heartbeat = new Heartbeat(
      this.#clock,
      { ping: () => this.#ping(), stale: (silentMs) => this.#onStale(silentMs) },
      options.heartbeat,
    );
    const key = options.queueKey;
    // It runs inside the socket's read: a throw there would be the process's uncaught
    // exception. A frame it cannot key is kept, as one of no stream is.
    this.#frameKey = (raw) => {
      try {
        return key?.(raw) ?? '*';
      } catch {
        return '*';
      }
    };
    this.#queue = new BoundedQueue<Frame>(options.queue, {
      key: key && ((frame) => this.#frameKey(frame.raw)),
      pause: () => {
        this.#heartbeat.hold();
        this.#transport?.pause();
      },
      resume: () => {
        this.#heartbeat.release();
        this.#transport?.resume();
      },
      overflow: (k) =>
        this.#fail(
          new UnifeedError(ErrorCode.QueueOverflow, `queue full (${this.#queue.capacity}) at ${k}`),
        ),
    });
  }

  get state(): FeedState {
    return this.#state;
  }

  /** Decoded messages, after the queue. Completes when the feed stops. */
  get messages$(): Observable<InboundMessage> {
    return this.#messages.observable;
  }

  /** Every status change and incident. Completes when the feed stops. */
  get status$(): Observable<FeedStatus> {
    return this.#status.asObservable();
  }

  /**
   * Connect, and keep connected until `stop()`. Any number of calls, concurrent or not, share
   * one connection and one promise, which resolves once the first connection is open (retrying
   * until then) and rejects only if `stop()` comes first.
   */
  start(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      return Promise.reject(new UnifeedError(ErrorCode.Stopped, 'feed is stopped'));
    }
    if (this.#start) return this.#start.promise;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A caller that drops the promise must not see an unhandled rejection on stop().
    promise.catch(() => {});
    this.#start = { promise, resolve, reject };
    this.#reconnector.connectNow(() => this.#connect());
    return promise;
  }

  /**
   * Drop the current connection and connect again through the back-off. Merged with any
   * reconnect already under way: one new socket follows however many requests arrive.
   */
  reconnect(reason = 'reconnect requested'): void {
    if (this.#state !== 'open' && this.#state !== 'connecting') return;
    this.#log.info({ reason }, 'reconnect');
    this.#retry({});
  }

  /**
   * Dispatch every frame queued now, at once instead of in slices: for an owner about to stop
   * or replace this feed that still wants what it has read (a rotation's old connection, an
   * account feed's socket). Given `maxMs`, it stops once that much time has passed (the clock
   * is read before every frame: past it by one frame's handling at most) and discards what is
   * left, returned as counts per stream key for the owner to tell as the loss it is (frames of
   * no stream are not counted); else, or when all were dispatched, it returns undefined. A pool
   * bounds it: a full queue through a 20 ms subscriber would hold the event loop for minutes.
   */
  flush(maxMs = Number.POSITIVE_INFINITY): Map<string, number> | undefined {
    // Called by a subscriber while a drain hands it a frame: that frame reaches the subscribers
    // after it first, or they would get the later frames before it.
    this.#messages.finishDelivery();
    if (this.#queue.length === 0) return undefined;
    // The queue's losses are told first, as every drain does, even if no frame fits in time.
    if (!this.#announceLosses()) return undefined;
    // A frame at a time, the clock read before each, not on the drain's schedule (every 32nd
    // frame once 32 have gone): a flush blocks the event loop, and a subscriber that slows down
    // partway ran 32 frames past the bound (640 ms of a 100 ms flush at 20 ms a frame).
    // Flushes are rare.
    const started = this.#clock.monotonic();
    while (this.#queue.length > 0 && !this.#ending() && this.#clock.monotonic() - started < maxMs) {
      this.#drain(1);
    }
    if (this.#queue.length === 0 || this.#ending()) return undefined;
    const left = this.#queue.discardAll();
    return left.size > 0 ? left : undefined;
  }

  /** Send a text frame. Returns false (and sends nothing) unless the socket is open. */
  send(text: string): boolean {
    if (this.#state !== 'open' || !this.#transport) return false;
    this.#transport.send(text);
    return true;
  }

  /** Close the socket, cancel every timer and complete the observables. Idempotent. */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#state = 'stopping';
    this.#reconnector.cancel();
    this.#heartbeat.stop();
    this.#clearHandshakeTimer();
    if (this.#drainTimer !== undefined) this.#clock.clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    this.#queue.clear();
    this.#start?.reject(
      new UnifeedError(ErrorCode.Stopped, 'feed stopped before start() resolved'),
    );
    this.#stopping = this.#closeSocket().then(() => {
      this.#state = 'stopped';
      this.#report({ type: 'stopped' });
      this.#messages.complete();
      this.#status.complete();
      this.removeAllListeners();
    });
    return this.#stopping;
  }

  /** Messages and bytes received so far: the cheap subset of `stats()` for periodic rates. */
  traffic(): { messages: number; bytes: number } {
    return { messages: this.#frames, bytes: this.#bytes };
  }

  stats(): UnifiedFeedStats {
    return {
      name: this.name,
      state: this.#state,
      connections: this.#sockets,
      reconnects: Math.max(0, this.#opens - 1),
      attempts: this.#reconnector.attempts,
      messages: this.#frames,
      bytes: this.#bytes,
      decodeErrors: this.#decodeErrors,
      oversizedFrames: this.#oversized,
      pingsSent: this.#pings,
      stales: this.#stales,
      lastMessageAt: this.#lastMessageAt,
      queue: {
        depth: this.#queue.length,
        maxDepth: this.#queue.maxDepth,
        capacity: this.#queue.capacity,
        dropped: this.#queue.dropped,
        conflated: this.#queue.conflated,
        paused: this.#queue.paused,
        pauses: this.#queue.pauses,
        dropsByKey: Object.fromEntries(this.#queue.dropsByKey()),
      },
      lag: this.#lag.summary(),
    };
  }

  // --- connection lifecycle -------------------------------------------------------------

  #connect(): void {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    const epoch = ++this.#epoch;
    this.#sockets++;
    const attempt = this.#reconnector.attempts + 1;
    this.#state = 'connecting';
    this.#rejection = undefined;
    this.#report({ type: 'connecting', attempt });
    // A listener may have stopped the feed; arm nothing for a stopped feed.
    if (this.#state !== 'connecting' || epoch !== this.#epoch) return;
    // The handshake budget covers resolving the URL too: a hung listen-key request must not
    // hang the feed.
    this.#handshakeTimer = this.#clock.setTimeout(() => {
      this.#handshakeTimer = undefined;
      if (epoch !== this.#epoch) return;
      this.#retry(
        {},
        new UnifeedError(
          ErrorCode.HandshakeTimeout,
          `connection not open after ${this.#handshakeMs} ms`,
        ),
      );
    }, this.#handshakeMs);

    const url = this.#options.url;
    let resolved: string | Promise<string>;
    try {
      resolved = typeof url === 'function' ? url(attempt) : url;
    } catch (err) {
      this.#urlFailed(epoch, err);
      return;
    }
    if (typeof resolved === 'string') this.#open(epoch, resolved);
    else
      // Anything but a string, at once or resolved (a function typed loosely, a field missing
      // from a venue's answer), is the function's failure, not a crash of the socket loop.
      Promise.resolve(resolved).then(
        (u: unknown) =>
          typeof u === 'string' ? this.#open(epoch, u) : this.#urlFailed(epoch, notAUrl(u)),
        (err: unknown) => this.#urlFailed(epoch, err),
      );
  }

  #urlFailed(epoch: number, err: unknown): void {
    if (epoch !== this.#epoch || this.#state !== 'connecting') return;
    // Our own error passes as it is (a listen key's POST refused with a 429 stays
    // UNIFEED_RATE_LIMITED, its status and wait with it); a foreign one may quote a key or a
    // URL, and is said only to have happened.
    this.#retry(
      {},
      err instanceof UnifeedError ? err : new UnifeedError(ErrorCode.Url, 'url function failed'),
    );
  }

  #open(epoch: number, url: string): void {
    if (epoch !== this.#epoch || this.#state !== 'connecting') return;
    try {
      // A fixed URL passed the check in the constructor; one from a function is checked here.
      if (typeof this.#options.url !== 'string') refusePlainRemote(url);
    } catch (err) {
      // Plain text to a remote host: nothing is opened, and the attempt counts as failed.
      this.#retry({}, err as UnifeedError);
      return;
    }
    this.#log.debug({ url: redactUrl(url), connection: epoch }, 'connecting');
    const current = () => epoch === this.#epoch;
    try {
      this.#transport = this.#openTransport(
        url,
        { maxPayloadBytes: this.#maxPayload },
        {
          open: () => current() && this.#onOpen(epoch),
          message: (frame) => current() && this.#onFrame(frame),
          life: () => current() && this.#heartbeat.touch(),
          close: (code, reason) => current() && this.#onClose(code, reason),
          error: (err) => current() && this.#onSocketError(err),
          rejected: (status, retryAfter) => {
            if (!current()) return;
            this.#rejection = {
              httpStatus: status,
              retryAfterMs: parseRetryAfter(retryAfter, this.#clock.now()),
            };
          },
        },
      );
    } catch (err) {
      // `ws` quotes the whole URL in this message (listen key included), as `URL` may: no cause, and the
      // error redacts its message.
      const reason = err instanceof Error ? err.message : 'unknown';
      this.#retry({}, new UnifeedError(ErrorCode.Socket, `cannot open socket: ${reason}`));
    }
  }

  #onOpen(epoch: number): void {
    if (this.#state !== 'connecting') return;
    this.#clearHandshakeTimer();
    this.#state = 'open';
    this.#opens++;
    this.#reconnector.opened();
    this.#heartbeat.start();
    this.#log.info({ connection: epoch }, 'open');
    this.#report({ type: 'open', connection: epoch });
    // A listener may have stopped the feed, or dropped this socket, on hearing it open.
    if (this.#state !== 'open') return;
    this.#start?.resolve();
    try {
      this.#options.onOpen?.(this);
    } catch (err) {
      this.#log.error({ err }, 'onOpen threw');
    }
  }

  #onClose(code: number, reason: string): void {
    this.#log.info({ code, reason }, 'close');
    const rejection = this.#rejection;
    const error = rejection?.httpStatus
      ? new UnifeedError(
          ErrorCode.HandshakeRejected,
          `handshake rejected with HTTP ${rejection.httpStatus}`,
          // Read without parsing the message: a 418 (banned) is not a 429, nor a 503.
          { status: rejection.httpStatus, retryAfterMs: rejection.retryAfterMs },
        )
      : undefined;
    this.#retry(rejection ?? { closeCode: code }, error, { type: 'close', code, reason });
  }

  #onSocketError(err: Error & { code?: string }): void {
    if (err.code === MESSAGE_TOO_LARGE) {
      this.#oversized++;
      this.#retry(
        { closeCode: CLOSE_TOO_BIG },
        new UnifeedError(ErrorCode.PayloadTooLarge, `inbound frame over ${this.#maxPayload} bytes`),
      );
      return;
    }
    // Both Node clients follow an error with 'close'; DOM sockets too. Report now, retry on close.
    // `ws` may quote a URL (a redirect's Location) in the message: no cause (the message is
    // redacted by the error).
    this.#report({
      type: 'error',
      error: new UnifeedError(ErrorCode.Socket, `socket error: ${err.message}`),
    });
  }

  #onStale(silentMs: number): void {
    if (this.#state !== 'open') return;
    this.#stales++;
    this.#log.warn({ silentMs }, 'stale');
    this.#report({ type: 'stale', silentMs });
    this.#retry({});
  }

  /**
   * The one path from a failed or dropped connection to the next attempt: let go of the
   * socket (listeners first), stop its timers, and hand over to the Reconnector, which merges
   * this with any retry already pending.
   */
  #retry(
    cause: RetryCause,
    error?: UnifeedError,
    closed?: Extract<FeedStatus, { type: 'close' }>,
  ): void {
    if (this.#state === 'stopping' || this.#state === 'stopped' || this.#state === 'backoff') {
      return;
    }
    const wasOpen = this.#state === 'open';
    this.#epoch++; // late events of the old socket now fail the epoch check
    this.#releaseSocket(true);
    this.#queue.released();
    this.#heartbeat.stop();
    this.#clearHandshakeTimer();
    if (wasOpen) this.#reconnector.closed(this.#heartbeat.lastSeen);
    this.#state = 'backoff';
    if (closed !== undefined) {
      // The close is told once the feed is in back-off: a listener's reconnect() then merges
      // into this retry instead of taking its place with no cause, which would drop a 1008's
      // or a 429's hold. A listener may stop the feed instead: no retry then.
      this.#report(closed);
      if (this.#state !== 'backoff') return;
    }
    this.#reconnector.retry(() => this.#connect(), cause);
    // Reported last: a listener that stops the feed finds every timer already in place.
    if (error) {
      this.#log.warn({ code: error.code }, error.message);
      this.#report({ type: 'error', error });
    }
  }

  /** Stopping or stopped: a listener may have stopped the feed in the middle of a drain. */
  #ending(): boolean {
    return this.#state === 'stopping' || this.#state === 'stopped';
  }

  #fail(error: UnifeedError): void {
    this.#log.warn({ code: error.code }, error.message);
    this.#report({ type: 'error', error });
  }

  #releaseSocket(terminate: boolean): void {
    const transport = this.#transport;
    this.#transport = undefined;
    if (!transport) return;
    transport.detach();
    if (terminate) transport.terminate();
  }

  /** Close politely, wait for the close (bounded by `closeTimeoutMs`), then terminate. */
  async #closeSocket(): Promise<void> {
    const transport = this.#transport;
    this.#transport = undefined;
    this.#epoch++;
    if (!transport) return;
    transport.detach();
    let timer: TimerHandle | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = this.#clock.setTimeout(() => resolve(true), this.#closeMs);
    });
    try {
      transport.close(CLOSE_NORMAL, 'client stop');
    } catch {
      transport.terminate();
    }
    const late = await Promise.race([transport.closed.then(() => false), timedOut]);
    this.#clock.clearTimeout(timer);
    if (late) transport.terminate();
  }

  // --- inbound path ---------------------------------------------------------------------

  #onFrame(raw: RawFrame): void {
    // Frames of one socket read arrive synchronously before any microtask runs: they share
    // one reading of each clock, taken at the first of them, which is their true receive time.
    let readAt = this.#readAt;
    if (readAt === undefined) {
      readAt = this.#readAt = this.#clock.monotonic();
      this.#receivedAt = this.#clock.now();
      this.#heartbeat.touch(readAt);
      this.#readBudget = this.#sliceMax;
      queueMicrotask(this.#drainAfterRead);
    }
    const size = frameSize(raw);
    this.#frames++;
    this.#bytes += size;
    this.#lastMessageAt = this.#receivedAt;
    if (size > this.#maxPayload) {
      // Only DOM sockets get here: both Node clients enforce maxPayload themselves.
      this.#oversized++;
      this.#retry(
        { closeCode: CLOSE_TOO_BIG },
        new UnifeedError(ErrorCode.PayloadTooLarge, `inbound frame of ${size} bytes refused`),
      );
      return;
    }
    this.#queue.push({ raw, receivedAt: this.#receivedAt, readAt });
    if (this.#queue.length >= READ_BATCH && this.#readBudget > 0) {
      this.#readBudget -= this.#drain(this.#readBudget, readAt);
    }
  }

  /**
   * One drain slice for every socket read, even while a yield timer is pending: draining
   * must keep pace with reading, or a backlog never shrinks and the overflow policy discards
   * most of the stream (measured: bench/firehose.bench.ts). The read's slice began with its
   * first frame, and what the read drained in batches is spent.
   */
  readonly #drainAfterRead = (): void => {
    const sliceStart = this.#readAt;
    this.#readAt = undefined;
    if (this.#drainTimer !== undefined) this.#clock.clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    this.#drain(this.#readBudget, sliceStart);
  };

  readonly #drainOnTimer = (): void => {
    this.#drainTimer = undefined;
    this.#drain(this.#sliceMax);
  };

  /**
   * Dispatch up to `budget` queued frames of a slice that began at `sliceStart` (monotonic;
   * default: now) and ends `sliceMaxMs` later, then, when frames remain, yield through a zero-delay
   * timer so socket reads and heartbeat timers are never starved. Returns the budget spent:
   * all of it once the slice's time is up.
   */
  #drain(budget: number, sliceStart?: number): number {
    if (this.#ending()) return 0;
    // What the queue lost went before every frame still in it (the oldest dropped, or one
    // replaced by a newer of its stream): told first, so that a book hears of the hole before
    // the frames after it, not after it has gone live on them.
    if (!this.#announceLosses()) return 0;
    let now = this.#clock.monotonic();
    const started = sliceStart ?? now;
    let n = 0;
    let check = 2;
    while (n < budget) {
      const frame = this.#queue.shift();
      if (frame === undefined) break;
      n++;
      // The clock at the 2nd, 4th, 8th, 16th and 32nd frame, then every 32nd: a slice then
      // ends within twice its time whatever a message costs (at a check, half the frames so
      // far, or at most 32 under the time, came after the one before), and a frame's lag is
      // read to within as much. Every 32nd only, a subscriber taking 5 ms a message ran slices
      // of 160 ms; every frame costs 5 % more CPU a message (bench/firehose.bench.ts).
      if (n === check) {
        now = this.#clock.monotonic();
        if (now - started >= this.#sliceMs) n = budget;
        check = check < READ_BATCH ? check * 2 : check + READ_BATCH;
      }
      let data: unknown;
      try {
        data = this.#decode(frame.raw);
      } catch (err) {
        this.#decodeErrors++;
        // No cause: JSON.parse quotes the input, which may hold a listen key.
        const kind = err instanceof Error ? err.name : 'error';
        this.#fail(
          new UnifeedError(
            ErrorCode.Decode,
            `cannot decode a frame of ${frameSize(frame.raw)} bytes (${kind})`,
          ),
        );
        // Its stream (read without decoding, as the queue does) has a hole, which a book or
        // an account must hear of to resync: counting the error alone would leave it stale.
        // Not after a listener of the error stopped the feed.
        if (this.#ending()) return n;
        this.#report({ type: 'gap', key: this.#frameKey(frame.raw), dropped: 1, reason: 'decode' });
        continue;
      }
      this.#lag.record(now - frame.readAt);
      this.#messages.next({ data, receivedAt: frame.receivedAt, readAt: frame.readAt });
    }
    if (!this.#announceLosses()) return n;
    if (this.#queue.length > 0 && this.#drainTimer === undefined) {
      this.#drainTimer = this.#clock.setTimeout(this.#drainOnTimer, 0);
    }
    return n;
  }

  /** The queue's drops, then its conflations, as gaps; false once the feed is ending. */
  #announceLosses(): boolean {
    return (
      this.#announce(this.#queue.takeDrops(), 'queue-drop') &&
      this.#announce(this.#queue.takeConflated(), 'conflated')
    );
  }

  /**
   * The queue's losses per key as gaps. False once a subscriber or a listener stopped the
   * feed: its streams have ended, and nothing more is told.
   */
  #announce(lost: Map<string, number> | undefined, reason: 'queue-drop' | 'conflated'): boolean {
    if (lost === undefined) return true;
    for (const [key, dropped] of lost) {
      if (this.#ending()) return false;
      // A full queue is news; conflation is the policy chosen, at every burst of a ticker.
      if (reason === 'queue-drop') this.#log.warn({ key, dropped }, 'queue dropped frames');
      else this.#log.debug({ key, dropped }, 'queue conflated frames');
      this.#report({ type: 'gap', key, dropped, reason });
    }
    return !this.#ending();
  }

  // --- helpers --------------------------------------------------------------------------

  /**
   * Ping now (a ping frame, or the venue's application ping); false when none could go (not
   * open, or a socket without ping frames on a venue without an application ping). A pool asks
   * a rotation's old connection so to prove that it is alive.
   */
  probe(): boolean {
    const pings = this.#pings;
    this.#ping();
    return this.#pings > pings;
  }

  /**
   * When the oldest frame still waiting in the queue was read (`clock.monotonic()`), or
   * undefined when none waits: an owner judging an answer by time knows whether one read in
   * time may still be among them. The oldest, not the first: under `conflate` a frame replaced
   * in place is newer than those behind it. Walks the queue: for a verdict, not per message.
   */
  get queuedSince(): number | undefined {
    return this.#queue.min(readAtOf);
  }

  /**
   * True while the `pause` policy holds the socket unread: what the venue sends meanwhile (an
   * answer too) waits in the kernel, and silence proves nothing.
   */
  get readingPaused(): boolean {
    return this.#queue.paused;
  }

  /** When the last inbound frame of any kind arrived (`clock.monotonic()`). */
  get lastFrameAt(): number {
    return this.#heartbeat.lastSeen;
  }

  #ping(): void {
    const transport = this.#transport;
    if (!transport || this.#state !== 'open') return;
    const hb = this.#options.heartbeat;
    const preferMessage = hb?.mode === 'message' && hb.message !== undefined;
    if (!preferMessage && transport.ping()) {
      this.#pings++;
      this.#pinged();
    } else if (hb?.message !== undefined) {
      transport.send(hb.message);
      this.#pings++;
      this.#pinged();
    }
  }

  /** `onPing`, which runs in a timer: a throw there would be the process's uncaught exception. */
  #pinged(): void {
    try {
      this.#options.onPing?.();
    } catch (err) {
      this.#log.error({ err }, 'onPing threw');
    }
  }

  #clearHandshakeTimer(): void {
    if (this.#handshakeTimer !== undefined) this.#clock.clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
  }

  #report(status: FeedStatus): void {
    this.#status.next(status);
    const [event, args] = eventOf(status);
    if (event === 'error' && this.listenerCount('error') === 0) return;
    // Each listener on its own: `emit` stops at the first that throws, and one after it (an
    // order book's resync on `gap`) would never hear of the hole. Nor may a throw cut a state
    // change short: a feed left 'connecting' with no timer, or 'open' on a dead socket, would
    // never recover. (rxjs catches a `status$` subscriber's throw itself and rethrows it
    // asynchronously.) Raw listeners, so that a `once` one is removed as `emit` removes it.
    for (const listener of this.rawListeners(event)) {
      try {
        Reflect.apply(listener, this, args);
      } catch (err) {
        this.#log.error({ err, event }, 'status listener threw');
      }
    }
  }
}

/** The typed event a status is told as, and its arguments. */
function eventOf(status: FeedStatus): [keyof UnifiedFeedEvents, unknown[]] {
  switch (status.type) {
    case 'connecting':
      return ['connecting', [status.attempt]];
    case 'open':
      return ['open', [status.connection]];
    case 'close':
      return ['close', [status.code, status.reason]];
    case 'stale':
      return ['stale', [status.silentMs]];
    case 'backoff':
      return ['backoff', [status.attempt, status.delayMs]];
    case 'gap':
      return ['gap', [status.key, status.dropped, status.reason]];
    case 'error':
      return ['error', [status.error]];
    case 'stopped':
      return ['stopped', []];
  }
}

/** The error of a url function that gave no string: names the type, never the value. */
function notAUrl(value: unknown): UnifeedError {
  const kind = value === null ? 'null' : typeof value;
  return new UnifeedError(ErrorCode.Url, `url function gave ${kind}, not a URL string`);
}

/**
 * Refuse a heartbeat ping that cannot be sent as asked: an unknown `mode` would quietly ping by
 * frame, and `mode: 'message'` without a `message` too, so a venue that answers only its
 * application ping would go stale and be reconnected every minute.
 */
function requireHeartbeatPing(hb: PartialOptions<FeedHeartbeatOptions> | undefined): void {
  const mode: unknown = hb?.mode;
  if (mode !== undefined && mode !== 'frame' && mode !== 'message') {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `\`heartbeat.mode\` must be 'frame' or 'message', not ${quoted(mode)}`,
    );
  }
  const message: unknown = hb?.message;
  if (message !== undefined && (typeof message !== 'string' || message === '')) {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `\`heartbeat.message\` must be a non-empty string, not ${quoted(message)}`,
    );
  }
  if (mode === 'message' && message === undefined) {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      "`heartbeat.mode` 'message' needs the `heartbeat.message` to send",
    );
  }
}
