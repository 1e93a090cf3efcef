/**
 * RFC 6455 frames from a server, read out of a buffer the caller reuses for every socket read.
 *
 * Why this exists instead of `ws`'s receiver: `ws` is handed a fresh allocation per socket read
 * and keeps views of it (each message's payload, a frame split across reads), so every read is
 * a malloc that lives until the collector frees its `Buffer`. Thousands of those a second leave
 * glibc's heap fragmented (docs/benchmarks.md, "RSS"). Here each text frame becomes a string
 * inside the read, a binary frame a copy of its bytes, and only a frame split across two reads
 * is kept, in one carry buffer per connection: the read buffer is free again when `read`
 * returns.
 */

import { frameText } from './transport.js';
import {
  CLOSE_INVALID_DATA,
  CLOSE_NO_STATUS,
  CLOSE_PROTOCOL,
  CLOSE_TOO_BIG,
  OP_BINARY,
  OP_CLOSE,
  OP_CONTINUATION,
  OP_PING,
  OP_PONG,
  OP_TEXT,
} from './websocket-codes.js';

/** What a {@link FrameReader} found. Called synchronously from {@link FrameReader.read}. */
export interface FrameSink {
  /** A whole message: text as a string (UTF-8 checked), binary as a copy of its bytes. */
  message(data: string | Uint8Array): void;
  /** A ping; `payload` is a copy, to be echoed in the pong. */
  ping(payload: Uint8Array): void;
  pong(): void;
  /** The peer's close frame: 1005 when it carried no code. Nothing is read after it. */
  close(code: number, reason: string): void;
  /**
   * The peer broke the protocol (or sent more than `maxPayloadBytes`): close with
   * `closeCode`. Nothing is read after it.
   */
  fail(error: ProtocolError): void;
}

/**
 * The codes `ws` gives the same faults, so that a feed reads either client's errors alike
 * (UnifiedFeed tells an over-long message by {@link MESSAGE_TOO_LARGE}).
 */
export type ProtocolErrorCode =
  | 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
  | 'WS_ERR_INVALID_UTF8'
  | 'WS_ERR_UNEXPECTED_MASK'
  | 'WS_ERR_UNEXPECTED_RSV_1'
  | 'WS_ERR_UNEXPECTED_RSV_2_3'
  | 'WS_ERR_INVALID_OPCODE'
  | 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'
  | 'WS_ERR_EXPECTED_FIN'
  | 'WS_ERR_INVALID_CLOSE_CODE';

/** Both Node clients report a message over `maxPayloadBytes` so, and close with 1009. */
export const MESSAGE_TOO_LARGE = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' satisfies ProtocolErrorCode;

/** A broken frame: `closeCode` is what the connection is closed with. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    readonly closeCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** Close codes a peer may send (RFC 6455 7.4; 1004 to 1006 and 1015 are never on the wire). */
export function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

/** A carry buffer this large or larger is let go of once empty: one huge frame must not pin it. */
const CARRY_KEEP = 64 * 1024;

export class FrameReader {
  readonly #sink: FrameSink;
  readonly #maxPayload: number;
  /** The start of a frame that did not fit in its read, and what has come of it since. */
  #carry = new Uint8Array(0);
  #carryLength = 0;
  /** A fragmented message's frames so far (copies), and its opcode; 0 when none is open. */
  #fragments: Uint8Array[] = [];
  #fragmentBytes = 0;
  #fragmentOp = 0;
  /** The header and payload lengths of the frame {@link #frameBytes} sized last. */
  #headerLength = 0;
  #payloadLength = 0;
  /** After a close frame, a failure or {@link stop}: nothing more is read. */
  #done = false;

  /** @param maxPayload the most bytes a message may have, across its fragments. */
  constructor(maxPayload: number, sink: FrameSink) {
    this.#maxPayload = maxPayload;
    this.#sink = sink;
  }

  /** Read no more frames, not even the rest of the read in progress. */
  stop(): void {
    this.#done = true;
    this.#carry = new Uint8Array(0);
    this.#carryLength = 0;
    this.#fragments = [];
  }

