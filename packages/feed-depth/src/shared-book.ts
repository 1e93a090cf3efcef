import type { UnifeedError } from '@unifeed/core';
import type { Subscription } from 'rxjs';

/** One subscriber of a shared book, as the book tells it. */
export interface BookListener<C> {
  change(change: C): void;
  error(err: UnifeedError): void;
  complete(): void;
}

/**
 * One book per (pool, name), shared by all its subscribers, on either venue kind. Everything
 * it holds open (the pool's streams, a sync's timers and requests) hangs on `subscription`, so
 * that ending it leaves nothing running.
 */
export interface SharedBook<C> {
  readonly key: string;
  readonly listeners: Set<BookListener<C>>;
  readonly subscription: Subscription;
}

/**
 * Join the book `key` of `byKey`, starting it when there is none, and return the teardown (the
 * last listener out ends the book). The listener joins before `start` runs: the book can end
 * inside it (a pool closed by a status handler while the book's connection opens completes
 * the stream at once), and a listener added after would wait on a dead book forever.
 */
export function joinBook<C, B extends SharedBook<C>>(
  byKey: Map<string, B>,
  key: string,
  listener: BookListener<C>,
  create: () => B,
  start: (book: B) => void,
): () => void {
  let book = byKey.get(key);
  if (book === undefined) {
    book = create();
    byKey.set(key, book);
    book.listeners.add(listener);
    try {
      start(book);
    } catch (err) {
      // The throw reaches this subscriber; only the others (if any joined meanwhile) are told.
      book.listeners.delete(listener);
      endBook(byKey, book);
      throw err;
    }
  } else {
    book.listeners.add(listener);
  }
  const b = book;
  return () => {
    if (b.listeners.delete(listener) && b.listeners.size === 0) endBook(byKey, b);
  };
}

/**
 * End `book`: it leaves `byKey`, everything it held open is released, then every listener
 * is told, with `error` or as complete. Listeners are told once: a second end finds none.
 */
export function endBook<C, B extends SharedBook<C>>(
  byKey: Map<string, B>,
  book: B,
  error?: UnifeedError,
): void {
  if (byKey.get(book.key) === book) byKey.delete(book.key);
  book.subscription.unsubscribe();
  const told = [...book.listeners];
  book.listeners.clear();
  for (const l of told) {
    if (error === undefined) l.complete();
    else l.error(error);
  }
}
