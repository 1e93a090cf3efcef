import { ErrorCode, UnifeedError } from './errors.js';
import { quoted } from './fields/index.js';
import { given, requireObject, requireOptionalString, type PartialOptions } from './options.js';
import { excerpt, VENUE_TEXT_MAX } from './redact.js';
import { secureBase } from './secure-url.js';
import type { RawFrame } from './transport.js';
import {
  venueLimits,
  type Classified,
  type SubscriptionChange,
  type Venue,
  type VenueLimits,
  type VenueRequest,
} from './venue.js';

/** Overrides for a Binance venue: point it at the simulator, a testnet or a proxy. */
export interface BinanceVenueOptions {
  /** WebSocket base URL (scheme, host, port); paths are appended. @default the exchange's */
  wsUrl?: string | undefined;
  /** REST base URL. @default the exchange's */
  restUrl?: string | undefined;
  /** Any limit to override. @default protocol.md's numbers for the venue */
  limits?: PartialOptions<VenueLimits> | undefined;
}

const HOUR = 3_600_000;

/** Kline intervals Binance USD-M futures serves (protocol.md). `1M` is a month, `1m` a minute. */
export const USDM_KLINE_INTERVALS = [
  '1m',
  '3m',
  '5m',
  '15m',
  '30m',
  '1h',
  '2h',
  '4h',
  '6h',
  '8h',
  '12h',
  '1d',
  '3d',
  '1w',
  '1M',
] as const;

/** Kline intervals Binance spot serves: USD-M's plus `1s`. */
export const SPOT_KLINE_INTERVALS = ['1s', ...USDM_KLINE_INTERVALS] as const;

const SPOT_LIMITS: VenueLimits = {
  streamsPerConnection: 1024,
  paramsPerRequest: 200,
  controlMessagesPerSecond: 5,
  connectionLifetimeMs: 24 * HOUR,
  connectionAttempts: 300,
  connectionAttemptWindowMs: 300_000,
  restWeightPerMinute: 1200,
};

const USDM_LIMITS: VenueLimits = {
  ...SPOT_LIMITS,
  // The newest page says 1024; 200 is the number that has always held.
  streamsPerConnection: 200,
  controlMessagesPerSecond: 10,
  restWeightPerMinute: 2400,
};

/** Binance spot: every market stream on one path. */
export function binanceSpot(options?: BinanceVenueOptions): Venue {
  const o = venueOptions('binanceSpot', options);
  const wsUrl = secureBase(given(o.wsUrl, 'wss://stream.binance.com:9443'), 'WebSocket URL');
  return binanceVenue({
    name: 'binance-spot',
    restUrl: secureBase(given(o.restUrl, 'https://api.binance.com'), 'REST URL'),
    wsUrl,
    limits: venueLimits(SPOT_LIMITS, o.limits),
    group: (stream) => {
      streamKind(stream);
      return 'spot';
    },
    url: () => `${wsUrl}/stream`,
  });
}

/** Stream kinds USD-M futures serves on `/public`; everything else market data is on `/market`. */
const USDM_PUBLIC = new Set(['bookTicker', 'depth']);
const USDM_MARKET = new Set([
  'aggTrade',
  'markPrice',
  'kline',
  'continuousKline',
  'miniTicker',
  'ticker',
  'forceOrder',
]);

/**
 * Binance USD-M futures. Since 2026-04-23 a stream only flows on its routed path (`/public`
 * or `/market`); an un-routed or wrongly routed subscription is accepted and silently
 * delivers nothing. The group of a stream is derived from its kind, so no caller can pick a
 * path, and a kind the venue does not serve is refused.
 */
export function binanceUsdm(options?: BinanceVenueOptions): Venue {
  const o = venueOptions('binanceUsdm', options);
  const wsUrl = secureBase(given(o.wsUrl, 'wss://fstream.binance.com'), 'WebSocket URL');
  return binanceVenue({
    name: 'binance-usdm',
    restUrl: secureBase(given(o.restUrl, 'https://fapi.binance.com'), 'REST URL'),
    wsUrl,
    limits: venueLimits(USDM_LIMITS, o.limits),
    group: (stream) => {
      const kind = streamKind(stream);
      if (USDM_PUBLIC.has(kind)) return 'public';
      if (USDM_MARKET.has(kind)) return 'market';
      throw new UnifeedError(
        ErrorCode.InvalidStream,
        `binance-usdm has no stream kind '${kind}' (${stream})`,
      );
    },
    url: (group) => `${wsUrl}/${group}/stream`,
  });
}

