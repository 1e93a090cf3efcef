import { ViolationLog } from './violations.js';

/** One server-side connection as the simulator lists it. */
export interface ServerConnection {
  id: number;
  /** Path plus slot parameter, e.g. `/market/stream?slot=1.7`. */
  slot: string;
  subscriptions: readonly string[];
}

/** What the server and the pool say at one instant. */
export interface SubscriptionSample {
  /** The simulator's count of streams subscribed again on the connection holding them. */
  duplicateSameConnection: number;
  connections: readonly ServerConnection[];
  /** Pool connection ids that are `active` (not a rotation's draining one). */
  activePoolConnections: ReadonlySet<number>;
}

/** The pool connection id a slot names (`...?slot=<pool>.<connection>`), if it names one. */
export function poolConnectionOf(slot: string): number | undefined {
  const m = /[?&][A-Za-z0-9_-]+=\d+\.(\d+)$/.exec(slot);
  return m === null ? undefined : Number(m[1]);
}

/**
 * A stream subscribed twice: again on the connection that holds it (the simulator counts it),
 * or held by two connections that are both active pool connections. During a make-before-break
 * rotation the draining connection legitimately holds its streams until it closes, so pairs
 * with a draining (or no longer pooled) connection are excused. The server learns of a closed
 * socket a moment after the pool forgets it, so a pair counts only when two consecutive samples
 * show it.
 */
export class DoubleSubscriptionCheck {
  readonly violations = new ViolationLog('a stream subscribed twice');
  #lastSame: number | undefined;
  #suspects = new Set<string>();
  readonly #reported = new Set<string>();

  observe(sample: SubscriptionSample): void {
    const same = sample.duplicateSameConnection;
    if (this.#lastSame !== undefined && same > this.#lastSame) {
      this.violations.add(
        `${same - this.#lastSame} subscribe(s) of a stream its connection already held`,
        same - this.#lastSame,
      );
    }
    this.#lastSame = same;
    const holders = new Map<string, number[]>();
    for (const c of sample.connections) {
      const poolId = poolConnectionOf(c.slot);
      if (poolId === undefined || !sample.activePoolConnections.has(poolId)) continue;
      for (const s of c.subscriptions) {
        let list = holders.get(s);
        if (list === undefined) holders.set(s, (list = []));
        list.push(c.id);
      }
    }
    const suspects = new Set<string>();
    for (const [stream, ids] of holders) {
      if (ids.length < 2) continue;
      const key = `${stream} on server connections ${ids.sort((a, b) => a - b).join('+')}`;
      suspects.add(key);
      if (this.#suspects.has(key) && !this.#reported.has(key)) {
        this.#reported.add(key);
        this.violations.add(key);
      }
    }
    this.#suspects = suspects;
  }
}
