import {
  backoffDelay,
  DEFAULT_BACKOFF,
  ErrorCode,
  LatencyHistogram,
  UnifeedError,
  isUnifeedError,
  type Clock,
  type LatencySummary,
  type Logger,
  type RestClient,
  type TimerHandle,
} from '@unifeed/core';
import type { DepthDialect } from './dialect.js';
import type { DepthDiffEvent, Level } from './events.js';
import { OrderBook, type ReadonlyOrderBook } from './order-book.js';
import { parseSnapshot, type DepthSnapshot } from './parse.js';

/** `syncing`: no book yet. `live`: checked and current. `resyncing`: the last good book, kept readable while a new one is built. */
export type BookState = 'syncing' | 'live' | 'resyncing';

/** Why a book is being rebuilt. */
export type ResyncReason =
  /**
   * A diff event did not continue the book: it skipped updates, or it is older than the book
   * without being an event the book already has (the book's id is one the stream never reaches:
   * a diff or snapshot with a wrong update id).
   */
  | 'gap'
  /** The pool announced a hole in the stream (reconnect, queue drop, decode, stale...). */
  | 'stream-gap'
  /** Best bid >= best ask after an update. */
  | 'crossed'
  /**
   * A side the snapshot cut at `snapshotLimit` levels has fewer levels left within them than a
   * view shows: past the cut, the book knows only levels updated since, and the venue's others
   * would be missing from the view.
   */
  | 'shallow';

/** What a {@link BookSync} reports, in order. */
export type BookChange =
  /** The book is live: after the first sync and after every resync. */
  | { readonly type: 'snapshot'; readonly book: ReadonlyOrderBook }
  /** One checked diff event was applied to the live book. */
  | { readonly type: 'update'; readonly event: DepthDiffEvent; readonly book: ReadonlyOrderBook }
  /** The book is no longer current; the last good one (if any) stays readable. */
  | {
      readonly type: 'resyncing';
      readonly reason: ResyncReason;
      readonly book: ReadonlyOrderBook | undefined;
    };

/** Counters of one book. */
export interface BookStats {
  /**
   * Which book of its pool this is, unique on the pool: its stream, and the settings that made
   * it a book of its own when they are not the defaults (`btcusdt@depth@100ms`,
   * `btcusdt@depth snapshotLimit=100`). Two books of one symbol differ here, not in `symbol`.
   */
  book: string;
  symbol: string;
  state: BookState;
  lastUpdateId: number;
  /** Continuity breaks found in diff events. */
  gaps: number;
  /** Holes the pool announced for the diff stream. */
  streamGaps: number;
  /** Rebuilds started for any reason. */
  resyncs: number;
  /** Updates that would have crossed the book. */
  crossed: number;
  /** Resyncs because the price moved past what the snapshot's `snapshotLimit` levels covered. */
  shallow: number;
  bufferOverflows: number;
  /**
   * Live diff events already in the book (repeats). Buffered ones the snapshot covers are
   * skipped uncounted: every sync has them.
   */
  duplicates: number;
  updatesApplied: number;
  snapshots: number;
  /** Snapshots discarded: answered after their sync was abandoned, or older than the first buffered event. */
  staleSnapshots: number;
  snapshotFailures: number;
  /** From asking for a snapshot to having it, budget waits included. */
  snapshotLatency: LatencySummary;
  bidLevels: number;
  askLevels: number;
  buffered: number;
}

/** Settings of a {@link BookSync}. */
export interface BookSyncOptions {
  /** Which book of its pool this is, reported in its stats ({@link BookStats.book}). */
  book: string;
  symbol: string;
  dialect: DepthDialect;
  rest: RestClient;
  snapshotLimit: number;
  maxBuffer: number;
  /** Without any diff event this long after `start()`, fetch the snapshot anyway. */
  quietSnapshotMs: number;
  clock: Clock;
  random: () => number;
  logger: Logger;
  onChange(change: BookChange): void;
  /** The book cannot be kept (the venue refused the snapshot request as invalid). */
  onFatal(error: UnifeedError): void;
}

type Verdict = 'apply' | 'skip' | 'gap';

