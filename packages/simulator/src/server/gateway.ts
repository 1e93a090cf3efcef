import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { VenueProfile } from '../venue.js';
import { AttemptWindow } from './attempts.js';
import { Connection, type ConnectionHost } from './connection.js';
import { requestUrl, routeOf, type ParsedRoute } from './routes.js';

/** Open connections now and the most ever open at once. */
export interface ConnectionCount {
  open: number;
  highWater: number;
}

export interface GatewayCounters {
  accepted: number;
  highWater: number;
  rejected429: number;
  rejected400: number;
  stalled: number;
  /** Times a slot went from one open socket to two (each slot counted once until forgotten). */
  doubledSlots: number;
}

export interface GatewayOptions {
  venue: VenueProfile;
  host: ConnectionHost;
  /** Futures `/private` connections must name a live listen key. */
  isValidListenKey(key: string): boolean;
  /** Query parameter whose value, with the path, keys a connection's slot. */
  slotParam: string;
  /** A connection was accepted on `route` (subscribe its URL streams, register listeners). */
  onOpen(conn: Connection, route: ParsedRoute): void;
  /** Closed slots that held two sockets at once kept for `slots()`. @default 1000 */
  maxClosedDoubledSlots?: number;
}

const MAX_STALLED = 10_000;
/**
 * Closed slots that once held two sockets at once kept for `stats()`, the latest. A checker
 * that samples `bySlot` every second (the soak's) sees each of them unless more than this close
 * within a second; `doubledSlots` counts them all, so a gap still shows.
 */
export const MAX_CLOSED_DOUBLED_SLOTS = 1000;
const MAX_INBOUND_BYTES = 1024 * 1024;

/**
 * The WebSocket side of the HTTP server: every upgrade passes here. It refuses over the
 * attempt limit with HTTP 429 (hence `noServer`: `ws` alone could not answer a status),
 * refuses unknown paths with 400, holds stalled handshakes on request, and keeps the open
 * connections with their counts per slot (the path they were opened on, plus the value of the
 * slot query parameter when the client sends one).
 */
