import type { FaultRecord, FaultTotals } from './faults.js';

/** Everything the dashboard shows, as plain data: rendering is a pure function of it. */
export interface DemoSnapshot {
  elapsedMs: number;
  venue: string;
  wsUrl: string;
  phase: 'subscribing' | 'running' | 'finishing';
  klineStreams: number;
  /** Kline streams that delivered at least one message. */
  klineStreamsDelivered: number;
  klineConnections: number;
  connections: readonly {
    id: number;
    group: string;
    state: string;
    streams: number;
    messagesPerSecond: number;
  }[];
  streams: number;
  messagesPerSecond: number;
  lagP50Ms: number;
  lagP99Ms: number;
  queue: { depth: number; maxDepth: number; dropped: number };
  reconnects: number;
  gaps: number;
  rotations: number;
  parseErrors: number;
  staleResubscribes: number;
  books: readonly {
    symbol: string;
    state: string;
    lastUpdateId: number;
    resyncs: number;
    bid: string;
    ask: string;
  }[];
  account: { state: string; orders: number; listenKeyRenewals: number };
  /** The latest closed candles, newest first. */
  candles: readonly string[];
  /** The latest faults only (`RECENT_FAULTS`); `faultTotals` counts every one. */
  faults: readonly FaultRecord[];
  faultTotals: FaultTotals;
  /** The health report now: its status and each anomaly's one-line explanation. */
  health: { status: string; anomalies: readonly string[] };
  /** From the simulator: a stream subscribed twice on one connection, or on two open ones. */
  duplicates: { sameConnection: number; acrossConnections: number };
}

/** What `--json` prints at the end, and what the test reads. */
export interface DemoSummary {
  seconds: number;
  klineStreams: number;
  klineStreamsDelivered: number;
  klineConnections: number;
  connections: number;
  streams: number;
  messages: number;
  /**
   * The latest faults (`RECENT_FAULTS`), oldest first; the counts below cover every one.
   * `recoveredMs` null: lost (not recovered within the timeout) or, with `pending`, still
   * recovering when Ctrl-C stopped the demo, within its timeout: not a failure.
   */
  faults: {
    kind: string;
    atSeconds: number;
    detail: string;
    recoveredMs: number | null;
    pending: boolean;
  }[];
  faultsInjected: number;
  faultsRecovered: number;
  /** The longest recovery of any fault, listed or not; null when none recovered. */
  slowestRecoveryMs: number | null;
  allFaultsRecovered: boolean;
  /** Faults not recovered within `--recovery-timeout`: any makes the exit code 1. */
  faultsLost: number;
  duplicateSubscriptions: { sameConnection: number; acrossConnections: number; rotations: number };
  books: { symbol: string; state: string; resyncs: number }[];
  account: { state: string; orders: number; listenKeyRenewals: number };
  /** The health report at the end (its window is the last minute). */
  health: { status: string; anomalies: readonly string[] };
}
