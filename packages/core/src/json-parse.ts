/**
 * `JSON.parse` for market data, without V8's string table.
 *
 * Node 20's `JSON.parse` (V8 11.3) internalizes every string value of up to 10 characters: it
 * looks each one up in the process's string table and, when the table has none, adds it there,
 * in the old generation. A kline's prices and sizes ("43251.12") are such strings, new ones in
 * nearly every frame; they die at once but stay in the old generation until its next
 * mark-compact (up to a megabyte a second in bench:compare's fan-in at 10x), and the lookups
 * make the parse itself slower (bench:json-strings measures both). This parser builds the same
 * values from the same text and copies strings instead: young garbage, gone at the next
 * scavenge.
 *
 * It accepts exactly what `JSON.parse` accepts (RFC 8259) and returns an equal value: the same
 * properties in the same order, defined as `JSON.parse` defines them (`__proto__` an own
 * property, a setter on Object.prototype never called), -0, numbers rounded the same.
 * Refusals are `SyntaxError`s naming a position, never quoting the text (which may hold a
 * listen key). Nesting deeper than {@link MAX_DEPTH} is refused too, where `JSON.parse` would
 * go on: no venue nests more than a few levels, and a recursive parser must not run out of
 * stack on a hostile frame.
 */

/** Arrays and objects nested deeper than this are refused. */
export const MAX_DEPTH = 512;

/**
 * Strings up to this many characters are sliced: V8 copies a slice this short. A longer slice
 * would be a view that keeps the whole frame's text alive as long as the string lives (a client
 * order id kept in a map would hold its frame), so a longer string is copied by `JSON.parse`
 * of its literal, which internalizes nothing over 10 characters.
 */
const MAX_SLICED = 12;

const OBJECT_PROTOTYPE = Object.prototype;
const ARRAY_PROTOTYPE = Array.prototype;

// The text being parsed and the position in it: module state, as the parse is synchronous and
// never calls out, and a closure or an object per parse would cost more than the small frames.
let text = '';
let at = 0;
let depth = 0;

/** The JSON `text` as a value; a `SyntaxError` when it is not JSON. */
export function parseJson(source: string): unknown {
  text = source;
  at = 0;
  depth = 0;
  try {
    const result = value();
    whitespace();
    if (at !== text.length) unexpected();
    return result;
  } finally {
    // Not to keep the last frame's text alive until the next one.
    text = '';
  }
}

function unexpected(): never {
  throw new SyntaxError(
    at >= text.length
      ? 'Unexpected end of JSON input'
      : `Unexpected character in JSON at position ${at}`,
  );
}

/** Skips JSON's four whitespace characters; the code of the character after them (NaN at the end). */
function whitespace(): number {
  let c = text.charCodeAt(at);
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++at);
  return c;
}

function value(): unknown {
  const c = whitespace();
  if (c === 0x22) return string();
  if (c === 0x7b || c === 0x5b) {
    // Depth is counted here alone; a refusal leaves it to the next parse's reset.
    if (++depth > MAX_DEPTH) throw new SyntaxError(`JSON nested deeper than ${MAX_DEPTH} levels`);
    const nested = c === 0x7b ? object() : array();
    depth--;
    return nested;
  }
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return number();
  if (c === 0x74 && text.startsWith('true', at)) {
    at += 4;
    return true;
  }
  if (c === 0x66 && text.startsWith('false', at)) {
    at += 5;
    return false;
  }
  if (c === 0x6e && text.startsWith('null', at)) {
    at += 4;
    return null;
  }
  return unexpected();
}

/** A string literal, `at` on its opening quote. */
function string(): string {
  const start = ++at;
  for (;;) {
    const c = text.charCodeAt(at);
    if (c === 0x22) {
      at++;
      return at - start <= MAX_SLICED + 1
        ? text.slice(start, at - 1)
        : (JSON.parse(text.slice(start - 1, at)) as string);
    }
    // An escape, a control character (refused) or the end (unterminated): the rare path.
    if (c === 0x5c || c < 0x20 || Number.isNaN(c)) return escaped(start);
    at++;
  }
}

