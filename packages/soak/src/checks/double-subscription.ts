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
  /** Clock time of the sample, ms. */
  at: number;
  /** The simulator's count of streams subscribed again on the connection holding them. */
  duplicateSameConnection: number;
  connections: readonly ServerConnection[];
  /** Pool connection ids that are `active` (not a rotation's draining one). */
  activePoolConnections: ReadonlySet<number>;
}

/** Settings of a {@link DoubleSubscriptionCheck}. */
export interface DoubleSubscriptionOptions {
  /**
   * The pool's `overlapMaxMs`: a rotation's old connection closes at the latest this long
   * after its replacement has every stream confirmed. @default 10000 (the pool's default)
   */
  overlapMaxMs?: number | undefined;
  /**
   * Added to `overlapMaxMs` before a draining connection's overlap counts (see
   * {@link DEFAULT_OVERLAP_MARGIN_MS}). @default 5000
   */
  marginMs?: number | undefined;
}

/**
 * Margin on top of the pool's `overlapMaxMs`. The overlap is first seen when the server holds a
 * stream on both connections, i.e. once it applied the replacement's SUBSCRIBE; the answer to
 * it arrives a loopback round trip later and makes the replacement settled (one request: 200
 * params fit the 200 streams of a connection). From then the pool closes the old connection
 * within `overlapMaxMs`, and its close waits at most the feed's `closeTimeoutMs` (2 s) for the
 * close handshake before it terminates; the server drops the subscriptions when it sees the
 * close. On top: one sample period (1 s) before the check sees it gone, and 2 s for a loaded
 * two-core machine's event-loop delay.
 */
export const DEFAULT_OVERLAP_MARGIN_MS = 5000;

/** The pool connection id a slot names (`...?slot=<pool>.<connection>`), if it names one. */
export function poolConnectionOf(slot: string): number | undefined {
  const m = /[?&][A-Za-z0-9_-]+=\d+\.(\d+)$/.exec(slot);
  return m === null ? undefined : Number(m[1]);
}

/**
 * A stream subscribed twice: again on the connection that holds it (the simulator counts it),
 * or held by two connections that are both active pool connections. During a make-before-break
 * rotation the draining connection legitimately holds its streams until it closes, so pairs
 * with a draining (or no longer pooled) connection are excused, but only for `overlapMaxMs`
 * plus a margin from the first sample that shows the overlap: a rotation stuck in draining
 * would otherwise hide a double subscription forever. A replacement that reconnects during the
 * overlap starts a new one, as it does in the pool (the old connection carries on until the
 * new socket has every stream again): the excuse restarts when the draining connection shares
 * its streams with none of the server connections it shared them with at the last sample. The
 * server learns of a closed socket a moment after the pool forgets it, so a pair of active
 * connections counts only when two consecutive samples show it.
 */
export class DoubleSubscriptionCheck {
  readonly violations = new ViolationLog('a stream subscribed twice');
  readonly #boundMs: number;
  /**
   * The simulator's count when last seen. From 0, not from the first sample: the simulator
   * counts from its start, and the warm-up's subscriptions (every stream, second subscribers
   * of the same streams) are where a repeated SUBSCRIBE would happen.
   */
  #lastSame = 0;
  #suspects = new Set<string>();
  readonly #reported = new Set<string>();
  /**
   * By server connection id: when it was first seen draining while an active one held its
   * streams, and which active server connections held them at the last sample.
   */
  #overlapSince = new Map<number, { since: number; with: ReadonlySet<number> }>();
  /** Draining server connections already counted (one violation each, however many streams). */
  readonly #overstayed = new Set<number>();

  constructor(options: DoubleSubscriptionOptions = {}) {
    this.#boundMs =
      (options.overlapMaxMs ?? 10_000) + (options.marginMs ?? DEFAULT_OVERLAP_MARGIN_MS);
  }

  /** How long a draining connection may share its streams with an active one. */
  get boundMs(): number {
    return this.#boundMs;
  }

  observe(sample: SubscriptionSample): void {
    const same = sample.duplicateSameConnection;
    if (same > this.#lastSame) {
      this.violations.add(
        `${same - this.#lastSame} subscribe(s) of a stream its connection already held`,
        same - this.#lastSame,
      );
    }
    this.#lastSame = same;
    const active = new Map<string, number[]>();
    const draining = new Map<string, number[]>();
    const present = new Set<number>();
    for (const c of sample.connections) {
      present.add(c.id);
      const poolId = poolConnectionOf(c.slot);
      if (poolId === undefined) continue;
      const into = sample.activePoolConnections.has(poolId) ? active : draining;
      for (const s of c.subscriptions) {
        let list = into.get(s);
        if (list === undefined) into.set(s, (list = []));
        list.push(c.id);
      }
    }
    const suspects = new Set<string>();
    const overlapping = new Map<number, { streams: number; with: Set<number> }>();
    for (const [stream, ids] of active) {
      for (const id of draining.get(stream) ?? []) {
        let o = overlapping.get(id);
        if (o === undefined) overlapping.set(id, (o = { streams: 0, with: new Set() }));
        o.streams++;
        for (const a of ids) o.with.add(a);
      }
      if (ids.length < 2) continue;
      const key = `${stream} on server connections ${ids.sort((a, b) => a - b).join('+')}`;
      suspects.add(key);
      if (this.#suspects.has(key) && !this.#reported.has(key)) {
        this.#reported.add(key);
        this.violations.add(key);
      }
    }
    this.#suspects = suspects;
    this.#overlaps(sample.at, overlapping, present);
  }

  /** Start or check the excuse of every draining connection that shares streams with an active one. */
  #overlaps(
    at: number,
    overlapping: ReadonlyMap<number, { streams: number; with: ReadonlySet<number> }>,
    present: ReadonlySet<number>,
  ): void {
    for (const [id, o] of overlapping) {
      const last = this.#overlapSince.get(id);
      if (last === undefined || ![...o.with].some((a) => last.with.has(a))) {
        this.#overlapSince.set(id, { since: at, with: o.with });
        continue;
      }
      const since = last.since;
      this.#overlapSince.set(id, { since, with: o.with });
      if (at - since <= this.#boundMs || this.#overstayed.has(id)) continue;
      this.#overstayed.add(id);
      this.violations.add(
        `server connection ${id} (draining) still held ${o.streams} stream(s) of active connection(s) ${[...o.with].sort((a, b) => a - b).join('+')} ${((at - since) / 1000).toFixed(1)} s after the overlap began (bound ${this.#boundMs / 1000} s)`,
      );
    }
    // Overlapping no more (its replacement's socket dropped) or gone from the server: forgotten,
    // so both collections stay as small as the connection list.
    for (const id of this.#overlapSince.keys())
      if (!overlapping.has(id)) this.#overlapSince.delete(id);
    for (const id of this.#overstayed) if (!present.has(id)) this.#overstayed.delete(id);
  }
}
