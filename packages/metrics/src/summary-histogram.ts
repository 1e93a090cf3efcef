import { LATENCY_BUCKETS_MS, type LatencySummary } from '@unifeed/core';
import { Histogram, type Registry } from 'prom-client';

export type Labels = Record<string, string>;

/** One labelled histogram at one moment. */
export interface SummaryRow {
  readonly labels: Labels;
  readonly summary: LatencySummary;
}

type Exported = Awaited<ReturnType<Histogram['get']>>;

/**
 * A Prometheus histogram whose buckets are counted elsewhere: unifeed's own fixed-bucket
 * `LatencyHistogram`s, which the hot path fills without knowing about Prometheus. prom-client
 * histograms only grow by `observe()`, one sample at a time, so this one reports the counted
 * buckets instead (converted from milliseconds to seconds, as Prometheus expects) and lets the
 * registry format them like any other histogram.
 */
export class SummaryHistogram extends Histogram {
  readonly #name: string;
  readonly #help: string;
  readonly #read: () => SummaryRow[];

  constructor(
    config: { name: string; help: string; labelNames: readonly string[]; registry: Registry },
    read: () => SummaryRow[],
  ) {
    super({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames,
      registers: [config.registry],
      buckets: LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
    });
    this.#name = config.name;
    this.#help = config.help;
    this.#read = read;
  }

  override get(): Promise<Exported> {
    const name = this.#name;
    const bucket = `${name}_bucket`;
    const values: Exported['values'] = [];
    for (const { labels, summary } of this.#read()) {
      LATENCY_BUCKETS_MS.forEach((ms, i) => {
        values.push({
          labels: { ...labels, le: ms / 1000 },
          value: summary.buckets[i] ?? 0,
          metricName: bucket,
        });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: summary.count, metricName: bucket });
      values.push({ labels, value: summary.sumMs / 1000, metricName: `${name}_sum` });
      values.push({ labels, value: summary.count, metricName: `${name}_count` });
    }
    return Promise.resolve({
      name,
      help: this.#help,
      // prom-client's typings declare a numeric enum here; the library itself writes the string.
      type: 'histogram' as unknown as Exported['type'],
      values,
      aggregator: 'sum',
      // The typings ask for it; the values above are already collected.
      collect: (): void => undefined,
    });
  }

  /** prom-client's registry formats from this method when a metric has one (Histogram does). */
  getForPromString(): Promise<Exported> {
    return this.get();
  }
}
