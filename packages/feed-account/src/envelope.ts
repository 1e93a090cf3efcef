import { object, optionalInteger, text, type Payload } from '@unifeed/core/fields';
import type { AccountVenue, OtherAccountEvent } from './events.js';

/** A user-data payload opened: the object, its event type `e`, and what errors call it. */
export interface Envelope {
  readonly p: Payload;
  readonly type: string;
  /**
   * `user-data/<type>`: parse errors name this instead of a stream, because the futures stream
   * name is the listen key, a secret.
   */
  readonly at: string;
}

/** Open a user-data payload; `UNIFEED_PARSE` unless it is an object with a string `e`. */
export function envelope(payload: unknown): Envelope {
  const p = object(payload, 'user-data payload', 'user-data');
  const type = text(p, 'e', 'user-data');
  return { p, type, at: `user-data/${type}` };
}

/**
 * The event name `e` of a payload, if it has one: for a frame that did not parse, whose name
 * alone still says what happened (a listen key or a subscription ended).
 */
export function eventName(payload: unknown): unknown {
  return typeof payload === 'object' && payload !== null
    ? (payload as { e?: unknown }).e
    : undefined;
}

/** An event type this version does not map, passed on with its name and time. */
export function otherEvent<V extends AccountVenue>(
  venue: V,
  { p, type, at }: Envelope,
  raw: unknown,
): OtherAccountEvent & { readonly venue: V } {
  return {
    type: 'other',
    venue,
    eventType: type,
    eventTime: optionalInteger(p, 'E', at) ?? 0,
    raw,
  };
}
