import {
  ErrorCode,
  LATENCY_BUCKETS_MS,
  MAX_TIMER_MS,
  UnifeedError,
  isNumberIn,
  realClock,
  requireClock,
  requireObject,
  withDefaults,
  type Clock,
  type LatencySummary,
  type PartialOptions,
  type TimerHandle,
  type UnifiedFeedStats,
} from '@unifeed/core';
import { quoted } from '@unifeed/core/fields';
import {
  describeSource,
  requireSources,
  type MetricSources,
  type SourceKind,
  type SourcesSnapshot,
} from './sources.js';

/**
 * The limits a {@link HealthMonitor} judges by. Rates are per minute, measured over the
 * monitor's window; a limit of 0 means any occurrence is an anomaly.
 */
export interface HealthThresholds {
  /** A message dispatched this long after it arrived is a lag warning, ms. @default 100 */
  lagWarningMs: number;
  /** More lag warnings than this within `lagWindowMs` is critical. @default 10 */
  maxLagWarnings: number;
  /** The span lag warnings are counted over, ms. @default 1000 */
  lagWindowMs: number;
  /**
   * Messages waiting in one connection's queue (a pool's connection, a feed, an account's
   * socket); more is critical. @default 100
   */
  maxQueueDepth: number;
  /** Messages dropped by full queues per minute; more is critical (data was lost). @default 0 */
  maxDropsPerMinute: number;
  /** Reconnects per minute over all of a pool's or feed's connections; more is a warning. @default 0 */
  maxReconnectsPerMinute: number;
  /** Stream gaps (holes announced to consumers) per minute; more is a warning. @default 0 */
  maxGapsPerMinute: number;
  /** Order-book resyncs per minute, per pool; more is a warning. @default 0 */
  maxResyncsPerMinute: number;
  /** Streams resubscribed after staying silent, per minute; more is a warning. @default 0 */
  maxStaleStreamsPerMinute: number;
  /**
   * Frames that could not be decoded and payloads that could not be parsed, per minute; more
   * is a warning. @default 0
   */
  maxParseErrorsPerMinute: number;
  /**
   * Listen-key renewals (a new key after expiry, -1125 or failed keepalives; routine keepalives
   * do not count) per minute; more is a warning. @default 0
   */
  maxListenKeyRenewalsPerMinute: number;
  /** REST answers 429 or 418 per minute; more is critical (418 is an IP ban). @default 0 */
  maxRateLimitedPerMinute: number;
  /**
   * Reads of one source that threw, per minute; more is a warning: the monitor cannot see the
   * source, and judges its last known figures meanwhile. @default 0
   */
  maxReadErrorsPerMinute: number;
  /** A connection not open, a book not live or an account feed not running this long is critical, ms. @default 30000 */
  maxDownMs: number;
}

export const DEFAULT_HEALTH_THRESHOLDS: Readonly<HealthThresholds> = Object.freeze({
  lagWarningMs: 100,
  maxLagWarnings: 10,
  lagWindowMs: 1000,
  maxQueueDepth: 100,
  maxDropsPerMinute: 0,
  maxReconnectsPerMinute: 0,
  maxGapsPerMinute: 0,
  maxResyncsPerMinute: 0,
  maxStaleStreamsPerMinute: 0,
  maxParseErrorsPerMinute: 0,
  maxListenKeyRenewalsPerMinute: 0,
  maxRateLimitedPerMinute: 0,
  maxReadErrorsPerMinute: 0,
  maxDownMs: 30_000,
});

/** Settings of a {@link HealthMonitor}. */
export interface HealthMonitorOptions {
  /** @default realClock */
  clock?: Clock | undefined;
  /** How often the sources are sampled once `start()`ed, ms; 10 to 2^31 - 1. @default 1000 */
  sampleEveryMs?: number | undefined;
  /**
   * The span rates are measured over, ms; at most 100,000 samples of `sampleEveryMs`.
   * @default 60000
   */
  windowMs?: number | undefined;
  /**
   * Limits; each one left out keeps its default ({@link DEFAULT_HEALTH_THRESHOLDS}). A name
   * that is not one of them is `UNIFEED_INVALID_OPTION`.
   */
  thresholds?: PartialOptions<HealthThresholds> | undefined;
}

