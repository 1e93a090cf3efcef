import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_RESPONSE_HEAD, readUpgradeAnswer, upgradeRequest } from '../src/upgrade.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const acceptFor = (key: string): string =>
  createHash('sha1')
    .update(key + GUID)
    .digest('base64');

/** The request's header lines as [name lowercased, value]. */
function parseRequest(request: string): { line: string; headers: Map<string, string> } {
  expect(request.endsWith('\r\n\r\n')).toBe(true);
  const [line, ...rest] = request.slice(0, -4).split('\r\n');
  const headers = new Map<string, string>();
  for (const h of rest) {
    const colon = h.indexOf(':');
    expect(colon).toBeGreaterThan(0);
    headers.set(h.slice(0, colon).toLowerCase(), h.slice(colon + 1).trim());
  }
  return { line: line!, headers };
}

/** A response head (no blank line), as the transport hands it over. */
function head(status: string, lines: string[]): string {
  return [`HTTP/1.1 ${status}`, ...lines].join('\r\n');
}

describe('upgradeRequest', () => {
  it('has the request line with path and query, and every required header', () => {
    const { request, key } = upgradeRequest(
      new URL('ws://example.com:9443/stream/x?streams=a@b/c&k=v'),
    );
    const { line, headers } = parseRequest(request);
    expect(line).toBe('GET /stream/x?streams=a@b/c&k=v HTTP/1.1');
    expect(headers.get('host')).toBe('example.com:9443');
    expect(headers.get('upgrade')?.toLowerCase()).toBe('websocket');
    expect(headers.get('connection')?.toLowerCase()).toBe('upgrade');
    expect(headers.get('sec-websocket-version')).toBe('13');
    expect(headers.get('sec-websocket-key')).toBe(key);
    // The key: 16 random bytes, base64.
    expect(Buffer.from(key, 'base64').length).toBe(16);
    expect(Buffer.from(key, 'base64').toString('base64')).toBe(key);
    // No extension or subprotocol is offered.
    expect(headers.has('sec-websocket-extensions')).toBe(false);
    expect(headers.has('sec-websocket-protocol')).toBe(false);
  });

  it('a URL with no path asks for /, and a default port is not in Host', () => {
    const { line, headers } = parseRequest(upgradeRequest(new URL('wss://example.com')).request);
    expect(line).toBe('GET / HTTP/1.1');
    expect(headers.get('host')).toBe('example.com');
    const q = parseRequest(upgradeRequest(new URL('ws://127.0.0.1:8080?x=1')).request);
    expect(q.line).toBe('GET /?x=1 HTTP/1.1');
    expect(q.headers.get('host')).toBe('127.0.0.1:8080');
  });

  it('keys differ between requests', () => {
    const keys = new Set(Array.from({ length: 50 }, () => upgradeRequest(new URL('ws://h/')).key));
    expect(keys.size).toBe(50);
  });

  it('no fragment is sent', () => {
    const { line } = parseRequest(upgradeRequest(new URL('ws://h/p?q=1#frag')).request);
    expect(line).toBe('GET /p?q=1 HTTP/1.1');
  });
});

