import { describe, expect, it } from 'vitest';
import { binanceSpot, binanceUsdm, streamKind } from '../src/binance.js';
import { ErrorCode } from '../src/errors.js';
import { upbit } from '../src/upbit.js';

describe('binance venues', () => {
  it('route USD-M streams to /public or /market by kind, and refuse unknown kinds', () => {
    const v = binanceUsdm({ wsUrl: 'ws://127.0.0.1:9/' });
    expect(v.group('btcusdt@bookTicker')).toBe('public');
    expect(v.group('btcusdt@depth20@100ms')).toBe('public');
    expect(v.group('btcusdt@depth@500ms')).toBe('public');
    expect(v.group('btcusdt@kline_1m')).toBe('market');
    expect(v.group('btcusdt@aggTrade')).toBe('market');
    expect(v.group('btcusdt@markPrice@1s')).toBe('market');
    expect(v.group('!markPrice@arr')).toBe('market');
    expect(v.group('!miniTicker@arr')).toBe('market');
    expect(v.url('market')).toBe('ws://127.0.0.1:9/market/stream');
    expect(v.url('public')).toBe('ws://127.0.0.1:9/public/stream');
    expect(() => v.group('btcusdt@trade')).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidStream }),
    );
    expect(() => v.group('not a stream')).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidStream }),
    );
    // Binance names the symbol in lower case: an upper-case one would never see its data.
    for (const venue of [v, binanceSpot()]) {
      expect(() => venue.group('BTCUSDT@aggTrade')).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidStream }),
      );
    }
    // Only the symbol: kline_1M (a month) and kline_1m (a minute) are two streams.
    expect(v.group('btcusdt@kline_1M')).toBe('market');
  });

  it('spot uses one path and its own limits; overrides apply', () => {
    const v = binanceSpot({ wsUrl: 'ws://127.0.0.1:1', limits: { streamsPerConnection: 10 } });
    expect(v.group('btcusdt@trade')).toBe('spot');
    expect(v.url('spot')).toBe('ws://127.0.0.1:1/stream');
    expect(v.limits).toMatchObject({ streamsPerConnection: 10, controlMessagesPerSecond: 5 });
    expect(binanceUsdm().limits).toMatchObject({
      streamsPerConnection: 200,
      controlMessagesPerSecond: 10,
      connectionLifetimeMs: 86_400_000,
      connectionAttempts: 300,
    });
  });

  // Found in review: a URL of `null` read as left out, so `wsUrl: null` from a config pointed
  // the venue at the production exchange; `binanceSpot(null)` was a TypeError.
  it('refuses a URL that is given but no string, null included, and options that are none', () => {
    for (const factory of [binanceSpot, binanceUsdm]) {
      for (const option of ['wsUrl', 'restUrl']) {
        for (const value of [null, 42, {}, ['wss://x.example']]) {
          expect(
            () => factory({ [option]: value } as never),
            `${option}: ${String(value)}`,
          ).toThrow(
            expect.objectContaining({
              code: ErrorCode.InvalidOption,
              message: `\`${option}\` must be a string`,
            }),
          );
        }
      }
      for (const options of [null, 42, 'wss://x.example', []]) {
        expect(() => factory(options as never), String(options)).toThrow(
          expect.objectContaining({ code: ErrorCode.InvalidOption }),
        );
      }
    }
    // Left out, or given as `undefined`, a URL keeps its default.
    expect(binanceUsdm({ wsUrl: undefined, restUrl: undefined })).toMatchObject({
      restUrl: 'https://fapi.binance.com',
    });
    expect(binanceUsdm(undefined).url('public')).toBe('wss://fstream.binance.com/public/stream');
    expect(binanceSpot({ wsUrl: undefined }).url('spot')).toBe(
      'wss://stream.binance.com:9443/stream',
    );
  });

  it('builds unsubscribe then subscribe frames, chunked by the params limit', () => {
    const v = binanceSpot({ limits: { paramsPerRequest: 2 } });
    let id = 0;
    const reqs = v.requests(
      { subscribe: ['a@x', 'b@x', 'c@x'], unsubscribe: ['d@x'], all: [] },
      () => ++id,
    );
    expect(reqs.map((r) => JSON.parse(r.frame ?? 'null'))).toEqual([
      { method: 'UNSUBSCRIBE', params: ['d@x'], id: 1 },
      { method: 'SUBSCRIBE', params: ['a@x', 'b@x'], id: 2 },
      { method: 'SUBSCRIBE', params: ['c@x'], id: 3 },
    ]);
  });

  // Found in review: a refusal's message went uncut into the refused stream's error, and
  // redacting 4 MB of it held the socket loop 1.6 s; its control characters reached the CLI.
  it("quotes a short, printable excerpt of a venue error's message", () => {
    const venues = [
      { v: binanceSpot(), frame: (msg: string) => ({ code: -1121, msg, id: 1 }) },
      { v: upbit(), frame: (message: string) => ({ error: { name: 'BAD', message } }) },
    ];
    for (const { v, frame } of venues) {
      const refusal = (msg: string) => {
        const c = v.classify(frame(msg));
        return c.kind === 'error' ? c.msg : undefined;
      };
      const started = performance.now();
      expect(refusal(',ws:'.repeat(1_000_000))).toHaveLength(200);
      expect(performance.now() - started).toBeLessThan(100);
      expect(refusal('\u001b[2J\nerror: fake')).toBe(' [2J error: fake');
    }
  });

  it('classifies data, responses, errors and shutdown notices', () => {
    const v = binanceSpot();
    expect(v.classify({ stream: 's@x', data: { u: 1 } })).toEqual({
      kind: 'data',
      stream: 's@x',
      payload: { u: 1 },
    });
    expect(v.classify({ result: null, id: 3 })).toEqual({ kind: 'response', id: 3, result: null });
    expect(v.classify({ code: 2, msg: 'Invalid request', id: 4 })).toEqual({
      kind: 'error',
      id: 4,
      code: 2,
      msg: 'Invalid request',
    });
    expect(v.classify({ error: { code: 2, msg: 'Invalid request' }, id: 5 })).toEqual({
      kind: 'error',
      id: 5,
      code: 2,
      msg: 'Invalid request',
    });
    expect(v.classify({ e: 'serverShutdown', E: 1 })).toEqual({ kind: 'shutdown' });
    expect(v.classify({ stream: '!serverShutdown', data: { e: 'serverShutdown' } })).toEqual({
      kind: 'shutdown',
    });
    for (const junk of [null, 42, 'x', [], { stream: 1 }, { id: 'x', result: 1 }]) {
      expect(v.classify(junk)).toEqual({ kind: 'unknown' });
    }
  });

  it('reads the stream key from the first bytes of a frame, text or binary', () => {
    const v = binanceSpot();
    const text = '{"stream":"btcusdt@kline_1m","data":{}}';
    expect(v.streamKey(text)).toBe('btcusdt@kline_1m');
    expect(v.streamKey(Buffer.from(text))).toBe('btcusdt@kline_1m');
    expect(v.streamKey(new TextEncoder().encode(text).buffer)).toBe('btcusdt@kline_1m');
    expect(v.streamKey('{"result":null,"id":1}')).toBe('*');
    expect(v.streamKey(Buffer.from('{"stream":"unterminated'))).toBe('*');
  });

  it('a non-ASCII symbol keys its frames by the name classify reads, bytes decoded as UTF-8', () => {
    const v = binanceUsdm();
    const name = `${'币安人生'.repeat(24)}usdt@aggTrade`; // 100 characters, 301 bytes
    for (const stream of ['币安人生usdt@aggTrade', name]) {
      const text = `{"stream":"${stream}","data":{}}`;
      const classified = v.classify(JSON.parse(text));
      expect(classified).toMatchObject({ kind: 'data', stream });
      expect(v.streamKey(Buffer.from(text))).toBe(stream);
      expect(v.streamKey(new TextEncoder().encode(text).buffer)).toBe(stream);
    }
  });

  it('sequences by update id, trade id or event time', () => {
    const v = binanceUsdm();
    expect(v.sequence({ u: 5, E: 9 })).toBe(5);
    expect(v.sequence({ e: 'aggTrade', a: 7, E: 9 })).toBe(7);
    expect(v.sequence({ e: 'depthUpdate', u: 8, a: [['1', '2']] })).toBe(8);
    expect(v.sequence({ e: 'kline', E: 11, k: { t: 1, x: false } })).toBe(23);
    // The closing update of a candle sorts before the next candle's first at the same time.
    expect(v.sequence({ e: 'kline', E: 11, k: { t: 0, x: true } })).toBe(22);
    expect(v.sequence([{ E: 3 }, { E: 4 }])).toBe(4);
    expect(v.sequence({ E: '12' })).toBe(12);
    expect(v.sequence('x')).toBeUndefined();
  });

  it('scopes a sequence to the symbol of a one-symbol message, an array to its whole push', () => {
    for (const v of [binanceUsdm(), binanceSpot()]) {
      const scope = (p: unknown) => v.sequenceScope!(p);
      expect(scope({ e: 'bookTicker', u: 5, s: 'ETHUSDT' })).toBe('ETHUSDT');
      expect(scope({ e: 'forceOrder', E: 9, o: { s: 'BTCUSDT' } })).toBe('BTCUSDT');
      expect(scope([{ E: 3, s: 'BTCUSDT' }])).toBeUndefined();
      expect(scope({ lastUpdateId: 160, bids: [] })).toBeUndefined();
      expect(scope({ u: 1, s: 7, o: null })).toBeUndefined();
      expect(scope(null)).toBeUndefined();
    }
  });

  it('names the kind of a stream', () => {
    expect(streamKind('btcusdt@kline_1M')).toBe('kline');
    expect(streamKind('ethusdt@depth5')).toBe('depth');
    expect(streamKind('!ticker@arr')).toBe('ticker');
  });
});
