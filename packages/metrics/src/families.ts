import type {
  LatencySummary,
  PoolConnectionStats,
  RestClientStats,
  StreamPoolStats,
  UnifiedFeedStats,
} from '@unifeed/core';
import {
  SOURCE_WORDS,
  type AccountStatsInput,
  type BookStatsInput,
  type SourcesSnapshot,
} from './sources.js';
import type { Labels } from './summary-histogram.js';

/** One labelled thing at one moment: a pool, a connection, a book... */
export interface Row<S> {
  readonly labels: Labels;
  readonly stats: S;
}

/**
 * One metric of an entity. `value` gives one number, or one number per value of `split` (a
 * state, a side, an event type): an enum is exported as one series per state, 1 for the
 * current one, the Prometheus way.
 */
export type Series<S> =
  | { name: string; help: string; type: 'counter' | 'gauge'; value(s: S): number }
  | {
      name: string;
      help: string;
      type: 'counter' | 'gauge';
      split: string;
      values(s: S): Iterable<readonly [string, number]>;
    }
  | { name: string; help: string; type: 'histogram'; summary(s: S): LatencySummary };

/** A kind of thing that is measured: where its rows come from, and its metrics. */
export interface Family<S> {
  readonly labelNames: readonly string[];
  rows(snapshot: SourcesSnapshot): Row<S>[];
  readonly series: readonly Series<S>[];
}

const FEED_STATES = ['idle', 'connecting', 'open', 'backoff', 'stopping', 'stopped'] as const;
const BOOK_STATES = ['syncing', 'live', 'resyncing'] as const;
const CONNECTION_ROLES = ['active', 'draining'] as const;
const ACCOUNT_STATES = ['idle', 'starting', 'running', 'stopping', 'stopped', 'failed'] as const;

const oneOf = (states: readonly string[], current: string): [string, number][] =>
  states.map((s) => [s, s === current ? 1 : 0]);

const counter = <S>(name: string, help: string, value: (s: S) => number): Series<S> => ({
  name,
  help,
  type: 'counter',
  value,
});
const gauge = <S>(name: string, help: string, value: (s: S) => number): Series<S> => ({
  name,
  help,
  type: 'gauge',
  value,
});

export const poolFamily: Family<StreamPoolStats> = {
  labelNames: ['pool', 'venue'],
  rows: (snap) =>
    snap.pools.map((p) => ({ labels: { pool: p.name, venue: p.stats.venue }, stats: p.stats })),
  series: [
    gauge('pool_streams', 'Streams with at least one subscriber.', (s) => s.streams),
    gauge('pool_subscribers', 'Subscribers over all streams.', (s) => s.subscribers),
    gauge('pool_connections', 'Connections of the pool.', (s) => s.connections),
    counter('pool_messages_total', 'Messages routed to streams.', (s) => s.messages),
    counter('pool_bytes_total', 'Bytes received.', (s) => s.bytes),
    gauge(
      'pool_messages_per_second',
      'Messages per second over the last tick.',
      (s) => s.messagesPerSecond,
    ),
    counter(
      'pool_reconnects_total',
      'Times a connection reopened after a loss.',
      (s) => s.reconnects,
    ),
    counter(
      'pool_gaps_total',
      'Holes announced for a stream (reconnect, queue drop, decode, stale, rotation, resubscribe).',
      (s) => s.gaps,
    ),
    counter('pool_rejected_streams_total', 'Streams the exchange refused.', (s) => s.rejected),
    counter(
      'pool_parse_errors_total',
      'Payloads a plugin could not parse (skipped).',
      (s) => s.parseErrors,
    ),
    counter(
      'pool_decode_errors_total',
      'Frames no connection could decode (skipped), closed connections included.',
      (s) => s.decodeErrors,
    ),
    counter(
      'pool_stale_resubscribes_total',
      'Streams resubscribed after silence on a live connection.',
      (s) => s.staleResubscribes,
    ),
    counter('pool_rotations_total', 'Connections replaced make-before-break.', (s) => s.rotations),
    counter(
      'pool_unrouted_messages_total',
      'Messages for streams nobody subscribes.',
      (s) => s.unrouted,
    ),
    counter(
      'pool_unexpected_messages_total',
      'Decoded messages that were no data, answer or notice (skipped).',
      (s) => s.unexpected,
    ),
    counter(
      'pool_duplicates_suppressed_total',
      'Messages seen on both sides of a rotation, and events sent twice in a row, delivered once.',
      (s) => s.duplicatesSuppressed,
    ),
    gauge(
      'pool_queue_depth',
      'Messages waiting in the queues of all connections.',
      (s) => s.queue.depth,
    ),
    gauge(
      'pool_queue_max_depth',
      'Deepest any connection queue has been.',
      (s) => s.queue.maxDepth,
    ),
    counter(
      'pool_queue_dropped_total',
      'Messages dropped by a full queue.',
      (s) => s.queue.dropped,
    ),
    counter(
      'pool_queue_conflated_total',
      'Messages the conflate policy replaced with a newer one of their stream.',
      (s) => s.queue.conflated,
    ),
    {
      name: 'pool_lag_seconds',
      help: 'Receive-to-dispatch lag of every message.',
      type: 'histogram',
      summary: (s) => s.lag,
    },
    {
      name: 'pool_subscribe_latency_seconds',
      help: 'From sending SUBSCRIBE to its confirmation.',
      type: 'histogram',
      summary: (s) => s.subscribeLatency,
    },
  ],
};

