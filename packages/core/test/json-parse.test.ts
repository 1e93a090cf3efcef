import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, parseJson } from '../src/json-parse.js';
import { decodeJson } from '../src/transport.js';
import { prng } from './prng.js';

/**
 * `parseJson(text)` must equal `JSON.parse(text)`: the same value (-0 and NaN-free numbers
 * compared with Object.is), the same own keys in the same order, and the same prototype.
 */
function expectSameAsJsonParse(text: string): void {
  const expected: unknown = JSON.parse(text);
  const actual = parseJson(text);
  expectSameValue(actual, expected, '$');
}

function expectSameValue(actual: unknown, expected: unknown, path: string): void {
  if (typeof expected !== 'object' || expected === null) {
    expect(Object.is(actual, expected), `${path}: ${String(actual)} vs ${String(expected)}`).toBe(
      true,
    );
    return;
  }
  expect(Array.isArray(actual), path).toBe(Array.isArray(expected));
  expect(Object.getPrototypeOf(actual), path).toBe(Object.getPrototypeOf(expected));
  const a = actual as Record<string, unknown>;
  const e = expected as Record<string, unknown>;
  expect(Reflect.ownKeys(a), path).toEqual(Reflect.ownKeys(e));
  for (const key of Object.keys(e)) {
    expect(Object.getOwnPropertyDescriptor(a, key)?.enumerable, `${path}.${key}`).toBe(true);
    expectSameValue(a[key], e[key], `${path}.${key}`);
  }
}

/** Refused by both, and by parseJson with a SyntaxError. */
function expectRefused(text: string): void {
  expect(() => JSON.parse(text), `JSON.parse accepted ${JSON.stringify(text)}`).toThrow(
    SyntaxError,
  );
  expect(() => parseJson(text), `parseJson accepted ${JSON.stringify(text)}`).toThrow(SyntaxError);
}

const KLINE =
  '{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1764600000123,"s":"BTCUSDT","k":' +
  '{"t":1764600000000,"T":1764600059999,"s":"BTCUSDT","i":"1m","f":100,"L":200,"o":"43251.12",' +
  '"c":"43260.00","h":"43270.50","l":"43240.01","v":"12.345","n":100,"x":false,' +
  '"q":"533812.3412","V":"6.1","Q":"263812.10","B":"0"}}}';

