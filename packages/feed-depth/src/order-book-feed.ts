import {
  ErrorCode,
  given,
  MAX_TIMER_MS,
  UnifeedError,
  type RestClient,
  type StreamPool,
  requireFunction,
  requireObject,
  requirePool,
  requirePositiveInteger,
  requireRestClient,
  venueRestClient,
} from '@unifeed/core';
import { quoted, streamSymbol } from '@unifeed/core/fields';
import { Observable, Subscription } from 'rxjs';
import {
  BookSync,
  type BookChange,
  type BookState,
  type BookStats,
  type ResyncReason,
} from './book-sync.js';
import { depthDialect, type DepthSpeed } from './dialect.js';
import type { Level } from './events.js';
import type { ReadonlyOrderBook } from './order-book.js';
import { depthDiff } from './plugins.js';
import { endBook, joinBook, type BookListener, type SharedBook } from './shared-book.js';
import { snapshotBookStats, UPBIT, upbitSnapshotBook } from './upbit-book.js';

/**
 * Settings of {@link orderBook} and {@link bookDeltas}. On Upbit only `symbol` and `depth`
 * apply: its order book comes whole in every message, without REST snapshots or diffs.
 */
export interface OrderBookOptions {
  /** Symbol in any case, e.g. `BTCUSDT`, or an Upbit market code, e.g. `KRW-BTC`. */
  symbol: string;
  /**
   * Levels per side in each view's `bids` and `asks`; the whole book is in `book`. At most
   * `snapshotLimit`: the book does not know the venue's levels past its snapshot.
   * @default 10
   */
  depth?: number | undefined;
  /**
   * Levels per side of the REST snapshot. Deeper books cost more weight per snapshot (spot:
   * 5/25/50/250 for <=100/500/1000/5000; futures 2/5/10/20 for <=50/100/500/1000, where only
   * 5, 10, 20, 50, 100, 500 and 1000 are valid). Levels beyond it appear only once updated.
   * @default 1000
   */
  snapshotLimit?: number | undefined;
  /** Diff stream speed. @default '100ms' */
  speed?: DepthSpeed | undefined;
  /**
   * Most diff events kept while a snapshot is awaited; one more starts the buffer again from
   * it (the snapshot request keeps its place, and its answer is checked as ever). At 100 ms
   * this is over three minutes of a busy symbol, longer than a full weight-budget wait.
   * @default 2000
   */
  maxBuffer?: number | undefined;
  /**
   * The REST client for snapshots. Share one per venue host: the weight budget is per IP.
   * @default the process-wide client for the venue's REST URL, at 80 % of its weight limit
   */
  rest?: RestClient | undefined;
  /**
   * The snapshot is asked for when the first diff event arrives; with none this long after the
   * start it is asked for anyway, so that a symbol the venue does not have ends the book with
   * the venue's error (Binance streams nothing for it) instead of syncing forever. An integer
   * from 0 to 2^31 - 1 (`UNIFEED_INVALID_OPTION` otherwise); 0 asks at once, without waiting
   * for a diff, which suits a quiet symbol; on a busy one that snapshot may predate the stream
   * and is then asked again after the back-off delay.
   * @default 5000
   */
  quietSnapshotMs?: number | undefined;
  /** Jitter source of snapshot retries; tests pin it. @default Math.random */
  random?: (() => number) | undefined;
}

/** What {@link orderBook} emits: the book as it stands after each change. */
export interface BookView {
  readonly venue: string;
  readonly symbol: string;
  readonly state: BookState;
  /** The update id the book is at; 0 before the first sync. */
  readonly lastUpdateId: number;
  /** Event time of the diff that produced this view; undefined for a snapshot or a state change. */
  readonly eventTime: number | undefined;
  /** The top `depth` bids, best first, as exact strings. */
  readonly bids: readonly Level[];
  /** The top `depth` asks, best first. */
  readonly asks: readonly Level[];
  /**
   * The whole book, live: read it synchronously in your handler, it changes with the next
   * update. While `resyncing` it is the last good book, frozen until the new one is ready.
   */
  readonly book: ReadonlyOrderBook | undefined;
  /** Why the book is resyncing, when it is. */
  readonly reason: ResyncReason | undefined;
}

