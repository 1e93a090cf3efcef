import {
  LatencyHistogram,
  type PoolConnectionStats,
  type RestClientStats,
  type StreamPoolStats,
  type UnifiedFeedStats,
} from '@unifeed/core';
import type { AccountStatsInput, BookStatsInput } from '../src/index.js';

/** A latency summary of these samples (ms). */
export function latency(...samples: number[]) {
  const h = new LatencyHistogram();
  for (const ms of samples) h.record(ms);
  return h.summary();
}

export function connection(over: Partial<PoolConnectionStats> = {}): PoolConnectionStats {
  return {
    id: 1,
    group: 'market',
    role: 'active',
    state: 'open',
    streams: 200,
    live: 200,
    messagesPerSecond: 800,
    bytesPerSecond: 120_000,
    reconnects: 0,
    queueDepth: 0,
    queueDropped: 0,
    queueConflated: 0,
    decodeErrors: 0,
    stales: 0,
    lagP99Ms: 2,
    ...over,
  };
}

/** A pool's stats, made to be changed in place by a test. */
export function poolStats(over: Partial<StreamPoolStats> = {}): StreamPoolStats {
  return {
    venue: 'binance-usdm',
    streams: 200,
    subscribers: 210,
    connections: 1,
    streamsPerConnection: [200],
    messages: 0,
    bytes: 0,
    messagesPerSecond: 0,
    bytesPerSecond: 0,
    reconnects: 0,
    gaps: 0,
    rejected: 0,
    parseErrors: 0,
    decodeErrors: 0,
    staleResubscribes: 0,
    rotations: 0,
    unrouted: 0,
    unexpected: 0,
    duplicatesSuppressed: 0,
    subscribeLatency: latency(),
    queue: { depth: 0, maxDepth: 0, dropped: 0, conflated: 0 },
    lag: latency(),
    lagP50Ms: 0,
    lagP99Ms: 0,
    perConnection: [connection()],
    ...over,
  };
}

export function bookStats(over: Partial<BookStatsInput> = {}): BookStatsInput {
  return {
    book: 'btcusdt@depth@100ms',
    symbol: 'BTCUSDT',
    state: 'live',
    lastUpdateId: 1000,
    gaps: 0,
    streamGaps: 0,
    resyncs: 0,
    crossed: 0,
    shallow: 0,
    bufferOverflows: 0,
    duplicates: 0,
    updatesApplied: 0,
    snapshots: 1,
    staleSnapshots: 0,
    snapshotFailures: 0,
    snapshotLatency: latency(40),
    bidLevels: 1000,
    askLevels: 999,
    buffered: 0,
    ...over,
  };
}

export function feedStats(over: Partial<UnifiedFeedStats> = {}): UnifiedFeedStats {
  return {
    name: 'feed',
    state: 'open',
    connections: 1,
    reconnects: 0,
    attempts: 0,
    messages: 0,
    bytes: 0,
    decodeErrors: 0,
    oversizedFrames: 0,
    pingsSent: 0,
    stales: 0,
    lastMessageAt: undefined,
    queue: {
      depth: 0,
      maxDepth: 0,
      capacity: 10_000,
      dropped: 0,
      conflated: 0,
      paused: false,
      pauses: 0,
      dropsByKey: {},
    },
    lag: latency(),
    ...over,
  };
}

export function accountStats(over: Partial<AccountStatsInput> = {}): AccountStatsInput {
  return {
    venue: 'binance-usdm',
    state: 'running',
    events: 0,
    byType: {},
    orders: 0,
    parseErrors: 0,
    duplicatesSuppressed: 0,
    outOfOrder: 0,
    gaps: 0,
    balances: 1,
    positions: 0,
    connection: feedStats({ name: 'account' }),
    listenKey: { created: 1, keptAlive: 0, keepAliveFailures: 0, renewals: 0, changes: 0 },
    ...over,
  };
}

export function restStats(over: Partial<RestClientStats> = {}): RestClientStats {
  return {
    requests: 0,
    inFlight: 0,
    pending: 0,
    weightUsed: 0,
    maxWeightPerMinute: 1920,
    budgetWaits: 0,
    status429: 0,
    status418: 0,
    failures: 0,
    heldUntil: 0,
    ...over,
  };
}

/** Something with `stats()` that returns whatever the test last put in `current`. */
export function source<S>(initial: S): { current: S; stats(): S } {
  return {
    current: initial,
    stats() {
      return this.current;
    },
  };
}
