import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { realClock, type Clock } from '@unifeed/core';
import { Account } from './account.js';
import { Faults } from './faults.js';
import { Market } from './market/market.js';
import {
  defaultSymbols,
  symbolsFromList,
  upbitSymbols,
  upbitSymbolsFromList,
  DEFAULT_SYMBOL_COUNT,
} from './market/symbols.js';
import { DEFAULT_API_KEY, type SimulatorOptions } from './options.js';
import { Encoder } from './payloads.js';
import { ControlHandler, type SubscriptionCounters } from './server/control.js';
import { Firehose } from './server/firehose.js';
import { Gateway, type ConnectionCount } from './server/gateway.js';
import { StreamHub, type StreamCounters } from './server/hub.js';
import { UpbitControlHandler, type UpbitError } from './server/upbit-control.js';
import { UpbitEncoder } from './upbit-payloads.js';
import { RestApi, type RestCounters } from './server/rest.js';
import { UserData } from './server/user-data.js';
import { WeightBudget } from './server/weight.js';
import { parseStream } from './streams.js';
import { Truth } from './truth.js';
import { validateOptions } from './validate.js';
import { venueProfile, type RouteGroup, type VenueProfile } from './venue.js';

/** One open connection as `stats()` reports it. */
export interface ConnectionInfo {
  id: number;
  /** Path it was opened on. */
  path: string;
  /** Its key in `stats().connections.bySlot`: the path, plus the slot parameter when sent. */
  slot: string;
  route: RouteGroup;
  combined: boolean;
  subscriptions: string[];
  frozen: boolean;
  /**
   * Closing or closed but not yet let go of: a fault aimed at it lands nowhere (`drop` skips
   * it), so a fault picker passes it over.
   */
  closing: boolean;
  openedAt: number;
  messagesSent: number;
  bytesSent: number;
  /** Every frame written, replies included: a test waits until its client has this many. */
  framesSent: number;
}

export interface SimulatorStats {
  connections: ConnectionCount & {
    /**
     * Per slot (the path a connection was opened on, plus its slot parameter when sent): the
     * open ones, and the latest 1,000 closed ones that once held two sockets at once.
     */
    bySlot: Record<string, ConnectionCount>;
    accepted: number;
    /** Slots that ever held two sockets at once, closed ones dropped from `bySlot` included. */
    doubledSlots: number;
  };
  connectionList: ConnectionInfo[];
  subscriptions: SubscriptionCounters;
  /**
   * Per stream: data messages and bytes sent since start, subscribers now. Streams no longer
   * subscribed beyond the latest 1,000 are summed under `OTHER_STREAMS`.
   */
  streams: Record<string, StreamCounters>;
  /** Connections closed with 1008 "Too many requests". */
  closes1008: number;
  /** Upbit: requests refused, by error name (all zero on Binance). */
  upbitErrors: Record<UpbitError, number>;
  /** Upbit: text `PING`s answered with `{"status":"UP"}`. */
  upbitPings: number;
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
  /** Futures listen keys alive now (secrets: for leak checks, never for logs). */
  listenKeys(): string[];
  /** Free the port, terminate every socket, clear every timer. Idempotent. */
  close(): Promise<void>;
}

