import { describe, expect, it } from 'vitest';
import { isObj, onStream, settle, simulatorFixture, START } from './helpers.js';

const { start, open, drain } = simulatorFixture();

type Data = Record<string, unknown>;

/** Every payload of `stream` received so far on a combined connection. */
function payloads(frames: string[], stream: string): Data[] {
  return frames
    .map((f) => JSON.parse(f) as { stream?: string; data?: Data })
    .filter((m) => m.stream === stream && isObj(m.data))
    .map((m) => m.data as Data);
}

function payloadsOf(frames: string[], stream: string): Data[][] {
  return frames
    .map((f) => JSON.parse(f) as { stream?: string; data?: unknown })
    .filter((m) => m.stream === stream && Array.isArray(m.data))
    .map((m) => m.data as Data[]);
}

const keys = (d: Data | undefined): string[] => Object.keys(d ?? {}).sort();
const sorted = (k: string): string[] => k.split(' ').sort();

describe('payload shapes per venue (protocol.md field for field)', () => {
  it('futures', async () => {
    const { clock } = await start();
    const streams = [
      'btcusdt@aggTrade',
      'btcusdt@miniTicker',
      'btcusdt@ticker',
      'btcusdt@bookTicker',
      'btcusdt@markPrice@1s',
      'btcusdt@depth5@100ms',
    ];
    const market = await open(
      `/market/stream?streams=${streams.slice(0, 3).join('/')}/${streams[4]}`,
    );
    const pub = await open(`/public/stream?streams=${streams[3]}/${streams[5]}`);
    await clock.advance(3000);
    await drain(market);
    await drain(pub);
    const frames = [...market.frames, ...pub.frames];
    expect(keys(payloads(frames, 'btcusdt@aggTrade')[0])).toEqual(sorted('e E s a p q nq f l T m'));
    expect(keys(payloads(frames, 'btcusdt@miniTicker')[0])).toEqual(sorted('e E s c o h l v q'));
    expect(keys(payloads(frames, 'btcusdt@ticker')[0])).toEqual(
      sorted('e E s p P w c Q o h l v q O C F L n'),
    );
    expect(keys(payloads(frames, 'btcusdt@bookTicker')[0])).toEqual(sorted('e u E T s b B a A'));
    const mark = payloads(frames, 'btcusdt@markPrice@1s');
    expect(mark.length).toBe(3);
    expect(keys(mark[0])).toEqual(sorted('e E s p ap i P r T'));
    expect(mark[0]?.['T']).toBe(START + 8 * 3600_000);
    const depth = payloads(frames, 'btcusdt@depth5@100ms');
    expect(keys(depth[0])).toEqual(sorted('e E T s U u pu b a'));
    expect((depth[0]?.['b'] as unknown[]).length).toBe(5);
  });

  it('spot', async () => {
    const { clock } = await start({ venue: 'binance-spot' });
    const c = await open(
      '/stream?streams=ethusdt@aggTrade/ethusdt@miniTicker/ethusdt@ticker/ethusdt@kline_1s/ethusdt@depth',
    );
    await clock.advance(3000);
    await drain(c);
    expect(keys(payloads(c.frames, 'ethusdt@aggTrade')[0])).toEqual(
      sorted('e E s a p q f l T m M'),
    );
    expect(keys(payloads(c.frames, 'ethusdt@ticker')[0])).toEqual(
      sorted('e E s p P w x c Q b B a A o h l v q O C F L n'),
    );
    // kline_1s pushes every second; closed 1 s candles arrive on top.
    const k1s = payloads(c.frames, 'ethusdt@kline_1s').map((d) => d['k'] as Data);
    expect(k1s.filter((k) => k['x'] === true).length).toBe(3);
    const diff = payloads(c.frames, 'ethusdt@depth');
    expect(diff.length).toBe(3);
    expect(keys(diff[0])).toEqual(sorted('e E s U u b a'));
    // Spot diff bids are listed best first.
    const bids = (diff.find((d) => (d['b'] as unknown[]).length > 1)?.['b'] ?? []) as string[][];
    const prices = bids.map((b) => Number(b[0]));
    expect(prices).toEqual([...prices].sort((x, y) => y - x));
  });
});

describe('all-market array streams', () => {
  it('spot !miniTicker@arr on /ws arrives as a bare array of the symbols that traded', async () => {
    const { clock } = await start({ venue: 'binance-spot' });
    const c = await open('/ws/!miniTicker@arr');
    await clock.advance(1000);
    const arr = (await c.next((m) => Array.isArray(m))) as Data[];
    expect(arr.length).toBeGreaterThan(0);
    expect(arr.length).toBeLessThanOrEqual(5);
    expect(keys(arr[0])).toEqual(sorted('e E s c o h l v q'));
  });

  it('futures !markPrice@arr@1s carries every symbol each second', async () => {
    const { clock } = await start();
    const c = await open('/market/stream?streams=!markPrice@arr@1s');
    await clock.advance(2000);
    await drain(c);
    const pushes = payloadsOf(c.frames, '!markPrice@arr@1s');
    expect(pushes.length).toBe(2);
    expect(pushes[0]?.map((d) => d['s'])).toEqual([
      'BTCUSDT',
      'ETHUSDT',
      'BNBUSDT',
      'SOLUSDT',
      'XRPUSDT',
    ]);
  });
});

