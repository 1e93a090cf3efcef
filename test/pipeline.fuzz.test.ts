import {
  binanceSpot,
  ErrorCode,
  MAX_TIMER_MS,
  RestClient,
  SlidingWindowLimiter,
  StreamPool,
  type PoolStatus,
} from '@unifeed/core';
import { ManualClock } from '@unifeed/core/testing';
import { bookStats, depthDiff, orderBook, type BookView, type Level } from '@unifeed/feed-depth';
import { kline } from '@unifeed/feed-kline';
import { bookTicker, trade } from '@unifeed/feed-price';
import fc from 'fast-check';
import type { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './support/ws-server.js';

/*
 * The whole inbound path under hostile input: a real `ws` server on 127.0.0.1 plays the venue
 * and sends frames that fast-check builds, bad ones interleaved with good ones of other
 * streams, through a real StreamPool connection (socket -> queue -> decode -> classify ->
 * routing -> plugin parse -> order books). The pool keeps time with a ManualClock that the
 * test moves on while it waits, so back-off delays of a book resync cost no real time.
 *
 * Seed and run count can be changed for a longer hunt (UNIFEED_FUZZ_SEED, UNIFEED_FUZZ_RUNS);
 * UNIFEED_FUZZ_SHRINK=1 shrinks a counterexample instead of reporting the first one found.
 */
const SEED = Number(process.env.UNIFEED_FUZZ_SEED ?? 20_260_415);
const RUNS = Number(process.env.UNIFEED_FUZZ_RUNS ?? 100);

// --- the streams --------------------------------------------------------------------------

/** A stream fed only good frames: every one must arrive once, in order. */
type Line = 'price' | 'kline' | 'trade' | 'raw' | 'book';
/** A stream that also receives bad payloads; its good frames must still all arrive. */
type Victim = 'vprice' | 'vkline' | 'vbook';
type Target = Line | Victim;

const STREAM: Record<Target, string> = {
  price: 'aaausdt@bookTicker',
  kline: 'bbbusdt@kline_1m',
  trade: 'cccusdt@trade',
  raw: 'eeeusdt@aggTrade',
  book: 'dddusdt@depth@100ms',
  vprice: 'xxxusdt@bookTicker',
  vkline: 'yyyusdt@kline_1m',
  vbook: 'zzzusdt@depth@100ms',
};
const SYMBOL: Record<Target, string> = {
  price: 'AAAUSDT',
  kline: 'BBBUSDT',
  trade: 'CCCUSDT',
  raw: 'EEEUSDT',
  book: 'DDDUSDT',
  vprice: 'XXXUSDT',
  vkline: 'YYYUSDT',
  vbook: 'ZZZUSDT',
};
const TARGETS = Object.keys(STREAM) as Target[];
const VICTIMS: Victim[] = ['vprice', 'vkline', 'vbook'];
const SUBSCRIBED = new Set(Object.values(STREAM));
const BOOKS = ['book', 'vbook'] as const;

interface BookChange {
  bids: Level[];
  asks: Level[];
}

/** A valid payload of `target` with sequence number `n` (update id, trade id, event time). */
function payload(target: Target, n: number, change: BookChange = { bids: [], asks: [] }) {
  const s = SYMBOL[target];
  switch (target) {
    case 'price':
    case 'vprice':
      return { u: n, s, b: '25.35190000', B: '31.21000000', a: '25.36520000', A: '40.66000000' };
    case 'kline':
    case 'vkline':
      return {
        e: 'kline',
        E: n,
        s,
        k: {
          // Open at 0: a candle cannot open after the event (E, here a small count) reporting it.
          t: 0,
          T: 59_999,
          s,
          i: '1m',
          f: 100,
          L: 200,
          o: '0.0010',
          c: '0.0020',
          h: '0.0025',
          l: '0.0015',
          v: '1000',
          n: 100,
          x: false,
          q: '1.0000',
          V: '500',
          Q: '0.500',
          B: '123456',
        },
      };
    case 'trade':
      return { e: 'trade', E: n, s, t: n, p: '0.001', q: '100', T: n, m: true, M: true };
    case 'raw':
      return { e: 'aggTrade', E: n, s, a: n, p: '0.001', q: '100', f: n, l: n, T: n, m: true };
    case 'book':
    case 'vbook':
      return { e: 'depthUpdate', E: n, s, U: n, u: n, b: change.bids, a: change.asks };
  }
}

/** What a field must be, for picking values it can never be. */
type Kind = 'decimal' | 'integer' | 'text' | 'flag' | 'levels' | 'object' | 'type';

/** Required fields of each victim, as paths into its payload. */
const REQUIRED: Record<Victim, [string[], Kind][]> = {
  vprice: [
    [['u'], 'integer'],
    [['s'], 'text'],
    [['b'], 'decimal'],
    [['B'], 'decimal'],
    [['a'], 'decimal'],
    [['A'], 'decimal'],
  ],
  vkline: [
    [['e'], 'type'],
    [['E'], 'integer'],
    [['k'], 'object'],
    ...(['t', 'T', 'f', 'L', 'n'] as const).map((f): [string[], Kind] => [['k', f], 'integer']),
    ...(['o', 'c', 'h', 'l', 'v', 'q', 'V', 'Q'] as const).map((f): [string[], Kind] => [
      ['k', f],
      'decimal',
    ]),
    [['k', 'i'], 'text'],
    [['k', 'x'], 'flag'],
  ],
  vbook: [
    [['e'], 'type'],
    [['E'], 'integer'],
    [['U'], 'integer'],
    [['u'], 'integer'],
    [['s'], 'text'],
    [['b'], 'levels'],
    [['a'], 'levels'],
  ],
};

const TOO_MANY_LEVELS = Array.from({ length: 10_001 }, (): Level => ['1.0', '1.0']);

/** Values a field of each kind can never take: wrong types, numbers past 2^53, odd strings. */
const WRONG: Record<Kind, readonly unknown[]> = {
  decimal: [
    1.5,
    0,
    null,
    true,
    [],
    {},
    '',
    '1e5',
    'abc',
    ' 1',
    '1.',
    '.5',
    'NaN',
    'Infinity',
    '-',
    '0x10',
    '1'.repeat(65),
    '１',
  ],
  integer: [
    2 ** 53,
    2 ** 64,
    1e300,
    -1e300,
    1.5,
    -0.5,
    '12.5',
    '9007199254740993',
    'Infinity',
    '-Infinity',
    'NaN',
    '',
    ' 1',
    '1e3',
    '1'.repeat(21),
    null,
    true,
    {},
    [],
    [1],
  ],
  text: [5, null, '', [], {}, true],
  flag: ['true', 'false', 1, 0, null, {}, []],
  levels: [
    'x',
    {},
    null,
    5,
    [['1']],
    [[1, 2]],
    [['-1', '1']],
    [['1', '-1']],
    [['1', 'a']],
    [['1', '1'], 'x'],
    [null],
    TOO_MANY_LEVELS,
  ],
  object: [null, 5, 'k', [], true],
  type: ['trade', 'depthUpdate!', 5, null, ''],
};

// --- frames -------------------------------------------------------------------------------

/** How a bad frame must show up: a decode error, a parse error, unrouted, or unexpected. */
type Fate = 'decode' | 'parse' | 'unrouted' | 'unexpected';

type Slot =
  | { good: Target; change: BookChange; binary: boolean; decorated: boolean }
  | { bad: Fate; target?: Victim; frame: string | Buffer };

/** A bad slot that prints short in a counterexample: frames can be megabytes of brackets. */
function badFrame(bad: Fate, frame: string | Buffer, target?: Victim): Slot {
  const text = typeof frame === 'string' ? frame : `<binary ${frame.toString('hex')}>`;
  const shown =
    text.length > 160 ? `${text.slice(0, 80)}...(${text.length} chars)...${text.slice(-40)}` : text;
  return {
    bad,
    target,
    frame,
    [fc.toStringMethod]: () => `${bad}${target ? `(${target})` : ''}: ${JSON.stringify(shown)}`,
  } as Slot;
}

const POISON = '{"polluted":"yes","__proto__":{"polluted":"yes"}}';
const POISON_KEYS = `"__proto__":${POISON},"constructor":{"prototype":${POISON}},"prototype":${POISON}`;

/**
 * `__proto__`, `constructor` and `prototype` keys inside every object of a JSON text. JSON.parse
 * makes them own properties; code that copies them with assignment would pollute prototypes.
 */
function poisoned(json: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    out += c;
    if (inString) {
      if (c === '\\') out += json[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '{') {
      out += json[i + 1] === '}' ? POISON_KEYS : `${POISON_KEYS},`;
    }
  }
  return out;
}

const envelope = (stream: string, data: string) =>
  `{"stream":${JSON.stringify(stream)},"data":${data}}`;

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

const price = (lo: number, hi: number) =>
  fc.integer({ min: lo * 100, max: hi * 100 }).map((c) => (c / 100).toFixed(2));
const qty = fc.oneof(
  fc.constant('0'),
  fc.integer({ min: 1, max: 10_000 }).map((n) => (n / 100).toFixed(2)),
);
// Bids below 100, asks above: a good diff can never cross the book.
const bookChange: fc.Arbitrary<BookChange> = fc.record({
  bids: fc.array(fc.tuple(price(1, 99), qty), { maxLength: 4 }),
  asks: fc.array(fc.tuple(price(101, 199), qty), { maxLength: 4 }),
});

const goodSlot: fc.Arbitrary<Slot> = fc.record({
  good: fc.constantFrom(...TARGETS),
  change: bookChange,
  binary: fc.boolean(),
  decorated: fc.boolean(),
});

/** Bytes that are not JSON once decoded as UTF-8, sent as a binary frame. */
const garbageBytes = fc
  .uint8Array({ minLength: 1, maxLength: 300 })
  .map((b) => Buffer.from(b))
  .filter((b) => !isJson(b.toString()));

/**
 * The subscribed stream a frame names whole at its head (`{"stream":"<name>"`), else '': where
 * an undecodable frame's gap belongs. Read here without the venue's own `streamKey`, so that
 * the check does not take its answer from the code it checks.
 */
function streamAtHead(frame: string | Buffer): string {
  // A binary frame has a head too: one nested too deep to decode keeps its stream's name.
  const text = typeof frame === 'string' ? frame : frame.toString('latin1');
  for (const stream of SUBSCRIBED) if (text.startsWith(`{"stream":"${stream}"`)) return stream;
  return '';
}

/** A proper prefix of a good frame: never JSON, since the whole frame is one object. */
const truncated = fc
  .tuple(fc.constantFrom(...TARGETS), fc.integer({ min: 1, max: 1000 }), fc.nat())
  .map(([t, n, cut]) => {
    const text = envelope(STREAM[t], JSON.stringify(payload(t, n)));
    return text.slice(0, 1 + (cut % (text.length - 1)));
  });

const notJsonText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 80 }).filter((s) => !isJson(s)),
  fc.constantFrom(
    '{"stream":"aaausdt@bookTicker","data":{"u":NaN}}',
    '{"stream":"aaausdt@bookTicker","data":Infinity}',
    "{'stream':'aaausdt@bookTicker'}",
    '{"stream":"aaausdt@bookTicker","data":{}}}',
    '[1,2,]',
    '',
  ),
);

