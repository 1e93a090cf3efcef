/**
 * The normalized price events. One schema for Binance and Upbit: readable names, the
 * venue and stream it came from, a discriminating `type`, prices and quantities as the exact
 * decimal strings received, ids and times as numbers, and `raw`, the payload as received.
 * Events are shared by every subscriber of a stream: treat them as immutable.
 */

/** Fields every price event has. */
export interface PriceEventBase {
  /** The venue that sent it, e.g. `binance-spot`, `binance-usdm` or `upbit`. */
  readonly venue: string;
  /** The stream it came from, e.g. `btcusdt@bookTicker`, `!miniTicker@arr` or `ticker:KRW-BTC`. */
  readonly stream: string;
  /** The exchange symbol as the exchange writes it, e.g. `BTCUSDT`, or Upbit's `KRW-BTC`. */
  readonly symbol: string;
  /** The payload as received, for fields this schema does not map. Do not mutate it. */
  readonly raw: unknown;
}

/** Best bid and ask (`<symbol>@bookTicker`), pushed on every change of the top of the book. */
export interface BookTickerEvent extends PriceEventBase {
  /** Discriminant. */
  readonly type: 'bookTicker';
  /** Order book update id (`u`); increases with every change of the book. */
  readonly updateId: number;
  /** Event time, ms since the epoch (`E`); undefined on spot, which does not send it. */
  readonly eventTime: number | undefined;
  /** Matching-engine transaction time, ms (`T`); futures only, else undefined. */
  readonly transactionTime: number | undefined;
  /** Best bid price (`b`). */
  readonly bidPrice: string;
  /** Quantity at the best bid (`B`). */
  readonly bidQty: string;
  /** Best ask price (`a`). */
  readonly askPrice: string;
  /** Quantity at the best ask (`A`). */
  readonly askQty: string;
}

/** Rolling 24 h window statistics shared by `ticker` and `miniTicker`. */
export interface WindowStats {
  /** Event time, ms since the epoch (`E`). */
  readonly eventTime: number;
  /** Price at the start of the 24 h window (`o`). */
  readonly open: string;
  /** Highest price in the window (`h`). */
  readonly high: string;
  /** Lowest price in the window (`l`). */
  readonly low: string;
  /** Last price (`c`). */
  readonly close: string;
  /** Base asset volume traded in the window (`v`). */
  readonly volume: string;
  /** Quote asset volume traded in the window (`q`). */
  readonly quoteVolume: string;
}

/** Rolling 24 h mini ticker (`<symbol>@miniTicker`, `!miniTicker@arr`). */
export interface MiniTickerEvent extends PriceEventBase, WindowStats {
  /** Discriminant. */
  readonly type: 'miniTicker';
}

/**
 * Rolling 24 h ticker (`<symbol>@ticker`, `!ticker@arr`). On Upbit (`ticker:<code>`), pushed
 * on every trade, the window is the day so far from 00:00 UTC (`openTime`), as Upbit counts
 * `opening_price` and `acc_trade_volume`, and the change is against `prev_closing_price`.
 */
export interface TickerEvent extends PriceEventBase, WindowStats {
  /** Discriminant. */
  readonly type: 'ticker';
  /** Absolute price change over the window (`p`). */
  readonly priceChange: string;
  /** Relative price change in percent (`P`). */
  readonly priceChangePercent: string;
  /** Volume-weighted average price over the window (`w`); undefined on Upbit, which has none. */
  readonly weightedAvgPrice: string | undefined;
  /** Last price before the window (`x`; Upbit: `prev_closing_price`); undefined on USD-M. */
  readonly prevClosePrice: string | undefined;
  /** Quantity of the last trade (`Q`). */
  readonly lastQty: string;
  /** Best bid price (`b`); spot only, else undefined. */
  readonly bidPrice: string | undefined;
  /** Quantity at the best bid (`B`); spot only, else undefined. */
  readonly bidQty: string | undefined;
  /** Best ask price (`a`); spot only, else undefined. */
  readonly askPrice: string | undefined;
  /** Quantity at the best ask (`A`); spot only, else undefined. */
  readonly askQty: string | undefined;
  /** Start of the statistics window, ms (`O`). */
  readonly openTime: number;
  /** End of the statistics window, ms (`C`). */
  readonly closeTime: number;
  /** First trade id in the window (`F`); -1 when there was none; undefined on Upbit. */
  readonly firstTradeId: number | undefined;
  /** Last trade id in the window (`L`); -1 when there was none; undefined on Upbit. */
  readonly lastTradeId: number | undefined;
  /** Number of trades in the window (`n`); undefined on Upbit. */
  readonly trades: number | undefined;
}

