import {
  ErrorCode,
  LatencyHistogram,
  marketStream,
  requireList,
  requireObject,
  UnifeedError,
  type FeedPlugin,
  type StreamPool,
} from '@unifeed/core';
import {
  asInteger,
  asSymbolOfStream,
  asUnsignedNumericDecimal,
  object,
  parseError,
} from '@unifeed/core/fields';
import { Observable, Subscription } from 'rxjs';
import type { BookState, BookStats, ResyncReason } from './book-sync.js';
import type { Level, PartialDepthEvent } from './events.js';
import { bestFirst } from './parse.js';
import { OrderBook, type ReadonlyOrderBook } from './order-book.js';
import type { BookView } from './order-book-feed.js';
import { endBook, joinBook, type SharedBook } from './shared-book.js';

/** The `venue` name of Upbit, as `upbit()` from @unifeed/core calls itself. */
export const UPBIT = 'upbit';

/** Most units one Upbit order book message may have; Upbit sends 15 (30 on request). */
const MAX_UNITS = 100;

/** Parameters of {@link upbitOrderbook}. */
export interface UpbitOrderbookParams {
  /** Upbit market codes in any case, e.g. `['KRW-BTC']`; at least one. */
  readonly codes: readonly string[];
}

function streamsOf(codes: readonly string[]): string[] {
  return requireList('codes', codes).map((c) => marketStream('orderbook', c));
}

/**
 * One Upbit `orderbook` message (DEFAULT format) as a partial book: Upbit sends the top units
 * whole on every change, never a diff. Upbit has no update id: `lastUpdateId` is the
 * message's `timestamp`, which orders snapshots. Prices and sizes, JSON numbers on the wire,
 * become exact decimal strings; a unit whose side is empty (size 0) is left out.
 */
export function parseUpbitOrderbook(
  payload: unknown,
  stream: string,
  venue: string,
): PartialDepthEvent {
  const p = object(payload, 'orderbook payload', stream);
  if (p.type !== 'orderbook') throw parseError("field 'type'", 'is not "orderbook"', stream);
  const units = p.orderbook_units;
  if (!Array.isArray(units) || units.length > MAX_UNITS) {
    throw parseError("field 'orderbook_units'", 'is missing or not an array of units', stream);
  }
  const bids: Level[] = [];
  const asks: Level[] = [];
  for (let i = 0; i < units.length; i++) {
    const u = object(units[i], `unit ${i} of 'orderbook_units'`, stream);
    const ask: Level = [
      asUnsignedNumericDecimal(u.ask_price, 'ask_price', stream),
      asUnsignedNumericDecimal(u.ask_size, 'ask_size', stream),
    ];
    const bid: Level = [
      asUnsignedNumericDecimal(u.bid_price, 'bid_price', stream),
      asUnsignedNumericDecimal(u.bid_size, 'bid_size', stream),
    ];
    if (Number(ask[1]) > 0) asks.push(ask);
    if (Number(bid[1]) > 0) bids.push(bid);
  }
  const time = asInteger(p.timestamp, 'timestamp', stream);
  return {
    type: 'partialDepth',
    venue,
    stream,
    symbol: asSymbolOfStream(p.code, 'code', stream),
    lastUpdateId: time,
    eventTime: time,
    bids: bestFirst(bids, 'bids'),
    asks: bestFirst(asks, 'asks'),
  };
}

/** Upbit's order book snapshots (`orderbook:<code>`) as partial books. Upbit only. */
export const upbitOrderbook: FeedPlugin<UpbitOrderbookParams, PartialDepthEvent> = {
  name: 'upbitOrderbook',
  streams(params, venue) {
    if (venue.name !== UPBIT) {
      throw new UnifeedError(ErrorCode.InvalidStream, `${venue.name} has no Upbit order book`);
    }
    return streamsOf(requireObject('the parameters of upbitOrderbook', params).codes);
  },
  parse: (payload, stream, venue) => parseUpbitOrderbook(payload, stream, venue.name),
  // Pushed when the book changes: a quiet market may be silent for long.
};

/** One Upbit book per (pool, stream), shared by all its subscribers: told the book itself. */
interface SnapshotBook extends SharedBook<SnapshotBook> {
  readonly book: OrderBook;
  state: BookState;
  reason: ResyncReason | undefined;
  stats: {
    streamGaps: number;
    resyncs: number;
    crossed: number;
    duplicates: number;
    snapshots: number;
  };
}

const snapshotBooks = new WeakMap<StreamPool, Map<string, SnapshotBook>>();

function createBook(stream: string, code: string): SnapshotBook {
  return {
    key: stream,
    book: new OrderBook(code),
    state: 'syncing',
    reason: undefined,
    listeners: new Set(),
    subscription: new Subscription(),
    stats: { streamGaps: 0, resyncs: 0, crossed: 0, duplicates: 0, snapshots: 0 },
  };
}

