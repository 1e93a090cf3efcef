import { ErrorCode, UnifeedError, type FeedPlugin } from '@unifeed/core';
import { idOrder, quoted } from '@unifeed/core/fields';
import type {
  AggTradeEvent,
  BookTickerEvent,
  MarkPriceEvent,
  MiniTickerEvent,
  TickerEvent,
  TradeEvent,
} from './events.js';
import {
  arrayOf,
  parseAggTrade,
  parseBookTicker,
  parseMarkPrice,
  parseMiniTicker,
  parseTicker,
  parseTrade,
} from './parse.js';
import { definePlugin, perSymbol } from './plugin.js';
import { parseUpbitTicker, parseUpbitTrade, UPBIT, upbitStreams } from './upbit.js';

/** Parameters of the per-symbol plugins. */
export interface SymbolsParams {
  /**
   * Symbols in any case, e.g. `['BTCUSDT', 'ethusdt']`, or Upbit market codes
   * (`['KRW-BTC']`); at least one.
   */
  readonly symbols: readonly string[];
}

/** How often the futures mark price is pushed. */
export type MarkPriceSpeed = '3s' | '1s';

/** Parameters of {@link markPrice}. */
export interface MarkPriceParams extends SymbolsParams {
  /** Push every 3 s (`<s>@markPrice`) or every second (`<s>@markPrice@1s`). @default '3s' */
  readonly speed?: MarkPriceSpeed | undefined;
}

/** Parameters of {@link allMarkPrices}. */
export interface AllMarkPricesParams {
  /** Push every 3 s (`!markPrice@arr`) or every second (`!markPrice@arr@1s`). @default '3s' */
  readonly speed?: MarkPriceSpeed | undefined;
}

/** Parameters of the all-market plugins that take none: pass `{}` (or `undefined`). */
export type NoParams = Readonly<Record<never, never>>;

const SPOT = 'binance-spot';
const USDM = 'binance-usdm';

// Cadences from protocol.md. Event-driven streams get none, so the pool never calls a quiet
// market's trade stream stale; fixed-cadence ones are resubscribed after a long silence.
const TICKER_CADENCE = { [SPOT]: 1000, [USDM]: 2000 } as const;
const MARK_CADENCE = {
  [USDM]: (stream: string) => (stream.endsWith('@1s') ? 1000 : 3000),
} as const;

function speedSuffix(speed: MarkPriceSpeed | undefined): string {
  if (speed === undefined || speed === '3s') return '';
  if (speed === '1s') return '@1s';
  throw new UnifeedError(
    ErrorCode.InvalidStream,
    `markPrice speed must be '3s' or '1s', not ${quoted(speed)}`,
  );
}

/** Best bid and ask of each symbol, on every change. Both venues; event-driven. */
export const bookTicker: FeedPlugin<SymbolsParams, BookTickerEvent> = definePlugin({
  name: 'bookTicker',
  venues: { [SPOT]: 'event', [USDM]: 'event' },
  names: (p: SymbolsParams) => perSymbol(p.symbols, 'bookTicker'),
  parse: parseBookTicker,
  sequence: (e: BookTickerEvent) => e.updateId,
});

/**
 * `!bookTicker`: the best bid and ask of every symbol, one event per symbol change. USD-M only
 * (spot retired it); event-driven, on the `/public` path. Symbols interleave, each with its own
 * update ids, so this plugin declares no `sequence`: two symbols' events with the same id in a
 * row are both news. Repeats across a connection rotation are still dropped, per symbol, by the
 * pool (`Venue.sequenceScope`).
 */
export const allBookTickers: FeedPlugin<NoParams, BookTickerEvent> = definePlugin({
  name: 'allBookTickers',
  venues: { [USDM]: 'event' },
  names: () => ['!bookTicker'],
  parse: parseBookTicker,
  optionalParams: true,
});

/**
 * 24 h rolling ticker of each symbol. Binance every 1 s (spot) or 2 s (futures); Upbit on
 * every trade (`ticker:<code>`).
 */