/** Start a simulator; resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  validateOptions(options);
  const clock: Clock = options.clock ?? realClock;
  const venue = venueProfile(options.venue ?? 'binance-usdm', options.limits);
  const speed = options.speed ?? 1;
  const tickMs = options.tickMs ?? 50;
  const symbols = options.symbols ?? DEFAULT_SYMBOL_COUNT;
  const isUpbit = venue.dialect === 'upbit';
  const specs =
    typeof symbols === 'number'
      ? isUpbit
        ? upbitSymbols(symbols)
        : defaultSymbols(symbols)
      : isUpbit
        ? upbitSymbolsFromList(symbols)
        : symbolsFromList(symbols);
  const market = new Market(
    specs,
    {
      seed: options.seed ?? 1,
      levels: options.bookLevels ?? 1000,
      historySize: options.truthHistory ?? 256,
      idGaps: venue.futures,
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
    spreadPushes: options.spreadPushes ?? false,
    sendTime: options.sendTime,
    ...(isUpbit ? { upbit: new UpbitEncoder() } : {}),
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
  const upbitControl = new UpbitControlHandler(venue, hub, market);
  const sockets = new Set<Socket>();
  let closes1008 = 0;

  const faults = new Faults({
    clock,
    connections: () => gw.connections(),
    stallHandshakes: (n) => gw.stall(n),
    skipDiffs: (symbol, events) => hub.skipDiffs(symbol, events),
    restFault: (f) => rest.addFault(f),
    expireListenKey: (key) => userData.expire(key),
  });

  const gw = new Gateway({
    venue,
    slotParam: options.slotParam ?? 'slot',
    isValidListenKey: (key) => userData.isValidListenKey(key),
    host: {
      clock,
      limits: venue.limits,
      binary: isUpbit,
      onText: (conn, text) => {
        if (isUpbit) upbitControl.handle(conn, text);
        else if (conn.info.api) userData.handleApi(conn, text);
        else control.handle(conn, text);
      },
      onSent: () => faults.messageSent(),
      onTooManyRequests: () => {
        closes1008++;
      },
      onGone: (conn) => {
        for (const name of conn.subscriptions) hub.detach(conn, name);
        userData.removeConnection(conn);
      },
    },
    onOpen: (conn, route) => {
      if (route.info.route === 'private' && route.info.listenKey !== undefined) {
        userData.addListener(conn, route.info.listenKey);
      }
      for (const s of route.streams) control.subscribe(conn, s);
    },
  });

  const server: Server = createServer((req, res) => rest.handle(req, res));
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    gw.upgrade(req, socket, head),
  );

  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { port, address } = server.address() as AddressInfo;
  const hostName = urlHost(address);

  const account = new Account(venue, clock, (type, event) => userData.publish(type, event));
  const truth = new Truth(market, encoder, hub);

  const stats = (): SimulatorStats => {
    const g = gw.counters;
    const connections = gw.connections();
    return {
      connections: {
        open: connections.length,
        highWater: g.highWater,
        bySlot: gw.slots(),
        accepted: g.accepted,
        doubledSlots: g.doubledSlots,
      },
      connectionList: connections.map((c) => ({
        id: c.id,
        path: c.path,
        slot: c.slot,
        route: c.info.route,
        combined: c.combined,
        subscriptions: [...c.subscriptions],
        frozen: c.frozen,
        closing: c.closing || c.closed,
        openedAt: c.openedAt,
        messagesSent: c.messagesSent,
        bytesSent: c.bytesSent,
        framesSent: c.framesSent,
      })),
      subscriptions: { ...(isUpbit ? upbitControl.counters : control.counters) },
      streams: hub.counters(),
      closes1008,
      upbitErrors: { ...upbitControl.errors },
      upbitPings: upbitControl.pings,
      handshakes: { rejected429: g.rejected429, rejected400: g.rejected400, stalled: g.stalled },
      rest: { ...rest.counters, weightUsed: budget.used, weightTotal: budget.total },
      firehose: { messages: firehose?.messages ?? 0, bytes: firehose?.bytes ?? 0 },
    };
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      hub.close();
      faults.close();
      rest.close();
      userData.close();
      firehose?.close();
      gw.close();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
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
    listenKeys: () => userData.listenKeys(),
    close,
  };
}

/**
 * The host part of the simulator's URLs for the address it is bound to. Bound to every
 * interface (`0.0.0.0`, `::`), the URLs name this machine's loopback, which a client may use
 * over plain `ws://`: a wildcard address is not a host to connect to.
 */
export function urlHost(address: string): string {
  const host = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  return host.includes(':') ? `[${host}]` : host;
}
