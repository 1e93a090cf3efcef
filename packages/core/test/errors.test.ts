import { describe, expect, it } from 'vitest';
import { ErrorCode, UnifeedError } from '../src/errors.js';

const KEY = 'pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1';

describe('UnifeedError', () => {
  it('redacts its message, whatever built it', () => {
    const err = new UnifeedError(ErrorCode.Socket, `socket error: wss://u:pw@h/ws/${KEY} failed`);
    expect(err.message).toBe('socket error: wss://h/ws/[redacted] failed');
  });

  it('writes its code, message and fields as JSON, never its cause', () => {
    const err = new UnifeedError(ErrorCode.HandshakeRejected, 'upgrade answered 429', {
      status: 429,
      retryAfterMs: 60_000,
      cause: new Error(`the URL held ${KEY}`),
    });
    const json = JSON.parse(JSON.stringify({ type: 'error', error: err })) as {
      error: Record<string, unknown>;
    };
    expect(json.error).toEqual({
      name: 'UnifeedError',
      code: 'UNIFEED_HANDSHAKE_REJECTED',
      message: 'upgrade answered 429',
      status: 429,
      retryAfterMs: 60_000,
    });
  });
});