describe('all-market book tickers', () => {
  it("futures !bookTicker on /public: one message per symbol whose top changed, with that symbol's own ids", async () => {
    const { clock } = await start();
    const c = await open('/public/stream?streams=!bookTicker/btcusdt@bookTicker');
    await clock.advance(3000);
    await drain(c);
    const all = payloads(c.frames, '!bookTicker');
    const bySymbol = new Map<string, number[]>();
    for (const d of all) {
      expect(keys(d)).toEqual(sorted('e u E T s b B a A'));
      const ids = bySymbol.get(d['s'] as string) ?? [];
      bySymbol.set(d['s'] as string, [...ids, d['u'] as number]);
    }
    expect([...bySymbol.keys()].sort()).toEqual(
      ['BNBUSDT', 'BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT'].sort(),
    );
    for (const ids of bySymbol.values()) {
      expect(ids.every((u, i) => i === 0 || u > ids[i - 1]!)).toBe(true);
    }
    // The same updates as the symbol's own stream, and ids that do not rise across symbols.
    expect(bySymbol.get('BTCUSDT')).toEqual(
      payloads(c.frames, 'btcusdt@bookTicker').map((d) => d['u']),
    );
    const ids = all.map((d) => d['u'] as number);
    expect(ids).not.toEqual([...ids].sort((x, y) => x - y));
  });

  it('like every /public stream, is held but not delivered on /market; spot has none', async () => {
    const { sim, clock } = await start();
    const market = await open('/market/stream?streams=!bookTicker');
    await clock.advance(1000);
    await drain(market);
    expect(sim.stats().connectionList.find((x) => x.id === market.id)?.subscriptions).toEqual([
      '!bookTicker',
    ]);
    expect(payloads(market.frames, '!bookTicker')).toEqual([]);
    const spot = await start({ venue: 'binance-spot' });
    const c = await open('/stream?streams=!bookTicker');
    await spot.clock.advance(1000);
    await drain(c);
    expect(spot.sim.stats().connectionList.find((x) => x.id === c.id)?.subscriptions).toEqual([]);
  });
});

describe('send times for benchmarks', () => {
  it('sendTime stamps every pushed object with "St", its reading when encoded; arrays stay valid', async () => {
    let readings = 0;
    const { clock } = await start({ sendTime: () => 0.25 + readings++ });
    const streams = ['btcusdt@kline_1m', 'ethusdt@kline_1m', 'btcusdt@bookTicker'];
    const c = await open(`/market/stream?streams=${streams.slice(0, 2).join('/')}/!markPrice@arr`);
    const pub = await open(`/public/stream?streams=${streams[2]}`);
    await clock.advance(3000);
    await drain(c);
    await drain(pub);
    // Every frame parses (an all-market array has no place for the field).
    const arrays = payloadsOf(c.frames, '!markPrice@arr');
    expect(arrays.length).toBe(1);
    expect(arrays[0]!.every((d) => d['St'] === undefined)).toBe(true);
    const objects = streams.flatMap((st) => payloads([...c.frames, ...pub.frames], st));
    expect(objects.length).toBeGreaterThanOrEqual(24);
    const at = objects.map((d) => d['St'] as number);
    expect(at.every((t) => t % 1 === 0.25)).toBe(true);
    // One reading per stream and push, not one for the whole tick (the array's goes unused).
    expect(new Set(at).size).toBe(objects.length);
    expect(readings).toBe(objects.length + arrays.length);
  });
});

describe('market consistency', () => {
  it('a closed candle is exactly the trades of its minute', async () => {
    const { clock } = await start({ venue: 'binance-spot' });
    const c = await open('/stream?streams=bnbusdt@trade/bnbusdt@kline_1m');
    await clock.advance(60_000);
    const closed = (await c.next(
      (m) => isObj(m) && isObj(m['data']) && isObj(m['data']['k']) && m['data']['k']['x'] === true,
    )) as { data: { k: Data } };
    await drain(c);
    const k = closed.data.k;
    const trades = payloads(c.frames, 'bnbusdt@trade').filter(
      (t) => Number(t['T']) <= Number(k['T']),
    );
    expect(trades.length).toBeGreaterThan(100);
    const prices = trades.map((t) => Number(t['p']));
    const volume = trades.reduce((sum, t) => sum + Math.round(Number(t['q']) * 100), 0);
    expect(k['n']).toBe(trades.length);
    expect(k['f']).toBe(trades[0]?.['t']);
    expect(k['L']).toBe(trades.at(-1)?.['t']);
    expect(Number(k['o'])).toBe(prices[0]);
    expect(Number(k['c'])).toBe(prices.at(-1));
    expect(Number(k['h'])).toBe(Math.max(...prices));
    expect(Number(k['l'])).toBe(Math.min(...prices));
    expect(Math.round(Number(k['v']) * 100)).toBe(volume);
  });

  it('bookTicker is the top of the true book', async () => {
    const { sim, clock } = await start();
    const c = await open('/public/stream?streams=solusdt@bookTicker');
    await clock.advance(1000);
    await drain(c);
    const last = payloads(c.frames, 'solusdt@bookTicker').at(-1);
    const book = sim.truth.book('SOLUSDT', 1);
    expect(last).toMatchObject({
      u: book?.lastUpdateId,
      b: book?.bids[0]?.[0],
      B: book?.bids[0]?.[1],
      a: book?.asks[0]?.[0],
      A: book?.asks[0]?.[1],
    });
    expect(await c.next(onStream('solusdt@bookTicker'))).toBeTruthy();
  });

  it('runs a simulated day in milliseconds and cuts the connection at 24 h', async () => {
    const { clock } = await start({ limits: { pingIntervalMs: 0 } });
    const c = await open('/market/ws');
    await clock.advance(86_400_000 - 1);
    await settle();
    expect(c.ws.readyState).toBe(c.ws.OPEN);
    await clock.advance(1);
    expect((await c.closed).code).toBe(1001);
  });
});