const decodeSlot: fc.Arbitrary<Slot> = fc.oneof(
  garbageBytes.map((frame) => badFrame('decode', frame)),
  truncated.map((frame) => badFrame('decode', frame)),
  notJsonText.map((frame) => badFrame('decode', frame)),
);

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let o = obj;
  for (const key of path.slice(0, -1)) o = o[key] as Record<string, unknown>;
  const last = path.at(-1)!;
  if (value === undefined) delete o[last];
  else o[last] = value;
}

const deep = (depth: number, open: string, close: string, inner = '1') =>
  open.repeat(depth) + inner + close.repeat(depth);

/**
 * The default decoder (`parseJson`) refuses JSON nested deeper than this, which JSON.parse
 * would take (packages/core/src/json-parse.ts): such a frame is a decode error, whatever it is.
 */
const MAX_JSON_DEPTH = 512;

/** How deep arrays and objects nest in a JSON text. */
function nestingOf(json: string): number {
  let depth = 0;
  let most = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') most = Math.max(most, ++depth);
    else if (c === ']' || c === '}') depth--;
  }
  return most;
}

/** A bad frame that decodes as JSON would, unless it nests too deep for the decoder. */
const decodedFrame = (fate: Fate, frame: string | Buffer, target?: Victim): Slot =>
  nestingOf(frame.toString()) > MAX_JSON_DEPTH
    ? badFrame('decode', frame)
    : badFrame(fate, frame, target);

