import type { Simulator } from '@unifeed/simulator';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FaultInjector, type InjectedFault } from '../src/fault-injector.js';
import {
  FAULT_KINDS,
  type FaultKind,
  type FaultTarget,
  type PlannedFault,
} from '../src/fault-plan.js';

interface FakeConnection {
  id: number;
  path: string;
  frozen?: boolean;
}
type Call = [method: string, ...args: unknown[]];

// Paths as the soak's pool opens them: only the first segment tells the kinds apart.
const MARKET: FakeConnection[] = [
  { id: 1, path: '/market/stream' },
  { id: 2, path: '/market/stream' },
];
const PUBLIC: FakeConnection[] = [
  { id: 11, path: '/public/stream' },
  { id: 12, path: '/public/stream' },
  { id: 13, path: '/public/stream' },
];
const PRIVATE: FakeConnection = { id: 21, path: '/private/ws' };
const BOOKS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
const DEPTH_PATH = '/fapi/v1/depth';

/**
 * The slice of a Simulator the injector uses. Every `faults` call is recorded; one aimed at
 * connections returns how many of its ids are still `reachable`, as the simulator's do, and
 * `schedule` defers its action on (fake) timers. Tests edit `connections` to open or close some.
 */
function fakeSim(connections: FakeConnection[] = [], keys: string[] = []) {
  const calls: Call[] = [];
  const reachable = new Set(connections.map((c) => c.id));
  const faults: object = new Proxy(
    {},
    {
      get:
        (_, method: string) =>
        (...args: unknown[]): number | undefined => {
          calls.push([method, ...args]);
          if (method === 'schedule') {
            const [trigger, action] = args as [{ afterMs: number }, (f: object) => void];
            setTimeout(() => action(faults), trigger.afterMs);
            return undefined;
          }
          const selector = args.find(
            (a): a is { ids: number[] } => typeof a === 'object' && a !== null && 'ids' in a,
          );
          return selector?.ids.filter((id) => reachable.has(id)).length;
        },
    },
  );
  const sim = {
    faults,
    stats: () => ({
      connectionList: connections.map((c) => ({ frozen: false, closing: false, ...c })),
    }),
    listenKeys: () => [...keys],
  };
  return { sim: sim as unknown as Simulator, calls, reachable, connections, keys };
}

function plan(kind: FaultKind, target?: FaultTarget, pick = 0, atMs = 1234): PlannedFault {
  return { atMs, kind, target, pick };
}

function injectorFor(
  sim: Simulator,
  bookSymbols: readonly string[] = BOOKS,
  onListenKeys: (keys: readonly string[]) => void = () => {},
) {
  return new FaultInjector({ sim, bookSymbols, onListenKeys });
}

/** What docs/reliability.md says each connection fault is injected as, on connection `ids`. */
const CONNECTION_FAULTS: [FaultKind, (ids: number[]) => Call[]][] = [
  ['drop-1006', (ids) => [['drop', { ids, code: 1006 }]]],
  ['drop-1008', (ids) => [['drop', { ids, code: 1008, reason: 'Too many requests' }]]],
  ['drop-1011', (ids) => [['drop', { ids, code: 1011, reason: 'Internal error' }]]],
  [
    'freeze',
    (ids) => [
      ['freeze', { ids }],
      ['schedule', { afterMs: 15_000 }, expect.any(Function)],
    ],
  ],
  [
    'stall-handshakes',
    (ids) => [
      ['drop', { ids, code: 1006 }],
      ['stallHandshakes', 1],
    ],
  ],
  ['malformed-invalid-json', (ids) => [['malformed', 'invalid-json', { ids }]]],
  ['malformed-wrong-types', (ids) => [['malformed', 'wrong-types', { ids }]]],
  ['malformed-unknown-stream', (ids) => [['malformed', 'unknown-stream', { ids }]]],
  ['malformed-huge', (ids) => [['malformed', 'huge', { ids }]]],
  ['malformed-binary', (ids) => [['malformed', 'binary', { ids }]]],
  ['duplicate', (ids) => [['duplicate', 50, { ids }]]],
  ['reorder', (ids) => [['reorder', 10, { ids }]]],
  ['expire-lifetime', (ids) => [['expireLifetime', { ids }]]],
  ['server-shutdown', (ids) => [['serverShutdown', { ids }]]],
];

