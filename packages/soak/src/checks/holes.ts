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

interface PendingHole {
  stream: string;
  at: number;
  text: string;
  /** The missing events' last ids are above `after` and at most `upTo`. */
  after: number;
  upTo: number;
}

export interface HoleCheckOptions {
  /** How long after a hole its announcement may come (the pool's gap status). @default 2000 */
  graceMs?: number | undefined;
  /**
   * Whether the venue itself withheld an event of `stream` whose last id is above `after` and
   * at most `upTo` (the simulator's gap faults): a hole the pool could not know of.
   */
  withheld?: ((stream: string, after: number, upTo: number) => boolean) | undefined;
}

/**
 * A hole in a stream that the pool did not announce as a gap: data the venue sent that the
 * client lost without saying so. Every diff event must continue the one before it (`pu` equal
 * to the previous `u`, else `U` equal to it plus one); an event that does not is a hole, which
 * is fine only if the pool announced a gap for that stream between the previous event and
 * `graceMs` after this one, if the venue withheld the missing events itself, or if they come
 * after all (a reordered stream: a straggler inside the hole). Repeats are not holes. A book
 * resyncing for the hole announces nothing: it found the hole, it did not explain it.
 */
export class HoleCheck {
  readonly violations = new ViolationLog('a hole in a stream not announced as a gap');
  readonly #graceMs: number;
  readonly #withheld: HoleCheckOptions['withheld'];
  readonly #chains = new Map<string, ChainTrack>();
  #pending: PendingHole[] = [];
  #holes = 0;
  #events = 0;

  constructor(options: HoleCheckOptions = {}) {
    this.#graceMs = options.graceMs ?? 2000;
    this.#withheld = options.withheld;
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
    if (e.last <= track.last) {
      // A straggler inside a hole: the stream was reordered, nothing lost.
      this.#pending = this.#pending.filter(
        (h) => h.stream !== e.stream || e.last <= h.after || e.last > h.upTo,
      );
      return;
    }
    const continues =
      e.previous !== undefined ? e.previous === track.last : e.first <= track.last + 1;
    if (!continues) {
      this.#holes++;
      const after = track.last;
      const upTo = e.previous ?? e.first - 1;
      if (!track.announced && this.#withheld?.(e.stream, after, upTo) !== true) {
        this.#pending.push({
          stream: e.stream,
          at: now,
          text: `${e.stream}: after ${after} came ${e.first}..${e.last} (previous ${e.previous ?? '-'})`,
          after,
          upTo,
        });
      }
    }
    track.last = e.last;
    track.announced = false;
  }

  /** The pool announced a gap for `stream`. */
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
