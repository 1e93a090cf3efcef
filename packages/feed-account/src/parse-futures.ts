import {
  asDecimal,
  asFlag,
  asId,
  decimal,
  integer,
  object,
  optionalDecimal,
  optionalFlag,
  optionalInteger,
  text,
  type Payload,
} from '@unifeed/core/fields';
import type {
  AccountConfigUpdateEvent,
  AccountUpdateEvent,
  AlgoUpdateEvent,
  ConditionalOrderRejectEvent,
  FuturesAccountEvent,
  FuturesBalance,
  FuturesOrderUpdate,
  FuturesPosition,
  MarginCallEvent,
  MarginCallPosition,
  OrderTradeUpdateEvent,
  StrategyUpdateEvent,
  TradeLiteEvent,
} from './events.js';
import { envelope, otherEvent } from './envelope.js';
import { sharedOrderFields } from './order-fields.js';
import { anyText, asSide, FUTURES_NO_ID, list, optionalText } from './fields.js';

const VENUE = 'binance-usdm';

/**
 * Parse one USD-M futures user-data payload (decoded with `parseLossless`, so ids beyond 2^53
 * are digit strings). Throws `UNIFEED_PARSE` naming the event and field on a missing or
 * mistyped required field; tolerates missing optional fields and ignores unknown ones. An event
 * type it does not know becomes an `other` event. Pure, for replaying recorded data.
 */
export function parseFuturesEvent(payload: unknown): FuturesAccountEvent {
  const env = envelope(payload);
  const { p, type, at } = env;
  switch (type) {
    case 'ACCOUNT_UPDATE':
      return accountUpdate(p, payload, at);
    case 'ORDER_TRADE_UPDATE':
      return orderTradeUpdate(p, payload, at);
    case 'MARGIN_CALL':
      return marginCall(p, payload, at);
    case 'TRADE_LITE':
      return tradeLite(p, payload, at);
    case 'ACCOUNT_CONFIG_UPDATE':
      return accountConfig(p, payload, at);
    case 'STRATEGY_UPDATE':
      return strategy(p, payload, at, 'STRATEGY_UPDATE', 'su');
    case 'GRID_UPDATE':
      return strategy(p, payload, at, 'GRID_UPDATE', 'gu');
    case 'CONDITIONAL_ORDER_TRIGGER_REJECT':
      return conditionalReject(p, payload, at);
    case 'ALGO_UPDATE':
      return algoUpdate(p, payload, at);
    case 'listenKeyExpired':
      // `E` arrives as a string here (captured traffic); `integer` accepts both. The payload
      // names the listen key, a secret even when dead: `raw` leaves it out, so that a user who
      // logs every event does not log it.
      return {
        type,
        venue: VENUE,
        eventTime: integer(p, 'E', at),
        raw: { ...p, listenKey: '[redacted]' },
      };
    default:
      return otherEvent(VENUE, env, payload);
  }
}

function accountUpdate(p: Payload, raw: unknown, at: string): AccountUpdateEvent {
  const a = object(p.a, "field 'a'", at);
  const transactionTime = integer(p, 'T', at);
  return {
    type: 'ACCOUNT_UPDATE',
    venue: VENUE,
    eventTime: integer(p, 'E', at),
    transactionTime,
    reason: text(a, 'm', at),
    balances: list(a, 'B', at, true).map((b) =>
      balance(object(b, "an entry of 'B'", at), transactionTime, at),
    ),
    positions: list(a, 'P', at, true).map((x) =>
      position(object(x, "an entry of 'P'", at), transactionTime, at),
    ),
    raw,
  };
}

function balance(b: Payload, updatedAt: number, at: string): FuturesBalance {
  return {
    asset: text(b, 'a', at),
    walletBalance: decimal(b, 'wb', at),
    crossWalletBalance: decimal(b, 'cw', at),
    balanceChange: optionalDecimal(b, 'bc', at),
    updatedAt,
  };
}

