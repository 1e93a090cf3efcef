import type { Batch, BookLevels } from './market/book.js';
import type { Candle } from './market/candles.js';
import { formatUnits } from './market/decimal.js';
import { SymbolMarket, type Trade } from './market/symbol-market.js';
import type { VenueProfile } from './venue.js';

/**
 * Payload encoders, field for field as protocol.md gives them per venue. They build JSON
 * text directly: every value is a number or a string we formatted, so no escaping is
 * needed, and building text once per stream per push is the simulator's hot path.
 */
export class Encoder {
  readonly #venue: VenueProfile;

  constructor(venue: VenueProfile) {
    this.#venue = venue;
  }

  px(m: SymbolMarket, ticks: number): string {
    return formatUnits(ticks, m.spec.priceDecimals);
  }

  qty(m: SymbolMarket, lots: number): string {
    return formatUnits(lots, m.spec.qtyDecimals);
  }

  quote(m: SymbolMarket, units: number): string {
    return formatUnits(units, m.spec.priceDecimals + m.spec.qtyDecimals);
  }

  trade(m: SymbolMarket, t: Trade, now: number): string {
    return `{"e":"trade","E":${now},"s":"${m.spec.symbol}","t":${t.id},"p":"${this.px(m, t.price)}","q":"${this.qty(m, t.lots)}","T":${t.time},"m":${t.buyerMaker},"M":true}`;
  }

  aggTrade(m: SymbolMarket, t: Trade, now: number): string {
    const s = m.spec.symbol;
    const q = this.qty(m, t.lots);
    const head = `{"e":"aggTrade","E":${now},"s":"${s}","a":${t.id},"p":"${this.px(m, t.price)}","q":"${q}"`;
    if (this.#venue.futures) {
      return `${head},"nq":"${q}","f":${t.id},"l":${t.id},"T":${t.time},"m":${t.buyerMaker}}`;
    }
    return `${head},"f":${t.id},"l":${t.id},"T":${t.time},"m":${t.buyerMaker},"M":true}`;
  }

  kline(m: SymbolMarket, c: Candle, closed: boolean, now: number): string {
    const s = m.spec.symbol;
    return `{"e":"kline","E":${now},"s":"${s}","k":{"t":${c.t},"T":${c.T},"s":"${s}","i":"${c.interval}","f":${c.f},"L":${c.L},"o":"${this.px(m, c.o)}","c":"${this.px(m, c.c)}","h":"${this.px(m, c.h)}","l":"${this.px(m, c.l)}","v":"${this.qty(m, c.v)}","n":${c.n},"x":${closed},"q":"${this.quote(m, c.q)}","V":"${this.qty(m, c.V)}","Q":"${this.quote(m, c.Q)}","B":"0"}}`;
  }

  miniTicker(m: SymbolMarket, now: number): string {
    const d = m.day;
    return `{"e":"24hrMiniTicker","E":${now},"s":"${m.spec.symbol}","c":"${this.px(m, m.lastPrice)}","o":"${this.px(m, d.open)}","h":"${this.px(m, d.high)}","l":"${this.px(m, d.low)}","v":"${this.qty(m, d.volume)}","q":"${this.quote(m, d.quoteVolume)}"}`;
  }

