import { BehaviorSubject, type Observable } from 'rxjs';

/**
 * Most entries a state map holds. A real account has a few hundred assets and positions at
 * most; the bound only stops a misbehaving peer from growing memory without end.
 */
export const MAX_STATE_ENTRIES = 10_000;

/**
 * Keyed account state (balances by asset, positions by symbol and side) kept from events.
 * Changes are applied in batches, and each batch that changed something emits one immutable
 * snapshot; a new subscriber gets the current snapshot at once.
 */
export class StateMap<V> {
  readonly #entries = new Map<string, V>();
  readonly #changes = new BehaviorSubject<ReadonlyMap<string, V>>(new Map());
  #dirty = false;
  #ended = false;

  /** Snapshots, the current one first. Errors with the feed's fatal error; completes on stop. */
  get changes$(): Observable<ReadonlyMap<string, V>> {
    return this.#changes.asObservable();
  }

  /** The current snapshot. */
  get current(): ReadonlyMap<string, V> {
    return this.#changes.getValue();
  }

  get size(): number {
    return this.#entries.size;
  }

  set(key: string, value: V): void {
    if (!this.#entries.has(key) && this.#entries.size >= MAX_STATE_ENTRIES) {
      // Evict the oldest-inserted entry: bounded beats complete when the peer misbehaves.
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, value);
    this.#dirty = true;
  }

  delete(key: string): void {
    if (this.#entries.delete(key)) this.#dirty = true;
  }

  /** Emit one snapshot if anything changed since the last. */
  commit(): void {
    if (!this.#dirty || this.#ended) return;
    this.#dirty = false;
    this.#changes.next(new Map(this.#entries));
  }

  /** End with the feed's fatal error; once. */
  error(err: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#changes.error(err);
  }

  complete(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#changes.complete();
  }
}
