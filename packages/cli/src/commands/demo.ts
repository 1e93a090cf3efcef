import { StreamPool, binanceUsdm, venueRestClient, type Logger } from '@unifeed/core';
import { userData, type FuturesUserData } from '@unifeed/feed-account';
import { bookStats, orderBook, type BookView } from '@unifeed/feed-depth';
import { klines } from '@unifeed/feed-kline';
import { bookTicker } from '@unifeed/feed-price';
import type { HealthReport } from '@unifeed/metrics';
import { DEFAULT_API_KEY, startSimulator, type Simulator } from '@unifeed/simulator';
import type { Subscription } from 'rxjs';
import {
  progressBar,
  renderDashboard,
  renderSummary,
  summaryLine,
  toSummary,
} from '../demo/dashboard.js';
import { FaultSchedule, type RecoveryView } from '../demo/faults.js';
import type { DemoSnapshot } from '../demo/snapshot.js';
import { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { CommandMetrics, type MetricsOptions } from '../metrics-endpoint.js';

export interface DemoOptions extends MetricsOptions {
  /** Seconds to run; undefined runs until Ctrl-C. */
  duration?: number;
  /** Seconds between injected faults; 0 injects none. */
  faultEvery: number;
  /** Symbols of the kline fan-in (531 x 6 intervals = 3,186 streams). */
  symbols: number;
  /** Print the closing summary as one JSON line on stdout. */
  json: boolean;
  /** A fault not recovered after this many seconds counts as lost. */
  recoveryTimeout: number;
  logger: Logger;
}

/** The seeds' scenario: intervals of the kline fan-in. */
export const DEMO_INTERVALS = ['1m', '3m', '5m', '15m', '30m', '4h'] as const;
const BOOK_TICKERS = 50;
const BOOKS = 5;
const REFRESH_MS = 1000;
/** Faster than the library's 20 s / 60 s, so that a half-open connection is seen in seconds. */
const DEMO_HEARTBEAT = { intervalMs: 3000, timeoutMs: 9000 };

/**
 * `unifeed demo`: the embedded simulator, the seeds' streams through one pool, a dashboard
 * every second, a fault every `faultEvery` seconds and the recovery from it, a summary at the end.
 */
export async function demoCommand(o: DemoOptions, io: Io): Promise<ExitCode> {
  const started = Date.now();
  const metrics = new CommandMetrics();
  await metrics.start(o, io);
  // Whatever fails on the way, nothing is left running: the process must be able to exit.
  const opened: { close(): Promise<void> }[] = [{ close: () => metrics.stop() }];
  try {
    return await run(o, io, started, metrics, opened);
  } catch (err) {
    for (const x of opened.reverse()) await x.close().catch(() => {});
    throw err;
  }
}

async function run(
  o: DemoOptions,
  io: Io,
  started: number,
  metrics: CommandMetrics,
  opened: { close(): Promise<void> }[],
): Promise<ExitCode> {
  const sim = await startSimulator({
    venue: 'binance-usdm',
    symbols: Math.max(o.symbols, BOOK_TICKERS),
  });
  const pool = new StreamPool({
    venue: binanceUsdm({ wsUrl: sim.wsUrl, restUrl: sim.restUrl }),
    heartbeat: DEMO_HEARTBEAT,
    logger: o.logger,
  });
  opened.push(sim);
  opened.push({ close: () => pool.close() });
  const account = userData({
    apiKey: DEFAULT_API_KEY.apiKey,
    wsUrl: sim.wsUrl,
    restUrl: sim.restUrl,
    logger: o.logger,
  });
  opened.push({ close: () => account.stop() });
  metrics.sources.addPool(pool, 'usdm');
  metrics.sources.addBooks(() => bookStats(pool), 'usdm');
  metrics.sources.addAccount(account, 'futures');
  metrics.sources.addRestClient(venueRestClient(pool.venue), 'fapi');
  const symbols = await simulatorSymbols(sim, o.symbols);
  const bookSymbols = symbols.slice(0, BOOKS);
  const faults = new FaultSchedule(sim, bookSymbols);
  const subs: Subscription[] = [];
  const stop = new AbortController();
  const state = new DemoState(symbols.length * DEMO_INTERVALS.length);

  subs.push(
    klines(pool, { symbols, intervals: DEMO_INTERVALS }).subscribe((k) => state.onKline(k)),
    pool.observe(bookTicker, { symbols: symbols.slice(0, BOOK_TICKERS) }).subscribe(),
    ...bookSymbols.map((symbol) =>
      orderBook(pool, { symbol, depth: 1 }).subscribe((v) => state.books.set(symbol, v)),
    ),
    account.orders$.subscribe(() => state.orders++),
  );
  const accountStart = account.start().catch((err: Error) => {
    io.err(`account: ${err.message}\n`);
  });

  const snapshot = (phase: DemoSnapshot['phase']): DemoSnapshot =>
    state.snapshot(
      phase,
      Date.now() - started,
      sim,
      pool,
      account,
      faults,
      metrics.health.report(),
    );

  // Subscribing: a progress bar until every kline stream has delivered (bounded).
  const subscribeDeadline = Date.now() + 60_000;
  while (state.delivered.size < state.klineStreams && Date.now() < subscribeDeadline) {
    if (stop.signal.aborted) break;
    io.err(io.tty ? `\r${progress(snapshot('subscribing'))}` : '');
    await sleep(100);
  }
  if (io.tty) io.err(`\r${progress(snapshot('subscribing'))}\n`);
  else io.err(summaryLine(snapshot('subscribing')));
  await accountStart;

  // Running: redraw, inject, check recoveries, trade a little on the account.
  const off = io.onInterrupt(() => stop.abort());
  const endAt = o.duration === undefined ? Infinity : started + o.duration * 1000;
  let nextFault = o.faultEvery > 0 ? Date.now() + o.faultEvery * 1000 : Infinity;
  let nextOrder = Date.now() + 2000;
  let lastDraw = 0;
  while (!stop.signal.aborted && Date.now() < endAt) {
    const now = Date.now();
    const view = state.recoveryView(pool, account);
    faults.check(now - started, view, o.recoveryTimeout * 1000);
    if (now >= nextFault) {
      faults.inject(now - started, view);
      nextFault = now + o.faultEvery * 1000;
    }
    if (now >= nextOrder) {
      tradeOnce(sim, symbols[0]!);
      nextOrder = now + 2000;
    }
    if (now - lastDraw >= REFRESH_MS) {
      lastDraw = now;
      const s = snapshot('running');
      io.err(io.tty ? `\x1b[H\x1b[2J${renderDashboard(s)}` : summaryLine(s));
    }
    await sleep(100);
  }
  // Finishing: faults injected late get their chance to recover, within the timeout.
  const graceEnd = Date.now() + o.recoveryTimeout * 1000;
  while (faults.pending > 0 && Date.now() < graceEnd && !stop.signal.aborted) {
    faults.check(Date.now() - started, state.recoveryView(pool, account), o.recoveryTimeout * 1000);
    await sleep(100);
  }
  faults.check(Date.now() - started, state.recoveryView(pool, account), 0);
  off();

  const summary = toSummary(snapshot('finishing'), pool.stats().messages);
  for (const s of subs) s.unsubscribe();
  await metrics.stop();
  await account.stop();
  await pool.close();
  await sim.close();
  io.err(renderSummary(summary));
  if (o.json) io.out(`${JSON.stringify(summary)}\n`);
  return summary.allFaultsRecovered && summary.klineStreamsDelivered === summary.klineStreams
    ? ExitCode.Ok
    : ExitCode.Failure;
}

/** What the demo keeps between frames. */
class DemoState {
  readonly klineStreams: number;
  readonly delivered = new Set<string>();
  readonly books = new Map<string, BookView>();
  readonly candles: string[] = [];
  orders = 0;

  constructor(klineStreams: number) {
    this.klineStreams = klineStreams;
  }

  onKline(k: {
    stream: string;
    symbol: string;
    interval: string;
    isClosed: boolean;
    open: string;
    high: string;
    low: string;
    close: string;
  }): void {
    this.delivered.add(k.stream);
    if (!k.isClosed) return;
    this.candles.unshift(
      `${k.symbol} ${k.interval} o ${k.open} h ${k.high} l ${k.low} c ${k.close}`,
    );
    if (this.candles.length > 5) this.candles.length = 5;
  }

  recoveryView(pool: StreamPool, account: FuturesUserData): RecoveryView {
    const p = pool.stats();
    const books = bookStats(pool);
    const a = account.stats();
    return {
      reconnects: p.reconnects,
      rotations: p.rotations,
      allOpen: p.perConnection.every((c) => c.state === 'open'),
      bookResyncs: new Map(books.map((b) => [b.symbol, b.resyncs])),
      allBooksLive: books.length > 0 && books.every((b) => b.state === 'live'),
      listenKeyRenewals: a.listenKey.renewals,
      accountRunning: a.state === 'running' && a.connection?.state === 'open',
    };
  }

  snapshot(
    phase: DemoSnapshot['phase'],
    elapsedMs: number,
    sim: Simulator,
    pool: StreamPool,
    account: FuturesUserData,
    faults: FaultSchedule,
    health: HealthReport,
  ): DemoSnapshot {
    const p = pool.stats();
    const books = bookStats(pool);
    const a = account.stats();
    const subs = sim.stats().subscriptions;
    const level = (l: readonly [string, string] | undefined) => (l ? l[0] : '-');
    return {
      elapsedMs,
      venue: p.venue,
      wsUrl: sim.wsUrl,
      phase,
      klineStreams: this.klineStreams,
      klineStreamsDelivered: this.delivered.size,
      klineConnections: p.perConnection.filter((c) => c.group === 'market').length,
      connections: p.perConnection.map((c) => ({
        id: c.id,
        group: c.group,
        state: c.state,
        streams: c.streams,
        messagesPerSecond: c.messagesPerSecond,
      })),
      streams: p.streams,
      messagesPerSecond: p.messagesPerSecond,
      lagP50Ms: p.lagP50Ms,
      lagP99Ms: p.lagP99Ms,
      queue: p.queue,
      reconnects: p.reconnects,
      gaps: p.gaps,
      rotations: p.rotations,
      parseErrors: p.parseErrors,
      staleResubscribes: p.staleResubscribes,
      books: books.map((b) => {
        const v = this.books.get(b.symbol);
        return {
          symbol: b.symbol,
          state: b.state,
          lastUpdateId: b.lastUpdateId,
          resyncs: b.resyncs,
          bid: level(v?.bids[0]),
          ask: level(v?.asks[0]),
        };
      }),
      account: { state: a.state, orders: this.orders, listenKeyRenewals: a.listenKey.renewals },
      candles: this.candles,
      faults: faults.records,
      health: { status: health.status, anomalies: health.anomalies.map((a) => a.message) },
      duplicates: {
        sameConnection: subs.duplicateSameConnection,
        acrossConnections: subs.duplicateAcrossConnections,
      },
    };
  }
}

function progress(s: DemoSnapshot): string {
  return `subscribing ${progressBar(s.klineStreamsDelivered, s.klineStreams)}, ${s.connections.length} connections`;
}

/** A small order, filled at once: the account feed has something to show. */
function tradeOnce(sim: Simulator, symbol: string): void {
  const price = sim.truth.lastPrice(symbol) ?? '1';
  const order = sim.account.placeOrder({ symbol, side: 'BUY', quantity: '0.001', price });
  sim.account.fill(order.orderId);
}

async function simulatorSymbols(sim: Simulator, count: number): Promise<string[]> {
  const res = await fetch(`${sim.restUrl}/fapi/v1/exchangeInfo`);
  const info = (await res.json()) as { symbols: { symbol: string }[] };
  return info.symbols.slice(0, count).map((s) => s.symbol);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