/** A payload of a victim stream its plugin must refuse. */
const badPayload: fc.Arbitrary<{ target: Victim; data: string }> = fc
  .constantFrom(...VICTIMS)
  .chain((target) => {
    const fields = REQUIRED[target];
    const valid = (n: number) => payload(target, n) as Record<string, unknown>;
    const mutated = fc
      .tuple(
        fc.integer({ min: 0, max: fields.length - 1 }),
        fc.nat(),
        fc.integer({ min: 1, max: 1e6 }),
      )
      .map(([f, w, n]) => {
        const [path, kind] = fields[f]!;
        const p = valid(n);
        setPath(p, path, WRONG[kind][w % WRONG[kind].length]);
        return JSON.stringify(p);
      });
    // The event type may be absent (spot bookTicker has none); every other field is needed.
    const needed = fields.filter(([, kind]) => kind !== 'type');
    const missing = fc
      .tuple(fc.integer({ min: 0, max: needed.length - 1 }), fc.integer({ min: 1, max: 1e6 }))
      .map(([f, n]) => {
        const p = valid(n);
        setPath(p, needed[f]![0], undefined);
        return JSON.stringify(p);
      });
    // Any JSON that lacks a needed top-level field cannot be a payload of the stream.
    const key = needed[0]![0][0]!;
    const garbage = fc
      .jsonValue({ maxDepth: 4 })
      .filter((v) => typeof v !== 'object' || v === null || !(key in v))
      .map((v) => JSON.stringify(v));
    const nested = fc
      .tuple(fc.integer({ min: 1, max: 20_000 }), fc.boolean())
      .map(([d, arr]) => (arr ? deep(d, '[', ']') : deep(d, '{"k":', '}')));
    const reversed =
      target === 'vbook'
        ? [fc.integer({ min: 2, max: 1e6 }).map((n) => JSON.stringify({ ...valid(n), U: n + 1 }))]
        : [];
    return fc
      .oneof(mutated, missing, garbage, nested, ...reversed)
      .chain((data) => fc.constantFrom(data, poisoned(data)).map((d) => ({ target, data: d })));
  });

