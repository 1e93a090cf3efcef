import {
  addFeedStats,
  backoffOptions,
  decodeLossless,
  given,
  isNumberIn,
  requireRestClient,
  venueRestClient,
  binanceUsdm,
  secureBase,
  type FeedStatus,
  type RestClient,
  type UnifiedFeedStats,
  requireOptionalString,
  venueAttemptLimiter,
  type SlidingWindowLimiter,
} from '@unifeed/core';
import type { Observable } from 'rxjs';
import { AccountOutput, type AccountEventCounts } from './account-output.js';
import {
  withoutValue,
  commonSettings,
  invalidOption,
  type AccountFeedOptions,
  type CommonSettings,
} from './connection-options.js';
import { eventName } from './envelope.js';
import type { AccountError } from './errors.js';
import type {
  FuturesAccountEvent,
  FuturesBalance,
  FuturesOrderUpdate,
  FuturesPosition,
} from './events.js';
import { isZero } from './fields.js';
import { Link } from './link.js';
import { DEFAULT_LISTEN_KEY_RETRY, ListenKeySession, type ListenKeyStats } from './listen-key.js';
import { parseFuturesEvent } from './parse-futures.js';
import { futuresEventIdentity } from './repeats.js';
import { StateMap } from './state-map.js';
import {
  fromFeedStatus,
  type AccountFeedState,
  type AccountStatus,
  type RenewReason,
} from './status.js';

const LISTEN_KEY_PATH = '/fapi/v1/listenKey';

/**
 * The events the connection asks for (`&events=`, as the venue documents the routed URL):
 * every account event the feed parses. `listenKeyExpired` is the connection's own notice, not
 * one to ask for. Left out, a venue that sends only the events named would send none: open,
 * pinging, and silent.
 */
const EVENTS = [
  'ORDER_TRADE_UPDATE',
  'ACCOUNT_UPDATE',
  'MARGIN_CALL',
  'TRADE_LITE',
  'ACCOUNT_CONFIG_UPDATE',
  'STRATEGY_UPDATE',
  'GRID_UPDATE',
  'CONDITIONAL_ORDER_TRIGGER_REJECT',
  'ALGO_UPDATE',
].join('/');
/** Binance lets a listen key live 60 minutes past its last POST or PUT. */
const LISTEN_KEY_VALIDITY_MS = 60 * 60_000;

/** Options of {@link userData} (USD-M futures). */
export interface FuturesUserDataOptions extends AccountFeedOptions {
  /** REST base for the listen-key calls. Plain `http://` only for loopback. @default 'https://fapi.binance.com' */
  restUrl?: string | undefined;
  /** WebSocket base; the feed connects to `<wsUrl>/private/ws`. @default 'wss://fstream.binance.com' */
  wsUrl?: string | undefined;
  /**
   * How often the listen key is kept alive (PUT). Binance ends a key 60 minutes after its last
   * POST or PUT, so this must be well inside the hour; at least 5000. @default 1800000 (30 min)
   */
  keepAliveMs?: number | undefined;
  /**
   * Failed keepalives in a row (network, 5xx, 429; retried with `retry` back-off) after which a
   * new key is requested. @default 5
   */
  keepAliveAttempts?: number | undefined;
  /**
   * The REST client for listen-key calls. @default `venueRestClient(binanceUsdm({ restUrl }))`:
   * one weight budget per host with every book and account feed of the process
   */
  rest?: RestClient | undefined;
}

/** Counters of a futures account feed. Nothing in here is secret. */
export interface FuturesUserDataStats extends AccountEventCounts {
  venue: 'binance-usdm';
  state: AccountFeedState;
  listenKey: ListenKeyStats;
  /** Connections created: one, plus one per listen-key change. */
  links: number;
  /** The current connection's counters, undefined before start and after stop. */
  connection: UnifiedFeedStats | undefined;
  positions: number;
  balances: number;
}

/** Shortest keepalive interval: a PUT more often than this spends weight for nothing. */
const MIN_KEEPALIVE_MS = 5000;

/**
 * USD-M futures user data over a listen key that never silently expires. See {@link userData}.
 */
