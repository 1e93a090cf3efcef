import type { Clock, TimerHandle } from '@unifeed/core';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { RouteGroup, VenueLimits } from '../venue.js';

/** A frame held back by the reorder fault waits this long for one to swap with. */
const HELD_MAX_MS = 1000;

/** Close code and reason Binance uses for a client over the message limit. */
export const CLOSE_TOO_MANY_REQUESTS = 1008;
/** The simulator ends a connection at its 24 h lifetime with "going away". */
export const CLOSE_LIFETIME = 1001;
/** Upbit's end of a connection that sent nothing for `idleTimeoutMs`, also "going away". */
export const CLOSE_IDLE = 1001;

/** What a connection needs from the server that owns it. */
export interface ConnectionHost {
  readonly clock: Clock;
  readonly limits: VenueLimits;
  /** Write every frame as binary (Upbit sends UTF-8 JSON in binary frames). */
  readonly binary: boolean;
  /** A text frame arrived (not counted against the limit yet: the connection does that). */
  onText(conn: Connection, text: string): void;
  /** A data message was written; message-count triggers hang off this. */
  onSent(conn: Connection): void;
  onTooManyRequests(conn: Connection): void;
  onGone(conn: Connection): void;
}

/** What kind of connection this is, from the path it was opened on. */
export interface ConnectionRoute {
  /** Futures route, or `any` for spot and un-routed futures paths. */
  route: RouteGroup;
  /** `/stream` (wrapped `{stream,data}`) or `/ws` (raw payloads). */
  combined: boolean;
  /** `/ws-api/v3`: requests, not streams. */
  api: boolean;
  /** Futures user-data connection on this listen key. */
  listenKey: string | undefined;
  /** Futures `events=A/B`: the user-data event types this connection wants; all when absent. */
  events?: ReadonlySet<string>;
}

/**
 * One accepted socket and everything the server enforces on it: the inbound message rate,
 * server pings with a pong deadline, the lifetime cut, and the send path through which the
 * per-connection faults (freeze, duplicate, reorder) act. Every timer is the host clock's
 * and is cleared when the socket goes.
 */
export class Connection {
  readonly id: number;
  readonly ws: WebSocket;
  readonly path: string;
  readonly slot: string;
  readonly info: ConnectionRoute;
  readonly openedAt: number;
  /** Streams subscribed, in subscription order (LIST_SUBSCRIPTIONS). */
  readonly subscriptions = new Set<string>();
  combined: boolean;
  /** Upbit: the format the last request asked for. */
  format: 'DEFAULT' | 'SIMPLE' = 'DEFAULT';
  frozen = false;
  /** Next data messages to send twice. */
  duplicateNext = 0;
  /** Next data messages to swap pairwise. */
  reorderNext = 0;
  messagesSent = 0;
  bytesSent = 0;
  /** Every frame written: data, replies, notices and malformed ones. */
  framesSent = 0;
  closed = false;
  readonly #host: ConnectionHost;
  /** The raw TCP stream under `ws`, held to cork it while a tick writes many frames. */
  readonly #socket: Duplex | undefined;
  #held: string | undefined;
  #heldTimer: TimerHandle | undefined;
  #closing = false;

  /** A close frame was sent; the socket is on its way out. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Inbound times (monotonic) within the last second, for the per-second limit: a sliding
   * window, as the venue counts (a fixed one would let 2x the limit through across its edge).
   * Every window of a connection is on the monotonic clock, so that a wall-clock step (NTP, a
   * resumed VM) neither trips one (a step back: old entries never leave) nor empties it.
   */
  readonly #second: number[] = [];
  #pingTimer: TimerHandle | undefined;
  #pongTimer: TimerHandle | undefined;
  #lifetimeTimer: TimerHandle | undefined;
  #idleTimer: TimerHandle | undefined;
  /** When the client last sent anything (monotonic): the idle close reads it lazily. */
  #lastInbound: number;
  /** Inbound times (monotonic) within the last minute, for the per-minute limit (bounded). */
  readonly #minute: number[] = [];
  /** Payloads of pings not yet answered (bounded: pings stop mattering once one is answered). */
  #pending: string[] = [];