/** A string literal with escapes (or a broken one) that began at `start`, after its quote. */
function escaped(start: number): string {
  let end = start;
  for (;;) {
    const c = text.charCodeAt(end);
    if (c === 0x22) break;
    if (Number.isNaN(c)) {
      at = end;
      unexpected();
    }
    // The escaped character is skipped, a quote included; `JSON.parse` checks the escape.
    end += c === 0x5c ? 2 : 1;
  }
  at = end + 1;
  try {
    return JSON.parse(text.slice(start - 1, at)) as string;
  } catch {
    // Its message would quote the string.
    at = start;
    return unexpected();
  }
}

function number(): number {
  const start = at;
  let c = text.charCodeAt(at);
  const negative = c === 0x2d;
  if (negative) c = text.charCodeAt(++at);
  let n = 0;
  let digits = 0;
  if (c === 0x30) {
    // A leading zero stands alone: what follows it is no digit of this number.
    c = text.charCodeAt(++at);
    digits = 1;
  } else {
    while (c >= 0x30 && c <= 0x39) {
      n = n * 10 + (c - 0x30);
      digits++;
      c = text.charCodeAt(++at);
    }
  }
  if (digits === 0) unexpected();
  const fraction = c === 0x2e;
  if (fraction) c = someDigits(text.charCodeAt(++at));
  const exponent = c === 0x65 || c === 0x45;
  if (exponent) {
    c = text.charCodeAt(++at);
    if (c === 0x2b || c === 0x2d) c = text.charCodeAt(++at);
    c = someDigits(c);
  }
  // Up to 15 digits an integer is exact as summed; anything else is rounded as JSON.parse does.
  if (fraction || exponent || digits > 15) return Number(text.slice(start, at));
  return negative ? -n : n;
}

/** Skips one digit or more, `c` the first; the code of the character after them. */
function someDigits(c: number): number {
  if (!(c >= 0x30 && c <= 0x39)) unexpected();
  while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++at);
  return c;
}

/** What JSON.parse does for each property and element: CreateDataProperty. */
function define(target: object, key: string | number, v: unknown): void {
  Object.defineProperty(target, key, {
    value: v,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

/** An object, `at` on its opening brace. */
function object(): Record<string, unknown> {
  at++;
  const result: Record<string, unknown> = {};
  let c = whitespace();
  if (c === 0x7d) {
    at++;
    return result;
  }
  for (;;) {
    if (c !== 0x22) unexpected();
    const key = string();
    if (whitespace() !== 0x3a) unexpected();
    at++;
    const v = value();
    // JSON.parse defines each property. An assignment does the same, unless Object.prototype
    // has the name: `__proto__` (an accessor: the assignment would set the prototype), a
    // setter someone defined there, or a method made read-only (frozen intrinsics). The test
    // stays here, not in a helper shared with array(): one site per kind keeps both monomorphic.
    if (Object.hasOwn(OBJECT_PROTOTYPE, key)) {
      define(result, key, v);
    } else {
      result[key] = v;
    }
    c = whitespace();
    if (c === 0x2c) {
      at++;
      c = whitespace();
    } else if (c === 0x7d) {
      at++;
      return result;
    } else {
      unexpected();
    }
  }
}

/** An array, `at` on its opening bracket. */
function array(): unknown[] {
  at++;
  const result: unknown[] = [];
  if (whitespace() === 0x5d) {
    at++;
    return result;
  }
  for (;;) {
    const v = value();
    // JSON.parse defines each element; `push` assigns it, which an element of that index on
    // Array.prototype or Object.prototype (a setter, a getter) would take instead.
    const index = result.length;
    if (index in ARRAY_PROTOTYPE) {
      define(result, index, v);
    } else {
      result.push(v);
    }
    const c = whitespace();
    if (c === 0x2c) {
      at++;
    } else if (c === 0x5d) {
      at++;
      return result;
    } else {
      unexpected();
    }
  }
}
