/**
 * Every kline interval Binance has; `1s` is spot only. `1M` (month) is not `1m` (minute).
 * Upbit's candles add `10m`, and write hours in minutes: `60m`, `240m`.
 */
export type KlineInterval =
  | '1s'
  | '1m'
  | '3m'
  | '5m'
  | '10m'
  | '15m'
  | '30m'
  | '60m'
  | '240m'
  | '1h'
  | '2h'
  | '4h'
  | '6h'
  | '8h'
  | '12h'
  | '1d'
  | '3d'
  | '1w'
  | '1M';

/**
 * One candle update (`<symbol>@kline_<interval>`): the candle so far, or its final state when
 * `isClosed`. Prices and volumes are the exact decimal strings received; ids and times are
 * numbers. Shared by every subscriber of the stream: treat it as immutable.
 */
export interface KlineEvent {
  /** Discriminant. */
  readonly type: 'kline';
  /** The venue that sent it, `binance-spot`, `binance-usdm` or `upbit`. */
  readonly venue: string;
  /** The stream it came from, e.g. `btcusdt@kline_1m` or `candle.1m:KRW-BTC`. */
  readonly stream: string;
  /** The exchange symbol as the exchange writes it, e.g. `BTCUSDT`, or Upbit's `KRW-BTC`. */
  readonly symbol: string;
  /** The candle interval (`k.i`), e.g. `1m`; case matters (`1M` is a month). */
  readonly interval: string;
  /** Event time, ms since the epoch (`E`). */
  readonly eventTime: number;
  /** Candle open time, ms (`k.t`); with `stream`, the candle's identity. */
  readonly openTime: number;
  /** Candle close time, ms (`k.T`): the next candle's open time minus 1. */
  readonly closeTime: number;
  /** First trade id in the candle (`k.f`); -1 while it has no trade; undefined on Upbit. */
  readonly firstTradeId: number | undefined;
  /** Last trade id in the candle (`k.L`); -1 while it has no trade; undefined on Upbit. */
  readonly lastTradeId: number | undefined;
  /** Open price (`k.o`). */
  readonly open: string;
  /** High price (`k.h`). */
  readonly high: string;
  /** Low price (`k.l`). */
  readonly low: string;
  /** Close price, the last price while the candle is open (`k.c`). */
  readonly close: string;
  /** Base asset volume (`k.v`). */
  readonly volume: string;
  /** Quote asset volume (`k.q`). */
  readonly quoteVolume: string;
  /** Number of trades (`k.n`); undefined on Upbit. */
  readonly trades: number | undefined;
  /**
   * True on the candle's final update (`k.x`); it may arrive after the next candle began.
   * Always false on Upbit, whose candles never say that they closed.
   */
  readonly isClosed: boolean;
  /** Taker buy base asset volume (`k.V`); undefined on Upbit. */
  readonly takerBuyVolume: string | undefined;
  /** Taker buy quote asset volume (`k.Q`); undefined on Upbit. */
  readonly takerBuyQuoteVolume: string | undefined;
  /** The payload as received (`{e, E, s, k}`), for fields this schema does not map. */
  readonly raw: unknown;
}