/** Futures mark price and funding (`<symbol>@markPrice[@1s]`, `!markPrice@arr[@1s]`). */
export interface MarkPriceEvent extends PriceEventBase {
  /** Discriminant. */
  readonly type: 'markPrice';
  /** Event time, ms since the epoch (`E`). */
  readonly eventTime: number;
  /** Mark price (`p`). */
  readonly markPrice: string;
  /** Moving average of the mark price (`ap`); undefined when the venue does not send it. */
  readonly markPriceAvg: string | undefined;
  /** Index price (`i`). */
  readonly indexPrice: string;
  /** Estimated settle price, only meaningful in the last hour before settlement (`P`). */
  readonly estimatedSettlePrice: string;
  /** Current funding rate (`r`); undefined when the venue sends "" (contracts without funding). */
  readonly fundingRate: string | undefined;
  /** Next funding time, ms (`T`); 0 for contracts without funding. */
  readonly nextFundingTime: number;
}

/** Fields shared by `aggTrade` and `trade`. */
export interface TradeFields {
  /** Event time, ms since the epoch (`E`). */
  readonly eventTime: number;
  /** Trade price (`p`). */
  readonly price: string;
  /** Trade quantity (`q`). */
  readonly qty: string;
  /** Trade time, ms (`T`). */
  readonly tradeTime: number;
  /** True when the buyer was the maker, i.e. the taker sold (`m`). */
  readonly isBuyerMaker: boolean;
  /** Spot's "best price match" flag (`M`); undefined on futures. Binance says to ignore it. */
  readonly isBestMatch: boolean | undefined;
}

/** Trades aggregated by taker order and price (`<symbol>@aggTrade`). */
export interface AggTradeEvent extends PriceEventBase, TradeFields {
  /** Discriminant. */
  readonly type: 'aggTrade';
  /** Aggregate trade id (`a`). */
  readonly aggTradeId: number;
  /** First trade id in the aggregate (`f`). */
  readonly firstTradeId: number;
  /** Last trade id in the aggregate (`l`). */
  readonly lastTradeId: number;
  /** Quantity without retail price improvement (RPI) orders (`nq`); futures only, else undefined. */
  readonly nonRpiQty: string | undefined;
}

/**
 * Every single trade (`<symbol>@trade`, spot only; `trade:<code>` on Upbit, where the id is
 * `sequential_id` and the taker side comes from `ask_bid`).
 */
export interface TradeEvent extends PriceEventBase, TradeFields {
  /** Discriminant. */
  readonly type: 'trade';
  /**
   * Trade id (`t`) as a number. Exact up to 2^53, which Binance's ids are; Upbit's
   * `sequential_id` (some 1.7e16) is beyond, so this is its nearest double and two trades
   * may share it: tell trades apart by {@link tradeIdText}.
   */
  readonly tradeId: number;
  /** The trade id's exact decimal text, on every venue. */
  readonly tradeIdText: string;
}

/** Any event of this package; switch on `type`. */
export type PriceEvent =
  BookTickerEvent | TickerEvent | MiniTickerEvent | MarkPriceEvent | AggTradeEvent | TradeEvent;
