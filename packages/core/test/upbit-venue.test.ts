import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../src/errors.js';
import { parseUpbitStream, upbit, upbitStream } from '../src/upbit.js';

describe('upbit venue', () => {
  it('has Upbit endpoint, heartbeat, answers and limits as settings', () => {
    const v = upbit();
    expect(v.name).toBe('upbit');
    expect(v.url(v.group('ticker:KRW-BTC'))).toBe('wss://api.upbit.com/websocket/v1');
    expect(v.heartbeat).toEqual({ style: 'message', message: 'PING' });
    expect(v.answers).toEqual({ style: 'errors-only', settleMs: 1000 });
    // Negative: every refusal taken as late; endless: no request ever settled.
    for (const settleMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, 'x' as never]) {
      expect(() => upbit({ settleMs })).toThrow(
        expect.objectContaining({ code: 'UNIFEED_INVALID_OPTION' }),
      );
    }
    expect(upbit({ settleMs: 0 }).answers).toEqual({ style: 'errors-only', settleMs: 0 });
    expect(v.limits).toMatchObject({
      controlMessagesPerSecond: 5,
      controlMessagesPerMinute: 100,
      connectionAttempts: 4, // one under Upbit's 5 a second: handshakes take varying time
      connectionAttemptWindowMs: 1000,
    });
    const sim = upbit({ wsUrl: 'ws://127.0.0.1:1234/', limits: { streamsPerConnection: 3 } });
    expect(sim.url('public')).toBe('ws://127.0.0.1:1234/websocket/v1');
    expect(sim.limits.streamsPerConnection).toBe(3);
    expect(() => upbit({ wsUrl: 'ws://example.com' })).toThrow(
      expect.objectContaining({ code: ErrorCode.InsecureUrl }),
    );
  });

  // Found in review: `null` read as left out, so `wsUrl: null` connected to the exchange
  // itself, and `upbit(null)` was a TypeError.
  it('refuses options given as null or of the wrong type, and options that are none', () => {
    const refused = (options: unknown, message?: string) =>
      expect(() => upbit(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({
          code: ErrorCode.InvalidOption,
          ...(message === undefined ? {} : { message }),
        }),
      );
    for (const option of ['wsUrl', 'restUrl', 'ticket']) {
      for (const value of [null, 42, {}]) {
        refused({ [option]: value }, `\`${option}\` must be a string`);
      }
    }
    refused({ settleMs: null }, '`settleMs` must be a number from 0 to 60000, not null');
    for (const options of [null, 42, 'wss://x.example', []]) refused(options);
    // Given as `undefined`, each keeps its default.
    const v = upbit({
      wsUrl: undefined,
      restUrl: undefined,
      settleMs: undefined,
      ticket: undefined,
    });
    expect(v.url('public')).toBe('wss://api.upbit.com/websocket/v1');
    expect(v.restUrl).toBe('https://api.upbit.com');
    expect(v.answers).toEqual({ style: 'errors-only', settleMs: 1000 });
    const [req] = v.requests(
      { subscribe: ['trade:KRW-BTC'], unsubscribe: [], all: ['trade:KRW-BTC'] },
      () => 1,
    );
    expect(JSON.parse(req!.frame!)[0]).toEqual({ ticket: 'unifeed-1' });
    expect(upbit(undefined).name).toBe('upbit');
  });

  it('names streams <type>:<code> and refuses what Upbit does not have', () => {
    const v = upbit();
    expect(upbitStream('candle.1m', 'KRW-BTC')).toBe('candle.1m:KRW-BTC');
    expect(parseUpbitStream('orderbook:BTC-ETH')).toEqual({ type: 'orderbook', code: 'BTC-ETH' });
    for (const s of [
      'ticker:KRW-BTC',
      'trade:USDT-XRP',
      'orderbook:KRW-ETH',
      'candle.240m:KRW-BTC',
    ]) {
      expect(v.group(s)).toBe('public');
    }
    for (const bad of [
      'ticker',
      'ticker:',
      ':KRW-BTC',
      'ticker:krw-btc',
      'ticker:KRWBTC',
      'candle.2m:KRW-BTC',
      'btcusdt@ticker',
      'depth:KRW-BTC',
    ]) {
      expect(() => v.group(bad), bad).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidStream }),
      );
    }
  });

  it('sends the whole set in one request, one type object per type, and cannot say an empty set', () => {
    const v = upbit({ ticket: 't' });
    let id = 0;
    const [req, ...rest] = v.requests(
      {
        subscribe: ['trade:KRW-BTC'],
        unsubscribe: ['ticker:KRW-XRP'],
        all: ['ticker:KRW-BTC', 'trade:KRW-BTC', 'ticker:KRW-ETH', 'candle.1s:KRW-BTC'],
      },
      () => ++id,
    );
    expect(rest).toEqual([]);
    expect(req).toMatchObject({
      id: 1,
      op: 'replace',
      streams: ['ticker:KRW-BTC', 'trade:KRW-BTC', 'ticker:KRW-ETH', 'candle.1s:KRW-BTC'],
    });
    expect(JSON.parse(req!.frame!)).toEqual([
      { ticket: 't-1' },
      { type: 'ticker', codes: ['KRW-BTC', 'KRW-ETH'] },
      { type: 'trade', codes: ['KRW-BTC'] },
      { type: 'candle.1s', codes: ['KRW-BTC'] },
      { format: 'DEFAULT' },
    ]);
    const [empty] = v.requests(
      { subscribe: [], unsubscribe: ['ticker:KRW-BTC'], all: [] },
      () => ++id,
    );
    expect(empty).toEqual({ id: 2, op: 'replace', streams: [], frame: null });
  });

  it('classifies data, the PING answer, error objects and anything else', () => {
    const v = upbit();
    const data = { type: 'ticker', code: 'KRW-BTC', trade_price: 1 };
    expect(v.classify(data)).toEqual({ kind: 'data', stream: 'ticker:KRW-BTC', payload: data });
    expect(v.classify({ status: 'UP' })).toEqual({ kind: 'pong' });
    for (const name of ['NO_TICKET', 'NO_TYPE', 'NO_CODES', 'WRONG_FORMAT', 'INVALID_PARAM']) {
      expect(v.classify({ error: { name, message: 'why' } })).toEqual({
        kind: 'error',
        id: null,
        code: name,
        msg: 'why',
      });
    }
    for (const other of [null, 7, 'x', [], {}, { status: 'DOWN' }, { error: {} }, { type: 1 }]) {
      expect(v.classify(other)).toEqual({ kind: 'unknown' });
    }
  });

  it('reads the stream key from the first bytes of text and binary frames', () => {
    const v = upbit();
    const text = '{"type":"orderbook","code":"KRW-BTC","timestamp":1}';
    expect(v.streamKey(text)).toBe('orderbook:KRW-BTC');
    expect(v.streamKey(Buffer.from(text))).toBe('orderbook:KRW-BTC');
    expect(v.streamKey(new TextEncoder().encode(text).buffer)).toBe('orderbook:KRW-BTC');
    expect(v.streamKey([Buffer.from(text.slice(0, 40)), Buffer.from(text.slice(40))])).toBe(
      'orderbook:KRW-BTC',
    );
    for (const other of ['{"status":"UP"}', '{"type":"ticker"}', '{"code":"KRW-BTC"}', '']) {
      expect(v.streamKey(other)).toBe('*');
    }
  });

  it('sequences states by timestamp, and tells trades (no promised order) and same-ms states apart by key', () => {
    const v = upbit();
    // Upbit: sequential_id "does not guarantee the order of transactions".
    expect(v.sequence({ sequential_id: 17, timestamp: 5 })).toBeUndefined();
    expect(v.repeatKey!({ sequential_id: '17303368620470001', timestamp: 5 })).toBe(
      'id:17303368620470001',
    );
    const state = { type: 'ticker', code: 'KRW-BTC', timestamp: 5, trade_volume: 1 };
    expect(v.repeatKey!({ ...state })).toBe(v.repeatKey!(state));
    expect(v.repeatKey!({ ...state, trade_volume: 2 })).not.toBe(v.repeatKey!(state));
    // A replacement's first SNAPSHOT of the state the old connection sent as REALTIME.
    expect(v.repeatKey!({ ...state, stream_type: 'SNAPSHOT' })).toBe(
      v.repeatKey!({ ...state, stream_type: 'REALTIME' }),
    );
    expect(v.repeatKey!(null)).toBeUndefined();
    // Too deep for stringify's recursion: no key, rather than a RangeError in the socket loop.
    const deep: unknown = JSON.parse(`{"type":"ticker","x":${'['.repeat(1e5)}${']'.repeat(1e5)}}`);
    expect(v.repeatKey!(deep)).toBeUndefined();
    expect(v.sequence({ timestamp: 5 })).toBe(5);
    expect(v.sequence({ timestamp: 2 ** 64 })).toBeUndefined();
    expect(v.sequence({ timestamp: '5x' })).toBeUndefined();
    expect(v.sequence(null)).toBeUndefined();
  });

  it("decodes a trade's sequential_id, beyond 2^53, to its digits, and tells trades apart by them", () => {
    const v = upbit();
    const frame = (id: string) => `{"type":"trade","code":"KRW-BTC","sequential_id":${id}}`;
    const [a, b] = ['17303368620470000', '17303368620470001'].map((id) => v.decode!(frame(id)));
    expect(a).toMatchObject({ sequential_id: '17303368620470000' });
    // Exact digits: two ids one apart past 2^53 are two trades.
    expect(v.repeatKey!(b)).not.toBe(v.repeatKey!(a));
    // Any number of 16 digits or more, fractions included, keeps its digits: a day's KRW
    // turnover, a book size of a coin priced below a won. Shorter ones stay numbers.
    const ticker = v.decode!(
      '{"type":"ticker","code":"KRW-BTC","acc_trade_price":44575981826.4731735,"trade_price":32287000,"change_rate":0.0126713295,"trade_date":"20230816123456789012"}',
    );
    expect(ticker).toEqual({
      type: 'ticker',
      code: 'KRW-BTC',
      acc_trade_price: '44575981826.4731735',
      trade_price: 32287000,
      change_rate: 0.0126713295,
      trade_date: '20230816123456789012', // a string is left as it is
    });
    expect(
      v.decode!('{"type":"orderbook","code":"KRW-SHIB","total_ask_size":123456789012.12345678}'),
    ).toMatchObject({ total_ask_size: '123456789012.12345678' });
    // An exponent is no digit of the number's: left to JSON.parse.
    expect(v.decode!('[1.234567890123456e5,-0.12345678901234567]')).toEqual([
      123456.7890123456,
      '-0.12345678901234567',
    ]);
    expect(v.decode!(Buffer.from(frame('17303368620470001')))).toMatchObject({
      sequential_id: '17303368620470001',
    });
    // Written otherwise than Upbit does (keys reordered, a space): still exact.
    for (const text of [
      '{"code":"KRW-BTC","type":"trade","sequential_id":17303368620470001}',
      '{"type": "trade","code":"KRW-BTC","sequential_id":17303368620470001}',
    ]) {
      expect(v.decode!(text)).toMatchObject({ sequential_id: '17303368620470001' });
    }
    expect(v.decode!('[1,2]')).toEqual([1, 2]);
    expect(v.decode!('null')).toBeNull();
  });

  // Pins the lossless decode at exactly 16 digits. Found by mutation: a 16-digit sequential_id
  // past 2^53 was rounded by JSON.parse, and two trades one id apart were taken for one.
  it('a number of exactly 16 digits past 2^53 keeps its digits too', () => {
    expect(
      upbit().decode!('{"type":"trade","code":"KRW-BTC","sequential_id":9007199254740993}'),
    ).toMatchObject({ sequential_id: '9007199254740993' });
  });
});
