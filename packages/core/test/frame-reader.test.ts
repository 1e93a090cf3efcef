import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  FrameReader,
  ProtocolError,
  isValidCloseCode,
  type ProtocolErrorCode,
} from '../src/frame-reader.js';
import { prng } from './prng.js';

// ---------------------------------------------------------------------------------------------
// Server frames, built by hand (unmasked unless asked), independently of the code under test.
// ---------------------------------------------------------------------------------------------

const OP = { cont: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

interface FrameOptions {
  fin?: boolean;
  /** RSV bits, 0..7 (RSV1 = 4, RSV2 = 2, RSV3 = 1). */
  rsv?: number;
  mask?: readonly number[];
  /** Force a length form (the minimal one by default). */
  form?: 7 | 16 | 64;
}

function header(op: number, length: number, o: FrameOptions = {}): Uint8Array {
  const form = o.form ?? (length < 126 ? 7 : length < 0x10000 ? 16 : 64);
  const size = form === 7 ? 2 : form === 16 ? 4 : 10;
  const out = new Uint8Array(size + (o.mask ? 4 : 0));
  out[0] = (o.fin === false ? 0 : 0x80) | ((o.rsv ?? 0) << 4) | op;
  const maskBit = o.mask ? 0x80 : 0;
  if (form === 7) out[1] = maskBit | length;
  else if (form === 16) {
    out[1] = maskBit | 126;
    out[2] = length >>> 8;
    out[3] = length & 0xff;
  } else {
    out[1] = maskBit | 127;
    const view = new DataView(out.buffer);
    view.setUint32(2, Math.floor(length / 2 ** 32));
    view.setUint32(6, length >>> 0);
  }
  if (o.mask) out.set(o.mask, size);
  return out;
}

function frame(op: number, payload: Uint8Array | string = '', o: FrameOptions = {}): Uint8Array {
  const body = typeof payload === 'string' ? utf8(payload) : payload;
  const head = header(op, body.length, o);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  for (let i = 0; i < body.length; i++) {
    out[head.length + i] = o.mask ? body[i]! ^ o.mask[i & 3]! : body[i]!;
  }
  return out;
}

function closeFrame(code: number, reason: Uint8Array | string = ''): Uint8Array {
  const r = typeof reason === 'string' ? utf8(reason) : reason;
  const payload = new Uint8Array(2 + r.length);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(r, 2);
  return frame(OP.close, payload);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Deterministic bytes: `n` bytes from a seed, so that any misplaced byte shows. */
function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return out;
}

// ---------------------------------------------------------------------------------------------
// A recording sink, and a feeder that reuses (and then scribbles over) one read buffer.
// ---------------------------------------------------------------------------------------------

type Event =
  | ['message', string | Uint8Array]
  | ['ping', Uint8Array]
  | ['pong']
  | ['close', number, string]
  | ['fail', ProtocolErrorCode, number];

interface Recorder {
  reader: FrameReader;
  events: Event[];
  errors: ProtocolError[];
  /** Feed `bytes` as reads of the given sizes, through one reused buffer. */
  feed(bytes: Uint8Array, sizes?: readonly number[]): void;
  /** Feed `bytes` as one read. */
  read(bytes: Uint8Array): void;
}

function recorder(
  maxPayload = 1 << 24,
  hooks: { onMessage?: (reader: FrameReader, count: number) => void } = {},
): Recorder {
  const events: Event[] = [];
  const errors: ProtocolError[] = [];
  let messages = 0;
  const reader: FrameReader = new FrameReader(maxPayload, {
    message: (data) => {
      events.push(['message', data]);
      hooks.onMessage?.(reader, ++messages);
    },
    ping: (payload) => events.push(['ping', payload]),
    pong: () => events.push(['pong']),
    close: (code, reason) => events.push(['close', code, reason]),
    fail: (error) => {
      errors.push(error);
      events.push(['fail', error.code, error.closeCode]);
    },
  });
  // One buffer for every read, bigger than any read, with junk past `length`; overwritten with
  // junk once each `read` returns, as the socket's next read would.
  let scratch = new Uint8Array(1024);
  const readChunk = (chunk: Uint8Array): void => {
    if (scratch.length < chunk.length + 16) scratch = new Uint8Array(chunk.length * 2 + 16);
    scratch.fill(0xc1);
    scratch.set(chunk);
    reader.read(scratch, chunk.length);
    scratch.fill(0xff);
  };
  return {
    reader,
    events,
    errors,
    read: (bytes) => readChunk(bytes),
    feed: (bytes, sizes) => {
      let at = 0;
      for (const size of sizes ?? [bytes.length]) {
        readChunk(bytes.subarray(at, at + size));
        at += size;
      }
      if (at < bytes.length) readChunk(bytes.subarray(at));
    },
  };
}

/** Sizes that cut `total` bytes at the given positions. */
function cutsToSizes(total: number, cuts: readonly number[]): number[] {
  const sizes: number[] = [];
  let last = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    sizes.push(c - last);
    last = c;
  }
  sizes.push(total - last);
  return sizes;
}

/** Events, with binary payloads as plain arrays, for readable diffs. */
function plain(events: readonly Event[]): unknown[] {
  return events.map((e) => e.map((v) => (v instanceof Uint8Array ? ['bytes', ...v] : v)));
}

