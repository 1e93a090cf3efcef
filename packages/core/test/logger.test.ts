import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  createLogger,
  guardedLogger,
  REDACT_PATHS,
  silentLogger,
  type Logger,
} from '../src/logger.js';
import { excerpt, redactUrl } from '../src/redact.js';

/** A destination that keeps every line written to it. */
function memorySink() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, sink };
}

// Found in review: venue messages were cut, then redacted (a key's first 29 characters were
// quoted), a stream refusal's was not cut at all (4 MB, 1.6 s of redaction in the socket loop),
// and their control characters reached the CLI's terminal.
describe('excerpt', () => {
  const key = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';

  it('quotes no part of a key, wherever the cut falls', () => {
    for (let at = 150; at < 520; at++) {
      const text = `${'x '.repeat(at >> 1)}${at % 2 ? 'y' : ''} ${key} and more ${key}`;
      for (const max of [200, 120]) {
        const out = excerpt(text, max);
        expect(out.length).toBeLessThanOrEqual(max);
        expect(out, `at ${at}, max ${max}`).not.toMatch(/[A-Za-z0-9]{20,}/);
      }
    }
    expect(excerpt(`Invalid listenKey ${key}.`, 200)).toBe('Invalid listenKey [redacted].');
    // A long run cut off says so, rather than quote nothing (a 400-letter value as `""`).
    expect(excerpt('A'.repeat(400), 40)).toBe('…');
    expect(excerpt(`Invalid symbol ${'x'.repeat(600)}`, 200)).toBe('Invalid symbol …');
  });

  it('reads a megabyte no further than a line, and turns control characters into spaces', () => {
    const started = performance.now();
    expect(excerpt(',ws:'.repeat(1_000_000), 200)).toHaveLength(200);
    expect(performance.now() - started).toBeLessThan(100);
    expect(excerpt('\u001b]0;owned\u0007\u001b[2J\nerror: fake\u009b line', 200)).toBe(
      ' ]0;owned  [2J error: fake  line',
    );
  });
});

