import { Observable, type Subscriber } from 'rxjs';

const NONE: readonly never[] = [];

/**
 * A hot stream for any number of subscribers, as an rxjs `Subject` is, for values that come
 * by the hundred thousand a second. A `Subject` allocates per value (a closure for its error
 * context, an iterator over its observers); this passes each value to the subscribers present
 * when its delivery began and allocates nothing. Late subscribers see only what comes after
 * they joined; after `complete()`, a new subscriber is completed at once.
 */
export class Broadcast<T> {
  /** Replaced on change, never changed: a delivery keeps the list it began with. */
  #subscribers: readonly Subscriber<T>[] = NONE;
  /** The delivery under way: its list, the index it has reached, and its value. */
  #list: readonly Subscriber<T>[] | undefined;
  #index = 0;
  #value: T | undefined;
  #completed = false;
  readonly observable = new Observable<T>((subscriber) => {
    if (this.#completed) {
      subscriber.complete();
      return;
    }
    this.#subscribers = this.#subscribers.concat([subscriber]);
    return () => {
      this.#subscribers = this.#subscribers.filter((s) => s !== subscriber);
    };
  });

  next(value: T): void {
    // A subscriber's complete handler may call back: the others are complete already.
    if (this.#completed) return;
    // A subscriber may start a delivery of its own (see finishDelivery): this one's state is
    // put back after it, in locals, so that nothing is allocated per value.
    const list = this.#list;
    const index = this.#index;
    const held = this.#value;
    const subscribers = this.#subscribers;
    this.#list = subscribers;
    this.#value = value;
    for (this.#index = 0; this.#index < subscribers.length; this.#index++) {
      subscribers[this.#index]!.next(value);
    }
    this.#list = list;
    this.#index = index;
    this.#value = held;
  }

  /**
   * Give the value being delivered to the subscribers it has not reached yet, now: for a
   * subscriber that is about to have later values delivered from inside its own callback
   * (`UnifiedFeed.flush()`), which would otherwise reach the subscribers after it first.
   */
  finishDelivery(): void {
    const list = this.#list;
    if (list === undefined) return;
    while (++this.#index < list.length) list[this.#index]!.next(this.#value as T);
  }

  complete(): void {
    if (this.#completed) return;
    this.#completed = true;
    const subscribers = this.#subscribers;
    this.#subscribers = NONE;
    for (const s of subscribers) s.complete();
  }
}