/**
 * A book live this long without a break has proven its sync even if no update came (a quiet
 * symbol): its next resync asks at once. The back-off's cap: a feed that breaks just after this
 * costs no more snapshots than the back-off would allow.
 */
const PROVEN_LIVE_MS = DEFAULT_BACKOFF.maxMs;

/**
 * How long after a book goes live from a snapshot the stream may still deliver events that the
 * snapshot already holds. Such events were in transit when the snapshot answered, so they stop
 * within the stream's lag behind the REST side; a stream that keeps sending them longer than this
 * never reaches the snapshot's id (a wrong `lastUpdateId`), and the book, though it says live,
 * would ignore every update. 10 s allows the slowest push interval (1 s) and seconds of
 * delivery lag, where the health monitor calls 100 ms critical already (`queue-lag`).
 * Under {@link PROVEN_LIVE_MS}, so that the resync it starts waits the back-off: a venue that
 * keeps answering such snapshots is asked at the back-off's pace, not the budget's.
 */
const SNAPSHOT_LEAD_MS = 10_000;

/**
 * One symbol's local book, kept exactly as protocol.md prescribes: buffer diff events,
 * fetch a snapshot, drop what it already contains, then check every event's continuity,
 * not only the first. A break, a hole announced by the pool, a crossed book or a buffer
 * overflow rebuilds this book alone, without a reconnect, while the last good one stays
 * readable. Snapshots are tagged with an epoch, so one that answers after its sync was
 * abandoned is discarded.
 */
