import type { Candle } from './market/candles.js';
import { formatUnits } from './market/decimal.js';
import type { SymbolMarket, Trade } from './market/symbol-market.js';

/** `SNAPSHOT` for the message sent when a stream is subscribed, `REALTIME` after. */
export type UpbitStreamType = 'SNAPSHOT' | 'REALTIME';

/** Order book units per message (Upbit's documented 15). */
export const UPBIT_ORDERBOOK_UNITS = 15;

const KST_OFFSET_MS = 9 * 3_600_000;

/**
 * Upbit's `sequential_id`: the trade time in ms times 10,000 plus the trade's place within its
 * ms (`17303368620470000` in Upbit's docs), some 1.7e16, beyond 2^53 as Upbit's are, so that
 * a client that reads it as a JSON number loses digits here too.
 */
function upbitTradeId(t: Trade): string {
  return `${t.time}${String(t.inMs).padStart(4, '0')}`;
}

/**
 * Upbit's DEFAULT-format payloads, with its field names. Upbit writes prices and volumes as
 * JSON numbers, not strings: the exact decimals are written unquoted, so a client that
 * reads them as numbers sees what Upbit would send. Every message opens with `type` then
 * `code`, as Upbit's do, which is what lets a client key a frame without parsing it.
 */
export class UpbitEncoder {
  px(m: SymbolMarket, ticks: number): string {
    return formatUnits(ticks, m.spec.priceDecimals);
  }

  qty(m: SymbolMarket, lots: number): string {
    return formatUnits(lots, m.spec.qtyDecimals);
  }

  quote(m: SymbolMarket, units: number): string {
    return formatUnits(units, m.spec.priceDecimals + m.spec.qtyDecimals);
  }

  ticker(m: SymbolMarket, now: number, st: UpbitStreamType = 'REALTIME'): string {
    const d = m.day;
    const last = m.trades.at(-1);
    const change = m.lastPrice - d.open;
    const rate = d.open === 0 ? 0 : change / d.open;
    const word = change > 0 ? 'RISE' : change < 0 ? 'FALL' : 'EVEN';
    const at = new Date(last?.time ?? now).toISOString();
    const date = at.slice(0, 10);
    const price = (t: number) => this.px(m, t);
    return (
      `{"type":"ticker","code":"${m.spec.symbol}","opening_price":${price(d.open)},"high_price":${price(d.high)},` +
      `"low_price":${price(d.low)},"trade_price":${price(m.lastPrice)},"prev_closing_price":${price(d.open)},` +
      `"change":"${word}","change_price":${price(Math.abs(change))},"signed_change_price":${price(change)},` +
      `"change_rate":${Math.abs(rate).toFixed(8)},"signed_change_rate":${rate.toFixed(8)},` +
      `"trade_volume":${this.qty(m, last?.lots ?? 0)},"acc_trade_volume":${this.qty(m, d.volume)},` +
      `"acc_trade_volume_24h":${this.qty(m, d.volume)},"acc_trade_price":${this.quote(m, d.quoteVolume)},` +
      `"acc_trade_price_24h":${this.quote(m, d.quoteVolume)},"trade_date":"${date.replaceAll('-', '')}",` +
      `"trade_time":"${at.slice(11, 19).replaceAll(':', '')}","trade_timestamp":${last?.time ?? now},` +
      `"ask_bid":"${last?.buyerMaker === false ? 'BID' : 'ASK'}","acc_ask_volume":${this.qty(m, Math.floor(d.volume / 2))},` +
      `"acc_bid_volume":${this.qty(m, d.volume - Math.floor(d.volume / 2))},"highest_52_week_price":${price(d.high)},` +
      `"highest_52_week_date":"${date}","lowest_52_week_price":${price(d.low)},"lowest_52_week_date":"${date}",` +
      `"market_state":"ACTIVE","is_trading_suspended":false,"delisting_date":null,"market_warning":"NONE",` +
      `"timestamp":${now},"stream_type":"${st}"}`
    );
  }

  trade(m: SymbolMarket, t: Trade, now: number): string {
    const at = new Date(t.time).toISOString();
    const b = m.book;
    const change = t.price - m.day.open;
    const word = change > 0 ? 'RISE' : change < 0 ? 'FALL' : 'EVEN';
    // `ask_bid` is the taker's side: ASK when a seller hit the bid (the buyer was the maker).
    return (
      `{"type":"trade","code":"${m.spec.symbol}","timestamp":${now},"trade_date":"${at.slice(0, 10)}",` +
      `"trade_time":"${at.slice(11, 19)}","trade_timestamp":${t.time},"trade_price":${this.px(m, t.price)},` +
      `"trade_volume":${this.qty(m, t.lots)},"ask_bid":"${t.buyerMaker ? 'ASK' : 'BID'}",` +
      `"prev_closing_price":${this.px(m, m.day.open)},"change":"${word}","change_price":${this.px(m, Math.abs(change))},` +
      `"sequential_id":${upbitTradeId(t)},"best_ask_price":${this.px(m, b.bestAsk)},"best_ask_size":${this.qty(m, b.asks.get(b.bestAsk) ?? 0)},` +
      `"best_bid_price":${this.px(m, b.bestBid)},"best_bid_size":${this.qty(m, b.bids.get(b.bestBid) ?? 0)},"stream_type":"REALTIME"}`
    );
  }

