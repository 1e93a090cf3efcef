/**
 * Where a stream's payloads, or a parsed stream's events, go. An rxjs Subscriber is one; the
 * pool's own fan-out uses plain ones, so that a message passes one rxjs layer (the user's
 * subscriber), not one per stage.
 */
export interface Sink<T> {
  next(value: T): void;
  error(err: unknown): void;
  complete(): void;
}

const NONE: readonly never[] = [];

/**
 * The sinks of one stream, each value delivered to every one. A pool holds one or two per
 * stream, thousands in all, and nearly every one has a single sink: that one is kept in a
 * field, the others in an array replaced on change, so a stream costs neither a `Set` nor an
 * array. Delivery reads both at its start, so a sink added or removed during a delivery takes
 * effect from the next value, and an error or completion reaches exactly the sinks present
 * when it began.
 */
export class FanOut<T> implements Sink<T> {
  #first: Sink<T> | undefined;
  #rest: readonly Sink<T>[] = NONE;

  get size(): number {
    return (this.#first === undefined ? 0 : 1) + this.#rest.length;
  }

  /** `count` of every sink, added up. */
  sum(count: (sink: Sink<T>) => number): number {
    let n = this.#first === undefined ? 0 : count(this.#first);
    for (const sink of this.#rest) n += count(sink);
    return n;
  }

  /** Adds `sink` once: adding it again changes nothing. */
  add(sink: Sink<T>): void {
    if (this.#first === undefined) this.#first = sink;
    else if (sink !== this.#first && !this.#rest.includes(sink)) {
      // concat sizes the new array exactly; a spread would reserve room for 17.
      this.#rest = this.#rest.concat([sink]);
    }
  }

  /** False when `sink` was not there. */
  delete(sink: Sink<T>): boolean {
    if (sink === this.#first) {
      this.#first = this.#rest[0];
      this.#rest = this.#rest.length <= 1 ? NONE : this.#rest.slice(1);
      return true;
    }
    const at = this.#rest.indexOf(sink);
    if (at < 0) return false;
    this.#rest =
      this.#rest.length === 1 ? NONE : this.#rest.slice(0, at).concat(this.#rest.slice(at + 1));
    return true;
  }

  next(value: T): void {
    const first = this.#first;
    const rest = this.#rest;
    first?.next(value);
    for (let i = 0; i < rest.length; i++) rest[i]!.next(value);
  }

  error(err: unknown): void {
    for (const sink of this.#all()) sink.error(err);
  }

  complete(): void {
    for (const sink of this.#all()) sink.complete();
  }

  #all(): readonly Sink<T>[] {
    return this.#first === undefined ? NONE : [this.#first, ...this.#rest];
  }
}
