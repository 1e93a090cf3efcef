import { Book, rollback, type Batch, type BookLevels } from './book.js';
import { addTrade, candleBounds, openCandle, type Candle } from './candles.js';
import { Prng, seedFor } from './prng.js';
import type { SymbolSpec } from './symbols.js';

export interface Trade {
  id: number;
  price: number;
  lots: number;
  /** The buyer was the maker (a taker sell). */
  buyerMaker: boolean;
  time: number;
  /** Trades of this market before this one in the same ms (Upbit numbers trades by it). */
  inMs: number;
}

/** Rolling 24 h statistics, restarted every 24 h of simulated time. */
export interface DayStats {
  openTime: number;
  open: number;
  high: number;
  low: number;
  volume: number;
  quoteVolume: number;
  firstId: number;
  lastId: number;
  count: number;
}

export interface SymbolMarketOptions {
  seed: number;
  levels: number;
  /** Batches kept for {@link SymbolMarket.bookAt}. */
  historySize: number;
  /**
   * Update ids skip 0 to 8 between batches, as USD-M's do (protocol.md: `"U":157,"u":160,
   * "pu":149`): its diffs chain by `pu` only, and a client checking `U == previous u + 1`
   * there must fail here too. Spot ids follow each other without a hole.
   */
  idGaps?: boolean;
  now: number;
}

const DAY = 86_400_000;
/** Levels near the top that random quantity changes touch. */
const ACTIVE_DEPTH = 20;

/**
 * One symbol's market: a random walk emerging from trades that consume the top of a dense
 * book, plus candles, 24 h stats and a mark price, all derived from the same trades so that
 * every stream of the symbol agrees with every other.
 */
export class SymbolMarket {
  readonly spec: SymbolSpec;
  readonly book: Book;
  readonly candles = new Map<string, Candle>();
  /** Candles that closed during the last step, final state. */
  closed: Candle[] = [];
  /** Trades of the last step. */
  trades: Trade[] = [];
  /** The last step's batch, if the book changed. */
  lastBatch: Batch | undefined;
  topChanged = false;
  day: DayStats;
  lastPrice: number;
  #rng: Prng;
  #history: Batch[] = [];
  /**
   * Book streams of this symbol. The step history (for diff events and `truth.bookAt`) is kept
   * only while there are some: a kline-only load has no use for it.
   */
  #historyRefs = 0;
  #historySize: number;
  #levels: number;
  #tradeId = 1;
  /**
   * The latest trade of any step: two steps may fall in one ms (a catch-up, a fast clock), and
   * a trade's place within its ms (Upbit's `sequential_id`) must not start again at 0.
   */
  #lastTrade: Trade | undefined;

  constructor(spec: SymbolSpec, options: SymbolMarketOptions) {
    this.spec = spec;
    this.#rng = new Prng(seedFor(options.seed, spec.symbol));
    this.#historySize = options.historySize;
    this.#levels = options.levels;
    // Real update ids are past 2^32 (and below 2^53): clients must not keep them in 32 bits.
    const firstId = 5_000_000_000 + this.#rng.int(0, 1_000_000_000);
    // Its own stream: the market a seed gives stays the same with or without the gaps.
    const gaps = new Prng(seedFor(options.seed, `${spec.symbol} id gaps`));
    this.book = new Book(
      spec.initialPriceTicks,
      options.levels,
      firstId,
      () => this.#lots(),
      options.idGaps ? () => gaps.int(0, 8) : () => 0,
    );
    this.lastPrice = this.book.bestBid;
    this.#tradeId = 100_000 + this.#rng.int(0, 100_000);
    this.day = this.#newDay(options.now);
  }

