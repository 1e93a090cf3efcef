import type { FeedStatus } from '@unifeed/core';
import type { AccountError, FeedError } from './errors.js';

/** Lifecycle of an account feed. `stopped` and `failed` are final. */
export type AccountFeedState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** Why a futures listen key was replaced. */
export type RenewReason =
  /** The stream said `listenKeyExpired`. */
  | 'expired'
  /** A keepalive answered -1125: the venue no longer knows the key. */
  | 'unknown-key'
  /** Keepalives kept failing (network, 5xx, 429): a new key is safer than hoping. */
  | 'keepalive-failed'
  /** A keepalive answered with another key than the one in use. */
  | 'key-changed';

/**
 * Why account events may be missing between the last event before and the first one after
 * this report. User data is not replayed by the venue: reconcile what matters (open orders,
 * balances) over REST when you see one.
 */
export type AccountGapReason =
  /** The connection dropped and came back (network, 24 h cut, stale heartbeat). */
  | 'reconnect'
  /** The listen key expired before it was renewed. */
  | 'listen-key-expired'
  /** The listen key was lost otherwise (-1125, failed keepalives, a changed key). */
  | 'listen-key-lost'
  /** Spot: the venue ended the subscription (`eventStreamTerminated`) and it was renewed. */
  | 'stream-terminated'
  /** The bounded queue dropped frames (only under an overflow policy that drops). */
  | 'queue-drop'
  /** A frame could not be decoded (an `error` status, `UNIFEED_DECODE`, says so too). */
  | 'decode'
  /**
   * An event could not be parsed (an `error` status, `UNIFEED_PARSE`, says so too): it may
   * have been an order update or a balance change.
   */
  | 'parse';

/**
 * Everything that happens to an account feed, as one union (`status$`): the connection's own
 * statuses (connecting, open, close, stale, backoff, error), and the account's. None carries a
 * key, a secret, a signature or a listen key.
 */
export type AccountStatus =
  | Exclude<FeedStatus, { type: 'gap' } | { type: 'stopped' } | { type: 'error' }>
  /** A non-fatal error, reported and recovered from (retried, reconnected, skipped). */
  | { type: 'error'; error: FeedError }
  | { type: 'gap'; reason: AccountGapReason }
  /** Events flow: futures connected with a live key; spot subscription confirmed. After every (re)connect. */
  | { type: 'ready' }
  /** Futures: a listen key was obtained (POST) or extended (PUT). */
  | { type: 'listen-key'; action: 'created' | 'kept-alive' }
  /** Futures: a keepalive failed and is retried after `delayMs`. */
  | { type: 'keepalive-failed'; attempt: number; delayMs: number; error: FeedError }
  /**
   * Futures: getting a new listen key, after `delayMs`: 0, unless the previous renewal was
   * less than `retry.minUptimeMs` ago (then its back-off, growing with each one in a row).
   */
  | { type: 'renewing'; reason: RenewReason; delayMs: number }
  /** Futures: the connection moved to the new listen key. */
  | { type: 'renewed'; reason: RenewReason }
  /** Credentials refused: every observable ends with `error`. Final. */
  | { type: 'fatal'; error: AccountError }
  | { type: 'stopped' };

/**
 * The connection's statuses as account statuses; its gaps keep their reason (`queue-drop`,
 * `decode`) but not their stream key: an account connection carries one stream.
 */
export function fromFeedStatus(status: FeedStatus): AccountStatus | undefined {
  switch (status.type) {
    case 'gap':
      // An account connection's queue cannot conflate (it has no stream keys, which conflate
      // is refused without); were it to, a replaced event would be a dropped one.
      return { type: 'gap', reason: status.reason === 'conflated' ? 'queue-drop' : status.reason };
    case 'stopped':
      // The account feed replaces connections; its own `stopped` is reported by itself.
      return undefined;
    default:
      return status;
  }
}
