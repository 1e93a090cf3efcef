import { ErrorCode, UnifeedError } from '../errors.js';
import { excerpt } from '../redact.js';

/**
 * Field readers for feed plugins' parse hot path, shared by every feed package. Each reads one
 * field, checks its type with `typeof` and a character loop (no regex, no copy, no try/catch)
 * and throws a `UNIFEED_PARSE` error that names the field and the stream, never the payload
 * (it could be megabytes).
 */

/** A decoded JSON object whose fields are read one by one. */
export type Payload = Readonly<Record<string, unknown>>;

/** The payload as an object, or a parse error. */
export function object(value: unknown, what: string, stream: string): Payload {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw parseError(what, 'is not a JSON object', stream);
  }
  return value as Payload;
}

/*
 * Two forms of each reader. `decimal(p, 'o', stream)` is the convenient one. `asDecimal(k.o,
 * 'o', stream)` checks a value the caller read with a named property access: on the hottest
 * payloads (klines) that keeps every load monomorphic, where one shared `p[key]` site sees
 * every key and shape and goes megamorphic (measured: bench/feeds.bench.ts).
 */

/** A required non-empty string (symbols, intervals). */
export function text(p: Payload, key: string, stream: string): string {
  return asText(p[key], key, stream);
}

/** `value` of field `key` as a required non-empty string. */
export function asText(v: unknown, key: string, stream: string): string {
  if (typeof v !== 'string' || v.length === 0) throw fieldError(key, 'a string', stream);
  return v;
}

/** A required decimal string such as "0.0010" or "-1.5", kept exactly as received. */
export function decimal(p: Payload, key: string, stream: string): string {
  return asDecimal(p[key], key, stream);
}

/** `value` of field `key` as a required decimal string, kept exactly as received. */
export function asDecimal(v: unknown, key: string, stream: string): string {
  if (typeof v !== 'string' || !isDecimal(v)) throw fieldError(key, 'a decimal string', stream);
  return v;
}

/**
 * `value` of field `key` as a required decimal string that is not negative (a price, a
 * quantity, a spot balance), kept exactly as received.
 */
export function asUnsignedDecimal(v: unknown, key: string, stream: string): string {
  if (typeof v !== 'string' || !isUnsignedDecimal(v)) {
    throw fieldError(key, 'a decimal string of 0 or more', stream);
  }
  return v;
}

/**
 * `value` of field `key`, a JSON number (Upbit writes prices and volumes as numbers), as a
 * plain decimal string: `0.00000015`, never `1.5e-7`. The digits are the shortest that read
 * back as the same double, so any decimal of up to 15 significant digits comes back exactly
 * as the venue wrote it (`140000000`, `0.1`); trailing zeros of the text (`1.50`) are not
 * kept, because `JSON.parse` had dropped them already. A decimal string is accepted as is.
 * A number whose plain form would be longer than a decimal string may be (`1e-300`, `1e70`)
 * is refused: cut to fit, a non-zero value would read as zero.
 */
export function asNumericDecimal(v: unknown, key: string, stream: string): string {
  if (typeof v === 'string') return asDecimal(v, key, stream);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw fieldError(key, 'a number', stream);
  const text = String(v);
  const e = text.indexOf('e');
  // Without an exponent (1e-6 <= |v| < 1e21) it is at most 25 characters: already plain.
  if (e < 0) return text;
  const exponent = Number(text.slice(e + 1));
  const sign = v < 0 ? 1 : 0;
  const mantissa = text.slice(sign, e);
  const dot = mantissa.indexOf('.');
  const digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  // The mantissa has one digit before its point: `d.ddd` times 10^exponent.
  const length = sign + (exponent < 0 ? 1 - exponent + digits.length : exponent + 1);
  if (length > MAX_DECIMAL_LENGTH) {
    throw parseError(
      `field '${key}'`,
      `is a number longer than ${MAX_DECIMAL_LENGTH} characters written out`,
      stream,
    );
  }
  // Built from String(v)'s digits rather than toFixed, which rounds the binary value: the
  // text is the shortest digits by construction, whatever their count.
  return exponent < 0
    ? `${sign === 1 ? '-' : ''}0.${'0'.repeat(-exponent - 1)}${digits}`
    : `${sign === 1 ? '-' : ''}${digits}${'0'.repeat(exponent + 1 - digits.length)}`;
}

/**
 * `value` of field `key` as {@link asNumericDecimal} reads it, and not negative: a price, a
 * size or a volume (a change can be negative; those use {@link asNumericDecimal}).
 */
