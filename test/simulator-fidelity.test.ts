import ccxt from 'ccxt';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '@unifeed/simulator';

/**
 * Proof of fidelity: ccxt, a widely used third-party Binance client, streams klines and an
 * order book from the simulator after only its base URLs are swapped. Nothing else of
 * ccxt is patched; if the simulator's payloads, paths, control replies or REST answers
 * differed from Binance's in a way ccxt cares about, these calls would fail or hang.
 */

type Pro = InstanceType<typeof ccxt.pro.binanceusdm>;

let sim: Simulator | undefined;
let client: Pro | undefined;

afterEach(async () => {
  await client?.close();
  client = undefined;
  await sim?.close();
  sim = undefined;
});

/**
 * ccxt pointed at the simulator: the REST bases and the WS base, nothing more. ccxt wants
 * its documented `loadHttpProxyAgent()` before it opens a plain `ws://` URL.
 */
async function ccxtFor(s: Simulator, venue: 'usdm' | 'spot'): Promise<Pro> {
  const urls =
    venue === 'usdm'
      ? {
          api: {
            fapiPublic: `${s.restUrl}/fapi/v1`,
            fapiPublicV2: `${s.restUrl}/fapi/v2`,
            fapiPublicV3: `${s.restUrl}/fapi/v3`,
            ws: { future: `${s.wsUrl}/ws` },
          },
        }
      : { api: { public: `${s.restUrl}/api/v3`, ws: { spot: `${s.wsUrl}/ws` } } };
  const Ctor = venue === 'usdm' ? ccxt.pro.binanceusdm : ccxt.pro.binance;
  const options = venue === 'spot' ? { fetchMarkets: { types: ['spot'] } } : {};
  const c = new Ctor({ urls, options, timeout: 5000, enableRateLimit: false }) as Pro;
  await c.loadHttpProxyAgent();
  return c;
}

/** Bound every await on the client: a hang is a failure, not a stuck run. */
async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from ccxt in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A simulator of the venue (pushes 4x real cadence to keep the test short) and ccxt on it. */
async function setup(venue: 'usdm' | 'spot'): Promise<{ s: Simulator; c: Pro }> {
  const s = await startSimulator({
    venue: venue === 'usdm' ? 'binance-usdm' : 'binance-spot',
    symbols: 12,
    speed: 4,
  });
  sim = s;
  const c = await ccxtFor(s, venue);
  client = c;
  return { s, c };
}

for (const venue of ['usdm', 'spot'] as const) {
  describe(`ccxt pro against the simulator (${venue})`, () => {
    it('streams klines with watchOHLCV', async () => {
      const { s: sim, c } = await setup(venue);
      const symbol = venue === 'usdm' ? 'BTC/USDT:USDT' : 'BTC/USDT';
      const first = await within(10_000, c.watchOHLCV(symbol, '1m'));
      const second = await within(10_000, c.watchOHLCV(symbol, '1m'));
      const candle = second.at(-1) ?? first.at(-1);
      expect(candle).toBeDefined();
      const [t, o, h, l, cl, v] = candle ?? [];
      expect(Number(t) % 60_000).toBe(0);
      expect(Number(h)).toBeGreaterThanOrEqual(Math.max(Number(o), Number(cl)));
      expect(Number(l)).toBeLessThanOrEqual(Math.min(Number(o), Number(cl)));
      expect(Number(v)).toBeGreaterThanOrEqual(0);
      const path = venue === 'usdm' ? '/market/ws/0' : '/ws/0';
      expect(sim.stats().connectionList.map((x) => x.path)).toContain(path);
      expect(sim.stats().streams['btcusdt@kline_1m']?.messages).toBeGreaterThan(0);
    });

    it('keeps an order book with watchOrderBook that matches the exchange', async () => {
      const { s: sim, c } = await setup(venue);
      const symbol = venue === 'usdm' ? 'ETH/USDT:USDT' : 'ETH/USDT';
      let book = await within(10_000, c.watchOrderBook(symbol));
      for (let i = 0; i < 5; i++) book = await within(10_000, c.watchOrderBook(symbol));
      const nonce = Number(book.nonce);
      const truth = sim.truth.bookAt('ETHUSDT', nonce);
      expect(truth, `truth kept for update id ${nonce}`).toBeDefined();
      const top = (levels: number[][]): [number, number][] =>
        levels.slice(0, 20).map(([p, q]) => [Number(p), Number(q)]);
      const want = (levels: [string, string][]): [number, number][] =>
        levels.slice(0, 20).map(([p, q]) => [Number(p), Number(q)]);
      expect(top(book.bids as number[][])).toEqual(want(truth?.bids ?? []));
      expect(top(book.asks as number[][])).toEqual(want(truth?.asks ?? []));
      expect(sim.stats().rest.weightUsed).toBeGreaterThan(0);
    });
  });
}
