import { asId, parseError, type Payload } from '@unifeed/core/fields';

/**
 * Readers for the account payloads beside core's (whose `asId` reads ids that may exceed 2^53,
 * as numbers or, after `parseLossless`, digit strings): optional ids with Binance's "none"
 * sentinels, and optional texts. Like core's readers they name the field, never the payload.
 */

/** Binance's "none" for spot ids (trade id, order list id, prevented match id). */
export const SPOT_NO_ID: readonly string[] = ['-1'];
/** Futures: 0 for an order update without a trade, -1 elsewhere. */
export const FUTURES_NO_ID: readonly string[] = ['-1', '0'];

/**
 * An optional id: undefined when absent, null, or one of the venue's "none" sentinels (`none`).
 * Per venue: 0 is a real spot id (a symbol's first trade), but futures' "no trade".
 */
export function optionalId(
  p: Payload,
  key: string,
  stream: string,
  none: readonly string[],
): string | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  const id = asId(v, key, stream);
  return none.includes(id) ? undefined : id;
}

/** An optional string: undefined when absent, null or empty; an error when not a string. */
export function optionalText(p: Payload, key: string, stream: string): string | undefined {
  const v = p[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw parseError(`field '${key}'`, 'is not a string', stream);
  return v;
}

/** A text that may be empty (a client order id of a cancel, `C` of spot). */
export function anyText(v: unknown, key: string, stream: string): string {
  if (typeof v !== 'string')
    throw parseError(`field '${key}'`, 'is missing or not a string', stream);
  return v;
}

/** The order side, `BUY` or `SELL`. */
export function asSide(v: unknown, stream: string): 'BUY' | 'SELL' {
  if (v === 'BUY' || v === 'SELL') return v;
  throw parseError("field 'S'", 'is missing or not BUY or SELL', stream);
}

/** An array field, or an error; absent or null is an empty list when `optional`. */
export function list(p: Payload, key: string, stream: string, optional = false): unknown[] {
  const v = p[key];
  if (Array.isArray(v)) return v;
  if (optional && (v === undefined || v === null)) return [];
  throw parseError(`field '${key}'`, 'is missing or not an array', stream);
}

/** True for a decimal string whose value is zero ("0", "0.000", "-0.0"). */
export function isZero(decimal: string): boolean {
  for (let i = 0; i < decimal.length; i++) {
    const c = decimal.charCodeAt(i);
    if (c !== 48 && c !== 46 && c !== 45) return false;
  }
  return true;
}
