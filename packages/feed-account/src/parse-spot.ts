import {
  asFlag,
  asInteger,
  asUnsignedDecimal,
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
  ExecutionReportEvent,
  OutboundAccountPositionEvent,
  SpotAccountEvent,
  SpotBalance,
  SpotOrderUpdate,
} from './events.js';
import { envelope, otherEvent } from './envelope.js';
import { sharedOrderFields } from './order-fields.js';
import { list, optionalId, optionalText, SPOT_NO_ID } from './fields.js';

const VENUE = 'binance-spot';

/**
 * Parse one spot user-data event (the `event` of a WebSocket API `{subscriptionId, event}`
 * frame, decoded with `parseLossless`). Same rules as `parseFuturesEvent`: required fields
 * checked, optional ones tolerated, unknown ones ignored, unknown event types passed on as
 * `other`. Pure, for replaying recorded data.
 */
export function parseSpotEvent(payload: unknown): SpotAccountEvent {
  const env = envelope(payload);
  const { p, type, at } = env;
  switch (type) {
    case 'outboundAccountPosition':
      return accountPosition(p, payload, at);
    case 'balanceUpdate':
    case 'externalLockUpdate': {
      const fields = {
        venue: VENUE,
        eventTime: integer(p, 'E', at),
        asset: text(p, 'a', at),
        delta: decimal(p, 'd', at),
        raw: payload,
      } as const;
      return type === 'balanceUpdate'
        ? { type, ...fields, clearTime: integer(p, 'T', at) }
        : { type, ...fields, transactionTime: integer(p, 'T', at) };
    }
    case 'executionReport':
      return executionReport(p, payload, at);
    case 'eventStreamTerminated':
      return { type, venue: VENUE, eventTime: integer(p, 'E', at), raw: payload };
    default:
      return otherEvent(VENUE, env, payload);
  }
}

function accountPosition(p: Payload, raw: unknown, at: string): OutboundAccountPositionEvent {
  const lastUpdateTime = integer(p, 'u', at);
  return {
    type: 'outboundAccountPosition',
    venue: VENUE,
    eventTime: integer(p, 'E', at),
    lastUpdateTime,
    balances: list(p, 'B', at).map((x): SpotBalance => {
      const b = object(x, "an entry of 'B'", at);
      return {
        asset: text(b, 'a', at),
        // A spot balance is never below zero: a minus means a broken frame.
        free: asUnsignedDecimal(b.f, 'f', at),
        locked: asUnsignedDecimal(b.l, 'l', at),
        updatedAt: lastUpdateTime,
      };
    }),
    raw,
  };
}

function executionReport(p: Payload, raw: unknown, at: string): ExecutionReportEvent {
  const eventTime = asInteger(p.E, 'E', at);
  const order: SpotOrderUpdate = {
    venue: VENUE,
    ...sharedOrderFields(p, at, SPOT_NO_ID),
    stopPrice: optionalDecimal(p, 'P', at),
    isMaker: asFlag(p.m, 'm', at),
    eventTime,
    transactionTime: asInteger(p.T, 'T', at),
    orderListId: optionalId(p, 'g', at, SPOT_NO_ID),
    originalClientOrderId: optionalText(p, 'C', at),
    rejectReason: optionalText(p, 'r', at),
    isOnBook: optionalFlag(p, 'w', at),
    creationTime: optionalInteger(p, 'O', at),
    cumulativeQuoteQuantity: optionalDecimal(p, 'Z', at),
    lastQuoteQuantity: optionalDecimal(p, 'Y', at),
    quoteOrderQuantity: optionalDecimal(p, 'Q', at),
    icebergQuantity: optionalDecimal(p, 'F', at),
    workingTime: optionalInteger(p, 'W', at),
    selfTradePrevention: optionalText(p, 'V', at),
    preventedMatchId: optionalId(p, 'v', at, SPOT_NO_ID),
  };
  return { type: 'executionReport', venue: VENUE, eventTime, order, raw };
}
