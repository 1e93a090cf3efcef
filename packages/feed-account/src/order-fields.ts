import { asDecimal, asId, asText, optionalDecimal, type Payload } from '@unifeed/core/fields';
import type { OrderUpdate } from './events.js';
import { anyText, asSide, optionalId, optionalText } from './fields.js';

/** The order fields futures (`ORDER_TRADE_UPDATE.o`) and spot (`executionReport`) name alike. */
export type SharedOrderFields = Omit<
  OrderUpdate,
  'venue' | 'stopPrice' | 'isMaker' | 'eventTime' | 'transactionTime'
>;

/**
 * Read the fields both venues' order updates share, under the same keys: `s i c S o f q p x X
 * l L z n N t`. Ids exact, amounts as received, the venue's "no trade" sentinels (`noId`)
 * undefined.
 */
export function sharedOrderFields(
  o: Payload,
  at: string,
  noId: readonly string[],
): SharedOrderFields {
  return {
    symbol: asText(o.s, 's', at),
    orderId: asId(o.i, 'i', at),
    clientOrderId: anyText(o.c, 'c', at),
    side: asSide(o.S, at),
    orderType: asText(o.o, 'o', at),
    timeInForce: asText(o.f, 'f', at),
    quantity: asDecimal(o.q, 'q', at),
    price: asDecimal(o.p, 'p', at),
    executionType: asText(o.x, 'x', at),
    status: asText(o.X, 'X', at),
    lastQuantity: asDecimal(o.l, 'l', at),
    lastPrice: asDecimal(o.L, 'L', at),
    filledQuantity: asDecimal(o.z, 'z', at),
    commission: optionalDecimal(o, 'n', at),
    commissionAsset: optionalText(o, 'N', at),
    tradeId: optionalId(o, 't', at, noId),
  };
}
