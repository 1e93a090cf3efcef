import { describe, expect, it } from 'vitest';
import { CodedError, ErrorCode, UnifeedError } from '../src/errors.js';

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

describe('CodedError', () => {
  it("serves other packages' errors: redacted, and written as JSON with their own fields", () => {
    class VenueError extends CodedError<'X_VENUE'> {
      override readonly name = 'VenueError';
      readonly venueCode = -1021;
    }
    const err = new VenueError('X_VENUE', `-1021 Timestamp outside recvWindow for ${KEY}`, {
      cause: new Error('inner'),
    });
    expect(err.message).toBe('-1021 Timestamp outside recvWindow for [redacted]');
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      name: 'VenueError',
      code: 'X_VENUE',
      venueCode: -1021,
      message: '-1021 Timestamp outside recvWindow for [redacted]',
    });
  });
});