/** REST faults: the answer each gives the next depth snapshot request. */
const REST_FAULTS: [FaultKind, object][] = [
  ['rest-429', { status: 429 }],
  ['rest-418', { status: 418 }],
  ['rest-503', { status: 503 }],
  ['rest-slow', { delayMs: 3000 }],
  ['rest-stale-snapshot', { staleSteps: 20 }],
];

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('FaultInjector: connection faults', () => {
  it.each(CONNECTION_FAULTS)(
    '%s is injected as documented on the picked connection',
    (kind, as) => {
      const s = fakeSim([...MARKET, ...PUBLIC]);
      const picked = PUBLIC[1]!;
      const r = injectorFor(s.sim).inject(plan(kind, 'public', 0.5, 4321));
      expect(s.calls).toEqual(as([picked.id]));
      expect(r).toEqual<InjectedFault>({
        atMs: 4321,
        kind,
        planned: 'public',
        target: 'public',
        connection: picked.id,
        symbol: undefined,
        applied: true,
      });
    },
  );

  it('hits the open connection of its planned kind at the pick, never a frozen one', () => {
    const frozen = { id: 14, path: '/public/stream', frozen: true };
    // Other kinds and a frozen one interleaved, so a wrong filter shifts the pick.
    const s = fakeSim([
      MARKET[0]!,
      PUBLIC[0]!,
      frozen,
      PRIVATE,
      PUBLIC[1]!,
      MARKET[1]!,
      PUBLIC[2]!,
    ]);
    const inj = injectorFor(s.sim);
    for (const pick of [0, 0.2, 0.34, 0.5, 0.67, 0.99]) {
      const r = inj.inject(plan('drop-1006', 'public', pick));
      expect(r.connection, `pick ${pick}`).toBe(PUBLIC[Math.floor(pick * PUBLIC.length)]!.id);
      expect(r.target).toBe('public');
    }
  });

  it('passes over a connection the simulator lists as closing: the fault would land nowhere', () => {
    const closing = { ...PUBLIC[0]!, closing: true };
    const s = fakeSim([closing, PUBLIC[1]!, MARKET[0]!]);
    s.reachable.delete(closing.id);
    const r = injectorFor(s.sim).inject(plan('drop-1006', 'public', 0));
    expect(r).toMatchObject({ target: 'public', connection: PUBLIC[1]!.id, applied: true });
  });

  it('stands a market connection in for a planned kind with none open, and records the aim', () => {
    const s = fakeSim([...MARKET, ...PUBLIC, PRIVATE]);
    const inj = injectorFor(s.sim);
    const first = inj.inject(plan('duplicate', 'private', 0.6));
    // The account's connection goes between sockets, then comes back frozen.
    s.connections.splice(s.connections.indexOf(PRIVATE), 1);
    const gone = inj.inject(plan('duplicate', 'private', 0.6));
    s.connections.push({ ...PRIVATE, frozen: true });
    const frozen = inj.inject(plan('duplicate', 'private', 0));
    const aimedAtPrivate = { kind: 'duplicate', planned: 'private', applied: true };
    expect([first, gone, frozen]).toEqual([
      expect.objectContaining({ ...aimedAtPrivate, target: 'private', connection: PRIVATE.id }),
      expect.objectContaining({ ...aimedAtPrivate, target: 'market', connection: MARKET[1]!.id }),
      expect.objectContaining({ ...aimedAtPrivate, target: 'market', connection: MARKET[0]!.id }),
    ]);
    expect(s.calls.map((c) => c.at(-1))).toEqual([
      { ids: [PRIVATE.id] },
      { ids: [MARKET[1]!.id] },
      { ids: [MARKET[0]!.id] },
    ]);
  });

  it('injects nothing and says so when neither its kind nor a market connection is open', () => {
    const s = fakeSim([...PUBLIC, { id: 3, path: '/market/stream', frozen: true }]);
    const inj = injectorFor(s.sim);
    for (const [kind] of CONNECTION_FAULTS) {
      expect(inj.inject(plan(kind, 'private', 0.5))).toEqual<InjectedFault>({
        atMs: 1234,
        kind,
        planned: 'private',
        target: undefined,
        connection: undefined,
        symbol: undefined,
        applied: false,
      });
    }
    expect(s.calls).toEqual([]);
  });

  it.each(CONNECTION_FAULTS)(
    '%s injects nothing, and says so, when the picked connection is closing as it acts',
    async (kind) => {
      const s = fakeSim([...MARKET]);
      const closing = MARKET[0]!.id;
      // stats() lists a connection until its close handshake ends; no fault reaches it by then.
      s.reachable.delete(closing);
      const r = injectorFor(s.sim).inject(plan(kind, 'market', 0));
      expect(r).toMatchObject({ target: 'market', connection: closing, applied: false });
      await vi.advanceTimersByTimeAsync(60_000);
      // Not applied must mean nothing landed: every act, deferred ones too, aimed at it alone.
      for (const call of s.calls.filter(([m]) => m !== 'schedule')) {
        expect(call.at(-1), call[0]).toEqual(expect.objectContaining({ ids: [closing] }));
      }
    },
  );

  it('unfreezes a frozen connection 15 s later if the client has not replaced it', async () => {
    const s = fakeSim([...MARKET]);
    injectorFor(s.sim).inject(plan('freeze', 'market', 0.5));
    const ids = [MARKET[1]!.id];
    const unfreezes = () => s.calls.filter(([m]) => m === 'unfreeze');
    await vi.advanceTimersByTimeAsync(14_999);
    expect(unfreezes()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(unfreezes()).toEqual([['unfreeze', { ids }]]);
  });

  it('treats a pick outside [0, 1) as nothing to hit rather than a connection or book at random', () => {
    const s = fakeSim([...MARKET, ...PUBLIC]);
    const inj = injectorFor(s.sim);
    for (const pick of [1, 1.5, -0.1, NaN]) {
      expect(inj.inject(plan('drop-1006', 'public', pick)).applied, `pick ${pick}`).toBe(false);
      expect(inj.inject(plan('depth-gap', undefined, pick)).applied, `pick ${pick}`).toBe(false);
    }
    expect(s.calls).toEqual([]);
  });
});

describe('FaultInjector: book faults', () => {
  it('withholds 1 to 3 diffs of the book symbol at the pick', () => {
    const s = fakeSim([...MARKET]);
    const inj = injectorFor(s.sim);
    const picks = [0, 0.2, 0.34, 0.5, 0.67, 0.99];
    const records = picks.map((pick) => inj.inject(plan('depth-gap', undefined, pick)));
    const gaps = s.calls.map(([m, symbol, events]) => ({ m, symbol, events: events as number }));
    picks.forEach((pick, i) => {
      const symbol = BOOKS[Math.floor(pick * BOOKS.length)];
      expect(gaps[i]).toEqual({ m: 'depthGap', symbol, events: expect.any(Number) });
      expect(records[i]).toEqual<InjectedFault>({
        atMs: 1234,
        kind: 'depth-gap',
        planned: undefined,
        target: undefined,
        connection: undefined,
        symbol,
        applied: true,
      });
    });
    // The pick spreads the gap's length over all of 1, 2 and 3.
    expect(new Set(gaps.map((g) => g.events))).toEqual(new Set([1, 2, 3]));
  });

  it.each(REST_FAULTS)(
    '%s answers the next depth snapshot so, and makes a gap to ask for one',
    (kind, answer) => {
      const s = fakeSim([...MARKET]);
      const r = injectorFor(s.sim).inject(plan(kind, undefined, 0.7));
      const symbol = BOOKS[2];
      expect(s.calls).toEqual([
        ['rest', { ...answer, path: DEPTH_PATH, count: 1 }],
        ['depthGap', symbol, 1],
      ]);
      expect(r).toEqual<InjectedFault>({
        atMs: 1234,
        kind,
        planned: undefined,
        target: undefined,
        connection: undefined,
        symbol,
        applied: true,
      });
    },
  );

  it('injects no book fault when the run has no books', () => {
    const s = fakeSim([...MARKET]);
    const inj = injectorFor(s.sim, []);
    for (const kind of ['depth-gap', ...REST_FAULTS.map(([k]) => k)] as const) {
      expect(inj.inject(plan(kind, undefined, 0.5))).toMatchObject({
        symbol: undefined,
        applied: false,
      });
    }
    expect(s.calls).toEqual([]);
  });
});

describe('FaultInjector: listen-key expiry', () => {
  const KEYS = ['key-one', 'key-two'];

  it('hands the live keys to the secret scan before expiring one, noticed on the account', () => {
    const s = fakeSim([...MARKET, PRIVATE], KEYS);
    const order: unknown[] = [];
    const onListenKeys = (keys: readonly string[]) => order.push(['onListenKeys', [...keys]]);
    const inj = injectorFor(s.sim, BOOKS, onListenKeys);
    // One log for both, so the order of scan and expiry shows.
    s.calls.push = (...c: Call[]) => order.push(...c);
    const r = inj.inject(plan('expire-listen-key'));
    expect(order).toEqual([['onListenKeys', KEYS], ['expireListenKey']]);
    expect(r).toEqual<InjectedFault>({
      atMs: 1234,
      kind: 'expire-listen-key',
      planned: undefined,
      target: 'private',
      connection: undefined,
      symbol: undefined,
      applied: true,
    });
  });

  it('still expires the key with no account connection open, counted as hitting none', () => {
    const s = fakeSim([...MARKET], KEYS);
    const r = injectorFor(s.sim).inject(plan('expire-listen-key'));
    expect(s.calls).toEqual([['expireListenKey']]);
    expect(r).toMatchObject({ target: undefined, applied: true });
  });

  it('does not expire a key into a frozen account connection, which would lose the notice', () => {
    const s = fakeSim([...MARKET, { ...PRIVATE, frozen: true }], KEYS);
    const scanned: string[][] = [];
    const r = injectorFor(s.sim, BOOKS, (k) => scanned.push([...k])).inject(
      plan('expire-listen-key'),
    );
    expect(s.calls).toEqual([]);
    expect(r).toMatchObject({ target: undefined, applied: false });
    expect(scanned).toEqual([KEYS]); // the keys are secrets whether or not one expires
  });

  it('injects nothing when no listen key is live', () => {
    const s = fakeSim([...MARKET, PRIVATE]);
    const r = injectorFor(s.sim).inject(plan('expire-listen-key'));
    expect(s.calls).toEqual([]);
    expect(r).toMatchObject({ target: undefined, applied: false });
  });
});

describe('FaultInjector: its record of the run', () => {
  it('keeps every record, landed or not, in order, and returns the one it keeps', () => {
    const s = fakeSim([...MARKET]);
    const inj = injectorFor(s.sim, []);
    const returned = [
      inj.inject(plan('drop-1006', 'market', 0, 10)),
      inj.inject(plan('depth-gap', undefined, 0, 20)), // no books: not applied
      inj.inject(plan('reorder', 'public', 0.9, 30)), // stands in on market
    ];
    expect(inj.injected).toEqual(returned);
    returned.forEach((r, i) => expect(inj.injected[i]).toBe(r));
    expect(inj.injected.map((r) => [r.atMs, r.applied, r.target])).toEqual([
      [10, true, 'market'],
      [20, false, undefined],
      [30, true, 'market'],
    ]);
  });

  it('lands every fault kind when there is something to hit', () => {
    const s = fakeSim([...MARKET, ...PUBLIC, PRIVATE], ['key']);
    const inj = injectorFor(s.sim);
    const onConnection = new Set(CONNECTION_FAULTS.map(([k]) => k));
    for (const kind of FAULT_KINDS) {
      const target = onConnection.has(kind) ? 'market' : undefined;
      expect(inj.inject(plan(kind, target, 0.5)), kind).toMatchObject({ kind, applied: true });
    }
  });

  it('sets no timer of its own: its only deferred act goes through the simulator', () => {
    const s = fakeSim([...MARKET, ...PUBLIC, PRIVATE], ['key']);
    const inj = injectorFor(s.sim);
    for (const kind of FAULT_KINDS) inj.inject(plan(kind, 'public', 0.5));
    // Timers the fake's schedule set, which the simulator's close clears; no other may exist.
    const scheduled = s.calls.filter(([m]) => m === 'schedule').length;
    expect(scheduled).toBeGreaterThan(0);
    expect(vi.getTimerCount()).toBe(scheduled);
  });
});
