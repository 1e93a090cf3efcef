import { describe, expect, it } from 'vitest';
import { closePayload, encodeFrame } from '../src/frame-writer.js';
import { OP_CLOSE, OP_PING, OP_PONG, OP_TEXT } from '../src/websocket-codes.js';

interface Decoded {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  mask: Uint8Array;
  length: number;
  payload: Uint8Array;
  headerBytes: number;
}

/** Decode one client frame by RFC 6455 5.2, unmasking it here; the frame must be all of `bytes`. */
function decode(bytes: Uint8Array): Decoded {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const b0 = bytes[0]!;
  const b1 = bytes[1]!;
  let length = b1 & 0x7f;
  let at = 2;
  if (length === 126) {
    length = view.getUint16(2);
    at = 4;
  } else if (length === 127) {
    const high = view.getUint32(2);
    expect(high & 0x80000000, 'the most significant bit is 0').toBe(0);
    length = high * 2 ** 32 + view.getUint32(6);
    at = 10;
  }
  const masked = (b1 & 0x80) !== 0;
  const mask = masked ? bytes.slice(at, at + 4) : new Uint8Array(4);
  if (masked) at += 4;
  expect(bytes.length, 'the frame is exactly header + payload').toBe(at + length);
  const payload = new Uint8Array(length);
  for (let i = 0; i < length; i++) payload[i] = bytes[at + i]! ^ mask[i & 3]!;
  return {
    fin: (b0 & 0x80) !== 0,
    rsv: (b0 >> 4) & 7,
    opcode: b0 & 0x0f,
    masked,
    mask,
    length,
    payload,
    headerBytes: at,
  };
}

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + (i >>> 8) + 7) & 0xff;
  return out;
}

describe('encodeFrame', () => {
  it('the opcodes are the RFC 6455 ones', () => {
    expect([OP_TEXT, OP_CLOSE, OP_PING, OP_PONG]).toEqual([0x1, 0x8, 0x9, 0xa]);
  });

  for (const [length, form, headerBytes] of [
    [0, 7, 6],
    [1, 7, 6],
    [125, 7, 6],
    [126, 16, 8],
    [127, 16, 8],
    [65_535, 16, 8],
    [65_536, 64, 14],
    [200_003, 64, 14],
  ] as const) {
    it(`a ${length}-byte payload: ${form}-bit length, masked, decodes to the same bytes`, () => {
      const payload = pattern(length);
      const before = payload.slice();
      const encoded = encodeFrame(OP_TEXT, payload);
      const d = decode(encoded);
      expect(d.fin).toBe(true);
      expect(d.rsv).toBe(0);
      expect(d.opcode).toBe(OP_TEXT);
      expect(d.masked).toBe(true);
      expect(d.length).toBe(length);
      expect(d.headerBytes).toBe(headerBytes);
      const len7 = encoded[1]! & 0x7f;
      expect(len7).toBe(form === 7 ? length : form === 16 ? 126 : 127);
      expect(Buffer.from(d.payload).equals(Buffer.from(payload))).toBe(true);
      // The caller's payload is left as it was.
      expect(Buffer.from(payload).equals(Buffer.from(before))).toBe(true);
      if (length >= 16) {
        // Masked on the wire: the payload does not appear in the clear.
        const wire = encoded.subarray(headerBytes);
        expect(Buffer.from(wire).equals(Buffer.from(payload))).toBe(false);
      }
    });
  }

  it('control frames: ping, pong and close, FIN set and masked', () => {
    for (const op of [OP_PING, OP_PONG, OP_CLOSE]) {
      const d = decode(encodeFrame(op, new Uint8Array([1, 2, 3])));
      expect(d).toMatchObject({ fin: true, opcode: op, masked: true, length: 3 });
      expect([...d.payload]).toEqual([1, 2, 3]);
    }
  });

  it('masks differ between frames, and a frame keeps its mask when more are encoded', () => {
    const payload = new Uint8Array(8).fill(0);
    const frames = Array.from({ length: 3000 }, () => encodeFrame(OP_TEXT, payload));
    const masks = frames.map((f) => Buffer.from(f.subarray(2, 6)).toString('hex'));
    // 3,000 frames cross the 2,048-mask pool at least once.
    expect(new Set(masks).size).toBeGreaterThan(2990);
    for (let i = 1; i < masks.length; i++) expect(masks[i]).not.toBe(masks[i - 1]);
    // An all-zero payload shows its mask in the clear: each frame still decodes to zeros with
    // its own mask, i.e. later draws from the pool did not change an earlier frame.
    for (const f of frames) {
      const d = decode(f);
      expect([...d.payload]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
      expect(Buffer.from(f.subarray(6, 10)).equals(Buffer.from(d.mask))).toBe(true);
    }
    // Not all zero masks (a fixed mask would defeat its purpose).
    expect(masks.filter((m) => m === '00000000').length).toBeLessThan(3);
  });
});

describe('closePayload', () => {
  const decodeReason = (p: Uint8Array): string =>
    new TextDecoder('utf-8', { fatal: true }).decode(p.subarray(2));

  it('the code big-endian, then the reason', () => {
    const p = closePayload(1000, 'bye');
    expect([...p.subarray(0, 2)]).toEqual([0x03, 0xe8]);
    expect(decodeReason(p)).toBe('bye');
    expect([...closePayload(4999, '')]).toEqual([0x13, 0x87]);
  });

  it('no code: an empty payload, whatever the reason', () => {
    expect(closePayload(undefined, '').length).toBe(0);
    expect(closePayload(undefined, 'ignored').length).toBe(0);
  });

  it('a reason of exactly 123 bytes is kept whole', () => {
    const reason = 'r'.repeat(123);
    const p = closePayload(1001, reason);
    expect(p.length).toBe(125);
    expect(decodeReason(p)).toBe(reason);
  });

  it('a long ASCII reason is cut to 123 bytes', () => {
    const p = closePayload(1001, 'a'.repeat(500));
    expect(p.length).toBe(125);
    expect(decodeReason(p)).toBe('a'.repeat(123));
  });

  it('truncation never splits a multi-byte character, at any alignment', () => {
    for (const ch of ['é', '€', '😀']) {
      const size = new TextEncoder().encode(ch).length;
      for (let prefix = 0; prefix < 4; prefix++) {
        const reason = 'p'.repeat(prefix) + ch.repeat(200);
        const p = closePayload(1000, reason);
        expect(p.length).toBeLessThanOrEqual(125);
        // Fatal decoding throws on half a character.
        const text = decodeReason(p);
        expect(reason.startsWith(text)).toBe(true);
        // As much as fits: fewer than one more character was dropped.
        expect(p.length - 2).toBeGreaterThan(123 - size);
        // The result fits in a control frame once encoded.
        expect(decodeFrameLength(encodeFrame(OP_CLOSE, p))).toBeLessThanOrEqual(125);
      }
    }
  });
});

function decodeFrameLength(frame: Uint8Array): number {
  return frame[1]! & 0x7f;
}
