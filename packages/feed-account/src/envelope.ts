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

/**
 * Longest event name put in a counter key (`stats().byType`, a metric label) or an error's
 * stream. Binance's are under 40 characters; the venue's string could be megabytes.
 */
export const MAX_EVENT_NAME_LENGTH = 64;

/**
 * A venue's event name as counters and errors show it: cut at {@link MAX_EVENT_NAME_LENGTH},
 * as the venue's error messages are cut, so that no frame sets the size of a label or a log
 * line.
 */
export function eventLabel(name: string): string {
  return name.length > MAX_EVENT_NAME_LENGTH ? name.slice(0, MAX_EVENT_NAME_LENGTH) : name;
}

/** Open a user-data payload; `UNIFEED_PARSE` unless it is an object with a string `e`. */
export function envelope(payload: unknown): Envelope {
  const p = object(payload, 'user-data payload', 'user-data');
  const type = text(p, 'e', 'user-data');
  return { p, type, at: `user-data/${eventLabel(type)}` };
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
