import {
  backoffDelay,
  ErrorCode,
  isUnifeedError,
  UnifeedError,
  type BackoffOptions,
  type Clock,
  type Logger,
  type RestClient,
  type TimerHandle,
} from '@unifeed/core';
import { authError, refusesCredentials, type AccountError, type FeedError } from './errors.js';
import { RenewalPace } from './renewal-pace.js';
import type { AccountStatus, RenewReason } from './status.js';

/** Binance: "This listenKey does not exist." */
export const UNKNOWN_LISTEN_KEY = -1125;

/** `stop()` gives up on the DELETE after this long. */
const DELETE_DEADLINE_MS = 5_000;

/**
 * Retry delays of listen-key calls: quick at first, never more than a minute apart. A renewed
 * key must last `minUptimeMs` before the next renewal goes out at once again, as a connection
 * must stay healthy that long before its reconnects do.
 */
export const DEFAULT_LISTEN_KEY_RETRY: Readonly<BackoffOptions> = Object.freeze({
  initialMs: 1000,
  factor: 2,
  maxMs: 60_000,
  jitter: 0.3,
  minUptimeMs: 10_000,
  rateLimitedMs: 60_000,
  bannedMs: 300_000,
});

/** What a {@link ListenKeySession} tells its owner. */
export interface ListenKeyEvents {
  /** The key in use is dead or replaced: connections must move to the new current key. */
  changed(reason: RenewReason): void;
  /** The venue refused the credentials: fatal. */
  refused(error: AccountError): void;
  /** Progress and non-fatal failures, for `status$`. */
  report(status: AccountStatus): void;
}

/** Settings of a {@link ListenKeySession}. */
export interface ListenKeySessionOptions {
  rest: RestClient;
  apiKey: string;
  /** `/fapi/v1/listenKey`. */
  path: string;
  clock: Clock;
  /** PUT this often after the last successful POST or PUT. */
  keepAliveMs: number;
  /** Failed keepalives in a row before a new key is requested. */
  keepAliveAttempts: number;
  retry: Readonly<BackoffOptions>;
  random: () => number;
  logger: Logger;
  events: ListenKeyEvents;
}

/** Listen-key counters; the key itself is never among them. */
export interface ListenKeyStats {
  /** Successful POSTs (a new key, or the active one extended). */
  created: number;
  keptAlive: number;
  keepAliveFailures: number;
  /**
   * Times a new key was requested after expiry, -1125 or failed keepalives (one that followed
   * the previous renewal within `retry.minUptimeMs` waited its back-off first).
   */
  renewals: number;
  /** Times the key in use changed. */
  changes: number;
  lastKeepAliveAt: number | undefined;
}

/**
 * One futures listen key over its whole life: obtained (POST) before every connection attempt,
 * kept alive (PUT) every `keepAliveMs` with retries, replaced when it dies (`listenKeyExpired`,
 * -1125, keepalives failing `keepAliveAttempts` times) and deleted on close. It owns at most one
 * timer (the next keepalive, or the next retry) and clears it on close; calls in flight are
 * aborted. It never logs or reports the key.
 */
