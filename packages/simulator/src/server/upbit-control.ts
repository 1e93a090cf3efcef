import type { Market } from '../market/market.js';
import { parseUpbitStream, type StreamSpec } from '../streams.js';
import type { VenueProfile } from '../venue.js';
import type { Connection } from './connection.js';
import type { SubscriptionCounters } from './control.js';
import type { StreamHub } from './hub.js';
import { printable } from './printable.js';

/** The error names Upbit answers a bad request with (protocol.md). */
export const UpbitError = {
  NoTicket: 'NO_TICKET',
  NoType: 'NO_TYPE',
  NoCodes: 'NO_CODES',
  WrongFormat: 'WRONG_FORMAT',
  InvalidParam: 'INVALID_PARAM',
} as const;

export type UpbitError = (typeof UpbitError)[keyof typeof UpbitError];

const TYPES = new Set(['ticker', 'trade', 'orderbook']);

interface Wanted {
  spec: StreamSpec;
  /** `is_only_snapshot`: send the current state, do not subscribe. */
  onlySnapshot: boolean;
  /** `is_only_realtime`: subscribe without the current state first. */
  onlyRealtime: boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Upbit's request protocol: `PING` answered `{"status":"UP"}`, and one JSON array of a
 * ticket, type objects (`{"type":"ticker","codes":["KRW-BTC"]}`) and an optional format,
 * which replaces the connection's whole set. Success is not answered; a bad request is
 * answered `{"error":{"name":...,"message":...}}` and changes nothing. A code the market
 * does not list is `INVALID_PARAM`, so a client learns of it. Streams newly in the set get
 * a `SNAPSHOT` message first (unless `is_only_realtime`); streams kept from the previous set
 * flow on without one.
 */
export class UpbitControlHandler {
  readonly counters: SubscriptionCounters = {
    subscribeFrames: 0,
    unsubscribeFrames: 0,
    duplicateSameConnection: 0,
    duplicateAcrossConnections: 0,
    rejectedStreams: 0,
  };
  /** Requests refused, by error name. */
  readonly errors: Record<UpbitError, number> = {
    NO_TICKET: 0,
    NO_TYPE: 0,
    NO_CODES: 0,
    WRONG_FORMAT: 0,
    INVALID_PARAM: 0,
  };
  /** `PING`s answered with `{"status":"UP"}`. */
  pings = 0;
  readonly #venue: VenueProfile;
  readonly #hub: StreamHub;
  readonly #market: Market;

  constructor(venue: VenueProfile, hub: StreamHub, market: Market) {
    this.#venue = venue;
    this.#hub = hub;
    this.#market = market;
  }

  handle(conn: Connection, text: string): void {
    if (text === 'PING') {
      this.pings++;
      conn.reply('{"status":"UP"}');
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.#refuse(conn, UpbitError.WrongFormat, 'request is not JSON');
      return;
    }
    if (!Array.isArray(msg)) {
      this.#refuse(conn, UpbitError.WrongFormat, 'request must be a JSON array');
      return;
    }
    let ticket = false;
    let types = 0;
    let format: 'DEFAULT' | 'SIMPLE' = 'DEFAULT';
    const wanted: Wanted[] = [];
    for (const part of msg) {
      if (!isRecord(part)) {
        this.#refuse(conn, UpbitError.WrongFormat, 'every element must be an object');
        return;
      }
      if ('ticket' in part) {
        ticket = typeof part.ticket === 'string' && part.ticket.length > 0;
      } else if ('format' in part) {
        if (part.format !== 'DEFAULT' && part.format !== 'SIMPLE') {
          this.#refuse(conn, UpbitError.WrongFormat, `unknown format ${printable(part.format)}`);
          return;
        }
        format = part.format;
      } else if ('type' in part) {
        types++;
        const error = this.#collect(part, wanted);
        if (error !== undefined) {
          this.#refuse(conn, error[0], error[1]);
          return;
        }
      } else {
        this.#refuse(conn, UpbitError.WrongFormat, 'unknown request element');
        return;
      }
    }
    if (!ticket) {
      this.#refuse(conn, UpbitError.NoTicket, 'ticket is required');
      return;
    }
    if (types === 0) {
      this.#refuse(conn, UpbitError.NoType, 'type is required');
      return;
    }
    const subscribed = wanted.filter((w) => !w.onlySnapshot);
    if (
      new Set(subscribed.map((w) => w.spec.name)).size > this.#venue.limits.streamsPerConnection
    ) {
      this.#refuse(
        conn,
        UpbitError.InvalidParam,
        `too many codes (max ${this.#venue.limits.streamsPerConnection} per connection)`,
      );
      return;
    }
    this.#replace(conn, wanted, format);
  }

  /** Read one type object into `wanted`; an error name and message when it is bad. */
  #collect(part: Record<string, unknown>, wanted: Wanted[]): [UpbitError, string] | undefined {
    const type = part.type;
    if (typeof type !== 'string' || type.length === 0)
      return [UpbitError.NoType, 'type is required'];
    const candle = type.startsWith('candle.');
    if (!TYPES.has(type) && !candle) return [UpbitError.InvalidParam, `unknown type ${type}`];
    const codes = part.codes;
    if (!Array.isArray(codes) || codes.length === 0) {
      return [UpbitError.NoCodes, 'codes is required'];
    }
    for (const code of codes) {
      const spec =
        typeof code === 'string' ? parseUpbitStream(`${type}:${code}`, this.#venue) : undefined;
      if (spec === undefined) {
        return [UpbitError.InvalidParam, candle ? `invalid type or code` : `invalid code`];
      }
      if (!this.#market.specs.has(spec.symbol)) {
        return [UpbitError.InvalidParam, `invalid code ${spec.symbol}`];
      }
      wanted.push({
        spec,
        onlySnapshot: part.is_only_snapshot === true,
        onlyRealtime: part.is_only_realtime === true,
      });
    }
    return undefined;
  }

  #replace(conn: Connection, wanted: Wanted[], format: 'DEFAULT' | 'SIMPLE'): void {
    this.counters.subscribeFrames++;
    conn.format = format;
    const keep = new Set(wanted.filter((w) => !w.onlySnapshot).map((w) => w.spec.name));
    for (const name of [...conn.subscriptions]) {
      if (keep.has(name)) continue;
      conn.subscriptions.delete(name);
      this.#hub.detach(conn, name);
    }
    const snapshotted = new Set<string>();
    for (const w of wanted) {
      const { spec } = w;
      const fresh = !conn.subscriptions.has(spec.name);
      if ((w.onlySnapshot || (fresh && !w.onlyRealtime)) && !snapshotted.has(spec.name)) {
        snapshotted.add(spec.name);
        this.#hub.snapshot(conn, spec);
      }
      if (w.onlySnapshot || !fresh) continue;
      const others = this.#hub.receivers(spec.name);
      if (others !== undefined && [...others].some((c) => c !== conn && !c.closed)) {
        this.counters.duplicateAcrossConnections++;
      }
      conn.subscriptions.add(spec.name);
      this.#hub.attach(conn, spec);
    }
  }

  #refuse(conn: Connection, name: UpbitError, message: string): void {
    this.errors[name]++;
    this.counters.rejectedStreams++;
    conn.reply(JSON.stringify({ error: { name, message } }));
  }
}
