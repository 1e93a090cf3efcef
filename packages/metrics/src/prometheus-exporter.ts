import { ErrorCode, UnifeedError } from '@unifeed/core';
import { quoted } from '@unifeed/core/fields';
import { Counter, Gauge, Registry } from 'prom-client';
import {
  accountFamily,
  bookFamily,
  connectionFamily,
  feedFamily,
  poolFamily,
  restFamily,
  sourceFamily,
  type Family,
  type Row,
} from './families.js';
import { requireSources, type MetricSources, type SourcesSnapshot } from './sources.js';
import { SummaryHistogram } from './summary-histogram.js';

/** What Prometheus accepts as a metric name. */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Settings of a {@link PrometheusExporter}. */
export interface PrometheusExporterOptions {
  /**
   * The prom-client registry to add unifeed's metrics to: pass your own to serve them beside
   * your other metrics (and prom-client's `collectDefaultMetrics`). @default a new registry
   */
  registry?: Registry | undefined;
  /**
   * Prefix of every metric name; `UNIFEED_INVALID_OPTION` if a name it makes is not one
   * Prometheus accepts, or is already in `registry`. @default 'unifeed_'
   */
  prefix?: string | undefined;
}

/**
 * Every statistic of the watched pools, connections, order books, account feeds, REST clients
 * and feeds as Prometheus metrics, through prom-client: counters, gauges, states as one series
 * per state, and histograms for lag, subscribe latency and snapshot latency. Values are read
 * from the sources' own `stats()` when scraped, so nothing is added to the data path.
 */
export class PrometheusExporter {
  readonly registry: Registry;
  readonly #sources: MetricSources;
  readonly #prefix: string;
  #snapshot: SourcesSnapshot | undefined;

  constructor(sources: MetricSources, passed: PrometheusExporterOptions | null = {}) {
    requireSources(sources, 'a PrometheusExporter');
    // null from plain JavaScript means no options, as undefined does.
    const options = passed ?? {};
    this.#sources = sources;
    const registry = options.registry ?? new Registry();
    // Duck-typed: a registry of another copy of prom-client is one too. Anything else would
    // fail with a TypeError here, or register nothing and fail every scrape.
    const r = registry as Partial<Registry>;
    if (
      typeof r.getSingleMetric !== 'function' ||
      typeof r.registerMetric !== 'function' ||
      typeof r.metrics !== 'function' ||
      typeof r.contentType !== 'string'
    ) {
      throw new UnifeedError(
        ErrorCode.InvalidOption,
        `\`registry\` must be a prom-client Registry, not ${quoted(registry)}`,
      );
    }
    this.registry = registry;
    this.#prefix = options.prefix ?? 'unifeed_';
    // Not made into one by `+`: ['app_'] would pass as 'app_'.
    if (typeof this.#prefix !== 'string') {
      throw new UnifeedError(
        ErrorCode.InvalidOption,
        `\`prefix\` must be a string, not ${quoted(this.#prefix)}`,
      );
    }
    const families = [
      poolFamily,
      connectionFamily,
      bookFamily,
      accountFamily,
      restFamily,
      feedFamily,
      sourceFamily,
    ] as Family<unknown>[];
    // Every name is checked before any is registered: prom-client's own refusal is an untyped
    // Error thrown halfway, which would leave the registry with some of unifeed's metrics.
    for (const family of families) {
      for (const { name } of family.series) this.#requireFree(this.#prefix + name);
    }
    for (const family of families) this.#register(family);
  }

  /** The exposition's Content-Type header. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The registry's metrics in the Prometheus text format. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * The sources, read once per scrape: prom-client collects every metric synchronously when a
   * scrape starts, so every metric of one scrape sees the same moment, and the next scrape
   * (after this microtask) reads again.
   */
  #read(): SourcesSnapshot {
    if (this.#snapshot === undefined) {
      this.#snapshot = this.#sources.snapshot();
      queueMicrotask(() => (this.#snapshot = undefined));
    }
    return this.#snapshot;
  }

  #requireFree(name: string): void {
    if (!METRIC_NAME.test(name)) {
      throw new UnifeedError(
        ErrorCode.InvalidOption,
        `'${name}' is not a Prometheus metric name: check the prefix`,
      );
    }
    if (this.registry.getSingleMetric(name) !== undefined) {
      throw new UnifeedError(
        ErrorCode.InvalidOption,
        `the registry already holds a metric named '${name}': one exporter per registry and prefix`,
      );
    }
  }

  #register<S>(family: Family<S>): void {
    const rows = (): Row<S>[] => family.rows(this.#read());
    const registers = [this.registry];
    for (const series of family.series) {
      const name = this.#prefix + series.name;
      const { help } = series;
      if (series.type === 'histogram') {
        new SummaryHistogram(
          { name, help, labelNames: family.labelNames, registry: this.registry },
          () => rows().map((r) => ({ labels: r.labels, summary: series.summary(r.stats) })),
        );
        continue;
      }
      const labelNames =
        'split' in series ? [...family.labelNames, series.split] : family.labelNames;
      // Counters hold totals the sources keep; each scrape sets them afresh (reset, then add).
      // NaN and infinities are not values prom-client accepts for a counter: left out.
      const fill = (set: (labels: Record<string, string>, value: number) => void): void => {
        for (const r of rows()) {
          const values: Iterable<readonly [Record<string, string>, number]> =
            'split' in series
              ? [...series.values(r.stats)].map(
                  ([v, n]) => [{ ...r.labels, [series.split]: v }, n] as const,
                )
              : [[r.labels, series.value(r.stats)]];
          for (const [labels, value] of values) if (Number.isFinite(value)) set(labels, value);
        }
      };
      const config = { name, help, labelNames, registers };
      if (series.type === 'counter') {
        new Counter({
          ...config,
          collect() {
            this.reset();
            fill((l, v) => this.inc(l, Math.max(0, v)));
          },
        });
      } else {
        new Gauge({
          ...config,
          collect() {
            this.reset();
            fill((l, v) => this.set(l, v));
          },
        });
      }
    }
  }
}
