import { frameText, type RawFrame } from './transport.js';

/**
 * A JSON string literal (skipped as a whole, so digits inside strings are never touched), or
 * an integer literal of 16 or more digits outside a string. The look-behind keeps fractions
 * and exponents out (`1.12345678901234567`, `1e-12345678901234567`); the look-ahead makes
 * sure the whole number is an integer.
 *
 * A string that is never closed runs to the end of the text (`JSON.parse` then refuses it).
 * Were it to fail instead, the search would start again at every later quote, each escaped
 * one included, and scan to the end again: time quadratic in the frame, 1.7 s for 80 KB of
 * `\"`, with every timer of the process held meanwhile.
 */
const STRING_LITERAL = String.raw`("(?:[^"\\]|\\[\s\S])*(?:"|\\?$))`;
const BIG_INTEGER = new RegExp(
  String.raw`${STRING_LITERAL}|(?<![\d.eE+-])(-?\d{16,})(?![\d.eE])`,
  'g',
);

/** 2^53 has 16 digits: shorter integers are always exact as JS numbers. */
const quoteBig = (match: string, str: string | undefined, digits: string | undefined): string =>
  str !== undefined ? str : `"${digits ?? match}"`;

/**
 * `JSON.parse` that keeps integers of 16 digits or more as their exact decimal text (a JSON
 * string), where plain `JSON.parse` would round them: Binance order ids go beyond 2^53
 * (protocol.md: a captured TRADE_LITE `i` of 8389765739703625592). Smaller integers stay
 * numbers. One extra pass over the text, which the account path can afford (a few events a
 * second). Upbit, which writes decimals as numbers too, takes {@link parseLosslessNumbers}.
 */
export function parseLossless(text: string): unknown {
  return JSON.parse(text.replace(BIG_INTEGER, quoteBig));
}

/**
 * A string literal (as in {@link BIG_INTEGER}), or a number literal of 16 or more digits,
 * a fraction's included, without an exponent: the look-ahead counts the digits, the point
 * between them allowed.
 */
const LONG_NUMBER = new RegExp(
  String.raw`${STRING_LITERAL}|(?<![\d.eE+-])(-?(?=(?:\d\.?){16})\d+(?:\.\d+)?)(?![\d.eE])`,
  'g',
);

/**
 * `JSON.parse` that keeps every number of 16 or more digits, fractions included, as its exact
 * text (a JSON string), for a venue that writes decimals as numbers: Upbit's day turnover of a
 * KRW market (`acc_trade_price`, some 7e10 with 8 decimals), the sizes of a coin priced below
 * a won, and a trade's `sequential_id` (some 1.7e16) pass what a double holds. Most frames have
 * no such number: one scan of the text finds that, and only the others take the regex pass.
 */
export function parseLosslessNumbers(text: string): unknown {
  return JSON.parse(hasLongNumber(text) ? text.replace(LONG_NUMBER, quoteBig) : text);
}

/** Whether `text` has a run of 16 digits (a point between them allowed), in a string or not. */
function hasLongNumber(text: string): boolean {
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++run >= 16) return true;
    } else if (c !== 46) {
      run = 0;
    }
  }
  return false;
}

/** A UnifiedFeed `decode`: frame text through {@link parseLossless} (the account feeds). */
export function decodeLossless(frame: RawFrame): unknown {
  return parseLossless(frameText(frame));
}