// ---------------------------------------------------------------------------------------------

describe('isValidCloseCode', () => {
  it('accepts the codes a peer may send and refuses the rest', () => {
    for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014]) {
      expect(isValidCloseCode(code), String(code)).toBe(true);
    }
    for (const code of [3000, 3999, 4000, 4999]) expect(isValidCloseCode(code)).toBe(true);
    for (const code of [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]) {
      expect(isValidCloseCode(code), String(code)).toBe(false);
    }
  });
});

describe('FrameReader: single frames', () => {
  it('reads text frames of 7-bit, 16-bit (126) and 64-bit (127) lengths', () => {
    const texts = [
      '',
      'a',
      'x'.repeat(125),
      'y'.repeat(126),
      'z'.repeat(65535),
      'w'.repeat(65536),
      'é€😀'.repeat(20000),
    ];
    const r = recorder();
    r.read(concat(...texts.map((t) => frame(OP.text, t))));
    expect(r.events).toEqual(texts.map((t) => ['message', t]));
    // The forms really were the ones meant.
    expect(frame(OP.text, 'x'.repeat(125))[1]).toBe(125);
    expect(frame(OP.text, 'y'.repeat(126))[1]).toBe(126);
    expect(frame(OP.text, 'w'.repeat(65536))[1]).toBe(127);
  });

  it('reads binary frames of every length form as Uint8Array copies', () => {
    const sizes = [0, 1, 125, 126, 127, 65535, 65536, 200_000];
    const payloads = sizes.map((n, i) => pattern(n, i));
    const r = recorder();
    r.read(concat(...payloads.map((p) => frame(OP.binary, p))));
    expect(r.events.length).toBe(sizes.length);
    r.events.forEach((e, i) => {
      expect(e[0]).toBe('message');
      expect(e[1]).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(e[1] as Uint8Array).equals(Buffer.from(payloads[i]!))).toBe(true);
    });
  });

  it('reads a non-minimal length form like ws does (126 and 127 forms for small payloads)', () => {
    const r = recorder();
    r.read(
      concat(
        frame(OP.text, 'short', { form: 16 }),
        frame(OP.binary, pattern(3), { form: 64 }),
        frame(OP.text, 'end'),
      ),
    );
    expect(plain(r.events)).toEqual([
      ['message', 'short'],
      ['message', ['bytes', ...pattern(3)]],
      ['message', 'end'],
    ]);
  });

  it('reads ping (payload copied), pong, and close with code and reason', () => {
    const r = recorder();
    r.read(
      concat(
        frame(OP.ping),
        frame(OP.ping, pattern(125)),
        frame(OP.pong, 'ignored'),
        closeFrame(1000, 'bye ✓'),
      ),
    );
    expect(plain(r.events)).toEqual([
      ['ping', ['bytes']],
      ['ping', ['bytes', ...pattern(125)]],
      ['pong'],
      ['close', 1000, 'bye ✓'],
    ]);
  });

  it('a close frame with no payload is 1005 with an empty reason', () => {
    const r = recorder();
    r.read(frame(OP.close));
    expect(r.events).toEqual([['close', 1005, '']]);
  });

  it('a close frame with a code and no reason gives an empty reason', () => {
    const r = recorder();
    r.read(closeFrame(4000));
    expect(r.events).toEqual([['close', 4000, '']]);
  });

  it('reads only bytes[0, length): what lies past it in the buffer is ignored', () => {
    const r = recorder();
    const stream = frame(OP.text, 'hello');
    const buffer = new Uint8Array(100).fill(0x81); // junk that would parse as text frames
    buffer.set(stream);
    r.reader.read(buffer, stream.length);
    buffer.fill(0x88);
    r.reader.read(buffer, 0); // an empty read is nothing
    expect(r.events).toEqual([['message', 'hello']]);
  });
});