  constructor(
    id: number,
    ws: WebSocket,
    path: string,
    info: ConnectionRoute,
    host: ConnectionHost,
    socket?: Duplex,
    slot = path,
  ) {
    this.#socket = socket;
    this.id = id;
    this.ws = ws;
    this.path = path;
    this.slot = slot;
    this.info = info;
    this.combined = info.combined;
    this.#host = host;
    // A timestamp, reported in stats; silence is measured on the monotonic clock.
    this.openedAt = host.clock.now();
    this.#lastInbound = host.clock.monotonic();
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary));
    ws.on('ping', (data: Buffer) => this.#onPing(data));
    ws.on('pong', (data: Buffer) => this.#onPong(data));
    ws.on('close', () => this.#gone());
    ws.on('error', () => this.#gone());
    if (host.limits.lifetimeMs > 0) this.#armLifetime(host.limits.lifetimeMs);
    this.#armPing();
    this.#armIdle(host.limits.idleTimeoutMs);
  }

  /** Close after `idleTimeoutMs` without an inbound frame; one timer, re-armed lazily. */
  #armIdle(ms: number): void {
    if (this.#host.limits.idleTimeoutMs <= 0) return;
    this.#idleTimer = this.#host.clock.setTimeout(() => {
      this.#idleTimer = undefined;
      const silent = this.#host.clock.monotonic() - this.#lastInbound;
      const limit = this.#host.limits.idleTimeoutMs;
      if (silent >= limit) this.close(CLOSE_IDLE, 'Idle timeout');
      else this.#armIdle(limit - silent);
    }, ms);
  }

  #armLifetime(ms: number): void {
    if (this.#lifetimeTimer !== undefined) this.#host.clock.clearTimeout(this.#lifetimeTimer);
    this.#lifetimeTimer = this.#host.clock.setTimeout(() => {
      this.#lifetimeTimer = undefined;
      this.close(CLOSE_LIFETIME, 'Connection lifetime expired');
    }, ms);
  }

  /**
   * Half-open: nothing is sent or answered, and the server stops judging liveness too (a
   * pending pong deadline would otherwise cut the TCP connection and end the half-open state).
   */
  freeze(): void {
    this.frozen = true;
    this.#pending = [];
    if (this.#pongTimer !== undefined) this.#host.clock.clearTimeout(this.#pongTimer);
    this.#pongTimer = undefined;
    if (this.#idleTimer !== undefined) this.#host.clock.clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /**
   * Back from half-open: frames flow again, and silence is judged from now on (the idle timer
   * that `freeze` cleared is armed again, or an Upbit connection would never time out).
   */
  unfreeze(): void {
    if (!this.frozen) return;
    this.frozen = false;
    this.#lastInbound = this.#host.clock.monotonic();
    if (this.#idleTimer === undefined) this.#armIdle(this.#host.limits.idleTimeoutMs);
  }

  /** Cut the connection as its lifetime would, now. */
  expireLifetime(): void {
    this.#armLifetime(0);
  }

  #armPing(): void {
    const interval = this.#host.limits.pingIntervalMs;
    if (interval <= 0) return;
    this.#pingTimer = this.#host.clock.setTimeout(() => {
      this.#pingTimer = undefined;
      this.#ping();
      this.#armPing();
    }, interval);
  }

  #ping(): void {
    if (this.frozen || this.closed) return;
    const payload = String(this.#host.clock.now());
    this.#pending.push(payload);
    if (this.#pending.length > 8) this.#pending.shift();
    this.ws.ping(payload);
    if (this.#pongTimer === undefined) {
      this.#pongTimer = this.#host.clock.setTimeout(() => {
        this.#pongTimer = undefined;
        this.terminate();
      }, this.#host.limits.pongTimeoutMs);
    }
  }

  #onPong(data: Buffer): void {
    if (this.frozen || !this.#countInbound()) return;
    const valid = !this.#host.limits.pongMustEcho || this.#pending.includes(data.toString());
    if (!valid) return;
    this.#pending = [];
    if (this.#pongTimer !== undefined) this.#host.clock.clearTimeout(this.#pongTimer);
    this.#pongTimer = undefined;
  }

  #onPing(data: Buffer): void {
    if (this.frozen || !this.#countInbound()) return;
    this.ws.pong(data);
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (this.frozen || !this.#countInbound()) return;
    this.#host.onText(this, isBinary ? '' : data.toString());
  }

  /** Count one inbound frame against the per-second limit; false when the socket was closed. */
  #countInbound(): boolean {
    const now = this.#host.clock.monotonic();
    while (this.#second.length > 0 && now - this.#second[0]! >= 1000) this.#second.shift();
    this.#second.push(now);
    this.#lastInbound = now;
    const perMinute = this.#host.limits.messagesPerMinute;
    let overMinute = false;
    if (perMinute > 0) {
      while (this.#minute.length > 0 && now - this.#minute[0]! >= 60_000) this.#minute.shift();
      overMinute = this.#minute.length >= perMinute;
      if (!overMinute) this.#minute.push(now);
    }
    if (this.#second.length > this.#host.limits.messagesPerSecond || overMinute) {
      this.#host.onTooManyRequests(this);
      this.close(CLOSE_TOO_MANY_REQUESTS, 'Too many requests');
      return false;
    }
    return true;
  }

  /**
   * Gather the following writes into one syscall until {@link uncork}: a tick sends up to
   * hundreds of frames to one connection, and a write per frame is the simulator's main cost.
   */
  cork(): void {
    this.#socket?.cork();
  }

  uncork(): void {
    this.#socket?.uncork();
  }

  /** A response to a request: not a data message, not subject to the data faults. */
  reply(text: string): void {
    if (this.frozen || this.closed) return;
    this.raw(text);
  }

  /** Write a frame as is: no data faults, no message counters (replies, malformed frames). */
  raw(data: string | Buffer): void {
    this.framesSent++;
    if (this.#host.binary) this.ws.send(data, { binary: true });
    else this.ws.send(data);
  }

  /** A data message: frozen, duplicate and reorder faults apply; slow readers are cut. */
  send(text: string): void {
    if (this.frozen || this.closed || this.#closing) return;
    if (this.ws.bufferedAmount > this.#host.limits.maxBufferedBytes) {
      this.terminate();
      return;
    }
    if (this.reorderNext > 0) {
      if (this.#held === undefined) {
        this.#held = text;
        // Swapped with the next frame; with none within a second (the last push of a stream),
        // it goes out alone: a reorder never loses a frame. A freeze meanwhile loses it, as it
        // does every frame.
        this.#heldTimer = this.#host.clock.setTimeout(() => {
          this.#heldTimer = undefined;
          const held = this.#held;
          this.#held = undefined;
          // One of the faults asked for, used up: a stream slower than this would otherwise
          // have every frame held for ever.
          this.reorderNext = Math.max(0, this.reorderNext - 1);
          if (held !== undefined && !this.frozen && !this.closed) this.#write(held);
        }, HELD_MAX_MS);
        return;
      }
      this.reorderNext--;
      const held = this.#held;
      this.#held = undefined;
      this.#host.clock.clearTimeout(this.#heldTimer!);
      this.#heldTimer = undefined;
      this.#write(text);
      this.#write(held);
      return;
    }
    this.#write(text);
    if (this.duplicateNext > 0) {
      this.duplicateNext--;
      this.#write(text);
    }
  }

  #write(text: string): void {
    this.framesSent++;
    if (this.#host.binary) this.ws.send(text, { binary: true });
    else this.ws.send(text);
    this.messagesSent++;
    this.bytesSent += text.length;
    this.#host.onSent(this);
  }

  close(code: number, reason: string): void {
    if (this.closed || this.#closing) return;
    if (code === 1006 || code === 1005) {
      this.terminate();
      return;
    }
    this.#clearTimers();
    this.#closing = true;
    this.ws.close(code, reason);
    // A client that never answers the close handshake must not hold the socket forever.
    this.#lifetimeTimer = this.#host.clock.setTimeout(() => this.terminate(), 5000);
  }

  terminate(): void {
    this.ws.terminate();
    this.#gone();
  }

  #clearTimers(): void {
    const clock = this.#host.clock;
    const timers = [
      this.#pingTimer,
      this.#pongTimer,
      this.#lifetimeTimer,
      this.#idleTimer,
      this.#heldTimer,
    ];
    for (const t of timers) if (t !== undefined) clock.clearTimeout(t);
    this.#pingTimer = this.#pongTimer = this.#lifetimeTimer = this.#idleTimer = undefined;
    this.#heldTimer = undefined;
  }

  #gone(): void {
    this.#clearTimers();
    if (this.closed) return;
    this.closed = true;
    this.#host.onGone(this);
  }
}
