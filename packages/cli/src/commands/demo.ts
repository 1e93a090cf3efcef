import { realClock, venueRestClient, type Logger, type StreamPool } from '@unifeed/core';
import type { FuturesUserData } from '@unifeed/feed-account';
import { bookStats, type BookView } from '@unifeed/feed-depth';
import type { HealthReport } from '@unifeed/metrics';
import { startSimulator, type Simulator } from '@unifeed/simulator';
import {
  progressBar,
  renderDashboard,
  renderSummary,
  summaryLine,
  toSummary,
} from '../demo/dashboard.js';
import { FaultSchedule, type RecoveryView } from '../demo/faults.js';
import { DEMO_BOOK_TICKERS, DEMO_INTERVALS, startDemoScenario } from '../demo/scenario.js';
import type { DemoSnapshot } from '../demo/snapshot.js';
import { stopwatch } from '../elapsed.js';
import { ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { CommandMetrics, type MetricsOptions } from '../metrics-endpoint.js';

export interface DemoOptions extends MetricsOptions {
  /** Seconds to run; undefined runs until Ctrl-C. */
  duration?: number | undefined;
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

const REFRESH_MS = 1000;

/**
 * `unifeed demo`: the embedded simulator, the seeds' streams through one pool, a dashboard
 * every second, a fault every `faultEvery` seconds and the recovery from it, a summary at the end.
 */
export async function demoCommand(o: DemoOptions, io: Io): Promise<ExitCode> {
  // Ms since the start, monotonic: every time and deadline below is one of these readings.
  const elapsed = stopwatch();
  const metrics = new CommandMetrics();
  await metrics.start(o, io);
  // Whatever fails on the way, nothing is left running: the process must be able to exit.
  const opened: { close(): Promise<void> }[] = [{ close: () => metrics.stop() }];
  try {
    return await run(o, io, elapsed, metrics, opened);
  } catch (err) {
    for (const x of opened.reverse()) await x.close().catch(() => {});
    throw err;
  }
}

async function run(
  o: DemoOptions,
  io: Io,
  elapsed: () => number,
  metrics: CommandMetrics,
  opened: { close(): Promise<void> }[],
): Promise<ExitCode> {
  // Ctrl-C is heard from the start, subscribing included: it ends the demo, never kills it.
  const stop = new AbortController();
  const off = io.onInterrupt(() => stop.abort());
  opened.push({ close: async () => off() });
  const interrupted = new Promise<void>((resolve) =>
    stop.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  const sim = await startSimulator({
    venue: 'binance-usdm',
    symbols: Math.max(o.symbols, DEMO_BOOK_TICKERS),
  });
  opened.push(sim);
  const state = new DemoState(o.symbols * DEMO_INTERVALS.length);
  const scenario = await startDemoScenario({
    sim,
    symbols: o.symbols,
    logger: o.logger,
    onKline: (k) => state.onKline(k),
    onBook: (symbol, v) => state.books.set(symbol, v),
    onOrder: () => state.orders++,
  });
  opened.push(scenario);
  const { pool, account, symbols, bookSymbols } = scenario;
  metrics.sources.addPool(pool, 'usdm');
  metrics.sources.addBooks(() => bookStats(pool), 'usdm');
  metrics.sources.addAccount(account, 'futures');
  metrics.sources.addRestClient(venueRestClient(pool.venue), 'fapi');
  const faults = new FaultSchedule(sim, [...bookSymbols]);
  const accountStart = scenario.accountStarted.then((err) => {
    if (err) io.err(`account: ${err.message}\n`);
  });

  const snapshot = (phase: DemoSnapshot['phase']): DemoSnapshot =>
    state.snapshot(phase, elapsed(), sim, pool, account, faults, metrics.health.report());

  // Subscribing: a progress bar until every kline stream has delivered (bounded).
  const subscribeDeadline = elapsed() + 60_000;
  if (!io.tty) io.err(summaryLine(snapshot('subscribing')));
  while (state.delivered.size < state.klineStreams && elapsed() < subscribeDeadline) {
    if (stop.signal.aborted) break;
    if (io.tty) io.err(`\r${progress(snapshot('subscribing'))}`);
    await sleep(100);
  }
  if (io.tty) io.err(`\r${progress(snapshot('subscribing'))}\n`);
  else io.err(summaryLine(snapshot('subscribing')));
  // Stopped before every stream delivered: that is the user's choice, not a failure.
  const cutShort = stop.signal.aborted && state.delivered.size < state.klineStreams;
  await Promise.race([accountStart, interrupted]);

  // Running: redraw, inject, check recoveries, trade a little on the account.
  const endAt = o.duration === undefined ? Infinity : o.duration * 1000;
  let nextFault = o.faultEvery > 0 ? elapsed() + o.faultEvery * 1000 : Infinity;
  let nextOrder = elapsed() + 2000;
  let lastDraw = -Infinity;
  while (!stop.signal.aborted && elapsed() < endAt) {
    const now = elapsed();
    const view = state.recoveryView(pool, account);
    faults.check(now, view, o.recoveryTimeout * 1000);
    if (now >= nextFault) {
      faults.inject(now, view);
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
  const graceEnd = elapsed() + o.recoveryTimeout * 1000;
  while (faults.pending > 0 && elapsed() < graceEnd && !stop.signal.aborted) {
    faults.check(elapsed(), state.recoveryView(pool, account), o.recoveryTimeout * 1000);
    await sleep(100);
  }
  // Without Ctrl-C the grace is over and what is pending is lost. After Ctrl-C a fault still
  // within its timeout is reported as still recovering, not as lost.
  faults.check(
    elapsed(),
    state.recoveryView(pool, account),
    stop.signal.aborted ? o.recoveryTimeout * 1000 : 0,
  );
  off();

  const summary = toSummary(snapshot('finishing'), pool.stats().messages);
  await metrics.stop();
  await scenario.close();
  await sim.close();
  io.err(renderSummary(summary));
  if (o.json) io.out(`${JSON.stringify(summary)}\n`);
  return summary.faultsLost === 0 &&
    (summary.klineStreamsDelivered === summary.klineStreams || cutShort)
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
      faults: faults.recent,
      faultTotals: faults.totals,
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

const sleep = (ms: number) => new Promise<void>((r) => realClock.setTimeout(r, ms));