  ticker(m: SymbolMarket, now: number): string {
    const d = m.day;
    const change = m.lastPrice - d.open;
    const pct = d.open === 0 ? 0 : (change / d.open) * 100;
    const avg = d.volume === 0 ? m.lastPrice : Math.round(d.quoteVolume / d.volume);
    const b = m.book;
    const head = `{"e":"24hrTicker","E":${now},"s":"${m.spec.symbol}","p":"${this.px(m, change)}","P":"${pct.toFixed(3)}","w":"${this.px(m, avg)}"`;
    const last = `"c":"${this.px(m, m.lastPrice)}","Q":"${this.qty(m, m.trades.at(-1)?.lots ?? 0)}"`;
    const window = `"o":"${this.px(m, d.open)}","h":"${this.px(m, d.high)}","l":"${this.px(m, d.low)}","v":"${this.qty(m, d.volume)}","q":"${this.quote(m, d.quoteVolume)}","O":${d.openTime},"C":${now},"F":${d.firstId},"L":${d.lastId},"n":${d.count}}`;
    if (this.#venue.futures) return `${head},${last},${window}`;
    const top = `"b":"${this.px(m, b.bestBid)}","B":"${this.qty(m, b.bids.get(b.bestBid) ?? 0)}","a":"${this.px(m, b.bestAsk)}","A":"${this.qty(m, b.asks.get(b.bestAsk) ?? 0)}"`;
    return `${head},"x":"${this.px(m, d.open)}",${last},${top},${window}`;
  }

  bookTicker(m: SymbolMarket, now: number): string {
    const b = m.book;
    const body = `"s":"${m.spec.symbol}","b":"${this.px(m, b.bestBid)}","B":"${this.qty(m, b.bids.get(b.bestBid) ?? 0)}","a":"${this.px(m, b.bestAsk)}","A":"${this.qty(m, b.asks.get(b.bestAsk) ?? 0)}"}`;
    if (this.#venue.futures) {
      return `{"e":"bookTicker","u":${b.lastUpdateId},"E":${now},"T":${now},${body}`;
    }
    return `{"u":${b.lastUpdateId},${body}`;
  }

  markPrice(m: SymbolMarket, now: number): string {
    const mark = this.px(m, m.markTicks());
    return `{"e":"markPriceUpdate","E":${now},"s":"${m.spec.symbol}","p":"${mark}","ap":"${mark}","i":"${this.px(m, m.lastPrice)}","P":"${mark}","r":"0.00010000","T":${SymbolMarket.nextFunding(now)}}`;
  }

  levels(m: SymbolMarket, levels: readonly (readonly [number, number])[]): string {
    let out = '[';
    for (let i = 0; i < levels.length; i++) {
      const l = levels[i];
      if (l === undefined) continue;
      if (i > 0) out += ',';
      out += `["${this.px(m, l[0])}","${this.qty(m, l[1])}"]`;
    }
    return `${out}]`;
  }

  /** Partial book; spot has no symbol and no event fields, futures is a depthUpdate. */
  partialDepth(m: SymbolMarket, levels: number, prevU: number, now: number): string {
    const top = m.book.top(levels);
    if (!this.#venue.futures) {
      return `{"lastUpdateId":${top.lastUpdateId},"bids":${this.levels(m, top.bids)},"asks":${this.levels(m, top.asks)}}`;
    }
    return `{"e":"depthUpdate","E":${now},"T":${now},"s":"${m.spec.symbol}","U":${prevU + 1},"u":${top.lastUpdateId},"pu":${prevU},"b":${this.levels(m, top.bids)},"a":${this.levels(m, top.asks)}}`;
  }

  /**
   * A diff event merging `batches` (the last quantity of each level wins). Futures lists
   * bids ascending and spot descending, as captured from the real venues.
   */
  diffDepth(m: SymbolMarket, batches: readonly Batch[], prevU: number, now: number): string {
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    for (const b of batches) {
      for (let k = 0; k < b.ticks.length; k++) {
        (b.sides[k] === 1 ? bids : asks).set(b.ticks[k] ?? 0, b.lots[k] ?? 0);
      }
    }
    const first = batches[0]?.U ?? prevU + 1;
    const last = batches.at(-1)?.u ?? prevU;
    const bidList = [...bids].sort((a, b) => (this.#venue.futures ? a[0] - b[0] : b[0] - a[0]));
    const askList = [...asks].sort((a, b) => a[0] - b[0]);
    const s = m.spec.symbol;
    if (this.#venue.futures) {
      return `{"e":"depthUpdate","E":${now},"T":${now},"s":"${s}","U":${first},"u":${last},"pu":${prevU},"b":${this.levels(m, bidList)},"a":${this.levels(m, askList)}}`;
    }
    return `{"e":"depthUpdate","E":${now},"s":"${s}","U":${first},"u":${last},"b":${this.levels(m, bidList)},"a":${this.levels(m, askList)}}`;
  }

  /** REST snapshot body. */
  snapshot(m: SymbolMarket, top: BookLevels, now: number): string {
    const body = `"bids":${this.levels(m, top.bids)},"asks":${this.levels(m, top.asks)}}`;
    if (this.#venue.futures)
      return `{"lastUpdateId":${top.lastUpdateId},"E":${now},"T":${now},${body}`;
    return `{"lastUpdateId":${top.lastUpdateId},${body}`;
  }
}
