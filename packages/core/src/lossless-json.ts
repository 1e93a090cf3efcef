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
const BIG_INTEGER = /("(?:[^"\\]|\\[\s\S])*(?:"|\\?$))|(?<![\d.eE+-])(-?\d{16,})(?![\d.eE])/g;

/** 2^53 has 16 digits: shorter integers are always exact as JS numbers. */
const quoteBig = (match: string, str: string | undefined, digits: string | undefined): string =>
  str !== undefined ? str : `"${digits ?? match}"`;

/**
 * `JSON.parse` that keeps integers of 16 digits or more as their exact decimal text (a JSON
 * string), where plain `JSON.parse` would round them: Binance order ids go beyond 2^53
 * (protocol.md: a captured TRADE_LITE `i` of 8389765739703625592). Smaller integers stay
 * numbers. One extra pass over the text, which the account path can afford (a few events a
 * second), and Upbit's trade frames too (a trade's `sequential_id`, some 1.7e16, is its trade
 * time times 10,000 plus a counter); no other market data pays it.
 */
export function parseLossless(text: string): unknown {
  return JSON.parse(text.replace(BIG_INTEGER, quoteBig));
}

/** A UnifiedFeed `decode`: frame text through {@link parseLossless} (the account feeds). */
export function decodeLossless(frame: RawFrame): unknown {
  return parseLossless(frameText(frame));
}
