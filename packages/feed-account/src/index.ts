/**
 * @unifeed/feed-account: Binance user data. USD-M futures over a listen key that never
 * silently expires (`userData`), spot over the WebSocket API (`spotUserData`); typed events,
 * order updates, and balances and positions kept from the events.
 *
 * ```ts
 * const account = userData({ apiKey });
 * account.orders$.subscribe({
 *   next: (o) => console.log(o.symbol, o.orderId, o.status),
 *   // A fatal error (UNIFEED_AUTH) ends it: unhandled, rxjs rethrows it and the process exits.
 *   error: (err) => console.error('account feed ended:', err),
 * });
 * await account.start();
 * ```
 */
export {
  userData,
  FuturesUserData,
  type FuturesUserDataOptions,
  type FuturesUserDataStats,
} from './futures-user-data.js';
export {
  spotUserData,
  SpotUserData,
  type SpotUserDataOptions,
  type SpotUserDataStats,
} from './spot-user-data.js';
export type { AccountConnectionOptions, AccountFeedOptions } from './connection-options.js';
export type { AccountEventCounts } from './account-output.js';
export type { ListenKeyStats } from './listen-key.js';
export { AccountError, AccountErrorCode, isAccountError, type FeedError } from './errors.js';
export type { AccountFeedState, AccountGapReason, AccountStatus, RenewReason } from './status.js';
export type {
  AccountConfigUpdateEvent,
  AccountUpdateEvent,
  AccountVenue,
  BalanceUpdateEvent,
  AlgoUpdateEvent,
  ConditionalOrderRejectEvent,
  EventBase,
  EventStreamTerminatedEvent,
  ExecutionReportEvent,
  ExternalLockUpdateEvent,
  FuturesAccountEvent,
  FuturesBalance,
  FuturesOrderUpdate,
  FuturesPosition,
  ListenKeyExpiredEvent,
  MarginCallEvent,
  MarginCallPosition,
  OrderTradeUpdateEvent,
  OrderUpdate,
  OtherAccountEvent,
  OutboundAccountPositionEvent,
  SpotAccountEvent,
  SpotBalance,
  SpotOrderUpdate,
  StrategyUpdateEvent,
  TradeLiteEvent,
} from './events.js';
export { parseFuturesEvent } from './parse-futures.js';
export { parseSpotEvent } from './parse-spot.js';
export { parseLossless } from '@unifeed/core';
export { signParams } from './signature.js';
