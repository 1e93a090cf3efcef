import type { Clock, TimerHandle } from './clock.js';
import { ErrorCode, UnifeedError } from './errors.js';
import { requireDuration, withDefaults, type PartialOptions } from './options.js';

/** Heartbeat settings. */
export interface HeartbeatOptions {
  /** How often to ping; below `timeoutMs`. @default 20000 */
  intervalMs: number;
  /** Silence (no inbound frame of any kind) after which the connection is stale. @default 60000 */
  timeoutMs: number;
}

export const DEFAULT_HEARTBEAT: Readonly<HeartbeatOptions> = Object.freeze({
  intervalMs: 20_000,
  timeoutMs: 60_000,
});

/** What a {@link Heartbeat} needs from its connection: three methods, easy to fake. */
export interface HeartbeatTarget {
  /** Send one ping (a ping frame, or the venue's application ping). */
  ping(): void;
  /** No frame arrived for `timeoutMs`: the owner must terminate the socket and reconnect. */
  stale(silentMs: number): void;
}

/**
 * The one liveness mechanism of a connection. Any inbound frame counts as life
 * ({@link Heartbeat.touch}, which only stores a clock reading, once per socket read); a
 * deadline timer re-arms itself lazily instead of being reset per message.
 */
export class Heartbeat {
  readonly options: Readonly<HeartbeatOptions>;
  readonly #clock: Clock;
  readonly #target: HeartbeatTarget;
  #lastSeen = 0;
  /** The owner holds reading back: silence is its own, not the venue's. */
  #held = false;
  /** When reading last resumed (`clock.monotonic()`): silence counts from then at the earliest. */
  #releasedAt = Number.NEGATIVE_INFINITY;
  #pingTimer: TimerHandle | undefined;
  #deadlineTimer: TimerHandle | undefined;

  constructor(
    clock: Clock,
    target: HeartbeatTarget,
    options: PartialOptions<HeartbeatOptions> = {},
  ) {
    const o = withDefaults(DEFAULT_HEARTBEAT, options, 'heartbeat');
    // 0, NaN or a missing number would ping (or time out) every millisecond.
    requireDuration('heartbeat.intervalMs', o.intervalMs, 1);
    requireDuration('heartbeat.timeoutMs', o.timeoutMs, 1);
    // No ping would go out before the deadline: a live but quiet connection (user data) would
    // be called stale and replaced every `timeoutMs`, with a growing back-off.
    if (o.intervalMs >= o.timeoutMs) {
      throw new UnifeedError(
        ErrorCode.InvalidOption,
        `\`heartbeat.intervalMs\` (${o.intervalMs}) must be below \`heartbeat.timeoutMs\` (${o.timeoutMs})`,
      );
    }
    this.options = Object.freeze(o);
    this.#clock = clock;
    this.#target = target;
  }

  /** When the last inbound frame arrived (or the watch started, if none has): `clock.monotonic()`. */
  get lastSeen(): number {
    return this.#lastSeen;
  }

  /** True while timers are armed. */
  get running(): boolean {
    return this.#deadlineTimer !== undefined;
  }

  /** Start (or restart) watching. Cancels first, so a second start never leaks timers. */
  start(): void {
    this.stop();
    this.#held = false;
    this.#releasedAt = Number.NEGATIVE_INFINITY;
    this.#lastSeen = this.#clock.monotonic();
    this.#armPing();
    this.#armDeadline(this.options.timeoutMs);
  }

  /** Record life at `at` (`clock.monotonic()`), by default now. */
  touch(at = this.#clock.monotonic()): void {
    this.#lastSeen = at;
  }

  /**
   * The owner stops reading the socket (a paused queue): nothing read, pongs included, is no
   * sign of a dead venue until it reads again. Without this, a subscriber slow enough to keep
   * the `pause` policy's socket paused got a live connection called stale and replaced, losing
   * what the kernel had buffered.
   */
  hold(): void {
    this.#held = true;
  }

  /** The owner reads again: silence counts from now at the earliest. */
  release(at = this.#clock.monotonic()): void {
    this.#held = false;
    this.#releasedAt = at;
  }

  stop(): void {
    if (this.#pingTimer !== undefined) this.#clock.clearTimeout(this.#pingTimer);
    if (this.#deadlineTimer !== undefined) this.#clock.clearTimeout(this.#deadlineTimer);
    this.#pingTimer = undefined;
    this.#deadlineTimer = undefined;
  }

  #armPing(): void {
    this.#pingTimer = this.#clock.setTimeout(() => {
      this.#armPing();
      this.#target.ping();
    }, this.options.intervalMs);
  }

  #armDeadline(ms: number): void {
    this.#deadlineTimer = this.#clock.setTimeout(() => {
      this.#deadlineTimer = undefined;
      if (this.#held) {
        this.#armDeadline(this.options.timeoutMs);
        return;
      }
      const silent = this.#clock.monotonic() - Math.max(this.#lastSeen, this.#releasedAt);
      if (silent >= this.options.timeoutMs) {
        this.stop();
        this.#target.stale(silent);
      } else {
        this.#armDeadline(this.options.timeoutMs - silent);
      }
    }, ms);
  }
}
