import { StreamPool, binanceUsdm } from '@unifeed/core';

// Binance USD-M by default; UNIFEED_WS_URL points it at a simulator or proxy.
const pool = new StreamPool({ venue: binanceUsdm({ wsUrl: process.env.UNIFEED_WS_URL }) });
const symbols = ['btcusdt', 'ethusdt'];
let received = 0;
for (const s of symbols) {
  pool.watch(`${s}@kline_1m`, { cadenceMs: 250 }).subscribe((payload) => {
    const k = (payload as { k: { s: string; i: string; c: string } }).k;
    console.log(`${k.s} ${k.i} close ${k.c}`);
    if (++received === 10) {
      const { streams, connections, subscribeLatency } = pool.stats();
      console.log(
        `${streams} streams on ${connections} connection(s), subscribed in ${subscribeLatency.maxMs.toFixed(1)} ms`,
      );
      void pool.close(); // completes every subscriber, leaves no timer and no socket
    }
  });
}
pool.gaps$.subscribe((g) => console.warn('hole in', g.stream, 'because of', g.reason));
