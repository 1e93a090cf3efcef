/**
 * The four clients of the side-by-side benchmark, each behind the same two calls, each used
 * the way its documentation shows, pointed at the simulator by its base URLs only:
 *
 *   floor    a bare `ws` client doing `JSON.parse` per message: no heartbeat, no reconnect;
 *   unifeed  `pool.observe` with the feed plugins (feed-price, feed-kline), on unifeed's own
 *            socket client (the default in Node);
 *   ccxt     ccxt pro's Binance USD-M watch methods, in the documented retry loop;
 *   binance  the `binance` npm package's WebsocketClient on its routed USD-M keys.
 *
 * And three controls, run only when named (`--contenders floor,floor-state,unifeed`):
 *
 *   floor-state  the floor plus a record per stream as heavy as the state unifeed's pool keeps
 *                (bench:pool-state), built in the subscribe call and updated per message:
 *                what keeping per-stream state does to V8's heap sizing, without unifeed.
 *   unifeed-ws   unifeed given `ws` as its socket (the `WebSocket` option): what unifeed's own
 *                client changes (docs/decisions/0002-own-websocket-client.md).
 *   unifeed-json-parse  unifeed decoding with `JSON.parse` (the `decode` option): what its own
 *                JSON parser changes (docs/decisions/0003-own-json-parser.md).
 *
 * `onMessage(key, eventTime, sentAt)` is called once per message as the user receives it: `key`
 * names the stream (`btcusdt@kline_1m`), `eventTime` is the venue's `E` (the simulator's send
 * time, floored to the ms), or NaN where the client hides it; `sentAt` is the simulator's exact
 * send time (its `"St"` field, when it stamps one), where the client hands over the payload.
 * Libraries are imported lazily so that a child measures its idle baseline before any of them
 * is loaded, and `load` imports them before any timer starts, so that no figure but RSS counts
 * module loading.
 */

import type { KlineInterval } from '@unifeed/feed-kline';

export type ContenderName =
  'floor' | 'unifeed' | 'ccxt' | 'binance' | 'floor-state' | 'unifeed-ws' | 'unifeed-json-parse';
/** The contenders of a default run; the others are controls, run only when named. */
export const CONTENDERS: readonly ContenderName[] = ['floor', 'unifeed', 'ccxt', 'binance'];

export interface Urls {
  wsUrl: string;
  restUrl: string;
}

export type OnMessage = (key: string, eventTime: number, sentAt?: number) => void;

export interface Session {
  close(): Promise<void>;
  /**
   * Messages the client took in and parsed, where that differs from what it delivered: ccxt
   * merges what arrives between two `watch` calls into one answer.
   */
  processed?(): number;
}

/** A local order book as the client keeps it, read at one moment. */
export interface BookRead {
  /** The update id the book is at. */
  id: number;
  /** Best first; prices and quantities as the client keeps them (strings or numbers). */
  bids: readonly (readonly [string | number, string | number])[];
  asks: readonly (readonly [string | number, string | number])[];
}

export interface BookSession extends Session {
  /** The symbol's book now, or undefined while the client has no consistent one. */
  read(symbol: string): BookRead | undefined;
}

export type Scenario = 'bookTicker' | 'klines' | 'books';

export interface Contender {
  /** Import the modules `scenario` uses (the later imports hit the module cache). */
  load(scenario: Scenario): Promise<unknown>;
  /** One symbol's bookTicker (`btcusdt@bookTicker`). */
  bookTicker(urls: Urls, symbol: string, on: OnMessage): Promise<Session>;
  /** Klines of every symbol (exchange case: `BTCUSDT`) and interval. */
  klines(
    urls: Urls,
    symbols: readonly string[],
    intervals: readonly string[],
    on: OnMessage,
  ): Promise<Session>;
  /**
   * Local order books from the diff stream (100 ms), `onUpdate` once per book update
   * delivered. Absent where the client keeps no order book.
   */
  books?(urls: Urls, symbols: readonly string[], onUpdate: () => void): Promise<BookSession>;
}

const klineKey = (symbol: string, interval: string) => `${symbol.toLowerCase()}@kline_${interval}`;
/** Every (symbol, interval) pair's kline stream name, in the order the venue is asked. */
export const klineKeys = (symbols: readonly string[], intervals: readonly string[]) =>
  symbols.flatMap((s) => intervals.map((i) => klineKey(s, i)));