export const connectionFamily: Family<PoolConnectionStats> = {
  // Not the role: a rotation turns the old connection from `active` to `draining`, and a
  // label that changes would start its counters over as a new series.
  labelNames: ['pool', 'venue', 'connection', 'group'],
  rows: (snap) =>
    snap.pools.flatMap((p) =>
      p.stats.perConnection.map((c) => ({
        labels: {
          pool: p.name,
          venue: p.stats.venue,
          connection: String(c.id),
          group: c.group,
        },
        stats: c,
      })),
    ),
  series: [
    {
      name: 'connection_state',
      help: 'The connection state (1 for the current one).',
      type: 'gauge',
      split: 'state',
      values: (c) => oneOf(FEED_STATES, c.state),
    },
    {
      name: 'connection_role',
      help: 'The connection role (1 for the current one): draining while a replacement takes over.',
      type: 'gauge',
      split: 'role',
      values: (c) => oneOf(CONNECTION_ROLES, c.role),
    },
    gauge('connection_streams', 'Streams assigned to the connection.', (c) => c.streams),
    gauge(
      'connection_live_streams',
      'Streams confirmed subscribed on the connection.',
      (c) => c.live,
    ),
    gauge(
      'connection_messages_per_second',
      'Messages per second over the last tick.',
      (c) => c.messagesPerSecond,
    ),
    gauge(
      'connection_bytes_per_second',
      'Bytes per second over the last tick.',
      (c) => c.bytesPerSecond,
    ),
    counter(
      'connection_reconnects_total',
      'Times the connection reopened after a loss.',
      (c) => c.reconnects,
    ),
    counter(
      'connection_stales_total',
      'Times the heartbeat found the connection silent.',
      (c) => c.stales,
    ),
    counter(
      'connection_decode_errors_total',
      'Frames that could not be decoded.',
      (c) => c.decodeErrors,
    ),
    gauge('connection_queue_depth', 'Messages waiting in the queue.', (c) => c.queueDepth),
    counter(
      'connection_queue_dropped_total',
      'Messages dropped by the full queue.',
      (c) => c.queueDropped,
    ),
    counter(
      'connection_queue_conflated_total',
      'Messages the conflate policy replaced with a newer one of their stream.',
      (c) => c.queueConflated,
    ),
    gauge(
      'connection_lag_p99_seconds',
      'Receive-to-dispatch lag, 99th percentile (bucket bound).',
      (c) => c.lagP99Ms / 1000,
    ),
  ],
};

