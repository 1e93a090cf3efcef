import { ErrorCode, UnifeedError, isCodedError, requireObject } from '@unifeed/core';
import type { Subscriber } from 'rxjs';
import type { KlineEvent } from './event.js';

/**
 * `handle` for each candle an operator receives, a throw (a candle that is no object, one the
 * series refuses) handed to `subscriber` as its error. Thrown inside an rxjs `next`, it would
 * reach no error handler: rxjs rethrows it on a timer, an uncaught exception that ends the
 * process of a user who handles errors (a REST history candle merged into a live stream).
 */
export function eachCandle(
  subscriber: Subscriber<unknown>,
  handle: (candle: KlineEvent) => void,
): (candle: KlineEvent) => void {
  return (candle) => {
    try {
      handle(requireObject('a candle', candle));
    } catch (err) {
      // Ours are coded; anything else is a candle of the wrong shape: said so, with a code.
      subscriber.error(
        isCodedError(err)
          ? err
          : new UnifeedError(ErrorCode.InvalidOption, 'a candle must be a KlineEvent'),
      );
    }
  };
}
