import { backoffDelay, type BackoffOptions, type Clock } from '@unifeed/core';

/**
 * When to renew what the venue ended (a listen key, a WebSocket API subscription): at once
 * when the one it ends lasted `retry.minUptimeMs`, else after the `retry` back-off, longer for
 * each renewal in a row, as a reconnect loop's attempts are. A venue that ends each one as soon
 * as it is made (an expiry announced on every connection, a subscription terminated as it is
 * confirmed) would otherwise have a signed request out per round trip, spending in a loop the
 * weight the account's own orders need.
 */
export class RenewalPace {
  readonly #clock: Clock;
  readonly #retry: Readonly<BackoffOptions>;
  readonly #random: () => number;
  /** When the latest renewal was in place (monotonic). */
  #settledAt: number | undefined;
  #streak = 0;

  constructor(clock: Clock, retry: Readonly<BackoffOptions>, random: () => number) {
    this.#clock = clock;
    this.#retry = retry;
    this.#random = random;
  }

  /** The renewed key or subscription is in place now. */
  settled(): void {
    this.#settledAt = this.#clock.monotonic();
  }

  /** How long the renewal asked for now waits: 0, or the back-off of its streak. */
  delayMs(): number {
    const settledAt = this.#settledAt;
    const close =
      settledAt !== undefined && this.#clock.monotonic() - settledAt < this.#retry.minUptimeMs;
    this.#streak = close ? this.#streak + 1 : 0;
    return close ? backoffDelay(this.#streak - 1, this.#retry, this.#random) : 0;
  }
}