/** A bound on anything a contender awaits while closing: a benchmark must not hang. */
const settle = (p: Promise<unknown>, ms = 3000): Promise<void> =>
  Promise.race([
    p.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((r) => setTimeout(r, ms)),
  ]);

const floor: Contender = {
  load: () => import('ws'),
  async bookTicker(urls, symbol, on) {
    return floorStreams(urls, [`${symbol.toLowerCase()}@bookTicker`], 'public', on);
  },
  async klines(urls, symbols, intervals, on) {
    return floorStreams(urls, klineKeys(symbols, intervals), 'market', on);
  },
};

/**
 * Elements of each floor-state record's padding: with the record and its Map entry, 609 B a
 * stream after a full GC (node --expose-gc, 3,186 streams), against the 639 B unifeed's pool
 * keeps per `klines()` stream (bench:pool-state).
 */
const STATE_PADDING = 66;

/** The floor-state control's per-stream records: as heavy as unifeed's pool state. */
export function floorStateRecords(
  keys: readonly string[],
): Map<string, { delivered: number; padding: number[] }> {
  const state = new Map<string, { delivered: number; padding: number[] }>();
  for (const key of keys) {
    state.set(key, { delivered: 0, padding: new Array<number>(STATE_PADDING).fill(0) });
  }
  return state;
}

const floorState: Contender = {
  load: floor.load,
  bookTicker: floor.bookTicker,
  async klines(urls, symbols, intervals, on) {
    const keys = klineKeys(symbols, intervals);
    const state = floorStateRecords(keys);
    const session = await floorStreams(urls, keys, 'market', (key, eventTime, sentAt) => {
      const record = state.get(key);
      if (record !== undefined) record.delivered++;
      on(key, eventTime, sentAt);
    });
    return {
      close: async () => {
        state.clear();
        await session.close();
      },
    };
  },
};

/** Combined-stream URLs of 200 streams each (USD-M's limit), one socket per URL. */
async function floorStreams(
  urls: Urls,
  streams: string[],
  path: string,
  on: OnMessage,
): Promise<Session> {
  const { default: WebSocket } = await import('ws');
  const sockets: InstanceType<typeof WebSocket>[] = [];
  for (let i = 0; i < streams.length; i += 200) {
    const ws = new WebSocket(
      `${urls.wsUrl}/${path}/stream?streams=${streams.slice(i, i + 200).join('/')}`,
    );
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as {
        stream: string;
        data: { E?: number; St?: number };
      };
      on(m.stream, m.data.E ?? Number.NaN, m.data.St);
    });
    ws.on('error', () => {});
    sockets.push(ws);
  }
  return {
    async close() {
      for (const ws of sockets) ws.terminate();
    },
  };
}

/**
 * unifeed as a user runs it; `socket` gives pool options of a control: `ws` as the `WebSocket`
 * for `unifeed-ws`, `JSON.parse` as the `decode` for `unifeed-json-parse`.
 */
function unifeedContender(
  socket: () => Promise<Pick<import('@unifeed/core').StreamPoolOptions, 'WebSocket' | 'decode'>>,
): Contender {
  return {
    load: (scenario) =>
      Promise.all([
        socket(),
        import('@unifeed/core'),
        scenario === 'bookTicker'
          ? import('@unifeed/feed-price')
          : scenario === 'klines'
            ? import('@unifeed/feed-kline')
            : import('@unifeed/feed-depth'),
      ]),
    async bookTicker(urls, symbol, on) {
      const { StreamPool, binanceUsdm } = await import('@unifeed/core');
      const { bookTicker } = await import('@unifeed/feed-price');
      const pool = new StreamPool({ venue: binanceUsdm(urls), ...(await socket()) });
      pool
        .observe(bookTicker, { symbols: [symbol] })
        .subscribe((e) => on(e.stream, e.eventTime ?? Number.NaN));
      return { close: () => pool.close() };
    },
    async klines(urls, symbols, intervals, on) {
      const { StreamPool, binanceUsdm } = await import('@unifeed/core');
      const { klines } = await import('@unifeed/feed-kline');
      const pool = new StreamPool({
        venue: binanceUsdm(urls),
        backoff: { initialMs: 1000 },
        ...(await socket()),
      });
      klines(pool, { symbols, intervals: intervals as KlineInterval[] }).subscribe((k) =>
        on(k.stream, k.eventTime, (k.raw as { St?: number }).St),
      );
      return { close: () => pool.close() };
    },
    async books(urls, symbols, onUpdate) {
      const { StreamPool, binanceUsdm } = await import('@unifeed/core');
      const { orderBook } = await import('@unifeed/feed-depth');
      const pool = new StreamPool({ venue: binanceUsdm(urls), ...(await socket()) });
      const last = new Map<string, import('@unifeed/feed-depth').BookView>();
      for (const symbol of symbols) {
        orderBook(pool, { symbol, depth: 1, snapshotLimit: 100 }).subscribe((v) => {
          last.set(symbol, v);
          onUpdate();
        });
      }
      return {
        read(symbol) {
          const v = last.get(symbol);
          if (v?.state !== 'live' || v.book === undefined) return undefined;
          const { bids, asks } = v.book;
          return { id: v.lastUpdateId, bids: bids.top(bids.size), asks: asks.top(asks.size) };
        },
        close: () => pool.close(),
      };
    },
  };
}

