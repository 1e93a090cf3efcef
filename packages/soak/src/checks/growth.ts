import { ViolationLog } from './violations.js';

/** One resource sample: a value per resource name. */
export type ResourceSample = Readonly<Record<string, number>>;

/** How one resource changed between the first and the last fifth of the run. */
export interface GrowthResult {
  resource: string;
  /** Median of the first fifth's samples. */
  first: number;
  /** Median of the last fifth's samples. */
  last: number;
  growth: number;
  bound: number;
  samples: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Growth of sockets, timers, listeners or heap beyond a fixed bound between the first and the
 * last fifth of the run. Medians, not single samples: a sample taken while a rotation holds its
 * old and new socket, or a fault's reconnect is in flight, must not decide alone. A resource
 * without a bound is sampled and reported, never judged.
 */
export class GrowthCheck {
  readonly violations = new ViolationLog('growth of sockets, timers, listeners or heap');
  readonly #bounds: Readonly<Record<string, number>>;
  readonly #samples: ResourceSample[] = [];
  readonly #max: number;
  /** Only every `stride`-th offered sample is kept, doubled at each thinning: spacing stays even. */
  #stride = 1;
  #offered = 0;

  /** @param maxSamples samples kept; beyond it every other one is dropped (time stays even). */
  constructor(bounds: Readonly<Record<string, number>>, maxSamples = 4096) {
    this.#bounds = bounds;
    this.#max = maxSamples;
  }

  get samples(): readonly ResourceSample[] {
    return this.#samples;
  }

  add(sample: ResourceSample): void {
    if (this.#offered++ % this.#stride !== 0) return;
    this.#samples.push(sample);
    if (this.#samples.length > this.#max) {
      // Thin evenly: keep every other sample and take every other one from now on, so the
      // fifths still cover the same stretches of time.
      const kept = this.#samples.filter((_, i) => i % 2 === 0);
      this.#samples.length = 0;
      this.#samples.push(...kept);
      this.#stride *= 2;
    }
  }

  /** Judge the run; call once at its end. Needs at least five samples. */
  finish(): GrowthResult[] {
    const n = this.#samples.length;
    const fifth = Math.floor(n / 5);
    if (fifth === 0) {
      this.violations.add(`only ${n} resource samples: growth cannot be judged`);
      return [];
    }
    const head = this.#samples.slice(0, fifth);
    const tail = this.#samples.slice(n - fifth);
    const names = Object.keys(this.#samples[0] ?? {});
    return names.map((resource) => {
      const first = median(head.map((s) => s[resource] ?? 0));
      const last = median(tail.map((s) => s[resource] ?? 0));
      const bound = this.#bounds[resource] ?? Infinity;
      const growth = last - first;
      if (growth > bound) {
        this.violations.add(`${resource}: ${first} -> ${last} (bound +${bound})`);
      }
      return { resource, first, last, growth, bound, samples: n };
    });
  }
}
