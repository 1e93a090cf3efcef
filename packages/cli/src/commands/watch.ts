import { createLogger, realClock, StreamPool, type PoolStatus } from '@unifeed/core';
import { ExitCode } from '../exit-codes.js';
import { untilInterrupted, type Io } from '../io.js';
import { CommandMetrics, type MetricsOptions } from '../metrics-endpoint.js';
import { typedStreams } from '../typed-streams.js';
import { venueFor, type VenueName } from '../venue-option.js';

export interface WatchOptions extends MetricsOptions {
  venue: VenueName;
  url?: string | undefined;
  restUrl?: string | undefined;
  /** Stop after this many events. */
  limit?: number | undefined;
  /** Stop after this many seconds. */
  duration?: number | undefined;
  /** Keep each event's `raw` payload. */
  raw: boolean;
  logLevel: string;
}

/** Typed events of `streams` as JSON lines on stdout; connection news and logs on stderr. */
export async function watchCommand(
  streams: readonly string[],
  o: WatchOptions,
  io: Io,
): Promise<ExitCode> {
  const logger = createLogger({ level: o.logLevel }, { write: (line: string) => io.err(line) });
  const venue = venueFor(o.venue, o.url, o.restUrl);
  // Refuse what cannot be watched before a pool (and its timers) exists.
  for (const s of typedStreams.streams({ streams }, venue)) venue.group(s);
  const metrics = new CommandMetrics();
  await metrics.start(o, io);
  const pool = new StreamPool({ venue, logger });
  const stop = new AbortController();
  let count = 0;
  let failed = false;
  const status = pool.status$.subscribe((s) => io.err(describe(s)));
  const events = pool.observe(typedStreams, { streams }).subscribe({
    next: (e) => {
      for (const event of Array.isArray(e) ? e : [e]) {
        // Events of one socket read arrive together, before the abort takes effect.
        if (o.limit !== undefined && count >= o.limit) return;
        io.out(`${JSON.stringify(o.raw ? event : withoutRaw(event))}\n`);
        if (o.limit !== undefined && ++count >= o.limit) stop.abort();
      }
    },
    error: (err: Error) => {
      io.err(`error: ${err.message}\n`);
      failed = true;
      stop.abort();
    },
  });
  metrics.sources.addPool(pool, o.venue);
  const timer =
    o.duration === undefined
      ? undefined
      : realClock.setTimeout(() => stop.abort(), o.duration * 1000);
  await untilInterrupted(io, stop.signal);
  realClock.clearTimeout(timer);
  events.unsubscribe();
  status.unsubscribe();
  await metrics.stop();
  await pool.close();
  return failed ? ExitCode.Failure : ExitCode.Ok;
}

function withoutRaw(event: unknown): unknown {
  if (typeof event !== 'object' || event === null || !('raw' in event)) return event;
  const { raw: _raw, ...rest } = event as { raw: unknown };
  return rest;
}

/** One stderr line per pool status a person watching cares about; empty for the rest. */
export function describe(s: PoolStatus): string {
  switch (s.type) {
    case 'connection': {
      const f = s.status;
      if (f.type === 'open') return `[connection ${s.connection} ${s.group}] open\n`;
      if (f.type === 'close') return `[connection ${s.connection}] closed ${f.code}\n`;
      if (f.type === 'backoff') {
        return `[connection ${s.connection}] reconnecting in ${f.delayMs} ms (attempt ${f.attempt})\n`;
      }
      if (f.type === 'error') return `[connection ${s.connection}] ${f.error.message}\n`;
      return '';
    }
    case 'gap':
      return `[gap] ${s.stream} (${s.reason})\n`;
    case 'stream-error':
    case 'parse-error':
      return `[${s.type}] ${s.stream}: ${s.error.message}\n`;
    case 'stream-stale':
      return `[stale] ${s.stream} silent ${s.silentMs} ms, resubscribed\n`;
    case 'rotation':
      return `[rotation] connection ${s.from} -> ${s.to} (${s.reason})\n`;
  }
}
