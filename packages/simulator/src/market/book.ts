/** One book side as the market keeps it: price in ticks -> quantity in lots. */
export type Side = 'bid' | 'ask';

/**
 * The level changes of one market step, with the quantity each level had before so that
 * {@link Book.rollback} can reconstruct the book at any earlier update id. Flat arrays:
 * one batch is made per step per symbol, so they must be cheap.
 */
export interface Batch {
  /**
   * The book's id when the batch began: below `U` - 1 when ids were skipped (USD-M), and the
   * book at any id from it to `U` - 1 is the book before the batch.
   */
  from: number;
  /** First update id in the batch. */
  U: number;
  /** Last update id in the batch. */
  u: number;
  /** 1 = bid, 0 = ask, per change. */
  sides: number[];
  ticks: number[];
  lots: number[];
  prevLots: number[];
}

export interface BookLevels {
  lastUpdateId: number;
  /** [priceTicks, lots], best first. */
  bids: [number, number][];
  asks: [number, number][];
}

/**
 * A dense limit order book. Levels sit on consecutive ticks below the best bid and above
 * the best ask, so the best N levels are found by walking ticks instead of sorting.
 * Every change takes one update id, as on Binance, and is journalled into the open batch.
 */
export class Book {
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  bestBid: number;
  bestAsk: number;
  lowBid: number;
  highAsk: number;
  lastUpdateId: number;
  #batch: Batch | undefined;
  readonly #idGap: () => number;

  /** `idGap`: ids skipped before each batch's first change (0 on spot). */
  constructor(
    midTicks: number,
    levels: number,
    firstUpdateId: number,
    lotsAt: () => number,
    idGap: () => number = () => 0,
  ) {
    this.#idGap = idGap;
    this.bestBid = Math.max(levels + 1, midTicks);
    this.bestAsk = this.bestBid + 1;
    for (let i = 0; i < levels; i++) {
      this.bids.set(this.bestBid - i, lotsAt());
      this.asks.set(this.bestAsk + i, lotsAt());
    }
    this.lowBid = this.bestBid - levels + 1;
    this.highAsk = this.bestAsk + levels - 1;
    this.lastUpdateId = firstUpdateId;
  }

  beginBatch(): void {
    this.#batch = {
      from: this.lastUpdateId,
      U: this.lastUpdateId + 1,
      u: this.lastUpdateId,
      sides: [],
      ticks: [],
      lots: [],
      prevLots: [],
    };
  }

  /** Close the open batch; undefined when nothing changed. */
  endBatch(): Batch | undefined {
    const b = this.#batch;
    this.#batch = undefined;
    return b !== undefined && b.ticks.length > 0 ? b : undefined;
  }

  /** Set a level (0 deletes it) and keep best/extreme ticks right. */
  set(side: Side, tick: number, lots: number): void {
    const map = side === 'bid' ? this.bids : this.asks;
    const prev = map.get(tick) ?? 0;
    if (prev === lots || tick <= 0) return;
    if (lots === 0) map.delete(tick);
    else map.set(tick, lots);
    const b = this.#batch;
    if (b !== undefined && b.ticks.length === 0) {
      // Skipped only once a batch has a change: a snapshot between batches is at a batch's end.
      this.lastUpdateId += this.#idGap();
      b.U = this.lastUpdateId + 1;
    }
    this.lastUpdateId++;
    if (b !== undefined) {
      b.u = this.lastUpdateId;
      b.sides.push(side === 'bid' ? 1 : 0);
      b.ticks.push(tick);
      b.lots.push(lots);
      b.prevLots.push(prev);
    }
    this.#fixBounds(side, tick, lots);
  }

  #fixBounds(side: Side, tick: number, lots: number): void {
    if (side === 'bid') {
      if (lots > 0) {
        if (tick > this.bestBid) this.bestBid = tick;
        if (tick < this.lowBid) this.lowBid = tick;
      } else if (tick === this.bestBid) {
        while (this.bestBid > this.lowBid && !this.bids.has(this.bestBid)) this.bestBid--;
      } else if (tick === this.lowBid) {
        while (this.lowBid < this.bestBid && !this.bids.has(this.lowBid)) this.lowBid++;
      }
    } else if (lots > 0) {
      if (tick < this.bestAsk) this.bestAsk = tick;
      if (tick > this.highAsk) this.highAsk = tick;
    } else if (tick === this.bestAsk) {
      while (this.bestAsk < this.highAsk && !this.asks.has(this.bestAsk)) this.bestAsk++;
    } else if (tick === this.highAsk) {
      while (this.highAsk > this.bestAsk && !this.asks.has(this.highAsk)) this.highAsk--;
    }
  }

  /** The best `limit` levels per side. */
  top(limit: number): BookLevels {
    const bids: [number, number][] = [];
    for (let t = this.bestBid; t >= this.lowBid && bids.length < limit; t--) {
      const q = this.bids.get(t);
      if (q !== undefined) bids.push([t, q]);
    }
    const asks: [number, number][] = [];
    for (let t = this.bestAsk; t <= this.highAsk && asks.length < limit; t++) {
      const q = this.asks.get(t);
      if (q !== undefined) asks.push([t, q]);
    }
    return { lastUpdateId: this.lastUpdateId, bids, asks };
  }

  /** A deep copy of both sides as maps, to roll back without touching the live book. */
  copy(): { bids: Map<number, number>; asks: Map<number, number> } {
    return { bids: new Map(this.bids), asks: new Map(this.asks) };
  }
}

/**
 * Undo `batches` (newest last) on a copy of the book until its id is `updateId`.
 * Returns false when the log does not reach back far enough or `updateId` falls inside a
 * batch (no diff event ever ended there). Ids skipped between two batches (USD-M) changed
 * nothing: the book at any of them is the book at the older batch's end.
 */
export function rollback(
  sides: { bids: Map<number, number>; asks: Map<number, number> },
  currentId: number,
  batches: readonly Batch[],
  updateId: number,
): boolean {
  if (updateId === currentId) return true;
  if (updateId > currentId) return false;
  for (let i = batches.length - 1; i >= 0; i--) {
    const b = batches[i];
    if (b === undefined) return false;
    if (b.u <= updateId) return b.u === updateId;
    for (let k = b.ticks.length - 1; k >= 0; k--) {
      const map = b.sides[k] === 1 ? sides.bids : sides.asks;
      const tick = b.ticks[k] ?? 0;
      const prev = b.prevLots[k] ?? 0;
      if (prev === 0) map.delete(tick);
      else map.set(tick, prev);
    }
    if (updateId <= b.U - 1 && updateId >= b.from) return true;
  }
  return false;
}