  orderbook(m: SymbolMarket, now: number, st: UpbitStreamType = 'REALTIME'): string {
    const top = m.book.top(UPBIT_ORDERBOOK_UNITS);
    let totalAsk = 0;
    let totalBid = 0;
    const units: string[] = [];
    const n = Math.max(top.asks.length, top.bids.length);
    for (let i = 0; i < n; i++) {
      const [ap, as] = top.asks[i] ?? [0, 0];
      const [bp, bs] = top.bids[i] ?? [0, 0];
      totalAsk += as;
      totalBid += bs;
      units.push(
        `{"ask_price":${this.px(m, ap)},"bid_price":${this.px(m, bp)},"ask_size":${this.qty(m, as)},"bid_size":${this.qty(m, bs)}}`,
      );
    }
    return (
      `{"type":"orderbook","code":"${m.spec.symbol}","timestamp":${now},"total_ask_size":${this.qty(m, totalAsk)},` +
      `"total_bid_size":${this.qty(m, totalBid)},"orderbook_units":[${units.join(',')}],"stream_type":"${st}","level":0}`
    );
  }

  candle(m: SymbolMarket, c: Candle, now: number, st: UpbitStreamType = 'REALTIME'): string {
    const utc = new Date(c.t).toISOString().slice(0, 19);
    const kst = new Date(c.t + KST_OFFSET_MS).toISOString().slice(0, 19);
    return (
      `{"type":"candle.${c.interval}","code":"${m.spec.symbol}","candle_date_time_utc":"${utc}",` +
      `"candle_date_time_kst":"${kst}","opening_price":${this.px(m, c.o)},"high_price":${this.px(m, c.h)},` +
      `"low_price":${this.px(m, c.l)},"trade_price":${this.px(m, c.c)},"candle_acc_trade_volume":${this.qty(m, c.v)},` +
      `"candle_acc_trade_price":${this.quote(m, c.q)},"timestamp":${now},"stream_type":"${st}"}`
    );
  }
}

const COMMON: Readonly<Record<string, string>> = {
  type: 'ty',
  code: 'cd',
  timestamp: 'tms',
  stream_type: 'st',
};

/** Upbit's SIMPLE-format field names, per type (`trade_date` is `tdt` in a ticker, `td` in a trade). */
const SIMPLE: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  ticker: {
    ...COMMON,
    opening_price: 'op',
    high_price: 'hp',
    low_price: 'lp',
    trade_price: 'tp',
    prev_closing_price: 'pcp',
    change: 'c',
    change_price: 'cp',
    signed_change_price: 'scp',
    change_rate: 'cr',
    signed_change_rate: 'scr',
    trade_volume: 'tv',
    acc_trade_volume: 'atv',
    acc_trade_volume_24h: 'atv24h',
    acc_trade_price: 'atp',
    acc_trade_price_24h: 'atp24h',
    trade_date: 'tdt',
    trade_time: 'ttm',
    trade_timestamp: 'ttms',
    ask_bid: 'ab',
    acc_ask_volume: 'aav',
    acc_bid_volume: 'abv',
    highest_52_week_price: 'h52wp',
    highest_52_week_date: 'h52wdt',
    lowest_52_week_price: 'l52wp',
    lowest_52_week_date: 'l52wdt',
    market_state: 'ms',
    is_trading_suspended: 'its',
    delisting_date: 'dd',
    market_warning: 'mw',
  },
  trade: {
    ...COMMON,
    trade_date: 'td',
    trade_time: 'ttm',
    trade_timestamp: 'ttms',
    trade_price: 'tp',
    trade_volume: 'tv',
    ask_bid: 'ab',
    prev_closing_price: 'pcp',
    change: 'c',
    change_price: 'cp',
    sequential_id: 'sid',
    best_ask_price: 'bap',
    best_ask_size: 'bas',
    best_bid_price: 'bbp',
    best_bid_size: 'bbs',
  },
  orderbook: {
    ...COMMON,
    total_ask_size: 'tas',
    total_bid_size: 'tbs',
    orderbook_units: 'obu',
    ask_price: 'ap',
    bid_price: 'bp',
    ask_size: 'as',
    bid_size: 'bs',
    level: 'lv',
  },
  candle: {
    ...COMMON,
    candle_date_time_utc: 'cdttmu',
    candle_date_time_kst: 'cdttmk',
    opening_price: 'op',
    high_price: 'hp',
    low_price: 'lp',
    trade_price: 'tp',
    candle_acc_trade_volume: 'catv',
    candle_acc_trade_price: 'catp',
  },
};

/**
 * A DEFAULT-format payload in the SIMPLE format. Only connections that asked for SIMPLE pay
 * for it, once per push however many of them there are (the hub caches it per message).
 */
export function toSimple(payload: string): string {
  const type = /^\{"type":"([^"]+)"/.exec(payload)?.[1] ?? '';
  const names = SIMPLE[type.startsWith('candle.') ? 'candle' : type] ?? COMMON;
  // Keys renamed in the text, the numbers left as written: a JSON round trip would round
  // `sequential_id`, which is beyond 2^53. No value of these payloads looks like `"key":`.
  return payload.replace(/"([a-z0-9_]+)":/g, (key, name: string) => {
    const short = names[name];
    return short === undefined ? key : `"${short}":`;
  });
}