function startBook(
  pool: StreamPool,
  code: string,
  b: SnapshotBook,
  byStream: Map<string, SnapshotBook>,
): void {
  const changed = (): void => {
    for (const l of [...b.listeners]) l.change(b);
  };
  const hole = (reason: ResyncReason): void => {
    if (b.state === 'live') b.stats.resyncs++;
    // The last good book stays readable; the next snapshot replaces it whole.
    b.state = b.state === 'syncing' ? 'syncing' : 'resyncing';
    b.reason = reason;
    changed();
  };
  b.subscription.add(
    pool.status$.subscribe((st) => {
      if ((st.type === 'gap' || st.type === 'parse-error') && st.stream === b.key) {
        // Holes of whole books older than one delivered lose nothing: one the queue replaced
        // with a newer whole book (`conflated`), and a rotation's old connection's lagging book
        // after the new connection's newer one (`rotation`). Taken as holes, an exact book
        // waited, resyncing, for the next message: minutes on a quiet market.
        if (st.type === 'gap' && (st.reason === 'conflated' || st.reason === 'rotation')) return;
        b.stats.streamGaps++;
        hole('stream-gap');
      }
    }),
  );
  b.subscription.add(
    pool.observe(upbitOrderbook, { codes: [code] }).subscribe({
      next: (e) => {
        // Older than the book (a rotation overlap, a reordered frame): the book is newer.
        if (b.state !== 'syncing' && e.lastUpdateId < b.book.lastUpdateId) {
          b.stats.duplicates++;
          return;
        }
        const bestBid = e.bids[0];
        const bestAsk = e.asks[0];
        if (
          bestBid !== undefined &&
          bestAsk !== undefined &&
          Number(bestBid[0]) >= Number(bestAsk[0])
        ) {
          b.stats.crossed++;
          hole('crossed');
          return;
        }
        b.book.load(e.bids, e.asks, e.lastUpdateId);
        b.stats.snapshots++;
        b.state = 'live';
        b.reason = undefined;
        changed();
      },
      error: (err: UnifeedError) => endBook(byStream, b, err),
      complete: () => endBook(byStream, b),
    }),
  );
}

function snapshotView(b: SnapshotBook, depth: number): BookView {
  const live = b.state !== 'syncing';
  return {
    venue: UPBIT,
    symbol: b.book.symbol,
    state: b.state,
    lastUpdateId: live ? b.book.lastUpdateId : 0,
    eventTime: live ? b.book.lastUpdateId : undefined,
    bids: live ? b.book.bids.top(depth) : [],
    asks: live ? b.book.asks.top(depth) : [],
    book: live ? (b.book as ReadonlyOrderBook) : undefined,
    reason: b.reason,
  };
}

/**
 * {@link orderBook} on Upbit: every message is the whole top of the book, so there is no
 * REST snapshot and no diff to check. A hole the pool announces (reconnect, queue drop,
 * decode, stale, rotation) or a crossed snapshot makes the book `resyncing`, the last good one still
 * readable, until the next snapshot; after a reconnect Upbit sends one at once.
 */
export function upbitSnapshotBook(
  pool: StreamPool,
  code: string,
  depth: number,
): Observable<BookView> {
  const [stream] = streamsOf([code]);
  const market = stream!.slice(stream!.indexOf(':') + 1);
  return new Observable<BookView>((subscriber) => {
    let byStream = snapshotBooks.get(pool);
    if (!byStream) snapshotBooks.set(pool, (byStream = new Map()));
    const map = byStream;
    const leave = joinBook(
      map,
      stream!,
      {
        change: (b: SnapshotBook) => subscriber.next(snapshotView(b, depth)),
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      },
      () => createBook(stream!, market),
      (b) => startBook(pool, market, b, map),
    );
    // None when the book ended as it started: its subscriber was told so already.
    const b = map.get(stream!);
    if (b !== undefined && !subscriber.closed) subscriber.next(snapshotView(b, depth));
    return leave;
  });
}

/** Stats of every Upbit book kept on `pool`, in the shape of the diff-kept books'. */
export function snapshotBookStats(pool: StreamPool): BookStats[] {
  const byStream = snapshotBooks.get(pool);
  if (byStream === undefined) return [];
  const empty = new LatencyHistogram().summary();
  return [...byStream.values()].map((b) => ({
    book: b.key,
    symbol: b.book.symbol,
    state: b.state,
    lastUpdateId: b.book.lastUpdateId,
    gaps: 0,
    streamGaps: b.stats.streamGaps,
    resyncs: b.stats.resyncs,
    crossed: b.stats.crossed,
    shallow: 0,
    bufferOverflows: 0,
    duplicates: b.stats.duplicates,
    updatesApplied: 0,
    snapshots: b.stats.snapshots,
    staleSnapshots: 0,
    snapshotFailures: 0,
    snapshotLatency: empty,
    bidLevels: b.book.bids.size,
    askLevels: b.book.asks.size,
    buffered: 0,
  }));
}