describe('readUpgradeAnswer', () => {
  const { key } = upgradeRequest(new URL('ws://127.0.0.1/'));
  const good = [
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${acceptFor(key)}`,
  ];

  it('accepts a correct 101', () => {
    expect(readUpgradeAnswer(head('101 Switching Protocols', good), key)).toEqual({
      type: 'upgraded',
    });
  });

  it('accepts header names in any case, extra headers and HTTP/1.0 status lines', () => {
    const lines = [
      'upgrade: WebSocket',
      'CONNECTION: upgrade',
      `sec-websocket-accept: ${acceptFor(key)}`,
      'Server: test',
      'Date: Mon, 01 Jan 2024 00:00:00 GMT',
    ];
    expect(readUpgradeAnswer(head('101 Switching Protocols', lines), key).type).toBe('upgraded');
    expect(readUpgradeAnswer(head('101', good), key).type).toBe('upgraded');
  });

  it("accepts Connection: 'keep-alive, Upgrade'", () => {
    const lines = [good[0]!, 'Connection: keep-alive, Upgrade', good[2]!];
    expect(readUpgradeAnswer(head('101 Switching Protocols', lines), key).type).toBe('upgraded');
  });

  it('reads a header repeated over several lines as one list, as Node does', () => {
    // The upgrade token on the first of two Connection lines.
    const split = [good[0]!, 'Connection: Upgrade', 'Connection: keep-alive', good[2]!];
    expect(readUpgradeAnswer(head('101 Switching Protocols', split), key).type).toBe('upgraded');
    // A second Sec-WebSocket-Accept, even the right one, does not make a wrong one right.
    const twice = [good[0]!, good[1]!, 'Sec-WebSocket-Accept: d3Jvbmc=', good[2]!];
    expect(readUpgradeAnswer(head('101 Switching Protocols', twice), key).type).toBe('invalid');
  });

  it('refuses a wrong or missing Sec-WebSocket-Accept', () => {
    const wrong = [good[0]!, good[1]!, `Sec-WebSocket-Accept: ${acceptFor('another key')}`];
    const answer = readUpgradeAnswer(head('101 Switching Protocols', wrong), key);
    expect(answer.type).toBe('invalid');
    const missing = readUpgradeAnswer(head('101 Switching Protocols', good.slice(0, 2)), key);
    expect(missing.type).toBe('invalid');
    // The accept for a different key is wrong even when well formed.
    const other = upgradeRequest(new URL('ws://127.0.0.1/')).key;
    expect(readUpgradeAnswer(head('101 Switching Protocols', good), other).type).toBe('invalid');
  });

  it('refuses a missing or wrong Upgrade header', () => {
    expect(readUpgradeAnswer(head('101 Switching Protocols', good.slice(1)), key).type).toBe(
      'invalid',
    );
    for (const value of ['h2c', 'websockets', '']) {
      const lines = [`Upgrade: ${value}`, good[1]!, good[2]!];
      expect(readUpgradeAnswer(head('101 Switching Protocols', lines), key).type, value).toBe(
        'invalid',
      );
    }
  });

  it('refuses a Connection header without the upgrade token', () => {
    for (const lines of [
      [good[0]!, good[2]!],
      [good[0]!, 'Connection: keep-alive', good[2]!],
      [good[0]!, 'Connection: upgraded', good[2]!],
      [good[0]!, 'Connection: close', good[2]!],
    ]) {
      expect(readUpgradeAnswer(head('101 Switching Protocols', lines), key).type).toBe('invalid');
    }
  });

  it('refuses an extension or a subprotocol, neither having been offered', () => {
    for (const extra of [
      'Sec-WebSocket-Extensions: permessage-deflate',
      'Sec-WebSocket-Protocol: x',
    ]) {
      const answer = readUpgradeAnswer(head('101 Switching Protocols', [...good, extra]), key);
      expect(answer.type, extra).toBe('invalid');
    }
  });

  it('refuses what is not HTTP', () => {
    for (const garbage of [
      '',
      'hello',
      '\u0000\u0001\u0002',
      'HTTP/2 101',
      'HTTP/1.1 1O1 Switching',
      'SSH-2.0-OpenSSH_9.0',
      'http/1.1 101 Switching Protocols',
      'HTTP/1.1 10 Short',
      'HTTP/1.1 1011 Long',
    ]) {
      const answer = readUpgradeAnswer(garbage, key);
      expect(answer.type, JSON.stringify(garbage)).toBe('invalid');
    }
  });

  it('any other status is rejected with the status and Retry-After', () => {
    expect(readUpgradeAnswer(head('429 Too Many Requests', ['Retry-After: 7']), key)).toEqual({
      type: 'rejected',
      status: 429,
      retryAfter: '7',
    });
    expect(readUpgradeAnswer(head("418 I'm a teapot", ['retry-after: 120']), key)).toEqual({
      type: 'rejected',
      status: 418,
      retryAfter: '120',
    });
    expect(readUpgradeAnswer(head('503 Busy', ['RETRY-AFTER:  30  ']), key)).toEqual({
      type: 'rejected',
      status: 503,
      retryAfter: '30',
    });
    expect(readUpgradeAnswer(head('400 Bad Request', ['Content-Length: 0']), key)).toEqual({
      type: 'rejected',
      status: 400,
      retryAfter: undefined,
    });
    // A 200, even with every upgrade header, is not an upgrade.
    expect(readUpgradeAnswer(head('200 OK', good), key)).toMatchObject({
      type: 'rejected',
      status: 200,
    });
  });

  it('a 3xx is rejected, never followed, and no message quotes its Location', () => {
    const secret = 'listenKey=SECRET-abc123';
    for (const status of ['301 Moved Permanently', '302 Found', '307 Temporary Redirect', '308']) {
      const answer = readUpgradeAnswer(
        head(status, [`Location: wss://evil.example/ws?${secret}`, 'Retry-After: 1']),
        key,
      );
      expect(answer).toEqual({
        type: 'rejected',
        status: Number(status.slice(0, 3)),
        retryAfter: '1',
      });
      expect(JSON.stringify(answer)).not.toContain('SECRET');
    }
  });

  it('no invalid answer quotes a header value (a Location with a secret included)', () => {
    const secret = 'SECRET-abc123';
    const variants = [
      [good[0]!, good[1]!, `Sec-WebSocket-Accept: ${secret}`, `Location: /x?k=${secret}`],
      [`Upgrade: ${secret}`, good[1]!, good[2]!, `Location: /x?k=${secret}`],
      [good[0]!, `Connection: ${secret}`, good[2]!, `Location: /x?k=${secret}`],
      [...good, `Sec-WebSocket-Protocol: ${secret}`, `Location: /x?k=${secret}`],
      [...good, `Sec-WebSocket-Extensions: ${secret}`, `Location: /x?k=${secret}`],
    ];
    for (const lines of variants) {
      const answer = readUpgradeAnswer(head('101 Switching Protocols', lines), key);
      expect(answer.type).toBe('invalid');
      expect(JSON.stringify(answer)).not.toContain(secret);
    }
    const garbage = readUpgradeAnswer(`Location: /x?k=${secret}`, key);
    expect(garbage.type).toBe('invalid');
    expect(JSON.stringify(garbage)).not.toContain(secret);
  });

  it('a response head is bounded', () => {
    expect(MAX_RESPONSE_HEAD).toBeGreaterThanOrEqual(4096);
    expect(MAX_RESPONSE_HEAD).toBeLessThanOrEqual(1024 * 1024);
  });
});
