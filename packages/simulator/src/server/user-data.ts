import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock, TimerHandle } from '@unifeed/core';
import type { VenueProfile } from '../venue.js';
import type { Connection } from './connection.js';
import { printable } from './printable.js';
import type { RestExtension } from './rest.js';

/** An API key the simulator accepts, with its secret for signatures. */
export interface ApiCredentials {
  apiKey: string;
  secret: string;
}

interface ListenKey {
  key: string;
  apiKey: string;
  timer: TimerHandle;
}

/**
 * Futures listen keys (POST/PUT/DELETE with X-MBX-APIKEY, 60 minutes on the simulated clock,
 * `listenKeyExpired` to its connections), spot WS API user-data subscriptions with a real
 * HMAC-SHA256 check, and the fan-out of account events to whoever listens.
 */
export class UserData {
  readonly #venue: VenueProfile;
  readonly #clock: Clock;
  readonly #secrets: Map<string, string>;
  readonly #keys = new Map<string, ListenKey>();
  /** Futures user-data connections by listen key. */
  readonly #listeners = new Map<string, Set<Connection>>();
  /** Spot WS API subscriptions: connection -> subscription id. */
  readonly #subscriptions = new Map<Connection, number>();
  #nextSubscription = 0;

  constructor(venue: VenueProfile, clock: Clock, credentials: readonly ApiCredentials[]) {
    this.#venue = venue;
    this.#clock = clock;
    this.#secrets = new Map(credentials.map((c) => [c.apiKey, c.secret]));
  }

  isValidListenKey(key: string): boolean {
    return this.#keys.has(key);
  }

