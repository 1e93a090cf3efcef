/** Static facts of one tradable symbol. */
export interface SymbolSpec {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  /** Digits after the point in prices: tick size is 10^-priceDecimals. */
  priceDecimals: number;
  /** Digits after the point in quantities: step size is 10^-qtyDecimals. */
  qtyDecimals: number;
  /** Starting price in ticks. */
  initialPriceTicks: number;
}

const MAJORS: readonly [string, number, number, number][] = [
  // symbol, price, priceDecimals, qtyDecimals
  ['BTCUSDT', 60000, 1, 3],
  ['ETHUSDT', 3000, 2, 3],
  ['BNBUSDT', 600, 2, 2],
  ['SOLUSDT', 150, 2, 1],
  ['XRPUSDT', 0.6, 4, 1],
  ['DOGEUSDT', 0.15, 5, 0],
  ['ADAUSDT', 0.45, 4, 0],
  ['LTCUSDT', 80, 2, 3],
  ['LINKUSDT', 15, 3, 2],
  ['DOTUSDT', 7, 3, 1],
];

const UPBIT_MAJORS: readonly [string, number, number, number][] = [
  // market code, price in KRW, priceDecimals, qtyDecimals; at 1,400 KRW per USDT these sit
  // about 1 % above the Binance majors, a typical premium.
  ['KRW-BTC', 85_000_000, 0, 4],
  ['KRW-ETH', 4_250_000, 0, 3],
  ['KRW-USDT', 1400, 1, 2],
  ['KRW-XRP', 850, 1, 1],
  ['KRW-SOL', 212_000, 0, 2],
  ['KRW-DOGE', 210, 1, 0],
];

function upbitSpec(code: string, price: number, priceDecimals: number, qtyDecimals: number) {
  const dash = code.indexOf('-');
  return {
    symbol: code,
    baseAsset: code.slice(dash + 1),
    quoteAsset: code.slice(0, dash),
    priceDecimals,
    qtyDecimals,
    initialPriceTicks: Math.round(price * 10 ** priceDecimals),
  };
}

/** Upbit's market codes (quote first): `KRW-BTC`, `KRW-ETH`, ..., then `KRW-SYM001`, ... */
export function upbitSymbols(count: number): SymbolSpec[] {
  const out: SymbolSpec[] = [];
  for (const [code, p, pd, qd] of UPBIT_MAJORS) {
    if (out.length >= count) return out;
    out.push(upbitSpec(code, p, pd, qd));
  }
  for (let i = 1; out.length < count; i++) {
    out.push(upbitSpec(`KRW-SYM${String(i).padStart(3, '0')}`, 1000 * i, 0, 2));
  }
  return out;
}

/** Specs for a list of Upbit codes; known ones keep their precision, others 1,000 KRW. */
export function upbitSymbolsFromList(codes: readonly string[]): SymbolSpec[] {
  const known = new Map(upbitSymbols(UPBIT_MAJORS.length).map((s) => [s.symbol, s]));
  return codes.map((raw) => {
    const code = raw.toUpperCase();
    return known.get(code) ?? upbitSpec(code, 1000, 0, 2);
  });
}

/** How many symbols the default list holds: the 531 of the standard benchmark. */
export const DEFAULT_SYMBOL_COUNT = 531;

const QUOTES = ['USDT', 'USDC', 'FDUSD', 'BTC', 'ETH', 'BNB'];

function spec(symbol: string, price: number, priceDecimals: number, qtyDecimals: number) {
  const quoteAsset = QUOTES.find((q) => symbol.endsWith(q) && symbol.length > q.length) ?? 'USDT';
  return {
    symbol,
    baseAsset: symbol.endsWith(quoteAsset) ? symbol.slice(0, -quoteAsset.length) : symbol,
    quoteAsset,
    priceDecimals,
    qtyDecimals,
    initialPriceTicks: Math.round(price * 10 ** priceDecimals),
  };
}

/**
 * The first `count` symbols of the default list: the majors (BTCUSDT, ETHUSDT, ...) then
 * generated ones `SYM001USDT`, `SYM002USDT`, ...
 */
export function defaultSymbols(count = DEFAULT_SYMBOL_COUNT): SymbolSpec[] {
  const out: SymbolSpec[] = [];
  for (const [s, p, pd, qd] of MAJORS) {
    if (out.length >= count) return out;
    out.push(spec(s, p, pd, qd));
  }
  for (let i = 1; out.length < count; i++) {
    // Spread generated prices over several magnitudes so clients meet varied precisions.
    const magnitude = i % 4;
    const price = [0.05, 1.5, 25, 400][magnitude] ?? 1;
    out.push(spec(`SYM${String(i).padStart(3, '0')}USDT`, price, [5, 4, 3, 2][magnitude] ?? 4, 1));
  }
  return out;
}

/** Specs for a user-given list; known majors keep their precision, others get 4/2 digits. */
export function symbolsFromList(names: readonly string[]): SymbolSpec[] {
  const known = new Map(defaultSymbols(MAJORS.length).map((s) => [s.symbol, s]));
  return names.map((raw) => {
    const name = raw.toUpperCase();
    return known.get(name) ?? spec(name, 10, 4, 2);
  });
}
