import { ErrorCode } from '@unifeed/core';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MetricSources, PrometheusExporter } from '../src/index.js';
import {
  accountStats,
  bookStats,
  connection,
  feedStats,
  latency,
  poolStats,
  restStats,
  source,
} from './fakes.js';

interface Parsed {
  name: string;
  type: string;
  metrics: {
    labels?: Record<string, string>;
    value?: string;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }[];
}

async function scrape(exporter: PrometheusExporter): Promise<Map<string, Parsed>> {
  const text = await exporter.metrics();
  const parsed = parsePrometheusTextFormat(text) as Parsed[];
  return new Map(parsed.map((m) => [m.name, m]));
}

function value(m: Map<string, Parsed>, name: string, labels: Record<string, string> = {}) {
  const family = m.get(name);
  if (family === undefined) throw new Error(`no ${name}`);
  const hit = family.metrics.find((s) =>
    Object.entries(labels).every(([k, v]) => s.labels?.[k] === v),
  );
  return hit === undefined ? undefined : Number(hit.value);
}

describe('PrometheusExporter', () => {
  it('exports every source as parseable Prometheus text, labelled by name', async () => {
    const sources = new MetricSources();
    const pool = source(
      poolStats({
        messages: 12_345,
        reconnects: 3,
        decodeErrors: 6,
        gaps: 400,
        queue: { depth: 7, maxDepth: 90, dropped: 5, conflated: 4 },
        lag: latency(0.3, 0.3, 4, 300),
        subscribeLatency: latency(30),
        perConnection: [
          connection({ id: 1 }),
          connection({
            id: 2,
            state: 'backoff',
            role: 'draining',
            reconnects: 4,
            queueConflated: 6,
          }),
        ],
      }),
    );
    sources.addPool(pool, 'usdm');
    sources.addBooks(() => [bookStats({ state: 'resyncing', resyncs: 2, shallow: 1 })], 'usdm');
    sources.addAccount(
      source(
        accountStats({
          byType: { ORDER_TRADE_UPDATE: 4, ACCOUNT_UPDATE: 2 },
          requestTimeouts: 3,
          strayEvents: 5,
          duplicatesSuppressed: 6,
          outOfOrder: 7,
        }),
      ),
    );
    sources.addRestClient(
      source(restStats({ status429: 1, heldUntil: 1_700_000_060_000 })),
      'fapi',
    );
    sources.addFeed(
      source(
        feedStats({
          name: 'ticker',
          pingsSent: 9,
          queue: { ...feedStats().queue, dropped: 1, conflated: 8 },
        }),
      ),
    );
    const exporter = new PrometheusExporter(sources);
    const m = await scrape(exporter);

    expect(m.get('unifeed_pool_messages_total')!.type).toBe('COUNTER');
    expect(value(m, 'unifeed_pool_messages_total', { pool: 'usdm', venue: 'binance-usdm' })).toBe(
      12_345,
    );
    expect(value(m, 'unifeed_pool_reconnects_total')).toBe(3);
    expect(m.get('unifeed_pool_decode_errors_total')!.type).toBe('COUNTER');
    expect(value(m, 'unifeed_pool_decode_errors_total')).toBe(6);
    expect(value(m, 'unifeed_pool_queue_depth')).toBe(7);
    expect(value(m, 'unifeed_pool_queue_dropped_total')).toBe(5);
    expect(value(m, 'unifeed_pool_queue_conflated_total')).toBe(4);
    expect(value(m, 'unifeed_feed_queue_dropped_total', { feed: 'ticker' })).toBe(1);
    expect(value(m, 'unifeed_feed_queue_conflated_total', { feed: 'ticker' })).toBe(8);
    expect(value(m, 'unifeed_connection_state', { connection: '2', state: 'backoff' })).toBe(1);
    expect(value(m, 'unifeed_connection_state', { connection: '2', state: 'open' })).toBe(0);
    expect(value(m, 'unifeed_connection_state', { connection: '1', state: 'open' })).toBe(1);
    // The role is a series of its own, not a label: a rotation does not restart the counters.
    expect(value(m, 'unifeed_connection_role', { connection: '2', role: 'draining' })).toBe(1);
    expect(value(m, 'unifeed_connection_role', { connection: '2', role: 'active' })).toBe(0);
    expect(value(m, 'unifeed_connection_role', { connection: '1', role: 'active' })).toBe(1);
    const reconnects = m
      .get('unifeed_connection_reconnects_total')!
      .metrics.find((s) => s.labels?.connection === '2');
    expect(reconnects).toMatchObject({ value: '4' });
    expect(reconnects!.labels).toEqual({
      pool: 'usdm',
      venue: 'binance-usdm',
      connection: '2',
      group: 'market',
    });
    expect(value(m, 'unifeed_book_state', { symbol: 'BTCUSDT', state: 'resyncing' })).toBe(1);
    expect(value(m, 'unifeed_book_levels', { side: 'asks' })).toBe(999);
    expect(value(m, 'unifeed_book_resyncs_total', { pool: 'usdm' })).toBe(2);
    // Found in review: the shallow rebuilds and a connection's conflations had no series.
    expect(value(m, 'unifeed_book_shallow_total', { pool: 'usdm' })).toBe(1);
    expect(value(m, 'unifeed_connection_queue_conflated_total', { connection: '2' })).toBe(6);
    expect(value(m, 'unifeed_account_events_total', { type: 'ORDER_TRADE_UPDATE' })).toBe(4);
    expect(value(m, 'unifeed_account_request_timeouts_total')).toBe(3);
    expect(value(m, 'unifeed_account_stray_events_total')).toBe(5);
    expect(value(m, 'unifeed_account_duplicates_suppressed_total')).toBe(6);
    expect(value(m, 'unifeed_account_out_of_order_total')).toBe(7);
    expect(value(m, 'unifeed_account_state', { account: 'binance-usdm', state: 'running' })).toBe(
      1,
    );
    expect(value(m, 'unifeed_rest_rate_limited_total', { rest: 'fapi' })).toBe(1);
    expect(value(m, 'unifeed_rest_held_until_seconds')).toBe(1_700_000_060);
    expect(value(m, 'unifeed_feed_pings_total', { feed: 'ticker' })).toBe(9);
    // an account's connection is a feed of its own
    expect(value(m, 'unifeed_feed_state', { feed: 'account:binance-usdm', state: 'open' })).toBe(1);

    // histograms: the counted buckets, cumulative, in seconds (read from the lines: the parser
    // above folds the buckets of labelled histograms together)
    expect(m.get('unifeed_pool_lag_seconds')!.type).toBe('HISTOGRAM');
    const text = await exporter.metrics();
    const line = (series: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(series))
          ?.split(' ')[1],
      );
    const at = '{pool="usdm",venue="binance-usdm"';
    expect(line(`unifeed_pool_lag_seconds_count${at}}`)).toBe(4);
    expect(line(`unifeed_pool_lag_seconds_sum${at}}`)).toBeCloseTo(0.3046, 6);
    expect(line(`unifeed_pool_lag_seconds_bucket${at},le="0.0005"}`)).toBe(2);
    expect(line(`unifeed_pool_lag_seconds_bucket${at},le="0.005"}`)).toBe(3);
    expect(line(`unifeed_pool_lag_seconds_bucket${at},le="0.25"}`)).toBe(3);
    expect(line(`unifeed_pool_lag_seconds_bucket${at},le="0.5"}`)).toBe(4);
    expect(line(`unifeed_pool_lag_seconds_bucket${at},le="+Inf"}`)).toBe(4);
    expect(
      line(
        'unifeed_book_snapshot_latency_seconds_count{pool="usdm",symbol="BTCUSDT",book="btcusdt@depth@100ms"}',
      ),
    ).toBe(1);
  });

  it('two books of one symbol have series of their own: no series is written twice', async () => {
    const sources = new MetricSources();
    sources.addBooks(
      () => [
        bookStats({ book: 'btcusdt@depth@100ms', resyncs: 2 }),
        bookStats({ book: 'btcusdt@depth snapshotLimit=100', resyncs: 5, state: 'syncing' }),
      ],
      'usdm',
    );
    const exporter = new PrometheusExporter(sources);
    const m = await scrape(exporter);
    expect(value(m, 'unifeed_book_resyncs_total', { book: 'btcusdt@depth@100ms' })).toBe(2);
    expect(
      value(m, 'unifeed_book_resyncs_total', { book: 'btcusdt@depth snapshotLimit=100' }),
    ).toBe(5);
    // Every sample line of the exposition names a series once (a scrape with a series twice
    // is refused in part by Prometheus, and makes the two books' figures indistinguishable).
    const samples = (await exporter.metrics())
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.slice(0, l.lastIndexOf(' ')));
    expect(samples.filter((l) => l.startsWith('unifeed_book_state{')).length).toBe(6);
    expect(new Set(samples).size).toBe(samples.length);
  });

  it('each scrape reads the sources afresh and once; a removed source disappears', async () => {
    const sources = new MetricSources();
    let reads = 0;
    const pool = source(poolStats());
    const remove = sources.addPool(
      {
        stats() {
          reads++;
          return pool.current;
        },
      },
      'spot',
    );
    const exporter = new PrometheusExporter(sources);
    reads = 0;
    expect(value(await scrape(exporter), 'unifeed_pool_reconnects_total')).toBe(0);
    expect(reads).toBe(1);
    pool.current = poolStats({ reconnects: 2 });
    expect(value(await scrape(exporter), 'unifeed_pool_reconnects_total')).toBe(2);
    expect(reads).toBe(2);
    remove();
    const m = await scrape(exporter);
    expect(value(m, 'unifeed_pool_reconnects_total', { pool: 'spot' })).toBeUndefined();
  });

  it('counts the reads that threw per source, one series per source watched', async () => {
    const sources = new MetricSources();
    sources.addPool(source(poolStats()), 'usdm');
    const remove = sources.addBooks(() => {
      throw new Error('no books');
    }, 'usdm');
    const exporter = new PrometheusExporter(sources);
    let m = await scrape(exporter);
    // Left out of the scrape before, and shown nowhere else.
    expect(m.get('unifeed_source_read_errors_total')!.type).toBe('COUNTER');
    expect(m.get('unifeed_source_read_errors_total')!.metrics).toEqual([
      { labels: { kind: 'pool', name: 'usdm' }, value: '0' },
      { labels: { kind: 'books', name: 'usdm' }, value: '1' },
    ]);
    m = await scrape(exporter);
    expect(value(m, 'unifeed_source_read_errors_total', { kind: 'books' })).toBe(2);
    // A removed source takes its series along: no more of them than sources watched.
    remove();
    m = await scrape(exporter);
    expect(m.get('unifeed_source_read_errors_total')!.metrics).toEqual([
      { labels: { kind: 'pool', name: 'usdm' }, value: '0' },
    ]);
    expect(sources.readErrors).toBe(2);
  });

  it('adds to your own registry with your prefix, beside your metrics', async () => {
    const registry = new Registry();
    new Counter({ name: 'app_orders_total', help: 'orders', registers: [registry] }).inc(3);
    const sources = new MetricSources();
    sources.addPool(source(poolStats()), 'usdm');
    const exporter = new PrometheusExporter(sources, { registry, prefix: 'mm_' });
    const m = await scrape(exporter);
    expect(value(m, 'app_orders_total')).toBe(3);
    expect(value(m, 'mm_pool_streams')).toBe(200);
    expect(m.has('unifeed_pool_streams')).toBe(false);
    expect(exporter.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('a prefix Prometheus refuses, or a registry already holding the names, is a typed error', () => {
    const invalid = expect.objectContaining({ code: ErrorCode.InvalidOption });
    const sources = new MetricSources();
    expect(() => new PrometheusExporter(sources, { prefix: 'my-app_' })).toThrow(invalid);
    expect(() => new PrometheusExporter(sources, { prefix: '1x_' })).toThrow(invalid);
    const registry = new Registry();
    new PrometheusExporter(sources, { registry });
    const names = registry.getMetricsAsArray().length;
    expect(() => new PrometheusExporter(sources, { registry })).toThrow(invalid);
    // Nothing half-registered: the same names, and another prefix still fits beside them.
    expect(registry.getMetricsAsArray().length).toBe(names);
    new PrometheusExporter(sources, { registry, prefix: 'b_' });
    expect(registry.getMetricsAsArray().length).toBe(names * 2);
  });

  it('two sources of one kind under one name are refused', () => {
    const sources = new MetricSources();
    sources.addPool(source(poolStats()));
    expect(() => sources.addPool(source(poolStats()))).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidOption }),
    );
    expect(() => sources.addPool(source(poolStats()), 'second')).not.toThrow();
  });

  it("a feed named like an account's connection is refused: one label, two series", () => {
    const sources = new MetricSources();
    sources.addAccount(source(accountStats()), 'futures');
    expect(() => sources.addFeed(source(feedStats()), 'account:futures')).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidOption }),
    );
    expect(() => sources.addFeed(source(feedStats()), 'futures')).not.toThrow();
  });

  it('sources, a registry or a prefix of the wrong kind are refused when made, not at a scrape', () => {
    const invalid = (message: string) =>
      expect.objectContaining({
        code: ErrorCode.InvalidOption,
        message: expect.stringContaining(message) as unknown,
      });
    const sources = new MetricSources();
    // Made without complaint before, then every scrape failed with a TypeError (a 500).
    for (const bad of [undefined, {}, { stats: () => ({}) }]) {
      expect(() => new PrometheusExporter(bad as MetricSources)).toThrow(
        invalid('a PrometheusExporter reads a MetricSources, not'),
      );
    }
    // A TypeError of its own before: `getSingleMetric is not a function`.
    for (const registry of [
      {},
      'default',
      new Counter({ name: 'x_total', help: 'x', registers: [] }),
    ]) {
      expect(() => new PrometheusExporter(sources, { registry: registry as Registry })).toThrow(
        invalid('`registry` must be a prom-client Registry, not'),
      );
    }
    // Turned into a string by `+` before: ['app_'] passed as 'app_'.
    expect(
      () => new PrometheusExporter(sources, { prefix: ['app_'] as unknown as string }),
    ).toThrow(invalid('`prefix` must be a string, not "app_"'));
    expect(
      new PrometheusExporter(sources, { prefix: 'app_' }).registry.getSingleMetric(
        'app_pool_streams',
      ),
    ).toBeDefined();
  });

  it('a source without stats(), books without a function, or a name that is none are refused', () => {
    const invalid = (message: string) =>
      expect.objectContaining({
        code: ErrorCode.InvalidOption,
        message: expect.stringContaining(message) as unknown,
      });
    const sources = new MetricSources();
    const none = {} as ReturnType<typeof source<never>>;
    // Taken before, then left out of every read as a read error: watched by nobody.
    expect(() => sources.addRestClient(none, 'fapi')).toThrow(
      invalid('a source of rest needs a stats() method'),
    );
    expect(() => sources.addBooks(undefined as never, 'usdm')).toThrow(
      invalid('books are read by a function (`() => bookStats(pool)`), not "undefined"'),
    );
    expect(() => sources.addBooks([bookStats()] as never, 'usdm')).toThrow(
      invalid('books are read by a function'),
    );
    // A TypeError before.
    expect(() => sources.addPool(undefined as never)).toThrow(
      invalid('a source of pools needs a stats() method'),
    );
    expect(() => sources.addFeed(none)).toThrow(
      invalid('a source of feeds needs a stats() method'),
    );
    expect(() => sources.addAccount(none, 'futures')).toThrow(
      invalid('a source of accounts needs a stats() method'),
    );
    // No name: labelled "undefined" before (or a TypeError for a feed). An empty label value
    // is no label to Prometheus; a number passed the duplicate check beside the same string,
    // and two sources wrote one series.
    expect(() => sources.addRestClient(source(restStats()), undefined as never)).toThrow(
      invalid('a source of rest is named by a non-empty string, not "undefined"'),
    );
    expect(() => sources.addFeed(source(feedStats({ name: undefined as never })))).toThrow(
      invalid('a source of feeds is named by a non-empty string'),
    );
    expect(() => sources.addPool(source(poolStats()), '')).toThrow(
      invalid('a source of pools is named by a non-empty string, not ""'),
    );
    sources.addPool(source(poolStats()), '5');
    expect(() => sources.addPool(source(poolStats()), 5 as never)).toThrow(
      invalid('a source of pools is named by a non-empty string'),
    );
    expect(() => sources.addAccount(source(accountStats({ venue: '' })))).toThrow(
      invalid('a source of accounts is named by a non-empty string'),
    );
    // Nothing refused was added.
    expect(sources.snapshot()).toMatchObject({
      pools: [{ name: '5' }],
      books: [],
      accounts: [],
      rest: [],
      feeds: [],
      unread: [],
    });
  });

  // Pins that each pool series reads its own stat, that a removed pool's gauges go, and that a
  // NaN is left out. Found by mutation: series showed another stat's value, a removed pool
  // kept reporting its last numbers, and NaN samples broke dashboards' sums.
  it('pool series read their own stat; a removed pool leaves no gauge behind; NaN is left out', async () => {
    const sources = new MetricSources();
    const pool = source(
      poolStats({
        streams: 3,
        rotations: 2,
        duplicatesSuppressed: 11,
        unexpected: 1,
        queue: { depth: 7, maxDepth: 90, dropped: 0, conflated: 0 },
      }),
    );
    const remove = sources.addPool(pool, 'usdm');
    const exporter = new PrometheusExporter(sources);
    let m = await scrape(exporter);
    expect(value(m, 'unifeed_pool_queue_max_depth')).toBe(90);
    expect(value(m, 'unifeed_pool_duplicates_suppressed_total')).toBe(11);
    expect(m.get('unifeed_pool_rotations_total')).toMatchObject({ type: 'COUNTER' });
    expect(value(m, 'unifeed_pool_rotations_total')).toBe(2);
    pool.current = poolStats({ messagesPerSecond: Number.NaN, reconnects: Number.NaN });
    m = await scrape(exporter);
    expect(value(m, 'unifeed_pool_messages_per_second', { pool: 'usdm' })).toBeUndefined();
    remove();
    m = await scrape(exporter);
    expect(value(m, 'unifeed_pool_streams', { pool: 'usdm' })).toBeUndefined();
  });
});
