import { ViolationLog } from './violations.js';

/**
 * Streams that stopped for good. The other checks see only what arrives: a closed candle is
 * missed only when a later one shows the skip, a hole only when the next diff shows it, so a
 * stream that never delivers again fails none of them. This one remembers when each stream
 * last delivered; once the faults are over, every stream must deliver again.
 */
export class SilenceCheck {
  readonly violations = new ViolationLog('a stream that never delivered again after the faults');
  /** Last delivery of each stream, by the caller's clock. */
  readonly #last = new Map<string, number>();
  /** Streams let off, with why: the venue itself keeps them away (a REST ban). */
  readonly #excused = new Map<string, string>();

  /** Streams seen so far. */
  get streams(): number {
    return this.#last.size;
  }

  /** Streams let off, each with its reason. */
  get excused(): ReadonlyMap<string, string> {
    return this.#excused;
  }

  /**
   * Let `stream` off the verdict: the venue keeps it away for longer than the check can wait
   * (`why` says how). Reported, not counted.
   */
  excuse(stream: string, why: string): void {
    if (this.#last.has(stream)) this.#excused.set(stream, why);
  }

  /** `stream` delivered an event at `at`. */
  delivered(stream: string, at: number): void {
    this.#last.set(stream, at);
  }

  /** Streams seen before whose last delivery is older than `since`, in the order first seen. */
  silentSince(since: number): string[] {
    const out: string[] = [];
    for (const [stream, at] of this.#last) {
      if (at < since && !this.#excused.has(stream)) out.push(stream);
    }
    return out;
  }

  /**
   * The verdict: every stream not delivered at or after `since` (the end of the faults) by
   * `now` is a violation, reported with how long it had been silent.
   */
  finish(since: number, now: number): void {
    for (const stream of this.silentSince(since)) {
      const at = this.#last.get(stream)!;
      this.violations.add(
        `${stream}: silent for ${((now - at) / 1000).toFixed(1)} s, none since the faults ended`,
      );
    }
  }
}
