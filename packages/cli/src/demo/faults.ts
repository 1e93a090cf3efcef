import type { Simulator } from '@unifeed/simulator';

/** The faults the demo injects, in turn. */
export const FAULT_KINDS = [
  'dropped connection',
  'half-open connection',
  'depth gap',
  'listen-key expiry',
  'shutdown notice',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** What recovery is judged on: counters read from the client, not from the simulator. */
export interface RecoveryView {
  reconnects: number;
  rotations: number;
  /** Every market connection open. */
  allOpen: boolean;
  /** Resyncs per book symbol, and whether every book is live. */
  bookResyncs: ReadonlyMap<string, number>;
  allBooksLive: boolean;
  listenKeyRenewals: number;
  accountRunning: boolean;
}

export interface FaultRecord {
  kind: FaultKind;
  /** ms since the demo started. */
  at: number;
  detail: string;
  /** The book a depth gap hit. */
  readonly symbol: string | undefined;
  /** ms from injection to recovery; undefined while pending; null when it never recovered. */
  recoveredMs: number | undefined | null;
  /** The counter the recovery must move past. */
  readonly baseline: number;
}

/** Market connections in the simulator: the kline streams' routed path on USD-M. */
const MARKET_PATH = '/market/stream';

/**
 * Injects the demo's faults in turn and decides, from the client's own counters, when each has
 * been recovered: a dropped or half-open connection when a reconnect happened and every
 * connection is open again; a depth gap when that book resynced and is live; a listen-key
 * expiry when the key was renewed and the account runs; a shutdown notice when a rotation
 * replaced the connection.
 */
export class FaultSchedule {
  readonly records: FaultRecord[] = [];
  readonly #sim: Simulator;
  readonly #bookSymbols: readonly string[];
  #next = 0;

  constructor(sim: Simulator, bookSymbols: readonly string[]) {
    this.#sim = sim;
    this.#bookSymbols = bookSymbols;
  }

  /** Inject the next fault of the rotation. */
  inject(now: number, view: RecoveryView): FaultRecord {
    const kind = FAULT_KINDS[this.#next % FAULT_KINDS.length]!;
    const round = Math.floor(this.#next / FAULT_KINDS.length);
    this.#next++;
    const f = this.#sim.faults;
    let detail: string;
    let baseline: number;
    let symbol: string | undefined;
    switch (kind) {
      case 'dropped connection':
        f.drop({ path: MARKET_PATH, count: 1, code: 1006 });
        detail = 'one market connection cut (1006)';
        baseline = view.reconnects;
        break;
      case 'half-open connection':
        f.freeze({ path: MARKET_PATH, count: 1 });
        detail = 'one market connection frozen: nothing sent, pings unanswered';
        baseline = view.reconnects;
        break;
      case 'depth gap': {
        symbol = this.#bookSymbols[round % this.#bookSymbols.length]!;
        f.depthGap(symbol, 1);
        detail = `one ${symbol} diff withheld`;
        baseline = view.bookResyncs.get(symbol) ?? 0;
        break;
      }
      case 'listen-key expiry':
        f.expireListenKey();
        detail = 'the listen key expired';
        baseline = view.listenKeyRenewals;
        break;
      case 'shutdown notice':
        f.serverShutdown({ path: MARKET_PATH, count: 1 });
        detail = 'serverShutdown on one market connection';
        baseline = view.rotations;
        break;
    }
    const record: FaultRecord = {
      kind,
      at: now,
      detail,
      symbol,
      recoveredMs: undefined,
      baseline,
    };
    this.records.push(record);
    return record;
  }

  /** Mark faults recovered (or lost after `timeoutMs`) from the client's counters now. */
  check(now: number, view: RecoveryView, timeoutMs: number): void {
    for (const r of this.records) {
      if (r.recoveredMs !== undefined) continue;
      if (recovered(r, view)) r.recoveredMs = now - r.at;
      else if (now - r.at > timeoutMs) r.recoveredMs = null;
    }
  }

  get pending(): number {
    return this.records.filter((r) => r.recoveredMs === undefined).length;
  }
}

function recovered(r: FaultRecord, v: RecoveryView): boolean {
  switch (r.kind) {
    case 'dropped connection':
    case 'half-open connection':
      return v.reconnects > r.baseline && v.allOpen;
    case 'depth gap':
      return (v.bookResyncs.get(r.symbol ?? '') ?? 0) > r.baseline && v.allBooksLive;
    case 'listen-key expiry':
      return v.listenKeyRenewals > r.baseline && v.accountRunning;
    case 'shutdown notice':
      return v.rotations > r.baseline && v.allOpen;
  }
}
