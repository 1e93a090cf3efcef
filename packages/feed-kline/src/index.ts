/**
 * @unifeed/feed-kline: Binance spot and USD-M klines of every interval, Upbit candles, for many symbols and
 * intervals in one call, plus finished candles exactly once and bounded per-stream series.
 *
 * ```ts
 * closedKlines(pool, { symbols: ['BTCUSDT'], intervals: ['1m', '1h'] }).subscribe(save);
 * ```
 */
export type { KlineEvent, KlineInterval } from './event.js';
export { parseKline } from './parse.js';
export { parseUpbitCandle } from './upbit.js';
export { kline, klines, type KlineParams } from './plugin.js';
export { closedKlines, onlyClosed } from './closed.js';
export {
  DEFAULT_SERIES_LENGTH,
  KlineSeries,
  klineSeries,
  toSeries,
  type KlineSeriesOptions,
  type KlineSeriesUpdate,
  type SeriesChange,
} from './series.js';