  /** Listen keys alive now. */
  listenKeys(): string[] {
    return [...this.#keys.keys()];
  }

  readonly rest: RestExtension = (method, path, _query, apiKey) => {
    if (!this.#venue.futures || path !== '/fapi/v1/listenKey') return undefined;
    if (apiKey === undefined || !this.#secrets.has(apiKey)) {
      return {
        status: 401,
        body: { code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' },
        weight: 1,
      };
    }
    const active = [...this.#keys.values()].find((k) => k.apiKey === apiKey);
    if (method === 'POST') {
      const key = active?.key ?? randomBytes(32).toString('hex');
      this.#arm(key, apiKey);
      return { status: 200, body: { listenKey: key }, weight: 1 };
    }
    if (method === 'PUT') {
      if (active === undefined) {
        return {
          status: 400,
          body: { code: -1125, msg: 'This listenKey does not exist.' },
          weight: 1,
        };
      }
      this.#arm(active.key, apiKey);
      return { status: 200, body: { listenKey: active.key }, weight: 1 };
    }
    if (method === 'DELETE') {
      if (active !== undefined) this.#drop(active.key);
      return { status: 200, body: {}, weight: 1 };
    }
    return undefined;
  };

  #arm(key: string, apiKey: string): void {
    const old = this.#keys.get(key);
    if (old !== undefined) this.#clock.clearTimeout(old.timer);
    const timer = this.#clock.setTimeout(
      () => this.expire(key),
      this.#venue.limits.listenKeyValidityMs,
    );
    this.#keys.set(key, { key, apiKey, timer });
  }

  #drop(key: string): void {
    const k = this.#keys.get(key);
    if (k !== undefined) this.#clock.clearTimeout(k.timer);
    this.#keys.delete(key);
  }

  /**
   * Futures: expire a listen key now (or the first one); its connections get
   * `listenKeyExpired`. Spot: end every WS API user-data subscription.
   */
  expire(key?: string): void {
    if (!this.#venue.futures) {
      // Spot has no listen keys: its user-data subscriptions end with eventStreamTerminated.
      for (const conn of [...this.#subscriptions.keys()]) this.#terminate(conn);
      return;
    }
    const k = key ?? this.#keys.keys().next().value;
    if (k === undefined) return;
    this.#drop(k);
    // Captured traffic carries E as a string here, unlike every other event: keep it so.
    const event = JSON.stringify({
      e: 'listenKeyExpired',
      E: String(this.#clock.now()),
      listenKey: k,
    });
    for (const conn of this.#listeners.get(k) ?? []) this.#sendTo(conn, k, event);
  }

  addListener(conn: Connection, key: string): void {
    let set = this.#listeners.get(key);
    if (set === undefined) this.#listeners.set(key, (set = new Set()));
    set.add(conn);
  }

  removeConnection(conn: Connection): void {
    this.#subscriptions.delete(conn);
    const key = conn.info.listenKey;
    if (key === undefined) return;
    const set = this.#listeners.get(key);
    set?.delete(conn);
    if (set?.size === 0) this.#listeners.delete(key);
  }

  #sendTo(conn: Connection, key: string, event: string): void {
    conn.send(conn.combined ? `{"stream":"${key}","data":${event}}` : event);
  }

  /** End a spot WS API subscription the way the venue does: `eventStreamTerminated`. */
  #terminate(conn: Connection): void {
    const id = this.#subscriptions.get(conn);
    if (id === undefined) return;
    this.#subscriptions.delete(conn);
    conn.send(
      `{"subscriptionId":${id},"event":{"e":"eventStreamTerminated","E":${this.#clock.now()}}}`,
    );
  }

  /** Send an account event to every user-data listener. */
  publish(type: string, text: string): void {
    for (const [key, conns] of this.#listeners) {
      if (!this.#keys.has(key)) continue;
      for (const conn of conns) {
        if (conn.info.events === undefined || conn.info.events.has(type))
          this.#sendTo(conn, key, text);
      }
    }
    for (const [conn, id] of this.#subscriptions)
      conn.send(`{"subscriptionId":${id},"event":${text}}`);
  }

  /** Spot WS API: one request frame. */
  handleApi(conn: Connection, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      conn.reply(
        JSON.stringify({ id: null, status: 400, error: { code: -1102, msg: 'Invalid JSON.' } }),
      );
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const req = msg as { id?: unknown; method?: unknown; params?: unknown };
    const id = typeof req.id === 'string' || typeof req.id === 'number' ? req.id : null;
    const ok = (result: unknown): void =>
      conn.reply(JSON.stringify({ id, status: 200, result, rateLimits: [] }));
    const fail = (status: number, code: number, m: string): void =>
      conn.reply(JSON.stringify({ id, status, error: { code, msg: m } }));
    switch (req.method) {
      case 'ping':
        ok({});
        return;
      case 'time':
        ok({ serverTime: this.#clock.now() });
        return;
      case 'userDataStream.subscribe.signature': {
        const err = this.#verify(req.params);
        if (err !== undefined) {
          fail(err.status, err.code, err.msg);
          return;
        }
        const subscriptionId = this.#subscriptions.get(conn) ?? this.#nextSubscription++;
        this.#subscriptions.set(conn, subscriptionId);
        ok({ subscriptionId });
        return;
      }
      case 'userDataStream.unsubscribe':
        this.#terminate(conn);
        ok({});
        return;
      default:
        fail(400, -1100, 'Unknown method.');
    }
  }

  /**
   * Binance WS API signing: HMAC-SHA256 of the params (but `signature`) sorted by name and
   * joined as a query string, with the secret of `apiKey`.
   */
  #verify(params: unknown): { status: number; code: number; msg: string } | undefined {
    if (typeof params !== 'object' || params === null) {
      return { status: 400, code: -1102, msg: "Mandatory parameter 'apiKey' was not sent." };
    }
    const p = params as Record<string, unknown>;
    const apiKey = p['apiKey'];
    const secret = typeof apiKey === 'string' ? this.#secrets.get(apiKey) : undefined;
    if (secret === undefined) {
      return { status: 401, code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' };
    }
    const signature = p['signature'];
    if (typeof signature !== 'string' || typeof p['timestamp'] !== 'number') {
      return { status: 400, code: -1102, msg: "Mandatory parameter 'signature' was not sent." };
    }
    const { signature: _omit, ...signed } = p;
    const expected = signParams(signed, secret);
    const a = Buffer.from(expected);
    const b = Buffer.from(signature);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      return { status: 400, code: -1022, msg: 'Signature for this request is not valid.' };
    }
    // Binance's timing rule: at most 1 s ahead of the server, at most recvWindow behind.
    const now = this.#clock.now();
    const recvWindow = typeof p['recvWindow'] === 'number' ? p['recvWindow'] : 5000;
    if (p['timestamp'] > now + 1000) {
      return {
        status: 400,
        code: -1021,
        msg: "Timestamp for this request was 1000ms ahead of the server's time.",
      };
    }
    if (now - p['timestamp'] > recvWindow) {
      return {
        status: 400,
        code: -1021,
        msg: 'Timestamp for this request is outside of the recvWindow.',
      };
    }
    return undefined;
  }

  close(): void {
    for (const k of this.#keys.values()) this.#clock.clearTimeout(k.timer);
    this.#keys.clear();
    this.#listeners.clear();
    this.#subscriptions.clear();
  }
}

/** Sign WS API params the way Binance expects (exported for tests and examples). */
export function signParams(params: Readonly<Record<string, unknown>>, secret: string): string {
  const payload = Object.keys(params)
    .sort()
    .map((k) => `${k}=${printable(params[k])}`)
    .join('&');
  return createHmac('sha256', secret).update(payload).digest('hex');
}
