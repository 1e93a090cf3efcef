import { ErrorCode, UnifeedError } from './errors.js';
import { idOrder, quoted } from './fields/index.js';
import { parseLosslessNumbers } from './lossless-json.js';
import {
  given,
  requireInRange,
  requireObject,
  requireOptionalString,
  type PartialOptions,
} from './options.js';
import { excerpt, VENUE_TEXT_MAX } from './redact.js';
import { secureBase } from './secure-url.js';
import { frameText, type RawFrame } from './transport.js';
import {
  venueLimits,
  type Classified,
  type SubscriptionChange,
  type Venue,
  type VenueLimits,
  type VenueRequest,
} from './venue.js';

/** Overrides for the Upbit venue: point it at the simulator or a proxy. */
export interface UpbitVenueOptions {
  /** WebSocket base URL (scheme, host, port); `/websocket/v1` is appended. @default 'wss://api.upbit.com' */
  wsUrl?: string | undefined;
  /** REST base URL. @default 'https://api.upbit.com' */
  restUrl?: string | undefined;
  /** Any limit to override. @default protocol.md's numbers for Upbit */
  limits?: PartialOptions<VenueLimits> | undefined;
  /**
   * Upbit answers a request only when it refuses it. A request not refused within this long,
   * and whose new streams sent nothing yet, is taken as accepted; 0 to 60000. @default 1000
   */
  settleMs?: number | undefined;
  /** Prefix of the `ticket` of every request; the request id follows it. @default 'unifeed' */
  ticket?: string | undefined;
}

/** The stream types Upbit serves over WebSocket, candles by interval (protocol.md). */
export const UPBIT_CANDLE_INTERVALS = [
  '1s',
  '1m',
  '3m',
  '5m',
  '10m',
  '15m',
  '30m',
  '60m',
  '240m',
] as const;

/** An Upbit candle interval, as Upbit writes it in the type (`candle.60m`, not `1h`). */
export type UpbitCandleInterval = (typeof UPBIT_CANDLE_INTERVALS)[number];

/** The base stream types; candles are `candle.<interval>`. */
export type UpbitStreamType = 'ticker' | 'trade' | 'orderbook' | `candle.${UpbitCandleInterval}`;

const TYPES: ReadonlySet<string> = new Set([
  'ticker',
  'trade',
  'orderbook',
  ...UPBIT_CANDLE_INTERVALS.map((i) => `candle.${i}`),
]);

/** A market code: quote currency, a dash, the base asset (`KRW-BTC`, `BTC-ETH`, `USDT-XRP`). */
const CODE = /^[A-Z]{2,10}-[A-Z0-9]{1,20}$/;

const UPBIT_LIMITS: VenueLimits = {
  // Upbit states no number; a request carries the whole set, so the set stays moderate.
  streamsPerConnection: 200,
  // One request is the whole set: it cannot be chunked, so it holds as many as a connection.
  paramsPerRequest: 200,
  controlMessagesPerSecond: 5,
  controlMessagesPerMinute: 100,
  // No documented cut; a daily make-before-break rotation costs nothing.
  connectionLifetimeMs: 24 * 3_600_000,
  // One under Upbit's 5 a second: it counts arrivals on its own clock, and handshakes take
  // varying time, so five sent a second apart can land within one of its seconds.
  connectionAttempts: 4,
  connectionAttemptWindowMs: 1000,
  // Quotation REST: 10 requests per second; the weight budget counts one per request.
  restWeightPerMinute: 600,
};

/**
 * The pool's name of an Upbit stream: `<type>:<code>`, e.g. `ticker:KRW-BTC`,
 * `orderbook:KRW-BTC`, `candle.1m:KRW-BTC`. The same text is `type` and `code` of every
 * message of the stream, so routing a message needs no table.
 */
export function upbitStream(type: UpbitStreamType, code: string): string {
  return `${type}:${code}`;
}

/**
 * The stream of a caller's market `code` (in any case): `UNIFEED_INVALID_STREAM` at the call
 * for what is no market code. Not `String(code)`: `['KRW-BTC']`, or an object whose text is a
 * code, would pass for one.
 */