  #lots(): number {
    return this.#rng.int(1, 200);
  }

  #newDay(now: number): DayStats {
    const p = this.lastPrice;
    return {
      openTime: now,
      open: p,
      high: p,
      low: p,
      volume: 0,
      quoteVolume: 0,
      firstId: this.#tradeId,
      lastId: this.#tradeId - 1,
      count: 0,
    };
  }

  /** The candle of `interval` holding `now`, created on first request (lazy). */
  candle(interval: string, now: number): Candle {
    let c = this.candles.get(interval);
    if (c === undefined) {
      c = openCandle(interval, now, this.lastPrice);
      this.candles.set(interval, c);
    }
    return c;
  }

  /** Advance one step of simulated time. */
  step(now: number): void {
    this.closed = [];
    for (const [interval, c] of this.candles) {
      if (now > c.T) {
        this.closed.push(c);
        this.candles.set(interval, openCandle(interval, now, this.lastPrice));
      }
    }
    if (now - this.day.openTime >= DAY) this.day = this.#newDay(now);
    const book = this.book;
    const bidBefore = book.bestBid;
    const bidQtyBefore = book.bids.get(bidBefore);
    const askBefore = book.bestAsk;
    const askQtyBefore = book.asks.get(askBefore);
    this.trades = [];
    book.beginBatch();
    const rng = this.#rng;
    const tradeCount = rng.next() < 0.5 ? 0 : rng.next() < 0.7 ? 1 : 2;
    for (let i = 0; i < tradeCount; i++) this.#trade(now, rng.next() < 0.5);
    if (book.bestAsk - book.bestBid > 1 && rng.next() < 0.7) {
      if (rng.next() < 0.5) book.set('bid', book.bestBid + 1, this.#lots());
      else book.set('ask', book.bestAsk - 1, this.#lots());
    }
    const changes = rng.int(1, 3);
    for (let i = 0; i < changes; i++) {
      const offset = rng.int(0, ACTIVE_DEPTH - 1);
      if (rng.next() < 0.5) book.set('bid', book.bestBid - offset, this.#lots());
      else book.set('ask', book.bestAsk + offset, this.#lots());
    }
    this.#keepDepth();
    this.lastBatch = book.endBatch();
    if (this.#historyRefs > 0 && this.lastBatch !== undefined) {
      this.#history.push(this.lastBatch);
      if (this.#history.length > this.#historySize * 2) {
        this.#history.splice(0, this.#history.length - this.#historySize);
      }
    }
    this.topChanged =
      book.bestBid !== bidBefore ||
      book.bestAsk !== askBefore ||
      book.bids.get(bidBefore) !== bidQtyBefore ||
      book.asks.get(askBefore) !== askQtyBefore;
  }

  #trade(now: number, takerBuy: boolean): void {
    const book = this.book;
    const side = takerBuy ? 'ask' : 'bid';
    const tick = takerBuy ? book.bestAsk : book.bestBid;
    const available = (takerBuy ? book.asks : book.bids).get(tick) ?? 0;
    if (available === 0) return;
    const lots = this.#rng.int(1, Math.min(available, 50));
    book.set(side, tick, available - lots);
    const trade: Trade = {
      id: this.#tradeId++,
      price: tick,
      lots,
      buyerMaker: !takerBuy,
      time: now,
      inMs: this.#lastTrade?.time === now ? this.#lastTrade.inMs + 1 : 0,
    };
    this.#lastTrade = trade;
    this.trades.push(trade);
    this.lastPrice = tick;
    for (const c of this.candles.values()) addTrade(c, trade.id, tick, lots, takerBuy);
    const d = this.day;
    if (d.count === 0) d.firstId = trade.id;
    d.lastId = trade.id;
    d.count++;
    d.volume += lots;
    d.quoteVolume += tick * lots;
    if (tick > d.high) d.high = tick;
    if (tick < d.low) d.low = tick;
  }

  /** Keep between `levels` and `levels + 200` levels per side, as the spec promises. */
  #keepDepth(): void {
    const book = this.book;
    const max = this.#levels + 200;
    while (book.bids.size < this.#levels && book.lowBid > 1)
      book.set('bid', book.lowBid - 1, this.#lots());
    while (book.asks.size < this.#levels) book.set('ask', book.highAsk + 1, this.#lots());
    while (book.bids.size > max) book.set('bid', book.lowBid, 0);
    while (book.asks.size > max) book.set('ask', book.highAsk, 0);
  }

  /** A book stream of this symbol started: keep each step's batch from now on. */
  retainHistory(): void {
    this.#historyRefs++;
  }

  /**
   * A book stream of this symbol stopped. The last one drops the history now: a symbol nobody
   * watches any more is not stepped, so waiting for the next step would keep it for good.
   * True when it was the last.
   */
  releaseHistory(): boolean {
    if (this.#historyRefs === 0) return false;
    if (--this.#historyRefs > 0) return false;
    this.#history = [];
    return true;
  }

  /** Mark price in ticks: the mid, rounded down. */
  markTicks(): number {
    return Math.floor((this.book.bestBid + this.book.bestAsk) / 2);
  }

  /**
   * The full book as it was right after update id `updateId`, or undefined when that id is
   * outside the kept history or not the end of a step.
   */
  bookAt(updateId: number): BookLevels | undefined {
    const sides = this.book.copy();
    if (!rollback(sides, this.book.lastUpdateId, this.#history, updateId)) return undefined;
    const bids = [...sides.bids.entries()].sort((a, b) => b[0] - a[0]);
    const asks = [...sides.asks.entries()].sort((a, b) => a[0] - b[0]);
    return { lastUpdateId: updateId, bids, asks };
  }

  /** Batches with an update id after `afterId`, oldest first (for diff events). */
  batchesSince(afterId: number): Batch[] {
    const h = this.#history;
    let i = h.length;
    while (i > 0 && (h[i - 1]?.u ?? 0) > afterId) i--;
    return h.slice(i);
  }

  /** Next funding time: the next 8 h boundary. */
  static nextFunding(now: number): number {
    return candleBounds('8h', now).T + 1;
  }
}
