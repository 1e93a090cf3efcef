import type { Simulator } from '@unifeed/simulator';
import type { FaultKind, FaultTarget, PlannedFault } from './fault-plan.js';

const PATH_PREFIX: Record<FaultTarget, string> = {
  market: '/market/',
  public: '/public/',
  private: '/private/',
};
/** How long a frozen connection stays frozen if the client has not replaced it by then. */
const UNFREEZE_AFTER_MS = 15_000;
const DEPTH_PATH = '/fapi/v1/depth';

/** What one injected fault did. */
export interface InjectedFault {
  atMs: number;
  kind: FaultKind;
  /** The kind of connection the plan aimed it at (connection faults only). */
  planned: FaultTarget | undefined;
  /**
   * The kind of connection it actually hit: the planned one, or a market one when none of that
   * kind was open; `private` for a listen-key expiry while the account's connection was open.
   */
  target: FaultTarget | undefined;
  /** Simulator connection id it hit, when it is a connection fault. */
  connection: number | undefined;
  /** Book symbol it hit (depth gap, REST faults). */
  symbol: string | undefined;
  /** False when no connection (of its kind, or a market one) was open: nothing was injected. */
  applied: boolean;
}

/** Settings of a {@link FaultInjector}. */
export interface FaultInjectorOptions {
  sim: Simulator;
  /** Symbols with an order book: depth gaps and snapshot faults go there. */
  bookSymbols: readonly string[];
  /** Called with the live listen keys just before one is expired (they are secrets to scan for). */
  onListenKeys(keys: readonly string[]): void;
}

/**
 * Turns planned faults into simulator fault calls. Which connection or symbol a fault hits is
 * chosen from the plan's `pick` among those open now, so a plan stays a pure function of the
 * seed while the run decides what exists to be hit.
 */
export class FaultInjector {
  readonly #o: FaultInjectorOptions;
  readonly injected: InjectedFault[] = [];

  constructor(options: FaultInjectorOptions) {
    this.#o = options;
  }

  inject(fault: PlannedFault): InjectedFault {
    const record = this.#apply(fault);
    this.injected.push(record);
    return record;
  }

  /**
   * The connection a fault hits: of its planned kind if one is open, else (the account's
   * connection can be between sockets) a market one, so that every planned fault lands.
   */
  #connection(
    target: FaultTarget | undefined,
    pick: number,
  ): { id: number; target: FaultTarget } | undefined {
    if (target === undefined) return undefined;
    // A closing connection would take the fault and land it nowhere while others are open.
    const open = this.#o.sim.stats().connectionList.filter((c) => !c.frozen && !c.closing);
    for (const t of [target, 'market'] as const) {
      const list = open.filter((c) => c.path.startsWith(PATH_PREFIX[t]));
      const hit = list[Math.floor(pick * list.length)];
      if (hit !== undefined) return { id: hit.id, target: t };
    }
    return undefined;
  }

  #apply(fault: PlannedFault): InjectedFault {
    const { sim, bookSymbols } = this.#o;
    const f = sim.faults;
    const hit = this.#connection(fault.target, fault.pick);
    const id = hit?.id;
    const ids = id === undefined ? [] : [id];
    const symbol = bookSymbols[Math.floor(fault.pick * bookSymbols.length)];
    const record = (applied: boolean, sym?: string, target = hit?.target): InjectedFault => ({
      atMs: fault.atMs,
      kind: fault.kind,
      planned: fault.target,
      target,
      connection: id,
      symbol: sym,
      applied,
    });
    const onConnection = (act: () => number): InjectedFault =>
      record(id !== undefined && act() > 0);
    const snapshotFault = (rest: Parameters<Simulator['faults']['rest']>[0]): InjectedFault => {
      if (symbol === undefined) return record(false);
      f.rest({ ...rest, path: DEPTH_PATH, count: 1 });
      // A snapshot is only asked for on a resync: the gap makes one.
      f.depthGap(symbol, 1);
      return record(true, symbol);
    };
    switch (fault.kind) {
      case 'drop-1006':
        return onConnection(() => f.drop({ ids, code: 1006 }));
      case 'drop-1008':
        return onConnection(() => f.drop({ ids, code: 1008, reason: 'Too many requests' }));
      case 'drop-1011':
        return onConnection(() => f.drop({ ids, code: 1011, reason: 'Internal error' }));
      case 'freeze':
        return onConnection(() => {
          const hit = f.freeze({ ids });
          f.schedule({ afterMs: UNFREEZE_AFTER_MS }, (later) => later.unfreeze({ ids }));
          return hit;
        });
      case 'stall-handshakes':
        return onConnection(() => {
          // Armed only if the drop landed (the connection may be closing already): a stall
          // left armed would catch some later handshake unrecorded. The reconnect the drop
          // causes comes after this returns, so it still meets the stall.
          const dropped = f.drop({ ids, code: 1006 });
          if (dropped > 0) f.stallHandshakes(1);
          return dropped;
        });
      case 'depth-gap':
        if (symbol === undefined) return record(false);
        f.depthGap(symbol, 1 + Math.floor(fault.pick * 3));
        return record(true, symbol);
      case 'malformed-invalid-json':
        return onConnection(() => f.malformed('invalid-json', { ids }));
      case 'malformed-wrong-types':
        return onConnection(() => f.malformed('wrong-types', { ids }));
      case 'malformed-unknown-stream':
        return onConnection(() => f.malformed('unknown-stream', { ids }));
      case 'malformed-huge':
        return onConnection(() => f.malformed('huge', { ids }));
      case 'malformed-binary':
        return onConnection(() => f.malformed('binary', { ids }));
      case 'duplicate':
        return onConnection(() => f.duplicate(50, { ids }));
      case 'reorder':
        return onConnection(() => f.reorder(10, { ids }));
      case 'rest-429':
        return snapshotFault({ status: 429 });
      case 'rest-418':
        return snapshotFault({ status: 418 });
      case 'rest-503':
        return snapshotFault({ status: 503 });
      case 'rest-slow':
        return snapshotFault({ delayMs: 3000 });
      case 'rest-stale-snapshot':
        return snapshotFault({ staleSteps: 20 });
      case 'expire-lifetime':
        return onConnection(() => f.expireLifetime({ ids }));
      case 'expire-listen-key': {
        const keys = sim.listenKeys();
        this.#o.onListenKeys(keys);
        if (keys.length === 0) return record(false);
        const privates = sim
          .stats()
          .connectionList.filter((c) => c.path.startsWith(PATH_PREFIX.private));
        // A frozen connection loses what is sent to it, where TCP would deliver it after the
        // stall: the notice would be lost and the account deaf until its next keepalive, 30 min
        // on, an artifact of the simulator, not a case of the venue's. Not injected then.
        if (privates.some((c) => c.frozen)) return record(false);
        f.expireListenKey();
        // The notice goes out on the account's connection if one is open; else the key only dies.
        return record(true, undefined, privates.length > 0 ? 'private' : undefined);
      }
      case 'server-shutdown':
        return onConnection(() => f.serverShutdown({ ids }));
    }
  }
}
