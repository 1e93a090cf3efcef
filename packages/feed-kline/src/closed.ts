import { requirePool, type StreamPool } from '@unifeed/core';
import { Observable, type OperatorFunction } from 'rxjs';
import type { KlineEvent } from './event.js';
import { eachCandle } from './operator-input.js';
import { closedFlagError, klines, requireClosedFlag, type KlineParams } from './plugin.js';

/**
 * Only finished candles, each exactly once. Closure comes from `isClosed` (`x`), never from
 * the clock: Binance sends the final update 0.2 to 2.4 s after the close time, sometimes
 * after the next candle's first update. A closed candle whose open time is not after the last
 * closed one of its (venue, stream) is a repeat (reconnect, rotation overlap, replay) and is
 * dropped. Memory: one number per (venue, stream), whatever the run time. Errors with
 * `UNIFEED_INVALID_STREAM` on the first candle of a venue whose candles never say that they
 * closed (Upbit).
 */
export function onlyClosed(): OperatorFunction<KlineEvent, KlineEvent> {
  return (source) =>
    new Observable<KlineEvent>((subscriber) => {
      // venue -> stream -> open time of the last closed candle emitted
      const last = new Map<string, Map<string, number>>();
      return source.subscribe({
        next: eachCandle(subscriber, (e) => {
          let byStream = last.get(e.venue);
          if (byStream === undefined) {
            // Such a venue's candles would all be dropped: silence forever, and nothing to say why.
            const refused = closedFlagError(e.venue);
            if (refused !== undefined) {
              subscriber.error(refused);
              return;
            }
            last.set(e.venue, (byStream = new Map()));
          }
          if (!e.isClosed) return;
          const prev = byStream.get(e.stream);
          if (prev !== undefined && e.openTime <= prev) return;
          byStream.set(e.stream, e.openTime);
          subscriber.next(e);
        }),
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}

/**
 * Finished candles of `params` on `pool`, exactly once each per (symbol, interval, open time),
 * across reconnects and rotations. A candle that closed while the connection was down is not
 * invented: the pool reports that hole on `gaps$` (backfill from REST if you need it).
 * `UNIFEED_INVALID_STREAM` at the call on a venue whose candles never say that they closed
 * (Upbit).
 */
export function closedKlines(pool: StreamPool, params: KlineParams): Observable<KlineEvent> {
  requirePool(pool);
  requireClosedFlag(pool.venue);
  return klines(pool, params).pipe(onlyClosed());
}
