import { ViolationLog } from './violations.js';

/** One diff event of a chained stream (futures depth: `pu` is the previous event's `u`). */
export interface ChainedEvent {
  stream: string;
  /** First update id in the event (`U`). */
  first: number;
  /** Last update id (`u`). */
  last: number;
  /** The previous event's last id (`pu`), where the venue sends it. */
  previous: number | undefined;
}

interface ChainTrack {
  last: number;
  /** An announcement arrived since the last event. */
  announced: boolean;
}

/** Whether a stream's consumer has declared its data unusable (a book not live). */
interface Pause {
  paused: boolean;
}

interface PendingHole {
  stream: string;
  at: number;
  text: string;
}

/**
 * A hole in a stream that was not announced as a gap. Every diff event must continue the one
 * before it (`pu` equal to the previous `u`, else `U` equal to it plus one); an event that does
 * not is a hole, which is fine only if it was announced: a gap on the pool's status for that
 * stream, or the book's resync for a gap, between the previous event and `graceMs` after this
 * one (the book sees the same event in the same dispatch, so its announcement may come first or
 * right after). Repeats and stragglers (`u` not above the last) are not holes. While the
 * stream's consumer says its data is not usable (a book `syncing` or `resyncing`, waiting for a
 * snapshot), that state is the announcement: nothing is built on the stream meanwhile, and the
 * book checks the buffered events against its next snapshot.
 */
export class HoleCheck {
  readonly violations = new ViolationLog('a hole in a stream not announced as a gap');
  readonly #graceMs: number;
  readonly #chains = new Map<string, ChainTrack>();
  readonly #paused = new Map<string, Pause>();
  #pending: PendingHole[] = [];
  #holes = 0;
  #events = 0;

  constructor(options: { graceMs?: number } = {}) {
    this.#graceMs = options.graceMs ?? 2000;
  }

  /** Holes found, announced or not. */
  get holes(): number {
    return this.#holes;
  }

  get events(): number {
    return this.#events;
  }

  event(e: ChainedEvent, now: number): void {
    this.#events++;
    const track = this.#chains.get(e.stream);
    if (track === undefined) {
      this.#chains.set(e.stream, { last: e.last, announced: false });
      return;
    }
    if (e.last <= track.last) return;
    const continues =
      e.previous !== undefined ? e.previous === track.last : e.first <= track.last + 1;
    if (!continues) {
      this.#holes++;
      if (!track.announced && this.#paused.get(e.stream)?.paused !== true) {
        this.#pending.push({
          stream: e.stream,
          at: now,
          text: `${e.stream}: after ${track.last} came ${e.first}..${e.last} (previous ${e.previous ?? '-'})`,
        });
      }
    }
    track.last = e.last;
    track.announced = false;
  }

  /** The consumer of `stream` says its data is unusable (true) or usable again (false). */
  pause(stream: string, paused: boolean): void {
    let p = this.#paused.get(stream);
    if (p === undefined) this.#paused.set(stream, (p = { paused }));
    p.paused = paused;
  }

  /** A gap or resync was announced for `stream`. */
  announce(stream: string, now: number): void {
    const before = this.#pending.length;
    this.#pending = this.#pending.filter((h) => h.stream !== stream || now - h.at > this.#graceMs);
    // An announcement that explained a hole just seen does not also excuse the next one.
    if (this.#pending.length === before) {
      const track = this.#chains.get(stream);
      if (track !== undefined) track.announced = true;
    }
  }

  /** Holes unannounced for longer than the grace period become violations. */
  tick(now: number): void {
    const keep: PendingHole[] = [];
    for (const h of this.#pending) {
      if (now - h.at > this.#graceMs) this.violations.add(h.text);
      else keep.push(h);
    }
    this.#pending = keep;
  }

  /** End of run: every hole still unannounced is a violation. */
  finish(): void {
    for (const h of this.#pending) this.violations.add(h.text);
    this.#pending = [];
  }
}
