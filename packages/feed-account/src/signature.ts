import { createHmac } from 'node:crypto';

/**
 * Binance's HMAC-SHA256 request signature for the WebSocket API: every parameter but
 * `signature`, sorted by name and joined as a query string (`apiKey=..&timestamp=..`), signed
 * with the API secret, as lower-case hex. The result is a secret too: never log it.
 */
export function signParams(params: Readonly<Record<string, string | number>>, secret: string) {
  const payload = Object.keys(params)
    .sort()
    .map((k) => `${k}=${String(params[k])}`)
    .join('&');
  return createHmac('sha256', secret).update(payload).digest('hex');
}
