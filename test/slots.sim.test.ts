import { binanceUsdm, ErrorCode, StreamPool } from '@unifeed/core';
import { startSimulator } from '@unifeed/simulator';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from './support/ws-server.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('connection slots (StreamPool slotParam, simulator bySlot)', () => {
  it('a slot keeps its key across reconnects and holds one socket at a time; a rotation gets a new slot', async () => {
    const sim = await startSimulator({ symbols: 5 });
    cleanup.push(() => sim.close());
    const pool = new StreamPool({
      venue: binanceUsdm({ wsUrl: sim.wsUrl, restUrl: sim.restUrl }),
      slotParam: 'slot',
      backoff: { initialMs: 50, maxMs: 100, jitter: 0 },
    });
    cleanup.push(() => pool.close());
    let got = 0;
    pool.watch('btcusdt@kline_1m').subscribe(() => got++);
    await waitFor(() => got > 0, 10_000);
    const [first] = sim.stats().connectionList;
    expect(first?.slot).toMatch(/^\/market\/stream\?slot=\d+\.1$/);
    for (let i = 0; i < 3; i++) {
      const [accepted, before] = [sim.stats().connections.accepted, got];
      sim.faults.drop({ code: 1006 });
      // Delivering again after the drop, over the new socket.
      await waitFor(() => sim.stats().connections.accepted > accepted && got > before, 10_000);
    }
    expect(sim.stats().connectionList.map((c) => c.slot)).toEqual([first?.slot]);
    expect(sim.stats().connections.bySlot[first!.slot]).toEqual({ open: 1, highWater: 1 });
    const acceptedBefore = sim.stats().connections.accepted;
    sim.faults.serverShutdown();
    // The replacement accepted and the old one closed (not merely the notice counted: until
    // the replacement is accepted, the old one is the only one open too).
    await waitFor(
      () =>
        pool.stats().rotations === 1 &&
        sim.stats().connections.accepted > acceptedBefore &&
        sim.stats().connections.open === 1,
      10_000,
    );
    // The replacement has a slot of its own; the old one, closed and never doubled, is gone.
    expect(Object.keys(sim.stats().connections.bySlot)).toEqual([
      first?.slot.replace(/\.1$/, '.2'),
    ]);
  });

  it('refuses a parameter name that would need escaping', () => {
    const venue = binanceUsdm({ wsUrl: 'ws://127.0.0.1:1' });
    expect(() => new StreamPool({ venue, slotParam: 'a b' })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidOption }),
    );
  });
});