const parseSlot: fc.Arbitrary<Slot> = fc
  .tuple(badPayload, fc.boolean())
  .map(([{ target, data }, binary]): Slot => {
    const text = envelope(STREAM[target], data);
    return decodedFrame('parse', binary ? Buffer.from(text) : text, target);
  });

/** Stream names nobody subscribed, including the names of prototype members. */
const strayStream = fc
  .oneof(
    fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'hasOwnProperty',
      '!miniTicker@arr',
      'AAAUSDT@bookTicker',
      'aaausdt@bookticker',
      '',
    ),
    fc.string({ maxLength: 40 }),
  )
  .filter((s) => !SUBSCRIBED.has(s));

const unroutedSlot: fc.Arbitrary<Slot> = fc
  .tuple(strayStream, fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(payload('price', 1))))
  .filter(
    ([, data]) =>
      JSON.stringify(data) !== undefined && !JSON.stringify(data).includes('serverShutdown'),
  )
  .map(([stream, data]) => badFrame('unrouted', envelope(stream, JSON.stringify(data))));

/** Keys that would make a JSON object a message the venue knows. */
const RESERVED = new Set(['stream', 'data', 'id', 'result', 'code', 'msg', 'error', 'e']);

/** JSON that decodes but is no message of the venue: no envelope, no answer, no notice. */
const unexpectedSlot: fc.Arbitrary<Slot> = fc
  .oneof(
    fc
      .oneof(
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.string(),
        fc.boolean(),
        fc.constant(null),
      )
      .map((v) => JSON.stringify(v)),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 8 }).map((v) => JSON.stringify(v)),
    fc
      .dictionary(
        fc.string().filter((k) => !RESERVED.has(k) && k !== '__proto__'),
        fc.jsonValue({ maxDepth: 2 }),
      )
      .map((v) => JSON.stringify(v)),
    fc.integer({ min: 1, max: 200_000 }).map((n) => `[${'0,'.repeat(n)}0]`),
    fc.integer({ min: 1, max: 20_000 }).map((d) => deep(d, '[', ']')),
    fc.integer({ min: 1, max: 20_000 }).map((d) => deep(d, '{"a":', '}')),
    fc.constantFrom(
      POISON,
      `{${POISON_KEYS}}`,
      '{"stream":5,"data":{}}',
      '{"stream":null,"data":null}',
      '{"stream":"aaausdt@bookTicker"}',
      '{"stream":["aaausdt@bookTicker"],"data":{"u":1}}',
      '{"e":"serverShutdowns"}',
      '{"data":{"e":"serverShutdown"}}',
    ),
    // Answers to requests nobody made, and venue errors that name no request.
    fc.integer({ min: 100_000, max: 2 ** 31 }).map((id) => JSON.stringify({ result: null, id })),
    fc
      .integer({ min: 100_000, max: 2 ** 31 })
      .map((id) => JSON.stringify({ code: -1, msg: 'x', id })),
    fc.constantFrom(
      '{"code":2,"msg":"Invalid request"}',
      '{"error":{"code":-1,"msg":"m"},"id":null}',
    ),
  )
  .map((frame) => decodedFrame('unexpected', frame));