/** What {@link bookDeltas} emits: enough to keep your own copy of the book exactly. */
export type BookDelta =
  /** Replace your book with this one (first, and after every resync). */
  | {
      readonly type: 'snapshot';
      readonly venue: string;
      readonly symbol: string;
      readonly lastUpdateId: number;
      readonly bids: readonly Level[];
      readonly asks: readonly Level[];
    }
  /** A checked update, continuous with the previous one: apply it ("0" removes a level). */
  | {
      readonly type: 'update';
      readonly venue: string;
      readonly symbol: string;
      readonly firstUpdateId: number;
      readonly lastUpdateId: number;
      readonly eventTime: number;
      readonly bids: readonly Level[];
      readonly asks: readonly Level[];
    }
  /** Your book is no longer current; wait for the next snapshot. */
  | {
      readonly type: 'resyncing';
      readonly venue: string;
      readonly symbol: string;
      readonly reason: ResyncReason;
    };

/** One book per (pool, stream, settings: {@link keyOf}), shared by all its subscribers. */
interface KeptBook extends SharedBook<BookChange> {
  readonly sync: BookSync;
}

const books = new WeakMap<StreamPool, Map<string, KeptBook>>();

interface Resolved {
  symbol: string;
  stream: string;
  snapshotLimit: number;
  speed: DepthSpeed;
  maxBuffer: number;
  quietSnapshotMs: number;
  rest: RestClient;
  /** The shared book's name on its pool ({@link keyOf}). */
  key: string;
}

/** Defaults of the options that decide how a book is kept; {@link keyOf} names the others. */
const DEFAULT_SNAPSHOT_LIMIT = 1000;
const DEFAULT_DEPTH = 10;
const DEFAULT_MAX_BUFFER = 2000;
const DEFAULT_QUIET_SNAPSHOT_MS = 5000;

function resolve(pool: StreamPool, options: OrderBookOptions): Resolved {
  const dialect = depthDialect(pool.venue);
  const symbol = streamSymbol(options.symbol).toUpperCase();
  const snapshotLimit = given(options.snapshotLimit, DEFAULT_SNAPSHOT_LIMIT);
  if (!dialect.validLimit(snapshotLimit)) {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `snapshotLimit ${quoted(snapshotLimit)} is not a depth limit ${pool.venue.name} accepts`,
    );
  }
  const maxBuffer = given(options.maxBuffer, DEFAULT_MAX_BUFFER);
  requirePositiveInteger('maxBuffer', maxBuffer);
  if (options.depth !== undefined) requirePositiveInteger('depth', options.depth);
  const speed = given(options.speed, '100ms');
  const [stream] = depthDiff.streams({ symbols: [symbol], speed }, pool.venue);
  const quietSnapshotMs = given(options.quietSnapshotMs, DEFAULT_QUIET_SNAPSHOT_MS);
  // Node fires a timer of NaN or of a negative delay after 1 ms, and the clock cuts a longer
  // one than 2^31 - 1 ms to that: neither is what was asked for.
  if (!Number.isInteger(quietSnapshotMs) || quietSnapshotMs < 0 || quietSnapshotMs > MAX_TIMER_MS) {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `\`quietSnapshotMs\` must be an integer from 0 to ${MAX_TIMER_MS}, not ${quoted(quietSnapshotMs)}`,
    );
  }
  // Checked here: a wrong one would fail at the first snapshot, inside the sync.
  requireRestClient(options.rest);
  requireFunction('random', options.random);
  // The process-wide client for the venue's host unless told otherwise; the same client
  // passed in explicitly is the default too (one budget, one book).
  const shared = venueRestClient(pool.venue, { clock: pool.clock, logger: pool.logger });
  const rest = options.rest ?? shared;
  const settings = { stream: stream!, snapshotLimit, maxBuffer, quietSnapshotMs };
  const key = keyOf(settings, rest === shared ? undefined : rest);
  return { symbol, speed, rest, key, ...settings };
}

const restIds = new WeakMap<RestClient, number>();
let nextRestId = 1;

/**
 * Which shared book a subscriber joins, and its name in stats, metrics, health and logs: the
 * stream, kept with the same settings. Options that change how a book is kept (snapshot depth,
 * buffer, quiet spell, REST client) make another book and are named when not the defaults, so
 * that the name is readable and stays unique on the pool; a default spelled out is the default
 * book. `depth` and `random` only shape the views or the jitter.
 */
function keyOf(
  r: Pick<Resolved, 'stream' | 'snapshotLimit' | 'maxBuffer' | 'quietSnapshotMs'>,
  ownRest: RestClient | undefined,
): string {
  let key = r.stream;
  if (r.snapshotLimit !== DEFAULT_SNAPSHOT_LIMIT) key += ` snapshotLimit=${r.snapshotLimit}`;
  if (r.maxBuffer !== DEFAULT_MAX_BUFFER) key += ` maxBuffer=${r.maxBuffer}`;
  if (r.quietSnapshotMs !== DEFAULT_QUIET_SNAPSHOT_MS) {
    key += ` quietSnapshotMs=${r.quietSnapshotMs}`;
  }
  if (ownRest !== undefined) {
    // Numbered per client object in the process, in the order first seen: nothing of its URL
    // or keys goes into a name that metrics and logs carry.
    let id = restIds.get(ownRest);
    if (id === undefined) restIds.set(ownRest, (id = nextRestId++));
    key += ` rest=${id}`;
  }
  return key;
}

