import { createLogger, realClock, StreamPool, venueRestClient } from '@unifeed/core';
import { bookStats, orderBook, type BookView } from '@unifeed/feed-depth';
import { stopwatch } from '../elapsed.js';
import { ExitCode } from '../exit-codes.js';
import { untilInterrupted, type Io } from '../io.js';
import { CommandMetrics, type MetricsOptions } from '../metrics-endpoint.js';
import { venueFor, type VenueName } from '../venue-option.js';

export interface BookOptions extends MetricsOptions {
  venue: VenueName;
  url?: string | undefined;
  restUrl?: string | undefined;
  /** Levels a side shown. */
  depth: number;
  duration?: number | undefined;
  /** JSON lines of views on stdout instead of a redrawn view. */
  json: boolean;
  logLevel: string;
}

const REDRAW_MS = 250;

/** A live top-of-book view of one symbol with its sync state. */
export async function bookCommand(symbol: string, o: BookOptions, io: Io): Promise<ExitCode> {
  const logger = createLogger({ level: o.logLevel }, { write: (line: string) => io.err(line) });
  const venue = venueFor(o.venue, o.url, o.restUrl);
  const metrics = new CommandMetrics();
  await metrics.start(o, io);
  const pool = new StreamPool({ venue, logger });
  const stop = new AbortController();
  let failed = false;
  let last: BookView | undefined;
  // Redraws are throttled on the monotonic clock: a wall-clock step back must not freeze them.
  const elapsed = stopwatch();
  let drawnAt = -Infinity;
  let book;
  try {
    book = orderBook(pool, { symbol, depth: o.depth });
  } catch (err) {
    await metrics.stop();
    await pool.close();
    throw err;
  }
  const sub = book.subscribe({
    next: (v) => {
      const changed = v.state !== last?.state;
      last = v;
      if (o.json) {
        const { book: _book, ...plain } = v;
        io.out(`${JSON.stringify(plain)}\n`);
        return;
      }
      const now = elapsed();
      // A person reads a few frames a second; a redraw per update would only burn the terminal.
      if (!changed && now - drawnAt < (io.tty ? REDRAW_MS : 1000)) return;
      drawnAt = now;
      const stats = bookStats(pool)[0];
      io.err(io.tty ? `\x1b[H\x1b[2J${renderBook(v, stats?.resyncs ?? 0)}` : summaryLine(v));
    },
    error: (err: Error) => {
      io.err(`error: ${err.message}\n`);
      failed = true;
      stop.abort();
    },
  });
  metrics.sources.addPool(pool, o.venue);
  metrics.sources.addBooks(() => bookStats(pool), o.venue);
  metrics.sources.addRestClient(venueRestClient(venue), o.venue);
  const timer =
    o.duration === undefined
      ? undefined
      : realClock.setTimeout(() => stop.abort(), o.duration * 1000);
  await untilInterrupted(io, stop.signal);
  realClock.clearTimeout(timer);
  sub.unsubscribe();
  await metrics.stop();
  await pool.close();
  if (!o.json && last !== undefined) io.err(summaryLine(last));
  return failed ? ExitCode.Failure : ExitCode.Ok;
}

/** One line: state, update id, best bid and ask. */
export function summaryLine(v: BookView): string {
  const bid = v.bids[0];
  const ask = v.asks[0];
  const side = (l: readonly [string, string] | undefined) => (l ? `${l[0]} x ${l[1]}` : '-');
  return `${v.symbol} ${v.state}${v.reason ? ` (${v.reason})` : ''} at ${v.lastUpdateId}: bid ${side(bid)}  ask ${side(ask)}\n`;
}

/** The redrawn view: asks above bids, best in the middle. */
export function renderBook(v: BookView, resyncs: number): string {
  const rows: string[] = [
    `${v.venue} ${v.symbol}  state ${v.state}${v.reason ? ` (${v.reason})` : ''}  update ${v.lastUpdateId}  resyncs ${resyncs}`,
    '',
    `${'price'.padStart(16)} ${'quantity'.padStart(16)}`,
  ];
  for (const [p, q] of [...v.asks].reverse()) rows.push(`ask ${p.padStart(12)} ${q.padStart(16)}`);
  rows.push('-'.repeat(33));
  for (const [p, q] of v.bids) rows.push(`bid ${p.padStart(12)} ${q.padStart(16)}`);
  rows.push('', 'Ctrl-C to stop');
  return `${rows.join('\n')}\n`;
}