describe('parseJson: what JSON.parse gives', () => {
  it.each([
    ['a combined-stream kline', KLINE],
    [
      'a bookTicker',
      '{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}',
    ],
    [
      'a depth diff with levels in arrays',
      '{"e":"depthUpdate","E":1,"U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"],["0.0027","0"]]}',
    ],
    ['an answer', '{"result":null,"id":312}'],
    ['the top-level literals', 'true'],
    ['false', 'false'],
    ['null', 'null'],
    ['a bare string', '"x"'],
    ['a bare number', '42'],
    ['empty containers', '{"a":{},"b":[],"c":[{}, [[]]]}'],
    [
      'whitespace of all four kinds everywhere',
      ' \t\n\r{ \t\n\r"a" \t\n\r: \t\n\r[ 1 , 2 ] \r\n}\t ',
    ],
    ['duplicate keys: the last value, at the first position', '{"a":1,"b":2,"a":3}'],
    ['__proto__ as an own property, twice', '{"__proto__":{"x":1},"y":2,"__proto__":[3]}'],
    [
      'array-index keys, ordered as JSON.parse orders them',
      '{"b":1,"2":2,"a":3,"1":4,"01":5,"-1":6,"4294967295":7}',
    ],
    [
      'keys that are Object.prototype names',
      '{"toString":1,"hasOwnProperty":2,"constructor":3,"valueOf":null}',
    ],
    ['an empty key and an empty string', '{"":""}'],
  ])('%s', (_what, text) => {
    expectSameAsJsonParse(text);
  });

  it.each([
    '0',
    '-0',
    '7',
    '-7',
    '10',
    '123456789012345',
    '-123456789012345',
    // 16 digits and more: rounded, as JSON.parse rounds them.
    '1234567890123456',
    '9007199254740993',
    '-9007199254740993',
    '12345678901234567890123',
    '0.1',
    '-0.0',
    '1.5e3',
    '1.5E+3',
    '1e-7',
    '2.5e-324',
    '1e400',
    '-1e400',
    '0e0',
    '123.456e-2',
    '4.35',
    '0.30000000000000004',
    '1764600059999',
    '999999999999999',
    '1000000000000000',
  ])('the number %s', (text) => {
    expectSameAsJsonParse(text);
    expectSameAsJsonParse(`[${text}]`);
    expectSameAsJsonParse(`{"n":${text}}`);
  });

  it.each([
    ['escapes of every kind', String.raw`"\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac"`],
    ['an escaped quote at the end', String.raw`"abc\""`],
    ['a surrogate pair escaped', String.raw`"\ud83d\ude00"`],
    ['a lone surrogate escaped', String.raw`"\ud800x"`],
    ['non-ASCII text as is', '"héllo wörld €😀"'],
    ['a lone surrogate as is', '"\ud800"'],
    ['DEL and other non-control characters', '"\u007f\u0080\u2028\u2029"'],
    ['a 12-character string (sliced)', '"abcdefghijkl"'],
    ['a 13-character string (copied)', '"abcdefghijklm"'],
    ['a long string', `"${'x'.repeat(10_000)}"`],
    ['an escape in a key', String.raw`{"a\"b":1,"\u0063":2}`],
    ['a key over 12 characters', '{"abcdefghijklmnop":1}'],
  ])('%s', (_what, text) => {
    expectSameAsJsonParse(text);
    expectSameAsJsonParse(`{"s":${text}, "t": [${text}]}`);
  });

  it('nesting up to MAX_DEPTH levels', () => {
    expectSameAsJsonParse(`${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}`);
    expectSameAsJsonParse(`${'{"a":'.repeat(MAX_DEPTH - 1)}{}${'}'.repeat(MAX_DEPTH - 1)}`);
  });

  it('defines a property where Object.prototype has a setter or a read-only one of its name', () => {
    let setterCalls = 0;
    Object.defineProperty(Object.prototype, 'unifeedSetter', {
      set() {
        setterCalls++;
      },
      configurable: true,
    });
    Object.defineProperty(Object.prototype, 'unifeedReadOnly', {
      value: 0,
      writable: false,
      configurable: true,
    });
    try {
      const text = '{"unifeedSetter":1,"unifeedReadOnly":2,"a":3}';
      expectSameAsJsonParse(text);
      expect(parseJson(text)).toEqual(Object.assign(Object.create(null), JSON.parse(text)));
      expect(setterCalls).toBe(0);
    } finally {
      delete (Object.prototype as Record<string, unknown>).unifeedSetter;
      delete (Object.prototype as Record<string, unknown>).unifeedReadOnly;
    }
  });

  it('defines an element where Array.prototype has an accessor of its index', () => {
    let setterCalls = 0;
    Object.defineProperty(Array.prototype, '0', {
      get: () => 'polluted',
      set() {
        setterCalls++;
      },
      configurable: true,
    });
    try {
      // Compared as text: with an accessor on Array.prototype, the matchers' own arrays break.
      const text = '{"b":[["0.0024","10"]],"a":[]}';
      for (const value of [JSON.parse(text), parseJson(text)] as { b: unknown[][]; a: [] }[]) {
        expect(Object.hasOwn(value.b, 0) && Object.hasOwn(value.b[0]!, 0)).toBe(true);
        expect(`${value.b.length} ${value.b[0]!.length} ${value.a.length}`).toBe('1 2 0');
        expect(`${String(value.b[0]![0])} ${String(value.b[0]![1])}`).toBe('0.0024 10');
      }
      expect(setterCalls).toBe(0);
    } finally {
      delete (Array.prototype as unknown as Record<string, unknown>)['0'];
    }
  });

  it('random JSON values, with random whitespace: 2,000 of them from a seed', () => {
    const random = prng(0x15_0b);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const space = () => pick(['', '', '', ' ', '\n', '\t', '\r\n ']);
    const strings = [
      '',
      'a',
      'kline',
      '43251.12',
      'BTCUSDT',
      '__proto__',
      '0',
      '1',
      'é€😀',
      'a"b\\c\n',
      '\u0000\u001f',
      'a'.repeat(13),
      'toString',
    ];
    const numbers = [
      0,
      -0,
      1,
      -1,
      0.5,
      1e21,
      1e-7,
      123456789012345,
      2 ** 53 + 2,
      1764600000000,
      -43251.12,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
    ];
    const gen = (depth: number): string => {
      const kind = depth > 4 ? Math.floor(random() * 4) : Math.floor(random() * 6);
      switch (kind) {
        case 0:
          return JSON.stringify(pick(strings));
        case 1: {
          const n = pick(numbers);
          // Also written by hand, as JSON.stringify never would.
          return pick([JSON.stringify(n), n.toExponential(), String(n).replace('e+', 'E')]);
        }
        case 2:
          return pick(['true', 'false', 'null']);
        case 3:
          return JSON.stringify(random() * 1e6 - 5e5);
        case 4: {
          const n = Math.floor(random() * 5);
          const items = Array.from({ length: n }, () => `${space()}${gen(depth + 1)}${space()}`);
          return `[${items.join(',')}${n === 0 ? space() : ''}]`;
        }
        default: {
          const n = Math.floor(random() * 5);
          const items = Array.from(
            { length: n },
            () =>
              `${space()}${JSON.stringify(pick(strings))}${space()}:${space()}${gen(depth + 1)}${space()}`,
          );
          return `{${items.join(',')}${n === 0 ? space() : ''}}`;
        }
      }
    };
    for (let i = 0; i < 2000; i++) expectSameAsJsonParse(`${space()}${gen(0)}${space()}`);
  });
});

