import { ErrorCode } from '@unifeed/core';
import { ManualClock } from '@unifeed/core/testing';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HEALTH_THRESHOLDS,
  HealthMonitor,
  MetricSources,
  PrometheusExporter,
  type HealthMonitorOptions,
} from '../src/index.js';
import {
  accountStats,
  bookStats,
  connection,
  feedStats,
  latency,
  poolStats,
  restStats,
  source,
} from './fakes.js';

const T0 = 1_700_000_000_000;

function setup(options: HealthMonitorOptions = {}) {
  const clock = new ManualClock(T0);
  const sources = new MetricSources();
  const pool = source(poolStats());
  const books = source([bookStats()]);
  const account = source(accountStats());
  const rest = source(restStats());
  sources.addPool(pool, 'usdm');
  sources.addBooks(() => books.current, 'usdm');
  sources.addAccount(account, 'futures');
  sources.addRestClient(rest, 'fapi');
  const health = new HealthMonitor(sources, { clock, ...options });
  health.start();
  return { clock, sources, pool, books, account, rest, health };
}

function failing(): never {
  throw new Error('source down');
}

describe('HealthMonitor', () => {
  it('is ok while nothing happens, and leaves no timer after stop', async () => {
    const { clock, health } = setup();
    await clock.advance(120_000);
    expect(health.report()).toMatchObject({ status: 'ok', anomalies: [], spanMs: 60_000 });
    expect(clock.pending).toBe(1);
    health.stop();
    health.stop();
    expect(clock.pending).toBe(0);
  });

  // Found in review: the timer re-armed itself after a stop() made during its own sample.
  it('a stop() during a timed sample (from a source reader) leaves no timer', async () => {
    const { clock, sources, health } = setup();
    let stopNow = false;
    sources.addBooks(() => {
      if (stopNow) health.stop();
      return [];
    }, 'shutting-down');
    stopNow = true;
    await clock.advance(1000);
    expect(clock.pending).toBe(0);
    await clock.advance(60_000);
    expect(clock.pending).toBe(0);
    stopNow = false;
    health.start(); // and started again, one timer
    await clock.advance(5000);
    expect(clock.pending).toBe(1);
  });

  it('a reconnect with its gaps is a warning for one window, then ok again', async () => {
    const { clock, pool, health } = setup();
    await clock.advance(10_000);
    pool.current = poolStats({ reconnects: 1, gaps: 200 });
    await clock.advance(1000);
    const r = health.report();
    expect(r.status).toBe('warning');
    expect(r.anomalies.map((a) => [a.check, a.source, a.value])).toEqual([
      ['reconnects', 'pool usdm', 1],
      ['gaps', 'pool usdm', 200],
    ]);
    expect(r.anomalies[0]!.message).toBe('pool usdm: 1 reconnects in the last 11 s (limit 0/min)');
    await clock.advance(60_000);
    expect(health.report().status).toBe('ok');
  });

  it("a pool's undecodable frames count as parse errors, as its plugins' failures do", async () => {
    const { clock, pool, health } = setup();
    pool.current = poolStats({ parseErrors: 4, decodeErrors: 2 });
    await clock.advance(61_000);
    expect(health.report().status).toBe('ok');
    pool.current = poolStats({ parseErrors: 4, decodeErrors: 5 });
    await clock.advance(1000);
    expect(health.report().anomalies.map((a) => [a.check, a.source, a.value])).toEqual([
      ['parse-errors', 'pool usdm', 3],
    ]);
    // The plugins' count going up as the decode count does is the sum of both.
    pool.current = poolStats({ parseErrors: 6, decodeErrors: 6 });
    await clock.advance(1000);
    expect(health.report().anomalies).toMatchObject([
      { check: 'parse-errors', source: 'pool usdm', value: 6 },
    ]);
  });

  it('rates are per minute: under the limit is ok, over it is not', async () => {
    const { clock, pool, health } = setup({ thresholds: { maxReconnectsPerMinute: 2 } });
    await clock.advance(60_000);
    pool.current = poolStats({ reconnects: 2 });
    await clock.advance(1000);
    expect(health.report().status).toBe('ok');
    pool.current = poolStats({ reconnects: 3 });
    expect(health.report().anomalies).toMatchObject([
      { check: 'reconnects', value: 3, threshold: 2 },
    ]);
  });

  it('more than 10 lag warnings over 100 ms within 1,000 ms is critical', async () => {
    const { clock, pool, health } = setup();
    await clock.advance(5000);
    const slow = (n: number) => Array.from({ length: n }, () => 150);
    pool.current = poolStats({ lag: latency(1, 2, ...slow(10)) });
    await clock.advance(1000);
    expect(health.report().status).toBe('ok'); // 10 is not more than 10
    pool.current = poolStats({ lag: latency(1, 2, ...slow(10), ...slow(11)) });
    await clock.advance(1000);
    const r = health.report();
    expect(r.status).toBe('critical');
    expect(r.anomalies).toMatchObject([
      { check: 'queue-lag', value: 11, threshold: 10, severity: 'critical' },
    ]);
    expect(r.anomalies[0]!.message).toContain(
      '11 messages dispatched over 100 ms after they arrived',
    );
    // a second later without new slow messages: recovered
    await clock.advance(1000);
    expect(health.report().status).toBe('ok');
  });

  it('lag warnings are counted over at most lagWindowMs, also between samples', async () => {
    const { clock, pool, health } = setup();
    await clock.advance(5000);
    const slow = (n: number) => Array.from({ length: n }, () => 150);
    pool.current = poolStats({ lag: latency(...slow(6)) });
    await clock.advance(1000);
    pool.current = poolStats({ lag: latency(...slow(12)) });
    await clock.advance(900);
    // 6 before the sample at 6 s and 6 after: 12 over 1.9 s, but no more than 6 within 1 s
    expect(health.report().status).toBe('ok');
    await clock.advance(100);
    pool.current = poolStats({ lag: latency(...slow(23)) });
    await clock.advance(1500);
    // 11 between the samples at 7 s and 8 s: still seen half a second after the newest sample
    const r = health.report();
    expect(r.anomalies).toMatchObject([{ check: 'queue-lag', source: 'pool usdm', value: 11 }]);
    expect(r.anomalies[0]!.message).toBe(
      'pool usdm: 11 messages dispatched over 100 ms after they arrived, within 1 s (limit 10)',
    );
  });

  it('without start(), reports further apart than lagWindowMs judge the lag since the last one', async () => {
    const clock = new ManualClock(T0);
    const sources = new MetricSources();
    const pool = source(poolStats());
    sources.addPool(pool, 'usdm');
    const health = new HealthMonitor(sources, { clock });
    expect(health.report().status).toBe('ok');
    await clock.advance(5000);
    pool.current = poolStats({ lag: latency(...Array.from({ length: 11 }, () => 150)) });
    const r = health.report();
    expect(r.anomalies).toMatchObject([{ check: 'queue-lag', value: 11 }]);
    expect(r.anomalies[0]!.message).toContain('within 5 s');
  });

  it('without start(), reports further apart than the window judge what happened since the last one', async () => {
    const clock = new ManualClock(T0);
    const sources = new MetricSources();
    const pool = source(poolStats());
    sources.addPool(pool, 'usdm');
    // 4,950 a minute is 5,032 in 61 s: the limit is scaled to the span judged, not the window.
    const health = new HealthMonitor(sources, { clock, thresholds: { maxGapsPerMinute: 4950 } });
    expect(health.report().status).toBe('ok');
    await clock.advance(61_000);
    pool.current = poolStats({
      reconnects: 50,
      gaps: 5000,
      queue: { depth: 0, maxDepth: 10_000, dropped: 900, conflated: 0 },
      lag: latency(...Array.from({ length: 500 }, () => 150)),
    });
    // The window was all there was to count from before: the report at 0 s fell out of it,
    // and 61 s of reconnects, drops and lag were judged as nothing at all.
    const r = health.report();
    expect(r).toMatchObject({ status: 'critical', spanMs: 61_000 });
    expect(r.anomalies.map((a) => [a.check, a.value])).toEqual([
      ['queue-drops', 900],
      ['reconnects', 50],
      ['queue-lag', 500],
    ]);
    expect(r.anomalies[1]!.message).toBe('pool usdm: 50 reconnects in the last 61 s (limit 0/min)');
    expect(r.anomalies[2]!.message).toContain('within 61 s');
    // Still in the window a second later; gone once the window has moved past the report at 61 s.
    await clock.advance(1000);
    expect(health.report().anomalies.map((a) => a.check)).toEqual(['queue-drops', 'reconnects']);
    await clock.advance(59_000);
    expect(health.report().status).toBe('ok');
  });

  it('a queue deeper than 100 is critical, as is a dropped message', async () => {
    const { clock, pool, health } = setup();
    await clock.advance(2000);
    pool.current = poolStats({
      queue: { depth: 101, maxDepth: 101, dropped: 0, conflated: 0 },
      perConnection: [connection({ queueDepth: 101 })],
    });
    expect(health.report().anomalies).toMatchObject([
      { check: 'queue-depth', severity: 'critical', value: 101, threshold: 100 },
    ]);
    pool.current = poolStats({ queue: { depth: 100, maxDepth: 500, dropped: 3, conflated: 0 } });
    expect(health.report()).toMatchObject({
      status: 'critical',
      anomalies: [{ check: 'queue-drops', severity: 'critical', value: 3 }],
    });
    // Replaced by a newer message under `conflate`: the policy chosen, no full queue's loss.
    pool.current = poolStats({ queue: { depth: 0, maxDepth: 500, dropped: 3, conflated: 900 } });
    expect(health.report().anomalies.map((a) => [a.check, a.value])).toEqual([['queue-drops', 3]]);
  });

  it("queue depth is judged per queue: each pool connection's, a feed's, an account's", async () => {
    const { clock, sources, pool, account, health } = setup();
    const raw = source(feedStats({ name: 'raw' }));
    sources.addFeed(raw);
    await clock.advance(2000);
    const deep = (depth: number) => ({ ...feedStats().queue, depth, maxDepth: depth });
    // 16 connections holding 7 each: 112 in the pool, no queue above 100
    pool.current = poolStats({
      queue: { depth: 112, maxDepth: 7, dropped: 0, conflated: 0 },
      perConnection: Array.from({ length: 16 }, (_, i) => connection({ id: i, queueDepth: 7 })),
    });
    expect(health.report().status).toBe('ok');
    pool.current = poolStats({
      queue: { depth: 104, maxDepth: 101, dropped: 0, conflated: 0 },
      perConnection: [connection({ id: 1, queueDepth: 3 }), connection({ id: 2, queueDepth: 101 })],
    });
    account.current = accountStats({
      connection: feedStats({ name: 'account', queue: deep(101) }),
    });
    raw.current = feedStats({ name: 'raw', queue: deep(5000) });
    const r = health.report();
    expect(r.status).toBe('critical');
    expect(r.anomalies.map((a) => [a.check, a.severity, a.source, a.value])).toEqual([
      ['queue-depth', 'critical', 'pool usdm connection 2', 101],
      ['queue-depth', 'critical', 'account futures', 101],
      ['queue-depth', 'critical', 'feed raw', 5000],
    ]);
    expect(r.anomalies[2]!.message).toBe(
      'feed raw: 5000 messages waiting in its queue (limit 100)',
    );
  });

  it('a connection, a book or an account down for longer than maxDownMs is critical', async () => {
    const { clock, pool, books, account, health } = setup();
    await clock.advance(1000);
    pool.current = poolStats({ perConnection: [connection({ id: 4, state: 'backoff' })] });
    books.current = [bookStats({ state: 'resyncing' })];
    account.current = accountStats({ state: 'starting' });
    // first seen down by the sample a second later: 29 s down so far
    await clock.advance(30_000);
    expect(health.report().status).toBe('ok');
    await clock.advance(2000);
    const r = health.report();
    expect(r.status).toBe('critical');
    expect(r.anomalies.map((a) => [a.check, a.source, a.message])).toEqual([
      [
        'connection-down',
        'pool usdm connection 4',
        'pool usdm connection 4: backoff for 31 s (limit 30 s)',
      ],
      [
        'book-not-live',
        'book usdm btcusdt@depth@100ms',
        'book usdm btcusdt@depth@100ms: resyncing for 31 s (limit 30 s)',
      ],
      ['account-down', 'account futures', 'account futures: starting for 31 s (limit 30 s)'],
    ]);
    // back up: the clock starts again from zero next time
    pool.current = poolStats();
    books.current = [bookStats()];
    account.current = accountStats();
    await clock.advance(1000);
    expect(health.report().anomalies.map((a) => a.check)).toEqual([]);
  });

  it('a wall-clock step moves neither the window nor a down time; the report is dated by the wall', async () => {
    const { clock, pool, health } = setup();
    await clock.advance(10_000);
    pool.current = poolStats({ reconnects: 1, perConnection: [connection({ state: 'backoff' })] });
    await clock.advance(1000);
    clock.stepWall(300_000); // forward: no more than a second down, one reconnect in the window
    let r = health.report();
    expect(r.at).toBe(clock.now());
    expect(r.anomalies.map((a) => a.check)).toEqual(['reconnects']);
    clock.stepWall(-600_000); // back: the reconnect still leaves the window a minute later
    await clock.advance(60_000);
    r = health.report();
    expect(r.anomalies.map((a) => [a.check, a.value])).toEqual([['connection-down', 60_000]]);
  });

  it('an account whose socket stays down after it ran is critical, however it says it runs', async () => {
    const { clock, account, health } = setup();
    await clock.advance(1000);
    account.current = accountStats({
      connection: feedStats({ name: 'account', state: 'backoff' }),
    });
    await clock.advance(32_000);
    expect(health.report()).toMatchObject({
      status: 'critical',
      anomalies: [
        {
          check: 'account-down',
          source: 'account futures',
          message: 'account futures: backoff for 31 s (limit 30 s)',
        },
      ],
    });
    account.current = accountStats();
    await clock.advance(1000);
    expect(health.report().status).toBe('ok');
  });

  it('book resyncs, listen-key renewals, REST 429s and a failed account are reported', async () => {
    const { clock, books, account, rest, health } = setup();
    await clock.advance(5000);
    books.current = [bookStats({ resyncs: 2 })];
    account.current = accountStats({
      listenKey: { created: 2, keptAlive: 3, keepAliveFailures: 0, renewals: 1, changes: 1 },
    });
    rest.current = restStats({ status418: 1 });
    await clock.advance(1000);
    expect(health.report().anomalies.map((a) => [a.check, a.severity, a.value])).toEqual([
      ['resyncs', 'warning', 2],
      ['listen-key-renewals', 'warning', 1],
      ['rest-rate-limited', 'critical', 1],
    ]);
    account.current = accountStats({ state: 'failed' });
    expect(health.report().anomalies.at(-1)).toMatchObject({
      check: 'account-failed',
      severity: 'critical',
      source: 'account futures',
    });
  });

  it('a source added after the start counts from zero: what it saw before the next sample is not lost', async () => {
    const clock = new ManualClock(T0);
    const sources = new MetricSources();
    const health = new HealthMonitor(sources, { clock });
    health.start();
    await clock.advance(500);
    sources.addPool(source(poolStats({ reconnects: 1 })), 'late');
    expect(health.report().anomalies).toMatchObject([
      { check: 'reconnects', source: 'pool late', value: 1 },
    ]);
    await clock.advance(1000);
    expect(health.report().anomalies).toMatchObject([{ check: 'reconnects', value: 1 }]);
    health.stop();
  });

  it('a connection cycling between backoff and connecting is down since it first failed', async () => {
    const { clock, pool, health } = setup();
    for (let i = 0; i < 32; i++) {
      const state = i % 2 === 0 ? 'backoff' : 'connecting';
      pool.current = poolStats({ perConnection: [connection({ id: 7, state })] });
      await clock.advance(1000);
    }
    expect(health.report().anomalies).toMatchObject([
      { check: 'connection-down', source: 'pool usdm connection 7', value: 31_000 },
    ]);
  });

  it('a book that goes away is not a burst of resyncs; a counter reset counts from zero', async () => {
    const { clock, books, health } = setup();
    const aaa = { symbol: 'AAA', book: 'aaa@depth@100ms' };
    const bbb = { symbol: 'BBB', book: 'bbb@depth@100ms' };
    books.current = [bookStats({ ...aaa, resyncs: 27 }), bookStats({ ...bbb, resyncs: 3 })];
    await clock.advance(61_000); // their resyncs are older than the window now
    books.current = [bookStats({ ...bbb, resyncs: 3 })];
    await clock.advance(2000);
    expect(health.report().status).toBe('ok');
    books.current = [bookStats({ ...bbb, resyncs: 1 })]; // a new book, from zero
    expect(health.report().anomalies).toMatchObject([{ check: 'resyncs', value: 1 }]);
  });

  it('two books of one symbol are apart: one going away shifts nothing onto the other', async () => {
    const { clock, books, health } = setup();
    const fast = { book: 'btcusdt@depth@100ms' };
    const slow = { book: 'btcusdt@depth' };
    books.current = [bookStats({ ...fast, resyncs: 27 }), bookStats({ ...slow, resyncs: 3 })];
    await clock.advance(61_000);
    // Counted by position among the symbol's books, the slow book's 3 would read as a reset of
    // the fast book's 27, and be reported as 3 new resyncs.
    books.current = [bookStats({ ...slow, resyncs: 3 })];
    await clock.advance(2000);
    expect(health.report().status).toBe('ok');
    books.current = [
      bookStats({ ...fast, state: 'resyncing' }),
      bookStats({ ...slow, state: 'syncing' }),
    ];
    await clock.advance(32_000);
    expect(health.report().anomalies.map((a) => [a.check, a.source])).toEqual([
      ['book-not-live', 'book usdm btcusdt@depth@100ms'],
      ['book-not-live', 'book usdm btcusdt@depth'],
    ]);
  });

  it('a source that throws is left out of that read; the others and the timer go on', async () => {
    const clock = new ManualClock(T0);
    const sources = new MetricSources();
    let fail = true;
    sources.addPool({ stats: () => (fail ? failing() : poolStats()) }, 'flaky');
    const steady = source(poolStats());
    sources.addPool(steady, 'steady');
    const health = new HealthMonitor(sources, { clock });
    health.start();
    await clock.advance(3000);
    steady.current = poolStats({ reconnects: 1 });
    // The failed reads since the start's sample (the samples at 1, 2, 3 s and this report).
    expect(health.report().anomalies).toMatchObject([
      { check: 'reconnects', source: 'pool steady' },
      { check: 'read-errors', source: 'pool flaky', value: 4 },
    ]);
    expect(sources.readErrors).toBe(5);
    expect(clock.pending).toBe(1);
    fail = false;
    expect(health.report().anomalies.map((a) => a.source)).toEqual(['pool steady', 'pool flaky']);
    health.stop();
  });

  it('a source that fails one read is neither a burst when it is back nor up meanwhile', async () => {
    const clock = new ManualClock(T0);
    const sources = new MetricSources();
    let fail = false;
    const down = poolStats({
      reconnects: 5,
      queue: { ...poolStats().queue, dropped: 2 },
      perConnection: [connection({ id: 3, state: 'backoff' })],
    });
    sources.addPool({ stats: () => (fail ? failing() : down) }, 'flaky');
    const health = new HealthMonitor(sources, { clock, windowMs: 5000 });
    health.start();
    await clock.advance(10_000); // its lifetime totals are old news by now
    for (let i = 0; i < 25; i++) {
      // One read in every five fails: the connection stays down all along.
      fail = i % 5 === 0;
      await clock.advance(1000);
    }
    fail = false;
    expect(health.report().anomalies.map((a) => [a.check, a.source])).toEqual([
      ['read-errors', 'pool flaky'],
      ['connection-down', 'pool flaky connection 3'],
    ]);
    health.stop();
  });

  it('a source unread by the first sample is no burst at its first good read', async () => {
    const clock = new ManualClock(T0);
    const sources = new MetricSources();
    let fail = true;
    const pool = source(poolStats());
    sources.addPool({ stats: () => (fail ? failing() : pool.current) }, 'flaky');
    const health = new HealthMonitor(sources, { clock });
    health.start(); // its sample cannot read the pool
    fail = false;
    pool.current = poolStats({ reconnects: 40, gaps: 4000 }); // lifetime totals
    await clock.advance(1000);
    // 40 reconnects and 4,000 gaps "in the last 1 s" before: counted from zero, as if new.
    expect(health.report()).toMatchObject({ status: 'ok', anomalies: [] });
    // What it was read at is where it counts from.
    pool.current = poolStats({ reconnects: 41, gaps: 4001 });
    await clock.advance(1000);
    expect(health.report().anomalies.map((a) => [a.check, a.value])).toEqual([
      ['reconnects', 1],
      ['gaps', 1],
    ]);
    health.stop();
  });

  it('a source that throws on every read is a warning, and a limit on its failed reads holds', async () => {
    for (const [limit, status] of [
      [0, 'warning'],
      [61, 'ok'],
    ] as const) {
      const { clock, sources, health } = setup({ thresholds: { maxReadErrorsPerMinute: limit } });
      sources.addBooks(failing, 'spot');
      await clock.advance(120_000);
      // The samples at 61 to 120 s and this report's own read.
      const r = health.report();
      health.stop();
      expect(r.status).toBe(status);
      if (status === 'ok') continue;
      expect(r.anomalies).toEqual([
        {
          check: 'read-errors',
          severity: 'warning',
          source: 'books spot',
          value: 61,
          threshold: 0,
          message: 'books spot: 61 reads that threw in the last 60 s (limit 0/min)',
        },
      ]);
    }
  });

  it('a source that fails keeps only its own state: not that of a source whose name it begins', async () => {
    const clock = new ManualClock(T0);
    const sources = new MetricSources();
    let fail = false;
    sources.addPool({ stats: () => (fail ? failing() : poolStats()) }, 'a');
    const ab = source(poolStats({ perConnection: [connection({ id: 1, state: 'backoff' })] }));
    sources.addPool(ab, 'a b');
    const health = new HealthMonitor(sources, { clock });
    health.start();
    fail = true;
    await clock.advance(5000);
    ab.current = poolStats(); // back up while pool a cannot be read
    await clock.advance(40_000);
    expect(health.report().anomalies.map((a) => [a.check, a.source])).toEqual([
      ['read-errors', 'pool a'],
    ]);
    health.stop();
  });

  it('without start(), reports are the samples and the window still moves', async () => {
    const clock = new ManualClock(T0);
    const sources = new MetricSources();
    const pool = source(poolStats());
    sources.addPool(pool, 'usdm');
    const health = new HealthMonitor(sources, { clock, windowMs: 10_000 });
    expect(health.report().status).toBe('ok');
    pool.current = poolStats({ queue: { depth: 0, maxDepth: 9, dropped: 1, conflated: 0 } });
    await clock.advance(1000);
    expect(health.report().status).toBe('critical');
    for (let i = 0; i < 12; i++) {
      await clock.advance(1000);
      health.report();
    }
    expect(health.report().status).toBe('ok');
    expect(clock.pending).toBe(0);
  });

  it('keeps a bounded window of samples however long it runs', async () => {
    const { clock, pool, health } = setup({ windowMs: 10_000 });
    for (let i = 1; i <= 100; i++) {
      pool.current = poolStats({ messages: i });
      await clock.advance(1000);
    }
    // the window reaches back 10 s, not to the start
    expect(health.report().spanMs).toBe(10_000);
    pool.current = poolStats({ messages: 100, reconnects: 1 });
    expect(health.report().anomalies).toMatchObject([{ check: 'reconnects', value: 1 }]);
  });

  it('refuses a threshold or a span that makes no sense', () => {
    const DAY = 86_400_000;
    const sources = new MetricSources();
    for (const options of [
      { windowMs: 0 },
      { sampleEveryMs: -1 },
      { thresholds: { maxQueueDepth: Number.NaN } },
      { thresholds: { lagWindowMs: 0 } },
      { sampleEveryMs: 2000 }, // longer than the 1 s lag window
      { windowMs: 500 }, // shorter than the lag window
      // Reads or keeps without end: every source read 2,000 times a second, or years kept.
      { sampleEveryMs: 0.5, thresholds: { lagWindowMs: 1 }, windowMs: 1000 },
      { windowMs: 1e300 },
      { windowMs: 2 ** 31 },
      // Found in review: over a host timer's range a clock that does not clamp reads every 1 ms.
      { sampleEveryMs: 35 * DAY, windowMs: 35 * DAY, thresholds: { lagWindowMs: 35 * DAY } },
    ]) {
      expect(() => new HealthMonitor(sources, options)).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidOption }),
      );
    }
    expect(
      new HealthMonitor(sources, { thresholds: { maxDownMs: 5000 } }).thresholds,
    ).toMatchObject({
      maxDownMs: 5000,
      maxQueueDepth: 100,
    });
    // undefined keeps the default, as a left-out threshold does
    expect(
      new HealthMonitor(sources, { thresholds: { maxDownMs: undefined } }).thresholds.maxDownMs,
    ).toBe(30_000);
  });

  it('refuses sources, a clock or thresholds of the wrong kind, and a threshold it does not know', () => {
    const invalid = (message: string) =>
      expect.objectContaining({
        code: ErrorCode.InvalidOption,
        message: expect.stringContaining(message) as unknown,
      });
    const sources = new MetricSources();
    // Made without complaint before; the first report() or sample was a TypeError.
    expect(() => new HealthMonitor({} as MetricSources)).toThrow(
      invalid('a HealthMonitor reads a MetricSources, not'),
    );
    const clock = new ManualClock(T0);
    for (const method of ['now', 'monotonic', 'setTimeout', 'clearTimeout'] as const) {
      const broken = Object.assign(Object.create(clock) as ManualClock, { [method]: undefined });
      expect(() => new HealthMonitor(sources, { clock: broken })).toThrow(
        invalid(`\`clock\` must be a Clock (it has no ${method}())`),
      );
    }
    // Kept every default without a word before: a misspelt limit is no limit.
    expect(
      () => new HealthMonitor(sources, { thresholds: { maxDropPerMinute: 5 } as never }),
    ).toThrow(invalid('no threshold is named "maxDropPerMinute"'));
    for (const thresholds of [5, 'strict', [100]]) {
      expect(() => new HealthMonitor(sources, { thresholds: thresholds as never })).toThrow(
        invalid('`thresholds` must be an object, not'),
      );
    }
    // The message itself threw a TypeError before (a Symbol in a template string).
    expect(
      () => new HealthMonitor(sources, { thresholds: { maxQueueDepth: Symbol('x') as never } }),
    ).toThrow(invalid('maxQueueDepth must be a non-negative number, not "Symbol(x)"'));
    expect(() => new HealthMonitor(sources, { windowMs: '60000' as never })).toThrow(
      invalid('windowMs must be a positive number, not "60000"'),
    );
    // What is right still is: a Clock, null thresholds as none, a threshold given as undefined.
    const ok = new HealthMonitor(sources, {
      clock,
      thresholds: { maxDownMs: undefined, maxQueueDepth: 7 },
    });
    expect(ok.thresholds.maxQueueDepth).toBe(7);
    expect(ok.report()).toMatchObject({ status: 'ok', at: T0 });
    expect(new HealthMonitor(sources, { thresholds: null as never }).thresholds).toEqual(
      DEFAULT_HEALTH_THRESHOLDS,
    );
    // null options from plain JavaScript are none, as undefined is (a TypeError before).
    expect(new HealthMonitor(sources, null).thresholds).toEqual(DEFAULT_HEALTH_THRESHOLDS);
    expect(new PrometheusExporter(sources, null).registry).toBeDefined();
  });

  it("the defaults are frozen: no caller changes every later monitor's limits", () => {
    expect(Object.isFrozen(DEFAULT_HEALTH_THRESHOLDS)).toBe(true);
    expect(() => {
      (DEFAULT_HEALTH_THRESHOLDS as { maxDownMs: number }).maxDownMs = 1;
    }).toThrow(TypeError);
    expect(new HealthMonitor(new MetricSources()).thresholds.maxDownMs).toBe(30_000);
  });

  // Pins that each limit is "more than": a queue of exactly maxQueueDepth, lag at the limit and
  // exactly maxDownMs down are ok. Found by mutation: `>=` raised warnings and a critical at
  // the limit itself, alerts for a pool within its stated bounds.
  it('the limits are "more than": a queue of exactly 100, lag of at most 100 ms, 30 s down are ok', async () => {
    const { clock, pool, health } = setup();
    await clock.advance(5000);
    pool.current = poolStats({
      lag: latency(1, ...Array.from({ length: 11 }, () => 80)),
      perConnection: [connection({ id: 4, queueDepth: 100 })],
    });
    await clock.advance(1000);
    expect(health.report()).toMatchObject({ status: 'ok', anomalies: [] });
    pool.current = poolStats({ perConnection: [connection({ id: 4, state: 'backoff' })] });
    await clock.advance(1000);
    await clock.advance(30_000);
    expect(health.report()).toMatchObject({ status: 'ok', anomalies: [] });
    await clock.advance(1000);
    expect(health.report().status).toBe('critical');
  });

  // Pins that the first seconds' reconnects are not scaled up to a per-minute rate. Found by
  // mutation: two reconnects in the first second read as 120 a minute, a warning at start-up.
  it('a partial window just after the start is not extrapolated to a minute', async () => {
    const { clock, pool, health } = setup({ thresholds: { maxReconnectsPerMinute: 2 } });
    await clock.advance(1000);
    pool.current = poolStats({ reconnects: 2 });
    await clock.advance(1000);
    expect(health.report()).toMatchObject({ status: 'ok', anomalies: [] });
  });
});
