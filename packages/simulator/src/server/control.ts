import { parseStream, routeDelivers } from '../streams.js';
import type { VenueProfile } from '../venue.js';
import type { Connection } from './connection.js';
import type { StreamHub } from './hub.js';
import { printable } from './printable.js';

/** Binance control error codes (protocol.md). */
export const ControlError = {
  UnknownProperty: 0,
  InvalidValueType: 1,
  InvalidRequest: 2,
  InvalidJson: 3,
} as const;

const METHODS = ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS', 'SET_PROPERTY', 'GET_PROPERTY'];

/** Subscription counters kept for `stats()`. */
export interface SubscriptionCounters {
  subscribeFrames: number;
  unsubscribeFrames: number;
  /** A stream subscribed again on the connection that already holds it. */
  duplicateSameConnection: number;
  /** A stream subscribed while another open connection already holds it. */
  duplicateAcrossConnections: number;
  rejectedStreams: number;
}

type Id = number | string | null;

function errorReply(code: number, msg: string, id: Id): string {
  return JSON.stringify({ error: { code, msg }, id });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The live control protocol of a market-stream connection: SUBSCRIBE, UNSUBSCRIBE,
 * LIST_SUBSCRIPTIONS, SET_PROPERTY and GET_PROPERTY with Binance's replies and error
 * codes 0-3. Errors go out on the wire as `{"error":{"code":N,"msg":...},"id":...}`.
 */
export class ControlHandler {
  readonly counters: SubscriptionCounters = {
    subscribeFrames: 0,
    unsubscribeFrames: 0,
    duplicateSameConnection: 0,
    duplicateAcrossConnections: 0,
    rejectedStreams: 0,
  };
  readonly #venue: VenueProfile;
  readonly #hub: StreamHub;
  readonly #divert: ((conn: Connection, name: string) => boolean) | undefined;

  /** @param divert takes a stream away from the hub (firehose); true when it did. */
  constructor(
    venue: VenueProfile,
    hub: StreamHub,
    divert?: (conn: Connection, name: string) => boolean,
  ) {
    this.#venue = venue;
    this.#hub = hub;
    this.#divert = divert;
  }

  handle(conn: Connection, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      conn.reply(
        errorReply(
          ControlError.InvalidJson,
          'Invalid JSON: expected value at line 1 column 1',
          null,
        ),
      );
      return;
    }
    if (!isRecord(msg)) {
      conn.reply(
        errorReply(ControlError.InvalidRequest, 'Invalid request: expected a JSON object', null),
      );
      return;
    }
    const id = this.#id(msg['id']);
    if (id === undefined) {
      conn.reply(
        errorReply(
          ControlError.InvalidRequest,
          'Invalid request: request ID must be an unsigned integer',
          null,
        ),
      );
      return;
    }
    const method = msg['method'];
    if (method === undefined) {
      conn.reply(
        errorReply(ControlError.InvalidRequest, 'Invalid request: missing field `method`', id),
      );
      return;
    }
    if (typeof method !== 'string' || !METHODS.includes(method)) {
      const expected = METHODS.map((m) => `\`${m}\``).join(', ');
      conn.reply(
        errorReply(
          ControlError.InvalidRequest,
          `Invalid request: unknown variant \`${printable(method)}\`, expected one of ${expected}`,
          id,
        ),
      );
      return;
    }
    const params = msg['params'];
    switch (method) {
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE':
        this.#streams(conn, method, params, id);
        return;
      case 'LIST_SUBSCRIPTIONS':
        conn.reply(JSON.stringify({ result: [...conn.subscriptions], id }));
        return;
      default:
        this.#property(conn, method, params, id);
    }
  }

  /** Ids are unsigned integers; spot also takes a string of up to 36 characters or null. */
  #id(raw: unknown): Id | undefined {
    if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return raw;
    if (this.#venue.futures) return undefined;
    if (raw === null || raw === undefined) return null;
    if (typeof raw === 'string' && raw.length <= 36) return raw;
    return undefined;
  }

  #streams(conn: Connection, method: string, params: unknown, id: Id): void {
    if (!Array.isArray(params) || !params.every((p): p is string => typeof p === 'string')) {
      conn.reply(errorReply(ControlError.InvalidRequest, 'Invalid request: invalid stream', id));
      return;
    }
    const specs = [];
    for (const p of params) {
      const spec = parseStream(p, this.#venue);
      if (spec === undefined) {
        this.counters.rejectedStreams++;
        conn.reply(errorReply(ControlError.InvalidRequest, 'Invalid request: invalid stream', id));
        return;
      }
      specs.push(spec);
    }
    if (method === 'UNSUBSCRIBE') {
      this.counters.unsubscribeFrames++;
      for (const spec of specs) this.unsubscribe(conn, spec.name);
      conn.reply(JSON.stringify({ result: null, id }));
      return;
    }
    this.counters.subscribeFrames++;
    const fresh = new Set(specs.map((s) => s.name).filter((n) => !conn.subscriptions.has(n)));
    if (conn.subscriptions.size + fresh.size > this.#venue.limits.streamsPerConnection) {
      this.counters.rejectedStreams += fresh.size;
      conn.reply(
        errorReply(
          ControlError.InvalidRequest,
          `Invalid request: too many streams (max ${this.#venue.limits.streamsPerConnection} per connection)`,
          id,
        ),
      );
      return;
    }
    for (const spec of specs) this.subscribe(conn, spec.name);
    conn.reply(JSON.stringify({ result: null, id }));
  }

  /** Subscribe one already-validated stream (also used for streams given in the URL). */
  subscribe(conn: Connection, name: string): void {
    const spec = parseStream(name, this.#venue);
    if (spec === undefined) return;
    if (conn.subscriptions.has(spec.name)) {
      this.counters.duplicateSameConnection++;
      return;
    }
    const others = this.#hub.receivers(spec.name);
    if (others !== undefined && [...others].some((c) => c !== conn && !c.closed)) {
      this.counters.duplicateAcrossConnections++;
    }
    conn.subscriptions.add(spec.name);
    if (this.#divert?.(conn, spec.name) === true) return;
    if (routeDelivers(this.#venue, conn.info.route, spec)) this.#hub.attach(conn, spec);
  }

  unsubscribe(conn: Connection, name: string): void {
    conn.subscriptions.delete(name);
    this.#hub.detach(conn, name);
  }

  #property(conn: Connection, method: string, params: unknown, id: Id): void {
    if (!Array.isArray(params) || params.length === 0) {
      conn.reply(
        errorReply(ControlError.InvalidRequest, 'Invalid request: missing field `params`', id),
      );
      return;
    }
    const [name, value] = params as unknown[];
    if (typeof name !== 'string') {
      conn.reply(
        errorReply(
          ControlError.InvalidRequest,
          'Invalid request: property name must be a string',
          id,
        ),
      );
      return;
    }
    if (name !== 'combined') {
      conn.reply(errorReply(ControlError.UnknownProperty, 'Unknown property', id));
      return;
    }
    if (method === 'GET_PROPERTY') {
      if (params.length > 1) {
        conn.reply(
          errorReply(ControlError.InvalidRequest, 'Invalid request: too many parameters', id),
        );
        return;
      }
      conn.reply(JSON.stringify({ result: conn.combined, id }));
      return;
    }
    if (params.length > 2) {
      conn.reply(
        errorReply(ControlError.InvalidRequest, 'Invalid request: too many parameters', id),
      );
      return;
    }
    if (typeof value !== 'boolean') {
      conn.reply(
        errorReply(ControlError.InvalidValueType, 'Invalid value type: expected Boolean', id),
      );
      return;
    }
    conn.combined = value;
    conn.reply(JSON.stringify({ result: null, id }));
  }
}