describe('redactUrl', () => {
  it('removes listen keys, signatures and credentials from URLs', () => {
    const key = 'pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1';
    expect(redactUrl(`wss://fstream.binance.com/private/ws?listenKey=${key}&events=A`)).toBe(
      'wss://fstream.binance.com/private/ws?listenKey=[redacted]&events=A',
    );
    expect(redactUrl(`wss://stream.binance.com:9443/ws/${key}`)).toBe(
      'wss://stream.binance.com:9443/ws/[redacted]',
    );
    expect(redactUrl('https://user:pw@host/x?apiKey=abc&signature=def')).toBe(
      'https://host/x?apiKey=[redacted]&signature=[redacted]',
    );
    expect(redactUrl('wss://stream.binance.com/stream?streams=btcusdt@kline_1m')).toBe(
      'wss://stream.binance.com/stream?streams=btcusdt@kline_1m',
    );
    // A password holding an `@`: userinfo ends at the last one.
    expect(redactUrl('https://user:p@ss@host/x')).toBe('https://host/x');
    expect(redactUrl('wss://u:p@ss@host?streams=a@trade')).toBe('wss://host/?streams=a@trade');
  });

  it('finds keys and credentials in every form a URL or an error message holds them', () => {
    const key = 'pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1';
    // Binance's combined-stream form of a user-data stream names the key as a stream.
    expect(redactUrl(`wss://h/stream?streams=${key}`)).toBe('wss://h/stream?streams=[redacted]');
    expect(redactUrl(`wss://h/stream?streams=btcusdt@trade/${key}`)).toBe(
      'wss://h/stream?streams=btcusdt@trade/[redacted]',
    );
    // Quoted in an error, or followed by a dot or a semicolon.
    expect(redactUrl(`Failed: The URL 'wss://host/ws/${key}' is invalid.`)).toBe(
      "Failed: The URL 'wss://host/ws/[redacted]' is invalid.",
    );
    expect(redactUrl(`no stream ${key}.`)).toBe('no stream [redacted].');
    // WHATWG URL parsing reads credentials without `//` and behind backslashes too.
    expect(redactUrl('ws:user:secretpw@127.0.0.1:1/x')).toBe('ws://127.0.0.1:1/x');
    expect(redactUrl('ws:\\\\user:secretpw@host/x')).toBe('ws://host/x');
    // A password may hold a quote or a space, which the URL parser takes.
    expect(redactUrl("ws://alice:pa'ss@proxy.example.com/ws")).toBe('ws://proxy.example.com/ws');
    expect(redactUrl('wss://alice:pa ss@proxy.example.com/ws')).toBe('wss://proxy.example.com/ws');
    expect(redactUrl('wss://alice:p"w@proxy.example.com/ws')).toBe('wss://proxy.example.com/ws');
    // Quoted in free text, with or without `//`.
    expect(redactUrl("error: the URL 'wss://u:pa'ss@host/x' failed")).toBe(
      "error: the URL 'wss://host/x' failed",
    );
    expect(redactUrl("error: the URL 'ws:u:pw@host/x' failed")).toBe(
      "error: the URL 'ws:host/x' failed",
    );
    // Ordinary text, addresses and stream names are left alone.
    expect(redactUrl('no data on stream:btcusdt@aggTrade')).toBe(
      'no data on stream:btcusdt@aggTrade',
    );
    expect(redactUrl('refused [ticker:KRW-BTC@x]')).toBe('refused [ticker:KRW-BTC@x]');
    expect(redactUrl('connect ECONNREFUSED 127.0.0.1:9443')).toBe(
      'connect ECONNREFUSED 127.0.0.1:9443',
    );
    expect(redactUrl('wss://stream.binance.com:9443/stream?streams=btcusdt@kline_1m')).toBe(
      'wss://stream.binance.com:9443/stream?streams=btcusdt@kline_1m',
    );
  });

  it('takes linear time on a long text made to backtrack', () => {
    // A scheme at every word: unbounded, the userinfo pattern would scan to the end from each
    // (50,000 x 200,000 steps, seconds); bounded, it is some 60 ms here.
    const text = 'ws:;'.repeat(50_000);
    const started = performance.now();
    expect(redactUrl(text)).toBe(text);
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('the redaction list censors secrets in pino log objects', () => {
    const { lines, sink } = memorySink();
    const log = pino({ redact: { paths: [...REDACT_PATHS], censor: '[redacted]' } }, sink);
    log.info({ apiKey: 'K1', config: { secret: 'S1', listenKey: 'L1' } }, 'hi');
    // The header as RestClient spells it, and a WS API request's params two levels down.
    log.info({ headers: { 'X-MBX-APIKEY': 'K2' }, req: { headers: { 'x-mbx-apikey': 'K3' } } });
    log.info({ request: { params: { apiKey: 'K4', signature: 'G4' } } });
    expect(lines.join('')).not.toMatch(/K1|S1|L1|K2|K3|K4|G4/);
    expect(lines.join('')).toContain('[redacted]');
  });

  it("createLogger keeps the caller's own redact paths next to unifeed's", () => {
    const { lines, sink } = memorySink();
    createLogger({ redact: ['token'] }, sink).info({ token: 'T1', apiKey: 'K1' }, 'hi');
    createLogger({ redact: { paths: ['pin'], censor: '***' } }, sink).info({
      pin: 'P1',
      secret: 'S1',
    });
    const out = lines.join('');
    expect(out).not.toMatch(/T1|K1|P1|S1/);
    expect(out).toContain('***');
  });

  it('guardedLogger passes every call through and swallows what the logger throws', () => {
    const calls: unknown[][] = [];
    let throwing = false;
    const inner: Logger = {
      trace: (...a: unknown[]) => record('trace', a),
      debug: (...a: unknown[]) => record('debug', a),
      info: (...a: unknown[]) => record('info', a),
      warn: (...a: unknown[]) => record('warn', a),
      error: (...a: unknown[]) => record('error', a),
      child: (b) => {
        if (throwing) throw new Error('child');
        calls.push(['child', b]);
        return inner;
      },
    };
    function record(level: string, args: unknown[]) {
      calls.push([level, ...args]);
      if (throwing) throw new Error(level);
    }
    const log = guardedLogger(inner);
    log.info({ a: 1 }, 'one');
    log.warn({ b: 2 });
    log.child({ feed: 'x' }).error({ c: 3 }, 'three');
    // The message argument is passed only when given, as pino counts its arguments.
    expect(calls).toEqual([
      ['info', { a: 1 }, 'one'],
      ['warn', { b: 2 }],
      ['child', { feed: 'x' }],
      ['error', { c: 3 }, 'three'],
    ]);
    throwing = true;
    for (const level of ['trace', 'debug', 'info', 'warn', 'error'] as const) {
      expect(() => log[level]({}, 'm')).not.toThrow();
    }
    expect(log.child({ feed: 'y' })).toBe(silentLogger);
    expect(guardedLogger(silentLogger)).toBe(silentLogger);
    expect(guardedLogger(log)).toBe(log); // guarded once, however often it is passed on
  });

  // Pins that every secret parameter is blanked whatever its length, and that a bare key of
  // exactly 40 characters counts as one. Found by mutation: a short apiKey or signature value,
  // or a 40-character key in an error message, went to the logs in clear.
  it('blanks every secret parameter however short, and a key of exactly 40 characters', () => {
    for (const name of ['listenKey', 'apiKey', 'signature', 'secret', 'timestamp', 'token']) {
      expect(redactUrl(`wss://proxy.example.com/ws?${name}=s3cr3t&x=1`)).toBe(
        `wss://proxy.example.com/ws?${name}=[redacted]&x=1`,
      );
    }
    const key40 = 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0';
    expect(key40).toHaveLength(40);
    expect(redactUrl(`no stream ${key40}.`)).toBe('no stream [redacted].');
    expect(redactUrl(`no stream ${key40.slice(1)}.`)).toBe(`no stream ${key40.slice(1)}.`);
  });
});
