import {
  ErrorCode,
  UnifeedError,
  type LatencySummary,
  type RestClientStats,
  type StreamPoolStats,
  type UnifiedFeedStats,
} from '@unifeed/core';
import { quoted } from '@unifeed/core/fields';

/**
 * What metrics and health read of one order book. `bookStats(pool)` of @unifeed/feed-depth
 * returns exactly these; the shape is repeated here so that this package needs no feed package.
 */
export interface BookStatsInput {
  /**
   * Which book of its pool, unique on the pool: its stream, plus any setting that made it a
   * book of its own (`btcusdt@depth@100ms snapshotLimit=100`). Two books of one symbol differ
   * here, so each has series of its own.
   */
  book: string;
  symbol: string;
  /** `syncing`, `live` or `resyncing`. */
  state: string;
  lastUpdateId: number;
  gaps: number;
  streamGaps: number;
  resyncs: number;
  crossed: number;
  /** Rebuilds because the price moved past the snapshot's levels (also in `resyncs`). */
  shallow: number;
  bufferOverflows: number;
  duplicates: number;
  updatesApplied: number;
  snapshots: number;
  staleSnapshots: number;
  snapshotFailures: number;
  snapshotLatency: LatencySummary;
  bidLevels: number;
  askLevels: number;
  buffered: number;
}

/**
 * What metrics and health read of an account feed: `stats()` of @unifeed/feed-account's
 * futures (`userData`) and spot (`spotUserData`) feeds. Only the futures feed has `listenKey`.
 */
export interface AccountStatsInput {
  venue: string;
  /** `idle`, `starting`, `running`, `stopping`, `stopped` or `failed`. */
  state: string;
  events: number;
  byType: Record<string, number>;
  orders: number;
  parseErrors: number;
  /** Frames the venue sent twice (a replayed socket's), dropped. */
  duplicatesSuppressed: number;
  /** Balances, positions and order updates older than what the feed already held. */
  outOfOrder: number;
  gaps: number;
  balances: number;
  positions?: number;
  connection: UnifiedFeedStats | undefined;
  listenKey?: {
    created: number;
    keptAlive: number;
    keepAliveFailures: number;
    renewals: number;
    changes: number;
  };
  subscribeRequests?: number;
  terminations?: number;
  /** Spot: requests unanswered in time, each replacing the connection. */
  requestTimeouts?: number;
  /** Spot: events of a subscription that is not the feed's, dropped. */
  strayEvents?: number;
}

/** Anything with a `stats()` read: what `MetricSources.addPool`, `addFeed` and the others take. */
export interface StatsOf<S> {
  stats(): S;
}

/** One watched thing at one moment: its name (the label value) and its counters. */
export interface Named<S> {
  readonly name: string;
  readonly stats: S;
}

/** Everything watched, read once: what a scrape or a health sample works from. */
export interface SourcesSnapshot {
  readonly pools: Named<StreamPoolStats>[];
  /** Books are named by the pool they belong to. */
  readonly books: Named<BookStatsInput[]>[];
  readonly accounts: Named<AccountStatsInput>[];
  readonly rest: Named<RestClientStats>[];
  readonly feeds: Named<UnifiedFeedStats>[];
  /** Sources that threw while being read, left out above: `[kind, name]`. */
  readonly unread: readonly (readonly [kind: SourceKind, name: string])[];
  /**
   * Every source watched now, read or not, with the times it threw while being read (this
   * read included) since it was added: `[kind, name, errors]`.
   */
  readonly readErrors: readonly (readonly [kind: SourceKind, name: string, errors: number])[];
}

/** The kinds of source, as {@link SourcesSnapshot} lists them. */
export type SourceKind = 'pools' | 'books' | 'accounts' | 'rest' | 'feeds';
type Reader = () => unknown;

/**
 * How a kind of source is called where it is named, by the health report (`pool usdm`,
 * `books usdm`) and by the `kind` label of its read errors, so that the two match.
 */
export const SOURCE_WORDS: Readonly<Record<SourceKind, string>> = Object.freeze({
  pools: 'pool',
  books: 'books',
  accounts: 'account',
  rest: 'rest',
  feeds: 'feed',
});

/** A source as the health report names it: `pool usdm`, `books usdm`, `account futures`... */
export const describeSource = (kind: SourceKind, name: string): string =>
  `${SOURCE_WORDS[kind]} ${name}`;

/**
 * The pools, books, account feeds, REST clients and single feeds a process wants watched,
 * each under a name that becomes its label. {@link PrometheusExporter} and
 * {@link HealthMonitor} read the same sources, so what is graphed is what is judged.
 */