export class FuturesUserData {
  readonly #s: CommonSettings;
  readonly #wsBase: string;
  readonly #options: FuturesUserDataOptions;
  readonly #balances = new StateMap<FuturesBalance>();
  readonly #positions = new StateMap<FuturesPosition>();
  readonly #out: AccountOutput<FuturesAccountEvent, FuturesOrderUpdate>;
  readonly #keys: ListenKeySession;
  /** The connection-attempt budget every link draws from. */
  readonly #attempts: SlidingWindowLimiter;
  /** The connection; replaced when the listen key changes. */
  #link: Link | undefined;
  /** Why the current link replaced the previous one, until it opens. */
  #renewal: RenewReason | undefined;
  #links = 0;
  /** What the links replaced so far counted, summed: {@link stats} adds it to the current. */
  #retired: UnifiedFeedStats | undefined;
  /** Replaced links still closing: `stop()` waits for them, so none outlives it. */
  readonly #retiring = new Set<Promise<void>>();
  #teardown: Promise<void> | undefined;

  constructor(options: FuturesUserDataOptions) {
    // Every refused option of an account feed is named, never quoted: a secret given in
    // the wrong place (config keys swapped) would be written into the error and its logs.
    try {
      this.#options = options;
      this.#s = commonSettings(options, 'binance-usdm');
      // Only what is left out (`undefined`) takes its default: a `null` is refused.
      const keepAliveMs = given(options.keepAliveMs, 30 * 60_000);
      // Below a few seconds each keepalive is a PUT of weight 1 for nothing: at 1 ms, 4,000 a
      // minute, the shared REST budget and its reserve spent, order-book snapshots starved. A
      // number, as every other duration: a string ('60000') would pass a comparison by coercion.
      if (
        !isNumberIn(keepAliveMs, MIN_KEEPALIVE_MS, LISTEN_KEY_VALIDITY_MS) ||
        keepAliveMs === LISTEN_KEY_VALIDITY_MS
      ) {
        throw invalidOption(
          '`keepAliveMs` must be a number from 5000 to below 3600000 (a listen key lives 60 minutes)',
        );
      }
      const keepAliveAttempts = given(options.keepAliveAttempts, 5);
      if (!isNumberIn(keepAliveAttempts, 1, Number.MAX_SAFE_INTEGER, true)) {
        throw invalidOption('`keepAliveAttempts` must be an integer, 1 or more');
      }
      requireOptionalString('wsUrl', options.wsUrl);
      requireOptionalString('restUrl', options.restUrl);
      // Checked here: a wrong one would fail at the first listen-key call, after start().
      requireRestClient(options.rest);
      this.#wsBase = secureBase(options.wsUrl ?? 'wss://fstream.binance.com', 'WebSocket URL');
      const rest =
        options.rest ??
        venueRestClient(binanceUsdm({ restUrl: options.restUrl }), {
          clock: this.#s.clock,
          logger: this.#s.logger,
        });
      this.#out = new AccountOutput(
        this.#s.logger,
        [this.#balances, this.#positions],
        futuresEventIdentity,
      );
      this.#keys = new ListenKeySession({
        rest,
        apiKey: this.#s.apiKey,
        path: LISTEN_KEY_PATH,
        clock: this.#s.clock,
        keepAliveMs,
        keepAliveAttempts,
        retry: backoffOptions(options.retry, DEFAULT_LISTEN_KEY_RETRY, 'retry'),
        random: this.#s.random,
        logger: this.#s.logger,
        events: {
          changed: (reason) => this.#moveTo(reason),
          refused: (error) => this.#fatal(error),
          report: (status) => this.#out.report(status),
        },
      });
      // The socket goes to the USD-M host, which counts attempts per IP with every USD-M
      // pool's: their budget, unless one is given (a `null` is kept, for the feed to refuse).
      const own = options.connection?.attemptLimiter;
      this.#attempts =
        own === undefined
          ? venueAttemptLimiter(binanceUsdm({ wsUrl: this.#wsBase }), this.#s.clock)
          : own;
      // Built here, connected by start(): a connection option out of range is refused now, as
      // every other option is, not thrown from start() with the feed left half started.
      this.#link = this.#newLink();
    } catch (err) {
      throw withoutValue(err);
    }
  }

  get state(): AccountFeedState {
    return this.#out.state;
  }

  /** Every user-data event, typed. Errors only with the fatal `UNIFEED_AUTH`; completes on stop. */
  get events$(): Observable<FuturesAccountEvent> {
    return this.#out.events$;
  }

  /**
   * Order updates (`ORDER_TRADE_UPDATE`), in arrival order. One older (`T`) than the last
   * delivered for its order is counted as out of order (`stats().outOfOrder`) and delivered:
   * its fill is news; compare `transactionTime` to keep an order's latest state.
   */
  get orders$(): Observable<FuturesOrderUpdate> {
    return this.#out.orders$;
  }

  /**
   * Balances by asset, as the venue last reported them (`ACCOUNT_UPDATE`); the current map at
   * once, then one map per change. Starts empty: the stream carries changes only. A balance
   * older (`T`) than the one held is not applied (`stats().outOfOrder`).
   */
  get balances$(): Observable<ReadonlyMap<string, FuturesBalance>> {
    return this.#balances.changes$;
  }

  /**
   * Open positions by `<symbol>:<positionSide>` (e.g. `BTCUSDT:BOTH`), from `ACCOUNT_UPDATE`;
   * a position whose amount becomes zero is removed. Current map at once, then one per change.
   * A position older (`T`) than the one held, or than its removal, is not applied, a zero one
   * removes nothing newer (`stats().outOfOrder`).
   */
  get positions$(): Observable<ReadonlyMap<string, FuturesPosition>> {
    return this.#positions.changes$;
  }

  /** Connection, listen-key and gap statuses; `fatal` is the last before it completes. */
  get status$(): Observable<AccountStatus> {
    return this.#out.status$;
  }

  /**
   * Get a listen key and connect. Any number of calls share one promise, which resolves when
   * events flow, and rejects with `UNIFEED_AUTH` when the key is refused or `UNIFEED_STOPPED`
   * when `stop()` comes first; a call after `stop()` rejects too, and connects nothing.
   * Network failures are retried, never thrown.
   */
  start(): Promise<void> {
    const { promise, first } = this.#out.begin();
    if (first) this.#link?.start();
    return promise;
  }

  /**
   * Close the connection, clear every timer, delete the listen key and complete every
   * observable. Idempotent; after a fatal error it only waits for the teardown.
   */
  stop(): Promise<void> {
    // Read a tick later: stopped from a `fatal` listener, the teardown begins once it returns.
    if (!this.#out.beginStop())
      return this.#teardown ?? Promise.resolve().then(() => this.#teardown);
    this.#teardown = this.#closeAll(true).then(() => this.#out.finish());
    return this.#teardown;
  }

  stats(): FuturesUserDataStats {
    return {
      venue: 'binance-usdm',
      state: this.#out.state,
      ...this.#out.counts(),
      listenKey: this.#keys.stats(),
      links: this.#links,
      connection: this.#connectionStats(),
      positions: this.#positions.size,
      balances: this.#balances.size,
    };
  }

  /** The connection's, with the totals of the links it replaced: counters never go down. */
  #connectionStats(): UnifiedFeedStats | undefined {
    const now = this.#link?.feed.stats();
    return now === undefined || this.#retired === undefined
      ? now
      : addFeedStats(this.#retired, now);
  }

  #newLink(): Link {
    this.#links++;
    return new Link(
      {
        ...this.#options.connection,
        attemptLimiter: this.#attempts,
        name: `account-usdm-${this.#links}`,
        clock: this.#s.clock,
        random: this.#s.random,
        logger: this.#s.logger,
        decode: decodeLossless,
        // Before every attempt: the account's live key (POST creates or extends it), so a
        // reconnect never starts on a key that died while the connection was down.
        url: async () => {
          const key = await this.#keys.acquire();
          return `${this.#wsBase}/private/ws?listenKey=${encodeURIComponent(key)}&events=${EVENTS}`;
        },
      },
      {
        message: (data, from) => this.#onMessage(data, from),
        status: (status, from) => this.#onStatus(status, from),
      },
    );
  }

  #onStatus(status: FeedStatus, link: Link): void {
    if (this.#out.ended || link !== this.#link) return; // a replaced link winding down
    if (status.type !== 'open') {
      const relayed = fromFeedStatus(status);
      if (relayed !== undefined) this.#out.report(relayed);
      return;
    }
    this.#out.report(status);
    const renewal = this.#renewal;
    if (renewal !== undefined) {
      this.#renewal = undefined;
      this.#s.logger.info({ reason: renewal }, 'connected on the new listen key');
      this.#out.report({ type: 'renewed', reason: renewal });
      this.#out.report({
        type: 'gap',
        reason: renewal === 'expired' ? 'listen-key-expired' : 'listen-key-lost',
      });
    } else if (link.opens > 1) {
      this.#out.report({ type: 'gap', reason: 'reconnect' });
    }
    this.#out.ready();
  }

  /** Only the key in use matters: an old link's late notice is about a key already gone. */
  #keyExpired(link: Link): void {
    if (link === this.#link) this.#keys.renew('expired');
  }

  #onMessage(data: unknown, link: Link): void {
    if (this.#out.ended) return;
    const payload = unwrapCombined(data);
    let event: FuturesAccountEvent;
    try {
      event = parseFuturesEvent(payload);
    } catch (err) {
      this.#out.parseFailed(err);
      // The notice matters, not its time: a malformed one still says the key is dead, and
      // without a renewal the feed would hear nothing until a keepalive fails.
      if (eventName(payload) === 'listenKeyExpired') this.#keyExpired(link);
      return;
    }
    // After parsing, so that only a good frame can make the next one a repeat.
    if (this.#out.repeated(event)) return;
    let stale = 0;
    switch (event.type) {
      case 'listenKeyExpired':
        this.#keyExpired(link);
        break;
      case 'ACCOUNT_UPDATE':
        for (const b of event.balances) if (!this.#balances.set(b.asset, b)) stale++;
        for (const p of event.positions) {
          const key = `${p.symbol}:${p.positionSide}`;
          const applied = isZero(p.amount)
            ? this.#positions.delete(key, p.updatedAt)
            : this.#positions.set(key, p);
          if (!applied) stale++;
        }
        break;
      default:
        break;
    }
    // The state first: a subscriber of an event that reads positions$ sees the state after it.
    this.#balances.commit();
    this.#positions.commit();
    if (stale > 0) this.#out.outOfOrder(event.type, stale);
    if (event.type === 'ORDER_TRADE_UPDATE') this.#out.order(event.order, event.type);
    this.#out.event(event);
  }

  /**
   * The key in use is dead (expired, unknown, or replaced by the venue): its connection will
   * deliver nothing more, so it goes now and a new one connects at once on the new key, without
   * waiting for a back-off. Not make-before-break on purpose: both would end up on the new key
   * and deliver every event twice.
   */
  #moveTo(reason: RenewReason): void {
    if (this.#out.ended || this.#link === undefined) return;
    const old = this.#link;
    // What the old connection read while its key lived is the account's: delivered before it
    // stops, which would discard its queue. A subscriber may stop the feed meanwhile.
    old.feed.flush();
    if (this.#out.ended || this.#link !== old) return;
    this.#retired = this.#connectionStats();
    this.#renewal = reason;
    this.#link = this.#newLink();
    const retiring = old.stop();
    this.#retiring.add(retiring);
    void retiring.finally(() => this.#retiring.delete(retiring));
    this.#link.start();
  }

  #fatal(error: AccountError): void {
    if (!this.#out.fail(error)) return;
    // The key was refused: there is nothing to delete.
    this.#teardown = this.#closeAll(false);
  }

  async #closeAll(deleteKey: boolean): Promise<void> {
    const link = this.#link;
    this.#link = undefined;
    // All at once: the DELETE ends the key whether or not the socket has closed yet. A replaced
    // link may still wait for its peer's close (up to `closeTimeoutMs`), its timer armed.
    await Promise.all([link?.stop(), this.#keys.close(deleteKey), ...this.#retiring]);
  }
}

/** A `/private/stream` frame is `{"stream":"<listen key>","data":{...}}`; `/ws` frames are bare. */
function unwrapCombined(data: unknown): unknown {
  if (typeof data === 'object' && data !== null && 'stream' in data && 'data' in data) {
    return (data as { data: unknown }).data;
  }
  return data;
}

/**
 * USD-M futures user data: a listen key (POST `/fapi/v1/listenKey`) kept alive every
 * `keepAliveMs` and replaced when it expires, answers -1125 or cannot be kept alive; one
 * connection to `/private/ws` through a UnifiedFeed, moved at once to a new key;
 * typed events, order updates, and balances and positions kept from the events. Bad
 * credentials end every observable with `UNIFEED_AUTH`; network failures reconnect.
 *
 * ```ts
 * const account = userData({ apiKey });
 * account.orders$.subscribe({
 *   next: (o) => console.log(o.orderId, o.status),
 *   error: (err) => console.error('account feed ended:', err), // unhandled, the process exits
 * });
 * await account.start();
 * ```
 */
export function userData(options: FuturesUserDataOptions): FuturesUserData {
  return new FuturesUserData(options);
}
