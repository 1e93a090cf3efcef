import { Writable } from 'node:stream';
import { createLogger, RestClient, type Logger, type WebSocketConstructor } from '@unifeed/core';
import { ManualClock } from '@unifeed/core/testing';
import { startSimulator, type Simulator, type SimulatorOptions } from '@unifeed/simulator';
import { afterEach } from 'vitest';
import type { Observable } from 'rxjs';
import { WebSocket } from 'ws';
import type { AccountStatus } from '../src/index.js';

/** Simulated start time of every test: a Monday, 00:00 UTC. */
export const START = Date.UTC(2026, 0, 5);

/**
 * What a test saw go over the wire: the URLs the client connected to, the frames it sent and
 * the REST answers it got. The secret test mines them for every listen key and signature.
 */
export interface Wire {
  urls: string[];
  sent: string[];
  restBodies: string[];
  /** REST calls as `METHOD path`, in order. */
  calls: string[];
}

/**
 * A `ws` WebSocket that records its URL and every frame sent; frames `lose` returns true for
 * are recorded but never reach the server (a request lost on the way).
 */
export function recordingWebSocket(
  wire: Wire,
  lose: (text: string) => boolean = () => false,
): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[], options?: Record<string, unknown>) {
      super(url, protocols, options);
      wire.urls.push(url);
    }
    override send(data: unknown, ...rest: unknown[]): void {
      if (typeof data === 'string') {
        wire.sent.push(data);
        if (lose(data)) return;
      }
      (super.send as (...a: unknown[]) => void)(data, ...rest);
    }
  } as unknown as WebSocketConstructor;
}

/** A REST client on `clock` whose fetch records every answer body. */
export function recordingRest(
  baseUrl: string,
  clock: ManualClock,
  wire: Wire,
  logger?: Logger,
): RestClient {
  const recordingFetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    wire.calls.push(`${init?.method ?? 'GET'} ${url.pathname}`);
    const res = await fetch(input, init);
    const text = await res.text();
    wire.restBodies.push(text);
    return new Response(text, { status: res.status, headers: res.headers });
  };
  return new RestClient({ baseUrl, clock, fetch: recordingFetch, logger });
}

/** Every log line, as pino wrote it (debug level, core's redaction list). */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: 'debug' }, stream);
  return { logger, lines };
}

/**
 * A logger that records every call as JSON, bindings included, with no redaction at all: what
 * the library hands to a logger, before pino could censor anything.
 */
export function rawLogger(lines: string[], bindings: Record<string, unknown> = {}): Logger {
  const log =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push(JSON.stringify({ level, ...bindings, ...obj, msg }, errorFields));
    };
  return {
    trace: log('trace'),
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (more) => rawLogger(lines, { ...bindings, ...more }),
  };
}

/** Both loggers get every call. */
export function teeLogger(a: Logger, b: Logger): Logger {
  return {
    trace: (o, m) => (a.trace(o, m), b.trace(o, m)),
    debug: (o, m) => (a.debug(o, m), b.debug(o, m)),
    info: (o, m) => (a.info(o, m), b.info(o, m)),
    warn: (o, m) => (a.warn(o, m), b.warn(o, m)),
    error: (o, m) => (a.error(o, m), b.error(o, m)),
    child: (bindings) => teeLogger(a.child(bindings), b.child(bindings)),
  };
}

/** JSON.stringify replacer that spells out errors: message, stack, cause and own fields. */
export function errorFields(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return {
      ...value,
      name: value.name,
      message: value.message,
      stack: value.stack,
      cause: value.cause,
    };
  }
  return value;
}

/**
 * Per-test simulators on their own ManualClock, and a separate ManualClock for the client, so
 * that a test can check the client left no timer behind. `advance` moves both together, in
 * steps, letting real socket and HTTP I/O happen between them.
 */
export function accountFixture() {
  const sims: Simulator[] = [];
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    for (const s of sims.splice(0)) await s.close();
  });
  return {
    async start(options: SimulatorOptions = {}) {
      const simClock = new ManualClock(START);
      const clock = new ManualClock(START);
      // Time jumps by minutes here: server pings would find no pong in between.
      const sim = await startSimulator({
        symbols: 3,
        clock: simClock,
        ...options,
        limits: { pingIntervalMs: 0, ...options.limits },
      });
      sims.push(sim);
      const wire: Wire = { urls: [], sent: [], restBodies: [], calls: [] };
      const advance = async (ms: number, stepMs = 60_000): Promise<void> => {
        for (let left = ms; left > 0; left -= stepMs) {
          const step = Math.min(stepMs, left);
          await simClock.advance(step);
          await clock.advance(step);
          await settle();
        }
      };
      /**
       * Advance `stepMs` at a time until `cond` holds (checked before each step), at most
       * `maxSteps` steps: for timers armed when an answer arrives, which a busy machine delays.
       */
      const advanceUntil = async (cond: () => boolean, stepMs: number, maxSteps = 50) => {
        for (let i = 0; !cond(); i++) {
          if (i === maxSteps) throw new Error(`not reached in ${maxSteps} steps of ${stepMs} ms`);
          await advance(stepMs, stepMs);
        }
      };
      return { sim, clock, simClock, wire, advance, advanceUntil };
    },
    /** Stop this after the test, even when it fails. */
    onCleanup(stop: () => Promise<void>): void {
      stops.push(stop);
    },
  };
}

/** Let real socket I/O happen (a few event-loop turns) without moving any ManualClock. */
export async function settle(ms = 15): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Wait (bounded) until `cond` holds: real I/O takes its time, more so on a busy machine. */
export async function waitFor(cond: () => boolean, what = 'condition', timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Heartbeat settings that never fire within the minutes-long jumps of these tests. */
export const QUIET_HEARTBEAT = { intervalMs: 6 * 3_600_000, timeoutMs: 12 * 3_600_000 };

/** The observables both account feeds have. */
interface AccountStreams<O, E, B> {
  orders$: Observable<O>;
  events$: Observable<E>;
  status$: Observable<AccountStatus>;
  balances$: Observable<ReadonlyMap<string, B>>;
}

/**
 * Record everything an account feed emits: orders, events, statuses, the latest balances, and
 * how each observable ended (`<name> complete` or `<name> error <code>`).
 */
export function observeAccount<O, E, B>(account: AccountStreams<O, E, B>) {
  const orders: O[] = [];
  const events: E[] = [];
  const statuses: AccountStatus[] = [];
  const ends: string[] = [];
  let balances: ReadonlyMap<string, B> = new Map();
  const end = (name: string) => ({
    error: (e: { code?: string }) => ends.push(`${name} error ${e.code}`),
    complete: () => ends.push(`${name} complete`),
  });
  account.orders$.subscribe({ next: (o) => orders.push(o), ...end('orders') });
  account.events$.subscribe({ next: (e) => events.push(e), ...end('events') });
  account.status$.subscribe({ next: (x) => statuses.push(x), ...end('status') });
  account.balances$.subscribe({ next: (b) => (balances = b), ...end('balances') });
  return {
    orders,
    events,
    statuses,
    ends,
    end,
    balances: () => balances,
    /** The statuses of one type, in order. */
    said: (type: AccountStatus['type']) => statuses.filter((x) => x.type === type),
  };
}

/** Every listen key the simulator handed out, in order (from the recorded REST answers). */
export function listenKeys(wire: Wire): string[] {
  const keys: string[] = [];
  for (const body of wire.restBodies) {
    const key = (JSON.parse(body) as { listenKey?: string }).listenKey;
    if (key !== undefined && !keys.includes(key)) keys.push(key);
  }
  return keys;
}
