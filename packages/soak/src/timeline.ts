import type { Clock } from '@unifeed/core';
import type { DoubleSubscriptionCheck, SubscriptionSample } from './checks/double-subscription.js';
import type { ChainedEvent, HoleCheck } from './checks/holes.js';
import type { SilenceCheck } from './checks/silence.js';

/** The checks that take a time. */
export interface TimedChecks {
  silence: SilenceCheck;
  holes: HoleCheck;
  doubles: DoubleSubscriptionCheck;
}

/**
 * The soak's one time base, and the checks that take a time, fed on it. Every check timestamp,
 * duration and deadline of the soak (warm-up, run length, the fault plan's times, the trade
 * cadence, the silence wait) is read from {@link SoakTimeline.now}: `clock.monotonic()`, never
 * the wall clock. A wall-clock step (NTP, a resumed VM) must not make a hole announced within
 * the grace count, end the run early, fire the plan's faults at once or make a stream that
 * delivered look silent. The wall clock is only for what is printed as a date.
 */
export class SoakTimeline {
  readonly #clock: Pick<Clock, 'monotonic'>;
  readonly #checks: TimedChecks;
  #faultsEnded: number | undefined;

  constructor(clock: Pick<Clock, 'monotonic'>, checks: TimedChecks) {
    this.#clock = clock;
    this.#checks = checks;
  }

  /** Now, ms on the monotonic clock: only differences of two readings mean anything. */
  now(): number {
    return this.#clock.monotonic();
  }

  /** `stream` (a kline, a book ticker, `user-data`) delivered an event now. */
  delivered(stream: string): void {
    this.#checks.silence.delivered(stream, this.now());
  }

  /** A depth diff arrived now: it is a delivery, and a link of its stream's chain. */
  depth(e: ChainedEvent): void {
    const at = this.now();
    this.#checks.silence.delivered(e.stream, at);
    this.#checks.holes.event(e, at);
  }

  /** The pool announced a gap on `stream` now. */
  gap(stream: string): void {
    this.#checks.holes.announce(stream, this.now());
  }

  /** A sample of the server's and the pool's subscriptions, taken now; holes past their grace count. */
  sample(s: Omit<SubscriptionSample, 'at'>): void {
    const at = this.now();
    this.#checks.doubles.observe({ ...s, at });
    this.#checks.holes.tick(at);
  }

  /** The faults are over: from now every stream must deliver again. */
  endFaults(): void {
    this.#faultsEnded = this.now();
  }

  /** Ms since {@link endFaults}. */
  sinceFaultsEnded(): number {
    return this.now() - this.#ended();
  }

  /** Streams that have not delivered since the faults ended (and are not let off). */
  silent(): string[] {
    return this.#checks.silence.silentSince(this.#ended());
  }

  /** The silence verdict, now: every stream still silent since the faults ended counts. */
  finishSilence(): void {
    this.#checks.silence.finish(this.#ended(), this.now());
  }

  #ended(): number {
    if (this.#faultsEnded === undefined) throw new Error('the faults have not ended yet');
    return this.#faultsEnded;
  }
}