export const ticker: FeedPlugin<SymbolsParams, TickerEvent> = definePlugin({
  name: 'ticker',
  venues: { ...TICKER_CADENCE, [UPBIT]: 'event' },
  names: (p: SymbolsParams, venue) =>
    venue === UPBIT ? upbitStreams(p.symbols, 'ticker') : perSymbol(p.symbols, 'ticker'),
  parse: (payload, stream, venue) =>
    venue === UPBIT
      ? parseUpbitTicker(payload, stream, venue)
      : parseTicker(payload, stream, venue),
});

/** 24 h rolling mini ticker of each symbol. Both venues; every 1 s (spot) or 2 s (futures). */
export const miniTicker: FeedPlugin<SymbolsParams, MiniTickerEvent> = definePlugin({
  name: 'miniTicker',
  venues: TICKER_CADENCE,
  names: (p: SymbolsParams) => perSymbol(p.symbols, 'miniTicker'),
  parse: parseMiniTicker,
});

/** Mark price, index price and funding of each symbol. USD-M futures only; every 3 s or 1 s. */
export const markPrice: FeedPlugin<MarkPriceParams, MarkPriceEvent> = definePlugin({
  name: 'markPrice',
  venues: MARK_CADENCE,
  names: (p: MarkPriceParams) => perSymbol(p.symbols, `markPrice${speedSuffix(p.speed)}`),
  parse: parseMarkPrice,
});

/** Aggregate trades of each symbol. Both venues; event-driven. */
export const aggTrade: FeedPlugin<SymbolsParams, AggTradeEvent> = definePlugin({
  name: 'aggTrade',
  venues: { [SPOT]: 'event', [USDM]: 'event' },
  names: (p: SymbolsParams) => perSymbol(p.symbols, 'aggTrade'),
  parse: parseAggTrade,
  sequence: (e: AggTradeEvent) => e.aggTradeId,
});

/** Every trade of each symbol. Binance spot (futures has no `@trade`) and Upbit; event-driven. */
export const trade: FeedPlugin<SymbolsParams, TradeEvent> = definePlugin({
  name: 'trade',
  venues: { [SPOT]: 'event', [UPBIT]: 'event' },
  names: (p: SymbolsParams, venue) =>
    venue === UPBIT ? upbitStreams(p.symbols, 'trade') : perSymbol(p.symbols, 'trade'),
  parse: (payload, stream, venue) =>
    venue === UPBIT ? parseUpbitTrade(payload, stream, venue) : parseTrade(payload, stream, venue),
  // Upbit's ids are beyond 2^53: the exact text, in a form that keeps them apart.
  sequence: (e: TradeEvent) =>
    Number.isSafeInteger(e.tradeId) ? e.tradeId : (idOrder(e.tradeIdText) ?? Number.NaN),
});

/**
 * `!miniTicker@arr`: the mini tickers of every symbol that changed, one array per push (the
 * frame's cross-section; `mergeAll()` flattens it). Both venues.
 */
export const allMiniTickers: FeedPlugin<NoParams, readonly MiniTickerEvent[]> = definePlugin({
  name: 'allMiniTickers',
  venues: TICKER_CADENCE,
  names: () => ['!miniTicker@arr'],
  parse: arrayOf(parseMiniTicker, 'miniTicker'),
  optionalParams: true,
});

/** `!ticker@arr`: the 24 h tickers of every symbol that changed, one array per push. Both venues. */
export const allTickers: FeedPlugin<NoParams, readonly TickerEvent[]> = definePlugin({
  name: 'allTickers',
  venues: TICKER_CADENCE,
  names: () => ['!ticker@arr'],
  parse: arrayOf(parseTicker, 'ticker'),
  optionalParams: true,
});

/** `!markPrice@arr[@1s]`: mark prices of every futures symbol, one array per push. USD-M only. */
export const allMarkPrices: FeedPlugin<AllMarkPricesParams, readonly MarkPriceEvent[]> =
  definePlugin({
    name: 'allMarkPrices',
    venues: MARK_CADENCE,
    names: (p: AllMarkPricesParams) => [`!markPrice@arr${speedSuffix(p.speed)}`],
    parse: arrayOf(parseMarkPrice, 'markPrice'),
    optionalParams: true,
  });
