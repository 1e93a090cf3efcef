/**
 * The normalized account events. Readable names, a discriminating `type` (the venue's own event
 * name, `e`), amounts as the exact decimal strings received, order and trade ids as exact
 * decimal strings (they go beyond 2^53), times as numbers, and `raw`, the payload as decoded.
 * Optional fields the venue added or dropped over the years are `undefined` when absent.
 * Events are shared by every subscriber: treat them as immutable.
 */

/** Which Binance market an event came from. */
export type AccountVenue = 'binance-usdm' | 'binance-spot';

// --- orders -----------------------------------------------------------------------------

/** What every order update has, futures (`ORDER_TRADE_UPDATE`) and spot (`executionReport`). */
export interface OrderUpdate {
  readonly venue: AccountVenue;
  /** Symbol, e.g. `BTCUSDT` (`s`). */
  readonly symbol: string;
  /** Exchange order id, exact (`i`). */
  readonly orderId: string;
  /** Client order id (`c`). */
  readonly clientOrderId: string;
  /** `S`. */
  readonly side: 'BUY' | 'SELL';
  /** `LIMIT`, `MARKET`, `STOP`, ... (`o`). */
  readonly orderType: string;
  /** `GTC`, `IOC`, `FOK`, `GTX`, `GTD` (`f`). */
  readonly timeInForce: string;
  /** Original quantity (`q`). */
  readonly quantity: string;
  /** Limit price, "0" for market orders (`p`). */
  readonly price: string;
  /** Stop price (futures `sp`, spot `P`), when present. */
  readonly stopPrice: string | undefined;
  /** What happened: `NEW`, `TRADE`, `CANCELED`, `EXPIRED`, `CALCULATED`, `AMENDMENT`, ... (`x`). */
  readonly executionType: string;
  /** Order status after it: `NEW`, `PARTIALLY_FILLED`, `FILLED`, `CANCELED`, ... (`X`). */
  readonly status: string;
  /** Quantity of this fill (`l`). */
  readonly lastQuantity: string;
  /** Price of this fill (`L`). */
  readonly lastPrice: string;
  /** Quantity filled so far (`z`). */
  readonly filledQuantity: string;
  /** Commission of this fill (`n`); absent on futures updates without one. */
  readonly commission: string | undefined;
  /** Asset the commission was paid in (`N`). */
  readonly commissionAsset: string | undefined;
  /** Trade id of this fill, exact (`t`); undefined when the update is not a trade. */
  readonly tradeId: string | undefined;
  /** True when this fill was on the maker side (`m`). */
  readonly isMaker: boolean;
  /** Event time, ms (`E`). */
  readonly eventTime: number;
  /** Transaction time, ms (`T`). */
  readonly transactionTime: number;
}

/** A futures order update (`ORDER_TRADE_UPDATE`'s `o`). */
export interface FuturesOrderUpdate extends OrderUpdate {
  readonly venue: 'binance-usdm';
  /** Average fill price (`ap`). */
  readonly averagePrice: string;
  /** `BOTH`, `LONG` or `SHORT` (`ps`). */
  readonly positionSide: string | undefined;
  /** `R`. */
  readonly reduceOnly: boolean | undefined;
  /** Close-all order of a conditional close (`cp`). */
  readonly closePosition: boolean | undefined;
  /** Realized profit of this fill (`rp`). */
  readonly realizedProfit: string | undefined;
  /** The order type it was placed as (`ot`). */
  readonly originalOrderType: string | undefined;
  /** Stop price working type, `MARK_PRICE` or `CONTRACT_PRICE` (`wt`). */
  readonly workingType: string | undefined;
  /** Bids notional (`b`). */
  readonly bidNotional: string | undefined;
  /** Asks notional (`a`). */
  readonly askNotional: string | undefined;
  /** Trailing stop activation price (`AP`). */
  readonly activationPrice: string | undefined;
  /** Trailing stop callback rate (`cr`). */
  readonly callbackRate: string | undefined;
  /** Price protection (`pP`). */
  readonly priceProtect: boolean | undefined;
  /** Self-trade prevention mode (`V`, 2023+). */
  readonly selfTradePrevention: string | undefined;
  /** Price match mode (`pm`, 2023+). */
  readonly priceMatch: string | undefined;
  /** Auto-cancel time of a GTD order, ms (`gtd`); undefined when 0 or absent. */
  readonly goodTillDate: number | undefined;
  /** Why the order expired (`er`, 2026+). */
  readonly expiryReason: string | undefined;
}