describe('FrameReader: fragmented messages', () => {
  it('joins text whose multi-byte characters are split across fragments', () => {
    const whole = utf8('a€b😀c');
    // Cut inside the 3-byte euro sign and inside the 4-byte emoji.
    const cuts = [2, 3, 7, 9];
    const parts = cutsToSizes(whole.length, cuts).reduce<Uint8Array[]>((acc, n) => {
      const at = acc.reduce((s, p) => s + p.length, 0);
      acc.push(whole.subarray(at, at + n));
      return acc;
    }, []);
    const frames = parts.map((p, i) =>
      frame(i === 0 ? OP.text : OP.cont, p, { fin: i === parts.length - 1 }),
    );
    const r = recorder();
    r.read(concat(...frames));
    expect(r.events).toEqual([['message', 'a€b😀c']]);
  });

  it('delivers ping and pong interleaved inside a fragmented message, before the message', () => {
    const r = recorder();
    r.read(
      concat(
        frame(OP.binary, pattern(10, 1), { fin: false }),
        frame(OP.ping, 'p1'),
        frame(OP.cont, pattern(10, 2), { fin: false }),
        frame(OP.pong),
        frame(OP.ping, 'p2'),
        frame(OP.cont, pattern(10, 3)),
        frame(OP.text, 'after'),
      ),
    );
    expect(plain(r.events)).toEqual([
      ['ping', ['bytes', ...utf8('p1')]],
      ['pong'],
      ['ping', ['bytes', ...utf8('p2')]],
      ['message', ['bytes', ...pattern(10, 1), ...pattern(10, 2), ...pattern(10, 3)]],
      ['message', 'after'],
    ]);
  });

  it('joins empty fragments and large fragments (126 and 127 forms)', () => {
    const a = pattern(70_000, 4);
    const b = pattern(300, 5);
    const r = recorder();
    r.read(
      concat(
        frame(OP.text, '', { fin: false }),
        frame(OP.cont, 'x'.repeat(70_000), { fin: false }),
        frame(OP.cont, '', { fin: false }),
        frame(OP.cont, 'y'),
        frame(OP.binary, a, { fin: false }),
        frame(OP.cont, b),
      ),
    );
    expect(r.events.length).toBe(2);
    expect(r.events[0]).toEqual(['message', 'x'.repeat(70_000) + 'y']);
    expect(Buffer.from(r.events[1]![1] as Uint8Array).equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('a single-frame message after a fragmented one starts afresh', () => {
    const r = recorder(10);
    // 6 + 4 = 10 bytes, the limit; then 10 more in one frame must not count the earlier 10.
    r.read(
      concat(
        frame(OP.text, 'abcdef', { fin: false }),
        frame(OP.cont, 'ghij'),
        frame(OP.text, '0123456789'),
        frame(OP.binary, pattern(5), { fin: false }),
        frame(OP.cont, pattern(5, 9)),
      ),
    );
    expect(plain(r.events)).toEqual([
      ['message', 'abcdefghij'],
      ['message', '0123456789'],
      ['message', ['bytes', ...pattern(5), ...pattern(5, 9)]],
    ]);
  });
});

/** A stream with every kind of frame, short enough to cut at every byte. */
function richStream(): { stream: Uint8Array; expected: unknown[] } {
  const bin300 = pattern(300, 3);
  const euro = utf8('€');
  const frames = [
    frame(OP.text, 'hello'),
    frame(OP.binary, pattern(7, 1)),
    frame(OP.text, ''),
    frame(OP.binary, new Uint8Array(0)),
    frame(OP.ping, pattern(4, 2)),
    frame(OP.text, 'é'.repeat(100)), // 200 bytes: 16-bit length
    frame(OP.binary, bin300),
    // 'a' and the euro's first 2 bytes | pong | ping | its last byte and a whole euro | ...
    frame(OP.text, concat(utf8('a'), euro.subarray(0, 2)), { fin: false }),
    frame(OP.pong),
    frame(OP.ping),
    frame(OP.cont, concat(euro.subarray(2), euro), { fin: false }),
    frame(OP.cont, utf8('😀z')),
    frame(OP.binary, pattern(3, 4), { fin: false }),
    frame(OP.cont, pattern(130, 5)),
    frame(OP.text, 'x'.repeat(125)),
    frame(OP.text, 'q', { form: 64 }), // a 10-byte header, cut at every byte too
    closeFrame(1000, 'done'),
    frame(OP.text, 'after the close: never delivered'),
  ];
  const expected = [
    ['message', 'hello'],
    ['message', ['bytes', ...pattern(7, 1)]],
    ['message', ''],
    ['message', ['bytes']],
    ['ping', ['bytes', ...pattern(4, 2)]],
    ['message', 'é'.repeat(100)],
    ['message', ['bytes', ...bin300]],
    ['pong'],
    ['ping', ['bytes']],
    ['message', 'a€€😀z'],
    ['message', ['bytes', ...pattern(3, 4), ...pattern(130, 5)]],
    ['message', 'x'.repeat(125)],
    ['message', 'q'],
    ['close', 1000, 'done'],
  ];
  return { stream: concat(...frames), expected };
}

describe('FrameReader: a stream cut anywhere', () => {
  it('gives the expected events when fed whole', () => {
    const { stream, expected } = richStream();
    const r = recorder();
    r.read(stream);
    expect(plain(r.events)).toEqual(expected);
  });

  it('a frame whose header straddles two reads (the smallest case)', () => {
    const r = recorder();
    r.read(new Uint8Array([0x81])); // FIN + text, then the read ends
    r.read(concat(new Uint8Array([0x05]), utf8('hello'), frame(OP.text, 'next')));
    expect(r.events).toEqual([
      ['message', 'hello'],
      ['message', 'next'],
    ]);
    const r16 = recorder();
    const f = frame(OP.binary, pattern(300));
    r16.feed(concat(f, frame(OP.text, 'next')), [3]); // the 4-byte header cut after 3
    expect(plain(r16.events)).toEqual([
      ['message', ['bytes', ...pattern(300)]],
      ['message', 'next'],
    ]);
  });

  it('gives the same events cut at every single byte boundary', () => {
    const { stream, expected } = richStream();
    const failures: number[] = [];
    for (let cut = 1; cut < stream.length; cut++) {
      const r = recorder();
      r.feed(stream, [cut]);
      if (JSON.stringify(plain(r.events)) !== JSON.stringify(expected)) failures.push(cut);
    }
    expect(failures).toEqual([]);
  });

  it('gives the same events fed one byte per read', () => {
    const { stream, expected } = richStream();
    const r = recorder();
    r.feed(stream, new Array<number>(stream.length).fill(1));
    expect(plain(r.events)).toEqual(expected);
  });

  it('gives the same events in 300 seeded random chunkings', () => {
    const { stream, expected } = richStream();
    const random = prng(0x5eed);
    for (let round = 0; round < 300; round++) {
      // Mostly small chunks, sometimes large: cuts land in headers and in payloads.
      const maxChunk = [2, 5, 11, 64, 400][round % 5]!;
      const sizes: number[] = [];
      let left = stream.length;
      while (left > 0) {
        const size = Math.min(left, 1 + Math.floor(random() * maxChunk));
        sizes.push(size);
        left -= size;
      }
      const r = recorder();
      r.feed(stream, sizes);
      expect(plain(r.events), `round ${round}, sizes ${sizes.join(',')}`).toEqual(expected);
    }
  });

  it('large frames (16-bit and 64-bit lengths) cut at every byte near each frame boundary', () => {
    const payloads = [pattern(65_535, 1), pattern(65_536, 2), pattern(70_001, 3)];
    const frames = [
      frame(OP.binary, payloads[0]!),
      frame(OP.binary, payloads[1]!),
      frame(OP.text, 'mid'),
      frame(OP.binary, payloads[2]!, { fin: false }),
      frame(OP.ping, 'p'),
      frame(OP.cont, pattern(200, 4)),
    ];
    const stream = concat(...frames);
    const boundaries: number[] = [];
    let at = 0;
    for (const f of frames) {
      boundaries.push(at);
      at += f.length;
    }
    boundaries.push(at);
    const cuts = new Set<number>();
    for (const b of boundaries) {
      for (let d = -12; d <= 12; d++) if (b + d > 0 && b + d < stream.length) cuts.add(b + d);
    }
    const whole = recorder();
    whole.read(stream);
    const expectedJson = JSON.stringify(
      plain([
        ['message', payloads[0]!],
        ['message', payloads[1]!],
        ['message', 'mid'],
        ['ping', utf8('p')],
        ['message', concat(payloads[2]!, pattern(200, 4))],
      ]),
    );
    // Compared as strings, not with toEqual: a diff of 200,000 elements would take minutes.
    expect(JSON.stringify(plain(whole.events)) === expectedJson, 'fed whole').toBe(true);
    const failures: number[] = [];
    for (const cut of cuts) {
      const r = recorder();
      r.feed(stream, [cut]);
      if (JSON.stringify(plain(r.events)) !== expectedJson) failures.push(cut);
    }
    expect(failures).toEqual([]);
    // And in two more random chunkings with cuts anywhere.
    const random = prng(42);
    for (let round = 0; round < 6; round++) {
      const cutsHere = Array.from({ length: 40 }, () =>
        Math.floor(1 + random() * (stream.length - 2)),
      );
      const r = recorder();
      r.feed(stream, cutsToSizes(stream.length, [...new Set(cutsHere)]));
      expect(JSON.stringify(plain(r.events)) === expectedJson, `round ${round}`).toBe(true);
    }
  });
});

describe('FrameReader: the read buffer is free once read returns', () => {
  it('binary messages, ping payloads and fragments survive the buffer being overwritten', () => {
    const r = recorder();
    const buffer = new Uint8Array(4096);
    const readOnce = (bytes: Uint8Array): void => {
      buffer.set(bytes);
      r.reader.read(buffer, bytes.length);
      buffer.fill(0xee);
    };
    // Each delivered in a read of its own, within the read buffer (not the carry).
    readOnce(frame(OP.binary, pattern(50, 1)));
    readOnce(frame(OP.ping, pattern(20, 2)));
    readOnce(frame(OP.binary, pattern(30, 3), { fin: false }));
    readOnce(frame(OP.cont, pattern(30, 4), { fin: false }));
    readOnce(frame(OP.cont, pattern(30, 5)));
    // A single fragment message (fin=false, then an empty final continuation).
    readOnce(frame(OP.binary, pattern(40, 6), { fin: false }));
    readOnce(frame(OP.cont, new Uint8Array(0)));
    // Frames completed from the carry: half in one read, the rest in the next.
    const carried = frame(OP.binary, pattern(200, 7));
    readOnce(carried.subarray(0, 100));
    readOnce(carried.subarray(100));
    const carriedPing = frame(OP.ping, pattern(100, 8));
    readOnce(carriedPing.subarray(0, 50));
    readOnce(carriedPing.subarray(50));
    // Then more traffic that reuses the carry: it must not overwrite what was delivered.
    const next = frame(OP.binary, pattern(200, 9));
    readOnce(next.subarray(0, 10));
    readOnce(next.subarray(10));
    expect(plain(r.events)).toEqual(
      plain([
        ['message', pattern(50, 1)],
        ['ping', pattern(20, 2)],
        ['message', concat(pattern(30, 3), pattern(30, 4), pattern(30, 5))],
        ['message', pattern(40, 6)],
        ['message', pattern(200, 7)],
        ['ping', pattern(100, 8)],
        ['message', pattern(200, 9)],
      ]),
    );
    // No delivered payload is a view of the read buffer.
    for (const e of r.events) {
      if (e[1] instanceof Uint8Array) expect(e[1].buffer).not.toBe(buffer.buffer);
    }
  });
});

/**
 * Every failure twice: the stream in one read, then one byte per read (so that each header is
 * completed in the carry, as when it straddles two socket reads).
 */
describe.each(['in one read', 'one byte per read'] as const)(
  'FrameReader: protocol failures, %s',
  (mode) => {
    const before = frame(OP.text, 'before');
    const after = frame(OP.text, 'after');

    /** `bad` between a good frame and another. */
    function expectFailure(
      bad: Uint8Array,
      code: ProtocolErrorCode,
      closeCode: number,
      prefix: Uint8Array = new Uint8Array(0),
    ): void {
      const stream = concat(before, prefix, bad, after, closeFrame(1000));
      {
        const sizes = mode === 'in one read' ? undefined : new Array<number>(stream.length).fill(1);
        const r = recorder();
        r.feed(stream, sizes);
        expect(r.events[0]).toEqual(['message', 'before']);
        const last = r.events.at(-1);
        expect(last, 'the last event is the failure').toEqual(['fail', code, closeCode]);
        expect(r.events.filter((e) => e[0] === 'fail').length).toBe(1);
        expect(r.events.some((e) => e[0] === 'message' && e[1] === 'after')).toBe(false);
        expect(r.events.some((e) => e[0] === 'close')).toBe(false);
        const error = r.errors[0]!;
        expect(error).toBeInstanceOf(ProtocolError);
        expect(error).toBeInstanceOf(Error);
        expect(error.name).toBe('ProtocolError');
        expect(error.message.length).toBeGreaterThan(0);
      }
    }

    it('RSV1, RSV2 or RSV3 set: 1002', () => {
      expectFailure(frame(OP.text, 'x', { rsv: 4 }), 'WS_ERR_UNEXPECTED_RSV_1', 1002);
      for (const rsv of [1, 2, 3, 5, 6, 7]) {
        const r = recorder();
        const stream = concat(before, frame(OP.text, 'x', { rsv }), after);
        r.feed(
          stream,
          mode === 'in one read' ? undefined : new Array<number>(stream.length).fill(1),
        );
        expect(r.events.length).toBe(2);
        expect(r.events[1]![0]).toBe('fail');
        expect(r.errors[0]!.closeCode).toBe(1002);
        // `ws`'s codes: RSV1 (the bit an extension such as permessage-deflate would use) apart.
        expect(r.errors[0]!.code).toBe(
          (rsv & 4) !== 0 ? 'WS_ERR_UNEXPECTED_RSV_1' : 'WS_ERR_UNEXPECTED_RSV_2_3',
        );
      }
      // On a control frame too.
      expectFailure(frame(OP.ping, '', { rsv: 4 }), 'WS_ERR_UNEXPECTED_RSV_1', 1002);
    });

    it('a masked server frame: WS_ERR_UNEXPECTED_MASK 1002', () => {
      expectFailure(
        frame(OP.text, 'masked', { mask: [1, 2, 3, 4] }),
        'WS_ERR_UNEXPECTED_MASK',
        1002,
      );
      expectFailure(frame(OP.ping, '', { mask: [0, 0, 0, 0] }), 'WS_ERR_UNEXPECTED_MASK', 1002);
    });

    it('reserved opcodes 3-7 and 11-15: WS_ERR_INVALID_OPCODE 1002', () => {
      for (const op of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
        expectFailure(frame(op, 'x'), 'WS_ERR_INVALID_OPCODE', 1002);
      }
    });

    it('a fragmented control frame: WS_ERR_EXPECTED_FIN 1002', () => {
      for (const op of [OP.ping, OP.pong, OP.close]) {
        expectFailure(frame(op, '', { fin: false }), 'WS_ERR_EXPECTED_FIN', 1002);
      }
    });

    it('a control frame over 125 bytes, refused from its header: 1002', () => {
      for (const op of [OP.ping, OP.pong, OP.close]) {
        expectFailure(frame(op, pattern(126)), 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002);
        // The header alone is refused: no payload needed.
        const r = recorder();
        r.read(header(op, 126));
        expect(r.events).toEqual([['fail', 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002]]);
      }
    });

    it('a continuation frame with no message to continue: WS_ERR_INVALID_OPCODE 1002', () => {
      expectFailure(frame(OP.cont, 'x'), 'WS_ERR_INVALID_OPCODE', 1002);
      expectFailure(frame(OP.cont, 'x', { fin: false }), 'WS_ERR_INVALID_OPCODE', 1002);
      // ... also right after a fragmented message has ended.
      expectFailure(
        frame(OP.cont, 'x'),
        'WS_ERR_INVALID_OPCODE',
        1002,
        concat(frame(OP.text, 'a', { fin: false }), frame(OP.cont, 'b')),
      );
    });

    it('a new data frame inside a fragmented message: WS_ERR_INVALID_OPCODE 1002', () => {
      const open = frame(OP.text, 'part', { fin: false });
      expectFailure(frame(OP.text, 'new'), 'WS_ERR_INVALID_OPCODE', 1002, open);
      expectFailure(frame(OP.binary, 'new'), 'WS_ERR_INVALID_OPCODE', 1002, open);
      expectFailure(
        frame(OP.text, 'new', { fin: false }),
        'WS_ERR_INVALID_OPCODE',
        1002,
        frame(OP.binary, 'part', { fin: false }),
      );
    });

    it('a text message that is not UTF-8: WS_ERR_INVALID_UTF8 1007', () => {
      const bad = [
        [0xff],
        [0xc0, 0xaf], // overlong '/'
        [0xe0, 0x80, 0xaf], // overlong
        [0xed, 0xa0, 0x80], // a UTF-16 surrogate
        [0xf4, 0x90, 0x80, 0x80], // over U+10FFFF
        [0x61, 0xe2, 0x82], // a character cut at the end of the message
        [0x80],
      ];
      for (const bytes of bad) {
        expectFailure(frame(OP.text, new Uint8Array(bytes)), 'WS_ERR_INVALID_UTF8', 1007);
      }
      // A fragmented one whose last fragment leaves a character unfinished.
      expectFailure(
        frame(OP.cont, new Uint8Array([0xe2, 0x82])),
        'WS_ERR_INVALID_UTF8',
        1007,
        frame(OP.text, 'ok', { fin: false }),
      );
      // Binary frames are not checked.
      const r = recorder();
      r.read(frame(OP.binary, new Uint8Array([0xff, 0xc0])));
      expect(plain(r.events)).toEqual([['message', ['bytes', 0xff, 0xc0]]]);
    });

    it('a close reason that is not UTF-8: WS_ERR_INVALID_UTF8 1007', () => {
      expectFailure(
        closeFrame(1000, new Uint8Array([0x6f, 0x6b, 0xff])),
        'WS_ERR_INVALID_UTF8',
        1007,
      );
      expectFailure(closeFrame(1000, new Uint8Array([0xe2, 0x82])), 'WS_ERR_INVALID_UTF8', 1007);
    });

    it('a close frame of 1 byte: WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH 1002', () => {
      expectFailure(
        frame(OP.close, new Uint8Array([0x03])),
        'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
        1002,
      );
    });

    it('invalid close codes: WS_ERR_INVALID_CLOSE_CODE 1002', () => {
      for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]) {
        expectFailure(closeFrame(code, 'r'), 'WS_ERR_INVALID_CLOSE_CODE', 1002);
      }
    });

    it('valid close codes are delivered with their reason, and nothing is read after', () => {
      for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1011, 1012, 1014, 3000, 4000, 4999]) {
        const r = recorder();
        const stream = concat(before, closeFrame(code, `reason ${code}`), after, frame(OP.ping));
        r.feed(
          stream,
          mode === 'in one read' ? undefined : new Array<number>(stream.length).fill(1),
        );
        expect(r.events).toEqual([
          ['message', 'before'],
          ['close', code, `reason ${code}`],
        ]);
      }
    });

    it('a close reason of the most bytes a control frame allows (123)', () => {
      const reason = '€'.repeat(41); // 123 bytes
      const r = recorder();
      r.read(closeFrame(1001, reason));
      expect(r.events).toEqual([['close', 1001, reason]]);
    });
  },
);

