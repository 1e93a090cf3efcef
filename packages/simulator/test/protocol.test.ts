import { describe, expect, it } from 'vitest';
import { isObj, onStream, reply, simulatorFixture, START } from './helpers.js';

const { start, open, drain } = simulatorFixture({ symbols: 20 });

describe('futures streams', () => {
  // Found by mutation: nothing tied aggTrade's or a diff's E to the simulated clock (5 s in the
  // past passed every test), and every lag and latency figure reads it.
  it('stamps aggTrade and diff depth events with the simulated time they are sent (E)', async () => {
    const { clock } = await start();
    const c = await open('/market/ws/btcusdt@aggTrade');
    const d = await open('/public/ws/btcusdt@depth@100ms');
    await clock.advance(3000);
    await c.next((m) => isObj(m) && m['e'] === 'aggTrade');
    await d.next((m) => isObj(m) && m['e'] === 'depthUpdate');
    await drain(c);
    await drain(d);
    const times = [...c.frames, ...d.frames]
      .map((f) => JSON.parse(f) as { e?: string; E?: number })
      .filter((m) => m.e === 'aggTrade' || m.e === 'depthUpdate')
      .map((m) => m.E ?? 0);
    expect(times.length).toBeGreaterThan(0);
    for (const t of times) {
      expect(t).toBeGreaterThan(START);
      expect(t).toBeLessThanOrEqual(START + 3000);
    }
  });

  it('serves a kline on /market/stream with every field of protocol.md', async () => {
    const { clock } = await start();
    const c = await open('/market/stream?streams=btcusdt@kline_1m');
    await clock.advance(250);
    const msg = await c.next(onStream('btcusdt@kline_1m'));
    expect(isObj(msg) && isObj(msg['data'])).toBe(true);
    const data = (msg as { data: Record<string, unknown> }).data;
    expect(data['e']).toBe('kline');
    expect(data['s']).toBe('BTCUSDT');
    const k = data['k'] as Record<string, unknown>;
    expect(Object.keys(k).sort()).toEqual(
      ['t', 'T', 's', 'i', 'f', 'L', 'o', 'c', 'h', 'l', 'v', 'n', 'x', 'q', 'V', 'Q', 'B'].sort(),
    );
    expect(k['t']).toBe(START);
    expect(k['T']).toBe(START + 59_999);
    expect(k['x']).toBe(false);
    expect(typeof k['o']).toBe('string');
  });

  it('closes a candle exactly at the interval boundary with x:true', async () => {
    const { clock } = await start();
    const c = await open('/market/ws/ethusdt@kline_1m');
    await clock.advance(60_000);
    const closed = (await c.next((m) => isObj(m) && isObj(m['k']) && m['k']['x'] === true)) as {
      E: number;
      k: Record<string, unknown>;
    };
    expect(closed.k['t']).toBe(START);
    expect(closed.E).toBeGreaterThan(START + 59_999);
    expect(closed.E).toBeLessThanOrEqual(START + 60_050);
    await drain(c);
    const after = c.frames.map((f) => JSON.parse(f) as { k: Record<string, unknown> });
    const iClosed = after.findIndex((m) => m.k['x'] === true);
    expect(after.slice(iClosed + 1).every((m) => m.k['t'] === START + 60_000)).toBe(true);
    expect(after.slice(iClosed + 1).length).toBeGreaterThan(0);
  });

  it('answers a method that is no string with an error, and serves on', async () => {
    await start();
    const c = await open('/market/ws');
    c.send('{"method":{"toString":0},"id":7}'); // String() throws on this one
    expect(await c.next(reply(7))).toMatchObject({ error: { code: 2 }, id: 7 });
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 8 });
    expect(await c.next(reply(8))).toEqual({ result: [], id: 8 });
  });

  // Found by mutation: only the routed path was tested; an un-routed connection (which gets
  // only /public streams) that got every group would let a client on the wrong path see data
  // the venue never sends it.
  it.each(['/public/ws', '/ws'])(
    'accepts a market stream on %s but never delivers it',
    async (path) => {
      const { clock } = await start();
      const c = await open(path);
      c.send({ method: 'SUBSCRIBE', params: ['btcusdt@kline_1m', 'btcusdt@bookTicker'], id: 1 });
      expect(await c.next(reply(1))).toEqual({ result: null, id: 1 });
      await clock.advance(2000);
      await c.next((m) => isObj(m) && m['e'] === 'bookTicker');
      await drain(c);
      expect(c.frames.some((f) => f.includes('"e":"kline"'))).toBe(false);
      c.send({ method: 'LIST_SUBSCRIPTIONS', id: 2 });
      expect(await c.next(reply(2))).toEqual({
        result: ['btcusdt@kline_1m', 'btcusdt@bookTicker'],
        id: 2,
      });
    },
  );

  it('accepts a stream named with a capital symbol but never delivers it, as Binance does', async () => {
    const { clock } = await start();
    const c = await open('/market/ws');
    c.send({ method: 'SUBSCRIBE', params: ['BTCUSDT@aggTrade', 'ethusdt@aggTrade'], id: 1 });
    expect(await c.next(reply(1))).toEqual({ result: null, id: 1 });
    await clock.advance(2000);
    await c.next((m) => isObj(m) && m['e'] === 'aggTrade');
    await drain(c);
    const symbols = new Set(
      c.frames.flatMap((f) =>
        f.includes('"e":"aggTrade"') ? [(JSON.parse(f) as { s: string }).s] : [],
      ),
    );
    expect([...symbols]).toEqual(['ETHUSDT']);
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 2 });
    expect(await c.next(reply(2))).toEqual({
      result: ['BTCUSDT@aggTrade', 'ethusdt@aggTrade'],
      id: 2,
    });
  });

  it('has no @trade stream and sends pu on diff depth', async () => {
    const { clock } = await start();
    const c = await open('/public/stream');
    c.send({ method: 'SUBSCRIBE', params: ['btcusdt@trade'], id: 1 });
    expect(await c.next(reply(1))).toEqual({
      error: { code: 2, msg: 'Invalid request: invalid stream' },
      id: 1,
    });
    c.send({ method: 'SUBSCRIBE', params: ['btcusdt@depth@100ms'], id: 2 });
    await c.next(reply(2));
    await clock.advance(1000);
    await drain(c);
    const events = c.frames
      .map((f) => JSON.parse(f) as { stream?: string; data?: Record<string, number> })
      .filter((m) => m.stream === 'btcusdt@depth@100ms')
      .map((m) => m.data as Record<string, number>);
    expect(events.length).toBeGreaterThan(3);
    let jumps = 0;
    for (let i = 1; i < events.length; i++) {
      const previous = events[i - 1]?.['u'] ?? 0;
      expect(events[i]?.['pu']).toBe(previous);
      // USD-M chains by pu only: U may skip ids (protocol.md: "U":157,"u":160,"pu":149).
      expect(events[i]?.['U']).toBeGreaterThan(previous);
      if (events[i]!['U']! > previous + 1) jumps++;
    }
    expect(jumps).toBeGreaterThan(0);
    expect(Object.keys(events[0] ?? {}).sort()).toEqual(
      ['E', 'T', 'U', 'a', 'b', 'e', 's', 'u', 'pu'].sort(),
    );
    // Update ids are past 2^32 as on the venue, and still exact in a double.
    expect(events[0]?.['u']).toBeGreaterThan(2 ** 32);
    expect(Number.isSafeInteger(events[0]?.['u'])).toBe(true);
  });
});

