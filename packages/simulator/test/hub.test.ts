import { ManualClock } from '@unifeed/core/testing';
import { describe, expect, it } from 'vitest';
import { Market } from '../src/market/market.js';
import { defaultSymbols } from '../src/market/symbols.js';
import { Encoder } from '../src/payloads.js';
import type { Connection } from '../src/server/connection.js';
import { StreamHub } from '../src/server/hub.js';
import { parseStream } from '../src/streams.js';
import { USDM } from '../src/venue.js';

/** What the hub did, in order: clock readings and each connection's writes. */
type Event = 'now' | `${'cork' | 'send' | 'uncork'} ${string}`;

function fixture(spreadPushes = false) {
  const log: Event[] = [];
  const manual = new ManualClock(1_700_000_000_000);
  // Every reading is logged: a payload's `E` is the reading taken just before it is encoded.
  const clock = {
    now: () => (log.push('now'), manual.now()),
    monotonic: () => manual.monotonic(),
    setTimeout: manual.setTimeout.bind(manual),
    clearTimeout: manual.clearTimeout.bind(manual),
  };
  const market = new Market(defaultSymbols(5), { seed: 1, levels: 50, historySize: 16 }, () =>
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
  return { log, manual, hub, frames, connection, attach };
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