/** Join (or start) the shared book; leave it when the returned teardown runs. */
function join(
  pool: StreamPool,
  r: Resolved,
  options: OrderBookOptions,
  listener: BookListener<BookChange>,
): () => void {
  let byKey = books.get(pool);
  if (!byKey) books.set(pool, (byKey = new Map()));
  const map = byKey;
  return joinBook(
    map,
    r.key,
    listener,
    () => create(pool, r, options, map),
    (book) => {
      subscribe(pool, r, book, map);
      book.sync.start();
    },
  );
}

function create(
  pool: StreamPool,
  r: Resolved,
  options: OrderBookOptions,
  byKey: Map<string, KeptBook>,
): KeptBook {
  const listeners = new Set<BookListener<BookChange>>();
  const subscription = new Subscription();
  const sync = new BookSync({
    book: r.key,
    symbol: r.symbol,
    dialect: depthDialect(pool.venue),
    rest: r.rest,
    snapshotLimit: r.snapshotLimit,
    maxBuffer: r.maxBuffer,
    quietSnapshotMs: r.quietSnapshotMs,
    clock: pool.clock,
    random: options.random ?? Math.random,
    logger: pool.logger.child({ book: r.key }),
    onChange: (change) => {
      for (const l of [...listeners]) l.change(change);
    },
    onFatal: (err) => endBook(byKey, book, err),
  });
  // First of what the book holds, so released first when it ends: no timer or REST call of a
  // sync outlives its book, however the book ends.
  subscription.add(() => sync.stop());
  const book: KeptBook = { key: r.key, sync, listeners, subscription };
  return book;
}

function subscribe(
  pool: StreamPool,
  r: Resolved,
  book: KeptBook,
  byKey: Map<string, KeptBook>,
): void {
  const { sync, subscription } = book;
  // Holes first, so that one announced while a diff is being delivered is not missed: a gap
  // the pool announces, and a diff the pool dropped because it could not be parsed (without
  // this, a quiet symbol's book would stay live without that update until the next diff).
  subscription.add(
    pool.status$.subscribe((st) => {
      if ((st.type === 'gap' || st.type === 'parse-error') && st.stream === r.stream) {
        sync.onStreamGap();
      }
    }),
  );
  subscription.add(
    pool.observe(depthDiff, { symbols: [r.symbol], speed: r.speed }).subscribe({
      next: (e) => sync.onDiff(e),
      error: (err: UnifeedError) => endBook(byKey, book, err),
      complete: () => endBook(byKey, book),
    }),
  );
}

function view(
  venue: string,
  symbol: string,
  depth: number,
  state: BookState,
  book: ReadonlyOrderBook | undefined,
  eventTime: number | undefined,
  reason: ResyncReason | undefined,
): BookView {
  return {
    venue,
    symbol,
    state,
    lastUpdateId: book?.lastUpdateId ?? 0,
    eventTime,
    bids: book === undefined ? [] : book.bids.top(depth),
    asks: book === undefined ? [] : book.asks.top(depth),
    book,
    reason,
  };
}

/**
 * A local order book of one symbol, kept from the diff stream and REST snapshots and checked
 * on every update. Emits a view at once (its current state), then after every change. A gap
 * rebuilds this book alone, without a reconnect; meanwhile the last good book is emitted as
 * `resyncing`. Subscribers of the same book share one sync. Throws at the call for an
 * invalid option or a venue without depth; errors only when the venue refuses the book
 * (unknown symbol); completes when the pool closes.
 */
