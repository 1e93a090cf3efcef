/** Upper bounds (ms) of the latency buckets; the last bucket is unbounded. */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000,
];

/**
 * A snapshot of a {@link LatencyHistogram}. Samples are ms on the clock's `monotonic()`, so
 * fractions of a ms with `realClock`.
 */
export interface LatencySummary {
  count: number;
  /** Sum of all samples, ms. */
  sumMs: number;
  maxMs: number;
  /** Upper bound of the bucket holding the median; `maxMs` when it is in the open bucket. */
  p50Ms: number;
  /** Upper bound of the bucket holding the 99th percentile. */
  p99Ms: number;
  /** Cumulative counts per bucket bound (Prometheus style), last entry is +Inf. */
  buckets: readonly number[];
}

/**
 * A fixed-bucket histogram: O(buckets) memory forever, one comparison loop per sample.
 * Percentiles are bucket bounds, which is what an alert threshold needs.
 */
export class LatencyHistogram {
  readonly #counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  #count = 0;
  #sum = 0;
  #max = 0;

  record(ms: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++;
    this.#counts[i]!++;
    this.#count++;
    this.#sum += ms;
    if (ms > this.#max) this.#max = ms;
  }

  /** Add every sample of another histogram's summary (a retired connection's, say). */
  absorb(other: LatencySummary): void {
    let previous = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      const cumulative = other.buckets[i] ?? previous;
      this.#counts[i]! += cumulative - previous;
      previous = cumulative;
    }
    this.#count += other.count;
    this.#sum += other.sumMs;
    if (other.maxMs > this.#max) this.#max = other.maxMs;
  }

  summary(): LatencySummary {
    const cumulative: number[] = [];
    let running = 0;
    for (const c of this.#counts) cumulative.push((running += c));
    return {
      count: this.#count,
      sumMs: this.#sum,
      maxMs: this.#max,
      p50Ms: this.#quantile(0.5, cumulative),
      p99Ms: this.#quantile(0.99, cumulative),
      buckets: cumulative,
    };
  }

  #quantile(q: number, cumulative: number[]): number {
    if (this.#count === 0) return 0;
    const rank = Math.ceil(q * this.#count);
    const i = cumulative.findIndex((c) => c >= rank);
    return Math.min(LATENCY_BUCKETS_MS[i] ?? this.#max, this.#max);
  }
}