export function marketStream(type: UpbitStreamType, code: unknown): string {
  if (typeof code !== 'string') {
    throw new UnifeedError(ErrorCode.InvalidStream, `not a market code: ${quoted(code)}`);
  }
  const stream = upbitStream(type, code.toUpperCase());
  parseUpbitStream(stream);
  return stream;
}

/** Type and code of a stream name; throws `UNIFEED_INVALID_STREAM` for a name Upbit lacks. */
export function parseUpbitStream(stream: string): { type: UpbitStreamType; code: string } {
  const colon = stream.indexOf(':');
  const type = stream.slice(0, colon);
  const code = stream.slice(colon + 1);
  if (colon <= 0 || !TYPES.has(type) || !CODE.test(code)) {
    throw new UnifeedError(
      ErrorCode.InvalidStream,
      `not an Upbit stream: ${quoted(stream, 100)} (expected <type>:<code>, e.g. ticker:KRW-BTC)`,
    );
  }
  return { type: type as UpbitStreamType, code };
}

/**
 * Upbit (`wss://api.upbit.com/websocket/v1`). Three things differ from Binance, and all of
 * them are said here, not in the pool: a request is one JSON array that replaces the
 * connection's whole set (so each change re-sends the set, and an empty set cannot be said);
 * only refusals are answered, naming no request; and the heartbeat is the text `PING`,
 * answered by `{"status":"UP"}`, without which the server closes an idle connection after
 * about 120 s. Frames arrive as binary UTF-8 JSON, decoded keeping the digits of a trade's
 * `sequential_id`, which exceeds 2^53.
 */
export function upbit(options?: UpbitVenueOptions): Venue {
  const o = requireObject('the options of upbit', options, true);
  // Given as `null`, each is refused, not read as left out: a URL of `null` would quietly
  // connect to the exchange itself.
  requireOptionalString('wsUrl', o.wsUrl);
  requireOptionalString('restUrl', o.restUrl);
  requireOptionalString('ticket', o.ticket);
  const wsUrl = secureBase(given(o.wsUrl, 'wss://api.upbit.com'), 'WebSocket URL');
  const limits = venueLimits(UPBIT_LIMITS, o.limits);
  const ticket = given(o.ticket, 'unifeed');
  const settleMs = given(o.settleMs, 1000);
  // Negative: every refusal taken as late, a reconnect each; endless: no request ever settles.
  requireInRange('settleMs', settleMs, 0, 60_000);
  return {
    name: 'upbit',
    restUrl: secureBase(given(o.restUrl, 'https://api.upbit.com'), 'REST URL'),
    wsUrl,
    limits,
    heartbeat: { style: 'message', message: 'PING' },
    answers: { style: 'errors-only', settleMs },
    group: (stream) => {
      parseUpbitStream(stream);
      return 'public';
    },
    url: () => `${wsUrl}/websocket/v1`,
    requests: (change, nextId) => [request(change, nextId(), ticket)],
    classify,
    streamKey,
    decode,
    sequence,
    repeatKey,
  };
}

function request(change: SubscriptionChange, id: number, ticket: string): VenueRequest {
  const streams = [...change.all];
  if (streams.length === 0) return { id, op: 'replace', streams, frame: null };
  // One object per type with all its codes, in first-seen order: the smallest request.
  const byType = new Map<string, string[]>();
  for (const s of streams) {
    const { type, code } = parseUpbitStream(s);
    let codes = byType.get(type);
    if (!codes) byType.set(type, (codes = []));
    codes.push(code);
  }
  const parts: unknown[] = [{ ticket: `${ticket}-${id}` }];
  for (const [type, codes] of byType) parts.push({ type, codes });
  parts.push({ format: 'DEFAULT' });
  return { id, op: 'replace', streams, frame: JSON.stringify(parts) };
}

