import { ViolationLog } from './violations.js';

/**
 * A control-message rate violation: the simulator enforces the venue's limit (Binance: 5
 * inbound messages a second per connection, pings and pongs included) by closing with 1008
 * "Too many requests", and counts every such close. Any increase is a violation. (A 1008 the
 * fault plan injects with `drop` is not counted there: it is a fault, not a violation.)
 */
export class ControlRateCheck {
  readonly violations = new ViolationLog('a control-message rate violation');
  #last = 0;

  observe(closes1008: number): void {
    if (closes1008 > this.#last) {
      this.violations.add(
        `${closes1008 - this.#last} connection(s) closed for too many requests`,
        closes1008 - this.#last,
      );
      this.#last = closes1008;
    }
  }
}