function position(x: Payload, updatedAt: number, at: string): FuturesPosition {
  return {
    symbol: text(x, 's', at),
    // One-way mode is `BOTH`; an old payload without `ps` can only be one-way.
    positionSide: optionalText(x, 'ps', at) ?? 'BOTH',
    amount: decimal(x, 'pa', at),
    entryPrice: decimal(x, 'ep', at),
    breakEvenPrice: optionalDecimal(x, 'bep', at),
    accumulatedRealized: optionalDecimal(x, 'cr', at),
    unrealizedProfit: optionalDecimal(x, 'up', at),
    marginType: optionalText(x, 'mt', at),
    isolatedWallet: optionalDecimal(x, 'iw', at),
    updatedAt,
  };
}

function orderTradeUpdate(p: Payload, raw: unknown, at: string): OrderTradeUpdateEvent {
  const o = object(p.o, "field 'o'", at);
  const eventTime = integer(p, 'E', at);
  const transactionTime = integer(p, 'T', at);
  const order: FuturesOrderUpdate = {
    venue: VENUE,
    ...sharedOrderFields(o, at, FUTURES_NO_ID),
    stopPrice: optionalDecimal(o, 'sp', at),
    // Sent on every order update: without it a fill would pass for a taker's, fees and all.
    isMaker: asFlag(o.m, 'm', at),
    eventTime,
    // The order's own trade time (`o.T`) is the better one; the envelope's is close.
    transactionTime: optionalInteger(o, 'T', at) ?? transactionTime,
    averagePrice: asDecimal(o.ap, 'ap', at),
    positionSide: optionalText(o, 'ps', at),
    reduceOnly: optionalFlag(o, 'R', at),
    closePosition: optionalFlag(o, 'cp', at),
    realizedProfit: optionalDecimal(o, 'rp', at),
    originalOrderType: optionalText(o, 'ot', at),
    workingType: optionalText(o, 'wt', at),
    bidNotional: optionalDecimal(o, 'b', at),
    askNotional: optionalDecimal(o, 'a', at),
    activationPrice: optionalDecimal(o, 'AP', at),
    callbackRate: optionalDecimal(o, 'cr', at),
    priceProtect: optionalFlag(o, 'pP', at),
    selfTradePrevention: optionalText(o, 'V', at),
    priceMatch: optionalText(o, 'pm', at),
    // 0 is the venue's "no GTD time".
    goodTillDate: optionalInteger(o, 'gtd', at) || undefined,
    // "0" is the venue's "None", sent on every live order's update.
    expiryReason: noneAsUndefined(optionalText(o, 'er', at)),
  };
  return { type: 'ORDER_TRADE_UPDATE', venue: VENUE, eventTime, transactionTime, order, raw };
}

function marginCall(p: Payload, raw: unknown, at: string): MarginCallEvent {
  return {
    type: 'MARGIN_CALL',
    venue: VENUE,
    eventTime: integer(p, 'E', at),
    crossWalletBalance: optionalDecimal(p, 'cw', at),
    positions: list(p, 'p', at, true).map((x): MarginCallPosition => {
      const m = object(x, "an entry of 'p'", at);
      return {
        symbol: text(m, 's', at),
        positionSide: optionalText(m, 'ps', at) ?? 'BOTH',
        amount: decimal(m, 'pa', at),
        marginType: text(m, 'mt', at),
        isolatedWallet: optionalDecimal(m, 'iw', at),
        markPrice: decimal(m, 'mp', at),
        unrealizedProfit: decimal(m, 'up', at),
        maintenanceMargin: decimal(m, 'mm', at),
      };
    }),
    raw,
  };
}