export type Severity = 'warning' | 'critical';
export type HealthStatus = 'ok' | Severity;

export type HealthCheck =
  | 'queue-lag'
  | 'queue-depth'
  | 'queue-drops'
  | 'reconnects'
  | 'gaps'
  | 'resyncs'
  | 'stale-streams'
  | 'parse-errors'
  | 'listen-key-renewals'
  | 'rest-rate-limited'
  | 'read-errors'
  | 'connection-down'
  | 'book-not-live'
  | 'account-down'
  | 'account-failed';

/** One thing that is wrong, or was within the window. */
export interface Anomaly {
  check: HealthCheck;
  severity: Severity;
  /**
   * What it is about: `pool usdm`, `pool usdm connection 3`, `feed raw`, `book usdm
   * btcusdt@depth@100ms`, `account usdm`, `rest fapi`...
   */
  source: string;
  /** The measured value: a count in the window, a depth, or milliseconds down. */
  value: number;
  threshold: number;
  /** One line for a person. */
  message: string;
}

/** What {@link HealthMonitor.report} returns. */
export interface HealthReport {
  /** The worst severity among the anomalies, `ok` when there are none. */
  status: HealthStatus;
  /** When the report was made (wall clock, ms). */
  at: number;
  /**
   * The span the rates were measured over, ms: shorter than the window just after the start,
   * longer when samples (reports without start()) are further apart than the window.
   */
  spanMs: number;
  anomalies: Anomaly[];
}

interface Sample {
  /** `clock.monotonic()`: spans and down times must not follow a wall-clock step. */
  at: number;
  /** Totals by check, source and part (joined by SEP), so samples subtract key by key. */
  counters: Map<string, number>;
  /** The `counters` keys each source (`describeSource()`, e.g. `pool usdm`) gave. */
  bySource: Map<string, string[]>;
  /** The sources (`describeSource()`) that threw when this sample read them. */
  unread: ReadonlySet<string>;
}

/** Counted checks: a total per source, judged by its growth over the window. */
const RATE_CHECKS = [
  ['queue-drops', 'critical', 'maxDropsPerMinute', 'messages dropped by full queues'],
  ['reconnects', 'warning', 'maxReconnectsPerMinute', 'reconnects'],
  ['gaps', 'warning', 'maxGapsPerMinute', 'stream gaps announced'],
  ['resyncs', 'warning', 'maxResyncsPerMinute', 'order-book resyncs'],
  ['stale-streams', 'warning', 'maxStaleStreamsPerMinute', 'silent streams resubscribed'],
  [
    'parse-errors',
    'warning',
    'maxParseErrorsPerMinute',
    'frames or payloads that could not be decoded or parsed',
  ],
  ['listen-key-renewals', 'warning', 'maxListenKeyRenewalsPerMinute', 'listen keys renewed'],
  ['rest-rate-limited', 'critical', 'maxRateLimitedPerMinute', 'REST answers 429/418'],
  ['read-errors', 'warning', 'maxReadErrorsPerMinute', 'reads that threw'],
] as const satisfies readonly (readonly [HealthCheck, Severity, keyof HealthThresholds, string])[];

type RateCheck = (typeof RATE_CHECKS)[number][0];
const LAG = 'queue-lag';
const SEP = '\u0000';

/** The key of one total in a sample's `counters`. */
const counterKey = (check: RateCheck | typeof LAG, source: string, part = ''): string =>
  [check, source, part].join(SEP);

/** Shortest sampling interval: every sample reads every source. */
const MIN_SAMPLE_EVERY_MS = 10;
/** Most samples a window keeps. */
const MAX_SAMPLES = 100_000;