export class ListenKeySession {
  readonly #o: ListenKeySessionOptions;
  readonly #abort = new AbortController();
  #key: string | undefined;
  #timer: TimerHandle | undefined;
  /**
   * The keepalive chain in force: each arming starts a new one. A PUT answered after a POST
   * re-armed the keepalive (a reconnect) or after a renewal speaks for a chain that is over;
   * acting on it would arm a second timer beside the new chain's, or retry a key in disuse.
   */
  #chain = 0;
  #renewing = false;
  /**
   * The key the last connection attempt got (its POST), until that key is declared dead: what
   * the connection is on. A renewal that ends on this key moves nothing: the connection
   * reconnected on the live key by itself while the renewal was under way.
   */
  #connectedKey: string | undefined;
  /** When a renewal goes out: at once, unless the previous one got its key just before. */
  readonly #pace: RenewalPace;
  #closed = false;
  #refused = false;
  readonly #stats: ListenKeyStats = {
    created: 0,
    keptAlive: 0,
    keepAliveFailures: 0,
    renewals: 0,
    changes: 0,
    lastKeepAliveAt: undefined,
  };

  constructor(options: ListenKeySessionOptions) {
    this.#o = options;
    this.#pace = new RenewalPace(options.clock, options.retry, options.random);
  }

  #acquiring: Promise<string> | undefined;

  /** The key in use, if any. Secret: never log it. */
  get key(): string | undefined {
    return this.#key;
  }

  /** True while a timer of this session is armed (tests check that close leaves none). */
  get timerArmed(): boolean {
    return this.#timer !== undefined;
  }

  stats(): ListenKeyStats {
    return { ...this.#stats };
  }

  /**
   * POST: the account's active key, created or extended by 60 minutes. Called before every
   * connection attempt, so that a connection never starts on a dead key; not retried here, the
   * connection's back-off retries it. Rejects with the call's error (a refused credential is
   * reported through `refused` first). Calls while a POST is on its way share it: a connection
   * attempt that timed out waiting for the weight budget must not leave a second POST queued
   * behind the next attempt's.
   */
  acquire(): Promise<string> {
    this.#acquiring ??= this.#post()
      .then((key) => (this.#connectedKey = key))
      .catch((err: unknown) => {
        throw this.#classify(err, 'POST');
      })
      .finally(() => {
        this.#acquiring = undefined;
      });
    return this.#acquiring;
  }

  /**
   * The key in use is dead (`expired`, `unknown-key`) or no longer trusted (`keepalive-failed`):
   * get the account's key, retrying with back-off until it works, the credentials are refused,
   * or the session closes. One renewal at a time; more requests join it. At once, unless the
   * previous renewal got its key less than `retry.minUptimeMs` ago: a venue that announces
   * expiry on every new connection would otherwise have a POST and a socket out per round
   * trip, spending the connection budget (300 per 5 min) and the REST weight in a loop. Then it
   * waits the `retry` back-off, longer for each renewal in a row, as a reconnect loop does.
   */
  renew(reason: RenewReason): void {
    if (this.#renewing || this.#closed) return;
    this.#renewing = true;
    this.#stats.renewals++;
    this.#clearTimer();
    // Dead: a renewal that gets the same text back must still move the connection on it.
    if (reason !== 'keepalive-failed') this.#connectedKey = undefined;
    const delayMs = this.#pace.delayMs();
    this.#o.logger.info({ reason, delayMs }, 'renewing the listen key');
    // Armed before the report, as the retries are: a listener may close the session.
    if (delayMs > 0) {
      this.#timer = this.#o.clock.setTimeout(() => {
        this.#timer = undefined;
        void this.#renewAttempt(reason, 1);
      }, delayMs);
    }
    this.#o.events.report({ type: 'renewing', reason, delayMs });
    if (delayMs === 0) void this.#renewAttempt(reason, 1);
  }

  /** Stop every timer, abort calls in flight, and DELETE the key unless `deleteKey` is false. */
  async close(deleteKey = true): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    this.#abort.abort();
    if (!deleteKey || this.#key === undefined) return;
    this.#key = undefined;
    // A deadline, so that stop() never waits behind a weight budget spent by order books or
    // held after a 418: an undeleted key expires by itself within the hour.
    const deadline = new AbortController();
    const timer = this.#o.clock.setTimeout(() => deadline.abort(), DELETE_DEADLINE_MS);
    try {
      await this.#o.rest.request({
        method: 'DELETE',
        path: this.#o.path,
        weight: 1,
        apiKey: this.#o.apiKey,
        priority: 'high',
        signal: deadline.signal,
      });
      this.#o.logger.debug({}, 'listen key deleted');
    } catch (err) {
      // It expires by itself within the hour; nothing else to do.
      const code = isUnifeedError(err) ? err.code : 'unknown';
      this.#o.logger.debug({ code }, 'listen key delete failed');
    } finally {
      this.#o.clock.clearTimeout(timer);
    }
  }

  async #post(): Promise<string> {
    const body = await this.#o.rest.request<{ listenKey?: unknown }>({
      method: 'POST',
      path: this.#o.path,
      weight: 1,
      apiKey: this.#o.apiKey,
      priority: 'high',
      signal: this.#abort.signal,
    });
    const key = body?.listenKey;
    if (typeof key !== 'string' || key === '') {
      throw new UnifeedError(ErrorCode.Decode, `POST ${this.#o.path}: no listenKey in the answer`);
    }
    if (this.#closed) return key;
    if (this.#key !== undefined && key !== this.#key) this.#stats.changes++;
    this.#key = key;
    this.#stats.created++;
    this.#o.logger.debug({}, 'listen key obtained');
    this.#o.events.report({ type: 'listen-key', action: 'created' });
    // A fresh 60 minutes: the next keepalive is due a full interval from now.
    if (!this.#renewing) this.#armKeepAlive();
    return key;
  }

  #armKeepAlive(): void {
    this.#clearTimer();
    if (this.#closed) return;
    const chain = ++this.#chain;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#keepAlive(1, chain);
    }, this.#o.keepAliveMs);
  }

  async #keepAlive(attempt: number, chain: number): Promise<void> {
    const over = () => this.#closed || this.#renewing || chain !== this.#chain;
    if (over()) return;
    let body: { listenKey?: unknown } | undefined;
    try {
      body = await this.#o.rest.request<{ listenKey?: unknown }>({
        method: 'PUT',
        path: this.#o.path,
        weight: 1,
        apiKey: this.#o.apiKey,
        priority: 'high',
        signal: this.#abort.signal,
      });
    } catch (err) {
      if (over()) return;
      this.#keepAliveFailed(this.#classify(err, 'PUT'), attempt, chain);
      return;
    }
    if (over()) return;
    this.#stats.keptAlive++;
    this.#stats.lastKeepAliveAt = this.#o.clock.now();
    this.#o.logger.debug({ attempt }, 'listen key kept alive');
    this.#o.events.report({ type: 'listen-key', action: 'kept-alive' });
    const key = body?.listenKey;
    if (typeof key === 'string' && key !== '' && key !== this.#key) {
      // The venue extended another key than ours: ours is gone, follow the venue's.
      this.#key = key;
      this.#stats.changes++;
      this.#armKeepAlive();
      this.#o.events.changed('key-changed');
      return;
    }
    this.#armKeepAlive();
  }

  #keepAliveFailed(error: FeedError, attempt: number, chain: number): void {
    if (isUnifeedError(error) && error.venueCode === UNKNOWN_LISTEN_KEY) {
      this.renew('unknown-key');
      return;
    }
    if (!isUnifeedError(error)) return; // refused: the owner ends everything
    this.#stats.keepAliveFailures++;
    if (attempt >= this.#o.keepAliveAttempts) {
      this.#o.logger.warn({ attempt, code: error.code }, 'listen key keepalive failed; renewing');
      this.renew('keepalive-failed');
      return;
    }
    const delayMs = backoffDelay(attempt - 1, this.#o.retry, this.#o.random, {
      retryAfterMs: error.retryAfterMs,
    });
    this.#o.logger.warn({ attempt, delayMs, code: error.code }, 'listen key keepalive failed');
    // Armed before the report: a listener may close the session, and must find the timer.
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#keepAlive(attempt + 1, chain);
    }, delayMs);
    this.#o.events.report({ type: 'keepalive-failed', attempt, delayMs, error });
  }

  async #renewAttempt(reason: RenewReason, attempt: number) {
    let key: string;
    try {
      key = await this.#post();
    } catch (err) {
      if (this.#closed) return;
      const error = this.#classify(err, 'POST');
      if (!isUnifeedError(error)) return; // refused: the owner ends everything
      const delayMs = backoffDelay(attempt - 1, this.#o.retry, this.#o.random, {
        retryAfterMs: error.retryAfterMs,
      });
      this.#o.logger.warn({ attempt, delayMs, code: error.code }, 'listen key renewal failed');
      // Armed before the report, as above.
      this.#timer = this.#o.clock.setTimeout(() => {
        this.#timer = undefined;
        void this.#renewAttempt(reason, attempt + 1);
      }, delayMs);
      this.#o.events.report({ type: 'error', error });
      return;
    }
    if (this.#closed) return;
    this.#renewing = false;
    this.#pace.settled();
    this.#armKeepAlive();
    // The connection is already on this key when the venue handed back the same key after
    // failed keepalives (still alive: nothing lost), or when it reconnected by itself during
    // the renewal and its own POST got this key: moving it again would only open a gap.
    if (key !== this.#connectedKey) this.#o.events.changed(reason);
    else this.#o.logger.info({ reason }, 'the connection is already on the renewed listen key');
  }

  /**
   * Core's errors pass through (they name the call, never the key). A refused credential is
   * turned into the fatal `UNIFEED_AUTH`, announced through `refused`; anything else foreign
   * (an answer without a key) becomes a decode error that quotes nothing.
   */
  #classify(err: unknown, method: string): FeedError {
    const what = `${method} ${this.#o.path}`;
    if (isUnifeedError(err)) {
      if (!refusesCredentials(err.status, err.venueCode)) return err;
      const refused = authError(what, err.status, err.venueCode);
      if (!this.#refused && !this.#closed) {
        this.#refused = true;
        this.#clearTimer();
        this.#o.events.refused(refused);
      }
      return refused;
    }
    return new UnifeedError(ErrorCode.Decode, `${what}: unexpected failure`);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
