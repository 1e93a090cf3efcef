import { ErrorCode, UnifeedError } from './errors.js';

const SECURE = new Set(['wss:', 'https:']);
const PLAIN = new Set(['ws:', 'http:']);

/** True for hosts that never leave the machine: plain text cannot be read on the way. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Parse a URL that will carry credentials (an API key header, a listen key, a signature) and
 * refuse it unless it is encrypted (`wss:`, `https:`) or stays on this machine. Plain `ws:`
 * and `http:` are accepted for loopback only, which is where the simulator lives.
 * Throws `UNIFEED_INSECURE_URL` (or `UNIFEED_INVALID_OPTION` for a URL that does not parse).
 */
export function requireSecureUrl(url: string, what: string): URL {
  // A `URL` object would parse, and then break the string handling every caller does next.
  if (typeof url !== 'string') {
    throw new UnifeedError(ErrorCode.InvalidOption, `${what} must be a string`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UnifeedError(ErrorCode.InvalidOption, `${what} is not a valid URL`);
  }
  if (SECURE.has(parsed.protocol)) return parsed;
  if (PLAIN.has(parsed.protocol) && isLoopbackHost(parsed.hostname)) return parsed;
  throw new UnifeedError(
    ErrorCode.InsecureUrl,
    `${what} must use wss:// or https:// for a remote host (plain text is allowed only for loopback): ${url}`,
  );
}

/**
 * A base URL without its trailing slashes, refused at construction when it is plain text to a
 * remote host: market data read over `ws://` can be altered on the way, and the same venue's
 * REST calls carry API keys.
 */
export function secureBase(url: string, what: string): string {
  requireSecureUrl(url, what);
  return url.replace(/\/+$/, '');
}
