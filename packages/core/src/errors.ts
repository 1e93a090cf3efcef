import { redactUrl } from './redact.js';

/** Every error code @unifeed/core produces. Codes are stable; messages may change. */
export const ErrorCode = {
  /** The socket did not complete the WebSocket upgrade within `handshakeTimeoutMs`. */
  HandshakeTimeout: 'UNIFEED_HANDSHAKE_TIMEOUT',
  /** The server answered the upgrade with an HTTP status instead of 101 (429, 418, ...). */
  HandshakeRejected: 'UNIFEED_HANDSHAKE_REJECTED',
  /** An inbound frame exceeded `maxPayloadBytes`; the connection is replaced. */
  PayloadTooLarge: 'UNIFEED_PAYLOAD_TOO_LARGE',
  /**
   * A bounded queue was full: a feed's, when its overflow policy is `error`, or a
   * `RestClient`'s calls waiting beyond `maxPending`.
   */
  QueueOverflow: 'UNIFEED_QUEUE_OVERFLOW',
  /** A frame could not be decoded (not UTF-8 JSON, or the custom `decode` threw). */
  Decode: 'UNIFEED_DECODE',
  /** The operation was cut short because `stop()` was called. */
  Stopped: 'UNIFEED_STOPPED',
  /** The socket reported an error (connection refused, reset, ...). */
  Socket: 'UNIFEED_SOCKET',
  /**
   * The `url` option (a function) threw, rejected, or gave something that is not a string.
   * (A connection silent for `heartbeat.timeoutMs` is no error: it is a `stale` status, then
   * a reconnect.)
   */
  Url: 'UNIFEED_URL',
  /** An option has an invalid value. */
  InvalidOption: 'UNIFEED_INVALID_OPTION',
  /** A stream name the venue does not have, refused before anything reaches the network. */
  InvalidStream: 'UNIFEED_INVALID_STREAM',
  /** The exchange refused to subscribe a stream; the error carries its code and message. */
  StreamRejected: 'UNIFEED_STREAM_REJECTED',
  /** A subscribe or unsubscribe request got no answer in time; the connection is replaced. */
  SubscribeTimeout: 'UNIFEED_SUBSCRIBE_TIMEOUT',
  /**
   * A frame decoded, but is no message of the venue: not data of a stream, not the answer to
   * a request in flight, not a notice (or a venue error naming no request). Skipped and counted.
   */
  UnexpectedMessage: 'UNIFEED_UNEXPECTED_MESSAGE',
  /** A plugin could not parse a payload; it was skipped and counted. */
  Parse: 'UNIFEED_PARSE',
  /** The pool was closed. */
  PoolClosed: 'UNIFEED_POOL_CLOSED',
  /** A REST call got an HTTP error answer; `status` and the venue's code say which. */
  Http: 'UNIFEED_HTTP',
  /** A REST call got no answer within `timeoutMs`. */
  HttpTimeout: 'UNIFEED_HTTP_TIMEOUT',
  /** A REST call's 2xx answer had a body over `maxBodyBytes`; the rest was not read. */
  BodyTooLarge: 'UNIFEED_BODY_TOO_LARGE',
  /**
   * The venue refused a REST call for its weight limit (429) or banned the IP (418). The
   * client's weight budget holds every further call until `retryAfterMs` has passed.
   */
  RateLimited: 'UNIFEED_RATE_LIMITED',
  /** A URL with plain `ws://` or `http://` to a host that is not loopback. */
  InsecureUrl: 'UNIFEED_INSECURE_URL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * An error with a stable `code`: the base of every unifeed package's error class. Its message
 * passes the redaction whatever built it, so a key quoted from a URL, a stream name or a
 * venue's answer never reaches a log line or a caller; and `JSON.stringify` writes the message
 * with the fields (an Error's message is not enumerable: a status logged as JSON would say
 * `UNIFEED_HANDSHAKE_REJECTED` and not why), never the cause.
 */
export class CodedError<C extends string = string> extends Error {
  /** Stable, for programs; the message is for people and may change. */
  readonly code: C;

  constructor(code: C, message: string, options: { cause?: unknown } = {}) {
    super(redactUrl(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  toJSON(): Record<string, unknown> {
    // Own enumerable fields: the name, the code and each subclass's; not the cause.
    return { ...(this as object), message: this.message };
  }
}

/**
 * The one error class of @unifeed/core. `code` is stable and meant for programs; the message
 * is for people and never contains secrets, payloads or URLs with credentials.
 */
export class UnifeedError extends CodedError<ErrorCode> {
  override readonly name = 'UnifeedError';
  /** The stream concerned, when there is one. */
  readonly stream: string | undefined;
  /** The exchange's own error code, when the exchange reported the error. */
  readonly venueCode: number | undefined;
  /** The exchange's error name, for venues that name errors instead (Upbit `INVALID_PARAM`). */
  readonly venueError: string | undefined;
  /** HTTP status of a failed REST call. */
  readonly status: number | undefined;
  /** How long the venue asked us to wait (`Retry-After`), in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      cause?: unknown;
      stream?: string | undefined;
      venueCode?: number | undefined;
      venueError?: string | undefined;
      status?: number | undefined;
      retryAfterMs?: number | undefined;
    } = {},
  ) {
    super(code, message, options);
    this.stream = options.stream;
    this.venueCode = options.venueCode;
    this.venueError = options.venueError;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * True when `err` is any package's coded error (`UnifeedError`, and the account feeds',
 * metrics', simulator's and soak's own), optionally with the given code: the one test for "an
 * error of unifeed's" across packages, which {@link isUnifeedError} (core's class) is not.
 */
export function isCodedError(err: unknown, code?: string): err is CodedError {
  return err instanceof CodedError && (code === undefined || err.code === code);
}

/** True when `err` is a {@link UnifeedError}, optionally with the given code. */
export function isUnifeedError(err: unknown, code?: ErrorCode): err is UnifeedError {
  return err instanceof UnifeedError && (code === undefined || err.code === code);
}
