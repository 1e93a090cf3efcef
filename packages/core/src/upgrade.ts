import { createHash, randomBytes } from 'node:crypto';

/** RFC 6455 4.2.2: the server proves it read the key by hashing it with this. */
const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The bytes of an upgrade response head this client reads before giving up on it. */
export const MAX_RESPONSE_HEAD = 16 * 1024;

/**
 * An upgrade request for `url` and the key its answer must prove it read. Credentials in the
 * URL go as Basic authorization, as `ws` sends them.
 */
export function upgradeRequest(url: URL): { request: string; key: string } {
  const key = randomBytes(16).toString('base64');
  const path = (url.pathname || '/') + url.search;
  const credentials =
    url.username === '' && url.password === ''
      ? ''
      : `Authorization: Basic ${Buffer.from(
          `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`,
        ).toString('base64')}\r\n`;
  const request =
    `GET ${path} HTTP/1.1\r\n` +
    `Host: ${url.host}\r\n` +
    credentials +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${key}\r\n` +
    'Sec-WebSocket-Version: 13\r\n\r\n';
  return { request, key };
}

/** What the server answered, once its head is complete. */
export type UpgradeAnswer =
  /** 101 with every header right: the socket now carries frames. */
  | { type: 'upgraded' }
  /** Any other status: the handshake is refused (a 3xx is not followed). */
  | { type: 'rejected'; status: number; retryAfter: string | undefined }
  /** A 101 that is not a valid WebSocket upgrade, or no HTTP at all. */
  | { type: 'invalid'; message: string };

/**
 * Read the response head (everything before the blank line, as latin1) against the key sent.
 * Header values are not quoted in `message`: a redirect's `Location` may carry a secret.
 */
export function readUpgradeAnswer(head: string, key: string): UpgradeAnswer {
  const lines = head.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (!status) return { type: 'invalid', message: 'the upgrade answer is not HTTP/1.1' };
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const before = headers.get(name);
    headers.set(name, before === undefined ? value : `${before}, ${value}`);
  }
  const code = Number(status[1]);
  if (code !== 101)
    return { type: 'rejected', status: code, retryAfter: headers.get('retry-after') };
  if (headers.get('upgrade')?.toLowerCase() !== 'websocket') {
    return { type: 'invalid', message: 'Invalid Upgrade header' };
  }
  const connection = (headers.get('connection') ?? '').toLowerCase().split(',');
  if (!connection.some((token) => token.trim() === 'upgrade')) {
    return { type: 'invalid', message: 'Invalid Connection header' };
  }
  const expected = createHash('sha1')
    .update(key + ACCEPT_GUID)
    .digest('base64');
  if (headers.get('sec-websocket-accept') !== expected) {
    return { type: 'invalid', message: 'Invalid Sec-WebSocket-Accept header' };
  }
  // Neither was offered, so neither may be agreed.
  if (headers.has('sec-websocket-extensions')) {
    return {
      type: 'invalid',
      message: 'Server sent a Sec-WebSocket-Extensions header but no extension was requested',
    };
  }
  if (headers.has('sec-websocket-protocol')) {
    return { type: 'invalid', message: 'Server sent a subprotocol but none was requested' };
  }
  return { type: 'upgraded' };
}