export function asUnsignedNumericDecimal(v: unknown, key: string, stream: string): string {
  const text = asNumericDecimal(v, key, stream);
  if (isNegative(text)) throw fieldError(key, 'a non-negative number', stream);
  return text;
}

/** An optional decimal string: undefined when absent or null, an error when mistyped. */
export function optionalDecimal(p: Payload, key: string, stream: string): string | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !isDecimal(v)) throw fieldError(key, 'a decimal string', stream);
  return v;
}

/**
 * A required integer: a time or an id. Binance sends numbers, but some fields arrive as
 * numeric strings in places (`E` of listenKeyExpired), so a string of digits is accepted too.
 */
export function integer(p: Payload, key: string, stream: string): number {
  return asInteger(p[key], key, stream);
}

/** `value` of field `key` as a required integer (a number, or a string of digits). */
export function asInteger(v: unknown, key: string, stream: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  const n = typeof v === 'string' && isInteger(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw fieldError(key, 'an integer', stream);
  return n;
}

/**
 * `value` of field `key` as a required integer that is not negative: an update id, a count.
 * (Trade ids are not: Binance writes -1 for "no trade".)
 */
export function asUnsignedInteger(v: unknown, key: string, stream: string): number {
  const n = asInteger(v, key, stream);
  if (n < 0) throw fieldError(key, 'a non-negative integer', stream);
  return n;
}

/**
 * An id as its exact decimal text: a safe-integer number, or a string of digits (what
 * `decodeLossless` makes of an integer beyond 2^53, which a number would round).
 */
export function asId(v: unknown, key: string, stream: string): string {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v === 'string' && isInteger(v, MAX_ID_LENGTH)) return v;
  throw fieldError(key, 'an integer id', stream);
}

/**
 * An id (a number, or its exact digits) as a safe integer that tells one stream's ids apart
 * and keeps their order, for a `sequence`: the id itself up to 2^53; beyond, its last 15
 * digits (Upbit's `sequential_id` is the trade time times 10,000 plus a counter: its last 15
 * digits wrap once in 3.2 years). Undefined for anything else.
 */
export function idOrder(id: unknown): number | undefined {
  if (typeof id === 'number') return Number.isSafeInteger(id) ? id : undefined;
  if (typeof id !== 'string' || !isInteger(id, MAX_ID_LENGTH)) return undefined;
  const n = Number(id);
  if (Number.isSafeInteger(n)) return n;
  return id.charCodeAt(0) === MINUS ? undefined : Number(id.slice(-15));
}

/** An optional integer: undefined when absent or null, an error when mistyped. */
export function optionalInteger(p: Payload, key: string, stream: string): number | undefined {
  const v = p[key];
  return v === undefined || v === null ? undefined : integer(p, key, stream);
}

/** A required boolean (`x` candle closed, `m` buyer is maker). */
export function flag(p: Payload, key: string, stream: string): boolean {
  return asFlag(p[key], key, stream);
}

/** `value` of field `key` as a required boolean. */
export function asFlag(v: unknown, key: string, stream: string): boolean {
  if (typeof v !== 'boolean') throw fieldError(key, 'a boolean', stream);
  return v;
}

/** An optional boolean: undefined when absent or null, an error when mistyped. */
export function optionalFlag(p: Payload, key: string, stream: string): boolean | undefined {
  const v = p[key];
  return v === undefined || v === null ? undefined : flag(p, key, stream);
}

/**
 * The event type field `e`, when present, must be `expected`: a payload of another kind on
 * this stream is malformed. Absent is fine (spot bookTicker has no `e`).
 */
export function expectType(p: Payload, expected: string, stream: string): void {
  const e = p.e;
  if (e !== undefined && e !== expected) throw fieldError('e', `"${expected}"`, stream);
}

/**
 * `value` of field `key` (`s`, Upbit's `code`) as the payload's symbol, which must be the one
 * its stream names: a payload of another symbol would otherwise land in this stream's book,
 * series or events. Binance stream names write the symbol in lower case (`btcusdt@depth` for
 * `BTCUSDT`), Upbit's as sent (`ticker:KRW-BTC`); letters compare in either case. A stream of
 * every symbol (`!bookTicker`, `!miniTicker@arr`) or a name of neither form accepts any.
 */
export function asSymbolOfStream(v: unknown, key: string, stream: string): string {
  const symbol = asText(v, key, stream);
  if (!streamNamesSymbol(stream, symbol)) {
    throw parseError(`field '${key}'`, 'is not the symbol of the stream', stream);
  }
  return symbol;
}

