import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { realClock, type Clock } from '@unifeed/core';
import { WebSocketServer, type WebSocket } from 'ws';
import { Account } from './account.js';
import { SimulatorError, SimulatorErrorCode } from './errors.js';
import { Faults } from './faults.js';
import { Market } from './market/market.js';
import { defaultSymbols, symbolsFromList, DEFAULT_SYMBOL_COUNT } from './market/symbols.js';
import { DEFAULT_API_KEY, type SimulatorOptions } from './options.js';
import { Encoder } from './payloads.js';
import { AttemptWindow } from './server/attempts.js';
import { Connection, type ConnectionHost, type ConnectionRoute } from './server/connection.js';
import { ControlHandler, type SubscriptionCounters } from './server/control.js';
import { Firehose } from './server/firehose.js';
import { StreamHub, type StreamCounters } from './server/hub.js';
import { RestApi, type RestCounters } from './server/rest.js';
import { UserData } from './server/user-data.js';
import { WeightBudget } from './server/weight.js';
import { parseStream } from './streams.js';
import { Truth } from './truth.js';
import { venueProfile, type RouteGroup, type VenueLimits, type VenueProfile } from './venue.js';

/** One open connection as `stats()` reports it. */
export interface ConnectionInfo {
  id: number;
  /** Path it was opened on; also its slot key. */
  path: string;
  route: RouteGroup;
  combined: boolean;
  subscriptions: string[];
  frozen: boolean;
  openedAt: number;
  messagesSent: number;
  bytesSent: number;
  /** Every frame written, replies included: a test waits until its client has this many. */
  framesSent: number;
}

/** Open connections now and the most ever open at once. */
export interface ConnectionCount {
  open: number;
  highWater: number;
}

export interface SimulatorStats {
  connections: ConnectionCount & {
    /** Per slot (the path a connection was opened on). */
    bySlot: Record<string, ConnectionCount>;
    accepted: number;
  };
  connectionList: ConnectionInfo[];
  subscriptions: SubscriptionCounters;
  /** Per stream: data messages and bytes sent since start, subscribers now. */
  streams: Record<string, StreamCounters>;
  /** Connections closed with 1008 "Too many requests". */
  closes1008: number;
  handshakes: { rejected429: number; rejected400: number; stalled: number };
  rest: RestCounters & { weightUsed: number; weightTotal: number };
  firehose: { messages: number; bytes: number };
}

/** A running simulator. */
export interface Simulator {
  /** `ws://host:port`; append the real paths (`/stream?streams=...`, `/market/ws/...`). */
  readonly wsUrl: string;
  /** `http://host:port`; append the real REST paths (`/fapi/v1/depth?...`). */
  readonly restUrl: string;
  readonly venue: VenueProfile;
  stats(): SimulatorStats;
  readonly faults: Faults;
  readonly truth: Truth;
  readonly account: Account;
  /** Free the port, terminate every socket, clear every timer. Idempotent. */
  close(): Promise<void>;
}

const MAX_STALLED = 10_000;

function routeOf(
  venue: VenueProfile,
  url: URL,
): { info: ConnectionRoute; streams: string[] } | undefined {
  let path = url.pathname;
  let route: RouteGroup = 'any';
  if (venue.futures) {
    for (const g of ['public', 'market', 'private'] as const) {
      if (path.startsWith(`/${g}/`)) {
        route = g;
        path = path.slice(g.length + 1);
        break;
      }
    }
  }
  const listenKey = url.searchParams.get('listenKey') ?? undefined;
  const events = url.searchParams.get('events');
  const base = {
    route,
    api: false,
    listenKey,
    ...(events === null ? {} : { events: new Set(events.split('/')) }),
  };
  if (!venue.futures && path === '/ws-api/v3') {
    return { info: { ...base, combined: false, api: true }, streams: [] };
  }
  if (path === '/ws') return { info: { ...base, combined: false }, streams: [] };
  if (path.startsWith('/ws/')) {
    const tail = path.slice(4);
    if (route === 'private')
      return { info: { ...base, combined: false, listenKey: tail }, streams: [] };
    return { info: { ...base, combined: false }, streams: tail.split('/').filter((s) => s !== '') };
  }
  if (path === '/stream') {
    const list = url.searchParams.get('streams') ?? '';
    return { info: { ...base, combined: true }, streams: list.split('/').filter((s) => s !== '') };
  }
  return undefined;
}

