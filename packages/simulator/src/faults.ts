import type { Clock, TimerHandle } from '@unifeed/core';
import type { Connection } from './server/connection.js';
import type { RestFault } from './server/rest.js';

/** Which connections a fault hits. No field: every open connection. */
export interface ConnectionSelector {
  /** Connection ids, as `stats().connectionList` reports them. @default any */
  ids?: readonly number[] | undefined;
  /** Only connections opened on this path (`/market/stream`, `/ws`, ...). @default any */
  path?: string | undefined;
  /** At most this many (the oldest first). @default all that match */
  count?: number | undefined;
}

/** When a scheduled fault fires: after simulated time, or after data messages sent. */
export type FaultTrigger = { afterMs: number } | { afterMessages: number };

export type MalformedKind = 'invalid-json' | 'wrong-types' | 'unknown-stream' | 'huge' | 'binary';

/** What the faults act on; implemented by the simulator. */
export interface FaultTarget {
  readonly clock: Clock;
  connections(): Connection[];
  stallHandshakes(count: number): void;
  skipDiffs(symbol: string, events: number): void;
  restFault(fault: RestFault): void;
  expireListenKey(key?: string): void;
}

const MAX_SCHEDULED = 1000;
const HUGE_BYTES = 2 * 1024 * 1024;

/**
 * Scriptable misbehaviour. Every method acts now; {@link Faults.schedule} runs any of them
 * later, at a simulated time or after a number of data messages, so tests are deterministic.
 */
export class Faults {
  readonly #t: FaultTarget;
  readonly #timers = new Set<TimerHandle>();
  #byCount: { at: number; run: () => void }[] = [];
  #sent = 0;

  constructor(target: FaultTarget) {
    this.#t = target;
  }