const badSlot = fc.oneof(decodeSlot, parseSlot, unroutedSlot, unexpectedSlot);

const script = fc.array(
  fc.oneof({ weight: 3, arbitrary: goodSlot }, { weight: 2, arbitrary: badSlot }),
  {
    minLength: 1,
    maxLength: 120,
  },
);

// --- one run ------------------------------------------------------------------------------

/** The book a venue would have after every diff, by update id. */
class TruthBook {
  readonly bids = new Map<number, Level>();
  readonly asks = new Map<number, Level>();
  readonly history = new Map<number, string>([[0, this.#key()]]);

  apply(id: number, change: BookChange): void {
    for (const [side, levels] of [
      [this.bids, change.bids],
      [this.asks, change.asks],
    ] as const) {
      for (const [p, q] of levels) {
        if (Number(q) === 0) side.delete(Number(p));
        else side.set(Number(p), [p, q]);
      }
    }
    this.history.set(id, this.#key());
  }

  levels(): { bids: Level[]; asks: Level[] } {
    const sorted = (m: Map<number, Level>, dir: number) =>
      [...m.entries()].sort((a, b) => dir * (a[0] - b[0])).map(([, l]) => l);
    return { bids: sorted(this.bids, -1), asks: sorted(this.asks, 1) };
  }

  #key(): string {
    return JSON.stringify(this.levels());
  }
}

const sidesOf = (v: BookView) =>
  JSON.stringify({
    bids: v.book!.bids.top(v.book!.bids.size),
    asks: v.book!.asks.top(v.book!.asks.size),
  });

let server: TestServer;
/** The socket of the current run, once it has subscribed everything. */
let current: { socket: WebSocket; streams: Set<string> } | undefined;
const escaped: unknown[] = [];
const onEscape = (err: unknown) => escaped.push(err);
const protoKeys = () => ({
  object: Reflect.ownKeys(Object.prototype).map(String).sort(),
  array: Reflect.ownKeys(Array.prototype).map(String).sort(),
  function: Reflect.ownKeys(Function.prototype).map(String).sort(),
});
let protoBefore: ReturnType<typeof protoKeys>;

beforeAll(async () => {
  protoBefore = protoKeys();
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  server = await startServer((socket) => {
    const conn = { socket, streams: new Set<string>() };
    socket.on('message', (raw) => {
      const req = JSON.parse(String(raw)) as { method: string; params: string[]; id: number };
      if (req.method === 'SUBSCRIBE') for (const s of req.params) conn.streams.add(s);
      socket.send(JSON.stringify({ result: null, id: req.id }));
      if (conn.streams.size === SUBSCRIBED.size) current = conn;
    });
  });
});

afterAll(async () => {
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
  await server.close();
});

/** Poll `done`, moving the pool's clock on between polls (real time passes for the sockets). */
async function settle(clock: ManualClock, done: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not settled: ${what()}`);
    await clock.advance(250);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function run(slots: Slot[]): Promise<void> {
  current = undefined;
  const clock = new ManualClock(1_700_000_000_000);
  const truth = { book: new TruthBook(), vbook: new TruthBook() };
  // The snapshot is the venue's book as of the last diff the client has seen.
  const delivered = { book: 0, vbook: 0 };
  const fetch = (url: string | URL | Request): Promise<Response> => {
    const symbol = new URL(String(url)).searchParams.get('symbol')!;
    const which = symbol === SYMBOL.book ? 'book' : 'vbook';
    const id = delivered[which];
    const levels = JSON.parse(truth[which].history.get(id)!) as BookChange;
    return Promise.resolve(new Response(JSON.stringify({ lastUpdateId: id, ...levels })));
  };
  const rest = new RestClient({
    baseUrl: 'https://rest.fuzz.test',
    clock,
    fetch,
    maxWeightPerMinute: 1e9,
  });
  const pool = new StreamPool({
    venue: binanceSpot({ wsUrl: server.url, restUrl: 'https://rest.fuzz.test' }),
    clock,
    random: () => 0,
    attemptLimiter: new SlidingWindowLimiter({ limit: 1000, windowMs: 1000, clock }),
    // Time only moves when the test says so; nothing here may count it as silence.
    heartbeat: { intervalMs: 1e9, timeoutMs: 2e9 },
    // The longest a timer takes: a longer duration is refused as a unit mistake.
    requestTimeoutMs: MAX_TIMER_MS,
    staleMinMs: MAX_TIMER_MS,
  });
  const statuses: PoolStatus[] = [];
  pool.status$.subscribe((s) => statuses.push(s));
  const got = perTarget();
  const mismatches: string[] = [];
  const last: Partial<Record<(typeof BOOKS)[number], BookView>> = {};
  try {
    for (const b of BOOKS) {
      orderBook(pool, { symbol: SYMBOL[b], rest, random: () => 0 }).subscribe((v) => {
        last[b] = v;
        if (v.state !== 'live') return;
        if (sidesOf(v) !== truth[b].history.get(v.lastUpdateId)) {
          mismatches.push(`${b}@${v.lastUpdateId}: ${sidesOf(v)}`);
        }
      });
      pool
        .observe(depthDiff, { symbols: [SYMBOL[b]], speed: '100ms' })
        .subscribe((e) => got[b].push((delivered[b] = e.lastUpdateId)));
    }
    pool
      .observe(bookTicker, { symbols: [SYMBOL.price] })
      .subscribe((e) => got.price.push(e.updateId));
    pool
      .observe(bookTicker, { symbols: [SYMBOL.vprice] })
      .subscribe((e) => got.vprice.push(e.updateId));
    pool
      .observe(kline, { symbols: [SYMBOL.kline], intervals: ['1m'] })
      .subscribe((e) => got.kline.push(e.eventTime));
    pool
      .observe(kline, { symbols: [SYMBOL.vkline], intervals: ['1m'] })
      .subscribe((e) => got.vkline.push(e.eventTime));
    pool.observe(trade, { symbols: [SYMBOL.trade] }).subscribe((e) => got.trade.push(e.tradeId));
    pool.watch(STREAM.raw).subscribe((p) => got.raw.push((p as { a: number }).a));
    await settle(
      clock,
      () => current !== undefined && pool.stats().perConnection[0]?.live === SUBSCRIBED.size,
      () => 'subscribed',
    );
    const socket = current!.socket;

    // Every stream ends with a good frame sent after a pause, so that a book that lost sync
    // to a bad diff late in the script has an event to come back live with.
    const sent = perTarget();
    const expected: Record<Fate, number> = { decode: 0, parse: 0, unrouted: 0, unexpected: 0 };
    const parseByStream = new Map<string, number>();
    // A frame that does not decode is a hole in the stream its head names, if subscribed.
    const decodeGaps = new Map<string, number>();
    const sendGood = (s: Extract<Slot, { good: Target }>) => {
      const t = s.good;
      const n = sent[t].length + 1;
      sent[t].push(n);
      if (t === 'book' || t === 'vbook') truth[t].apply(n, s.change);
      let text = envelope(STREAM[t], JSON.stringify(payload(t, n, s.change)));
      if (s.decorated) text = poisoned(text);
      socket.send(s.binary ? Buffer.from(text) : text, { binary: s.binary });
    };
    for (const s of slots) {
      if ('good' in s) {
        sendGood(s);
        continue;
      }
      expected[s.bad]++;
      const key = s.bad === 'decode' ? streamAtHead(s.frame) : '';
      if (SUBSCRIBED.has(key)) decodeGaps.set(key, (decodeGaps.get(key) ?? 0) + 1);
      if (s.target)
        parseByStream.set(STREAM[s.target], (parseByStream.get(STREAM[s.target]) ?? 0) + 1);
      socket.send(s.frame, { binary: typeof s.frame !== 'string' });
    }
    const allSent = () => TARGETS.every((t) => got[t].length === sent[t].length);
    await settle(clock, allSent, () => JSON.stringify({ got, sent }));
    const none: BookChange = { bids: [], asks: [] };
    for (const t of TARGETS) sendGood({ good: t, change: none, binary: false, decorated: false });
    const booksLive = () =>
      BOOKS.every((b) => last[b]?.state === 'live' && last[b]!.lastUpdateId === sent[b].length);
    await settle(
      clock,
      () => allSent() && booksLive(),
      () =>
        JSON.stringify({
          got,
          sent,
          books: BOOKS.map((b) => [last[b]?.state, last[b]?.lastUpdateId]),
        }),
    );

    // Every good frame of every stream, once and in order; the books equal the venue's.
    for (const t of TARGETS) expect(got[t], t).toEqual(sent[t]);
    expect(mismatches).toEqual([]);
    for (const b of BOOKS) expect(sidesOf(last[b]!)).toBe(JSON.stringify(truth[b].levels()));

    // Every bad frame counted, each with a typed error where it is an error.
    const stats = pool.stats();
    const errorsOf = (code: string) =>
      statuses.filter(
        (s) => s.type === 'connection' && s.status.type === 'error' && s.status.error.code === code,
      );
    expect(stats.perConnection[0]!.decodeErrors, 'decode errors').toBe(expected.decode);
    expect(stats.decodeErrors, "the pool's decode errors").toBe(expected.decode);
    expect(errorsOf(ErrorCode.Decode)).toHaveLength(expected.decode);
    expect(stats.parseErrors, 'parse errors').toBe(expected.parse);
    const parseErrors = statuses.filter((s) => s.type === 'parse-error');
    expect(parseErrors.every((s) => s.error.code === ErrorCode.Parse)).toBe(true);
    const parsedBy = new Map<string, number>();
    for (const s of parseErrors) parsedBy.set(s.stream, (parsedBy.get(s.stream) ?? 0) + 1);
    expect(parsedBy).toEqual(parseByStream);
    expect(stats.unrouted, 'unrouted').toBe(expected.unrouted);
    expect(stats.unexpected, 'unexpected').toBe(expected.unexpected);
    expect(errorsOf(ErrorCode.UnexpectedMessage)).toHaveLength(expected.unexpected);
    // The one connection carried it all: no reconnect, no queue drop, and a gap for each
    // undecodable frame of a subscribed stream (its head still names the stream), none else.
    expect(stats.connections).toBe(1);
    expect(stats.reconnects).toBe(0);
    const gapsBy = new Map<string, number>();
    for (const g of statuses) {
      if (g.type !== 'gap') continue;
      expect(g.reason).toBe('decode');
      gapsBy.set(g.stream, (gapsBy.get(g.stream) ?? 0) + 1);
    }
    expect(gapsBy).toEqual(decodeGaps);
    expect(stats.queue.dropped).toBe(0);
    // The good book resynced only for a frame of its own that did not decode: nothing else
    // reached it but good diffs.
    const kept = bookStats(pool);
    const bookGaps = decodeGaps.get(STREAM.book) ?? 0;
    const good = kept.find((b) => b.symbol === SYMBOL.book)!;
    expect(good.streamGaps).toBe(bookGaps);
    if (bookGaps === 0) expect(good).toMatchObject({ resyncs: 0, snapshots: 1 });
    // ...and every bad diff made the victim book distrust its stream.
    expect(kept.find((b) => b.symbol === SYMBOL.vbook)!.streamGaps).toBe(
      (parseByStream.get(STREAM.vbook) ?? 0) + (decodeGaps.get(STREAM.vbook) ?? 0),
    );
  } finally {
    await pool.close();
  }
  expect(escaped).toEqual([]);
  expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  expect(protoKeys()).toEqual(protoBefore);
}

/** One empty list per target stream. */
const perTarget = (): Record<Target, number[]> => ({
  price: [],
  kline: [],
  trade: [],
  raw: [],
  book: [],
  vprice: [],
  vkline: [],
  vbook: [],
});

describe('the inbound pipeline under hostile frames (fast-check)', () => {
  it('throws nothing, pollutes nothing, counts every bad frame, and loses no good one', async () => {
    await fc.assert(fc.asyncProperty(script, run), {
      numRuns: RUNS,
      seed: SEED,
      // A failing run waits out its settle deadline; shrinking takes many: opt in to it.
      endOnFailure: process.env.UNIFEED_FUZZ_SHRINK === undefined,
    });
  }, 60_000);
});