/**
 * A venue's options, checked: an untyped caller's `null` would be a TypeError, and a URL of
 * `null` would quietly connect to the production exchange.
 */
function venueOptions(
  venue: string,
  options: BinanceVenueOptions | undefined,
): BinanceVenueOptions {
  const o = requireObject(`the options of ${venue}`, options, true);
  requireOptionalString('wsUrl', o.wsUrl);
  requireOptionalString('restUrl', o.restUrl);
  return o;
}

interface BinanceDialect {
  name: string;
  restUrl: string;
  wsUrl: string;
  limits: VenueLimits;
  group(stream: string): string;
  url(group: string): string;
}

function binanceVenue(d: BinanceDialect): Venue {
  return {
    name: d.name,
    restUrl: d.restUrl,
    wsUrl: d.wsUrl,
    limits: Object.freeze(d.limits),
    heartbeat: { style: 'frame' },
    // protocol.md: 0 unknown property, 1 invalid value type, 2 invalid request, 3 invalid JSON.
    answers: { style: 'id', unreadCodes: [0, 1, 2, 3] },
    group: d.group,
    url: d.url,
    requests: (change, nextId) => requests(change, nextId, d.limits.paramsPerRequest),
    classify,
    streamKey,
    sequence,
    sequenceScope,
  };
}

/**
 * The kind of a stream name without its symbol, interval or speed: `btcusdt@kline_1m` ->
 * `kline`, `btcusdt@depth20@100ms` -> `depth`, `!markPrice@arr@1s` -> `markPrice`.
 */
export function streamKind(stream: string): string {
  const at = stream.indexOf('@');
  const valid =
    stream.length > 0 &&
    stream.length <= 100 &&
    !/[\s/"]/.test(stream) &&
    (stream.startsWith('!') || (at > 0 && at < stream.length - 1));
  if (!valid) {
    throw new UnifeedError(
      ErrorCode.InvalidStream,
      `not a Binance stream name: ${quoted(stream, 100)}`,
    );
  }
  // Binance names streams by the lower-case symbol and sends them so: `BTCUSDT@aggTrade` would
  // never see its data, and its UNSUBSCRIBE would end the lower-case stream another caller has.
  const symbol = stream.startsWith('!') ? '' : stream.slice(0, at);
  if (symbol !== symbol.toLowerCase()) {
    throw new UnifeedError(
      ErrorCode.InvalidStream,
      `a Binance stream names its symbol in lower case: '${stream}'`,
    );
  }
  const part = stream.startsWith('!') ? stream.slice(1).split('@')[0]! : stream.split('@')[1]!;
  return part.replace(/_.*$/, '').replace(/\d+$/, '');
}

function requests(
  change: SubscriptionChange,
  nextId: () => number,
  perRequest: number,
): VenueRequest[] {
  const out: VenueRequest[] = [];
  // Unsubscribe first: it frees room under the per-connection stream limit.
  for (const [op, method, streams] of [
    ['unsubscribe', 'UNSUBSCRIBE', change.unsubscribe],
    ['subscribe', 'SUBSCRIBE', change.subscribe],
  ] as const) {
    for (let i = 0; i < streams.length; i += perRequest) {
      const chunk = streams.slice(i, i + perRequest);
      const id = nextId();
      out.push({ id, op, streams: chunk, frame: JSON.stringify({ method, params: chunk, id }) });
    }
  }
  return out;
}

function classify(message: unknown): Classified {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return { kind: 'unknown' };
  }
  const m = message as Record<string, unknown>;
  if (typeof m.stream === 'string' && 'data' in m) {
    if (isShutdown(m.data)) return { kind: 'shutdown' };
    return { kind: 'data', stream: m.stream, payload: m.data };
  }
  if (isShutdown(m)) return { kind: 'shutdown' };
  const id = typeof m.id === 'number' ? m.id : null;
  // Documented as {"code","msg","id"}; servers also answer {"error":{"code","msg"},"id"}.
  const err =
    typeof m.error === 'object' && m.error !== null ? (m.error as Record<string, unknown>) : m;
  if (typeof err.code === 'number' && typeof err.msg === 'string') {
    // Quoted in the refused stream's error: a megabyte echo must not flood a log or a terminal.
    return { kind: 'error', id, code: err.code, msg: excerpt(err.msg, VENUE_TEXT_MAX) };
  }
  if (id !== null && 'result' in m) return { kind: 'response', id, result: m.result };
  return { kind: 'unknown' };
}

