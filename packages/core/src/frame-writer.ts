import { randomFillSync } from 'node:crypto';

/** Random mask keys are drawn this many at a time: one `randomFillSync` per 2,048 frames. */
const MASK_POOL_BYTES = 8 * 1024;
let maskPool = new Uint8Array(0);
let maskAt = MASK_POOL_BYTES;

function nextMask(): Uint8Array {
  if (maskAt + 4 > maskPool.length) {
    // A fresh pool each time: frames still being written keep a view of the last one.
    maskPool = randomFillSync(new Uint8Array(MASK_POOL_BYTES));
    maskAt = 0;
  }
  const mask = maskPool.subarray(maskAt, maskAt + 4);
  maskAt += 4;
  return mask;
}

/**
 * One final client frame: RFC 6455 requires every client frame masked with a key the
 * server (and anything between) cannot predict.
 */
export function encodeFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  const frame = new Uint8Array(header + 4 + length);
  frame[0] = 0x80 | opcode;
  if (header === 2) {
    frame[1] = 0x80 | length;
  } else if (header === 4) {
    frame[1] = 0x80 | 126;
    frame[2] = length >>> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = 0x80 | 127;
    const high = Math.floor(length / 2 ** 32);
    const view = new DataView(frame.buffer);
    view.setUint32(2, high);
    view.setUint32(6, length >>> 0);
  }
  const mask = nextMask();
  frame.set(mask, header);
  const start = header + 4;
  for (let i = 0; i < length; i++) frame[start + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

/** A close frame's payload: the code, then as much of the reason as fits in 123 bytes. */
export function closePayload(code: number | undefined, reason: string): Uint8Array {
  if (code === undefined) return new Uint8Array(0);
  const text = new TextEncoder().encode(reason);
  // Cut at a character's first byte: half a character is not UTF-8, and the peer fails on it.
  let length = Math.min(text.length, 123);
  while (length < text.length && (text[length]! & 0xc0) === 0x80) length--;
  const payload = new Uint8Array(2 + length);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(text.subarray(0, length), 2);
  return payload;
}
