import {
  StreamPool,
  binanceUsdm,
  type FeedHeartbeatOptions,
  type Logger,
  type StreamPoolOptions,
} from '@unifeed/core';
import { userData, type FuturesOrderUpdate, type FuturesUserData } from '@unifeed/feed-account';
import { orderBook, type BookView } from '@unifeed/feed-depth';
import { klines, type KlineEvent } from '@unifeed/feed-kline';
import { bookTicker, type BookTickerEvent } from '@unifeed/feed-price';
import { DEFAULT_API_KEY, type Simulator } from '@unifeed/simulator';
import type { Subscription } from 'rxjs';

/** The seeds' scenario: intervals of the kline fan-in. */
export const DEMO_INTERVALS = ['1m', '3m', '5m', '15m', '30m', '4h'] as const;
/** Symbols whose book ticker the scenario streams. */
export const DEMO_BOOK_TICKERS = 50;
/** Symbols whose order book the scenario keeps. */
export const DEMO_BOOKS = 5;
/** Faster than the library's 20 s / 60 s, so that a half-open connection is seen in seconds. */
export const DEMO_HEARTBEAT: FeedHeartbeatOptions = { intervalMs: 3000, timeoutMs: 9000 };

/** Settings of {@link startDemoScenario}. */
export interface DemoScenarioOptions {
  /** A running USD-M simulator: the streams and the account connect to it. */
  sim: Simulator;
  /** Symbols of the kline fan-in (531 x 6 intervals = 3,186 streams). */
  symbols: number;
  logger: Logger;
  /** The account feed's API key; the simulator must accept it. @default the simulator's default key */
  apiKey?: string | undefined;
  /**
   * Pool options on top of the scenario's (venue from `sim`, heartbeat {@link DEMO_HEARTBEAT},
   * `logger`). @default none
   */
  pool?: Partial<Omit<StreamPoolOptions, 'venue'>> | undefined;
  /** Every kline update of every stream. @default ignored */
  onKline?(k: KlineEvent): void;
  /** Every book ticker update. @default ignored */
  onBookTicker?(e: BookTickerEvent): void;
  /** Every view of each order book. @default ignored */
  onBook?(symbol: string, view: BookView): void;
  /** Every order update of the account (`orders$`), as delivered. @default ignored */
  onOrder?(order: FuturesOrderUpdate): void;
}

/** What {@link startDemoScenario} built; `close()` ends it. */
export interface DemoScenario {
  readonly pool: StreamPool;
  readonly account: FuturesUserData;
  /** Kline symbols, in the simulator's order. */
  readonly symbols: readonly string[];
  readonly bookTickerSymbols: readonly string[];
  readonly bookSymbols: readonly string[];
  /** Kline streams subscribed: symbols x {@link DEMO_INTERVALS}. */
  readonly klineStreams: number;
  /** Resolves once the account stream started, or failed to (the error is passed on). */
  readonly accountStarted: Promise<Error | undefined>;
  /** Unsubscribe everything, stop the account, close the pool. Idempotent. */
  close(): Promise<void>;
}

/**
 * The demo's streams on one pool: 531 symbols x 6 kline intervals, 50 book tickers, 5 order
 * books, and the futures user-data stream, all against `sim`. `unifeed demo` and the soak both
 * run exactly this, so that what the soak proves is what the demo shows.
 */
export async function startDemoScenario(o: DemoScenarioOptions): Promise<DemoScenario> {
  const pool = new StreamPool({
    heartbeat: DEMO_HEARTBEAT,
    logger: o.logger,
    ...o.pool,
    venue: binanceUsdm({ wsUrl: o.sim.wsUrl, restUrl: o.sim.restUrl }),
  });
  const account = userData({
    apiKey: o.apiKey ?? DEFAULT_API_KEY.apiKey,
    wsUrl: o.sim.wsUrl,
    restUrl: o.sim.restUrl,
    logger: o.logger,
    ...(o.pool?.clock === undefined ? {} : { clock: o.pool.clock }),
  });
  const subs: Subscription[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const s of subs) s.unsubscribe();
      await account.stop();
      await pool.close();
    })();
    return closing;
  };
  try {
    const symbols = await simulatorSymbols(o.sim, o.symbols);
    const bookTickerSymbols = symbols.slice(0, DEMO_BOOK_TICKERS);
    const bookSymbols = symbols.slice(0, DEMO_BOOKS);
    subs.push(
      klines(pool, { symbols, intervals: DEMO_INTERVALS }).subscribe((k) => o.onKline?.(k)),
      pool
        .observe(bookTicker, { symbols: bookTickerSymbols })
        .subscribe((e) => o.onBookTicker?.(e)),
      ...bookSymbols.map((symbol) =>
        orderBook(pool, { symbol, depth: 1 }).subscribe((v) => o.onBook?.(symbol, v)),
      ),
      account.orders$.subscribe((order) => o.onOrder?.(order)),
    );
    const accountStarted = account.start().then(
      () => undefined,
      (err: Error) => err,
    );
    return {
      pool,
      account,
      symbols,
      bookTickerSymbols,
      bookSymbols,
      klineStreams: symbols.length * DEMO_INTERVALS.length,
      accountStarted,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The first `count` symbols the simulator lists (its order is stable for a seed). */
async function simulatorSymbols(sim: Simulator, count: number): Promise<string[]> {
  const res = await fetch(`${sim.restUrl}/fapi/v1/exchangeInfo`);
  const info = (await res.json()) as { symbols: { symbol: string }[] };
  return info.symbols.slice(0, count).map((s) => s.symbol);
}
