import { createHmac } from 'node:crypto';
import { quoted } from '@unifeed/core/fields';
import { invalidOption, requireKey } from './connection-options.js';

/**
 * Binance's HMAC-SHA256 request signature for the WebSocket API: every parameter but
 * `signature`, sorted by name and joined as a query string (`apiKey=..&timestamp=..`), signed
 * with the API secret, as lower-case hex. The result is a secret too: never log it.
 * `UNIFEED_INVALID_OPTION` (quoting no value) for parameters that are no object, a value that
 * is no string or finite number (`undefined` would be signed as the text "undefined"), or a
 * blank secret.
 */
export function signParams(params: Readonly<Record<string, string | number>>, secret: string) {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw invalidOption('the parameters to sign must be an object');
  }
  requireKey('secret', secret);
  for (const [k, v] of Object.entries(params) as [string, unknown][]) {
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
      throw invalidOption(`the parameter ${quoted(k)} to sign must be a string or a finite number`);
    }
  }
  return hmacSignature(params, secret);
}

/** {@link signParams} of parameters and a secret the feed has checked already. */
export function hmacSignature(params: Readonly<Record<string, string | number>>, secret: string) {
  const payload = Object.keys(params)
    .sort()
    .map((k) => `${k}=${String(params[k])}`)
    .join('&');
  return createHmac('sha256', secret).update(payload).digest('hex');
}
