import { describe, expect, it } from 'vitest';
import {
  progressBar,
  renderDashboard,
  renderSummary,
  summaryLine,
  toSummary,
} from '../src/demo/dashboard.js';
import type { FaultRecord, FaultTotals } from '../src/demo/faults.js';
import type { DemoSnapshot } from '../src/demo/snapshot.js';
import { driveFaults } from './support.js';

/** The totals a schedule that kept every one of `faults` would report. */
function totalsOf(faults: readonly FaultRecord[]): FaultTotals {
  const times = faults.flatMap((f) => (typeof f.recoveredMs === 'number' ? [f.recoveredMs] : []));
  return {
    injected: faults.length,
    recovered: times.length,
    lost: faults.filter((f) => f.recoveredMs === null).length,
    slowestRecoveryMs: times.length === 0 ? null : Math.max(...times),
  };
}

function snapshot(extra: Partial<DemoSnapshot> = {}): DemoSnapshot {
  const faults: readonly FaultRecord[] = extra.faults ?? [
    {
      kind: 'dropped connection',
      at: 20_000,
      detail: 'cut',
      symbol: undefined,
      recoveredMs: 1200,
      baseline: 0,
    },
    {
      kind: 'depth gap',
      at: 40_000,
      detail: 'gap',
      symbol: 'BTCUSDT',
      recoveredMs: undefined,
      baseline: 0,
    },
  ];
  return {
    elapsedMs: 83_000,
    venue: 'binance-usdm',
    wsUrl: 'ws://127.0.0.1:1',
    phase: 'running',
    klineStreams: 3186,
    klineStreamsDelivered: 3186,
    klineConnections: 16,
    connections: [
      { id: 1, group: 'market', state: 'open', streams: 200, messagesPerSecond: 800 },
      { id: 2, group: 'market', state: 'backoff', streams: 186, messagesPerSecond: 0 },
    ],
    streams: 3241,
    messagesPerSecond: 12_734,
    lagP50Ms: 0.4,
    lagP99Ms: 3.1,
    queue: { depth: 2, maxDepth: 12, dropped: 0 },
    reconnects: 2,
    gaps: 200,
    rotations: 1,
    parseErrors: 0,
    staleResubscribes: 0,
    books: [
      {
        symbol: 'BTCUSDT',
        state: 'live',
        lastUpdateId: 9,
        resyncs: 1,
        bid: '60000.0',
        ask: '60000.1',
      },
    ],
    account: { state: 'running', orders: 12, listenKeyRenewals: 1 },
    candles: ['BTCUSDT 1m o 1 h 2 l 0.5 c 1.5'],
    faults,
    faultTotals: totalsOf(faults),
    health: {
      status: 'warning',
      anomalies: [
        'pool usdm: 1 reconnects in the last 60 s (limit 0/min)',
        'pool usdm: 200 stream gaps announced in the last 60 s (limit 0/min)',
      ],
    },
    duplicates: { sameConnection: 0, acrossConnections: 200 },
    ...extra,
  };
}