function isShutdown(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as { e?: unknown }).e === 'serverShutdown';
}

const PREFIX = '{"stream":"';
const PREFIX_BYTES = Array.from(PREFIX, (c) => c.charCodeAt(0));
const QUOTE = 34;
/** A stream name is at most 100 characters, each at most 4 bytes of UTF-8. */
const MAX_NAME_BYTES = 400;
/** A Node Buffer decodes a byte range without copying it into an array first. */
interface Utf8Slice {
  toString(encoding: 'utf8', start: number, end: number): string;
}
const NodeBuffer = (globalThis as { Buffer?: { isBuffer(x: unknown): boolean } }).Buffer;
const utf8 = new TextDecoder();

/** The stream name of a combined-stream frame, read from its first bytes. `*` when not one. */
function streamKey(frame: RawFrame): string {
  if (typeof frame === 'string') {
    if (!frame.startsWith(PREFIX)) return '*';
    const end = frame.indexOf('"', PREFIX.length);
    return end < 0 ? '*' : frame.slice(PREFIX.length, end);
  }
  if (Array.isArray(frame)) return frame.length > 0 ? streamKey(frame[0]!) : '*';
  const bytes = frame instanceof Uint8Array ? frame : new Uint8Array(frame);
  for (let i = 0; i < PREFIX_BYTES.length; i++) if (bytes[i] !== PREFIX_BYTES[i]) return '*';
  const end = bytes.indexOf(QUOTE, PREFIX_BYTES.length);
  if (end < 0 || end - PREFIX_BYTES.length > MAX_NAME_BYTES) return '*';
  // UTF-8, as the frame is decoded: a symbol may be non-ASCII (币安人生usdt), and the key
  // must equal the stream name classify() reads, or drops are counted under another name.
  if (NodeBuffer?.isBuffer(bytes)) {
    return (bytes as unknown as Utf8Slice).toString('utf8', PREFIX_BYTES.length, end);
  }
  return utf8.decode(bytes.subarray(PREFIX_BYTES.length, end));
}

/**
 * Update id (bookTicker, diff and partial depth), aggregate or trade id, else event time
 * (klines: doubled, the closing update first); for an all-market array the highest of its
 * elements. Only safe integers count: the pool drops a message whose sequence is not above
 * the last one delivered, and one garbage frame claiming 2^64 or "Infinity" would otherwise
 * mark every later message of its stream as already delivered.
 */
function sequence(payload: unknown): number | undefined {
  if (!Array.isArray(payload)) return ownSequence(payload);
  let max: number | undefined;
  // One level only: the elements of an all-market array are objects, and recursing into a
  // hostile nesting would overflow the stack inside the socket loop.
  for (const item of payload) {
    const s = ownSequence(item);
    if (s !== undefined && (max === undefined || s > max)) max = s;
  }
  return max;
}

function ownSequence(payload: unknown): number | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const p = payload as Record<string, unknown>;
  // Read one by one, not through a list: during a rotation this runs for every message.
  if (typeof p.u === 'number') return safe(p.u);
  if (typeof p.lastUpdateId === 'number') return safe(p.lastUpdateId);
  if (typeof p.a === 'number') return safe(p.a);
  if (typeof p.t === 'number') return safe(p.t);
  // A candle's closing update and the next candle's first can share one event time: the
  // closing one sorts first, so that neither is taken for a repeat of the other.
  if (typeof p.E === 'number' && typeof p.k === 'object' && p.k !== null) {
    return safe(p.E * 2 + ((p.k as { x?: unknown }).x === true ? 0 : 1));
  }
  if (typeof p.E === 'number') return safe(p.E);
  if (typeof p.E === 'string' && p.E !== '') return safe(Number(p.E));
  return undefined;
}

/**
 * The symbol of a one-symbol message (`s`, or a liquidation's `o.s`): an all-market stream
 * (`!bookTicker`, `!forceOrder@arr`) interleaves symbols that each count their own ids. An
 * all-market array is one push, sequenced as a whole.
 */
function sequenceScope(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const p = payload as { s?: unknown; o?: unknown };
  if (typeof p.s === 'string') return p.s;
  const o = p.o as { s?: unknown } | null | undefined;
  return typeof o === 'object' && o !== null && typeof o.s === 'string' ? o.s : undefined;
}

function safe(n: number): number | undefined {
  return Number.isSafeInteger(n) ? n : undefined;
}