const unifeed = unifeedContender(() => Promise.resolve({}));
const unifeedWs = unifeedContender(async () => {
  const { default: WebSocket } = await import('ws');
  return { WebSocket: WebSocket as unknown as import('@unifeed/core').WebSocketConstructor };
});

const unifeedJsonParse = unifeedContender(async () => {
  const { frameText } = await import('@unifeed/core');
  return { decode: (frame) => JSON.parse(frameText(frame)) as unknown };
});

type CcxtPro = InstanceType<(typeof import('ccxt'))['default']['pro']['binanceusdm']>;

/** ccxt pointed at the simulator: its REST and WS base URLs, nothing else. */
async function ccxtClient(urls: Urls): Promise<CcxtPro> {
  const { default: ccxt } = await import('ccxt');
  const c = new ccxt.pro.binanceusdm({
    urls: {
      api: {
        fapiPublic: `${urls.restUrl}/fapi/v1`,
        fapiPublicV2: `${urls.restUrl}/fapi/v2`,
        fapiPublicV3: `${urls.restUrl}/fapi/v3`,
        ws: { future: `${urls.wsUrl}/ws` },
      },
    },
    timeout: 10_000,
    enableRateLimit: false,
  });
  await c.loadHttpProxyAgent(); // ccxt wants it before a plain ws:// URL
  await c.loadMarkets();
  return c;
}

/** ccxt's documented way to keep watching: call again, also after an error (no auto-reconnect). */
function ccxtLoop(step: () => Promise<void>): { stop(): void; done: Promise<void> } {
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        await step();
      } catch (e) {
        if (process.env.DBG) console.error(String(e).slice(0, 200));
        if (running) await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  return {
    stop: () => {
      running = false;
    },
    done,
  };
}

/** Stop the watch loops and the client, each wait bounded. */
async function closeCcxt(c: CcxtPro, loops: readonly ReturnType<typeof ccxtLoop>[]): Promise<void> {
  for (const l of loops) l.stop();
  await settle(c.close());
  await settle(Promise.all(loops.map((l) => l.done)));
}