/**
 * The long-run analyzer: samples the sources every second, keeps a window of samples (bounded:
 * one per `sampleEveryMs` over `windowMs`, and one before it to count from), and reports
 * anomalies, each with a severity and a one-line explanation, and an overall status. Lag
 * warnings are counted from the lag histogram, so `lagWarningMs` between two bucket bounds
 * counts from the lower bound.
 */
export class HealthMonitor {
  readonly #sources: MetricSources;
  readonly #clock: Clock;
  readonly #every: number;
  readonly #windowMs: number;
  readonly #t: HealthThresholds;
  readonly #lagBucket: number;
  readonly #samples: Sample[] = [];
  /**
   * Each connection, book or account feed seen down, by check and source: since when (however
   * its state changes meanwhile, e.g. backoff and connecting), and its state now.
   */
  readonly #down = new Map<
    string,
    { check: HealthCheck; source: string; since: number; state: string; of: string }
  >();
  #timer: TimerHandle | undefined;

  constructor(sources: MetricSources, passed: HealthMonitorOptions | null = {}) {
    requireSources(sources, 'a HealthMonitor');
    // null from plain JavaScript means no options, as undefined does.
    const options = passed ?? {};
    this.#sources = sources;
    // Read first by report() or the timer: a wrong clock would be a TypeError there, later.
    requireClock(options.clock);
    this.#clock = options.clock ?? realClock;
    this.#every = options.sampleEveryMs ?? 1000;
    this.#windowMs = options.windowMs ?? 60_000;
    // A misspelt threshold, or thresholds that are no object, would keep every default unsaid.
    const given = requireObject('health: `thresholds`', options.thresholds ?? undefined, true);
    for (const name of Object.keys(given)) {
      if (!Object.hasOwn(DEFAULT_HEALTH_THRESHOLDS, name)) {
        throw new UnifeedError(
          ErrorCode.InvalidOption,
          `health: no threshold is named ${quoted(name)} (see DEFAULT_HEALTH_THRESHOLDS)`,
        );
      }
    }
    // A threshold given as undefined keeps its default, like one left out.
    this.#t = withDefaults(DEFAULT_HEALTH_THRESHOLDS, given, 'thresholds');
    const spans = {
      sampleEveryMs: this.#every,
      windowMs: this.#windowMs,
      lagWindowMs: this.#t.lagWindowMs,
    };
    for (const [name, value] of Object.entries({ ...this.#t, ...spans })) {
      const positive = name in spans;
      // quoted(): a Symbol here would make the message itself throw a TypeError.
      if (!isNumberIn(value, 0, Infinity) || (positive && value === 0)) {
        throw new UnifeedError(
          ErrorCode.InvalidOption,
          `health: ${name} must be a ${positive ? 'positive' : 'non-negative'} number, not ${quoted(value)}`,
        );
      }
    }
    // Lag warnings are counted between samples: the lag window must hold at least one sample
    // interval, and the whole window the lag window.
    if (!(this.#every <= this.#t.lagWindowMs && this.#t.lagWindowMs <= this.#windowMs)) {
      throw new UnifeedError(
        ErrorCode.InvalidOption,
        `health: need sampleEveryMs <= lagWindowMs <= windowMs, got ${this.#every}, ${this.#t.lagWindowMs}, ${this.#windowMs}`,
      );
    }
    // Every sample reads every source's stats() and is kept for the window: a sub-millisecond
    // interval, or a window of years, would read or keep without end (855 MB in a minute). Over
    // a host timer's range (24.8 days) a clock that does not clamp fires it after 1 ms: a read
    // every millisecond, each kept for the window.
    if (
      this.#every < MIN_SAMPLE_EVERY_MS ||
      this.#every > MAX_TIMER_MS ||
      this.#windowMs / this.#every > MAX_SAMPLES
    ) {
      throw new UnifeedError(
        ErrorCode.InvalidOption,
        `health: need ${MIN_SAMPLE_EVERY_MS} <= sampleEveryMs <= ${MAX_TIMER_MS} and windowMs / sampleEveryMs <= ${MAX_SAMPLES}, got ${this.#every}, ${this.#windowMs}`,
      );
    }
    // The histogram bucket whose bound is the highest at or below the threshold.
    let b = -1;
    while (b + 1 < LATENCY_BUCKETS_MS.length && LATENCY_BUCKETS_MS[b + 1]! <= this.#t.lagWarningMs)
      b++;
    this.#lagBucket = b;
  }

  /** The limits in force, defaults filled in. */
  get thresholds(): Readonly<HealthThresholds> {
    return this.#t;
  }

  /** Sample every `sampleEveryMs` until `stop()`. Idempotent. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.sample();
    this.#arm();
  }

  /** Stop sampling; no timer is left. The samples stay for one more `report()`. */
  stop(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Take one sample now (the timer does this every `sampleEveryMs`). */
  sample(): void {
    this.#keep(this.#take(this.#sources.snapshot()));
  }

  /**
   * Keep a sample, at most one per `sampleEveryMs`, and of those at or before the window's start
   * only the newest: bounded. That one is what the window's counts grow from; without it,
   * samples further apart than the window (reports without start()) would leave nothing to
   * count from, and whatever happened between them would go unseen.
   */
  #keep(s: Sample): void {
    const last = this.#samples.at(-1);
    if (last !== undefined && s.at - last.at < this.#every && this.#timer === undefined) return;
    this.#samples.push(s);
    while (this.#samples.length > 1 && s.at - this.#samples[1]!.at >= this.#windowMs)
      this.#samples.shift();
  }

  /**
   * The health now, measured over the window: from the newest sample at or before its start
   * (the previous report when not started and reports are further apart), or from the first.
   */
  report(): HealthReport {
    const snap = this.#sources.snapshot();
    const now = this.#take(snap);
    // Without start(), reports are the samples: the window moves with them.
    if (this.#timer === undefined) this.#keep(now);
    const window = this.#samples.at(-1) === now ? this.#samples : [...this.#samples, now];
    const first = window[0]!;
    const spanMs = Math.max(0, now.at - first.at);
    const anomalies: Anomaly[] = [];
    const t = this.#t;

    const totals = increases(window);
    for (const [check, severity, limit, what] of RATE_CHECKS) {
      // A partial window (just after the start) is not extrapolated to a minute.
      const allowed = (t[limit] * Math.max(spanMs, this.#windowMs)) / 60_000;
      for (const [source, count] of totals.get(check) ?? []) {
        if (count === 0 || count <= allowed) continue;
        anomalies.push({
          check,
          severity,
          source,
          value: count,
          threshold: t[limit],
          message: `${source}: ${count} ${what} in the last ${seconds(spanMs)} (limit ${t[limit]}/min)`,
        });
      }
    }

    // Lag warnings are known only between samples, so a count is judged over spans of at most
    // lagWindowMs (a longer one would count warnings further apart than that), each from the
    // oldest sample that close to its end. Two ends, now and the newest sample: a report
    // between samples would otherwise see only the part of a burst since the last one. Reports
    // further apart than lagWindowMs without start() have no such span: the shortest there is
    // is judged then, and the message says how long it was, rather than judging nothing.
    const lag = new Map<string, { count: number; spanMs: number }>();
    for (const end of new Set([window.lastIndexOf(this.#samples.at(-1)!), window.length - 1])) {
      let start = window.findIndex((s) => window[end]!.at - s.at <= t.lagWindowMs);
      if (start === end && end > 0) start = end - 1;
      const spanMs = window[end]!.at - window[start]!.at;
      for (const [source, count] of increases(window.slice(start, end + 1)).get(LAG) ?? []) {
        if (count > (lag.get(source)?.count ?? 0)) lag.set(source, { count, spanMs });
      }
    }
    for (const [source, { count, spanMs: within }] of lag) {
      if (count <= t.maxLagWarnings) continue;
      anomalies.push({
        check: LAG,
        severity: 'critical',
        source,
        value: count,
        threshold: t.maxLagWarnings,
        message: `${source}: ${count} messages dispatched over ${t.lagWarningMs} ms after they arrived, within ${seconds(within)} (limit ${t.maxLagWarnings})`,
      });
    }

    // Each connection has one bounded queue, so the limit is per queue: a pool's total grows
    // with its connections and says nothing of any one of them.
    const queue = (source: string, depth: number): void => {
      if (depth <= t.maxQueueDepth) return;
      anomalies.push({
        check: 'queue-depth',
        severity: 'critical',
        source,
        value: depth,
        threshold: t.maxQueueDepth,
        message: `${source}: ${depth} messages waiting in its queue (limit ${t.maxQueueDepth})`,
      });
    };
    for (const p of snap.pools) {
      for (const c of p.stats.perConnection) {
        queue(`pool ${p.name} connection ${c.id}`, c.queueDepth);
      }
    }
    for (const a of snap.accounts) {
      if (a.stats.connection !== undefined)
        queue(`account ${a.name}`, a.stats.connection.queue.depth);
    }
    for (const f of snap.feeds) queue(`feed ${f.name}`, f.stats.queue.depth);
    for (const a of snap.accounts) {
      if (a.stats.state !== 'failed') continue;
      anomalies.push({
        check: 'account-failed',
        severity: 'critical',
        source: `account ${a.name}`,
        value: 1,
        threshold: 0,
        message: `account ${a.name}: ended by a fatal error (refused credentials); it will not reconnect`,
      });
    }
    for (const { check, source, since, state } of this.#down.values()) {
      const downMs = now.at - since;
      if (downMs <= t.maxDownMs) continue;
      anomalies.push({
        check,
        severity: 'critical',
        source,
        value: downMs,
        threshold: t.maxDownMs,
        message: `${source}: ${state} for ${seconds(downMs)} (limit ${seconds(t.maxDownMs)})`,
      });
    }

    const status: HealthStatus = anomalies.some((a) => a.severity === 'critical')
      ? 'critical'
      : anomalies.length > 0
        ? 'warning'
        : 'ok';
    return { status, at: this.#clock.now(), spanMs, anomalies };
  }

  #arm(): void {
    const timer = this.#clock.setTimeout(() => {
      try {
        this.sample();
      } catch {
        // A source that throws (a user's `addBooks` function) loses this sample, nothing more.
      } finally {
        // Not after a stop() during the sample (a source's reader on a shutdown path): the
        // monitor would go on sampling, and its timer would keep the process alive.
        if (this.#timer === timer) this.#arm();
      }
    }, this.#every);
    this.#timer = timer;
  }

  /** Read the totals a sample keeps, and note what is down since when. */
  #take(snap: SourcesSnapshot): Sample {
    const at = this.#clock.monotonic();
    const counters = new Map<string, number>();
    const bySource = new Map<string, string[]>();
    // The source being read: what add() and isDown() note belongs to it.
    let of = '';
    let keys: string[] = [];
    const reading = (kind: SourceKind, name: string): string => {
      of = describeSource(kind, name);
      bySource.set(of, (keys = []));
      return of;
    };
    // One total per part (a book, a connection): a part that goes away or starts again from
    // zero is then a reset of its own total, not a drop in a sum.
    const add = (check: RateCheck | typeof LAG, source: string, value: number, part = ''): void => {
      const key = counterKey(check, source, part);
      counters.set(key, value);
      keys.push(key);
    };
    const down = new Set<string>();
    const isDown = (check: HealthCheck, source: string, state: string): void => {
      const id = `${check}${SEP}${source}`;
      down.add(id);
      const known = this.#down.get(id);
      if (known === undefined) this.#down.set(id, { check, source, since: at, state, of });
      else known.state = state;
    };

    for (const { name, stats: p } of snap.pools) {
      const source = reading('pools', name);
      add('queue-drops', source, p.queue.dropped);
      add('reconnects', source, p.reconnects);
      add('gaps', source, p.gaps);
      add('stale-streams', source, p.staleResubscribes);
      add('parse-errors', source, p.parseErrors);
      add('parse-errors', source, p.decodeErrors, 'decode');
      add(LAG, source, this.#lagOver(p.lag));
      for (const c of p.perConnection) {
        if (c.state !== 'open')
          isDown('connection-down', `pool ${name} connection ${c.id}`, c.state);
      }
    }
    for (const { name, stats: books } of snap.books) {
      const source = reading('books', name);
      // Parts by book, not by position in the list: one that goes away shifts no other.
      for (const b of books) {
        add('resyncs', source, b.resyncs, b.book);
        if (b.state !== 'live') isDown('book-not-live', `book ${name} ${b.book}`, b.state);
      }
    }
    const feed = (source: string, f: UnifiedFeedStats): void => {
      add('queue-drops', source, f.queue.dropped, 'connection');
      add('reconnects', source, f.reconnects, 'connection');
      add('parse-errors', source, f.decodeErrors, 'connection');
      add(LAG, source, this.#lagOver(f.lag), 'connection');
    };
    for (const { name, stats: a } of snap.accounts) {
      const source = reading('accounts', name);
      add('parse-errors', source, a.parseErrors);
      add('gaps', source, a.gaps);
      add('listen-key-renewals', source, a.listenKey?.renewals ?? 0);
      if (a.connection !== undefined) feed(source, a.connection);
      // 'running' from the first open on: whether it is connected now is its socket's state.
      const state = a.state === 'running' ? (a.connection?.state ?? 'open') : a.state;
      if (state !== 'open' && state !== 'failed') isDown('account-down', source, state);
    }
    for (const { name, stats: f } of snap.feeds) {
      const source = reading('feeds', name);
      feed(source, f);
      if (f.state !== 'open') isDown('connection-down', source, f.state);
    }
    for (const { name, stats: r } of snap.rest) {
      add('rest-rate-limited', reading('rest', name), r.status429 + r.status418);
    }
    // A source that threw this time is not gone: its totals and its down clocks stay as they
    // were, or its next read would count its lifetime totals as new and restart the clocks.
    // Totals it has not given yet (unread since it was added) are marked unknown: increases().
    const last = this.#samples.at(-1);
    const unread = new Set<string>();
    for (const [kind, name] of snap.unread) {
      const source = describeSource(kind, name);
      unread.add(source);
      const kept = last?.bySource.get(source) ?? [];
      bySource.set(source, kept);
      for (const key of kept) counters.set(key, last!.counters.get(key)!);
      for (const [id, d] of this.#down) if (d.of === source) down.add(id);
    }
    // Kept by the sources, not read from one: they grow precisely while a source is unread.
    for (const [kind, name, errors] of snap.readErrors) {
      counters.set(counterKey('read-errors', describeSource(kind, name)), errors);
    }
    for (const id of this.#down.keys()) if (!down.has(id)) this.#down.delete(id);
    return { at, counters, bySource, unread };
  }

  /** Messages whose lag was above `lagWarningMs`, from the cumulative buckets. */
  #lagOver(lag: LatencySummary): number {
    return lag.count - (this.#lagBucket < 0 ? 0 : (lag.buckets[this.#lagBucket] ?? 0));
  }
}

/**
 * How much each total grew over `samples` (oldest first), summed by check and source, the way
 * Prometheus' `increase()` reads a counter: a total lower than before was reset and counts from
 * zero. A total missing from the sample before counts from what that sample knew of it: zero
 * when its source was read there or not watched yet (a part or a source added since), itself
 * when its source could not be read there (its lifetime total, not news).
 */
function increases(samples: readonly Sample[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1]!;
    for (const [k, v] of samples[i]!.counters) {
      const [check, source] = k.split(SEP) as [string, string];
      const prev = before.counters.get(k) ?? (before.unread.has(source) ? v : 0);
      const grew = v >= prev ? v - prev : v;
      if (grew === 0) continue;
      let bySource = out.get(check);
      if (!bySource) out.set(check, (bySource = new Map()));
      bySource.set(source, (bySource.get(source) ?? 0) + grew);
    }
  }
  return out;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
