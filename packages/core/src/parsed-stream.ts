import { FanOut, type Sink } from './fan-out.js';
import type { FeedPlugin } from './plugin.js';
import type { Venue } from './venue.js';

/** What a {@link ParsedStream} reports to the pool that owns it. */
export interface ParsedStreamHost {
  /** `plugin` threw on a payload of `stream`; the payload is skipped. */
  parseFailed(plugin: string, stream: string, err: unknown): void;
  /** An event repeated the one before it and was not delivered. */
  repeated(): void;
  /** The stream ended in an error: forget it before its sinks hear, so they may join again. */
  errored(parsed: ParsedStream): void;
}

/**
 * One (plugin, stream) pair: each payload is parsed once, checked for a repeat, and fanned out
 * to every sink. A pool holds one per subscribed stream, thousands at a time, so it is one
 * object with its methods on the prototype, not a bundle of closures and their context: less
 * to keep, and less for a scavenge to copy while a pool subscribes.
 */
export class ParsedStream implements Sink<unknown> {
  readonly sinks = new FanOut<unknown>();
  /**
   * The previous event's sequence. A field that only ever holds doubles is updated in place;
   * a closure variable would box every new id in a fresh heap number that old memory points
   * at, work for every scavenge.
   */
  #lastSequence = Number.NaN;

  constructor(
    readonly plugin: FeedPlugin<never, unknown>,
    readonly stream: string,
    readonly venue: Venue,
    readonly host: ParsedStreamHost,
  ) {}

  next(payload: unknown): void {
    let event: unknown;
    let seq: number | undefined;
    // A plugin's `sequence` is its code too: a throw there is a parse failure, counted, not an
    // exception through the pool's dispatch that the stream's other subscribers would miss.
    try {
      event = this.plugin.parse(payload, this.stream, this.venue);
      seq = this.plugin.sequence?.(event);
    } catch (err) {
      this.host.parseFailed(this.plugin.name, this.stream, err);
      return;
    }
    if (this.plugin.sequence !== undefined) {
      if (seq !== undefined && seq === this.#lastSequence) {
        this.host.repeated();
        return;
      }
      this.#lastSequence = seq ?? Number.NaN;
    }
    this.sinks.next(event);
  }

  error(err: unknown): void {
    this.host.errored(this);
    this.sinks.error(err);
  }

  complete(): void {
    this.sinks.complete();
  }
}