describe('spot streams', () => {
  it('sends bookTicker without e/E and partial depth without a symbol', async () => {
    const { clock } = await start({ venue: 'binance-spot' });
    const c = await open('/stream?streams=btcusdt@bookTicker/btcusdt@depth5@100ms/btcusdt@trade');
    await clock.advance(500);
    const bt = (await c.next(onStream('btcusdt@bookTicker'))) as { data: Record<string, unknown> };
    expect(Object.keys(bt.data).sort()).toEqual(['A', 'B', 'a', 'b', 's', 'u']);
    const pd = (await c.next(onStream('btcusdt@depth5@100ms'))) as {
      data: Record<string, unknown>;
    };
    expect(Object.keys(pd.data).sort()).toEqual(['asks', 'bids', 'lastUpdateId']);
    expect((pd.data['bids'] as unknown[]).length).toBe(5);
    const tr = (await c.next(onStream('btcusdt@trade'))) as { data: Record<string, unknown> };
    expect(tr.data['e']).toBe('trade');
    expect(tr.data['M']).toBe(true);
  });

  it('answers the control protocol with codes 0-3', async () => {
    // Eight requests inside one simulated second: lift the 5/s limit, tested on its own.
    await start({ venue: 'binance-spot', limits: { messagesPerSecond: 100 } });
    const c = await open('/ws');
    c.send('{not json');
    expect(
      await c.next((m) => isObj(m) && isObj(m['error']) && m['error']['code'] === 3),
    ).toBeTruthy();
    c.send({ method: 'SET_PROPERTY', params: ['combined', 'yes'], id: 1 });
    expect(await c.next(reply(1))).toMatchObject({ error: { code: 1 } });
    c.send({ method: 'SET_PROPERTY', params: ['colour', true], id: 2 });
    expect(await c.next(reply(2))).toMatchObject({ error: { code: 0, msg: 'Unknown property' } });
    c.send({ method: 'FROB', id: 3 });
    expect(await c.next(reply(3))).toMatchObject({ error: { code: 2 } });
    c.send({ method: 'SET_PROPERTY', params: ['combined', true], id: 4 });
    expect(await c.next(reply(4))).toEqual({ result: null, id: 4 });
    c.send({ method: 'GET_PROPERTY', params: ['combined'], id: 5 });
    expect(await c.next(reply(5))).toEqual({ result: true, id: 5 });
    c.send({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade'], id: 'abc' });
    expect(await c.next((m) => isObj(m) && m['id'] === 'abc')).toEqual({ result: null, id: 'abc' });
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 6 });
    expect(await c.next(reply(6))).toEqual({ result: ['btcusdt@aggTrade'], id: 6 });
  });

  it('rejects a string id on futures', async () => {
    await start();
    const c = await open('/market/ws');
    c.send({ method: 'LIST_SUBSCRIPTIONS', id: 'abc' });
    expect(await c.next((m) => isObj(m) && isObj(m['error']))).toMatchObject({
      error: { code: 2, msg: 'Invalid request: request ID must be an unsigned integer' },
    });
  });
});

describe('determinism', () => {
  it('produces the same market for the same seed', async () => {
    const run = async (seed: number): Promise<string> => {
      const { sim: s, clock } = await start({ seed });
      const c = await open('/public/ws/solusdt@depth10@100ms');
      await clock.advance(1000);
      await c.next(() => true);
      await drain(c);
      const text = JSON.stringify(s.truth.book('SOLUSDT', 10)) + c.frames.join('\n');
      c.close();
      await s.close();
      return text;
    };
    const a = await run(7);
    expect(await run(7)).toBe(a);
    expect(await run(8)).not.toBe(a);
  });
});