export class MetricSources {
  /** Each source's reader, and the times it threw: kept and dropped with the source, so bounded. */
  readonly #readers: { [K in SourceKind]: Map<string, { read: Reader; errors: number }> } = {
    pools: new Map(),
    books: new Map(),
    accounts: new Map(),
    rest: new Map(),
    feeds: new Map(),
  };
  #readErrors = 0;

  /** A `StreamPool`; named after its venue unless `name` is given. Returns a remover. */
  addPool(pool: StatsOf<StreamPoolStats>, name?: string): () => void {
    requireStats('pools', pool);
    return this.#add('pools', name ?? pool.stats().venue, () => pool.stats());
  }

  /** The order books of a pool: pass `() => bookStats(pool)`. `name` is the pool's name. */
  addBooks(read: () => readonly BookStatsInput[], name: string): () => void {
    // Not a function, it would be left out of every read, counted as a read error, and no more.
    if (typeof read !== 'function') {
      throw new UnifeedError(
        ErrorCode.InvalidOption,
        `metrics: books are read by a function (\`() => bookStats(pool)\`), not ${quoted(read)}`,
      );
    }
    return this.#add('books', name, () => [...read()]);
  }

  /** An account feed (`userData(...)` or `spotUserData(...)`); named after its venue by default. */
  addAccount(account: StatsOf<AccountStatsInput>, name?: string): () => void {
    requireStats('accounts', account);
    return this.#add('accounts', name ?? account.stats().venue, () => account.stats());
  }

  /** A `RestClient`, under a name of your choice (its host, say). */
  addRestClient(rest: StatsOf<RestClientStats>, name: string): () => void {
    requireStats('rest', rest);
    return this.#add('rest', name, () => rest.stats());
  }

  /** A single `UnifiedFeed` used without a pool. */
  addFeed(feed: StatsOf<UnifiedFeedStats>, name?: string): () => void {
    requireStats('feeds', feed);
    const feedName = requireName('feeds', name ?? feed.stats().name);
    // An account's connection is labelled `feed="account:<name>"`: one name, two series.
    if (feedName.startsWith('account:')) {
      throw new UnifeedError(
        ErrorCode.InvalidOption,
        `metrics: feed name "${feedName}" is taken by account connections; pass another name`,
      );
    }
    return this.#add('feeds', feedName, () => feed.stats());
  }

  /**
   * Sources that threw while being read (each such source is left out of that read), removed
   * sources included; each source's own count is in {@link snapshot}'s `readErrors`.
   */
  get readErrors(): number {
    return this.#readErrors;
  }

  /** Read every source once. A source that throws is left out; the others are read. */
  snapshot(): SourcesSnapshot {
    const unread: [SourceKind, string][] = [];
    const read = <S>(kind: SourceKind): Named<S>[] => {
      const out: Named<S>[] = [];
      for (const [name, reader] of this.#readers[kind]) {
        try {
          out.push({ name, stats: reader.read() as S });
        } catch {
          this.#readErrors++;
          reader.errors++;
          unread.push([kind, name]);
        }
      }
      return out;
    };
    const snapshot: Omit<SourcesSnapshot, 'readErrors'> = {
      pools: read('pools'),
      books: read('books'),
      accounts: read('accounts'),
      rest: read('rest'),
      feeds: read('feeds'),
      unread,
    };
    // After the reads, so that a source that threw just now is counted in the same snapshot.
    const readErrors = (Object.keys(this.#readers) as SourceKind[]).flatMap((kind) =>
      [...this.#readers[kind]].map(([name, r]) => [kind, name, r.errors] as const),
    );
    return { ...snapshot, readErrors };
  }

  #add(kind: SourceKind, name: string, reader: Reader): () => void {
    requireName(kind, name);
    const readers = this.#readers[kind];
    // Two sources under one name would be one time series that jumps between them.
    if (readers.has(name)) {
      throw new UnifeedError(
        ErrorCode.InvalidOption,
        `metrics: ${kind} already has a source named "${name}"; pass another name`,
      );
    }
    const entry = { read: reader, errors: 0 };
    readers.set(name, entry);
    return () => {
      if (readers.get(name) === entry) readers.delete(name);
    };
  }
}

/**
 * Refuse a source without `stats()`: it would be left out of every read, counted as a read
 * error, and no more.
 */
function requireStats(kind: SourceKind, source: unknown): void {
  if (typeof (source as Partial<StatsOf<unknown>> | undefined)?.stats !== 'function') {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `metrics: a source of ${kind} needs a stats() method, not ${quoted(source)}`,
    );
  }
}

/**
 * Refuse a name that cannot label a series: empty is no label value to Prometheus, and a
 * number would pass the check for duplicates beside the same name as a string (one series,
 * two sources). A name left out is the source's own (its venue); undefined there needs one.
 */
function requireName(kind: SourceKind, name: unknown): string {
  if (typeof name !== 'string' || name === '') {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `metrics: a source of ${kind} is named by a non-empty string, not ${quoted(name)}; pass a name`,
    );
  }
  return name;
}

/**
 * Refuse what is not a {@link MetricSources} (or something with its `snapshot()`) where an
 * exporter or a monitor is made: it would be read only at the first scrape or sample, and
 * fail each one with a TypeError.
 */
export function requireSources(sources: unknown, who: string): void {
  if (typeof (sources as Partial<MetricSources> | undefined)?.snapshot !== 'function') {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `${who} reads a MetricSources, not ${quoted(sources)}`,
    );
  }
}