/** Start a simulator; resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const clock: Clock = options.clock ?? realClock;
  const venue = venueProfile(options.venue ?? 'binance-usdm', options.limits);
  const speed = options.speed ?? 1;
  const tickMs = options.tickMs ?? 50;
  if (!(speed > 0) || !(tickMs > 0)) {
    throw new SimulatorError(SimulatorErrorCode.InvalidOption, 'speed and tickMs must be positive');
  }
  const symbols = options.symbols ?? DEFAULT_SYMBOL_COUNT;
  const specs = typeof symbols === 'number' ? defaultSymbols(symbols) : symbolsFromList(symbols);
  const market = new Market(
    specs,
    {
      seed: options.seed ?? 1,
      levels: options.bookLevels ?? 1000,
      historySize: options.truthHistory ?? 256,
    },
    () => clock.now(),
  );
  const encoder = new Encoder(venue);
  const hub = new StreamHub({
    clock,
    market,
    encoder,
    tickMs,
    speed,
    diffLogSize: options.diffLogSize ?? 1000,
  });
  const userData = new UserData(venue, clock, options.apiKeys ?? [DEFAULT_API_KEY]);
  const budget = new WeightBudget(clock, venue.limits);
  const rest = new RestApi(venue, market, encoder, clock, budget, userData.rest);
  const firehose =
    options.firehose === undefined
      ? undefined
      : new Firehose(
          options.firehose,
          market.get(parseStream(options.firehose.stream, venue)?.symbol ?? ''),
          encoder,
          clock.now(),
        );
  const control = new ControlHandler(venue, hub, (conn, name) => {
    if (firehose === undefined || name !== firehose.stream) return false;
    firehose.start(conn);
    return true;
  });
  const attempts = new AttemptWindow(
    venue.limits.connectionAttempts,
    venue.limits.connectionWindowMs,
  );
  const connections = new Map<number, Connection>();
  const slots = new Map<string, ConnectionCount>();
  const stalled = new Set<Duplex>();
  const sockets = new Set<Socket>();
  const counts = {
    accepted: 0,
    highWater: 0,
    closes1008: 0,
    rejected429: 0,
    rejected400: 0,
    stalled: 0,
  };
  let stallNext = 0;
  let nextId = 1;
  let closed = false;

  const faults = new Faults({
    clock,
    connections: () => [...connections.values()],
    stallHandshakes: (n) => {
      stallNext += n;
    },
    skipDiffs: (symbol, events) => hub.skipDiffs(symbol, events),
    restFault: (f) => rest.addFault(f),
    expireListenKey: (key) => userData.expire(key),
  });

  const host: ConnectionHost = {
    clock,
    limits: venue.limits,
    onText: (conn, text) => {
      if (conn.info.api) userData.handleApi(conn, text);
      else control.handle(conn, text);
    },
    onSent: () => faults.messageSent(),
    onTooManyRequests: () => {
      counts.closes1008++;
    },
    onGone: (conn) => {
      connections.delete(conn.id);
      for (const name of conn.subscriptions) hub.detach(conn, name);
      userData.removeConnection(conn);
      const slot = slots.get(conn.slot);
      if (slot !== undefined) slot.open--;
    },
  };

  const wss = new WebSocketServer({ noServer: true, autoPong: false, maxPayload: 1024 * 1024 });
  const server: Server = createServer((req, res) => rest.handle(req, res));
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const reject = (socket: Duplex, status: number, text: string, retryAfter?: number): void => {
    const extra = retryAfter === undefined ? '' : `Retry-After: ${retryAfter}\r\n`;
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`,
    );
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (closed) {
      socket.destroy();
      return;
    }
    if (stallNext > 0) {
      stallNext--;
      counts.stalled++;
      if (stalled.size < MAX_STALLED) stalled.add(socket);
      else socket.destroy();
      socket.on('close', () => stalled.delete(socket));
      return;
    }
    const now = clock.now();
    if (!attempts.admit(now)) {
      counts.rejected429++;
      reject(socket, 429, 'Too Many Requests', attempts.retryAfterSeconds(now));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routeOf(venue, url);
    // Unknown names in the URL are ignored, not refused: Binance accepts `/ws/0`, which
    // ccxt opens for every futures connection.
    const invalid =
      route === undefined ||
      route.streams.length > venue.limits.streamsPerConnection ||
      (route.info.route === 'private' && !userData.isValidListenKey(route.info.listenKey ?? ''));
    if (invalid) {
      counts.rejected400++;
      reject(socket, 400, 'Bad Request');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      if (closed) {
        ws.terminate();
        return;
      }
      const conn = new Connection(nextId++, ws, url.pathname, route.info, host, socket);
      connections.set(conn.id, conn);
      counts.accepted++;
      counts.highWater = Math.max(counts.highWater, connections.size);
      let slot = slots.get(conn.slot);
      if (slot === undefined) slots.set(conn.slot, (slot = { open: 0, highWater: 0 }));
      slot.open++;
      slot.highWater = Math.max(slot.highWater, slot.open);
      if (route.info.route === 'private' && route.info.listenKey !== undefined) {
        userData.addListener(conn, route.info.listenKey);
      }
      for (const s of route.streams) control.subscribe(conn, s);
    });
  });

  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { port, address } = server.address() as AddressInfo;
  const hostName = address.includes(':') ? `[${address}]` : address;

  const account = new Account(venue, clock, (type, event) => userData.publish(type, event));
  const truth = new Truth(market, encoder, hub);

  const stats = (): SimulatorStats => {
    const bySlot: Record<string, ConnectionCount> = {};
    for (const [k, v] of slots) bySlot[k] = { ...v };
    return {
      connections: {
        open: connections.size,
        highWater: counts.highWater,
        bySlot,
        accepted: counts.accepted,
      },
      connectionList: [...connections.values()].map((c) => ({
        id: c.id,
        path: c.path,
        route: c.info.route,
        combined: c.combined,
        subscriptions: [...c.subscriptions],
        frozen: c.frozen,
        openedAt: c.openedAt,
        messagesSent: c.messagesSent,
        bytesSent: c.bytesSent,
        framesSent: c.framesSent,
      })),
      subscriptions: { ...control.counters },
      streams: hub.counters(),
      closes1008: counts.closes1008,
      handshakes: {
        rejected429: counts.rejected429,
        rejected400: counts.rejected400,
        stalled: counts.stalled,
      },
      rest: { ...rest.counters, weightUsed: budget.used, weightTotal: budget.total },
      firehose: { messages: firehose?.messages ?? 0, bytes: firehose?.bytes ?? 0 },
    };
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      hub.close();
      faults.close();
      rest.close();
      userData.close();
      firehose?.close();
      for (const c of [...connections.values()]) c.terminate();
      for (const s of stalled) s.destroy();
      stalled.clear();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      wss.close();
      await done;
    })();
    return closing;
  };

  return {
    wsUrl: `ws://${hostName}:${port}`,
    restUrl: `http://${hostName}:${port}`,
    venue,
    stats,
    faults,
    truth,
    account,
    close,
  };
}

export type { VenueLimits };