function classify(message: unknown): Classified {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return { kind: 'unknown' };
  }
  const m = message as Record<string, unknown>;
  if (typeof m.type === 'string' && typeof m.code === 'string') {
    return { kind: 'data', stream: `${m.type}:${m.code}`, payload: m };
  }
  if (m.status === 'UP') return { kind: 'pong' };
  if (typeof m.error === 'object' && m.error !== null) {
    const e = m.error as Record<string, unknown>;
    if (typeof e.name === 'string' && e.name.length > 0) {
      const msg = typeof e.message === 'string' ? excerpt(e.message, VENUE_TEXT_MAX) : '';
      return { kind: 'error', id: null, code: excerpt(e.name, 100), msg };
    }
  }
  return { kind: 'unknown' };
}

const TYPE_PREFIX = '{"type":"';
const CODE_PART = '","code":"';
const MAX_KEY = 64;

/**
 * Upbit writes decimals as JSON numbers: those of 16 digits or more (a day's KRW turnover, the
 * sizes of a coin priced below a won, a trade's `sequential_id`, beyond 2^53) are kept as their
 * exact text (`parseLosslessNumbers`), wherever they sit and whatever the keys' order.
 */
function decode(frame: RawFrame): unknown {
  return parseLosslessNumbers(frameText(frame));
}

/**
 * `<type>:<code>` read from a frame's first bytes, which Upbit's DEFAULT format always opens
 * with `{"type":"...","code":"..."`; `*` for anything else (answers, errors, pongs).
 */
function streamKey(frame: RawFrame): string {
  let head: string;
  if (typeof frame === 'string') head = frame.slice(0, TYPE_PREFIX.length + MAX_KEY);
  else if (Array.isArray(frame)) return frame.length > 0 ? streamKey(frame[0]!) : '*';
  else {
    const bytes = frame instanceof Uint8Array ? frame : new Uint8Array(frame);
    const n = Math.min(bytes.length, TYPE_PREFIX.length + MAX_KEY);
    // The key is ASCII: reading bytes as char codes is exact for it, and anything else fails below.
    head = String.fromCharCode(...bytes.subarray(0, n));
  }
  if (!head.startsWith(TYPE_PREFIX)) return '*';
  const typeEnd = head.indexOf('"', TYPE_PREFIX.length);
  if (typeEnd < 0 || !head.startsWith(CODE_PART, typeEnd)) return '*';
  const codeStart = typeEnd + CODE_PART.length;
  const codeEnd = head.indexOf('"', codeStart);
  if (codeEnd < 0) return '*';
  return `${head.slice(TYPE_PREFIX.length, typeEnd)}:${head.slice(codeStart, codeEnd)}`;
}

/**
 * The `timestamp` of a ticker, book or candle: states in time order, an older one a repeat of
 * the past in a rotation's overlap. None for a trade: its unique `sequential_id` comes in no
 * promised order (Upbit: "it does not guarantee the order of transactions"), so trades are
 * told apart by {@link repeatKey} alone.
 */
function sequence(payload: unknown): number | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const p = payload as Record<string, unknown>;
  return 'sequential_id' in p ? undefined : idOrder(p.timestamp);
}

/**
 * A message's identity in a rotation's overlap: a trade's id (as `decode` keeps its digits),
 * else a hash of the whole message, since two states may share a `timestamp`: the same
 * message from both connections is the same text.
 */
function repeatKey(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const p = payload as Record<string, unknown>;
  const id = p.sequential_id;
  if (typeof id === 'string' || typeof id === 'number') return `id:${String(id)}`;
  // Not `stream_type`: a replacement's SNAPSHOT of the state the old connection sent as
  // REALTIME is the same state.
  let text: string;
  try {
    text = JSON.stringify({ ...p, stream_type: undefined });
  } catch {
    // Nesting deep enough for the parser yet too deep for stringify's recursion (a RangeError
    // that would leave the socket loop and end the process): no key, so it is delivered, and
    // its plugin refuses it as unparsable, counted.
    return undefined;
  }
  return String(hash53(text));
}

/**
 * A 53-bit hash of `text` (cyrb53, public domain): two different messages of one ms collide
 * about once in 2^53, where a whole message kept per key would hold megabytes per stream.
 */
function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
