import {
  binanceSpot,
  binanceUsdm,
  RestClient,
  silentLogger,
  type UnifeedError,
} from '@unifeed/core';
import { ManualClock } from '@unifeed/core/testing';
import { BookSync, type BookChange } from '../src/book-sync.js';
import { depthDialect } from '../src/dialect.js';
import type { DepthDiffEvent, Level } from '../src/events.js';

export const MINUTE = 60_000;

/** A REST call the test answers. */
export interface SnapshotCall {
  url: URL;
  answer(status: number, body: unknown, headers?: Record<string, string>): void;
}

/** A fetch that queues calls for the test to answer. */
export function scriptedFetch() {
  const calls: SnapshotCall[] = [];
  const fetch = (url: string | URL | Request, init?: RequestInit): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      init?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
      calls.push({
        url: new URL(String(url)),
        answer: (status, body, headers = {}) =>
          resolve(new Response(JSON.stringify(body), { status, headers })),
      });
    });
  return { calls, fetch: fetch as typeof globalThis.fetch };
}

export function snapshot(lastUpdateId: number, bids: Level[], asks: Level[]) {
  return { lastUpdateId, bids, asks };
}

/** A diff event; `pu` only for futures. */
export function diff(
  U: number,
  u: number,
  bids: Level[] = [],
  asks: Level[] = [],
  pu?: number,
): DepthDiffEvent {
  return {
    type: 'depthDiff',
    venue: 'test',
    stream: 'btcusdt@depth@100ms',
    symbol: 'BTCUSDT',
    eventTime: u,
    firstUpdateId: U,
    lastUpdateId: u,
    previousUpdateId: pu,
    bids,
    asks,
  };
}

/** One BookSync on a ManualClock with a scripted REST side. */
export function harness(
  venue: 'spot' | 'usdm',
  options: {
    maxBuffer?: number;
    quietSnapshotMs?: number;
    snapshotLimit?: number;
    /** Also told every change, with the sync (to act on it from inside, as a listener may). */
    onChange?: (c: BookChange, sync: BookSync) => void;
  } = {},
) {
  const clock = new ManualClock(10 * MINUTE + 30_000);
  const { calls, fetch } = scriptedFetch();
  const rest = new RestClient({
    baseUrl: 'https://rest.test',
    clock,
    fetch,
    maxWeightPerMinute: 100_000,
  });
  const changes: BookChange[] = [];
  const fatal: UnifeedError[] = [];
  const v = venue === 'spot' ? binanceSpot() : binanceUsdm();
  const sync = new BookSync({
    book: 'btcusdt@depth@100ms',
    symbol: 'BTCUSDT',
    dialect: depthDialect(v),
    rest,
    snapshotLimit: options.snapshotLimit ?? 1000,
    maxBuffer: options.maxBuffer ?? 100,
    quietSnapshotMs: options.quietSnapshotMs ?? 5000,
    clock,
    random: () => 0,
    logger: silentLogger,
    onChange: (c) => {
      changes.push(c);
      options.onChange?.(c, sync);
    },
    onFatal: (e) => fatal.push(e),
  });
  return { clock, calls, rest, changes, fatal, sync };
}

/** Both sides of a readonly book, best first. */
export function levels(book: {
  bids: { top(n: number): Level[]; size: number };
  asks: { top(n: number): Level[]; size: number };
}) {
  return { bids: book.bids.top(book.bids.size), asks: book.asks.top(book.asks.size) };
}
