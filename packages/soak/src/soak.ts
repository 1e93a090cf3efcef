import { DEMO_BOOK_TICKERS, DEMO_INTERVALS, startDemoScenario } from '@unifeed/cli';
import { createLogger, realClock, venueRestClient } from '@unifeed/core';
import { bookStats, depthDiff } from '@unifeed/feed-depth';
import { closedKlines } from '@unifeed/feed-kline';
import { MAX_SYMBOLS, startSimulator, type ApiCredentials } from '@unifeed/simulator';
import type { Subscription } from 'rxjs';
import { BookTruthCheck } from './checks/book-truth.js';
import { ControlRateCheck } from './checks/control-rate.js';
import { DeliveryCheck, orderUpdateKey } from './checks/delivery.js';
import { DoubleSubscriptionCheck } from './checks/double-subscription.js';
import { GrowthCheck } from './checks/growth.js';
import { HoleCheck } from './checks/holes.js';
import { ProcessFaultCheck } from './checks/process-faults.js';
import { SecretScan } from './checks/secrets.js';
import { SilenceCheck } from './checks/silence.js';
import { SlotSocketCheck } from './checks/slot-sockets.js';
import type { ViolationLog } from './checks/violations.js';
import { CountingClock } from './counting-clock.js';
import { requireOption, SoakError, SoakErrorCode } from './errors.js';
import { FaultInjector, type InjectedFault } from './fault-injector.js';
import {
  countByKind,
  MAX_RUN_MS,
  MIN_FAULT_SPACING_MS,
  planFaults,
  type FaultKind,
} from './fault-plan.js';
import { seededRandom } from './prng.js';
import type { LandedByTarget, SoakReport } from './report.js';
import { GROWTH_BOUNDS, sampleResources } from './resources.js';
import { SoakTimeline } from './timeline.js';

/** Settings of {@link runSoak}. */
export interface SoakOptions {
  /** Length of the measured run, after the warm-up. */
  minutes: number;
  /** Seeds the fault plan, the market and the pool's jitter: one seed, one run. */
  seed: number;
  /** Kline symbols (x 6 intervals). @default 531, the demo's 3,186 streams */
  symbols?: number | undefined;
  /** Mean spacing of injected faults. @default 4000 */
  faultSpacingMs?: number | undefined;
  /** Progress lines (one per fault and one per 10 s). @default none */
  progress?: ((line: string) => void) | undefined;
  /**
   * The scenario must be up (every kline stream and book ticker delivered, books live, account
   * open) by then. @default 90000
   */
  warmupTimeoutMs?: number | undefined;
}

/**
 * Recognisable credentials: any log line that carries them is found by a plain search. The
 * simulator accepts them, the account feed uses them.
 */
export const SOAK_CREDENTIALS: ApiCredentials = {
  apiKey: 'SOAKAPIKEYdo-not-log-0123456789abcdefghijklmnopqrstuv',
  secret: 'SOAKSECRETdo-not-log-9876543210zyxwvutsrqponmlkjihgfe',
};

/**
 * Connections rotate make-before-break after 60 to 90 s instead of 23 h 50 min, so that a
 * run of minutes goes through many lifetime rotations, not only the simulator's forced cuts.
 */
const ROTATE_AFTER_MS = 60_000;
const ROTATE_JITTER_MS = 30_000;
/**
 * The pool's `overlapMaxMs` (its default, said out loud): the double-subscription check
 * excuses a rotation's overlap for this long plus its margin.
 */
const OVERLAP_MAX_MS = 10_000;
/** The simulator keeps a book 40 levels a side: a 1,000-level snapshot holds all of it, so a live book is compared with the truth level for level. */
const BOOK_LEVELS = 40;
const LOOP_MS = 250;
const SAMPLE_MS = 1000;
/** After the run, unannounced holes get this long before they count. */
const HOLE_GRACE_MS = 2000;
/**
 * After the run, every stream must deliver again within this long. The longest a fault may
 * legitimately keep a stream away: a 1008 close ("Too many requests") holds its connection's
 * reconnect for `rateLimitedMs`, 60 s, and the plan's last fault can land just before its 15 s
 * quiet tail (the seed-5 soak measured 39.9 s after the run for one at 280 s of 300). Counted
 * from the run's end as if the tail were not there, plus 15 s for a stalled handshake's
 * timeout, the subscribe and one cadence. A stream silent on a live connection is resubscribed
 * after 30 s (`staleMinMs`), well inside it. A healthy run waits one cadence (2 s for a kline).
 */
