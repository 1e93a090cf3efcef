import type { GrowthResult } from './checks/growth.js';
import type { FaultKind, FaultTarget } from './fault-plan.js';

/**
 * Landed faults of each kind by the kind of connection they actually hit; `none` for faults that
 * hit no connection (REST, depth gaps, a listen-key expiry while the account was between
 * sockets).
 */
export type LandedByTarget = Partial<
  Record<FaultKind, Partial<Record<FaultTarget | 'none', number>>>
>;

/** One invariant in the report: its counter must be zero. */
export interface InvariantResult {
  description: string;
  count: number;
  /** The first violations, as evidence (never a secret). */
  examples: string[];
}

/** Everything a soak run measured; also written as JSON. */
export interface SoakReport {
  seed: number;
  minutes: number;
  /** From start to every stream delivering, every book live and the account open. */
  warmupMs: number;
  /** The measured run, faults and checks, after the warm-up. */
  measuredMs: number;
  /** Every invariant counter is zero. */
  passed: boolean;
  invariants: Record<string, InvariantResult>;
  plan: { faults: number; byKind: Record<FaultKind, number> };
  faults: {
    injected: number;
    byKind: Record<FaultKind, number>;
    /** Landed faults per kind and actual target: whether the account's connection was hit. */
    byTarget: LandedByTarget;
    /** Landed connection faults that hit a market connection instead of their planned kind. */
    retargeted: Partial<Record<FaultKind, number>>;
    /** Planned faults that found nothing to hit (no connection of their kind open then). */
    notApplied: Partial<Record<FaultKind, number>>;
  };
  streams: {
    subscribed: number;
    klines: number;
    bookTickers: number;
    books: number;
    userData: number;
    connections: number;
    slotsSeen: number;
  };
  events: Record<string, number>;
  recovery: Record<string, number>;
  resources: {
    bounds: Record<string, number>;
    growth: GrowthResult[];
    timersAfterClose: number;
    /** Heap sampled after a full collection (`--expose-gc`). */
    gc: boolean;
  };
  logs: { lines: number; bytes: number };
}

/** The report for people: invariants first, then what the run went through. */
export function formatReport(r: SoakReport): string {
  const out: string[] = [];
  out.push(
    `soak seed ${r.seed}, ${r.minutes} min (measured ${(r.measuredMs / 1000).toFixed(1)} s after a ${(r.warmupMs / 1000).toFixed(1)} s warm-up): ${r.passed ? 'PASSED' : 'FAILED'}`,
    '',
    'invariants (each must be 0):',
  );
  for (const [key, inv] of Object.entries(r.invariants)) {
    out.push(`  ${String(inv.count).padStart(6)}  ${key}: ${inv.description}`);
    for (const e of inv.examples) out.push(`            - ${e}`);
  }
  out.push('', `faults: ${r.faults.injected} injected of ${r.plan.faults} planned`);
  const kinds = Object.keys(r.plan.byKind) as FaultKind[];
  out.push(
    ...kinds.map((k) => {
      const missed = r.faults.notApplied[k];
      const moved = r.faults.retargeted[k];
      const where = Object.entries(r.faults.byTarget[k] ?? {})
        .map(([t, n]) => `${t} ${n}`)
        .join(', ');
      return `  ${String(r.faults.byKind[k]).padStart(4)} / ${String(r.plan.byKind[k]).padEnd(4)} ${k.padEnd(24)} on: ${where || '-'}${moved ? ` (${moved} not on the kind planned)` : ''}${missed ? ` (${missed} found nothing to hit)` : ''}`;
    }),
  );
  const s = r.streams;
  out.push(
    '',
    `streams: ${s.subscribed} subscribed (${s.klines} klines, ${s.bookTickers} book tickers, ${s.books} books) + ${s.userData} user-data stream; ${s.connections} pool connections at the end, ${s.slotsSeen} slots seen by the server`,
    `events: ${entries(r.events)}`,
    `recovery: ${entries(r.recovery)}`,
    '',
    `resources (median of the first fifth -> of the last fifth, bound on growth${r.resources.gc ? ', heap after gc' : ', heap without gc'}):`,
  );
  for (const g of r.resources.growth) {
    out.push(
      `  ${g.resource.padEnd(14)} ${fmt(g.first)} -> ${fmt(g.last)}  (+${fmt(g.growth)}, bound +${fmt(g.bound)})${g.growth > g.bound ? '  EXCEEDED' : ''}`,
    );
  }
  out.push(
    `  timers alive on the library's clock after close: ${r.resources.timersAfterClose}`,
    `logs: ${r.logs.lines} lines at trace (${(r.logs.bytes / 1024).toFixed(0)} KiB) scanned for secrets`,
  );
  return `${out.join('\n')}\n`;
}

function entries(o: Record<string, number>): string {
  return Object.entries(o)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