export class BookSync {
  readonly #o: BookSyncOptions;
  #state: BookState = 'syncing';
  /** Why the live book was lost, while it is being rebuilt (what `resyncing` announced). */
  #reason: ResyncReason | undefined;
  /** The live book, or the last good one while resyncing. */
  #book: OrderBook | undefined;
  /** Since the snapshot, no event has been applied: the first-event rule applies. */
  #fresh = true;
  /** The last event applied, and the book's id before it: what a repeat may be. */
  #lastApplied: DepthDiffEvent | undefined;
  #idBeforeLast = 0;
  /** Since the book went live, an update arrived and continued it: the sync is proven. */
  #updatedLive = false;
  /** When the book last went live. */
  #liveSince = 0;
  /**
   * The quiet spell passed without a diff event: a snapshot is asked for with nothing buffered,
   * and asked again after a failure, until one arrives or a diff event does.
   */
  #quietDue = false;
  #buffer: DepthDiffEvent[] = [];
  #epoch = 0;
  #inFlight: AbortController | undefined;
  #retryTimer: TimerHandle | undefined;
  #quietTimer: TimerHandle | undefined;
  /** A snapshot that came before any diff event, kept for the first one. */
  #held: DepthSnapshot | undefined;
  #attempt = 0;
  #stopped = false;
  /**
   * Per side, the worst price of a snapshot cut at `snapshotLimit` levels (undefined: the
   * venue sent all it had): past it the book knows only levels updated since.
   */
  #floors: { bids: number | undefined; asks: number | undefined } = {
    bids: undefined,
    asks: undefined,
  };
  /** How many levels the views ask for: `depth` of each subscriber that wants one. */
  readonly #depths = new Map<number, number>();
  readonly #latency = new LatencyHistogram();
  readonly #counts = {
    gaps: 0,
    streamGaps: 0,
    resyncs: 0,
    crossed: 0,
    shallow: 0,
    bufferOverflows: 0,
    duplicates: 0,
    updatesApplied: 0,
    snapshots: 0,
    staleSnapshots: 0,
    snapshotFailures: 0,
  };

  constructor(options: BookSyncOptions) {
    this.#o = options;
  }

  get state(): BookState {
    return this.#state;
  }

  /** Why the book is being rebuilt, as announced; undefined while live or before the first. */
  get reason(): ResyncReason | undefined {
    return this.#reason;
  }

  /** The live book, the last good one while resyncing, or undefined before the first sync. */
  get book(): ReadonlyOrderBook | undefined {
    return this.#book;
  }

  /**
   * Begin. The snapshot is normally asked for when the first diff event arrives; if none
   * comes within `quietSnapshotMs` it is asked for anyway, so that a symbol the venue does
   * not have (Binance streams nothing for it) fails with the venue's error instead of
   * syncing forever, and a quiet symbol has its snapshot ready. Nothing once stopped: a book
   * can end while it starts (its pool closed as the stream's connection opened).
   */
  start(): void {
    if (this.#stopped) return;
    this.#armQuiet();
  }

  /**
   * Ask for a snapshot after `quietSnapshotMs` without a diff event. Normally the first event
   * asks: a snapshot taken before it (a reconnect's resubscribe takes a while) would be older
   * than it, wasted, and cost a back-off. A quiet symbol may send none for minutes, at the
   * start and after a resync alike.
   */
  #armQuiet(): void {
    // One armed already keeps its deadline: a gap must not put off a quiet start's snapshot.
    if (this.#quietTimer !== undefined) return;
    this.#quietTimer = this.#o.clock.setTimeout(() => {
      this.#quietTimer = undefined;
      if (this.#buffer.length > 0) return;
      this.#quietDue = true;
      this.#requestSnapshot();
    }, this.#o.quietSnapshotMs);
  }

  /** A diff event of this symbol, as the stream delivered it. */
  onDiff(e: DepthDiffEvent): void {
    if (this.#stopped) return;
    this.#quietDue = false;
    if (this.#quietTimer !== undefined) {
      this.#o.clock.clearTimeout(this.#quietTimer);
      this.#quietTimer = undefined;
    }
    if (this.#state === 'live') this.#applyLive(this.#book!, e);
    else this.#bufferEvent(e);
  }

  /** The pool announced a hole in the diff stream: nothing before it can be trusted. */
  onStreamGap(): void {
    if (this.#stopped) return;
    this.#counts.streamGaps++;
    this.#resync('stream-gap', []);
  }

  /** Abandon everything: no timer, no request left. */
  stop(): void {
    this.#stopped = true;
    this.#epoch++;
    this.#inFlight?.abort();
    this.#inFlight = undefined;
    this.#o.clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#o.clock.clearTimeout(this.#quietTimer);
    this.#quietTimer = undefined;
    this.#buffer = [];
    this.#held = undefined;
  }

  stats(): BookStats {
    return {
      book: this.#o.book,
      symbol: this.#o.symbol,
      state: this.#state,
      lastUpdateId: this.#book?.lastUpdateId ?? 0,
      ...this.#counts,
      snapshotLatency: this.#latency.summary(),
      bidLevels: this.#book?.bids.size ?? 0,
      askLevels: this.#book?.asks.size ?? 0,
      buffered: this.#buffer.length,
    };
  }

  // --- live -----------------------------------------------------------------------------

  #applyLive(book: OrderBook, e: DepthDiffEvent): void {
    let verdict = this.#verdict(book, e);
    if (
      verdict === 'skip' &&
      this.#fresh &&
      this.#o.clock.monotonic() - this.#liveSince >= SNAPSHOT_LEAD_MS
    ) {
      this.#o.logger.warn(
        { symbol: this.#o.symbol, u: e.lastUpdateId, bookId: book.lastUpdateId },
        'diff stream never reached the snapshot id; resync',
      );
      verdict = 'gap';
    }
    if (verdict === 'skip') {
      this.#counts.duplicates++;
      return;
    }
    if (verdict === 'gap') {
      this.#counts.gaps++;
      this.#resync('gap', [e]);
      return;
    }
    if (!this.#applyUncrossed(book, e)) {
      this.#resync('crossed', []);
      return;
    }
    // Before the update counts as proof: a book shallow at its first live update (a view as
    // deep as the snapshot, in a moving market) waits the back-off, not the market's pace.
    if (this.#shallow(book)) {
      this.#counts.shallow++;
      // Carried: a snapshot that has it (asked at once, for a proven book) goes live at once.
      this.#resync('shallow', [e]);
      return;
    }
    if (!this.#updatedLive) {
      this.#updatedLive = true;
      this.#attempt = 0;
    }
    this.#o.onChange({ type: 'update', event: e, book });
  }

  /**
   * A view of `depth` levels reads this book: while it is held, a side the snapshot cut that
   * keeps fewer than `depth` levels within the cut is rebuilt. Returns the release.
   */
  want(depth: number): () => void {
    this.#depths.set(depth, (this.#depths.get(depth) ?? 0) + 1);
    // A deeper view joining a live book the price has moved far enough for it.
    if (this.#state === 'live' && this.#shallow(this.#book!)) {
      this.#counts.shallow++;
      this.#resync('shallow', []);
    }
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const n = this.#depths.get(depth)! - 1;
      if (n > 0) this.#depths.set(depth, n);
      else this.#depths.delete(depth);
    };
  }

  /** Whether a side the snapshot cut keeps fewer levels within the cut than a view shows. */
  #shallow(book: OrderBook): boolean {
    if (this.#depths.size === 0) return false;
    const needed = Math.max(...this.#depths.keys());
    const { bids, asks } = this.#floors;
    return (
      (bids !== undefined && book.bids.countTo(bids) < needed) ||
      (asks !== undefined && book.asks.countTo(asks) < needed)
    );
  }

  /**
   * Whether `e` continues `book`. Right after a snapshot the event must contain the update
   * after the snapshot's id (spot: `U <= id + 1 <= u`; futures: `U <= id <= u`, where the
   * boundary `U == id` happens, or `pu == id`: see {@link #continuesSnapshot}). After that
   * every event must chain exactly: spot `U == id + 1`, futures `pu == id`. Events the book
   * already has are skipped: right after a snapshot, any it covers; later, only repeats.
   */
  #verdict(book: OrderBook, e: DepthDiffEvent): Verdict {
    const id = book.lastUpdateId;
    const adjacent = this.#o.dialect.chain === 'adjacent';
    if (this.#fresh) {
      if (adjacent ? e.lastUpdateId <= id : e.lastUpdateId < id) return 'skip';
      return this.#continuesSnapshot(e, id) ? 'apply' : 'gap';
    }
    if (e.lastUpdateId <= id) return this.#isRepeat(e) ? 'skip' : 'gap';
    if (adjacent) return e.firstUpdateId === id + 1 ? 'apply' : 'gap';
    return e.previousUpdateId === id ? 'apply' : 'gap';
  }

  /**
   * Whether a snapshot at `id` leaves out nothing `e` does not bring: spot `U <= id + 1`;
   * futures `U <= id`, or `pu == id`. Futures ids skip between events (`U 157, u 160, pu 149`),
   * so a snapshot taken between two events sits at the earlier one's `u`, below the next `U`,
   * and that event continues it exactly. A quiet book's snapshot, fetched before any event,
   * always sits there: refused, it would be fetched again (weight and a back-off) for nothing.
   */
  #continuesSnapshot(e: DepthDiffEvent, id: number): boolean {
    if (this.#o.dialect.chain === 'adjacent') return e.firstUpdateId <= id + 1;
    return e.firstUpdateId <= id || e.previousUpdateId === id;
  }

  /**
   * Whether `e`, at or below the book's id after an applied event, is one the book already has:
   * the last applied event again, or one wholly before it. Events never share update ids, so any
   * other is a new event under an id the book should not have reached; skipping it would skip
   * every later one too, and one diff with a wrong `u` (2^53 - 1) would freeze a book that says
   * live. Judged exactly rather than by counting skips: a real repeat always passes, however
   * many come, and the first event after a wrong id already ends the book.
   */
  #isRepeat(e: DepthDiffEvent): boolean {
    if (e.lastUpdateId <= this.#idBeforeLast) return true;
    const last = this.#lastApplied!;
    return (
      e.firstUpdateId === last.firstUpdateId &&
      e.lastUpdateId === last.lastUpdateId &&
      e.previousUpdateId === last.previousUpdateId
    );
  }

  /**
   * Apply `e` unless the result is crossed; then undo it, so that the last good book stays
   * readable, and return false.
   */
  #applyUncrossed(book: OrderBook, e: DepthDiffEvent): boolean {
    const before = book.lastUpdateId;
    book.apply(e.bids, e.asks, e.lastUpdateId);
    if (!book.crossed()) {
      this.#fresh = false;
      this.#counts.updatesApplied++;
      this.#lastApplied = e;
      this.#idBeforeLast = before;
      return true;
    }
    book.undo();
    this.#counts.crossed++;
    this.#o.logger.warn({ symbol: this.#o.symbol, u: e.lastUpdateId }, 'book would cross; resync');
    return false;
  }

  // --- sync -----------------------------------------------------------------------------

  #bufferEvent(e: DepthDiffEvent): void {
    if (this.#buffer.length >= this.#o.maxBuffer) {
      // Buffer again from this event, but keep the snapshot request's place in the budget
      // queue: the snapshot it brings is checked against the new first event like any other.
      this.#counts.bufferOverflows++;
      this.#buffer = [];
    }
    this.#buffer.push(e);
    const held = this.#held;
    if (held !== undefined) {
      this.#held = undefined;
      this.#useSnapshot(held);
      return;
    }
    this.#requestSnapshot();
  }

  /**
   * Give up the current book (it stays readable) and start a new sync with `carry` as the
   * first buffered events. A new epoch makes any answer to an older request stale.
   */
  #resync(reason: ResyncReason, carry: DepthDiffEvent[]): void {
    this.#counts.resyncs++;
    this.#epoch++;
    this.#inFlight?.abort();
    this.#inFlight = undefined;
    this.#held = undefined;
    this.#buffer = carry.slice(0, this.#o.maxBuffer);
    if (this.#buffer.length === 0) this.#armQuiet();
    const wasLive = this.#state === 'live';
    // A book that continued with a live update, or stayed live for PROVEN_LIVE_MS, proved its
    // sync; one that broke before (a gap in the replayed buffer or in the first live event, a
    // feed without `pu`) waits the back-off delay, so that a venue that keeps breaking is not
    // asked for snapshots at the weight budget's full speed. Replayed events prove nothing:
    // the snapshot was checked against them.
    const proven =
      wasLive &&
      (this.#updatedLive || this.#o.clock.monotonic() - this.#liveSince >= PROVEN_LIVE_MS);
    this.#state = this.#book === undefined ? 'syncing' : 'resyncing';
    this.#o.logger.info({ symbol: this.#o.symbol, reason }, 'book resync');
    // Announced once per loss of the live book; restarts while not live change nothing visible.
    if (wasLive) {
      this.#reason = reason;
      this.#o.onChange({ type: 'resyncing', reason, book: this.#book });
    }
    if (proven) {
      this.#attempt = 0;
      this.#requestSnapshot();
    } else {
      this.#retryLater(`resync after ${reason} before any live update`);
    }
  }

  /**
   * Ask for a snapshot, unless one is on its way or a retry is waiting, or nothing is buffered
   * (past a quiet start, one is asked for anyway). Never for a stopped book: nobody would read it.
   */
  #requestSnapshot(): void {
    if (this.#stopped) return;
    if (this.#inFlight || this.#retryTimer !== undefined) return;
    if (this.#buffer.length === 0 && !this.#quietDue) return;
    const { dialect, rest, clock, symbol, snapshotLimit } = this.#o;
    const epoch = this.#epoch;
    const ac = new AbortController();
    this.#inFlight = ac;
    const asked = clock.monotonic();
    rest
      .request({
        path: dialect.snapshotPath,
        query: { symbol, limit: snapshotLimit },
        weight: dialect.snapshotWeight(snapshotLimit),
        signal: ac.signal,
      })
      .then(
        (body) => {
          if (epoch !== this.#epoch) {
            this.#counts.staleSnapshots++;
            return;
          }
          this.#inFlight = undefined;
          this.#latency.record(clock.monotonic() - asked);
          this.#onSnapshot(body);
        },
        (err: unknown) => {
          if (epoch !== this.#epoch) return;
          this.#inFlight = undefined;
          this.#onSnapshotError(err);
        },
      );
  }

  #onSnapshot(body: unknown): void {
    let snap: DepthSnapshot;
    try {
      snap = parseSnapshot(body, this.#o.symbol);
    } catch (err) {
      this.#onSnapshotError(err);
      return;
    }
    this.#counts.snapshots++;
    if (this.#buffer.length === 0) {
      this.#quietDue = false;
      this.#held = snap;
      return;
    }
    this.#useSnapshot(snap);
  }

  #useSnapshot(snap: DepthSnapshot): void {
    // Update ids say the order, whatever order the events arrived in.
    this.#buffer.sort((a, b) => a.lastUpdateId - b.lastUpdateId);
    const first = this.#buffer[0]!;
    // The snapshot must reach the first buffered event, or the updates between are lost.
    if (!this.#continuesSnapshot(first, snap.lastUpdateId)) {
      this.#counts.staleSnapshots++;
      this.#retryLater('snapshot older than the first buffered event');
      return;
    }
    const book = new OrderBook(this.#o.symbol);
    book.load(snap.bids, snap.asks, snap.lastUpdateId);
    const limit = this.#o.snapshotLimit;
    this.#floors = {
      bids: snap.bids.length >= limit ? worst(snap.bids, Math.min) : undefined,
      asks: snap.asks.length >= limit ? worst(snap.asks, Math.max) : undefined,
    };
    if (book.crossed()) {
      this.#counts.crossed++;
      this.#retryLater('crossed snapshot');
      return;
    }
    const buffered = this.#buffer;
    this.#buffer = [];
    this.#fresh = true;
    for (let i = 0; i < buffered.length; i++) {
      const e = buffered[i]!;
      const verdict = this.#verdict(book, e);
      if (verdict === 'skip') continue;
      if (verdict === 'gap') {
        this.#counts.gaps++;
        this.#resync('gap', after(buffered.slice(i), book.lastUpdateId));
        return;
      }
      if (!this.#applyUncrossed(book, e)) {
        this.#resync('crossed', buffered.slice(i + 1));
        return;
      }
    }
    if (this.#shallow(book)) {
      // The replay took the book past what the snapshot covered for a view: not live on it.
      // Said in `reason` even before the first live book, so that a view joining knows why.
      this.#counts.shallow++;
      this.#reason = 'shallow';
      this.#resync('shallow', []);
      return;
    }
    this.#book = book;
    this.#state = 'live';
    this.#updatedLive = false;
    this.#liveSince = this.#o.clock.monotonic();
    this.#reason = undefined;
    this.#o.onChange({ type: 'snapshot', book });
  }

  #onSnapshotError(err: unknown): void {
    this.#counts.snapshotFailures++;
    const error = isUnifeedError(err)
      ? err
      : new UnifeedError(ErrorCode.Http, `${this.#o.symbol} snapshot failed`);
    // 400: the venue says the request itself is wrong (unknown symbol, bad limit): retrying
    // cannot help, so the book ends with the error. Everything else is worth another try.
    if (error.code === ErrorCode.Http && error.status === 400) {
      this.stop();
      this.#o.onFatal(error);
      return;
    }
    this.#retryLater(`snapshot failed: ${error.code}`);
  }

  /**
   * Ask again after the back-off delay, keeping the buffer. The REST client already holds
   * calls after a 429 or 418; the back-off keeps a venue that answers wrongly (stale or
   * crossed snapshots, 5xx) from being asked at the full weight budget's speed.
   */
  #retryLater(why: string): void {
    // Stopped by a listener of the change just announced, or one retry waits already.
    if (this.#stopped || this.#retryTimer !== undefined) return;
    const delay = backoffDelay(this.#attempt++, DEFAULT_BACKOFF, this.#o.random);
    this.#o.logger.warn({ symbol: this.#o.symbol, why, retryInMs: delay }, 'snapshot retry');
    this.#retryTimer = this.#o.clock.setTimeout(() => {
      this.#retryTimer = undefined;
      this.#requestSnapshot();
    }, delay);
  }
}

/**
 * The events of `events` that start after `id`, where a replay broke: those that may follow a
 * hole, for the next snapshot. One that starts at or below it overlaps updates the replay
 * applied from the snapshot and real events, which no real event does (ids are never shared):
 * a diff with a wrong `u` (2^53 - 1), which would sort last in every replay and break every
 * sync for good if it were carried. (Live, the book's id may be the wrong one: there the
 * event that showed it is carried.)
 */
function after(events: DepthDiffEvent[], id: number): DepthDiffEvent[] {
  return events.filter((e) => e.firstUpdateId > id);
}

/** The worst price of a snapshot's side (`pick`: `Math.min` for bids, `Math.max` for asks). */
function worst(levels: readonly Level[], pick: (a: number, b: number) => number): number {
  let price = Number(levels[0]![0]);
  for (const [p] of levels) price = pick(price, Number(p));
  return price;
}
