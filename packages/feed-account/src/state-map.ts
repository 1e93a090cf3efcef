import { BehaviorSubject, type Observable } from 'rxjs';

/**
 * Most entries a state map holds. A real account has a few hundred assets and positions at
 * most; the bound only stops a misbehaving peer from growing memory without end.
 */
export const MAX_STATE_ENTRIES = 10_000;

/**
 * Make room for a new `key` in `map`, which holds at most `max`: the first key in the map's
 * order goes. Bounded beats complete when the peer misbehaves.
 */
function makeRoom<V>(map: Map<string, V>, key: string, max: number): void {
  if (map.has(key) || map.size < max) return;
  const first = map.keys().next().value;
  if (first !== undefined) map.delete(first);
}

/** Set `key` in `map` as its most recent write; the least recently written goes when full. */
export function setRecent<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  makeRoom(map, key, max);
  map.set(key, value);
}

/**
 * Keyed account state (balances by asset, positions by symbol and side) kept from events.
 * Changes are applied in batches, and each batch that changed something emits one immutable
 * snapshot; a new subscriber gets the current snapshot at once.
 *
 * Every change carries the venue's time of the update it comes from, and a change older than
 * what the map holds for its key is refused: the venue does not promise order across
 * connections (nor, on spot, at all), and the feed moves between connections. A removal is
 * remembered with its time, so that an older update cannot bring back what a newer one
 * removed. Equal times apply in arrival order, as the venue sends them.
 */
export class StateMap<V extends { readonly updatedAt: number }> {
  readonly #entries = new Map<string, V>();
  /** When each removed key was removed; bounded like the entries. */
  readonly #removed = new Map<string, number>();
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

  /** Set `key` to `value`; false, and nothing changed, when `value` is older than the key's state. */
  set(key: string, value: V): boolean {
    if (this.#isOlder(key, value.updatedAt)) return false;
    this.#removed.delete(key);
    // The oldest-inserted entry goes; an update keeps its key's place, as a snapshot lists it.
    makeRoom(this.#entries, key, MAX_STATE_ENTRIES);
    this.#entries.set(key, value);
    this.#dirty = true;
    return true;
  }

  /**
   * Remove `key` as of the venue's time `at`; false, and nothing changed, when the key's state
   * is newer.
   */
  delete(key: string, at: number): boolean {
    if (this.#isOlder(key, at)) return false;
    if (this.#entries.delete(key)) this.#dirty = true;
    setRecent(this.#removed, key, at, MAX_STATE_ENTRIES);
    return true;
  }

  #isOlder(key: string, at: number): boolean {
    const held = this.#entries.get(key)?.updatedAt ?? this.#removed.get(key);
    return held !== undefined && at < held;
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