describe('the demo dashboard', () => {
  it('shows connections, rates, lag, queue, books, account, candles and faults', () => {
    const text = renderDashboard(snapshot());
    for (const part of [
      'up 00:01:23',
      'kline streams 3,186 on 16 connections',
      'streams per connection 200 186!',
      'messages/s 12,734',
      'lag p50 0.4 ms  p99 3.1 ms',
      'queue 2 (max 12) drops 0',
      'reconnects 2  gaps 200  rotations 1',
      'BTCUSDT    live',
      'listen-key renewals 1',
      'BTCUSDT 1m o 1 h 2 l 0.5 c 1.5',
      '[00:00:20] dropped connection: cut -> recovered in 1.2 s',
      '[00:00:40] depth gap: gap -> recovering...',
      'health warning\n  pool usdm: 1 reconnects in the last 60 s (limit 0/min)\n  pool usdm: 200 stream',
    ]) {
      expect(text).toContain(part);
    }
  });

  it('shows a progress bar while subscribing', () => {
    expect(progressBar(1593, 3186, 10)).toBe('[#####.....] 1,593/3,186 streams delivering');
    const text = renderDashboard(snapshot({ phase: 'subscribing', klineStreamsDelivered: 10 }));
    expect(text).toContain('subscribing [');
  });

  it('one line per interval without a terminal', () => {
    const line = summaryLine(snapshot());
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trim().split('\n')).toHaveLength(1);
    expect(line).toContain('faults 1/2 recovered health warning');
  });

  it('the summary tells a lost fault from one still recovering when Ctrl-C stopped the demo', () => {
    // Pending at the end only after Ctrl-C (otherwise the end marks it lost): not a failure.
    const s = toSummary(snapshot(), 1000);
    expect(s.allFaultsRecovered).toBe(false);
    expect(s.faults[1]).toMatchObject({ recoveredMs: null, pending: true });
    expect(s.faultsLost).toBe(0);
    expect(renderSummary(s)).toContain('depth gap at 40 s: still recovering when stopped');
    const [done, pending] = snapshot().faults;
    const lost = toSummary(snapshot({ faults: [done!, { ...pending!, recoveredMs: null }] }), 1000);
    expect(lost.faultsLost).toBe(1);
    expect(lost.faults[1]).toMatchObject({ recoveredMs: null, pending: false });
    expect(renderSummary(lost)).toContain('depth gap at 40 s: NOT RECOVERED');
    const ok = toSummary(snapshot({ faults: [snapshot().faults[0]!] }), 1000);
    expect(ok.allFaultsRecovered).toBe(true);
    expect(renderSummary(ok)).toContain('faults injected 1, recovered 1 (all)');
    expect(renderSummary(ok)).toContain('  health warning\n    pool usdm: 1 reconnects');
  });

  it('after a long run: the counts cover every fault, the summary lists the latest and sums up the rest', () => {
    const f = driveFaults(10_000);
    const s = snapshot({ faults: f.recent, faultTotals: f.totals });
    expect(summaryLine(s)).toContain('faults 9000/10000 recovered');
    // The dashboard: the last six, as ever.
    const dashboard = renderDashboard(s);
    expect(dashboard.split('\n').filter((l) => /^ {2}\[\d\d:\d\d:\d\d\] /.test(l))).toHaveLength(6);
    expect(dashboard).toContain(
      '  [55:33:00] shutdown notice: serverShutdown on one market connection -> recovered in 0.7 s\n',
    );
    const summary = toSummary(s, 1000);
    expect(summary).toMatchObject({
      faultsInjected: 10_000,
      faultsRecovered: 9_000,
      faultsLost: 1_000,
      slowestRecoveryMs: 1700,
      allFaultsRecovered: false,
    });
    expect(summary.faults).toHaveLength(100);
    const text = renderSummary(summary);
    expect(text).toContain(
      '  faults injected 10000, recovered 9000\n' +
        '    9,900 earlier faults not listed: 8,910 recovered, 990 NOT RECOVERED; slowest recovery of all 1.7 s\n' +
        '    dropped connection at 198000 s: recovered in 1.2 s\n',
    );
    expect(text.split('\n').length).toBeLessThan(120);
  });

  it('faults stopped while recovering, no longer listed, are told apart from the lost ones', () => {
    const s = snapshot({
      faults: [],
      faultTotals: { injected: 3, recovered: 1, lost: 1, slowestRecoveryMs: 900 },
    });
    expect(renderSummary(toSummary(s, 1000))).toContain(
      '  faults injected 3, recovered 1\n' +
        '    3 earlier faults not listed: 1 recovered, 1 NOT RECOVERED, 1 still recovering when stopped; slowest recovery of all 0.9 s\n',
    );
  });
});