/** A spot order update (`executionReport`). */
export interface SpotOrderUpdate extends OrderUpdate {
  readonly venue: 'binance-spot';
  /** Order list (OCO, OTO) id (`g`); undefined for a plain order (-1). */
  readonly orderListId: string | undefined;
  /** The client order id of the order a cancel refers to (`C`). */
  readonly originalClientOrderId: string | undefined;
  /** Reject reason, `NONE` when not rejected (`r`). */
  readonly rejectReason: string | undefined;
  /** True while the order rests on the book (`w`). */
  readonly isOnBook: boolean | undefined;
  /** Order creation time, ms (`O`). */
  readonly creationTime: number | undefined;
  /** Quote quantity filled so far (`Z`); `Z / z` is the average price. */
  readonly cumulativeQuoteQuantity: string | undefined;
  /** Quote quantity of this fill (`Y`). */
  readonly lastQuoteQuantity: string | undefined;
  /** Quote order quantity (`Q`). */
  readonly quoteOrderQuantity: string | undefined;
  /** Iceberg quantity (`F`). */
  readonly icebergQuantity: string | undefined;
  /** When the order reached the book, ms (`W`). */
  readonly workingTime: number | undefined;
  /** Self-trade prevention mode (`V`). */
  readonly selfTradePrevention: string | undefined;
  /** The prevented match of a `TRADE_PREVENTION` report, exact (`v`); undefined otherwise. */
  readonly preventedMatchId: string | undefined;
}

// --- state ------------------------------------------------------------------------------

/** One asset of a futures account, from `ACCOUNT_UPDATE`. */
export interface FuturesBalance {
  /** `a`. */
  readonly asset: string;
  /** Wallet balance (`wb`). */
  readonly walletBalance: string;
  /** Cross wallet balance (`cw`). */
  readonly crossWalletBalance: string;
  /** Change apart from PnL and commission (`bc`); absent before 2021. */
  readonly balanceChange: string | undefined;
  /** Transaction time of the update that set it, ms. */
  readonly updatedAt: number;
}

/** One futures position, from `ACCOUNT_UPDATE`. */
export interface FuturesPosition {
  /** `s`. */
  readonly symbol: string;
  /** `BOTH` in one-way mode, `LONG` or `SHORT` in hedge mode (`ps`). */
  readonly positionSide: string;
  /** Position amount, negative when short (`pa`). */
  readonly amount: string;
  /** Entry price (`ep`). */
  readonly entryPrice: string;
  /** Break-even price (`bep`); absent before 2021. */
  readonly breakEvenPrice: string | undefined;
  /** Accumulated realized PnL before fees (`cr`). */
  readonly accumulatedRealized: string | undefined;
  /** Unrealized PnL (`up`). */
  readonly unrealizedProfit: string | undefined;
  /** `cross` or `isolated` (`mt`). */
  readonly marginType: string | undefined;
  /** Isolated wallet (`iw`). */
  readonly isolatedWallet: string | undefined;
  /** Transaction time of the update that set it, ms. */
  readonly updatedAt: number;
}

/** One asset of a spot account, from `outboundAccountPosition`. */
export interface SpotBalance {
  /** `a`. */
  readonly asset: string;
  /** `f`. */
  readonly free: string;
  /** `l`. */
  readonly locked: string;
  /** Time of the account update that set it, ms (`u`). */
  readonly updatedAt: number;
}

/** What every account event carries, futures and spot alike: its venue, time and payload. */
export interface EventBase {
  readonly venue: AccountVenue;
  /** Event time, ms (`E`). */
  readonly eventTime: number;
  /** The payload as decoded (big integers as digit strings). Do not mutate it. */
  readonly raw: unknown;
}

// --- futures events ---------------------------------------------------------------------

