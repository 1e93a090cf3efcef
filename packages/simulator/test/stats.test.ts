import { realClock } from '@unifeed/core';
import { describe, expect, it } from 'vitest';
import { reply, simulatorFixture, waitFor } from './helpers.js';

const { start, open, drain } = simulatorFixture();

describe('stats', () => {
  it('counts connections, high-water marks per slot, subscriptions and duplicates', async () => {
    const { sim: s, clock } = await start();
    const a = await open('/market/stream?streams=btcusdt@kline_1m');
    const b = await open('/market/stream');
    await open('/public/ws');
    b.send({ method: 'SUBSCRIBE', params: ['btcusdt@kline_1m', 'ethusdt@kline_1m'], id: 1 });
    await b.next(reply(1));
    b.send({ method: 'SUBSCRIBE', params: ['ethusdt@kline_1m'], id: 2 });
    await b.next(reply(2));
    await clock.advance(250);
    await drain(a);
    await drain(b);
    a.close();
    await waitFor(() => s.stats().connections.open === 2);
    const st = s.stats();
    expect(st.connections).toMatchObject({ open: 2, highWater: 3, accepted: 3, doubledSlots: 1 });
    expect(st.connections.bySlot['/market/stream']).toEqual({ open: 1, highWater: 2 });
    expect(st.subscriptions).toMatchObject({
      subscribeFrames: 2,
      duplicateSameConnection: 1,
      duplicateAcrossConnections: 1,
    });
    expect(st.connectionList.find((c) => c.path === '/market/stream')?.subscriptions).toEqual([
      'btcusdt@kline_1m',
      'ethusdt@kline_1m',
    ]);
    const btc = st.streams['btcusdt@kline_1m'];
    expect(btc?.messages).toBe(2);
    expect(btc?.subscribers).toBe(1);
    expect(btc?.bytes).toBe(
      a.frames.join('').length + (b.frames.find((f) => f.includes('BTCUSDT'))?.length ?? 0),
    );
  });

  it('generates only subscribed streams and stops the scheduler when nothing is subscribed', async () => {
    const { sim: s, clock } = await start();
    const c = await open('/market/ws/btcusdt@kline_1m');
    await clock.advance(250);
    expect(clock.pending).toBeGreaterThan(0);
    c.send({ method: 'UNSUBSCRIBE', params: ['btcusdt@kline_1m'], id: 1 });
    await c.next(reply(1));
    const before = clock.pending;
    await clock.advance(250);
    // The tick timer is gone; only the connection's ping and lifetime timers remain.
    expect(clock.pending).toBe(before - 1);
    expect(Object.keys(s.stats().streams)).toEqual(['btcusdt@kline_1m']);
  });

  it('leaves no timer behind after close', async () => {
    const { sim: s, clock } = await start();
    await open('/market/ws/btcusdt@kline_1m');
    s.faults.schedule({ afterMs: 1000 }, () => undefined);
    s.faults.rest({ delayMs: 1000 });
    await clock.advance(250);
    await s.close();
    expect(clock.pending).toBe(0);
    // The port is free again: a new simulator can bind it.
    const port = Number(new URL(s.wsUrl).port);
    const again = await start({ port });
    expect(again.sim.wsUrl).toBe(s.wsUrl);
  });
});

describe('truth', () => {
  it('keeps the book at least 1000 levels deep and rolls back to earlier update ids', async () => {
    const { sim: s, clock } = await start();
    await open('/public/ws/btcusdt@depth@100ms');
    const first = s.truth.book('BTCUSDT');
    expect(first?.bids.length).toBeGreaterThanOrEqual(1000);
    expect(first?.asks.length).toBeGreaterThanOrEqual(1000);
    await clock.advance(3000);
    const log = s.truth.diffLog('BTCUSDT');
    expect(log.length).toBeGreaterThan(10);
    expect(s.truth.bookAt('BTCUSDT', first?.lastUpdateId ?? 0)).toEqual(first);
    const mid = log[5];
    expect(s.truth.bookAt('BTCUSDT', mid?.u ?? 0)?.lastUpdateId).toBe(mid?.u);
    expect(s.truth.bookAt('BTCUSDT', (mid?.u ?? 0) - 1)).toBeUndefined();
    const best = Number(s.truth.book('BTCUSDT')?.bids[0]?.[0]);
    const ask = Number(s.truth.book('BTCUSDT')?.asks[0]?.[0]);
    expect(ask).toBeGreaterThan(best);
  });
});

describe('firehose', () => {
  it('floods a subscriber with pre-encoded frames as fast as it drains', async () => {
    const { sim } = await start({
      clock: realClock,
      firehose: { stream: 'btcusdt@bookTicker', frames: 64, highWaterBytes: 64 * 1024 },
    });
    const c = await open('/public/stream?streams=btcusdt@bookTicker');
    await c.next(() => c.frames.length >= 5000, 5000);
    const data = JSON.parse(c.frames[10] ?? '') as {
      stream: string;
      data: Record<string, unknown>;
    };
    expect(data.stream).toBe('btcusdt@bookTicker');
    expect(data.data['e']).toBe('bookTicker');
    expect(sim.stats().firehose.messages).toBeGreaterThanOrEqual(5000);
    // The pump yields to I/O between bursts: timers and reads keep running meanwhile.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await new Promise((r) => setTimeout(r, 300));
    clearInterval(timer);
    // Measured: ~100 with the yield, ~4 when the pump chained on process.nextTick.
    expect(ticks).toBeGreaterThanOrEqual(15);
    c.ws.close(1000);
    expect((await c.closed).code).toBe(1000);
  });
});