describe('parseJson: what JSON.parse refuses', () => {
  it.each([
    '',
    ' ',
    '\n\t',
    '{',
    '}',
    '[',
    ']',
    '{"a":1',
    '[1,2',
    '"abc',
    '"abc\\"',
    '"abc\\',
    '{"a":1,}',
    '[1,]',
    '[,1]',
    '{,}',
    '{"a" 1}',
    '{"a":}',
    '{a:1}',
    "{'a':1}",
    '{1:2}',
    '{"a":1 "b":2}',
    '[1 2]',
    '01',
    '-01',
    '00',
    '-',
    '+1',
    '.5',
    '1.',
    '1.e5',
    '1e',
    '1e+',
    '-e5',
    '0x10',
    'NaN',
    'Infinity',
    '-Infinity',
    'tru',
    'truee',
    'nul',
    'fals',
    'True',
    'undefined',
    '1 2',
    '{} {}',
    '[]]',
    '{}}',
    '"a" "b"',
    '"\t"',
    '"\n"',
    '"a\u0000"',
    '"\u001f"',
    '"\\x41"',
    '"\\u12"',
    '"\\u12g4"',
    '"\\a"',
    '"\\\'"',
    '\u00a0 1',
    '1\u00a0',
    '\ufeff1',
    '[1]\u2028',
    '/* */1',
    '1 // x',
  ])('%j', (text) => {
    expectRefused(text);
  });

  it('the message gives a position and never quotes the text, which may hold a listen key', () => {
    const secret = 'pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a8';
    for (const text of [
      `{"listenKey":"${secret}",}`,
      `{"listenKey":"${secret}\\q"}`,
      `{"listenKey":"${secret}`,
      `{"listenKey":${secret}}`,
    ]) {
      let error: unknown;
      try {
        parseJson(text);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(SyntaxError);
      expect((error as Error).message).not.toContain(secret.slice(0, 8));
      expect((error as Error).message).toMatch(/position \d+|end of JSON input/);
    }
  });

  it('a position where the text goes wrong', () => {
    expect(() => parseJson('{"a":1,}')).toThrow('Unexpected character in JSON at position 7');
    expect(() => parseJson('[1,2')).toThrow('Unexpected end of JSON input');
    expect(() => parseJson('[1] x')).toThrow('Unexpected character in JSON at position 4');
  });

  it('nesting deeper than MAX_DEPTH, which JSON.parse takes, with a SyntaxError instead of a stack overflow', () => {
    for (const text of [
      `${'['.repeat(MAX_DEPTH + 1)}${']'.repeat(MAX_DEPTH + 1)}`,
      `${'{"a":'.repeat(MAX_DEPTH)}{}${'}'.repeat(MAX_DEPTH)}`,
      '['.repeat(1_000_000),
    ]) {
      expect(() => parseJson(text)).toThrow(`JSON nested deeper than ${MAX_DEPTH} levels`);
    }
  });

  it('parses again after a refusal, from the start of the next text', () => {
    expect(() => parseJson('{"a":[1,2,')).toThrow(SyntaxError);
    expect(() => parseJson(`${'['.repeat(MAX_DEPTH + 1)}`)).toThrow(SyntaxError);
    expectSameAsJsonParse(KLINE);
    expectSameAsJsonParse('[[1]]');
  });

  it('random corruptions of valid texts: refused or accepted exactly as JSON.parse does', () => {
    const random = prng(0xbad_15);
    const sources = [
      KLINE,
      '{"a":[1,-2.5e3,true,null,"x\\n"],"b":{"c":""}}',
      '[0,{"__proto__":1}]',
    ];
    const bytes = [
      '"',
      '\\',
      ',',
      ':',
      '{',
      '}',
      '[',
      ']',
      '0',
      '-',
      '.',
      'e',
      ' ',
      'x',
      '\u0000',
      'é',
    ];
    for (let i = 0; i < 3000; i++) {
      const source = sources[i % sources.length]!;
      const at = Math.floor(random() * (source.length + 1));
      const op = Math.floor(random() * 3);
      const piece = bytes[Math.floor(random() * bytes.length)]!;
      const text =
        op === 0
          ? source.slice(0, at) + source.slice(at + 1)
          : op === 1
            ? source.slice(0, at) + piece + source.slice(at)
            : source.slice(0, at) + piece + source.slice(at + 1);
      let expected: unknown;
      try {
        expected = JSON.parse(text);
      } catch {
        expect(() => parseJson(text), text).toThrow(SyntaxError);
        continue;
      }
      expectSameValue(parseJson(text), expected, text);
    }
  });
});

describe('parseJson: memory', () => {
  it('keeps nothing of the text alive, neither itself nor through the strings it returns', () => {
    // `gc` on demand, for this measurement only.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heap = () => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    // A 4 MiB text, built and parsed in a frame of its own, so that once it returns only the
    // parser could keep the text: itself, or as the parent of a string it sliced. The value
    // has a string of every length at which strings are sliced or copied, and is kept.
    const parseFresh = (i: number): unknown => {
      const value = parseJson(
        `{"short":"${'s'.repeat(12)}","long":"${'l'.repeat(13)}","longer":"${'x'.repeat(40)}","rest":"${`${i}`.repeat(4 * 1024 * 1024)}"}`,
      ) as Record<string, unknown>;
      delete value.rest;
      return value;
    };
    const before = heap();
    const kept = Array.from({ length: 8 }, (_, i) => parseFresh(i));
    // Through a slice, 32 MiB of text would stay; through the parser's last text, 4 MiB.
    expect(heap() - before).toBeLessThan(2 * 1024 * 1024);
    expect(kept).toHaveLength(8);
  });
});

describe('decodeJson', () => {
  it('decodes every kind of frame with parseJson', () => {
    const bytes = new TextEncoder().encode(KLINE);
    for (const frame of [
      KLINE,
      bytes,
      bytes.buffer,
      [bytes.subarray(0, 100), bytes.subarray(100)],
    ]) {
      expectSameValue(decodeJson(frame), JSON.parse(KLINE), '$');
    }
    // What only parseJson does: refuse what is nested too deep.
    expect(() => decodeJson('['.repeat(MAX_DEPTH + 1))).toThrow(`deeper than ${MAX_DEPTH}`);
  });
});