export const bookFamily: Family<BookStatsInput> = {
  // `book` keeps two books of one symbol (other speeds or settings) apart: without it they
  // would write the same series twice.
  labelNames: ['pool', 'symbol', 'book'],
  rows: (snap) =>
    snap.books.flatMap((b) =>
      b.stats.map((book) => ({
        labels: { pool: b.name, symbol: book.symbol, book: book.book },
        stats: book,
      })),
    ),
  series: [
    {
      name: 'book_state',
      help: 'The book state (1 for the current one).',
      type: 'gauge',
      split: 'state',
      values: (b) => oneOf(BOOK_STATES, b.state),
    },
    gauge('book_last_update_id', 'The update id the book is at.', (b) => b.lastUpdateId),
    {
      name: 'book_levels',
      help: 'Price levels held per side.',
      type: 'gauge',
      split: 'side',
      values: (b) => [
        ['bids', b.bidLevels],
        ['asks', b.askLevels],
      ],
    },
    gauge(
      'book_buffered_events',
      'Diff events buffered while a snapshot is awaited.',
      (b) => b.buffered,
    ),
    counter('book_gaps_total', 'Continuity breaks found in diff events.', (b) => b.gaps),
    counter(
      'book_stream_gaps_total',
      'Holes the pool announced for the diff stream.',
      (b) => b.streamGaps,
    ),
    counter('book_resyncs_total', 'Rebuilds from a new snapshot.', (b) => b.resyncs),
    counter('book_crossed_total', 'Updates that would have crossed the book.', (b) => b.crossed),
    counter(
      'book_shallow_total',
      "Rebuilds because the price moved past the snapshot's levels (also in resyncs).",
      (b) => b.shallow,
    ),
    counter(
      'book_buffer_overflows_total',
      'Times the pre-snapshot buffer overflowed.',
      (b) => b.bufferOverflows,
    ),
    counter('book_duplicate_events_total', 'Diff events already in the book.', (b) => b.duplicates),
    counter('book_updates_applied_total', 'Diff events applied.', (b) => b.updatesApplied),
    counter('book_snapshots_total', 'Snapshots used.', (b) => b.snapshots),
    counter(
      'book_stale_snapshots_total',
      'Snapshots discarded as too old or too late.',
      (b) => b.staleSnapshots,
    ),
    counter(
      'book_snapshot_failures_total',
      'Snapshot requests that failed.',
      (b) => b.snapshotFailures,
    ),
    {
      name: 'book_snapshot_latency_seconds',
      help: 'From asking for a snapshot to having it, weight-budget waits included.',
      type: 'histogram',
      summary: (b) => b.snapshotLatency,
    },
  ],
};

export const accountFamily: Family<AccountStatsInput> = {
  labelNames: ['account', 'venue'],
  rows: (snap) =>
    snap.accounts.map((a) => ({
      labels: { account: a.name, venue: a.stats.venue },
      stats: a.stats,
    })),
  series: [
    {
      name: 'account_state',
      help: 'The account feed state (1 for the current one).',
      type: 'gauge',
      split: 'state',
      values: (a) => oneOf(ACCOUNT_STATES, a.state),
    },
    {
      name: 'account_events_total',
      help: 'Account events delivered, by the venue event name.',
      type: 'counter',
      split: 'type',
      values: (a) => Object.entries(a.byType),
    },
    counter('account_order_updates_total', 'Order updates delivered.', (a) => a.orders),
    counter(
      'account_parse_errors_total',
      'Account frames that could not be parsed (skipped).',
      (a) => a.parseErrors,
    ),
    counter(
      'account_duplicates_suppressed_total',
      'Account frames the venue repeated, dropped.',
      (a) => a.duplicatesSuppressed,
    ),
    counter(
      'account_out_of_order_total',
      'Balances, positions and order updates older than the state held.',
      (a) => a.outOfOrder,
    ),
    counter('account_gaps_total', 'Times account events may have been missed.', (a) => a.gaps),
    gauge('account_balances', 'Assets with a known balance.', (a) => a.balances),
    gauge('account_positions', 'Positions held (futures).', (a) => a.positions ?? 0),
    counter(
      'account_listen_keys_created_total',
      'Listen-key POSTs that succeeded (futures).',
      (a) => a.listenKey?.created ?? 0,
    ),
    counter(
      'account_listen_key_keepalives_total',
      'Listen-key keepalives that succeeded (futures).',
      (a) => a.listenKey?.keptAlive ?? 0,
    ),
    counter(
      'account_listen_key_keepalive_failures_total',
      'Listen-key keepalives that failed (futures).',
      (a) => a.listenKey?.keepAliveFailures ?? 0,
    ),
    counter(
      'account_listen_key_renewals_total',
      'New keys after expiry, -1125 or failed keepalives (futures).',
      (a) => a.listenKey?.renewals ?? 0,
    ),
    counter(
      'account_subscribe_requests_total',
      'User-data subscribe requests sent (spot).',
      (a) => a.subscribeRequests ?? 0,
    ),
    counter(
      'account_terminations_total',
      'Subscriptions the venue ended (spot).',
      (a) => a.terminations ?? 0,
    ),
    counter(
      'account_request_timeouts_total',
      'User-data requests unanswered in time, each replacing the connection (spot).',
      (a) => a.requestTimeouts ?? 0,
    ),
    counter(
      'account_stray_events_total',
      "Events of a subscription that is not the feed's, dropped (spot).",
      (a) => a.strayEvents ?? 0,
    ),
  ],
};

