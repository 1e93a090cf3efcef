import type { Simulator } from '@unifeed/simulator';
import { describe, expect, it } from 'vitest';
import {
  FAULT_KINDS,
  FaultSchedule,
  RECENT_FAULTS,
  type RecoveryView,
} from '../src/demo/faults.js';
import { driveFaults } from './support.js';

/** The simulator's fault surface, recording what was asked. */
function fakeSim() {
  const calls: string[] = [];
  const rec = (name: string) => (arg?: unknown) => {
    calls.push(`${name} ${JSON.stringify(arg ?? null)}`);
    return 1;
  };
  const faults = {
    drop: rec('drop'),
    freeze: rec('freeze'),
    depthGap: (symbol: string) => calls.push(`depthGap ${symbol}`),
    expireListenKey: rec('expireListenKey'),
    serverShutdown: rec('serverShutdown'),
  };
  return { sim: { faults } as unknown as Simulator, calls };
}

const view = (extra: Partial<RecoveryView> = {}): RecoveryView => ({
  reconnects: 0,
  rotations: 0,
  allOpen: true,
  bookResyncs: new Map([['BTCUSDT', 0]]),
  allBooksLive: true,
  listenKeyRenewals: 0,
  accountRunning: true,
  ...extra,
});

describe('FaultSchedule', () => {
  it('injects every kind in turn, on market connections only', () => {
    const { sim, calls } = fakeSim();
    const f = new FaultSchedule(sim, ['BTCUSDT']);
    for (let i = 0; i < FAULT_KINDS.length; i++) f.inject(i * 1000, view());
    expect(f.recent.map((r) => r.kind)).toEqual([...FAULT_KINDS]);
    expect(calls).toEqual([
      'drop {"path":"/market/stream","count":1,"code":1006}',
      'freeze {"path":"/market/stream","count":1}',
      'depthGap BTCUSDT',
      'expireListenKey null',
      'serverShutdown {"path":"/market/stream","count":1}',
    ]);
  });

  it('judges recovery by the client counters moving past their value at injection', () => {
    const { sim } = fakeSim();
    const f = new FaultSchedule(sim, ['BTCUSDT']);
    const drop = f.inject(0, view({ reconnects: 3 }));
    f.check(500, view({ reconnects: 3 }), 60_000);
    expect(drop.recoveredMs).toBeUndefined();
    f.check(900, view({ reconnects: 4, allOpen: false }), 60_000);
    expect(drop.recoveredMs).toBeUndefined();
    f.check(1200, view({ reconnects: 4 }), 60_000);
    expect(drop.recoveredMs).toBe(1200);

    f.inject(2000, view());
    const gap = f.inject(3000, view());
    f.check(3100, view({ bookResyncs: new Map([['BTCUSDT', 1]]), allBooksLive: false }), 60_000);
    expect(gap.recoveredMs).toBeUndefined();
    f.check(3300, view({ bookResyncs: new Map([['BTCUSDT', 1]]) }), 60_000);
    expect(gap.recoveredMs).toBe(300);
  });

  it('a fault not recovered within the timeout is lost, and stays lost', () => {
    const { sim } = fakeSim();
    const f = new FaultSchedule(sim, ['BTCUSDT']);
    const r = f.inject(0, view());
    f.check(60_001, view(), 60_000);
    expect(r.recoveredMs).toBeNull();
    f.check(70_000, view({ reconnects: 9 }), 60_000);
    expect(r.recoveredMs).toBeNull();
    expect(f.pending).toBe(0);
  });

  it('a long run keeps only the latest records and the pending ones, and still counts every fault', () => {
    // 10,000 faults: some 55 hours at the default 20 s.
    let mostKept = 0;
    let mostPending = 0;
    const f = driveFaults(10_000, (f) => {
      mostKept = Math.max(mostKept, f.recent.length);
      mostPending = Math.max(mostPending, f.pending);
    });
    expect(mostKept).toBe(RECENT_FAULTS);
    // A lost fault waits out its 60 s timeout: never more than one pending at a time here.
    expect(mostPending).toBe(1);
    expect(f.pending).toBe(0);
    expect(f.totals).toEqual({
      injected: 10_000,
      recovered: 9_000,
      lost: 1_000,
      slowestRecoveryMs: 1700,
    });
    // The latest, oldest first, with their outcomes.
    expect(f.recent.map((r) => r.at)).toEqual(
      Array.from({ length: RECENT_FAULTS }, (_, k) => (10_000 - RECENT_FAULTS + k) * 20_000),
    );
    expect(f.recent.filter((r) => r.recoveredMs === null)).toHaveLength(10);
    expect(f.recent.at(-1)).toMatchObject({ kind: 'shutdown notice', recoveredMs: 700 });
  });
});
