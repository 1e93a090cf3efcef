import { ManualClock } from '@unifeed/core/testing';
import { describe, expect, it } from 'vitest';
import { Market } from '../src/market/market.js';
import { defaultSymbols } from '../src/market/symbols.js';
import { Encoder } from '../src/payloads.js';
import type { Connection } from '../src/server/connection.js';
import {
  MAX_RETIRED_DIFF_LOGS,
  MAX_RETIRED_STREAMS,
  OTHER_STREAMS,
  StreamHub,
} from '../src/server/hub.js';
import { parseStream } from '../src/streams.js';
import { USDM } from '../src/venue.js';

/** What the hub did, in order: clock readings and each connection's writes. */
type Event = 'now' | `${'cork' | 'send' | 'uncork'} ${string}`;

function fixture(spreadPushes = false, symbols = 5) {
  const log: Event[] = [];
  const manual = new ManualClock(1_700_000_000_000);
  // Every reading is logged: a payload's `E` is the reading taken just before it is encoded.
  const clock = {
    now: () => (log.push('now'), manual.now()),
    monotonic: () => manual.monotonic(),
    setTimeout: manual.setTimeout.bind(manual),
    clearTimeout: manual.clearTimeout.bind(manual),
  };
  const market = new Market(defaultSymbols(symbols), { seed: 1, levels: 50, historySize: 16 }, () =>
    manual.now(),
  );
  const hub = new StreamHub({
    clock,
    market,
    encoder: new Encoder(USDM),
    tickMs: 250,
    speed: 1,
    diffLogSize: 100,
    spreadPushes,
  });
  const frames = new Map<string, string[]>();
  const connection = (id: string, onSend?: () => void): Connection => {
    frames.set(id, []);
    return {
      combined: true,
      format: 'DEFAULT',
      cork: () => log.push(`cork ${id}`),
      uncork: () => log.push(`uncork ${id}`),
      send: (text: string) => {
        log.push(`send ${id}`);
        frames.get(id)!.push(text);
        onSend?.();
      },
    } as unknown as Connection;
  };
  const attach = (conn: Connection, ...names: string[]) => {
    for (const name of names) hub.attach(conn, parseStream(name, USDM)!);
  };
  const detach = (conn: Connection, ...names: string[]) => {
    for (const name of names) hub.detach(conn, name);
  };
  return { log, manual, market, hub, frames, connection, attach, detach };
}

describe('StreamHub', () => {
  it("writes a tick's pushes one connection at a time, each payload stamped just before its connection's write", async () => {
    const { log, manual, hub, frames, connection, attach } = fixture();
    const a = connection('a');
    const b = connection('b');
    attach(a, 'btcusdt@kline_1m', 'ethusdt@kline_1m');
    attach(b, 'bnbusdt@kline_1m', 'btcusdt@kline_1m');
    await manual.advance(250);
    log.length = 0;
    await manual.advance(250); // one kline push (250 ms cadence), no candle closing

    // Each connection's frames go out corked together, and the next connection's are encoded
    // only after: no connection's frames wait while another's are encoded.
    const writes = log.filter((e) => e !== 'now');
    expect(writes).toEqual([
      'cork a',
      'send a',
      'send a',
      'uncork a',
      'cork b',
      'send b',
      'send b',
      'uncork b',
    ]);
    // Every payload encoded inside its connection's cork, after a clock reading of its own; a
    // stream with two subscribers (btcusdt) is encoded once, for the first connection.
    const corkA = log.indexOf('cork a');
    const corkB = log.indexOf('cork b');
    const readings = (from: number, to: number) =>
      log.slice(from, to).filter((e) => e === 'now').length;
    expect(readings(corkA, log.indexOf('uncork a'))).toBe(2);
    expect(readings(corkB, log.indexOf('uncork b'))).toBe(1);
    const payload = (f: string) => (JSON.parse(f) as { data: unknown }).data;
    const btc = (id: string) =>
      frames
        .get(id)!
        .filter((f) => f.includes('"btcusdt@kline_1m"'))
        .at(-1)!;
    expect(payload(btc('a'))).toEqual(payload(btc('b')));
    hub.close();
  });

  it("sends a candle's final update once, before the next candle, when pushes are spread over 1 ms ticks", async () => {
    // Markets step every 250 ms but the hub ticks every 1 ms: a candle that closed in a step
    // must not go out again from the ticks after it.
    const { manual, hub, frames, connection, attach } = fixture(true);
    const a = connection('a');
    attach(a, 'btcusdt@kline_1m');
    // Two minutes of 250 ms pushes: the 1m candle closes twice.
    for (let i = 0; i < 480; i++) await manual.advance(250);
    const klines = frames
      .get('a')!
      .map((f) => (JSON.parse(f) as { data: { k: { t: number; x: boolean } } }).data.k);
    const finals = klines.filter((k) => k.x);
    expect(finals.length).toBe(2);
    // Each final update is the last of its candle and comes before the next candle's first.
    for (const f of finals) {
      const i = klines.indexOf(f);
      expect(klines[i + 1]?.t).toBeGreaterThan(f.t);
      expect(klines.slice(0, i).every((k) => k.t <= f.t)).toBe(true);
    }
    hub.close();
  });

  it('encodes a diff stream once per push, and writes nothing more to a subscriber cut in the middle of the tick', async () => {
    const { manual, hub, frames, connection, attach } = fixture();
    // a's first write of a tick cuts it (as a slow reader is cut): the depth stream it shares
    // with b has one subscriber left when its turn comes.
    let cut = false;
    const a: Connection = connection('a', () => {
      if (cut) hub.detach(a, 'btcusdt@depth@100ms');
    });
    const b = connection('b');
    attach(a, 'ethusdt@kline_1m', 'btcusdt@depth@100ms');
    attach(b, 'btcusdt@depth@100ms');
    await manual.advance(1000);
    const depthFrames = (id: string) => frames.get(id)!.filter((f) => f.includes('@depth@100ms'));
    const depth = (id: string) => depthFrames(id).length;
    const before = depth('b');
    const aBefore = depth('a');
    expect(before).toBeGreaterThan(0);
    cut = true;
    // One kline push (250 ms): a's kline write cuts it; b must still get the diff of that tick.
    for (let i = 0; i < 10 && depth('b') === before; i++) await manual.advance(250);
    expect(depth('b')).toBeGreaterThan(before);
    const u = depthFrames('b').map(
      (f) => (JSON.parse(f) as { data: { U: number; u: number; pu: number } }).data,
    );
    // No hole: every diff b got continues the one before it.
    for (let i = 1; i < u.length; i++) expect(u[i]!.pu).toBe(u[i - 1]!.u);
    // a got nothing after the write that cut it, and the stream's counters count only what
    // was written.
    expect(depth('a')).toBe(aBefore);
    expect(hub.counters()['btcusdt@depth@100ms']?.messages).toBe(depth('a') + depth('b'));
    hub.close();
  });
});