  #select(sel: ConnectionSelector = {}): Connection[] {
    let list = this.#t.connections().filter((c) => !c.closed && !c.closing);
    if (sel.ids !== undefined) list = list.filter((c) => sel.ids?.includes(c.id));
    if (sel.path !== undefined) list = list.filter((c) => c.path === sel.path);
    return list.slice(0, sel.count ?? list.length);
  }

  /**
   * Close connections with `code` (1006 terminates the TCP connection without a close frame).
   * Returns how many were dropped.
   */
  drop(
    options: ConnectionSelector & { code?: number | undefined; reason?: string | undefined } = {},
  ): number {
    const list = this.#select(options);
    for (const c of list) c.close(options.code ?? 1006, options.reason ?? '');
    return list.length;
  }

  /** Half-open: the TCP connection stays, nothing is sent, pings are not answered. */
  freeze(selector?: ConnectionSelector): number {
    const list = this.#select(selector);
    for (const c of list) c.freeze();
    return list.length;
  }

  unfreeze(selector?: ConnectionSelector): number {
    const list = this.#select(selector);
    for (const c of list) c.unfreeze();
    return list.length;
  }

  /** Accept the TCP connection of the next `count` upgrades and never answer them. */
  stallHandshakes(count: number): void {
    this.#t.stallHandshakes(count);
  }

  /** Withhold the next `events` diff-depth events of `symbol`: clients see a gap. */
  depthGap(symbol: string, events = 1): void {
    this.#t.skipDiffs(symbol.toUpperCase(), events);
  }

  /** Send one malformed frame to the selected connections. */
  malformed(kind: MalformedKind, selector?: ConnectionSelector): number {
    const list = this.#select(selector);
    const now = this.#t.clock.now();
    for (const c of list) {
      const stream = c.subscriptions.values().next().value ?? 'btcusdt@aggTrade';
      const wrap = (data: string): string =>
        c.combined ? `{"stream":"${stream}","data":${data}}` : data;
      switch (kind) {
        case 'invalid-json':
          c.raw('{"stream":"btcusdt@aggTrade","data":{"e":');
          break;
        case 'wrong-types': {
          // An Upbit stream (`ticker:KRW-BTC`) routes by its own type and code, not a wrapper.
          const colon = stream.indexOf(':');
          c.raw(
            colon > 0
              ? `{"type":"${stream.slice(0, colon)}","code":"${stream.slice(colon + 1)}","timestamp":"${now}","trade_price":[],"opening_price":{},"orderbook_units":7,"trade_volume":false}`
              : wrap(`{"e":42,"E":"${now}","s":null,"k":"x","b":{},"a":7,"p":[],"q":false}`),
          );
          break;
        }
        case 'unknown-stream':
          c.raw(`{"stream":"nosuchsymbol@nosuchstream","data":{"e":"mystery","E":${now}}}`);
          break;
        case 'huge':
          c.raw(wrap(`{"e":"huge","E":${now},"pad":"${'x'.repeat(HUGE_BYTES)}"}`));
          break;
        case 'binary':
          c.raw(Buffer.from([0xff, 0x00, 0x7b]));
          break;
      }
    }
    return list.length;
  }

  /** Send each of the next `count` data messages twice. */
  duplicate(count: number, selector?: ConnectionSelector): number {
    const list = this.#select(selector);
    for (const c of list) c.duplicateNext += count;
    return list.length;
  }

  /** Swap the next `count` pairs of data messages. */
  reorder(count: number, selector?: ConnectionSelector): number {
    const list = this.#select(selector);
    for (const c of list) c.reorderNext += count;
    return list.length;
  }

  /** Slow, 429, 418 (or any status) REST answers for the next requests. */
  rest(fault: RestFault): void {
    this.#t.restFault(fault);
  }

  /** Cut connections as their 24 h lifetime would, now. */
  expireLifetime(selector?: ConnectionSelector): number {
    const list = this.#select(selector);
    for (const c of list) c.expireLifetime();
    return list.length;
  }

  /**
   * Expire a futures listen key now (default: the first live one): `listenKeyExpired`. On
   * spot, end every WS API user-data subscription: `eventStreamTerminated`.
   */
  expireListenKey(key?: string): void {
    this.#t.expireListenKey(key);
  }

  /**
   * The maintenance notice on every selected connection, in the form Binance sends it there:
   * `{"e":"serverShutdown","E":...}` on a stream connection (`{"stream":"!serverShutdown",
   * "data":...}` on a combined one), `{"event":{"e":"serverShutdown","E":...}}` with no
   * subscription id on the WebSocket API (its connection events).
   */
  serverShutdown(selector?: ConnectionSelector): number {
    const list = this.#select(selector);
    const event = `{"e":"serverShutdown","E":${this.#t.clock.now()}}`;
    for (const c of list) {
      if (c.info.api) c.send(`{"event":${event}}`);
      else c.send(c.combined ? `{"stream":"!serverShutdown","data":${event}}` : event);
    }
    return list.length;
  }

  /** Run `action` later: after `afterMs` simulated ms, or after `afterMessages` data messages. */
  schedule(trigger: FaultTrigger, action: (faults: Faults) => void): void {
    if (this.#timers.size + this.#byCount.length >= MAX_SCHEDULED) return;
    if ('afterMs' in trigger) {
      const timer = this.#t.clock.setTimeout(() => {
        this.#timers.delete(timer);
        action(this);
      }, trigger.afterMs);
      this.#timers.add(timer);
      return;
    }
    this.#byCount.push({ at: this.#sent + trigger.afterMessages, run: () => action(this) });
    this.#byCount.sort((a, b) => a.at - b.at);
  }

  /** Called by the simulator for every data message written. */
  messageSent(): void {
    this.#sent++;
    while (this.#byCount.length > 0 && (this.#byCount[0]?.at ?? Infinity) <= this.#sent) {
      this.#byCount.shift()?.run();
    }
  }

  close(): void {
    for (const t of this.#timers) this.#t.clock.clearTimeout(t);
    this.#timers.clear();
    this.#byCount = [];
  }
}