  /** Read `bytes[0, length)`, the next bytes of the stream. `bytes` may be reused afterwards. */
  read(bytes: Uint8Array, length: number): void {
    let offset = 0;
    // First finish the frame begun in an earlier read: bring in its header, then its payload,
    // and no more, so that the rest of this read is parsed where it lies.
    while (this.#carryLength > 0 && !this.#done) {
      const need = this.#frameBytes(this.#carry, 0, this.#carryLength);
      if (need < 0) return; // refused, from its header alone
      if (this.#carryLength < need) {
        if (offset === length) return;
        const take = Math.min(need - this.#carryLength, length - offset);
        this.#carryIn(bytes, offset, take, need);
        offset += take;
        // Ask again: a header that just came whole tells the frame's full length.
        continue;
      }
      this.#carryLength = 0;
      this.#frame(this.#carry, 0);
      if (this.#carry.length > CARRY_KEEP) this.#carry = new Uint8Array(0);
    }
    while (offset < length && !this.#done) {
      const need = this.#frameBytes(bytes, offset, length - offset);
      if (need < 0) return;
      if (length - offset < need) {
        this.#carryIn(bytes, offset, length - offset, need);
        return;
      }
      this.#frame(bytes, offset);
      offset += need;
    }
  }

  /**
   * Keep `count` more bytes of a frame that needs `need` in all (or its header, while the
   * header is short). The buffer at least doubles when it grows (growing by a read at a time
   * would copy a large frame over and over), but never past `need`, nor ahead of the bytes that
   * came: a header alone must not make it reserve all the length it announces.
   */
  #carryIn(bytes: Uint8Array, offset: number, count: number, need: number): void {
    const end = this.#carryLength + count;
    if (end > this.#carry.length) {
      const grown = new Uint8Array(Math.min(need, Math.max(end, this.#carry.length * 2, 256)));
      grown.set(this.#carry.subarray(0, this.#carryLength));
      this.#carry = grown;
    }
    this.#carry.set(bytes.subarray(offset, offset + count), this.#carryLength);
    this.#carryLength = end;
  }

  /**
   * The whole frame's size in bytes starting at `offset`, or the size of its header while
   * fewer bytes than that are at hand; -1 once the header alone is refused (and reported).
   * A frame that cannot be taken is refused here, before any of its payload is kept.
   */
  #frameBytes(bytes: Uint8Array, offset: number, available: number): number {
    if (available < 2) return 2;
    const b0 = bytes[offset]!;
    const b1 = bytes[offset + 1]!;
    const op = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if ((b0 & 0x70) !== 0) {
      return (b0 & 0x40) !== 0
        ? this.#fail('WS_ERR_UNEXPECTED_RSV_1', CLOSE_PROTOCOL, 'RSV1 set: no extension was agreed')
        : this.#fail('WS_ERR_UNEXPECTED_RSV_2_3', CLOSE_PROTOCOL, 'RSV2 or RSV3 set');
    }
    if ((b1 & 0x80) !== 0)
      return this.#fail('WS_ERR_UNEXPECTED_MASK', CLOSE_PROTOCOL, 'a server frame is masked');
    if (op >= OP_CLOSE) {
      if (op > OP_PONG)
        return this.#fail('WS_ERR_INVALID_OPCODE', CLOSE_PROTOCOL, `invalid opcode ${op}`);
      if (!fin)
        return this.#fail('WS_ERR_EXPECTED_FIN', CLOSE_PROTOCOL, 'a control frame is fragmented');
      if ((b1 & 0x7f) > 125) {
        return this.#fail(
          'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
          CLOSE_PROTOCOL,
          'a control frame carries over 125 bytes',
        );
      }
    } else if (op > OP_BINARY) {
      return this.#fail('WS_ERR_INVALID_OPCODE', CLOSE_PROTOCOL, `invalid opcode ${op}`);
    } else if (op === OP_CONTINUATION ? this.#fragmentOp === 0 : this.#fragmentOp !== 0) {
      return this.#fail(
        'WS_ERR_INVALID_OPCODE',
        CLOSE_PROTOCOL,
        op === OP_CONTINUATION
          ? 'a continuation frame with no message to continue'
          : 'a new message inside a fragmented one',
      );
    }
    let header = 2;
    let payload = b1 & 0x7f;
    if (payload === 126) {
      header = 4;
      if (available < header) return header;
      payload = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
    } else if (payload === 127) {
      header = 10;
      if (available < header) return header;
      const high = readUint32(bytes, offset + 2);
      // Over 2^53 - 1 bytes has no exact number; it is over any maxPayload anyway.
      if (high > 0x1fffff) return this.#tooLarge();
      payload = high * 2 ** 32 + readUint32(bytes, offset + 6);
    }
    if (op < OP_CLOSE && this.#fragmentBytes + payload > this.#maxPayload) return this.#tooLarge();
    this.#headerLength = header;
    this.#payloadLength = payload;
    return header + payload;
  }

  /**
   * One whole frame at `offset`, the one {@link #frameBytes} has just checked and sized: its
   * header is not read twice.
   */
  #frame(bytes: Uint8Array, offset: number): void {
    const b0 = bytes[offset]!;
    const start = offset + this.#headerLength;
    const end = start + this.#payloadLength;
    const op = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    switch (op) {
      case OP_TEXT:
      case OP_BINARY:
        if (fin) {
          this.#deliver(op, bytes.subarray(start, end));
          return;
        }
        this.#fragmentOp = op;
        this.#keepFragment(bytes, start, end);
        return;
      case OP_CONTINUATION: {
        this.#keepFragment(bytes, start, end);
        if (!fin) return;
        const whole = concat(this.#fragments, this.#fragmentBytes);
        const wholeOp = this.#fragmentOp;
        this.#fragments = [];
        this.#fragmentBytes = 0;
        this.#fragmentOp = 0;
        this.#deliver(wholeOp, whole);
        return;
      }
      case OP_PING:
        this.#sink.ping(copy(bytes, start, end));
        return;
      case OP_PONG:
        this.#sink.pong();
        return;
      default:
        this.#close(bytes.subarray(start, end));
    }
  }

  #keepFragment(bytes: Uint8Array, start: number, end: number): void {
    this.#fragments.push(copy(bytes, start, end));
    this.#fragmentBytes += end - start;
  }

  #deliver(op: number, payload: Uint8Array): void {
    if (op === OP_BINARY) {
      // A copy: `payload` may be a view of the read buffer, which the next read overwrites.
      this.#sink.message(copy(payload, 0, payload.length));
      return;
    }
    let text: string;
    try {
      text = frameText(payload);
    } catch {
      this.#fail('WS_ERR_INVALID_UTF8', CLOSE_INVALID_DATA, 'a text frame is not UTF-8');
      return;
    }
    this.#sink.message(text);
  }

  #close(payload: Uint8Array): void {
    if (payload.length === 1) {
      this.#fail(
        'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
        CLOSE_PROTOCOL,
        'a close frame of 1 byte',
      );
      return;
    }
    let code = CLOSE_NO_STATUS;
    let reason = '';
    if (payload.length >= 2) {
      code = (payload[0]! << 8) | payload[1]!;
      if (!isValidCloseCode(code)) {
        this.#fail('WS_ERR_INVALID_CLOSE_CODE', CLOSE_PROTOCOL, `invalid close code ${code}`);
        return;
      }
      try {
        reason = frameText(payload.subarray(2));
      } catch {
        this.#fail('WS_ERR_INVALID_UTF8', CLOSE_INVALID_DATA, 'a close reason is not UTF-8');
        return;
      }
    }
    this.stop();
    this.#sink.close(code, reason);
  }

  #tooLarge(): -1 {
    return this.#fail(MESSAGE_TOO_LARGE, CLOSE_TOO_BIG, `a message over ${this.#maxPayload} bytes`);
  }

  #fail(code: ProtocolErrorCode, closeCode: number, message: string): -1 {
    this.stop();
    this.#sink.fail(new ProtocolError(code, closeCode, message));
    return -1;
  }
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return (
    bytes[offset]! * 2 ** 24 +
    ((bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!)
  );
}

/** A copy of `bytes[start, end)`: `Buffer#slice` would give a view of the reused read buffer. */
function copy(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(bytes.subarray(start, end));
  return out;
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const whole = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    whole.set(part, at);
    at += part.length;
  }
  return whole;
}
