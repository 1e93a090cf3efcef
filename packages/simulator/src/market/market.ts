import { SymbolMarket } from './symbol-market.js';
import type { SymbolSpec } from './symbols.js';

export interface MarketOptions {
  seed: number;
  levels: number;
  historySize: number;
  /** Update ids skip between diff batches (USD-M), as {@link SymbolMarketOptions.idGaps}. */
  idGaps?: boolean;
}

/**
 * All symbols of one simulator. A symbol's state is built on first use, so a simulator
 * with 531 symbols costs nothing for the ones nobody looks at.
 */
export class Market {
  readonly specs: ReadonlyMap<string, SymbolSpec>;
  readonly #symbols = new Map<string, SymbolMarket>();
  readonly #options: MarketOptions;
  readonly #now: () => number;

  constructor(specs: readonly SymbolSpec[], options: MarketOptions, now: () => number) {
    this.specs = new Map(specs.map((s) => [s.symbol, s]));
    this.#options = options;
    this.#now = now;
  }

  /** The symbol's market, or undefined for a symbol the simulator does not list. */
  get(symbol: string): SymbolMarket | undefined {
    let m = this.#symbols.get(symbol);
    if (m === undefined) {
      const spec = this.specs.get(symbol);
      if (spec === undefined) return undefined;
      m = new SymbolMarket(spec, { ...this.#options, now: this.#now() });
      this.#symbols.set(symbol, m);
    }
    return m;
  }
}
