/**
 * @unifeed/feed-depth: partial depth, and local order books that never silently drift. Every
 * diff is checked for continuity; a gap rebuilds one symbol's book without a reconnect, while
 * the last good book stays readable; snapshots share one REST weight budget per process.
 *
 * ```ts
 * orderBook(pool, { symbol: 'BTCUSDT', depth: 5 }).subscribe((v) => show(v.state, v.bids, v.asks));
 * ```
 */
export type { DepthDiffEvent, Level, PartialDepthEvent } from './events.js';
export type { DepthSpeed } from './dialect.js';
export { parseDepthDiff, parsePartialDepth } from './parse.js';
export {
  depthDiff,
  partialDepth,
  partialDepths,
  type DepthDiffParams,
  type PartialDepthParams,
} from './plugins.js';
export { parseUpbitOrderbook, upbitOrderbook, type UpbitOrderbookParams } from './upbit-book.js';
export { BookSide, type ReadonlyBookSide } from './book-side.js';
export { OrderBook, type ReadonlyOrderBook } from './order-book.js';
export type { BookState, BookStats, ResyncReason } from './book-sync.js';
export {
  bookDeltas,
  bookStats,
  orderBook,
  type BookDelta,
  type BookView,
  type OrderBookOptions,
} from './order-book-feed.js';