export class Gateway {
  readonly counters: GatewayCounters = {
    accepted: 0,
    highWater: 0,
    rejected429: 0,
    rejected400: 0,
    stalled: 0,
    doubledSlots: 0,
  };
  readonly #o: GatewayOptions;
  readonly #wss = new WebSocketServer({
    noServer: true,
    autoPong: false,
    maxPayload: MAX_INBOUND_BYTES,
  });
  readonly #attempts: AttemptWindow;
  readonly #connections = new Map<number, Connection>();
  readonly #slots = new Map<string, ConnectionCount>();
  /** Slots of `#slots` with no open socket and a high-water mark above one, oldest first. */
  readonly #closedDoubled = new Set<string>();
  readonly #stalled = new Set<Duplex>();
  readonly #host: ConnectionHost;
  readonly #maxClosedDoubled: number;
  #stallNext = 0;
  #nextId = 1;
  #closed = false;

  constructor(options: GatewayOptions) {
    this.#o = options;
    this.#maxClosedDoubled = options.maxClosedDoubledSlots ?? MAX_CLOSED_DOUBLED_SLOTS;
    const limits = options.venue.limits;
    this.#attempts = new AttemptWindow(limits.connectionAttempts, limits.connectionWindowMs);
    this.#host = {
      ...options.host,
      onGone: (conn) => {
        this.#connections.delete(conn.id);
        const slot = this.#slots.get(conn.slot);
        if (slot !== undefined) slot.open--;
        // The slot names come from clients, and every rotation brings a new one: a closed slot
        // that never held two sockets at once has nothing to report, and is forgotten; one
        // that did is kept among the latest few, so the map stays bounded by the open
        // connections plus those.
        if (slot !== undefined && slot.open === 0) {
          if (slot.highWater <= 1) this.#slots.delete(conn.slot);
          else this.#closeDoubled(conn.slot);
        }
        options.host.onGone(conn);
      },
    };
  }

  #closeDoubled(slot: string): void {
    this.#closedDoubled.add(slot);
    if (this.#closedDoubled.size <= this.#maxClosedDoubled) return;
    const oldest = this.#closedDoubled.values().next().value!;
    this.#closedDoubled.delete(oldest);
    this.#slots.delete(oldest);
  }

  connections(): Connection[] {
    return [...this.#connections.values()];
  }

  slots(): Record<string, ConnectionCount> {
    const out: Record<string, ConnectionCount> = {};
    for (const [k, v] of this.#slots) out[k] = { ...v };
    return out;
  }

  /** Accept the TCP connection of the next `count` upgrades and never answer them. */
  stall(count: number): void {
    this.#stallNext += count;
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (this.#closed) {
      socket.destroy();
      return;
    }
    if (this.#stallNext > 0) {
      this.#stallNext--;
      this.counters.stalled++;
      if (this.#stalled.size < MAX_STALLED) this.#stalled.add(socket);
      else socket.destroy();
      socket.on('close', () => this.#stalled.delete(socket));
      // Never answered, but read: a client that gives up and closes is seen to go, and its
      // socket freed, as a real server frees it. Unread, the end never arrives and the socket
      // stays open until the simulator closes.
      socket.on('end', () => socket.destroy());
      socket.resume();
      return;
    }
    const venue = this.#o.venue;
    // A duration window: on the monotonic clock, which a wall-clock step does not move.
    const now = this.#o.host.clock.monotonic();
    if (!this.#attempts.admit(now)) {
      this.counters.rejected429++;
      reject(socket, 429, 'Too Many Requests', this.#attempts.retryAfterSeconds(now));
      return;
    }
    const url = requestUrl(req.url);
    const route = url === undefined ? undefined : routeOf(venue, url);
    // Unknown names in the URL are ignored, not refused: Binance accepts `/ws/0`, which
    // ccxt opens for every futures connection.
    if (
      url === undefined ||
      route === undefined ||
      route.streams.length > venue.limits.streamsPerConnection ||
      (route.info.route === 'private' && !this.#o.isValidListenKey(route.info.listenKey ?? ''))
    ) {
      this.counters.rejected400++;
      reject(socket, 400, 'Bad Request');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      if (this.#closed) {
        ws.terminate();
        return;
      }
      const slotValue = url.searchParams.get(this.#o.slotParam);
      const slot =
        slotValue === null ? url.pathname : `${url.pathname}?${this.#o.slotParam}=${slotValue}`;
      this.#accept(
        new Connection(this.#nextId++, ws, url.pathname, route.info, this.#host, socket, slot),
        route,
      );
    });
  }

  #accept(conn: Connection, route: ParsedRoute): void {
    this.#connections.set(conn.id, conn);
    this.counters.accepted++;
    this.counters.highWater = Math.max(this.counters.highWater, this.#connections.size);
    let slot = this.#slots.get(conn.slot);
    if (slot === undefined) this.#slots.set(conn.slot, (slot = { open: 0, highWater: 0 }));
    slot.open++;
    // Open again: not for eviction while it is (a pool reconnects on the same slot).
    if (slot.open === 1) this.#closedDoubled.delete(conn.slot);
    if (slot.open === 2 && slot.highWater === 1) this.counters.doubledSlots++;
    slot.highWater = Math.max(slot.highWater, slot.open);
    this.#o.onOpen(conn, route);
  }

  /** Terminate every connection and stalled handshake. */
  close(): void {
    this.#closed = true;
    for (const c of [...this.#connections.values()]) c.terminate();
    for (const s of this.#stalled) s.destroy();
    this.#stalled.clear();
    this.#wss.close();
  }
}

function reject(socket: Duplex, status: number, text: string, retryAfter?: number): void {
  const extra = retryAfter === undefined ? '' : `Retry-After: ${retryAfter}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`,
  );
}