/** Balances and positions changed (`ACCOUNT_UPDATE`); lists only what changed. */
export interface AccountUpdateEvent extends EventBase {
  readonly type: 'ACCOUNT_UPDATE';
  readonly venue: 'binance-usdm';
  /** Transaction time, ms (`T`). */
  readonly transactionTime: number;
  /** Why: `ORDER`, `FUNDING_FEE`, `DEPOSIT`, `WITHDRAW`, ... (`a.m`). */
  readonly reason: string;
  readonly balances: readonly FuturesBalance[];
  readonly positions: readonly FuturesPosition[];
}

/** An order changed (`ORDER_TRADE_UPDATE`). */
export interface OrderTradeUpdateEvent extends EventBase {
  readonly type: 'ORDER_TRADE_UPDATE';
  readonly venue: 'binance-usdm';
  readonly transactionTime: number;
  readonly order: FuturesOrderUpdate;
}

/** A position of a margin call (`MARGIN_CALL`'s `p`). */
export interface MarginCallPosition {
  readonly symbol: string;
  readonly positionSide: string;
  readonly amount: string;
  readonly marginType: string;
  readonly isolatedWallet: string | undefined;
  readonly markPrice: string;
  readonly unrealizedProfit: string;
  readonly maintenanceMargin: string;
}

/** Margin ratio too high (`MARGIN_CALL`). */
export interface MarginCallEvent extends EventBase {
  readonly type: 'MARGIN_CALL';
  readonly venue: 'binance-usdm';
  /** Cross wallet balance, only for crossed positions (`cw`). */
  readonly crossWalletBalance: string | undefined;
  readonly positions: readonly MarginCallPosition[];
}

/** The fast, reduced fill notice (`TRADE_LITE`). */
export interface TradeLiteEvent extends EventBase {
  readonly type: 'TRADE_LITE';
  readonly venue: 'binance-usdm';
  readonly transactionTime: number;
  readonly symbol: string;
  readonly orderId: string;
  readonly clientOrderId: string;
  readonly side: 'BUY' | 'SELL';
  /** Original quantity (`q`). */
  readonly quantity: string;
  /** Original price (`p`). */
  readonly price: string;
  readonly lastQuantity: string;
  readonly lastPrice: string;
  readonly tradeId: string;
  readonly isMaker: boolean;
}

/** Leverage or multi-assets mode changed (`ACCOUNT_CONFIG_UPDATE`). */
export interface AccountConfigUpdateEvent extends EventBase {
  readonly type: 'ACCOUNT_CONFIG_UPDATE';
  readonly venue: 'binance-usdm';
  readonly transactionTime: number;
  /** Set when a symbol's leverage changed (`ac`). */
  readonly leverage: { readonly symbol: string; readonly leverage: number } | undefined;
  /** Set when the multi-assets mode changed (`ai.j`). */
  readonly multiAssetsMode: boolean | undefined;
}

/** A trading strategy (`STRATEGY_UPDATE`) or grid (`GRID_UPDATE`) changed. */
export interface StrategyUpdateEvent extends EventBase {
  readonly type: 'STRATEGY_UPDATE' | 'GRID_UPDATE';
  readonly venue: 'binance-usdm';
  readonly transactionTime: number;
  /** Strategy id (`si`). */
  readonly strategyId: string;
  /** Strategy type (`st`). */
  readonly strategyType: string;
  /** Strategy status (`ss`). */
  readonly strategyStatus: string;
  readonly symbol: string;
  /** Update time, ms (`ut`). */
  readonly updateTime: number | undefined;
  /** The `su` or `gu` object as decoded, for the fields of each kind. */
  readonly detail: unknown;
}

/** A triggered conditional order was rejected (`CONDITIONAL_ORDER_TRIGGER_REJECT`). */
export interface ConditionalOrderRejectEvent extends EventBase {
  readonly type: 'CONDITIONAL_ORDER_TRIGGER_REJECT';
  readonly venue: 'binance-usdm';
  readonly transactionTime: number;
  readonly symbol: string;
  readonly orderId: string;
  /** The venue's reason text (`or.r`). */
  readonly reason: string;
}

/**
 * A conditional order of the Algo Service (`ALGO_UPDATE`, since 2025): created, triggered,
 * finished, canceled, rejected or expired. Once triggered it has an order in the matching
 * engine (`orderId`), whose fills come as `ORDER_TRADE_UPDATE`.
 */
