import type { FuturesAccountEvent, OrderUpdate, SpotAccountEvent } from './events.js';

/**
 * What tells one order update from every other update of the same order that could arrive
 * next to it. The venue gives no id per update, so the key is built from fields that must
 * change between two real updates:
 * - `symbol` and `orderId`: order ids are unique per symbol only;
 * - `executionType` and `status`: NEW, CANCELED, EXPIRED happen once per order, and a fill
 *   (TRADE) and the cancel or expiry right after it in the same millisecond differ here;
 * - `tradeId` and `filledQuantity`: every fill has its own trade id, and the cumulative filled
 *   quantity only grows, so two fills of one order never share both;
 * - `transactionTime` (`T`) and `price`, `quantity`: amendments (AMENDMENT, status NEW) repeat
 *   everything above; each one changes the price or the quantity (the venue refuses an
 *   amendment that changes neither), so it differs from the update just before it.
 * Event time (`E`) is left out on purpose: a venue or proxy replaying a frame may stamp it
 * anew, and it adds nothing the transaction time does not.
 */
export function orderUpdateIdentity(o: OrderUpdate): string {
  return [
    o.symbol,
    o.orderId,
    o.executionType,
    o.status,
    o.tradeId ?? '-',
    o.filledQuantity,
    o.transactionTime,
    o.price,
    o.quantity,
  ].join('|');
}

/**
 * Identity of a futures event for repeat suppression, or undefined when the event has none and
 * must always pass. `ACCOUNT_UPDATE` carries absolute balances and positions: the same
 * transaction time, reason, balances and positions twice in a row tell nothing new, so its
 * content is its identity. Events without such fields (margin calls, strategy and algo
 * updates, listen-key expiry, unknown types) pass as they come.
 */
export function futuresEventIdentity(e: FuturesAccountEvent): string | undefined {
  switch (e.type) {
    case 'ORDER_TRADE_UPDATE':
      return `o|${orderUpdateIdentity(e.order)}`;
    case 'TRADE_LITE':
      // One TRADE_LITE per fill: the trade id is unique per symbol.
      return `l|${e.symbol}|${e.orderId}|${e.tradeId}|${e.transactionTime}`;
    case 'ACCOUNT_UPDATE':
      return `a|${e.transactionTime}|${e.reason}|${JSON.stringify(e.balances)}|${JSON.stringify(e.positions)}`;
    default:
      return undefined;
  }
}

/**
 * Identity of a spot event, as {@link futuresEventIdentity}. An execution report adds the
 * prevented match id: under STP `DECREMENT` one resting order can get two `TRADE_PREVENTION`
 * reports in one millisecond that differ in nothing else. `outboundAccountPosition` holds
 * absolute amounts, so its content is its identity; `balanceUpdate` and `externalLockUpdate`
 * are deltas, and two equal deposits in one millisecond are two real events: they always pass.
 */
export function spotEventIdentity(e: SpotAccountEvent): string | undefined {
  switch (e.type) {
    case 'executionReport':
      return `o|${orderUpdateIdentity(e.order)}|${e.order.preventedMatchId ?? '-'}`;
    case 'outboundAccountPosition':
      return `p|${e.lastUpdateTime}|${JSON.stringify(e.balances)}`;
    default:
      return undefined;
  }
}

/**
 * Drops an event that repeats the one parsed just before it (a venue or proxy sending a frame
 * twice). Fed parsed events only: a frame that fails to parse never becomes the one to compare
 * with, so a malformed frame that repeats an identity is reported as a parse error and never
 * hides the good frame after it. Only back-to-back repeats: it keeps one identity, not a
 * history, so its memory is constant and a real update is never taken for an older one.
 */
export class RepeatFilter<E> {
  readonly #identity: (event: E) => string | undefined;
  #last: string | undefined;

  constructor(identity: (event: E) => string | undefined) {
    this.#identity = identity;
  }

  /** True when `event` repeats the event passed just before it. */
  repeats(event: E): boolean {
    const id = this.#identity(event);
    if (id !== undefined && id === this.#last) return true;
    this.#last = id;
    return false;
  }
}
