/**
 * @unifeed/feed-price: plugins for Binance spot and USD-M price streams, and Upbit's ticker
 * and trade. Use them with
 * `pool.observe(plugin, params)` of a `StreamPool` from @unifeed/core:
 *
 * ```ts
 * pool.observe(bookTicker, { symbols: ['BTCUSDT'] }).subscribe((e) => e.bidPrice);
 * ```
 */
export type {
  AggTradeEvent,
  BookTickerEvent,
  MarkPriceEvent,
  MiniTickerEvent,
  PriceEvent,
  PriceEventBase,
  TickerEvent,
  TradeEvent,
  TradeFields,
  WindowStats,
} from './events.js';
export {
  aggTrade,
  allBookTickers,
  allMarkPrices,
  allMiniTickers,
  allTickers,
  bookTicker,
  markPrice,
  miniTicker,
  ticker,
  trade,
  type AllMarkPricesParams,
  type MarkPriceParams,
  type MarkPriceSpeed,
  type NoParams,
  type SymbolsParams,
} from './plugins.js';
export {
  parseAggTrade,
  parseBookTicker,
  parseMarkPrice,
  parseMiniTicker,
  parseTicker,
  parseTrade,
  type Parser,
} from './parse.js';
export { parseUpbitTicker, parseUpbitTrade } from './upbit.js';
