import { Observable } from 'rxjs';
import { FanOut } from './fan-out.js';

/**
 * A hot stream for any number of subscribers, as an rxjs `Subject` is, for values that come
 * by the hundred thousand a second. A `Subject` allocates per value (a closure for its error
 * context, an iterator over its observers); this passes each value to a {@link FanOut} of the
 * subscribers and allocates nothing. Late subscribers see only what comes after they joined;
 * after `complete()`, a new subscriber is completed at once.
 */
export class Broadcast<T> {
  readonly #sinks = new FanOut<T>();
  #completed = false;
  readonly observable = new Observable<T>((subscriber) => {
    if (this.#completed) {
      subscriber.complete();
      return;
    }
    this.#sinks.add(subscriber);
    return () => {
      this.#sinks.delete(subscriber);
    };
  });

  next(value: T): void {
    // A subscriber's complete handler may call back: the others are complete already.
    if (this.#completed) return;
    this.#sinks.next(value);
  }

  complete(): void {
    if (this.#completed) return;
    this.#completed = true;
    this.#sinks.complete();
  }
}