export interface AlgoUpdateEvent extends EventBase {
  readonly type: 'ALGO_UPDATE';
  readonly venue: 'binance-usdm';
  readonly transactionTime: number;
  readonly symbol: string;
  /** Exact decimal text. */
  readonly algoId: string;
  readonly clientAlgoId: string;
  /** `CONDITIONAL` today. */
  readonly algoType: string;
  /** `STOP_MARKET`, `TAKE_PROFIT`, `TRAILING_STOP_MARKET`, ... */
  readonly orderType: string;
  readonly side: 'BUY' | 'SELL';
  readonly positionSide: string | undefined;
  readonly timeInForce: string | undefined;
  readonly quantity: string;
  /** `NEW`, `TRIGGERING`, `TRIGGERED`, `FINISHED`, `CANCELED`, `REJECTED`, `EXPIRED`. */
  readonly status: string;
  readonly triggerPrice: string | undefined;
  readonly price: string | undefined;
  /** The matching-engine order once triggered; undefined before. */
  readonly orderId: string | undefined;
  /** Average fill price and executed quantity in the matching engine, once triggered. */
  readonly averagePrice: string | undefined;
  readonly executedQuantity: string | undefined;
}

/**
 * The listen key expired (`listenKeyExpired`). The feed gets a new key and reconnects by
 * itself; the event is passed on so that an application can see it. The key is not included.
 */
export interface ListenKeyExpiredEvent extends EventBase {
  readonly type: 'listenKeyExpired';
  readonly venue: 'binance-usdm';
}

// --- spot events ------------------------------------------------------------------------

/** Balances that changed (`outboundAccountPosition`), as absolute free and locked amounts. */
export interface OutboundAccountPositionEvent extends EventBase {
  readonly type: 'outboundAccountPosition';
  readonly venue: 'binance-spot';
  /** Time of the last account update, ms (`u`). */
  readonly lastUpdateTime: number;
  readonly balances: readonly SpotBalance[];
}

/** A deposit, withdrawal or transfer (`balanceUpdate`), as a delta. */
export interface BalanceUpdateEvent extends EventBase {
  readonly type: 'balanceUpdate';
  readonly venue: 'binance-spot';
  readonly asset: string;
  /** Signed change (`d`). */
  readonly delta: string;
  /** Clear time, ms (`T`). */
  readonly clearTime: number;
}

/** Funds locked or released outside spot trading (`externalLockUpdate`), as a delta. */
export interface ExternalLockUpdateEvent extends EventBase {
  readonly type: 'externalLockUpdate';
  readonly venue: 'binance-spot';
  readonly asset: string;
  readonly delta: string;
  readonly transactionTime: number;
}

/** An order changed (`executionReport`). */
export interface ExecutionReportEvent extends EventBase {
  readonly type: 'executionReport';
  readonly venue: 'binance-spot';
  readonly order: SpotOrderUpdate;
}

/**
 * The subscription ended (`eventStreamTerminated`: logout, or the session expired). The feed
 * subscribes again by itself; the event is passed on so that an application can see it.
 */
export interface EventStreamTerminatedEvent extends EventBase {
  readonly type: 'eventStreamTerminated';
  readonly venue: 'binance-spot';
}

/** An event type this version does not map (`listStatus`, ones added later): passed on as is. */
export interface OtherAccountEvent extends EventBase {
  readonly type: 'other';
  /** The venue's event name (`e`). */
  readonly eventType: string;
}

/** Every USD-M futures user-data event. */
export type FuturesAccountEvent =
  | AccountUpdateEvent
  | OrderTradeUpdateEvent
  | MarginCallEvent
  | TradeLiteEvent
  | AccountConfigUpdateEvent
  | StrategyUpdateEvent
  | ConditionalOrderRejectEvent
  | AlgoUpdateEvent
  | ListenKeyExpiredEvent
  | (OtherAccountEvent & { readonly venue: 'binance-usdm' });

/** Every spot user-data event. */
export type SpotAccountEvent =
  | OutboundAccountPositionEvent
  | BalanceUpdateEvent
  | ExternalLockUpdateEvent
  | ExecutionReportEvent
  | EventStreamTerminatedEvent
  | (OtherAccountEvent & { readonly venue: 'binance-spot' });
