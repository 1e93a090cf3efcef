const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** 1970-01-01 was a Thursday; Binance weeks open on Monday 00:00 UTC. */
const FIRST_MONDAY = 4 * DAY;

const FIXED: Record<string, number> = {
  '1s': SECOND,
  '1m': MINUTE,
  '3m': 3 * MINUTE,
  '5m': 5 * MINUTE,
  '10m': 10 * MINUTE,
  '15m': 15 * MINUTE,
  '30m': 30 * MINUTE,
  // Upbit writes hours in minutes.
  '60m': HOUR,
  '240m': 4 * HOUR,
  '1h': HOUR,
  '2h': 2 * HOUR,
  '4h': 4 * HOUR,
  '6h': 6 * HOUR,
  '8h': 8 * HOUR,
  '12h': 12 * HOUR,
  '1d': DAY,
  '3d': 3 * DAY,
};

/** Open time and close time (open of the next candle - 1) of the candle holding `now`. */
export function candleBounds(interval: string, now: number): { t: number; T: number } {
  const fixed = FIXED[interval];
  if (fixed !== undefined) {
    const t = Math.floor(now / fixed) * fixed;
    return { t, T: t + fixed - 1 };
  }
  if (interval === '1w') {
    const week = 7 * DAY;
    const t = Math.floor((now - FIRST_MONDAY) / week) * week + FIRST_MONDAY;
    return { t, T: t + week - 1 };
  }
  // 1M: calendar months in UTC.
  const d = new Date(now);
  const t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return { t, T: next - 1 };
}

/** One candle in integer units; formatted only when a payload is built. */
export interface Candle {
  interval: string;
  t: number;
  T: number;
  /** First and last trade id; -1 while the candle has no trade. */
  f: number;
  L: number;
  o: number;
  c: number;
  h: number;
  l: number;
  /** Volume in lots. */
  v: number;
  /** Quote volume in tick*lot units. */
  q: number;
  n: number;
  /** Taker buy volume (lots) and quote volume. */
  V: number;
  Q: number;
}

export function openCandle(interval: string, now: number, price: number): Candle {
  const { t, T } = candleBounds(interval, now);
  return {
    interval,
    t,
    T,
    f: -1,
    L: -1,
    o: price,
    c: price,
    h: price,
    l: price,
    v: 0,
    q: 0,
    n: 0,
    V: 0,
    Q: 0,
  };
}

export function addTrade(
  c: Candle,
  id: number,
  price: number,
  lots: number,
  takerBuy: boolean,
): void {
  if (c.n === 0) {
    c.f = id;
    c.o = c.h = c.l = price;
  }
  c.L = id;
  c.c = price;
  if (price > c.h) c.h = price;
  if (price < c.l) c.l = price;
  c.v += lots;
  c.q += price * lots;
  c.n++;
  if (takerBuy) {
    c.V += lots;
    c.Q += price * lots;
  }
}
