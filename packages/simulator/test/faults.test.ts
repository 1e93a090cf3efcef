import { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { settle, simulatorFixture, waitFor } from './helpers.js';

const { start, open, drain } = simulatorFixture();

describe('faults', () => {
  it('drops chosen connections with a close code, or abnormally with 1006', async () => {
    const { sim: s } = await start();
    const a = await open('/market/ws');
    const b = await open('/public/ws');
    const ids = s.stats().connectionList.map((c) => c.id);
    expect(s.stats().connectionList.map((c) => c.closing)).toEqual([false, false]);
    expect(s.faults.drop({ ids: [ids[0] ?? 0], code: 4000, reason: 'bye' })).toBe(1);
    // Listed until its close handshake ends, as closing: a fault picker passes it over.
    expect(s.stats().connectionList.map((c) => [c.id, c.closing])).toEqual([
      [ids[0], true],
      [ids[1], false],
    ]);
    expect(await a.closed).toEqual({ code: 4000, reason: 'bye' });
    expect(s.faults.drop()).toBe(1);
    expect((await b.closed).code).toBe(1006);
    await waitFor(() => s.stats().connections.open === 0);
    expect(s.stats().connections.open).toBe(0);
  });

  it('freezes a connection: nothing sent, pings unanswered, TCP up', async () => {
    const { sim: s, clock } = await start();
    const c = await open('/market/ws/btcusdt@kline_1m');
    await clock.advance(250);
    await c.next(() => true);
    s.faults.freeze();
    await settle();
    const before = c.frames.length;
    let pongs = 0;
    c.ws.on('pong', () => pongs++);
    c.ws.ping('x');
    await clock.advance(5000);
    await settle(50);
    expect(c.frames.length).toBe(before);
    expect(pongs).toBe(0);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    s.faults.unfreeze();
    await clock.advance(250);
    await c.next((_m, text) => !c.frames.slice(0, before).includes(text));
  });

  it('keeps a frozen connection open past the pong deadline', async () => {
    const { sim: s, clock } = await start({ venue: 'binance-spot' });
    const c = await open('/ws', { autoPong: false });
    await clock.advance(20_000);
    s.faults.freeze();
    await clock.advance(120_000);
    await settle(50);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    s.faults.unfreeze();
    await clock.advance(80_000);
    expect((await c.closed).code).toBe(1006);
  });

  it('stalls the next handshakes', async () => {
    const { sim: s } = await start();
    s.faults.stallHandshakes(1);
    const err = await new Promise<Error>((resolve) => {
      const ws = new WebSocket(`${s.wsUrl}/market/ws`, { handshakeTimeout: 200 });
      ws.on('error', resolve);
    });
    expect(err.message).toMatch(/timed out/i);
    expect(s.stats().handshakes.stalled).toBe(1);
    await open('/market/ws');
  });

  it('frees a stalled handshake once the client gives up (found by the 30-minute soak, seed 1)', async () => {
    const { sim: s } = await start();
    const tcp = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const before = tcp();
    s.faults.stallHandshakes(1);
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(`${s.wsUrl}/market/ws`, { handshakeTimeout: 200 });
      ws.on('error', () => resolve());
    });
    // Both ends closed: the client's, and the simulator's that was never answered.
    await waitFor(() => tcp() === before);
    expect(s.stats().handshakes.stalled).toBe(1);
  });

  it('opens a gap in diff depth that a client can detect and truth records', async () => {
    const { sim: s, clock } = await start();
    const c = await open('/public/ws/btcusdt@depth@100ms');
    await clock.advance(500);
    await c.next(() => true);
    s.faults.depthGap('BTCUSDT', 2);
    await clock.advance(1000);
    await drain(c);
    const events = c.frames.map((f) => JSON.parse(f) as { U: number; u: number; pu: number });
    const breaks = events.flatMap((e, i) => (i > 0 && e.pu !== events[i - 1]?.u ? [i] : []));
    expect(breaks.length).toBe(1);
    const at = breaks[0] ?? 0;
    expect(events[at]?.U).toBeGreaterThan((events[at - 1]?.u ?? 0) + 1);
    expect(s.truth.diffLog('BTCUSDT').filter((e) => e.skipped).length).toBe(2);
  });

  it('sends malformed frames of each kind', async () => {
    const { sim: s } = await start();
    const c = await open('/market/stream?streams=btcusdt@aggTrade');
    for (const kind of ['invalid-json', 'wrong-types', 'unknown-stream', 'huge'] as const) {
      s.faults.malformed(kind);
    }
    await c.next((_m, text) => text.length > 2_000_000, 5000);
    expect(c.frames[0]).toBe('{"stream":"btcusdt@aggTrade","data":{"e":');
    expect(JSON.parse(c.frames[1] ?? '')).toMatchObject({
      stream: 'btcusdt@aggTrade',
      data: { e: 42 },
    });
    expect(JSON.parse(c.frames[2] ?? '')).toMatchObject({ stream: 'nosuchsymbol@nosuchstream' });
  });

  it('duplicates and reorders data messages', async () => {
    const { sim: s, clock } = await start();
    const c = await open('/market/ws/btcusdt@kline_1m/ethusdt@kline_1m');
    s.faults.duplicate(1);
    await clock.advance(250);
    await drain(c);
    expect(c.frames.length).toBe(3);
    expect(c.frames[0]).toBe(c.frames[1]);
    s.faults.reorder(1);
    await clock.advance(250);
    await drain(c);
    const symbols = c.frames.slice(3).map((f) => (JSON.parse(f) as { s: string }).s);
    expect(symbols).toEqual(['ETHUSDT', 'BTCUSDT']);
  });

  it('a frame held back for a reorder with none to swap within 1 s goes out alone, using the fault up', async () => {
    const { sim: s, clock } = await start();
    const c = await open('/market/ws/btcusdt@markPrice'); // one push every 3 s
    const pushes = () => c.frames.filter((f) => f.includes('markPriceUpdate')).length;
    await clock.advance(3000);
    await drain(c);
    const before = pushes();
    s.faults.reorder(1);
    await clock.advance(3000); // held back: nothing follows within the second
    await drain(c);
    expect(pushes()).toBe(before);
    await clock.advance(1000);
    await drain(c);
    expect(pushes()).toBe(before + 1); // out alone, not lost
    await clock.advance(2000); // the next push: the fault is used up, nothing is held
    await drain(c);
    expect(pushes()).toBe(before + 2);
  });

  it('schedules faults by simulated time and by message count', async () => {
    const { sim: s, clock } = await start();
    const a = await open('/market/ws/btcusdt@kline_1m');
    s.faults.schedule({ afterMessages: 3 }, (f) => f.drop({ code: 4001 }));
    await clock.advance(250);
    await clock.advance(250);
    await clock.advance(250);
    expect((await a.closed).code).toBe(4001);
    expect(a.frames.length).toBe(3);
    const b = await open('/market/ws');
    s.faults.schedule({ afterMs: 10_000 }, (f) => f.expireLifetime());
    await clock.advance(9_999);
    await settle();
    expect(b.ws.readyState).toBe(WebSocket.OPEN);
    await clock.advance(1);
    expect((await b.closed).code).toBe(1001);
  });
});
