import { StreamPool, binanceSpot } from '@unifeed/core';
import { bookTicker } from '@unifeed/feed-price';
import { closedKlines } from '@unifeed/feed-kline';
import { startSimulator } from '@unifeed/simulator';

// A local Binance spot exchange; pointing the venue at it is all a client changes.
const sim = await startSimulator({ venue: 'binance-spot', symbols: 20 });
const pool = new StreamPool({ venue: binanceSpot({ wsUrl: sim.wsUrl, restUrl: sim.restUrl }) });
const symbols = ['BTCUSDT', 'ETHUSDT'];

const quote = new Map<string, string>();
const quotes = pool.observe(bookTicker, { symbols }).subscribe((e) => {
  quote.set(e.symbol, `${e.bidPrice}/${e.askPrice}`);
});

let candles = 0;
const closed = closedKlines(pool, { symbols, intervals: ['1s'] }).subscribe((k) => {
  console.log(`${k.symbol} ${k.interval} o ${k.open} h ${k.high} l ${k.low} c ${k.close}`);
  console.log(`  quote now ${quote.get(k.symbol)}; connections ${pool.stats().connections}`);
  if (++candles === 4) {
    quotes.unsubscribe();
    closed.unsubscribe();
    void pool.close().then(() => sim.close());
  }
});