// Char codes and a length compare, no upper-casing: this runs for every message.
function streamNamesSymbol(stream: string, symbol: string): boolean {
  if (stream.charCodeAt(0) === BANG) return true;
  const n = symbol.length;
  let start = 0;
  const at = stream.indexOf('@');
  if (at >= 0) {
    if (at !== n) return false;
  } else {
    const colon = stream.indexOf(':');
    if (colon < 0) return true;
    start = colon + 1;
    if (stream.length - start !== n) return false;
  }
  for (let i = 0; i < n; i++) {
    const a = stream.charCodeAt(start + i);
    const b = symbol.charCodeAt(i);
    // Setting bit 5 lower-cases an ASCII letter; the range check keeps it to letters.
    if (a !== b && ((a | 32) !== (b | 32) || (a | 32) < LOWER_A || (a | 32) > LOWER_Z)) {
      return false;
    }
  }
  return true;
}

const BANG = 33;
const LOWER_A = 97;
const LOWER_Z = 122;
const DOT = 46;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;
/** Longer strings are no price Binance sends; the bound keeps the check O(1) on garbage. */
const MAX_DECIMAL_LENGTH = 64;

/** {@link isDecimal}, and not negative (`-0` neither: no venue writes it). */
export function isUnsignedDecimal(s: string): boolean {
  return !isNegative(s) && isDecimal(s);
}

function isNegative(text: string): boolean {
  return text.charCodeAt(0) === MINUS;
}

/** `-?digits(.digits)?`, as Binance writes every price and quantity. No exponent, no spaces. */
export function isDecimal(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > MAX_DECIMAL_LENGTH) return false;
  let i = s.charCodeAt(0) === MINUS ? 1 : 0;
  let digits = 0;
  let dot = false;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= ZERO && c <= NINE) digits++;
    else if (c === DOT && !dot && digits > 0) dot = true;
    else return false;
  }
  // "1." is not a decimal Binance writes; a trailing dot means a truncated value.
  return digits > 0 && s.charCodeAt(n - 1) !== DOT;
}

/** Ids as long as a venue's get: Binance order ids reach 19 digits, Upbit trade ids 17. */
const MAX_ID_LENGTH = 24;

function isInteger(s: string, maxLength = 20): boolean {
  const n = s.length;
  if (n === 0 || n > maxLength) return false;
  for (let i = s.charCodeAt(0) === MINUS && n > 1 ? 1 : 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < ZERO || c > NINE) return false;
  }
  return true;
}

function fieldError(key: string, expected: string, stream: string): UnifeedError {
  return parseError(`field '${key}'`, `is missing or not ${expected}`, stream);
}

/** A `UNIFEED_PARSE` error about `what` (a field, the payload) of a payload of `stream`. */
export function parseError(what: string, problem: string, stream: string): UnifeedError {
  return new UnifeedError(ErrorCode.Parse, `${stream}: ${what} ${problem}`, { stream });
}

/** Longest symbol accepted; Binance's are far shorter. Keeps stream names under 100 chars. */
const MAX_SYMBOL_LENGTH = 40;

/**
 * A caller's value quoted for an error message: any type (a BigInt, which `JSON.stringify`
 * throws on, a Symbol), an {@link excerpt} of at most `max` characters, so that a megabyte
 * string is not repeated and no part of a key is quoted (a listen key passed as a stream name).
 */
export function quoted(value: unknown, max = MAX_SYMBOL_LENGTH): string {
  let text: string;
  try {
    text = String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return JSON.stringify(excerpt(text, max));
}

/**
 * The stream-name form of a symbol: lower case (Binance stream names are). Only the symbol is
 * lower-cased, never the rest of a name: `kline_1M` and `kline_1m` differ by case alone.
 * Refuses what cannot be a symbol: empty, too long, or with characters that would change the
 * meaning of a stream name (`@`, `/`, `"`, whitespace, a leading `!`).
 */
export function streamSymbol(symbol: unknown): string {
  if (
    typeof symbol !== 'string' ||
    symbol.length === 0 ||
    symbol.length > MAX_SYMBOL_LENGTH ||
    symbol.startsWith('!') ||
    /[\s@/"]/.test(symbol)
  ) {
    throw new UnifeedError(ErrorCode.InvalidStream, `not a symbol: ${quoted(symbol)}`);
  }
  return symbol.toLowerCase();
}