describe('FrameReader: maxPayload', () => {
  it('exactly maxPayload passes, in one frame and across fragments', () => {
    const r = recorder(100);
    r.read(
      concat(
        frame(OP.binary, pattern(100)),
        frame(OP.text, 'a'.repeat(60), { fin: false }),
        frame(OP.ping, pattern(125)), // control frames do not count
        frame(OP.cont, 'b'.repeat(40)),
      ),
    );
    expect(plain(r.events)).toEqual([
      ['message', ['bytes', ...pattern(100)]],
      ['ping', ['bytes', ...pattern(125)]],
      ['message', 'a'.repeat(60) + 'b'.repeat(40)],
    ]);
  });

  const overLimit = [
    [100, 101],
    [125, 126],
    [200, 201],
    [65_535, 65_536],
    [70_000, 70_001],
  ] as const;

  it('a frame over it fails 1009 from its header alone (one read), before any payload', () => {
    for (const [max, size] of overLimit) {
      for (const op of [OP.text, OP.binary]) {
        const r = recorder(max);
        r.read(concat(frame(OP.text, 'ok'), header(op, size)));
        expect(r.events).toEqual([
          ['message', 'ok'],
          ['fail', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009],
        ]);
        r.read(pattern(size));
        r.read(frame(OP.text, 'later'));
        expect(r.events.length).toBe(2);
      }
    }
  });

  it('a frame over it fails 1009 once its header is complete, the header one byte per read', () => {
    for (const [max, size] of overLimit) {
      for (const op of [OP.text, OP.binary]) {
        const r = recorder(max);
        r.read(frame(OP.text, 'ok'));
        const head = header(op, size);
        // The header one byte at a time: the failure comes with its last byte, not later.
        for (let i = 0; i < head.length - 1; i++) r.feed(head.subarray(i, i + 1));
        expect(r.events).toEqual([['message', 'ok']]);
        r.feed(head.subarray(head.length - 1));
        expect(r.events).toEqual([
          ['message', 'ok'],
          ['fail', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009],
        ]);
        // The payload then arriving delivers nothing.
        r.read(pattern(size));
        r.read(frame(OP.text, 'later'));
        expect(r.events.length).toBe(2);
      }
    }
  });

  it('a fragmented message over it in total fails 1009 at the header that exceeds it', () => {
    const r = recorder(100);
    r.read(frame(OP.text, 'a'.repeat(60), { fin: false }));
    r.read(frame(OP.ping, 'still fine'));
    r.read(frame(OP.cont, 'b'.repeat(30), { fin: false }));
    expect(r.events.length).toBe(1); // the ping
    r.read(header(OP.cont, 11)); // 60 + 30 + 11 = 101
    expect(r.events.slice(1)).toEqual([['fail', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009]]);
    r.read(utf8('c'.repeat(11)));
    r.read(frame(OP.text, 'later'));
    expect(r.events.length).toBe(2);
  });

  it('a fragmented binary message over it with a 64-bit final fragment', () => {
    const r = recorder(70_000);
    r.read(frame(OP.binary, pattern(10), { fin: false }));
    r.read(header(OP.cont, 69_991));
    expect(r.events).toEqual([['fail', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009]]);
  });

  it('a 64-bit length above 2^53 fails 1009, however large maxPayload is', () => {
    for (const max of [Number.MAX_SAFE_INTEGER, Infinity]) {
      checkOver53(max);
    }
  });

  function checkOver53(max: number): void {
    const heads = [
      // 2^53 exactly: high word 0x00200000
      new Uint8Array([0x82, 127, 0, 0x20, 0, 0, 0, 0, 0, 0]),
      // 2^53 + 1
      new Uint8Array([0x82, 127, 0, 0x20, 0, 0, 0, 0, 0, 1]),
      // the most significant bit set (RFC 6455: MUST be 0)
      new Uint8Array([0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]),
      new Uint8Array([0x82, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ];
    for (const head of heads) {
      const r = recorder(max);
      r.read(head);
      expect(r.events).toEqual([['fail', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009]]);
      expect(r.errors[0]!.closeCode).toBe(1009);
    }
  }

  it('a header announcing a huge length within maxPayload: no failure, and read() does not throw', () => {
    // 2^53 - 1 is a length like any other: the header is not refused, and bytes that are
    // valid so far must not make read() throw (in the transport, a throw in the socket's read
    // callback would be an uncaught exception).
    const head = new Uint8Array([0x82, 127, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    for (const max of [Number.MAX_SAFE_INTEGER, Infinity]) {
      const r = recorder(max);
      expect(() => r.read(concat(head, pattern(100))), `maxPayload ${max}`).not.toThrow();
      expect(r.events).toEqual([]);
    }
    // ... but over a smaller limit it is too large.
    const small = recorder(1 << 20);
    small.read(head);
    expect(small.events).toEqual([['fail', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009]]);
  });

  it('a 64-bit length above 2^53 fails 1009 when its header straddles two reads', () => {
    const head = new Uint8Array([0x82, 127, 0, 0x20, 0, 0, 0, 0, 0, 1]);
    for (let cut = 1; cut < head.length; cut++) {
      const r = recorder(Number.MAX_SAFE_INTEGER);
      r.feed(concat(head, pattern(64)), [cut, head.length - cut]);
      expect(r.events, `cut at ${cut}`).toEqual([
        ['fail', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009],
      ]);
    }
  });
});

describe('FrameReader: nothing after the end', () => {
  it('nothing is delivered after a close frame, in the same read or later ones', () => {
    const r = recorder();
    r.read(concat(frame(OP.text, 'a'), closeFrame(1000, 'x'), frame(OP.text, 'b'), frame(OP.ping)));
    r.read(frame(OP.text, 'c'));
    r.read(concat(frame(OP.binary, pattern(3)), closeFrame(1001)));
    expect(r.events).toEqual([
      ['message', 'a'],
      ['close', 1000, 'x'],
    ]);
  });

  it('nothing is delivered after a failure, even garbage is not a second failure', () => {
    const r = recorder();
    r.read(concat(frame(OP.text, 'a'), frame(3), frame(OP.text, 'b')));
    r.read(concat(frame(OP.text, 'c'), frame(4), new Uint8Array([0xff, 0xff, 0xff])));
    expect(r.events).toEqual([
      ['message', 'a'],
      ['fail', 'WS_ERR_INVALID_OPCODE', 1002],
    ]);
  });

  it('stop() from inside a callback drops the rest of the same read', () => {
    const r = recorder(1 << 20, {
      onMessage: (reader, count) => {
        if (count === 2) reader.stop();
      },
    });
    r.read(
      concat(
        frame(OP.text, 'one'),
        frame(OP.text, 'two'),
        frame(OP.text, 'three'),
        frame(OP.ping),
        closeFrame(1000),
      ),
    );
    r.read(frame(OP.text, 'four'));
    expect(r.events).toEqual([
      ['message', 'one'],
      ['message', 'two'],
    ]);
  });

  it('stop() from inside a callback for a frame completed from the carry', () => {
    const r = recorder(1 << 20, { onMessage: (reader) => reader.stop() });
    const stream = concat(frame(OP.binary, pattern(300)), frame(OP.text, 'next'), frame(OP.pong));
    r.feed(stream, [150]);
    expect(plain(r.events)).toEqual([['message', ['bytes', ...pattern(300)]]]);
  });

  it('stop() between reads: a frame half read is never delivered', () => {
    const r = recorder();
    const f = frame(OP.text, 'x'.repeat(200));
    r.read(concat(frame(OP.text, 'first'), f.subarray(0, 50)));
    r.reader.stop();
    r.read(f.subarray(50));
    r.read(frame(OP.text, 'later'));
    expect(r.events).toEqual([['message', 'first']]);
  });

  it('stop() during a fragmented message: its end delivers nothing', () => {
    const r = recorder();
    r.read(frame(OP.text, 'part', { fin: false }));
    r.reader.stop();
    r.read(frame(OP.cont, 'end'));
    expect(r.events).toEqual([]);
  });
});

describe('FrameReader: after a huge frame', () => {
  it('a huge frame read through the carry, then small frames cut anywhere, all exact', () => {
    const huge = pattern(3 * 1024 * 1024 + 17, 11);
    const small = [
      frame(OP.text, 'after-1'),
      frame(OP.binary, pattern(333, 12)),
      frame(OP.ping, 'pp'),
      frame(OP.text, 'after-2'),
    ];
    const stream = concat(frame(OP.binary, huge), ...small, frame(OP.binary, pattern(100_000, 13)));
    const random = prng(7);
    const sizes: number[] = [];
    let left = stream.length;
    // 64 KiB reads (as the socket gives), then small random ones.
    while (left > 0) {
      const size = Math.min(
        left,
        left > stream.length - 120_000 ? 1 + Math.floor(random() * 97) : 65_536,
      );
      sizes.push(size);
      left -= size;
    }
    const r = recorder(8 * 1024 * 1024);
    r.feed(stream, sizes);
    expect(r.events.length).toBe(6);
    expect(Buffer.from(r.events[0]![1] as Uint8Array).equals(Buffer.from(huge))).toBe(true);
    expect(plain(r.events.slice(1, 5))).toEqual(
      plain([
        ['message', 'after-1'],
        ['message', pattern(333, 12)],
        ['ping', utf8('pp')],
        ['message', 'after-2'],
      ]),
    );
    expect(
      Buffer.from(r.events[5]![1] as Uint8Array).equals(Buffer.from(pattern(100_000, 13))),
    ).toBe(true);
  });

  it('lets go of a carry over 64 KiB once its frame is delivered, in every connection', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const sink = { message() {}, ping() {}, pong() {}, close() {}, fail() {} };
    // 100 connections, each of which read a 200 KiB frame in two reads (through its carry).
    const readers = Array.from({ length: 100 }, () => new FrameReader(1 << 20, sink));
    const big = frame(OP.binary, pattern(200 * 1024));
    gc();
    gc();
    const before = process.memoryUsage().arrayBuffers;
    for (const reader of readers) {
      reader.read(big, 1000);
      reader.read(big.subarray(1000), big.length - 1000);
    }
    gc();
    gc();
    const held = process.memoryUsage().arrayBuffers - before;
    // Kept, the carries would hold 20 MiB.
    expect(held).toBeLessThan(4 * 1024 * 1024);
    expect(readers.length).toBe(100); // the readers are alive until here
  });

  it('a large frame in small reads is carried in linear time (the carry at least doubles)', () => {
    const sink = { message() {}, ping() {}, pong() {}, close() {}, fail() {} };
    let received = 0;
    const reader = new FrameReader(8 * 1024 * 1024, {
      ...sink,
      message: (data) => (received += (data as Uint8Array).length),
    });
    const big = frame(OP.binary, pattern(4 * 1024 * 1024));
    const t0 = performance.now();
    // 8,192 reads of 512 bytes: grown a read at a time, the carry would copy 16 GiB.
    for (let at = 0; at < big.length; at += 512) {
      reader.read(big.subarray(at), Math.min(512, big.length - at));
    }
    const ms = performance.now() - t0;
    expect(received).toBe(4 * 1024 * 1024);
    expect(ms).toBeLessThan(1000);
  });

  it('does not keep a huge carry buffer once its frame is delivered', () => {
    // `gc` on demand, for this measurement only.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const mib = 1024 * 1024;
    const size = 48 * mib;
    const r = recorder(64 * mib);
    // A sink that lets the message go at once: only the reader could still hold the bytes.
    let received = 0;
    const reader = new FrameReader(64 * mib, {
      message: (data) => (received += (data as Uint8Array).length),
      ping: () => {},
      pong: () => {},
      close: () => {},
      fail: () => {},
    });
    const head = header(OP.binary, size);
    const chunk = new Uint8Array(4 * mib);
    reader.read(head, head.length);
    for (let left = size; left > 0; left -= chunk.length) {
      reader.read(chunk, Math.min(chunk.length, left));
    }
    expect(received).toBe(size);
    // A small frame split across reads afterwards uses the carry again.
    const tail = frame(OP.binary, pattern(10));
    reader.read(tail, 3);
    reader.read(tail.subarray(3), tail.length - 3);
    expect(received).toBe(size + 10);
    gc();
    gc();
    const retained = process.memoryUsage().arrayBuffers;
    // The reader is still alive (and used below), yet far less than the huge frame is held.
    expect(retained).toBeLessThan(size / 2);
    reader.read(frame(OP.binary, pattern(5)), 7);
    expect(received).toBe(size + 15);
    expect(r.events).toEqual([]);
  });
});