export const restFamily: Family<RestClientStats> = {
  labelNames: ['rest'],
  rows: (snap) => snap.rest.map((r) => ({ labels: { rest: r.name }, stats: r.stats })),
  series: [
    counter('rest_requests_total', 'REST calls sent.', (r) => r.requests),
    gauge('rest_in_flight', 'REST calls awaiting an answer.', (r) => r.inFlight),
    gauge('rest_pending', 'REST calls waiting for weight budget.', (r) => r.pending),
    gauge('rest_weight_used', 'Weight used in the current minute.', (r) => r.weightUsed),
    gauge(
      'rest_weight_limit',
      'Weight this client may use per minute.',
      (r) => r.maxWeightPerMinute,
    ),
    counter(
      'rest_budget_waits_total',
      'Calls that waited for the weight budget.',
      (r) => r.budgetWaits,
    ),
    counter('rest_rate_limited_total', 'Answers 429 (rate limited).', (r) => r.status429),
    counter('rest_banned_total', 'Answers 418 (IP banned).', (r) => r.status418),
    counter('rest_failures_total', 'Calls that ended in an error.', (r) => r.failures),
    gauge(
      'rest_held_until_seconds',
      'Unix time before which no call goes (after a 429 or 418); 0 when free.',
      (r) => r.heldUntil / 1000,
    ),
  ],
};

/** Single feeds, and the connections of account feeds (named `account:<name>`). */
export const feedFamily: Family<UnifiedFeedStats> = {
  labelNames: ['feed'],
  rows: (snap) => [
    ...snap.feeds.map((f) => ({ labels: { feed: f.name }, stats: f.stats })),
    ...snap.accounts.flatMap((a) =>
      a.stats.connection === undefined
        ? []
        : [{ labels: { feed: `account:${a.name}` }, stats: a.stats.connection }],
    ),
  ],
  series: [
    {
      name: 'feed_state',
      help: 'The feed state (1 for the current one).',
      type: 'gauge',
      split: 'state',
      values: (f) => oneOf(FEED_STATES, f.state),
    },
    counter('feed_connections_total', 'Sockets created.', (f) => f.connections),
    counter('feed_reconnects_total', 'Times a socket opened after the first.', (f) => f.reconnects),
    counter('feed_messages_total', 'Messages received.', (f) => f.messages),
    counter('feed_bytes_total', 'Bytes received.', (f) => f.bytes),
    counter('feed_decode_errors_total', 'Frames that could not be decoded.', (f) => f.decodeErrors),
    counter(
      'feed_oversized_frames_total',
      'Frames over maxPayloadBytes.',
      (f) => f.oversizedFrames,
    ),
    counter('feed_pings_total', 'Heartbeat pings sent.', (f) => f.pingsSent),
    counter('feed_stales_total', 'Times the heartbeat found the socket silent.', (f) => f.stales),
    gauge('feed_queue_depth', 'Messages waiting in the queue.', (f) => f.queue.depth),
    gauge('feed_queue_max_depth', 'Deepest the queue has been.', (f) => f.queue.maxDepth),
    counter(
      'feed_queue_dropped_total',
      'Messages dropped by the full queue.',
      (f) => f.queue.dropped,
    ),
    counter(
      'feed_queue_conflated_total',
      'Messages the conflate policy replaced with a newer one of their stream.',
      (f) => f.queue.conflated,
    ),
    counter(
      'feed_queue_pauses_total',
      'Times the pause policy stopped reading the socket.',
      (f) => f.queue.pauses,
    ),
    {
      name: 'feed_lag_seconds',
      help: 'Receive-to-dispatch lag of every message.',
      type: 'histogram',
      summary: (f) => f.lag,
    },
  ],
};

/**
 * The sources themselves: a series per source watched (so bounded), counting the reads that
 * threw. Such a read leaves the source out, so that nothing else here shows it.
 */
export const sourceFamily: Family<number> = {
  labelNames: ['kind', 'name'],
  rows: (snap) =>
    snap.readErrors.map(([kind, name, errors]) => ({
      labels: { kind: SOURCE_WORDS[kind], name },
      stats: errors,
    })),
  series: [
    counter(
      'source_read_errors_total',
      'Reads of the source that threw, each leaving it out of that scrape or health sample.',
      (errors) => errors,
    ),
  ],
};
