import { requireOption, SoakError, SoakErrorCode } from './errors.js';
import { seededRandom, shuffle } from './prng.js';

/**
 * Every fault the simulator can inject, one entry per variant: each appears in every plan at
 * least once, whatever the seed or duration.
 */
export const FAULT_KINDS = [
  'drop-1006',
  'drop-1008',
  'drop-1011',
  'freeze',
  'stall-handshakes',
  'depth-gap',
  'malformed-invalid-json',
  'malformed-wrong-types',
  'malformed-unknown-stream',
  'malformed-huge',
  'malformed-binary',
  'duplicate',
  'reorder',
  'rest-429',
  'rest-418',
  'rest-503',
  'rest-slow',
  'rest-stale-snapshot',
  'expire-lifetime',
  'expire-listen-key',
  'server-shutdown',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** Which kind of connection a connection fault hits. */
export type FaultTarget = 'market' | 'public' | 'private';

/** One planned fault. */
export interface PlannedFault {
  /** Ms after the measured run starts. */
  atMs: number;
  kind: FaultKind;
  /** The connection kind it hits (connection faults only). */
  target: FaultTarget | undefined;
  /** In [0, 1): which of the matching connections, or which book symbol, it hits. */
  pick: number;
}

/** Longest run a plan (and a soak) may cover: 7 days. */
export const MAX_RUN_MS = 7 * 24 * 60 * 60_000;
/**
 * Shortest mean spacing of faults: the plan keeps faults about a second apart (the run must
 * leave a second for each kind), and recoveries need that long to be told apart.
 */
export const MIN_FAULT_SPACING_MS = 1000;

/** Settings of {@link planFaults}. */
export interface FaultPlanOptions {
  seed: number;
  /** Length of the measured run. */
  durationMs: number;
  /** Mean spacing of faults. @default 4000 */
  meanSpacingMs?: number | undefined;
  /**
   * No fault in this last part of the run, so that the final checks see every recovery
   * finished. @default 15000
   */
  quietTailMs?: number | undefined;
}

/** Faults that act on one connection, and the kinds of connection each may hit. */
const TARGETS: Partial<Record<FaultKind, readonly FaultTarget[]>> = {
  'drop-1006': ['market', 'public', 'private'],
  'drop-1008': ['market', 'public'],
  'drop-1011': ['market', 'public', 'private'],
  freeze: ['market', 'public', 'private'],
  // A stalled handshake only matters to a reconnect: the fault drops a market connection too.
  'stall-handshakes': ['market'],
  'malformed-invalid-json': ['market', 'public', 'private'],
  'malformed-wrong-types': ['market', 'public'],
  'malformed-unknown-stream': ['market', 'public'],
  'malformed-huge': ['market', 'public', 'private'],
  'malformed-binary': ['market', 'public', 'private'],
  duplicate: ['market', 'public', 'private'],
  reorder: ['public', 'market'],
  'expire-lifetime': ['market', 'public', 'private'],
  'server-shutdown': ['market', 'public'],
};

/**
 * The first planned fault of each of these kinds aims at the account's connection, whatever the
 * seed: they are the faults that test the account feed's parsing and repeat suppression, and a
 * random aim would leave some seeds without them. Later ones aim as drawn.
 */
export const ACCOUNT_FIRST: readonly FaultKind[] = ['duplicate', 'malformed-invalid-json'];

/**
 * A REST ban holds every REST call of the client for at least five minutes: planned anywhere
 * but last, it would starve every later book resync and listen-key renewal of the run.
 */
const LAST: FaultKind = 'rest-418';

/**
 * The fault schedule of a run: a pure function of its options. Every kind once in a seeded
 * order (the REST ban last), then seeded extra faults of the other kinds until the mean
 * spacing is met; times are evenly spread with seeded jitter, none in the quiet tail. The
 * first fault of each {@link ACCOUNT_FIRST} kind aims at the private connection.
 */
export function planFaults(options: FaultPlanOptions): PlannedFault[] {
  const spacing = options.meanSpacingMs ?? 4000;
  const tail = options.quietTailMs ?? 15_000;
  const windowMs = options.durationMs - tail;
  requireOption('seed', options.seed ?? null, {
    min: Number.MIN_SAFE_INTEGER,
    max: Number.MAX_SAFE_INTEGER,
    integer: true,
  });
  requireOption('durationMs', options.durationMs ?? null, { min: 0, max: MAX_RUN_MS, above: true });
  requireOption('meanSpacingMs', spacing, { min: MIN_FAULT_SPACING_MS, max: MAX_RUN_MS });
  requireOption('quietTailMs', tail, { min: 0, max: MAX_RUN_MS });
  if (windowMs < FAULT_KINDS.length * MIN_FAULT_SPACING_MS) {
    throw new SoakError(
      SoakErrorCode.InvalidOption,
      `a run of ${options.durationMs} ms leaves no room for ${FAULT_KINDS.length} faults a second apart before its ${tail} ms quiet tail`,
    );
  }
  const random = seededRandom(options.seed);
  const others = FAULT_KINDS.filter((k) => k !== LAST);
  const count = Math.max(FAULT_KINDS.length, Math.floor(windowMs / spacing));
  const kinds: FaultKind[] = shuffle(others, random);
  while (kinds.length < count - 1) kinds.push(others[Math.floor(random() * others.length)]!);
  const order = [...kinds.slice(0, others.length), ...shuffle(kinds.slice(others.length), random)];
  order.push(LAST);
  const step = windowMs / order.length;
  const aimed = new Set<FaultKind>();
  return order.map((kind, i) => {
    const targets = TARGETS[kind];
    const jitter = (random() - 0.5) * 0.6 * step;
    // Drawn even when overridden, so that the rest of a seed's plan stays as it was.
    const drawn =
      targets === undefined ? undefined : targets[Math.floor(random() * targets.length)];
    const first = ACCOUNT_FIRST.includes(kind) && !aimed.has(kind);
    aimed.add(kind);
    return {
      atMs: Math.round((i + 0.5) * step + jitter),
      kind,
      target: first ? 'private' : drawn,
      pick: random(),
    };
  });
}

/** Planned faults per kind. */
export function countByKind(plan: readonly { kind: FaultKind }[]): Record<FaultKind, number> {
  const out = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  for (const f of plan) out[f.kind]++;
  return out;
}
