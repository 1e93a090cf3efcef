import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLossless } from '../src/index.js';

describe('parseLossless', () => {
  it('keeps integers of 16 digits or more as their exact text, smaller ones as numbers', () => {
    expect(
      parseLossless('{"i":8389765739703625592,"t":-9007199254740993,"E":1736996475556,"n":0}'),
    ).toEqual({ i: '8389765739703625592', t: '-9007199254740993', E: 1736996475556, n: 0 });
  });

  it('never touches strings, fractions or exponents', () => {
    const text =
      '{"s":"8389765739703625592","q":"a \\" 12345678901234567","p":0.12345678901234567,"x":1e-12345678901234567,"y":1.5E+10000000000000000,"z":[12345678901234567.5]}';
    expect(parseLossless(text)).toEqual(JSON.parse(text));
  });

  it('refuses a string never closed in time linear in the frame, however many quotes it escapes', () => {
    // 200 KB of escaped quotes: a search that restarts at each one takes some 10 s, not ms.
    const open = `{"e":"${'\\"'.repeat(100_000)}`;
    const started = performance.now();
    expect(() => parseLossless(open)).toThrow(SyntaxError);
    expect(() => parseLossless(`${open}\\`)).toThrow(SyntaxError);
    expect(() => parseLossless(`${open}\\\n`)).toThrow(SyntaxError);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('a string ending in an escaped backslash is closed by the quote after it', () => {
    expect(parseLossless('{"s":"\\\\","i":12345678901234567}')).toEqual({
      s: '\\',
      i: '12345678901234567',
    });
  });

  it('handles arrays, nesting and whitespace', () => {
    expect(parseLossless('[ 12345678901234567 ,{"a": [ -12345678901234567 ]}]')).toEqual([
      '12345678901234567',
      { a: ['-12345678901234567'] },
    ]);
  });

  it('property: JSON without big integers parses exactly as JSON.parse does', () => {
    const small = fc.jsonValue().filter((v) => !/\d{16}/.test(JSON.stringify(v)));
    fc.assert(
      fc.property(small, (v) => {
        const text = JSON.stringify(v);
        expect(parseLossless(text)).toEqual(JSON.parse(text));
      }),
    );
  });

  it('property: every big integer comes back digit for digit, wherever it sits', () => {
    const big = fc
      .tuple(fc.bigInt({ min: 10n ** 15n, max: 2n ** 64n }), fc.boolean())
      .map(([b, negative]) => (negative ? -b : b));
    fc.assert(
      fc.property(fc.array(big, { minLength: 1, maxLength: 5 }), fc.string(), (ids, label) => {
        const text = `{"label":${JSON.stringify(label)},"ids":[${ids.join(',')}],"o":{"i":${ids[0]}}}`;
        expect(parseLossless(text)).toEqual({
          label,
          ids: ids.map(String),
          o: { i: String(ids[0]) },
        });
      }),
    );
  });
});
