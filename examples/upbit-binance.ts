import { StreamPool, binanceSpot, upbit } from '@unifeed/core';
import { ticker, type TickerEvent } from '@unifeed/feed-price';
import { startSimulator } from '@unifeed/simulator';

// Two local exchanges. On the real venues: upbit() and binanceSpot() without URLs.
const upbitSim = await startSimulator({ venue: 'upbit', symbols: 6 });
const binanceSim = await startSimulator({ venue: 'binance-spot', symbols: 3 });

// One pool per venue: each keeps its own connections, limits and heartbeat (Upbit's is `PING`).
const upbitPool = new StreamPool({ venue: upbit({ wsUrl: upbitSim.wsUrl }) });
const binancePool = new StreamPool({ venue: binanceSpot({ wsUrl: binanceSim.wsUrl }) });

// The join is yours: events carry each venue's own symbol, unchanged.
const pairs: Record<string, string> = { 'KRW-BTC': 'BTCUSDT', 'KRW-ETH': 'ETHUSDT' };
const last = new Map<string, string>(); // "venue symbol" -> last price, an exact decimal string

let lines = 0;
const compare = (code: string) => {
  const krw = last.get(`upbit ${code}`);
  const usdt = last.get(`binance-spot ${pairs[code]}`);
  const usdtKrw = last.get('upbit KRW-USDT');
  if (!krw || !usdt || !usdtKrw) return;
  const premium = (Number(krw) / (Number(usdt) * Number(usdtKrw)) - 1) * 100;
  console.log(`${code} ${krw} KRW | ${pairs[code]} ${usdt} USDT | premium ${premium.toFixed(2)}%`);
  if (++lines === 6) {
    void Promise.all([upbitPool.close(), binancePool.close()])
      .then(() => Promise.all([upbitSim.close(), binanceSim.close()]))
      .then(() => console.log('closed'));
  }
};
const remember = (e: TickerEvent) => last.set(`${e.venue} ${e.symbol}`, e.close);

upbitPool.observe(ticker, { symbols: [...Object.keys(pairs), 'KRW-USDT'] }).subscribe((e) => {
  remember(e);
  if (e.symbol in pairs) compare(e.symbol);
});
binancePool.observe(ticker, { symbols: Object.values(pairs) }).subscribe(remember);
