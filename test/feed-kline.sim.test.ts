import { binanceSpot, binanceUsdm, StreamPool, type PoolStatus, type Venue } from '@unifeed/core';
import { closedKlines, klines, klineSeries, type KlineEvent } from '@unifeed/feed-kline';
import { startSimulator, type Simulator } from '@unifeed/simulator';
import { afterEach, describe, expect, it } from 'vitest';
import { simulatorSymbols } from './support/simulator.js';
import { waitFor } from './support/ws-server.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function sim(options: Parameters<typeof startSimulator>[0]): Promise<Simulator> {
  const s = await startSimulator({ seed: 5, ...options });
  cleanup.push(() => s.close());
  return s;
}

function pool(venue: Venue, extra: Partial<ConstructorParameters<typeof StreamPool>[0]> = {}) {
  const p = new StreamPool({ venue, backoff: { initialMs: 20, maxMs: 50, jitter: 0 }, ...extra });
  cleanup.push(() => p.close());
  const statuses: PoolStatus[] = [];
  p.status$.subscribe((s) => statuses.push(s));
  return { p, statuses };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const parseErrors = (statuses: PoolStatus[]) => statuses.filter((s) => s.type === 'parse-error');

describe('feed-kline against the simulator', () => {
  it('531 symbols x 6 intervals in one call: all 3,186 streams deliver parsed klines (USD-M)', async () => {
    const s = await sim({ venue: 'binance-usdm' });
    const symbols = await simulatorSymbols(s, 531);
    const intervals = ['1m', '3m', '5m', '15m', '30m', '4h'] as const;
    const { p, statuses } = pool(binanceUsdm({ wsUrl: s.wsUrl, restUrl: s.restUrl }));
    const seen = new Set<string>();
    let bad = 0;
    const sub = klines(p, { symbols, intervals }).subscribe((e) => {
      if (e.venue !== 'binance-usdm' || !e.stream.endsWith(`@kline_${e.interval}`)) bad++;
      seen.add(e.stream);
    });
    cleanup.push(() => sub.unsubscribe());
    await waitFor(() => seen.size === 3186, 25_000, 20);
    expect(bad).toBe(0);
    expect(p.stats().connections).toBe(16);
    expect(parseErrors(statuses)).toEqual([]);
  }, 40_000);

  it('futures kline_1s or an unknown interval throws at the call, before any connection', async () => {
    const s = await sim({ venue: 'binance-usdm', symbols: 2 });
    const { p } = pool(binanceUsdm({ wsUrl: s.wsUrl, restUrl: s.restUrl }));
    const code = expect.objectContaining({ code: 'UNIFEED_INVALID_STREAM' });
    expect(() => klines(p, { symbols: ['BTCUSDT'], intervals: ['1s'] })).toThrow(code);
    expect(() => closedKlines(p, { symbols: ['BTCUSDT'], intervals: ['7m' as '1m'] })).toThrow(
      code,
    );
    expect(() => klineSeries(p, { symbols: ['BTCUSDT'], intervals: ['1s'] })).toThrow(code);
    await sleep(50);
    expect(s.stats().connections.accepted).toBe(0);
  });

  it('closedKlines: each closed candle exactly once across two forced reconnects and a rotation (spot 1s)', async () => {
    const s = await sim({ venue: 'binance-spot', symbols: 12, speed: 4 });
    const symbols = await simulatorSymbols(s, 12);
    const { p, statuses } = pool(binanceSpot({ wsUrl: s.wsUrl, restUrl: s.restUrl }), {
      rotateAfterMs: 2500,
      rotateJitterMs: 0,
      overlapMaxMs: 500,
    });
    const params = { symbols, intervals: ['1s'] as const };
    const closed: KlineEvent[] = [];
    let rawClosed = 0;
    const subs = [
      closedKlines(p, params).subscribe((e) => closed.push(e)),
      // Every update, to count the closed ones the pool delivered.
      klines(p, params).subscribe((e) => (rawClosed += e.isClosed ? 1 : 0)),
    ];
    cleanup.push(() => subs.forEach((x) => x.unsubscribe()));
    await waitFor(() => closed.length >= 12, 5000, 20);
    await sleep(700);
    expect(s.faults.drop({ code: 1006 })).toBeGreaterThan(0);
    await sleep(900);
    expect(s.faults.drop({ code: 1006 })).toBeGreaterThan(0);
    await waitFor(() => statuses.some((x) => x.type === 'rotation'), 6000, 20);
    await sleep(1500);

    expect(
      statuses.filter((x) => x.type === 'gap' && x.reason === 'reconnect').length,
    ).toBeGreaterThanOrEqual(12);
    // Every closed candle the pool delivered, and no more, reached closedKlines once.
    expect(rawClosed).toBeGreaterThanOrEqual(closed.length);
    const byStream = new Map<string, number[]>();
    for (const e of closed) {
      expect(e.isClosed).toBe(true);
      byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), e.openTime]);
    }
    expect(byStream.size).toBe(12);
    for (const [stream, opens] of byStream) {
      // exactly once and in order: strictly increasing open times, one second apart or more
      for (let i = 1; i < opens.length; i++) {
        expect([stream, opens[i]! - opens[i - 1]! >= 1000]).toEqual([stream, true]);
      }
      expect(opens.length).toBeGreaterThanOrEqual(4);
    }
    expect(parseErrors(statuses)).toEqual([]);
  }, 30_000);

  it('klineSeries: never more than N candles per stream, kept current (spot 1s and 1m)', async () => {
    const s = await sim({ venue: 'binance-spot', symbols: 4, speed: 4 });
    const symbols = await simulatorSymbols(s, 4);
    const { p } = pool(binanceSpot({ wsUrl: s.wsUrl, restUrl: s.restUrl }));
    const n = 3;
    let maxLength = 0;
    let updates = 0;
    const last = new Map<string, KlineEvent[]>();
    const sub = klineSeries(p, { symbols, intervals: ['1s', '1m'] }, { length: n }).subscribe(
      ({ series, candle }) => {
        updates++;
        maxLength = Math.max(maxLength, series.length);
        if (series.last() !== candle && series.last()!.openTime < candle.openTime) maxLength = 99;
        last.set(candle.stream, series.toArray());
      },
    );
    cleanup.push(() => sub.unsubscribe());
    await waitFor(
      () => [...last.values()].filter((l) => l.length === n).length >= symbols.length,
      8000,
      20,
    );
    expect(maxLength).toBe(n);
    expect(last.size).toBe(8);
    for (const [stream, list] of last) {
      if (!stream.endsWith('1s')) continue;
      const opens = list.map((c) => c.openTime);
      expect(opens).toEqual([...opens].sort((a, b) => a - b));
      // all but the newest are final
      expect(list.slice(0, -1).every((c) => c.isClosed)).toBe(true);
    }
    expect(updates).toBeGreaterThan(symbols.length * n);
  }, 20_000);
});