function tradeLite(p: Payload, raw: unknown, at: string): TradeLiteEvent {
  return {
    type: 'TRADE_LITE',
    venue: VENUE,
    eventTime: integer(p, 'E', at),
    transactionTime: integer(p, 'T', at),
    symbol: text(p, 's', at),
    orderId: asId(p.i, 'i', at),
    clientOrderId: anyText(p.c, 'c', at),
    side: asSide(p.S, at),
    quantity: decimal(p, 'q', at),
    price: decimal(p, 'p', at),
    lastQuantity: decimal(p, 'l', at),
    lastPrice: decimal(p, 'L', at),
    tradeId: asId(p.t, 't', at),
    isMaker: asFlag(p.m, 'm', at),
    raw,
  };
}

function accountConfig(p: Payload, raw: unknown, at: string): AccountConfigUpdateEvent {
  const ac = p.ac === undefined || p.ac === null ? undefined : object(p.ac, "field 'ac'", at);
  const ai = p.ai === undefined || p.ai === null ? undefined : object(p.ai, "field 'ai'", at);
  return {
    type: 'ACCOUNT_CONFIG_UPDATE',
    venue: VENUE,
    eventTime: integer(p, 'E', at),
    transactionTime: integer(p, 'T', at),
    leverage:
      ac === undefined ? undefined : { symbol: text(ac, 's', at), leverage: integer(ac, 'l', at) },
    multiAssetsMode: ai === undefined ? undefined : optionalFlag(ai, 'j', at),
    raw,
  };
}

function strategy(
  p: Payload,
  raw: unknown,
  at: string,
  type: 'STRATEGY_UPDATE' | 'GRID_UPDATE',
  key: 'su' | 'gu',
): StrategyUpdateEvent {
  const s = object(p[key], `field '${key}'`, at);
  return {
    type,
    venue: VENUE,
    eventTime: integer(p, 'E', at),
    transactionTime: integer(p, 'T', at),
    strategyId: asId(s.si, 'si', at),
    strategyType: text(s, 'st', at),
    strategyStatus: text(s, 'ss', at),
    symbol: text(s, 's', at),
    updateTime: optionalInteger(s, 'ut', at),
    detail: s,
    raw,
  };
}

function algoUpdate(p: Payload, raw: unknown, at: string): AlgoUpdateEvent {
  const o = object(p.o, "field 'o'", at);
  // `ai` is "" until the order is triggered; the fills' fields only appear after that.
  const ai = o.ai;
  return {
    type: 'ALGO_UPDATE',
    venue: VENUE,
    eventTime: integer(p, 'E', at),
    transactionTime: integer(p, 'T', at),
    symbol: text(o, 's', at),
    algoId: asId(o.aid, 'aid', at),
    clientAlgoId: anyText(o.caid, 'caid', at),
    algoType: text(o, 'at', at),
    orderType: text(o, 'o', at),
    side: asSide(o.S, at),
    positionSide: optionalText(o, 'ps', at),
    timeInForce: optionalText(o, 'f', at),
    quantity: decimal(o, 'q', at),
    status: text(o, 'X', at),
    triggerPrice: optionalDecimal(o, 'tp', at),
    price: optionalDecimal(o, 'p', at),
    orderId: ai === undefined || ai === null || ai === '' ? undefined : asId(ai, 'ai', at),
    averagePrice: optionalDecimal(o, 'ap', at),
    executedQuantity: optionalDecimal(o, 'aq', at),
    raw,
  };
}

function conditionalReject(p: Payload, raw: unknown, at: string): ConditionalOrderRejectEvent {
  const r = object(p.or, "field 'or'", at);
  return {
    type: 'CONDITIONAL_ORDER_TRIGGER_REJECT',
    venue: VENUE,
    eventTime: integer(p, 'E', at),
    transactionTime: integer(p, 'T', at),
    symbol: text(r, 's', at),
    orderId: asId(r.i, 'i', at),
    reason: anyText(r.r, 'r', at),
    raw,
  };
}

/** The venue's "0" for no value (`er`: no expiry reason) as `undefined`. */
function noneAsUndefined(text: string | undefined): string | undefined {
  return text === '0' ? undefined : text;
}
