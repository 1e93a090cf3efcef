import { decodeJson, upbit } from '@unifeed/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const venue = upbit();
const TYPES = ['ticker', 'trade', 'orderbook', 'candle.1s', 'candle.60m'];

describe('the Upbit venue on arbitrary input', () => {
  it('classify, streamKey and sequence never throw, whatever arrives', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.uint8Array({ maxLength: 200 }), (value, bytes) => {
        venue.classify(value);
        venue.sequence(value);
        venue.streamKey(bytes);
        venue.streamKey(Buffer.from(bytes));
        venue.streamKey(JSON.stringify(value) ?? '');
      }),
      { numRuns: 2000 },
    );
  });

  it('the key read from a frame`s first bytes is the stream classify routes it to', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TYPES),
        fc.stringMatching(/^[A-Z]{2,5}-[A-Z0-9]{1,12}$/),
        // Keys that are not array indices keep their place after type and code.
        fc.dictionary(
          fc.string({ maxLength: 8 }).map((k) => `k${k}`),
          fc.jsonValue({ maxDepth: 2 }),
          { maxKeys: 5 },
        ),
        fc.boolean(),
        (type, code, rest, binary) => {
          // Upbit's DEFAULT format opens every message with type then code.
          const frame = JSON.stringify({ type, code, ...rest });
          const raw = binary ? Buffer.from(frame) : frame;
          const c = venue.classify(decodeJson(raw));
          expect(c).toMatchObject({ kind: 'data', stream: `${type}:${code}` });
          expect(venue.streamKey(raw)).toBe(`${type}:${code}`);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
