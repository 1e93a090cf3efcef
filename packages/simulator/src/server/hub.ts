import type { Clock, TimerHandle } from '@unifeed/core';
import type { Market } from '../market/market.js';
import { seedFor } from '../market/prng.js';
import type { SymbolMarket } from '../market/symbol-market.js';
import type { Encoder } from '../payloads.js';
import { toSimple, type UpbitEncoder } from '../upbit-payloads.js';
import { ALL_SYMBOLS, type StreamSpec } from '../streams.js';
import type { Connection } from './connection.js';

/** One diff-depth event as it was (or, under a gap fault, was not) sent. */
export interface DiffLogEntry {
  stream: string;
  U: number;
  u: number;
  /** Previous event's `u` on this stream (futures `pu`). */
  pu: number;
  /** Withheld by a gap fault. */
  skipped: boolean;
  time: number;
}

/** Counters of one stream. */
export interface StreamCounters {
  messages: number;
  bytes: number;
  subscribers: number;
}

/**
 * Streams no longer subscribed whose counters are kept by name. Clients pick the names (every
 * listed symbol with every kind, interval and speed: tens of thousands), so beyond this many
 * the longest retired are summed under {@link OTHER_STREAMS}: totals stay exact while the
 * table, and the copy of it each `stats()` makes, stay small.
 */
export const MAX_RETIRED_STREAMS = 1000;
/** The `stats().streams` key under which the counters of streams retired longest are summed. */
export const OTHER_STREAMS = '(other)';
/**
 * How many symbols whose depth nobody watches any more keep their diff log (the latest to lose
 * it). A checker may read a log just after its stream went (a hole found in frames that were on
 * the way when a drop fault cut the connection); nobody reads one many symbols later.
 */
export const MAX_RETIRED_DIFF_LOGS = 16;

class StreamRecord {
  readonly spec: StreamSpec;
  readonly subscribers = new Set<Connection>();
  /** `u` of the last diff/partial event produced on this stream. */
  prevU = 0;
  /** All-market streams: last trade id pushed per symbol. */
  readonly seen = new Map<string, number>();
  /** Diff events to withhold (gap fault). */
  skip = 0;
  /** Cadence time by which this stream's pushes trail the cadence grid (spread pushes). */
  offset = 0;
  messages = 0;
  bytes = 0;

  constructor(spec: StreamSpec) {
    this.spec = spec;
  }
}

export interface HubOptions {
  clock: Clock;
  market: Market;
  encoder: Encoder;
  /** Simulated ms per step. */
  tickMs: number;
  /** Steps run `speed` times faster than simulated cadence. */
  speed: number;
  /** Diff events kept per symbol for `truth`. */
  diffLogSize: number;
  /** Spread each cadence's pushes over its period instead of sending them in one step. */
  spreadPushes: boolean;
  /** Upbit's payloads, when the simulator speaks Upbit. @default Binance's (`encoder`) */
  upbit?: UpbitEncoder;
  /** Stamps every pushed payload with `"St"`: this clock's reading at encoding. @default none */
  sendTime?: (() => number) | undefined;
}

/**
 * Clock ms between push slots when pushes are spread: fine enough that 3,186 streams on a
 * 62.5 ms cadence go out some 50 at a time, coarse enough to cost 1,000 wakeups a second.
 */
const SPREAD_SLOT_MS = 1;

/**
 * `payloads` with `"St": at` added to each object (an all-market array has no place for it and
 * goes as it is). Read once the record's payloads are encoded; its connection's frames are
 * written when the rest of its batch is encoded too, so the stamp errs early: latency measured
 * from it errs high.
 */
function stamped(payloads: string[], at: number): string[] {
  if (!Number.isFinite(at)) return payloads;
  return payloads.map((p) => (p.endsWith('}') ? `${p.slice(0, -1)},"St":${at}}` : p));
}

/** A record's push is due this tick. */
const DUE = 1;
/** A record's candle closed in this tick's step: its final update goes out now. */
const CLOSING = 2;