export function orderBook(pool: StreamPool, options: OrderBookOptions): Observable<BookView> {
  requirePool(pool);
  requireObject('the options of orderBook', options);
  if (pool.venue.name === UPBIT) {
    // Upbit sends the top of the book whole on every change: nothing to sync, only to keep.
    if (options.depth !== undefined) requirePositiveInteger('depth', options.depth);
    return upbitSnapshotBook(pool, options.symbol, options.depth ?? DEFAULT_DEPTH);
  }
  const r = resolve(pool, options);
  const depth = options.depth ?? DEFAULT_DEPTH;
  if (depth > r.snapshotLimit) {
    // The book knows only the levels the snapshot had, and those updated since: a view deeper
    // than the snapshot would show the venue's levels past it as absent.
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `depth ${depth} is deeper than snapshotLimit ${r.snapshotLimit}: the book would not know the levels between`,
    );
  }
  const venue = pool.venue.name;
  return new Observable<BookView>((subscriber) => {
    let reason: ResyncReason | undefined;
    const leave = join(pool, r, options, {
      change: (c) => {
        if (c.type === 'resyncing') reason = c.reason;
        else reason = undefined;
        const state = c.type === 'resyncing' ? (c.book ? 'resyncing' : 'syncing') : 'live';
        const eventTime = c.type === 'update' ? c.event.eventTime : undefined;
        subscriber.next(view(venue, r.symbol, depth, state, c.book, eventTime, reason));
      },
      error: (err) => subscriber.error(err),
      complete: () => subscriber.complete(),
    });
    const sync = books.get(pool)?.get(r.key)?.sync;
    // This view's depth is what the book must keep known (see ResyncReason 'shallow').
    const unwant = sync?.want(depth);
    if (sync !== undefined && !subscriber.closed) {
      reason = sync.reason;
      subscriber.next(view(venue, r.symbol, depth, sync.state, sync.book, undefined, reason));
    }
    return () => {
      unwant?.();
      leave();
    };
  });
}

/**
 * The checked changes of one symbol's book, for users who keep their own: a `snapshot` to
 * start from (also after every resync), then `update`s each continuous with the last, and
 * `resyncing` when the copy must be dropped. Shares the sync with {@link orderBook}.
 */
export function bookDeltas(pool: StreamPool, options: OrderBookOptions): Observable<BookDelta> {
  requirePool(pool);
  requireObject('the options of bookDeltas', options);
  if (pool.venue.name === UPBIT) return upbitDeltas(pool, options);
  const r = resolve(pool, options);
  const venue = pool.venue.name;
  const snapshot = (book: ReadonlyOrderBook): BookDelta => ({
    type: 'snapshot',
    venue,
    symbol: r.symbol,
    lastUpdateId: book.lastUpdateId,
    bids: book.bids.top(book.bids.size),
    asks: book.asks.top(book.asks.size),
  });
  return new Observable<BookDelta>((subscriber) => {
    const leave = join(pool, r, options, {
      change: (c) => {
        if (c.type === 'snapshot') subscriber.next(snapshot(c.book));
        else if (c.type === 'resyncing') {
          subscriber.next({ type: 'resyncing', venue, symbol: r.symbol, reason: c.reason });
        } else {
          const e = c.event;
          subscriber.next({
            type: 'update',
            venue,
            symbol: r.symbol,
            firstUpdateId: e.firstUpdateId,
            lastUpdateId: e.lastUpdateId,
            eventTime: e.eventTime,
            bids: e.bids,
            asks: e.asks,
          });
        }
      },
      error: (err) => subscriber.error(err),
      complete: () => subscriber.complete(),
    });
    const sync = books.get(pool)?.get(r.key)?.sync;
    // A late subscriber to a live book starts from a copy of it.
    if (sync?.state === 'live' && sync.book !== undefined && !subscriber.closed) {
      subscriber.next(snapshot(sync.book));
    }
    return leave;
  });
}

/** On Upbit every change is a whole snapshot: a `snapshot` delta each, `resyncing` on a hole. */
function upbitDeltas(pool: StreamPool, options: OrderBookOptions): Observable<BookDelta> {
  // Out here, so that a bad symbol is refused at the call, as on Binance.
  const views = upbitSnapshotBook(pool, options.symbol, 1);
  return new Observable<BookDelta>((subscriber) =>
    views.subscribe({
      next: (v) => {
        if (v.state === 'resyncing' && v.reason !== undefined) {
          subscriber.next({
            type: 'resyncing',
            venue: v.venue,
            symbol: v.symbol,
            reason: v.reason,
          });
        } else if (v.state === 'live' && v.book !== undefined) {
          subscriber.next({
            type: 'snapshot',
            venue: v.venue,
            symbol: v.symbol,
            lastUpdateId: v.lastUpdateId,
            bids: v.book.bids.top(v.book.bids.size),
            asks: v.book.asks.top(v.book.asks.size),
          });
        }
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => subscriber.complete(),
    }),
  );
}

/** Stats of every book currently kept on `pool` (for metrics and health reports). */
export function bookStats(pool: StreamPool): BookStats[] {
  // Another object would read as a pool without books: empty stats, a health check all clear.
  requirePool(pool);
  const byKey = books.get(pool);
  const kept = byKey === undefined ? [] : [...byKey.values()].map((b) => b.sync.stats());
  return [...kept, ...snapshotBookStats(pool)];
}
