import type { RouteGroup, VenueProfile } from './venue.js';

export type StreamKind =
  | 'aggTrade'
  | 'trade'
  | 'kline'
  | 'miniTicker'
  | 'ticker'
  | 'bookTicker'
  | 'depth'
  | 'partialDepth'
  | 'markPrice'
  /** `!miniTicker@arr`: the symbols that traded since the last push, as one array. */
  | 'miniTickerArr'
  /** `!markPrice@arr[@1s]` (futures): every symbol, as one array. */
  | 'markPriceArr'
  /**
   * `!bookTicker` (futures, `/public`): each symbol's top of book when it changes, one message
   * per symbol, each with that symbol's own update id.
   */
  | 'bookTickerAll'
  /** Upbit `orderbook`: the top units, whole, on every change. */
  | 'orderbook';

/** The symbol of the all-market streams. */
export const ALL_SYMBOLS = '*';

/**
 * The symbol of a stream named with capitals (`BTCUSDT@aggTrade`): Binance accepts the name
 * and sends nothing on it, so a client that forgets to lower-case symbols meets a silent
 * stream here too, not a working one. No market has it.
 */
const NO_SYMBOL = '';

/** A parsed, valid stream name. */
export interface StreamSpec {
  /** The name as given (`kline_1M` is not `kline_1m`; `BTCUSDT@...` is silent, see `NO_SYMBOL`). */
  name: string;
  /** Upper-case symbol. */
  symbol: string;
  kind: StreamKind;
  interval?: string;
  /** Partial depth levels (5, 10, 20). */
  levels?: number;
  /** Push period in simulated ms; 0 = every step in which it changed (real time). */
  cadenceMs: number;
  /** Futures routed path that delivers it. */
  group: Exclude<RouteGroup, 'any' | 'private'>;
}

const SYMBOL = /^[a-z0-9]{2,20}$/;

/**
 * Parse a stream name for a venue. Undefined when the name is not one the venue knows
 * (the control handler answers those with an error; a valid name for an unknown symbol
 * is accepted and stays silent, as on Binance).
 */
export function parseStream(raw: string, venue: VenueProfile): StreamSpec | undefined {
  if (venue.dialect === 'upbit') return parseUpbitStream(raw, venue);
  const c = venue.cadences;
  const all = { name: raw, symbol: ALL_SYMBOLS, group: 'market' } as const;
  if (raw === '!miniTicker@arr') return { ...all, kind: 'miniTickerArr', cadenceMs: c.miniTicker };
  if (venue.futures && raw === '!bookTicker') {
    return { ...all, kind: 'bookTickerAll', cadenceMs: 0, group: 'public' };
  }
  if (venue.futures && (raw === '!markPrice@arr' || raw === '!markPrice@arr@1s')) {
    return { ...all, kind: 'markPriceArr', cadenceMs: raw.endsWith('@1s') ? 1000 : c.markPrice };
  }
  const at = raw.indexOf('@');
  if (at <= 0) return undefined;
  const symbolPart = raw.slice(0, at);
  const lower = symbolPart.toLowerCase();
  if (!SYMBOL.test(lower)) return undefined;
  const rest = raw.slice(at + 1);
  const symbol = symbolPart === lower ? lower.toUpperCase() : NO_SYMBOL;
  const base = { name: raw, symbol };
  if (rest === 'aggTrade') {
    return {
      ...base,
      kind: 'aggTrade',
      cadenceMs: venue.futures ? c.aggTrade : 0,
      group: 'market',
    };
  }
  if (rest === 'trade' && !venue.futures) {
    return { ...base, kind: 'trade', cadenceMs: 0, group: 'market' };
  }
  if (rest.startsWith('kline_')) {
    const interval = rest.slice(6);
    if (!venue.intervals.includes(interval)) return undefined;
    const cadenceMs = interval === '1s' ? c.kline1s : c.kline;
    return { ...base, kind: 'kline', interval, cadenceMs, group: 'market' };
  }
  if (rest === 'miniTicker')
    return { ...base, kind: 'miniTicker', cadenceMs: c.miniTicker, group: 'market' };
  if (rest === 'ticker') return { ...base, kind: 'ticker', cadenceMs: c.ticker, group: 'market' };
  if (rest === 'bookTicker') return { ...base, kind: 'bookTicker', cadenceMs: 0, group: 'public' };
  if (venue.futures && (rest === 'markPrice' || rest === 'markPrice@1s')) {
    const cadenceMs = rest === 'markPrice' ? c.markPrice : 1000;
    return { ...base, kind: 'markPrice', cadenceMs, group: 'market' };
  }
  const depth = /^depth(5|10|20)?(?:@(\d+)ms)?$/.exec(rest);
  if (depth !== null) {
    const speed = depth[2] === undefined ? undefined : Number(depth[2]);
    if (speed !== undefined && !venue.depthSpeeds.includes(speed)) return undefined;
    if (depth[1] === undefined) {
      return { ...base, kind: 'depth', cadenceMs: speed ?? c.depth, group: 'public' };
    }
    const levels = Number(depth[1]);
    return {
      ...base,
      kind: 'partialDepth',
      levels,
      cadenceMs: speed ?? c.partialDepth,
      group: 'public',
    };
  }
  return undefined;
}

/**
 * Whether a connection on `route` gets data of a stream in `group`. Futures routes only
 * deliver their own group; an un-routed futures connection only gets /public streams. A
 * stream on the wrong route is accepted but never delivered, exactly like Binance.
 */
export function routeDelivers(venue: VenueProfile, route: RouteGroup, spec: StreamSpec): boolean {
  if (!venue.futures) return true;
  if (route === 'any') return spec.group === 'public';
  return route === spec.group;
}

const UPBIT_CODE = /^[A-Z]{2,10}-[A-Z0-9]{1,20}$/;

/**
 * An Upbit stream as the simulator names it: `<type>:<code>` (`ticker:KRW-BTC`,
 * `candle.1m:KRW-BTC`), the same key a client routes by. Ticker, trade and order book are
 * pushed when they change (cadence 0); candles at the kline cadence.
 */
export function parseUpbitStream(raw: string, venue: VenueProfile): StreamSpec | undefined {
  const colon = raw.indexOf(':');
  const type = raw.slice(0, colon);
  const symbol = raw.slice(colon + 1);
  if (colon <= 0 || !UPBIT_CODE.test(symbol)) return undefined;
  const base = { name: raw, symbol, group: 'market' } as const;
  if (type === 'ticker') return { ...base, kind: 'ticker', cadenceMs: 0 };
  if (type === 'trade') return { ...base, kind: 'trade', cadenceMs: 0 };
  if (type === 'orderbook') return { ...base, kind: 'orderbook', cadenceMs: 0 };
  if (type.startsWith('candle.')) {
    const interval = type.slice(7);
    if (!venue.intervals.includes(interval)) return undefined;
    return { ...base, kind: 'kline', interval, cadenceMs: venue.cadences.kline };
  }
  return undefined;
}
