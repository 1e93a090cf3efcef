import { describe, expect, it } from 'vitest';
import { frameText } from '../src/transport.js';

const bytes = (...b: number[]) => new Uint8Array(b);

describe('frameText', () => {
  it('decodes strings, Buffers, ArrayBuffers and fragments', () => {
    expect(frameText('{"a":1}')).toBe('{"a":1}');
    expect(frameText(Buffer.from('{"s":"é"}'))).toBe('{"s":"é"}');
    expect(frameText(bytes(0x22, 0xc3, 0xa9, 0x22).buffer)).toBe('"é"');
    // A character split across two fragments is one character.
    expect(frameText([bytes(0x22, 0xc3), bytes(0xa9, 0x22)])).toBe('"é"');
  });

  it('throws for bytes that are not UTF-8, and the next frame decodes cleanly', () => {
    expect(() => frameText(bytes(0x41, 0xc3, 0x28))).toThrow(TypeError);
    // A fragment list that ends inside a character is not UTF-8 either.
    expect(() => frameText([bytes(0x41), bytes(0xc3)])).toThrow(TypeError);
    expect(frameText([bytes(0xc3), bytes(0xa9)])).toBe('é');
    expect(frameText(bytes(0x42))).toBe('B');
  });
});
