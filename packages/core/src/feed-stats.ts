import { LatencyHistogram } from './histogram.js';
import type { UnifiedFeedStats } from './unified-feed.js';

/**
 * The stats of a feed that took over from earlier ones (an account's connection after a
 * listen-key change): the counters are the sums, so that totals never go down when a feed is
 * replaced; what describes the present (state, attempts, queue depth, the last message) is
 * the current feed's.
 */
export function addFeedStats(
  earlier: UnifiedFeedStats,
  current: UnifiedFeedStats,
): UnifiedFeedStats {
  const lag = new LatencyHistogram();
  lag.absorb(earlier.lag);
  lag.absorb(current.lag);
  const dropsByKey = { ...earlier.queue.dropsByKey };
  for (const [key, n] of Object.entries(current.queue.dropsByKey)) {
    dropsByKey[key] = (dropsByKey[key] ?? 0) + n;
  }
  return {
    ...current,
    connections: earlier.connections + current.connections,
    reconnects: earlier.reconnects + current.reconnects,
    messages: earlier.messages + current.messages,
    bytes: earlier.bytes + current.bytes,
    decodeErrors: earlier.decodeErrors + current.decodeErrors,
    oversizedFrames: earlier.oversizedFrames + current.oversizedFrames,
    pingsSent: earlier.pingsSent + current.pingsSent,
    stales: earlier.stales + current.stales,
    queue: {
      ...current.queue,
      maxDepth: Math.max(earlier.queue.maxDepth, current.queue.maxDepth),
      dropped: earlier.queue.dropped + current.queue.dropped,
      conflated: earlier.queue.conflated + current.queue.conflated,
      pauses: earlier.queue.pauses + current.queue.pauses,
      dropsByKey,
    },
    lag: lag.summary(),
  };
}
