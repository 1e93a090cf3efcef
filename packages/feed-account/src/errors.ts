import { CodedError, type UnifeedError } from '@unifeed/core';

/** Every error code @unifeed/feed-account produces itself. Codes are stable; messages may change. */
export const AccountErrorCode = {
  /**
   * The venue refused the credentials: HTTP 401, Binance -2014 (API key format), -2015
   * (invalid key, IP or permissions), -2008 (invalid key id) or -1022 (invalid signature).
   * Fatal: retrying cannot fix it, and a retry loop on a bad key only earns an IP ban.
   */
  Auth: 'UNIFEED_AUTH',
  /**
   * The WebSocket API refused the user-data subscription for another reason (a timestamp
   * outside `recvWindow`, a malformed request). Reported and retried with back-off.
   */
  SubscribeRejected: 'UNIFEED_USER_DATA_REJECTED',
  /**
   * An event arrived older than what the feed already held: a balance or position with an
   * earlier update time than the one kept, or an order update with an earlier transaction
   * time than the one last delivered for its order. Its stale parts were not applied (the
   * event itself is still on `events$`); counted in `stats().outOfOrder`. Never fatal.
   */
  OutOfOrder: 'UNIFEED_OUT_OF_ORDER',
} as const;

export type AccountErrorCode = (typeof AccountErrorCode)[keyof typeof AccountErrorCode];

/**
 * An error of the account feed. Like `UnifeedError`, `code` is for programs and the message is
 * for people; neither ever holds an API key, a secret, a signature or a listen key.
 */
export class AccountError extends CodedError<AccountErrorCode> {
  override readonly name = 'AccountError';
  /** HTTP status (REST) or WebSocket API `status`, when the venue answered with one. */
  readonly status: number | undefined;
  /** The venue's own error code (-2015, -1022, ...), when it sent one. */
  readonly venueCode: number | undefined;

  constructor(
    code: AccountErrorCode,
    message: string,
    options: { status?: number | undefined; venueCode?: number | undefined } = {},
  ) {
    super(code, message);
    this.status = options.status;
    this.venueCode = options.venueCode;
  }
}

/** What the account feed reports: core's errors (network, parse, ...) and its own. */
export type FeedError = UnifeedError | AccountError;

/** True when `err` is an {@link AccountError}, optionally with the given code. */
export function isAccountError(err: unknown, code?: AccountErrorCode): err is AccountError {
  return err instanceof AccountError && (code === undefined || err.code === code);
}

/** Binance codes that mean "these credentials will never work": retrying is pointless. */
const CREDENTIAL_CODES: ReadonlySet<number> = new Set([-2008, -2014, -2015, -1022]);

/**
 * True when an answer (`status`, Binance `code`) refuses the credentials themselves. A 403 is
 * not among them: Binance sends it for a WAF block, which passes.
 */
export function refusesCredentials(status: number | undefined, venueCode: number | undefined) {
  return status === 401 || (venueCode !== undefined && CREDENTIAL_CODES.has(venueCode));
}

/** The fatal error for refused credentials; `what` names the call, never its parameters. */
export function authError(what: string, status?: number, venueCode?: number): AccountError {
  const detail = [status === undefined ? '' : `HTTP ${status}`, venueCode ?? '']
    .filter((x) => x !== '')
    .join(', ');
  return new AccountError(
    AccountErrorCode.Auth,
    `${what}: the venue refused the API credentials${detail === '' ? '' : ` (${detail})`}`,
    { status, venueCode },
  );
}