const ccxtContender: Contender = {
  load: () => import('ccxt'),
  async bookTicker(urls, symbol, on) {
    const c = await ccxtClient(urls);
    const market =
      c.markets_by_id?.[symbol]?.[0]?.symbol ?? `${symbol.replace(/USDT$/, '')}/USDT:USDT`;
    const key = `${symbol.toLowerCase()}@bookTicker`;
    let processed = 0;
    const handle = c.handleBidsAsks.bind(c);
    c.handleBidsAsks = (...args: Parameters<CcxtPro['handleBidsAsks']>) => {
      processed++;
      return handle(...args);
    };
    const loop = ccxtLoop(async () => {
      const tickers = await c.watchBidsAsks([market]);
      on(key, tickers[market]?.timestamp ?? Number.NaN);
    });
    return {
      processed: () => processed,
      close: () => closeCcxt(c, [loop]),
    };
  },
  async klines(urls, symbols, intervals, on) {
    const c = await ccxtClient(urls);
    // ccxt hides the event time of a candle: take it from the raw message as ccxt receives it.
    const sentAt = new Map<string, number>();
    const handle = c.handleOHLCV.bind(c);
    type Client = Parameters<CcxtPro['handleOHLCV']>[0];
    c.handleOHLCV = (client: Client, message: { s?: string; E?: number; k?: { i?: string } }) => {
      if (message.s !== undefined && message.k?.i !== undefined && message.E !== undefined) {
        sentAt.set(klineKey(message.s, message.k.i), message.E);
      }
      return handle(client, message);
    };
    // ccxt's call for many pairs, 200 pairs a call (the venue's streams per connection), the
    // calls 250 ms apart to stay under the venue's 10 requests a second. (One watchOHLCV per
    // pair is worse: ccxt sends them all at once on one socket, and the venue closes it with
    // 1008.) ccxt still puts every call on one socket (its subscription hash for
    // watchOHLCVForSymbols is a constant), so the venue refuses streams beyond 200.
    const byId = new Map<string, string>();
    const pairs: [string, string][] = [];
    for (const s of symbols) {
      const market = c.markets_by_id?.[s]?.[0]?.symbol;
      if (market === undefined) continue;
      byId.set(market, s);
      for (const i of intervals) pairs.push([market, i]);
    }
    const loops: ReturnType<typeof ccxtLoop>[] = [];
    for (let i = 0; i < pairs.length; i += 200) {
      const chunk = pairs.slice(i, i + 200);
      loops.push(
        ccxtLoop(async () => {
          const got = (await c.watchOHLCVForSymbols(chunk)) as Record<
            string,
            Record<string, unknown>
          >;
          for (const [market, byTf] of Object.entries(got)) {
            for (const tf of Object.keys(byTf)) {
              const key = klineKey(byId.get(market) ?? market, tf);
              on(key, sentAt.get(key) ?? Number.NaN);
            }
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 250));
    }
    return {
      close: () => closeCcxt(c, loops),
    };
  },
};

ccxtContender.books = async (urls, symbols, onUpdate) => {
  const c = await ccxtClient(urls);
  const markets = new Map<string, string>();
  for (const s of symbols) {
    const market = c.markets_by_id?.[s]?.[0]?.symbol;
    if (market !== undefined) markets.set(s, market);
  }
  // What the user gets: the book each answer hands over, copied as it was then (ccxt goes on
  // changing its own arrays in place).
  const bySymbol = new Map<string, BookRead>();
  const ids = new Map([...markets].map(([id, market]) => [market, id]));
  const loop = ccxtLoop(async () => {
    const ob = (await c.watchOrderBookForSymbols([...markets.values()], 100)) as {
      symbol: string;
      nonce?: number;
      bids: [number, number][];
      asks: [number, number][];
    };
    const id = ids.get(ob.symbol);
    if (id !== undefined && ob.nonce !== undefined) {
      bySymbol.set(id, {
        id: ob.nonce,
        bids: ob.bids.map(([p, q]) => [p, q] as const),
        asks: ob.asks.map(([p, q]) => [p, q] as const),
      });
    }
    onUpdate();
  });
  return {
    read: (symbol) => bySymbol.get(symbol),
    close: () => closeCcxt(c, [loop]),
  };
};

const binanceContender: Contender = {
  load: () => import('binance'),
  async bookTicker(urls, symbol, on) {
    return binanceTopics(urls, [`${symbol.toLowerCase()}@bookTicker`], 'usdmPublic', on);
  },
  async klines(urls, symbols, intervals, on) {
    return binanceTopics(urls, klineKeys(symbols, intervals), 'usdmMarket', on);
  },
};

/** The `binance` package's WebsocketClient on one routed key, as its README subscribes. */
async function binanceTopics(
  urls: Urls,
  topics: string[],
  wsKey: 'usdmPublic' | 'usdmMarket',
  on: OnMessage,
): Promise<Session> {
  const { WebsocketClient, DefaultLogger } = await import('binance');
  const quiet = { ...DefaultLogger, trace: () => {}, info: () => {}, error: () => {} };
  const client = new WebsocketClient({ wsUrl: urls.wsUrl, beautify: false }, quiet);
  // It unwraps combined-stream frames: the payload's fields, plus the stream as `streamName`.
  client.on('message', (raw) => {
    const m = raw as { streamName?: string; E?: number };
    if (m.streamName !== undefined) on(m.streamName, m.E ?? Number.NaN);
  });
  void client.subscribe(topics, wsKey).catch(() => {});
  return {
    async close() {
      client.closeAll(true);
    },
  };
}

export const contenders: Record<ContenderName, Contender> = {
  floor,
  unifeed,
  ccxt: ccxtContender,
  binance: binanceContender,
  'floor-state': floorState,
  'unifeed-ws': unifeedWs,
  'unifeed-json-parse': unifeedJsonParse,
};
