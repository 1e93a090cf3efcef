import { describe, expect, it } from 'vitest';
import { DEFAULT_API_KEY } from '@unifeed/simulator';
import { isObj, simulatorFixture } from './helpers.js';

const { start, open } = simulatorFixture();

describe('futures account state', () => {
  it('reports positions after fills, long and short', async () => {
    const { sim } = await start();
    expect(sim.account.position('BTCUSDT')).toBe('0.00000000');
    const buy = sim.account.placeOrder({
      symbol: 'btcusdt',
      side: 'BUY',
      quantity: '0.5',
      price: '1',
    });
    sim.account.fill(buy.orderId);
    const sell = sim.account.placeOrder({
      symbol: 'BTCUSDT',
      side: 'SELL',
      quantity: '2',
      price: '1',
    });
    sim.account.fill(sell.orderId, { quantity: '1.25' });
    expect(sim.account.position('btcusdt')).toBe('-0.75000000');
  });

  it('sends MARGIN_CALL with the position to user-data listeners', async () => {
    const { sim } = await start();
    const res = await fetch(`${sim.restUrl}/fapi/v1/listenKey`, {
      method: 'POST',
      headers: { 'X-MBX-APIKEY': DEFAULT_API_KEY.apiKey },
    });
    const { listenKey } = (await res.json()) as { listenKey: string };
    const c = await open(`/private/ws?listenKey=${listenKey}`);
    const o = sim.account.placeOrder({ symbol: 'ETHUSDT', side: 'BUY', quantity: '3', price: '2' });
    sim.account.fill(o.orderId);
    sim.account.marginCall('ethusdt', '187.17');
    expect(await c.next((m) => isObj(m) && m['e'] === 'MARGIN_CALL')).toMatchObject({
      cw: '100000.00000000',
      p: [{ s: 'ETHUSDT', ps: 'BOTH', pa: '3.00000000', mt: 'CROSSED', mp: '187.17000000' }],
    });
  });

  it('refuses a margin call on spot', async () => {
    const { sim } = await start({ venue: 'binance-spot' });
    expect(() => sim.account.marginCall('BTCUSDT', '1')).toThrow(/futures only/);
  });
});