const SILENCE_LIMIT_MS = 75_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The soak: the demo's streams (3,186 klines, 50 book tickers, 5 books, the user-data stream)
 * through one pool against an in-process simulator, for `minutes`, while a seeded plan injects
 * every fault the simulator has, and the invariants are checked continuously. Resolves with the
 * report; `passed` is false when any invariant counter is not zero.
 */
export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  // Every option is checked before anything starts: a bad one fails here, with the soak's code.
  requireOption('minutes', o.minutes ?? null, { min: 0, max: MAX_RUN_MS / 60_000, above: true });
  requireOption('symbols', o.symbols, { min: 1, max: MAX_SYMBOLS, integer: true });
  requireOption('faultSpacingMs', o.faultSpacingMs, { min: MIN_FAULT_SPACING_MS, max: MAX_RUN_MS });
  requireOption('warmupTimeoutMs', o.warmupTimeoutMs, { min: 0, max: MAX_RUN_MS, above: true });
  if (o.progress !== undefined && typeof o.progress !== 'function') {
    throw new SoakError(SoakErrorCode.InvalidOption, '`progress` must be a function');
  }
  const durationMs = Math.round(o.minutes * 60_000);
  const plan = planFaults({
    seed: o.seed,
    durationMs,
    ...(o.faultSpacingMs === undefined ? {} : { meanSpacingMs: o.faultSpacingMs }),
  });
  const progress = o.progress ?? (() => {});
  const symbolCount = o.symbols ?? 531;

  const processFaults = new ProcessFaultCheck();
  processFaults.attach();
  const secrets = new SecretScan([SOAK_CREDENTIALS.apiKey, SOAK_CREDENTIALS.secret]);
  const slots = new SlotSocketCheck();
  const doubles = new DoubleSubscriptionCheck({ overlapMaxMs: OVERLAP_MAX_MS });
  const delivery = new DeliveryCheck();
  const silence = new SilenceCheck();
  const holes = new HoleCheck({
    graceMs: HOLE_GRACE_MS,
    // The simulator's own record of the diffs its gap faults withheld: holes of the venue.
    withheld: (stream, after, upTo) =>
      sim.truth
        .diffLog(stream.slice(0, stream.indexOf('@')))
        .some((d) => d.skipped && d.stream === stream && d.u > after && d.u <= upTo),
  });
  const controlRate = new ControlRateCheck();
  const growth = new GrowthCheck(GROWTH_BOUNDS);
  const clock = new CountingClock(realClock);
  // Every duration, deadline and check time below is monotonic: a wall-clock step moves none.
  const time = new SoakTimeline(clock, { silence, holes, doubles });
  const logger = createLogger({ level: 'trace' }, secrets);
  const gc = (globalThis as { gc?: () => void }).gc;

  const sim = await startSimulator({
    venue: 'binance-usdm',
    symbols: Math.max(symbolCount, DEMO_BOOK_TICKERS),
    seed: o.seed,
    bookLevels: BOOK_LEVELS,
    apiKeys: [SOAK_CREDENTIALS],
  });
  const truth = new BookTruthCheck((symbol, id) => sim.truth.bookAt(symbol, id));
  const delivered = new Set<string>();
  const live = new Set<string>();
  const bookTickersSeen = new Set<string>();
  const counts = { klineUpdates: 0, bookTickers: 0, bookViews: 0, orders: 0 };
  const subs: Subscription[] = [];
  const started = time.now();
  let scenario: Awaited<ReturnType<typeof startDemoScenario>> | undefined;
  try {
    scenario = await startDemoScenario({
      sim,
      symbols: symbolCount,
      logger,
      apiKey: SOAK_CREDENTIALS.apiKey,
      pool: {
        clock,
        slotParam: 'slot',
        random: seededRandom(o.seed ^ 0x5eed),
        rotateAfterMs: ROTATE_AFTER_MS,
        rotateJitterMs: ROTATE_JITTER_MS,
        overlapMaxMs: OVERLAP_MAX_MS,
      },
      onKline: (k) => {
        counts.klineUpdates++;
        delivered.add(k.stream);
        time.delivered(k.stream);
        if (k.isClosed) delivery.closedCandle('klines', k.stream, k.interval, k.openTime);
      },
      onBookTicker: (e) => {
        counts.bookTickers++;
        bookTickersSeen.add(e.stream);
        time.delivered(e.stream);
        delivery.event('bookTicker', e.stream, e.updateId);
      },
      onBook: (symbol, v) => {
        counts.bookViews++;
        if (v.state === 'live') live.add(symbol);
        else live.delete(symbol);
        const book = v.book;
        truth.view(
          symbol,
          v.state,
          v.lastUpdateId,
          book && { bids: book.bids.top(book.bids.size), asks: book.asks.top(book.asks.size) },
        );
      },
      onOrder: (order) => {
        counts.orders++;
        time.delivered('user-data');
        delivery.event('orders', 'user-data', orderUpdateKey(order));
      },
    });
    const { pool, account, symbols, bookSymbols } = scenario;
    subs.push(
      pool.gaps$.subscribe((g) => {
        delivery.gap(g.stream);
        time.gap(g.stream);
      }),
      closedKlines(pool, { symbols: [...symbols], intervals: DEMO_INTERVALS }).subscribe((k) =>
        delivery.closedCandle('closedKlines', k.stream, k.interval, k.openTime),
      ),
      pool.observe(depthDiff, { symbols: [...bookSymbols], speed: '100ms' }).subscribe((e) => {
        time.depth({
          stream: e.stream,
          first: e.firstUpdateId,
          last: e.lastUpdateId,
          previous: e.previousUpdateId,
        });
      }),
    );

    // Warm-up: every stream delivering, every book live, the account open. Not measured.
    const warmupEnd = started + (o.warmupTimeoutMs ?? 90_000);
    const accountError = scenario.accountStarted;
    let accountUp = false;
    void accountError.then((err) => {
      accountUp = err === undefined;
    });
    const bookTickers = scenario.bookTickerSymbols.length;
    while (
      delivered.size < scenario.klineStreams ||
      bookTickersSeen.size < bookTickers ||
      live.size < bookSymbols.length ||
      !accountUp
    ) {
      if (time.now() > warmupEnd) {
        throw new SoakError(
          SoakErrorCode.WarmupTimeout,
          `warm-up: ${delivered.size}/${scenario.klineStreams} kline streams, ${bookTickersSeen.size}/${bookTickers} book tickers, ${live.size}/${bookSymbols.length} books live, account ${accountUp ? 'open' : 'not open'}`,
        );
      }
      await sleep(100);
    }
    const warmupMs = time.now() - started;
    progress(
      `warm-up done in ${(warmupMs / 1000).toFixed(1)} s: ${pool.stats().streams} streams on ${pool.stats().connections} connections; ${plan.length} faults over ${o.minutes} min`,
    );

    const injector = new FaultInjector({
      sim,
      bookSymbols,
      onListenKeys: (keys) => secrets.learn(keys),
    });
    const sample = (): void => {
      const s = sim.stats();
      const p = pool.stats();
      slots.observe(s.connections.bySlot);
      controlRate.observe(s.closes1008);
      time.sample({
        duplicateSameConnection: s.subscriptions.duplicateSameConnection,
        connections: s.connectionList,
        activePoolConnections: new Set(
          p.perConnection.filter((c) => c.role === 'active').map((c) => c.id),
        ),
      });
      secrets.learn(sim.listenKeys());
      gc?.();
      growth.add(
        sampleResources({
          serverSockets: () => s.connections.open,
          clockTimers: () => clock.live,
          listeners: () =>
            p.subscribers + process.eventNames().reduce((n, e) => n + process.listenerCount(e), 0),
          activeResources: () => process.getActiveResourcesInfo(),
          heapUsed: () => process.memoryUsage().heapUsed,
        }),
      );
    };

    const runStart = time.now();
    let next = 0;
    let nextSample = runStart;
    let nextTrade = runStart;
    /** An order placed and filled every 2 s: the account stream has events to deliver. */
    const tradeIfDue = (now: number): void => {
      if (now < nextTrade) return;
      const symbol = symbols[0]!;
      const order = sim.account.placeOrder({
        symbol,
        side: 'BUY',
        quantity: '0.001',
        price: sim.truth.lastPrice(symbol) ?? '1',
      });
      sim.account.fill(order.orderId);
      nextTrade = now + 2000;
    };
    let nextProgress = runStart + 10_000;
    while (time.now() - runStart < durationMs) {
      const now = time.now();
      while (next < plan.length && plan[next]!.atMs <= now - runStart) {
        const r = injector.inject(plan[next++]!);
        progress(
          `${((now - runStart) / 1000).toFixed(1)} s fault ${r.kind}${r.target ? ` on ${r.target}` : ''}${r.planned && r.target !== r.planned ? ` (aimed at ${r.planned})` : ''}${r.connection === undefined ? '' : ` #${r.connection}`}${r.symbol ? ` ${r.symbol}` : ''}${r.applied ? '' : ' (nothing to hit)'}`,
        );
      }
      tradeIfDue(now);
      if (now >= nextSample) {
        sample();
        nextSample = now + SAMPLE_MS;
      }
      if (now >= nextProgress) {
        const p = pool.stats();
        progress(
          `${((now - runStart) / 1000).toFixed(0)} s: ${p.messagesPerSecond.toFixed(0)} msg/s, ${p.reconnects} reconnects, ${p.rotations} rotations, ${p.gaps} gaps; violations ${violationsSoFar()}`,
        );
        nextProgress = now + 10_000;
      }
      await sleep(LOOP_MS);
    }
    const measuredMs = time.now() - runStart;
    // The faults are over (the plan's quiet tail): every stream must deliver again.
    time.endFaults();
    const silenceEnd = time.now() + SILENCE_LIMIT_MS;
    // The books' and the account's REST client (one per host and clock, shared).
    const rest = venueRestClient(pool.venue, { clock });
    while (time.silent().length > 0 && time.now() < silenceEnd) {
      // The plan's last fault is a REST ban (418: every call held 5 min or more). An account
      // that lost its socket meanwhile must POST a listen key to connect again, so it waits
      // the ban out: the venue's doing. Let off only when the ban outlasts this wait (else it
      // must be back in time); reported, not counted.
      // `heldUntil` is a wall-clock time: only the wall clock's now measures what is left of it.
      const heldMs = rest.stats().heldUntil - clock.now();
      const outlasts = heldMs > silenceEnd - time.now();
      const accountDown = account.stats().connection?.state !== 'open';
      if (outlasts && accountDown && time.silent().includes('user-data')) {
        const why = `REST banned for ${(heldMs / 1000).toFixed(0)} s more: the account's listen-key POST waits`;
        silence.excuse('user-data', why);
        progress(`user-data let off the silence check: ${why}`);
      }
      tradeIfDue(time.now());
      await sleep(100);
    }
    // Whole ms, as reported: the monotonic clock reads fractions.
    const everyStreamAgainMs = Math.round(time.sinceFaultsEnded());
    time.finishSilence();
    await sleep(Math.max(0, HOLE_GRACE_MS - time.sinceFaultsEnded()));
    sample();
    holes.finish();
    const resources = growth.finish();
    const p = pool.stats();
    const s = sim.stats();
    const books = bookStats(pool);
    const a = account.stats();

    for (const sub of subs.splice(0)) sub.unsubscribe();
    await scenario.close();
    scenario = undefined;
    await sim.close();
    // Every timer goes through the Clock and is cleared on stop: none may be left.
    await sleep(100);
    const timersAfterClose = clock.live;
    if (timersAfterClose > 0) {
      growth.violations.add(
        `${timersAfterClose} timer(s) alive on the library's clock after close`,
      );
    }
    secrets.learn(sim.listenKeys());
    processFaults.detach();

    const invariants: Record<string, ViolationLog> = {
      slotSockets: slots.violations,
      doubleSubscriptions: doubles.violations,
      duplicateDeliveries: delivery.duplicates,
      missedClosedCandles: delivery.missed,
      silentStreams: silence.violations,
      unannouncedHoles: holes.violations,
      booksOffTruth: truth.violations,
      unhandledErrors: processFaults.violations,
      controlRate: controlRate.violations,
      resourceGrowth: growth.violations,
      secretsInLogs: secrets.violations,
    };
    const landed = injector.injected.filter((f) => f.applied);
    const injectedByKind = countByKind(landed);
    const notApplied = injector.injected.filter((f) => !f.applied).map((f) => f.kind);
    return {
      seed: o.seed,
      minutes: o.minutes,
      warmupMs,
      measuredMs,
      passed: Object.values(invariants).every((v) => v.count === 0),
      invariants: Object.fromEntries(
        Object.entries(invariants).map(([k, v]) => [
          k,
          { description: v.name, count: v.count, examples: [...v.examples] },
        ]),
      ),
      plan: { faults: plan.length, byKind: countByKind(plan) },
      faults: {
        injected: injector.injected.filter((f) => f.applied).length,
        byKind: injectedByKind,
        byTarget: countByTarget(landed),
        retargeted: countKinds(
          landed
            .filter((f) => f.planned !== undefined && f.target !== f.planned)
            .map((f) => f.kind),
        ),
        notApplied: countKinds(notApplied),
      },
      streams: {
        subscribed: p.streams,
        klines: symbols.length * DEMO_INTERVALS.length,
        bookTickers: DEMO_BOOK_TICKERS,
        books: bookSymbols.length,
        userData: 1,
        connections: p.connections,
        slotsSeen: slots.slots,
      },
      events: {
        poolMessages: p.messages,
        klineUpdates: counts.klineUpdates,
        closedCandles: delivery.closedCandles,
        bookTickers: counts.bookTickers,
        depthDiffs: holes.events,
        holesAnnounced: holes.holes,
        bookViews: counts.bookViews,
        bookViewsChecked: truth.checked,
        bookViewsUnverified: truth.unverified,
        orderUpdates: counts.orders,
        streamsWatched: silence.streams,
        streamsExcused: silence.excused.size,
      },
      recovery: {
        reconnects: p.reconnects,
        gaps: p.gaps,
        rotations: p.rotations,
        everyStreamAgainMs,
        staleResubscribes: p.staleResubscribes,
        staleConnections: p.perConnection.reduce((n, c) => n + c.stales, 0),
        parseErrors: p.parseErrors,
        duplicatesSuppressed: p.duplicatesSuppressed,
        queueDropped: p.queue.dropped,
        bookResyncs: books.reduce((n, b) => n + b.resyncs, 0),
        listenKeyRenewals: a.listenKey.renewals,
        accountDuplicatesSuppressed: a.duplicatesSuppressed,
        serverConnectionsAccepted: s.connections.accepted,
        stalledHandshakes: s.handshakes.stalled,
        rest429: s.rest.status429,
        rest418: s.rest.status418,
      },
      resources: { bounds: { ...GROWTH_BOUNDS }, growth: resources, timersAfterClose, gc: !!gc },
      logs: { lines: secrets.lines, bytes: secrets.bytes },
    };
  } finally {
    for (const sub of subs) sub.unsubscribe();
    await scenario?.close();
    await sim.close();
    processFaults.detach();
  }

  function violationsSoFar(): number {
    return (
      slots.violations.count +
      doubles.violations.count +
      delivery.duplicates.count +
      delivery.missed.count +
      silence.violations.count +
      holes.violations.count +
      truth.violations.count +
      processFaults.violations.count +
      controlRate.violations.count +
      secrets.violations.count
    );
  }
}

function countKinds(kinds: readonly FaultKind[]): Partial<Record<FaultKind, number>> {
  const out: Partial<Record<FaultKind, number>> = {};
  for (const k of kinds) out[k] = (out[k] ?? 0) + 1;
  return out;
}

/** Landed faults per kind, by the kind of connection each actually hit. */
function countByTarget(landed: readonly InjectedFault[]): LandedByTarget {
  const out: LandedByTarget = {};
  for (const f of landed) {
    const where = f.target ?? 'none';
    const byTarget = (out[f.kind] ??= {});
    byTarget[where] = (byTarget[where] ?? 0) + 1;
  }
  return out;
}
