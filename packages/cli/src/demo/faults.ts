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

/** Counts over every fault injected so far, including those no longer kept as records. */
export interface FaultTotals {
  injected: number;
  recovered: number;
  /** Not recovered within the timeout. */
  lost: number;
  /** The longest injection-to-recovery time of any recovered fault; null before the first. */
  slowestRecoveryMs: number | null;
}

/**
 * Records kept for the dashboard and the closing summary. The demo runs for days (a fault every
 * 20 s is 4,320 a day), so older records are let go and only counted in the totals; 100 lists
 * every fault of a run up to half an hour at the default rate.
 */
export const RECENT_FAULTS = 100;

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
  /** The latest faults, oldest first, at most `RECENT_FAULTS`; pending ones change in place. */
  readonly recent: FaultRecord[] = [];
  /**
   * What `check` must still judge. Bounded without a cap of its own: each is resolved, recovered
   * or lost, within the timeout, so at most timeout / interval + 1 are ever here.
   */
  readonly #pending: FaultRecord[] = [];
  #injected = 0;
  #recovered = 0;
  #lost = 0;
  #slowestMs: number | null = null;
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
    this.#injected++;
    this.#pending.push(record);
    this.recent.push(record);
    if (this.recent.length > RECENT_FAULTS) this.recent.shift();
    return record;
  }

  /** Mark faults recovered (or lost after `timeoutMs`) from the client's counters now. */
  check(now: number, view: RecoveryView, timeoutMs: number): void {
    // Compacted in place: this runs every 100 ms and should not allocate each time.
    let kept = 0;
    for (const r of this.#pending) {
      if (recovered(r, view)) {
        r.recoveredMs = now - r.at;
        this.#recovered++;
        this.#slowestMs = Math.max(this.#slowestMs ?? 0, r.recoveredMs);
      } else if (now - r.at > timeoutMs) {
        r.recoveredMs = null;
        this.#lost++;
      } else {
        this.#pending[kept++] = r;
      }
    }
    this.#pending.length = kept;
  }

  get pending(): number {
    return this.#pending.length;
  }

  /** A copy: a snapshot taken now must not change as later faults are judged. */
  get totals(): FaultTotals {
    return {
      injected: this.#injected,
      recovered: this.#recovered,
      lost: this.#lost,
      slowestRecoveryMs: this.#slowestMs,
    };
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