describe('StreamHub state after streams go', () => {
  it("drops a symbol's step history when its last depth stream goes, and keeps only the latest retired symbols' diff logs", async () => {
    const symbols = MAX_RETIRED_DIFF_LOGS + 14;
    const { manual, market, hub, connection, attach, detach } = fixture(false, symbols);
    const a = connection('a');
    const names = [...market.specs.keys()];
    // Each symbol watched long enough to fill its history (16 steps kept, up to 32) and its
    // log (100 kept, up to 200), then left: nothing steps it again.
    for (const symbol of names) {
      const stream = `${symbol.toLowerCase()}@depth@100ms`;
      attach(a, stream);
      for (let i = 0; i < 120; i++) await manual.advance(250);
      expect(market.get(symbol)!.batchesSince(0).length).toBeGreaterThan(16);
      expect(hub.diffLog(symbol).length).toBeGreaterThan(100);
      detach(a, stream);
      expect(market.get(symbol)!.batchesSince(0)).toEqual([]);
    }
    for (const symbol of names) expect(market.get(symbol)!.batchesSince(0)).toEqual([]);
    // The latest retired keep their log, at the size promised, for a reader that comes late.
    const kept = names.filter((symbol) => hub.diffLog(symbol).length > 0);
    expect(kept).toEqual(names.slice(-MAX_RETIRED_DIFF_LOGS));
    for (const symbol of kept) expect(hub.diffLog(symbol).length).toBe(100);
    hub.close();
  });

  it("keeps a depth stream's history and log while another book stream of the symbol stays, and continues the log when it comes back", async () => {
    const { manual, market, hub, frames, connection, attach, detach } = fixture();
    const a = connection('a');
    attach(a, 'btcusdt@depth@100ms', 'btcusdt@depth5@100ms');
    for (let i = 0; i < 8; i++) await manual.advance(250);
    detach(a, 'btcusdt@depth@100ms');
    expect(market.get('BTCUSDT')!.batchesSince(0).length).toBeGreaterThan(0);
    detach(a, 'btcusdt@depth5@100ms');
    expect(market.get('BTCUSDT')!.batchesSince(0)).toEqual([]);
    const before = hub.diffLog('BTCUSDT').length;
    expect(before).toBeGreaterThan(0);
    // Back again: the next diff starts at the book's id now, and the log goes on.
    const id = market.get('BTCUSDT')!.book.lastUpdateId;
    frames.get('a')!.length = 0;
    attach(a, 'btcusdt@depth@100ms');
    for (let i = 0; i < 4; i++) await manual.advance(250);
    const diffs = frames.get('a')!.map((f) => (JSON.parse(f) as { data: { pu: number } }).data);
    expect(diffs[0]?.pu).toBe(id);
    expect(hub.diffLog('BTCUSDT').length).toBeGreaterThan(before);
    hub.close();
  });

  it('keeps the counters of the latest retired streams by name and sums the rest, totals exact', async () => {
    const { manual, market, hub, frames, connection, attach, detach } = fixture(false, 100);
    const a = connection('a');
    const intervals = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h'];
    const names = [...market.specs.keys()].flatMap((symbol) =>
      intervals.map((i) => `${symbol.toLowerCase()}@kline_${i}`),
    );
    expect(names.length).toBeGreaterThan(MAX_RETIRED_STREAMS + 50);
    attach(a, ...names);
    await manual.advance(250);
    detach(a, ...names);
    const sent = frames.get('a')!;
    expect(sent.length).toBe(names.length);
    let counters = hub.counters();
    expect(Object.keys(counters).length).toBe(MAX_RETIRED_STREAMS + 1);
    const total = (key: 'messages' | 'bytes') =>
      Object.values(counters).reduce((sum, c) => sum + c[key], 0);
    expect(total('messages')).toBe(sent.length);
    expect(total('bytes')).toBe(sent.join('').length);
    expect(counters[OTHER_STREAMS]?.messages).toBe(names.length - MAX_RETIRED_STREAMS);
    // A stream retired last, subscribed again, goes on from its count and leaves the table.
    const last = names.at(-1)!;
    attach(a, last);
    await manual.advance(250);
    counters = hub.counters();
    expect(counters[last]).toMatchObject({ messages: 2, subscribers: 1 });
    expect(Object.keys(counters).length).toBe(MAX_RETIRED_STREAMS + 1);
    hub.close();
  });
});
