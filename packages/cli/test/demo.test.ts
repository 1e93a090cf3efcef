import { describe, expect, it } from 'vitest';
import type { DemoSummary } from '../src/demo/snapshot.js';
import { runCli } from './support.js';

describe('unifeed demo', () => {
  it('--duration 20: exits 0; 3,186 kline streams on 16 connections, every injected fault recovered, no duplicate subscription', async () => {
    const run = await runCli(['demo', '--duration', '20', '--fault-every', '3', '--json'], {
      timeoutMs: 150_000,
    });
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as DemoSummary;
    expect(summary.klineStreams).toBe(3186);
    expect(summary.klineStreamsDelivered).toBe(3186);
    expect(summary.klineConnections).toBe(16);
    // Every kind of fault the demo has, each recovered.
    expect(summary.faults.map((f) => f.kind)).toEqual(
      expect.arrayContaining([
        'dropped connection',
        'half-open connection',
        'depth gap',
        'listen-key expiry',
        'shutdown notice',
      ]),
    );
    expect(summary.allFaultsRecovered).toBe(true);
    expect(summary.faults.every((f) => typeof f.recoveredMs === 'number')).toBe(true);
    // Fewer faults than the summary lists: every one is there, and the counts agree.
    expect(summary.faultsInjected).toBe(summary.faults.length);
    expect(summary.faultsRecovered).toBe(summary.faultsInjected);
    // Never twice on one connection; across two only while a rotation overlaps them.
    expect(summary.duplicateSubscriptions.sameConnection).toBe(0);
    expect(summary.duplicateSubscriptions.acrossConnections).toBeLessThanOrEqual(
      200 * summary.duplicateSubscriptions.rotations,
    );
    expect(summary.books.every((b) => b.state === 'live')).toBe(true);
    expect(summary.account.state).toBe('running');
    expect(summary.account.orders).toBeGreaterThan(0);
    // The health report saw the faults of the last minute.
    expect(summary.health.status).not.toBe('ok');
    expect(summary.health.anomalies.join('\n')).toMatch(/reconnects in the last/);
    // Without a terminal: one summary line per interval, then the closing summary.
    expect(run.stderr).toMatch(/\[00:00:1\d\] running connections 17/);
    expect(run.stderr).toContain('faults injected');
  }, 160_000);
});