/** Index of the first record whose offset is above `offset` in a list sorted by offset. */
function firstAbove(list: readonly StreamRecord[], offset: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.offset <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A stable offset in [0, cadence) from a stream name, so a stream keeps its phase. */
function phaseOf(name: string, cadence: number): number {
  return (seedFor(0, name) / 0x1_0000_0000) * cadence;
}

/**
 * Every subscribed stream, and the one scheduler that drives them. A stream is generated
 * only while some connection that can receive it holds it; a payload is encoded once per
 * push and the same string goes to every subscriber (wrapped for a combined connection,
 * converted for a SIMPLE one, as each is written). One timer, not one per stream.
 */
export class StreamHub {
  readonly #o: HubOptions;
  readonly #records = new Map<string, StreamRecord>();
  /** Delivering records per symbol: only these symbols' markets advance. */
  readonly #active = new Map<string, number>();
  readonly #diffLog = new Map<string, DiffLogEntry[]>();
  /** Symbols of `#diffLog` without a depth stream now, the longest retired first. */
  readonly #retiredLogs = new Set<string>();
  /** Counters of streams not subscribed now, the longest retired first. */
  readonly #retired = new Map<string, { messages: number; bytes: number }>();
  /** Counters of retired streams beyond {@link MAX_RETIRED_STREAMS}, summed. */
  readonly #other = { messages: 0, bytes: 0 };
  /**
   * Records by push period in ms (0: every step, for real-time streams), each list sorted by
   * offset so that a tick visits only the due ones. Without spread pushes every offset is 0.
   */
  readonly #groups = new Map<number, StreamRecord[]>();
  /** Kline records by symbol, to push candles that just closed. */
  readonly #klines = new Map<string, Set<StreamRecord>>();
  #timer: TimerHandle | undefined;
  /**
   * Monotonic clock time of the first step: the grid every tick sits on. The schedule is a
   * matter of durations, so it runs on `monotonic()`: a wall-clock step would otherwise push
   * every stream at once (forward) or shift the grid. Payload times (`E`, candles) stay wall.
   */
  #origin: number | undefined;
  /** Cadence time (monotonic time since origin x speed) at the previous tick. */
  #lastElapsed = 0;
  /** Market steps run since origin: a tick on the push-slot grid steps only when one is due. */
  #steps = 0;
  #closed = false;

  constructor(options: HubOptions) {
    this.#o = options;
  }

  /** Start delivering `spec` to `conn`. */
  attach(conn: Connection, spec: StreamSpec): void {
    let rec = this.#records.get(spec.name);
    if (rec === undefined) {
      rec = new StreamRecord(spec);
      if (this.#o.spreadPushes) rec.offset = phaseOf(spec.name, spec.cadenceMs);
      // Subscribed again: its counters go on from where they were, in the record.
      const old = this.#retired.get(spec.name);
      if (old !== undefined) {
        this.#retired.delete(spec.name);
        rec.messages = old.messages;
        rec.bytes = old.bytes;
      }
      this.#records.set(spec.name, rec);
      this.#index(rec, true);
    }
    if (rec.subscribers.has(conn)) return;
    rec.subscribers.add(conn);
    if (rec.subscribers.size === 1) this.#activate(rec);
  }

  detach(conn: Connection, name: string): void {
    const rec = this.#records.get(name);
    if (rec === undefined || !rec.subscribers.delete(conn)) return;
    if (rec.subscribers.size === 0) {
      this.#records.delete(name);
      this.#index(rec, false);
      this.#retire(rec);
      const left = (this.#active.get(rec.spec.symbol) ?? 1) - 1;
      if (left <= 0) this.#active.delete(rec.spec.symbol);
      else this.#active.set(rec.spec.symbol, left);
    }
  }

  /** Keep the per-cadence and per-symbol kline indexes in step with `#records`. */
  #index(rec: StreamRecord, add: boolean): void {
    const cadence =
      rec.spec.kind === 'trade' || rec.spec.kind === 'aggTrade' ? 0 : rec.spec.cadenceMs;
    let group = this.#groups.get(cadence);
    if (group === undefined) this.#groups.set(cadence, (group = []));
    if (add) group.splice(firstAbove(group, rec.offset), 0, rec);
    else group.splice(group.indexOf(rec) >>> 0, 1);
    if (group.length === 0) this.#groups.delete(cadence);
    if (rec.spec.kind === 'depth' || rec.spec.kind === 'partialDepth') {
      const symbol = rec.spec.symbol;
      const m = this.#o.market.get(symbol);
      if (m !== undefined && add) {
        m.retainHistory();
        this.#retiredLogs.delete(symbol);
      } else if (m !== undefined && m.releaseHistory()) {
        this.#retireLog(symbol);
      }
    }
    if (rec.spec.kind !== 'kline') return;
    let klines = this.#klines.get(rec.spec.symbol);
    if (klines === undefined) this.#klines.set(rec.spec.symbol, (klines = new Set()));
    if (add) klines.add(rec);
    else if (klines.delete(rec) && klines.size === 0) this.#klines.delete(rec.spec.symbol);
  }

  /** Connections currently receiving `name` (for duplicate detection and stats). */
  receivers(name: string): ReadonlySet<Connection> | undefined {
    return this.#records.get(name)?.subscribers;
  }

  #activate(rec: StreamRecord): void {
    const symbol = rec.spec.symbol;
    this.#active.set(symbol, (this.#active.get(symbol) ?? 0) + 1);
    const m = this.#o.market.get(symbol);
    if (m !== undefined) {
      rec.prevU = m.book.lastUpdateId;
      if (rec.spec.interval !== undefined) m.candle(rec.spec.interval, this.#o.clock.now());
    }
    this.#arm();
  }

  /**
   * Upbit: the state of `spec` now, to `conn` alone, marked `SNAPSHOT`, as Upbit sends it when
   * a stream is subscribed. Trades have no state to send.
   */
  snapshot(conn: Connection, spec: StreamSpec): void {
    const upbit = this.#o.upbit;
    const m = this.#o.market.get(spec.symbol);
    if (upbit === undefined || m === undefined) return;
    const now = this.#o.clock.now();
    let payload: string;
    if (spec.kind === 'ticker') payload = upbit.ticker(m, now, 'SNAPSHOT');
    else if (spec.kind === 'orderbook') payload = upbit.orderbook(m, now, 'SNAPSHOT');
    else if (spec.kind === 'kline') {
      payload = upbit.candle(m, m.candle(spec.interval ?? '1m', now), now, 'SNAPSHOT');
    } else return;
    conn.send(conn.format === 'SIMPLE' ? toSimple(payload) : payload);
  }

  /** Withhold the next `events` diff events of every depth stream of `symbol`. */
  skipDiffs(symbol: string, events: number): void {
    for (const rec of this.#records.values()) {
      if (rec.spec.symbol === symbol && rec.spec.kind === 'depth') rec.skip += events;
    }
  }

  diffLog(symbol: string): readonly DiffLogEntry[] {
    return this.#diffLog.get(symbol) ?? [];
  }

  /**
   * Messages and bytes per stream since start: every subscribed stream, the
   * {@link MAX_RETIRED_STREAMS} retired last, and the rest summed under {@link OTHER_STREAMS}.
   */
  counters(): Record<string, StreamCounters> {
    const out: Record<string, StreamCounters> = {};
    if (this.#other.messages > 0 || this.#other.bytes > 0) {
      out[OTHER_STREAMS] = { ...this.#other, subscribers: 0 };
    }
    for (const [name, c] of this.#retired) out[name] = { ...c, subscribers: 0 };
    for (const [name, rec] of this.#records) {
      out[name] = { messages: rec.messages, bytes: rec.bytes, subscribers: rec.subscribers.size };
    }
    return out;
  }

  /** Keep the counters of a stream that lost its last subscriber. */
  #retire(rec: StreamRecord): void {
    this.#retired.set(rec.spec.name, { messages: rec.messages, bytes: rec.bytes });
    if (this.#retired.size <= MAX_RETIRED_STREAMS) return;
    const [name, oldest] = this.#retired.entries().next().value!;
    this.#retired.delete(name);
    this.#other.messages += oldest.messages;
    this.#other.bytes += oldest.bytes;
  }

  /**
   * `symbol` lost its last depth stream: its log is kept for a while (trimmed to the size a
   * reader is promised), and dropped once {@link MAX_RETIRED_DIFF_LOGS} symbols retired since.
   */
  #retireLog(symbol: string): void {
    const log = this.#diffLog.get(symbol);
    if (log === undefined) return;
    if (log.length > this.#o.diffLogSize) log.splice(0, log.length - this.#o.diffLogSize);
    this.#retiredLogs.delete(symbol);
    this.#retiredLogs.add(symbol);
    if (this.#retiredLogs.size <= MAX_RETIRED_DIFF_LOGS) return;
    const oldest = this.#retiredLogs.values().next().value!;
    this.#retiredLogs.delete(oldest);
    this.#diffLog.delete(oldest);
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const step = this.#o.tickMs / this.#o.speed;
    const period = this.#o.spreadPushes ? Math.min(step, SPREAD_SLOT_MS) : step;
    const now = this.#o.clock.monotonic();
    const origin = (this.#origin ??= now);
    // The next grid point after now: a late timer (or an idle spell) skips the missed steps
    // instead of bursting through them, and never shifts the grid.
    const due = origin + (Math.floor((now - origin) / period) + 1) * period;
    this.#timer = this.#o.clock.setTimeout(() => this.#tick(), due - now);
  }

  #tick(): void {
    this.#timer = undefined;
    const now = this.#o.clock.now();
    const mono = this.#o.clock.monotonic();
    // Cadences run on monotonic clock time (times speed), not on a count of ticks, so a late
    // or skipped tick never slows a stream's push rate. A stream is due when this tick crosses
    // a multiple of its cadence (shifted by its offset when pushes are spread): exact on
    // average even for 250 ms pushes on 100 ms ticks. `now`, the wall clock, is what the
    // market and the payloads are stamped with (`E`, trade times, candle bounds).
    const elapsed = (mono - (this.#origin ?? mono)) * this.#o.speed;
    const previous = this.#lastElapsed;
    this.#lastElapsed = elapsed;
    const steps = Math.floor(elapsed / this.#o.tickMs + 1e-9);
    const stepped = steps !== this.#steps || !this.#o.spreadPushes;
    this.#steps = steps;
    // Each record that sends this tick, and what: its push, the final update of a candle
    // that closed in this tick's step, or both.
    const pushes = new Map<StreamRecord, number>();
    if (stepped) for (const rec of this.#step(now)) pushes.set(rec, CLOSING);
    for (const [cadence, group] of this.#groups) {
      if (cadence === 0 && !stepped) continue;
      const due = cadence === 0 ? group : this.#due(group, cadence, previous, elapsed);
      for (const rec of due) pushes.set(rec, (pushes.get(rec) ?? 0) | DUE);
    }
    this.#send(pushes);
    if (this.#records.size > 0) this.#arm();
  }

  /**
   * Write a tick's pushes one connection at a time: a connection's frames are encoded and
   * written together in one syscall (corked) before the next connection's are encoded, each
   * payload stamped (`E`, the venue's send time, which latency is measured from) when it is
   * first encoded; a stream several connections share is stamped once, at the first one's
   * turn (and so is `"St"`, with `sendTime`: the same bytes go to all of them). Stamping the
   * whole tick first and writing every connection at its end would bill the simulator's own
   * encoding to every client's latency: at 51,000 msg/s that was 0.7 ms at the median and 1.5
   * at p99.
   */
  #send(pushes: ReadonlyMap<StreamRecord, number>): void {
    const batches = new Map<Connection, StreamRecord[]>();
    // A stream's payload is encoded once per push, whatever happens to its subscribers during
    // the tick: a diff stream moves on as it is encoded, so a second encoding (after one of
    // them was cut as a slow reader, say) would leave the others a hole. Whether it is shared
    // is judged before anything is written; one subscriber's payloads are not kept.
    const shared = new Map<StreamRecord, string[] | undefined>();
    for (const rec of pushes.keys()) {
      if (rec.subscribers.size > 1) shared.set(rec, undefined);
      for (const conn of rec.subscribers) {
        const batch = batches.get(conn);
        if (batch === undefined) batches.set(conn, [rec]);
        else batch.push(rec);
      }
    }
    for (const [conn, batch] of batches) {
      conn.cork();
      for (const rec of batch) {
        // Cut during this tick (a slow reader, a drop fault): nothing more goes to it.
        if (!rec.subscribers.has(conn)) continue;
        let payloads = shared.get(rec);
        if (payloads === undefined) {
          payloads = this.#payloads(rec, pushes.get(rec) ?? 0, this.#o.clock.now());
          if (this.#o.sendTime !== undefined && payloads.length > 0) {
            payloads = stamped(payloads, this.#o.sendTime());
          }
          if (shared.has(rec)) shared.set(rec, payloads);
        }
        for (const payload of payloads) {
          if (!rec.subscribers.has(conn)) break; // cut by the write before
          this.#write(conn, rec, payload);
        }
      }
      conn.uncork();
    }
  }

  /**
   * The records of `cadence` with a push in (previous, elapsed]: those whose offset plus a
   * multiple of the cadence falls in it. Found by offset in the sorted list, not by a pass
   * over every stream each millisecond.
   */
  #due(
    list: readonly StreamRecord[],
    cadence: number,
    previous: number,
    elapsed: number,
  ): readonly StreamRecord[] {
    if (elapsed - previous >= cadence) return list;
    const from = previous - Math.floor(previous / cadence) * cadence;
    const to = elapsed - Math.floor(elapsed / cadence) * cadence;
    const between = (lo: number, hi: number): StreamRecord[] =>
      list.slice(firstAbove(list, lo), firstAbove(list, hi));
    // The window wraps past a multiple of the cadence: its end, then its start.
    return from <= to ? between(from, to) : [...between(from, cadence), ...between(-1, to)];
  }

  /**
   * Advance every delivering market one step; the kline records whose candle just closed: a
   * candle's final update goes out the moment its interval ends, whatever the cadence.
   */
  #step(now: number): StreamRecord[] {
    const market = this.#o.market;
    const symbols = this.#active.has(ALL_SYMBOLS) ? market.specs.keys() : this.#active.keys();
    const closing: StreamRecord[] = [];
    for (const symbol of symbols) {
      const m = market.get(symbol);
      if (m === undefined) continue;
      m.step(now);
      if (m.closed.length === 0) continue;
      for (const rec of this.#klines.get(symbol) ?? []) {
        if (m.closed.some((c) => c.interval === rec.spec.interval)) closing.push(rec);
      }
    }
    return closing;
  }

  /**
   * What `rec` sends this tick (`what`: {@link DUE}, {@link CLOSING} or both), stamped `now`:
   * the final update of a candle that closed in this tick's step, then its push. Called once
   * per record and tick: diff streams move on as they are encoded.
   */
  #payloads(rec: StreamRecord, what: number, now: number): string[] {
    const out: string[] = [];
    const m = this.#o.market.get(rec.spec.symbol);
    if (m !== undefined && (what & CLOSING) !== 0) {
      const upbit = this.#o.upbit;
      for (const c of m.closed) {
        if (c.interval !== rec.spec.interval) continue;
        out.push(upbit ? upbit.candle(m, c, now) : this.#o.encoder.kline(m, c, true, now));
      }
    }
    if ((what & DUE) === 0) return out;
    if (m !== undefined) this.#emit(rec, m, now, out);
    else if (rec.spec.symbol === ALL_SYMBOLS) this.#emitAll(rec, now, out);
    return out;
  }

  /** The push of `rec` (due, or real-time) into `out`. */
  #emit(rec: StreamRecord, m: SymbolMarket, now: number, out: string[]): void {
    const upbit = this.#o.upbit;
    if (upbit !== undefined) {
      this.#emitUpbit(upbit, rec, m, now, out);
      return;
    }
    const enc = this.#o.encoder;
    const spec = rec.spec;
    switch (spec.kind) {
      case 'trade':
      case 'aggTrade':
        for (const t of m.trades) {
          out.push(spec.kind === 'trade' ? enc.trade(m, t, now) : enc.aggTrade(m, t, now));
        }
        return;
      case 'kline':
        out.push(enc.kline(m, m.candle(spec.interval ?? '1m', now), false, now));
        return;
      case 'bookTicker':
        if (m.topChanged) out.push(enc.bookTicker(m, now));
        return;
      case 'miniTicker':
        out.push(enc.miniTicker(m, now));
        return;
      case 'ticker':
        out.push(enc.ticker(m, now));
        return;
      case 'markPrice':
        out.push(enc.markPrice(m, now));
        return;
      case 'partialDepth':
        out.push(enc.partialDepth(m, spec.levels ?? 5, rec.prevU, now));
        rec.prevU = m.book.lastUpdateId;
        return;
      case 'depth':
        this.#emitDiff(rec, m, now, out);
        return;
      case 'miniTickerArr':
      case 'markPriceArr':
      case 'bookTickerAll':
        // Not tied to one symbol: #emitAll pushes them.
        return;
    }
  }

  /** Upbit pushes ticker, trade and order book when they change, candles at their cadence. */
  #emitUpbit(
    upbit: UpbitEncoder,
    rec: StreamRecord,
    m: SymbolMarket,
    now: number,
    out: string[],
  ): void {
    switch (rec.spec.kind) {
      case 'trade':
        for (const t of m.trades) out.push(upbit.trade(m, t, now));
        return;
      case 'ticker':
        if (m.trades.length > 0) out.push(upbit.ticker(m, now));
        return;
      case 'orderbook':
        if (m.lastBatch !== undefined) out.push(upbit.orderbook(m, now));
        return;
      case 'kline':
        out.push(upbit.candle(m, m.candle(rec.spec.interval ?? '1m', now), now));
        return;
      default:
        return;
    }
  }

  #emitAll(rec: StreamRecord, now: number, out: string[]): void {
    const enc = this.#o.encoder;
    const market = this.#o.market;
    const parts: string[] = [];
    for (const symbol of market.specs.keys()) {
      const m = market.get(symbol);
      if (m === undefined) continue;
      if (rec.spec.kind === 'bookTickerAll') {
        // One message per symbol, not an array: as Binance sends it.
        if (m.topChanged) out.push(enc.bookTicker(m, now));
      } else if (rec.spec.kind === 'markPriceArr') {
        parts.push(enc.markPrice(m, now));
      } else if (rec.seen.get(symbol) !== m.day.lastId) {
        rec.seen.set(symbol, m.day.lastId);
        parts.push(enc.miniTicker(m, now));
      }
    }
    if (parts.length > 0) out.push(`[${parts.join(',')}]`);
  }

  #emitDiff(rec: StreamRecord, m: SymbolMarket, now: number, out: string[]): void {
    const batches = m.batchesSince(rec.prevU);
    if (batches.length === 0) return;
    const payload = this.#o.encoder.diffDepth(m, batches, rec.prevU, now);
    const entry: DiffLogEntry = {
      stream: rec.spec.name,
      U: batches[0]?.U ?? 0,
      u: batches.at(-1)?.u ?? 0,
      pu: rec.prevU,
      skipped: rec.skip > 0,
      time: now,
    };
    rec.prevU = entry.u;
    let log = this.#diffLog.get(rec.spec.symbol);
    if (log === undefined) this.#diffLog.set(rec.spec.symbol, (log = []));
    log.push(entry);
    if (log.length > this.#o.diffLogSize * 2) log.splice(0, log.length - this.#o.diffLogSize);
    if (rec.skip > 0) {
      rec.skip--;
      return;
    }
    out.push(payload);
  }

  #write(conn: Connection, rec: StreamRecord, payload: string): void {
    let text = payload;
    if (conn.combined) text = `{"stream":"${rec.spec.name}","data":${payload}}`;
    else if (conn.format === 'SIMPLE') text = toSimple(payload);
    conn.send(text);
    rec.messages++;
    rec.bytes += text.length;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
