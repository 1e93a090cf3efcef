import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { openNodeTransport } from '../packages/core/src/node-transport.js';
import type { RawFrame, Transport, TransportListener } from '../packages/core/src/transport.js';
import { startServer, waitFor, type TestServer } from './support/ws-server.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** `promise`, or a rejection after `ms`: no await in this file can hang. */
async function within<T>(promise: Promise<T>, ms = 5000, what = 'promise'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} not settled within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Event =
  | { type: 'open' }
  | { type: 'message'; data: RawFrame }
  | { type: 'life' }
  | { type: 'close'; code: number; reason: string }
  | { type: 'error'; error: Error & { code?: string } }
  | { type: 'rejected'; status: number; retryAfter: string | undefined };

class Recorder implements TransportListener {
  readonly events: Event[] = [];
  open(): void {
    this.events.push({ type: 'open' });
  }
  message(data: RawFrame): void {
    this.events.push({ type: 'message', data });
  }
  life(): void {
    this.events.push({ type: 'life' });
  }
  close(code: number, reason: string): void {
    this.events.push({ type: 'close', code, reason });
  }
  error(error: Error & { code?: string }): void {
    this.events.push({ type: 'error', error });
  }
  rejected(status: number, retryAfter: string | undefined): void {
    this.events.push({ type: 'rejected', status, retryAfter });
  }
  get opened(): boolean {
    return this.events.some((e) => e.type === 'open');
  }
  get messages(): RawFrame[] {
    return this.events.flatMap((e) => (e.type === 'message' ? [e.data] : []));
  }
  get texts(): string[] {
    return this.messages.map((m) => (typeof m === 'string' ? m : `<binary ${String(m)}>`));
  }
  get lives(): number {
    return this.events.filter((e) => e.type === 'life').length;
  }
  get errors(): (Error & { code?: string })[] {
    return this.events.flatMap((e) => (e.type === 'error' ? [e.error] : []));
  }
  get closes(): { code: number; reason: string }[] {
    return this.events.flatMap((e) =>
      e.type === 'close' ? [{ code: e.code, reason: e.reason }] : [],
    );
  }
  get rejections(): { status: number; retryAfter: string | undefined }[] {
    return this.events.flatMap((e) =>
      e.type === 'rejected' ? [{ status: e.status, retryAfter: e.retryAfter }] : [],
    );
  }
}

/** The recorder's methods, bound, to override some of them. */
function bind(rec: Recorder): TransportListener {
  return {
    open: () => rec.open(),
    message: (data) => rec.message(data),
    life: () => rec.life(),
    close: (code, reason) => rec.close(code, reason),
    error: (error) => rec.error(error),
    rejected: (status, retryAfter) => rec.rejected(status, retryAfter),
  };
}

/** Open a transport to `url`; it is terminated (and awaited) after the test. */
function connect(url: string, maxPayloadBytes = 64 * 1024 * 1024): { t: Transport; rec: Recorder } {
  const rec = new Recorder();
  const t = openNodeTransport(url, { maxPayloadBytes }, rec);
  cleanup.push(async () => {
    t.terminate();
    await within(t.closed, 5000, 'transport.closed in cleanup');
  });
  return { t, rec };
}

async function server(
  onConnection?: (s: WebSocket, srv: TestServer) => void,
  options: { maxPayload?: number } = {},
): Promise<TestServer> {
  const srv = await startServer(onConnection, options);
  cleanup.push(() => srv.close());
  return srv;
}

/** The one client socket of `srv`, once it has connected. */
async function only(srv: TestServer): Promise<WebSocket> {
  await waitFor(() => srv.open.size === 1);
  return [...srv.open][0]!;
}

async function opened(rec: Recorder): Promise<void> {
  await waitFor(() => rec.opened || rec.closes.length > 0);
  expect(rec.opened, JSON.stringify(rec.events)).toBe(true);
}

/** A raw TCP server on 127.0.0.1:0, for peers that misbehave. */
async function rawServer(
  onSocket: (s: net.Socket) => void,
): Promise<{ port: number; url: string }> {
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onSocket(s);
  });
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  cleanup.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => tcp.close(() => r()));
  });
  const { port } = tcp.address() as AddressInfo;
  return { port, url: `ws://127.0.0.1:${port}/raw` };
}

/** Resolves with the request head once it is complete. */
function readRequest(s: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end >= 0) {
        s.off('data', onData);
        resolve(head.slice(0, end));
      }
    };
    s.on('data', onData);
  });
}

function acceptHead(request: string, accept?: string): string {
  const key = /^sec-websocket-key:\s*(.+)$/im.exec(request)?.[1]?.trim() ?? '';
  const value =
    accept ??
    createHash('sha1')
      .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
      .digest('base64');
  return (
    'HTTP/1.1 101 Switching Protocols\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${value}\r\n\r\n`
  );
}

/** An unmasked server frame with FIN set. */
function serverFrame(op: number, payload: string | Uint8Array = ''): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  const len = body.length;
  const head =
    len < 126
      ? Buffer.from([0x80 | op, len])
      : len < 0x10000
        ? Buffer.from([0x80 | op, 126, len >> 8, len & 0xff])
        : (() => {
            const h = Buffer.alloc(10);
            h[0] = 0x80 | op;
            h[1] = 127;
            h.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
            h.writeUInt32BE(len >>> 0, 6);
            return h;
          })();
  return Buffer.concat([head, body]);
}

function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return out;
}

function same(a: RawFrame | undefined, b: Uint8Array): boolean {
  return a instanceof Uint8Array && Buffer.from(a).equals(Buffer.from(b));
}

/** Server-side record of what a `ws` peer saw. */
function watchPeer(s: WebSocket): {
  received: string[];
  pings: Buffer[];
  pongs: Buffer[];
  close: Promise<{ code: number; reason: string }>;
} {
  const received: string[] = [];
  const pings: Buffer[] = [];
  const pongs: Buffer[] = [];
  s.on('message', (data) => received.push(String(data)));
  s.on('ping', (data) => pings.push(data));
  s.on('pong', (data) => pongs.push(data));
  const close = new Promise<{ code: number; reason: string }>((resolve) =>
    s.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  return { received, pings, pongs, close };
}

/** The client's frames in `bytes` (masked, as a client sends them), unmasked. */
function clientFrames(bytes: Buffer): { op: number; payload: Buffer }[] {
  const frames: { op: number; payload: Buffer }[] = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    let len = bytes[at + 1]! & 0x7f;
    let head = 2;
    if (len === 126) {
      len = bytes.readUInt16BE(at + 2);
      head = 4;
    } else if (len === 127) {
      len = Number(bytes.readBigUInt64BE(at + 2));
      head = 10;
    }
    const mask = bytes.subarray(at + head, at + head + 4);
    const start = at + head + 4;
    if (start + len > bytes.length) break;
    const payload = Buffer.from(bytes.subarray(start, start + len));
    for (let i = 0; i < len; i++) payload[i]! ^= mask[i & 3]!;
    frames.push({ op: bytes[at]! & 0x0f, payload });
    at = start + len;
  }
  return frames;
}

/**
 * A raw peer that completes the upgrade, records every byte the client sends after it, and
 * answers the client's close frame with its own (then ends TCP), as a polite server does.
 */
async function recordingPeer(
  afterHead: (s: net.Socket) => void = () => {},
): Promise<{ url: string; frames: () => { op: number; payload: Buffer }[] }> {
  let fromClient = Buffer.alloc(0);
  let echoed = false;
  const raw = await rawServer((s) => {
    void readRequest(s).then((req) => {
      s.on('data', (d: Buffer) => {
        fromClient = Buffer.concat([fromClient, d]);
        const close = clientFrames(fromClient).find((f) => f.op === 8);
        if (close && !echoed) {
          echoed = true;
          s.end(serverFrame(8, close.payload));
        }
      });
      s.write(acceptHead(req), 'latin1');
      afterHead(s);
    });
  });
  return { url: raw.url, frames: () => clientFrames(fromClient) };
}

// ---------------------------------------------------------------------------------------------

describe('openNodeTransport against a ws server', () => {
  it('opens, then carries text both ways (the server echoes), and binary from the server', async () => {
    const srv = await server((s) => {
      s.on('message', (data, isBinary) => s.send(data, { binary: isBinary }));
    });
    const { t, rec } = connect(`${srv.url}/path?x=1`);
    expect(rec.events).toEqual([]);
    await opened(rec);
    const s = await only(srv);
    const peer = watchPeer(s);
    const texts = [
      'hello',
      '',
      'é€😀 unicode',
      'x'.repeat(125),
      'y'.repeat(126),
      'z'.repeat(70_000),
    ];
    for (const text of texts) t.send(text);
    await waitFor(() => rec.messages.length >= texts.length);
    expect(rec.messages).toEqual(texts);
    expect(peer.received).toEqual(texts);
    s.send(pattern(300), { binary: true });
    await waitFor(() => rec.messages.length === texts.length + 1);
    expect(same(rec.messages.at(-1), pattern(300))).toBe(true);
    expect(rec.errors).toEqual([]);
    expect(rec.events.filter((e) => e.type === 'open').length).toBe(1);
    expect(rec.events[0]).toEqual({ type: 'open' });
  });

  it('the request carried the path and query', async () => {
    const urls: string[] = [];
    const srv = await server();
    srv.wss.on('connection', (_s, req) => urls.push(req.url ?? ''));
    const { rec } = connect(`${srv.url}/stream?streams=btcusdt@bookTicker`);
    await opened(rec);
    await waitFor(() => urls.length === 1);
    expect(urls).toEqual(['/stream?streams=btcusdt@bookTicker']);
  });

  it('2,000 small messages sent in one burst arrive complete and in order', async () => {
    const n = 2000;
    const srv = await server((s) => {
      for (let i = 0; i < n; i++) s.send(`{"i":${i},"pad":"${'p'.repeat(i % 97)}"}`);
    });
    const { rec } = connect(srv.url);
    await waitFor(() => rec.messages.length >= n || rec.closes.length > 0, 10_000);
    expect(rec.messages.length).toBe(n);
    const bad = rec.messages.flatMap((m, i) =>
      m === `{"i":${i},"pad":"${'p'.repeat(i % 97)}"}` ? [] : [i],
    );
    expect(bad.slice(0, 10)).toEqual([]);
    expect(rec.errors).toEqual([]);
  });

  it('many messages of varied sizes in a burst (frame headers across every read boundary)', async () => {
    // Sizes around the 7/16-bit length forms, so that over 64 KiB reads some header is cut.
    const sizes = Array.from(
      { length: 3000 },
      (_, i) => [1, 120, 125, 126, 127, 300, 1000][i % 7]!,
    );
    const payloads = sizes.map((n, i) => `${i}:`.padEnd(n, String.fromCharCode(97 + (i % 26))));
    const srv = await server((s) => {
      for (const p of payloads) s.send(p);
    });
    const { rec } = connect(srv.url);
    await waitFor(
      () =>
        rec.messages.length >= payloads.length || rec.closes.length > 0 || rec.errors.length > 0,
      10_000,
    );
    expect(rec.errors.map((e) => e.message)).toEqual([]);
    expect(rec.messages.length).toBe(payloads.length);
    const bad = rec.messages.flatMap((m, i) => (m === payloads[i] ? [] : [i]));
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('a 1 MiB message arrives intact, binary and text', async () => {
    const big = pattern(1024 * 1024, 5);
    const text = 'abcdefghijklmnopqrstuvwxyz€'.repeat(40_000);
    const srv = await server((s) => {
      s.send(big, { binary: true });
      s.send(text);
      s.send('after');
    });
    const { rec } = connect(srv.url);
    await waitFor(() => rec.messages.length >= 3 || rec.closes.length > 0, 10_000);
    expect(rec.messages.length).toBe(3);
    expect(same(rec.messages[0], big)).toBe(true);
    expect(rec.messages[1]).toBe(text);
    expect(rec.messages[2]).toBe('after');
  });

  it('fragmented messages from the server are joined, a ping between fragments too', async () => {
    const euro = Buffer.from('€');
    const srv = await server((s) => {
      s.send('Hel', { fin: false });
      s.send('lo, ', { fin: false });
      s.ping('mid');
      s.send('world', { fin: true });
      // A character split across two fragments.
      s.send(Buffer.concat([Buffer.from('a'), euro.subarray(0, 1)]), { binary: false, fin: false });
      s.send(Buffer.concat([euro.subarray(1), Buffer.from('b')]), { binary: false, fin: true });
      s.send(Buffer.from(pattern(100, 1)), { binary: true, fin: false });
      s.send(Buffer.from(pattern(70_000, 2)), { binary: true, fin: true });
      s.send('end');
    });
    const { rec } = connect(srv.url);
    await waitFor(() => rec.messages.length >= 4 || rec.closes.length > 0);
    expect(rec.messages.length).toBe(4);
    expect(rec.messages[0]).toBe('Hello, world');
    expect(rec.messages[1]).toBe('a€b');
    const joined = new Uint8Array(70_100);
    joined.set(pattern(100, 1));
    joined.set(pattern(70_000, 2), 100);
    expect(same(rec.messages[2], joined)).toBe(true);
    expect(rec.messages[3]).toBe('end');
    expect(rec.lives).toBe(1);
    expect(rec.errors).toEqual([]);
  });

  it("the server's ping is answered with a pong carrying its payload, and counts as life", async () => {
    const srv = await server();
    const { rec } = connect(srv.url);
    await opened(rec);
    const s = await only(srv);
    const peer = watchPeer(s);
    s.ping('are you there');
    s.ping();
    await waitFor(() => peer.pongs.length === 2);
    expect(peer.pongs.map(String)).toEqual(['are you there', '']);
    expect(rec.lives).toBe(2);
  });

  it('our ping() reaches the server, and its pong counts as life', async () => {
    const srv = await server();
    const { t, rec } = connect(srv.url);
    await opened(rec);
    const s = await only(srv);
    const peer = watchPeer(s);
    expect(t.ping()).toBe(true);
    await waitFor(() => peer.pings.length === 1 && rec.lives === 1);
    expect(t.ping()).toBe(true);
    await waitFor(() => peer.pings.length === 2 && rec.lives === 2);
    expect(rec.errors).toEqual([]);
  });

  it('a close started by us: the server sees our code and reason, then closed settles', async () => {
    const srv = await server();
    const { t, rec } = connect(srv.url);
    await opened(rec);
    const s = await only(srv);
    const peer = watchPeer(s);
    t.close(4001, 'client bye');
    expect(await within(peer.close, 5000, 'server close')).toEqual({
      code: 4001,
      reason: 'client bye',
    });
    await within(t.closed, 5000, 'closed');
    // What the listener hears is the server's echo (ws echoes the code and the reason).
    expect(rec.closes).toEqual([{ code: 4001, reason: 'client bye' }]);
    expect(rec.errors).toEqual([]);
    // Sending after a close does not throw.
    expect(() => t.send('late')).not.toThrow();
  });

  it('a close started by the server: code and reason delivered, the close echoed, no error', async () => {
    let peer: ReturnType<typeof watchPeer> | undefined;
    const srv = await server((s) => {
      peer = watchPeer(s);
      s.send('last words');
      s.close(4002, 'server bye');
    });
    const { t, rec } = connect(srv.url);
    await within(t.closed, 5000, 'closed');
    expect(rec.messages).toEqual(['last words']);
    expect(rec.closes).toEqual([{ code: 4002, reason: 'server bye' }]);
    // The server heard our echo of its close frame (a missing echo would be 1006 there).
    expect(await within(peer!.close, 5000, 'server close')).toMatchObject({ code: 4002 });
    expect(rec.errors.map((e) => `${e.message} (${e.code})`)).toEqual([]);
  });

  it('a close without a code from the server is 1005', async () => {
    const srv = await server((s) => s.close());
    const { t, rec } = connect(srv.url);
    await within(t.closed, 5000, 'closed');
    expect(rec.closes).toEqual([{ code: 1005, reason: '' }]);
  });

  it('a server that drops TCP without a close frame: close 1006', async () => {
    const srv = await server((s) => {
      s.send('hi');
      setTimeout(() => s.terminate(), 20);
    });
    const { t, rec } = connect(srv.url);
    await within(t.closed, 5000, 'closed');
    expect(rec.messages).toEqual(['hi']);
    expect(rec.closes).toEqual([{ code: 1006, reason: '' }]);
  });

  it('maxPayloadBytes: a larger message is an error, and the server sees close 1009', async () => {
    let peer: ReturnType<typeof watchPeer> | undefined;
    const srv = await server((s) => {
      peer = watchPeer(s);
      s.send('small');
      s.send('x'.repeat(2000));
      s.send('never');
    });
    const { t, rec } = connect(srv.url, 1000);
    await within(t.closed, 5000, 'closed');
    expect(rec.messages).toEqual(['small']);
    expect(rec.errors.map((e) => e.code)).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
    expect(await within(peer!.close, 5000, 'server close')).toMatchObject({ code: 1009 });
    expect(rec.closes.length).toBe(1);
  });

  it('maxPayloadBytes: exactly the limit passes', async () => {
    const srv = await server((s) => s.send('x'.repeat(1000)));
    const { rec } = connect(srv.url, 1000);
    await waitFor(() => rec.messages.length === 1 || rec.closes.length > 0);
    expect(rec.messages).toEqual(['x'.repeat(1000)]);
    expect(rec.errors).toEqual([]);
  });

  it('a protocol error from the server: error with its code, and the server sees 1002', async () => {
    let peer: ReturnType<typeof watchPeer> | undefined;
    const srv = await server((s) => {
      peer = watchPeer(s);
      s.send('ok');
      // A raw frame with a reserved opcode, past ws's sender.
      (s as unknown as { _socket: net.Socket })._socket.write(Buffer.from([0x83, 0x00]));
    });
    const { t, rec } = connect(srv.url);
    await within(t.closed, 5000, 'closed');
    expect(rec.messages).toEqual(['ok']);
    expect(rec.errors.map((e) => e.code)).toEqual(['WS_ERR_INVALID_OPCODE']);
    expect(await within(peer!.close, 5000, 'server close')).toMatchObject({ code: 1002 });
  });

  it('pause() stops delivery while the server keeps sending; resume() delivers all in order', async () => {
    const n = 500;
    const srv = await server((s) => {
      s.send('ready');
      s.on('message', (m) => {
        if (String(m) === 'go') for (let i = 0; i < n; i++) s.send(`m${i}`);
      });
    });
    const { t, rec } = connect(srv.url);
    await waitFor(() => rec.messages.length === 1);
    const s = await only(srv);
    expect(t.pause()).toBe(true);
    t.send('go');
    // Everything the server sent has left it, and had time to arrive.
    await waitFor(() => s.bufferedAmount === 0);
    await sleep(300);
    expect(rec.messages).toEqual(['ready']);
    t.resume();
    await waitFor(() => rec.messages.length >= n + 1);
    expect(rec.messages).toEqual(['ready', ...Array.from({ length: n }, (_, i) => `m${i}`)]);
    // And the socket reads on afterwards.
    s.send('after');
    await waitFor(() => rec.messages.length === n + 2);
    expect(rec.messages.at(-1)).toBe('after');
  });

  it('terminate() destroys at once: closed settles, close 1006, the server sees 1006', async () => {
    const srv = await server();
    const { t, rec } = connect(srv.url);
    await opened(rec);
    const s = await only(srv);
    const peer = watchPeer(s);
    t.terminate();
    await within(t.closed, 1000, 'closed');
    expect(rec.closes).toEqual([{ code: 1006, reason: '' }]);
    expect((await within(peer.close, 5000, 'server close')).code).toBe(1006);
    expect(() => t.terminate()).not.toThrow();
  });

  it('detach(): later messages, errors and the close reach no listener, and nothing throws', async () => {
    const srv = await server();
    const { t, rec } = connect(srv.url, 1000);
    await opened(rec);
    const s = await only(srv);
    s.send('before');
    await waitFor(() => rec.messages.length === 1);
    t.detach();
    const seen = rec.events.length;
    s.send('after');
    s.ping();
    s.send('x'.repeat(5000)); // over maxPayloadBytes: a protocol error, heard by no one
    await within(t.closed, 5000, 'closed');
    expect(rec.events.length).toBe(seen);
    expect(() => t.close(1000, '')).not.toThrow();
    expect(() => t.send('late')).not.toThrow();
  });

  it('detach() then a server close: nothing reaches the listener, closed settles', async () => {
    const srv = await server();
    const { t, rec } = connect(srv.url);
    await opened(rec);
    const s = await only(srv);
    t.detach();
    const seen = rec.events.length;
    s.close(1000, 'bye');
    await within(t.closed, 5000, 'closed');
    expect(rec.events.length).toBe(seen);
  });

  it('terminate() from inside a message callback: nothing more is delivered, close 1006', async () => {
    const srv = await server((s) => {
      // One write, so that all of it lands in one read.
      (s as unknown as { _socket: net.Socket })._socket.write(
        Buffer.concat([serverFrame(1, 'one'), serverFrame(1, 'two'), serverFrame(1, 'three')]),
      );
    });
    const rec = new Recorder();
    const t = openNodeTransport(
      srv.url,
      { maxPayloadBytes: 1 << 20 },
      {
        ...bind(rec),
        message: (data) => {
          rec.message(data);
          if (data === 'two') t.terminate();
        },
      },
    );
    cleanup.push(async () => {
      t.terminate();
      await within(t.closed, 5000, 'closed');
    });
    await within(t.closed, 5000, 'closed');
    expect(rec.messages).toEqual(['one', 'two']);
    expect(rec.closes).toEqual([{ code: 1006, reason: '' }]);
  });

  it('close() from inside the open callback: a polite close the server sees', async () => {
    let peer: ReturnType<typeof watchPeer> | undefined;
    const srv = await server((s) => {
      peer = watchPeer(s);
      s.send('hello');
    });
    const rec = new Recorder();
    const t = openNodeTransport(
      srv.url,
      { maxPayloadBytes: 1 << 20 },
      {
        ...bind(rec),
        open: () => {
          rec.open();
          t.close(4005, 'changed my mind');
        },
      },
    );
    cleanup.push(async () => {
      t.terminate();
      await within(t.closed, 5000, 'closed');
    });
    await within(t.closed, 5000, 'closed');
    expect(await within(peer!.close, 5000, 'server close')).toEqual({
      code: 4005,
      reason: 'changed my mind',
    });
    expect(rec.errors).toEqual([]);
    expect(rec.closes.length).toBe(1);
  });

  it('send() before open throws', async () => {
    const srv = await server();
    const { t, rec } = connect(srv.url);
    expect(() => t.send('too early')).toThrow();
    await opened(rec);
    expect(() => t.send('now')).not.toThrow();
  });

  it('connection refused: error ECONNREFUSED, close 1006, no open', async () => {
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    const { t, rec } = connect(`ws://127.0.0.1:${port}/`);
    await within(t.closed, 5000, 'closed');
    expect(rec.errors.map((e) => e.code)).toContain('ECONNREFUSED');
    expect(rec.closes).toEqual([{ code: 1006, reason: '' }]);
    expect(rec.opened).toBe(false);
  });

  it('after close(): a second close(), send() and ping() write nothing, and the echo ends it cleanly', async () => {
    const peer = await recordingPeer();
    const { t, rec } = connect(peer.url);
    await opened(rec);
    t.close(4010, 'first');
    t.close(4011, 'second');
    t.send('late');
    t.ping();
    await within(t.closed, 5000, 'closed');
    await sleep(50);
    expect(peer.frames()).toEqual([
      {
        op: 8,
        payload: Buffer.concat([Buffer.from([4010 >> 8, 4010 & 0xff]), Buffer.from('first')]),
      },
    ]);
    expect(rec.closes).toEqual([{ code: 4010, reason: 'first' }]);
    expect(rec.errors).toEqual([]);
  });

  it("once the peer's close frame is read, send() and close() write nothing, and nothing errs", async () => {
    const peer = await recordingPeer((s) =>
      s.write(Buffer.concat([serverFrame(1, 'last'), serverFrame(8, Buffer.from([0x03, 0xe8]))])),
    );
    const rec = new Recorder();
    const t = openNodeTransport(
      peer.url,
      { maxPayloadBytes: 1 << 20 },
      {
        ...bind(rec),
        message: (data) => {
          rec.message(data);
          // Runs once the read that carried the close frame too has been parsed.
          queueMicrotask(() => {
            t.send('too late');
            t.close(4000, 'too late');
          });
        },
      },
    );
    cleanup.push(async () => {
      t.terminate();
      await within(t.closed, 5000, 'closed');
    });
    await within(t.closed, 5000, 'closed');
    await sleep(50);
    expect(rec.messages).toEqual(['last']);
    expect(rec.closes).toEqual([{ code: 1000, reason: '' }]);
    expect(rec.errors.map((e) => `${e.message} (${e.code})`)).toEqual([]);
    // Only the echo of the peer's close.
    expect(peer.frames()).toEqual([{ op: 8, payload: Buffer.from([0x03, 0xe8]) }]);
  });

  it('a close frame without a code is echoed without one (1005 is never sent)', async () => {
    const peer = await recordingPeer((s) => s.write(serverFrame(8)));
    const { t, rec } = connect(peer.url);
    await within(t.closed, 5000, 'closed');
    await sleep(50);
    expect(rec.closes).toEqual([{ code: 1005, reason: '' }]);
    expect(peer.frames()).toEqual([{ op: 8, payload: Buffer.alloc(0) }]);
  });

  it("after the peer's close frame the client ends TCP, even if the peer never does", async () => {
    const raw = await rawServer((s) => {
      void readRequest(s).then((req) =>
        s.write(
          Buffer.concat([
            Buffer.from(acceptHead(req), 'latin1'),
            serverFrame(8, Buffer.from([0x03, 0xe8])),
          ]),
        ),
      );
    });
    const { t, rec } = connect(raw.url);
    await within(t.closed, 2000, 'closed');
    expect(rec.closes).toEqual([{ code: 1000, reason: '' }]);
    expect(rec.errors).toEqual([]);
  });

  it('turns Nagle off on its socket', async () => {
    const noDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    cleanup.push(() => noDelay.mockRestore());
    const peer = await recordingPeer();
    const { rec } = connect(peer.url);
    await opened(rec);
    expect(noDelay).toHaveBeenCalledWith(true);
  });

  it('connects to the bare host, on port 80 for ws: and 443 for wss: when the URL names none', async () => {
    const targets: { host: unknown; port: unknown }[] = [];
    const connectSpy = vi.spyOn(net.Socket.prototype, 'connect').mockImplementation(function (
      this: net.Socket,
      ...args: unknown[]
    ) {
      // net.connect passes its arguments normalized, as one array; tls.connect, an object.
      const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
      const options = first as { host?: unknown; port?: unknown };
      targets.push({ host: options.host, port: options.port });
      return this; // never connects: no traffic leaves the test
    });
    cleanup.push(() => connectSpy.mockRestore());
    for (const url of [
      'ws://127.0.0.1/a',
      'wss://127.0.0.1/b',
      'ws://[::1]/c',
      'wss://[::1]:8443/d',
    ]) {
      const rec = new Recorder();
      const t = openNodeTransport(url, { maxPayloadBytes: 1000 }, rec);
      t.terminate();
      await within(t.closed, 5000, `closed (${url})`);
    }
    expect(targets).toEqual([
      { host: '127.0.0.1', port: 80 },
      { host: '127.0.0.1', port: 443 },
      { host: '::1', port: 80 },
      { host: '::1', port: 8443 },
    ]);
  });

  it('a URL that is not ws:, wss:, http: or https: is refused', () => {
    const rec = new Recorder();
    expect(() => openNodeTransport('ftp://127.0.0.1:1/', { maxPayloadBytes: 10 }, rec)).toThrow(
      SyntaxError,
    );
  });

  it("an http: URL is read as ws:, as `ws` and the feed's URL check read it", async () => {
    const srv = await server((s) => s.send('over http:'));
    const { rec } = connect(srv.url.replace(/^ws:/, 'http:'));
    await waitFor(() => rec.messages.length > 0 || rec.closes.length > 0);
    expect(rec.messages).toEqual(['over http:']);
  });

  it('credentials in the URL reach the server as Basic authorization, as `ws` sends them', async () => {
    const authorizations: (string | undefined)[] = [];
    const srv = await server();
    srv.wss.on('connection', (_s, req) => authorizations.push(req.headers.authorization));
    const { rec } = connect(srv.url.replace('ws://', 'ws://us%20er:p%40ss@'));
    await opened(rec);
    await waitFor(() => authorizations.length === 1);
    expect(authorizations).toEqual([`Basic ${Buffer.from('us er:p@ss').toString('base64')}`]);
  });
});

describe('openNodeTransport against misbehaving peers', () => {
  const secret = 'listenKey=SECRET-TOKEN-42';

  for (const [status, extra, retryAfter] of [
    ['429 Too Many Requests', 'Retry-After: 7\r\n', '7'],
    ["418 I'm a teapot", 'retry-after: 120\r\n', '120'],
    ['302 Found', 'Location: {target}\r\n', undefined],
    ['307 Temporary Redirect', 'Location: {target}\r\nRETRY-AFTER: 3\r\n', '3'],
  ] as const) {
    it(`HTTP ${status}: rejected(status, Retry-After), close 1006, no open, nothing followed`, async () => {
      // Where a redirect points: a server of ours, that must never be connected to.
      let redirected = 0;
      const target = await rawServer(() => redirected++);
      let connections = 0;
      const raw = await rawServer((s) => {
        connections++;
        const head = extra.replace('{target}', `${target.url}?${secret}`);
        void readRequest(s).then(() =>
          s.end(`HTTP/1.1 ${status}\r\n${head}Content-Length: 0\r\n\r\n`),
        );
      });
      const { t, rec } = connect(raw.url);
      await within(t.closed, 5000, 'closed');
      expect(rec.rejections).toEqual([{ status: Number(status.slice(0, 3)), retryAfter }]);
      expect(rec.closes).toEqual([{ code: 1006, reason: '' }]);
      expect(rec.opened).toBe(false);
      expect(rec.events.at(-1)?.type).toBe('close');
      expect(connections).toBe(1);
      await sleep(50);
      expect(redirected).toBe(0);
      for (const e of rec.errors) {
        expect(e.message).not.toContain('SECRET');
        expect(String(e.stack)).not.toContain('SECRET');
      }
      expect(JSON.stringify(rec.events)).not.toContain('SECRET');
    });
  }

  it('a 101 with a wrong Sec-WebSocket-Accept: error, no open, close 1006', async () => {
    const raw = await rawServer((s) => {
      void readRequest(s).then((req) =>
        s.write(
          acceptHead(req, 'd3JvbmcgYWNjZXB0IHZhbHVlIQ==') + serverFrame(1, 'x').toString('latin1'),
          'latin1',
        ),
      );
    });
    const { t, rec } = connect(raw.url);
    await within(t.closed, 5000, 'closed');
    expect(rec.opened).toBe(false);
    expect(rec.errors.length).toBe(1);
    expect(rec.messages).toEqual([]);
    expect(rec.closes).toEqual([{ code: 1006, reason: '' }]);
  });

  it('a peer that answers with no HTTP at all: error, no open, close 1006', async () => {
    const raw = await rawServer((s) => {
      void readRequest(s).then(() => s.write('SSH-2.0-OpenSSH_9.0\r\n\r\n'));
    });
    const { t, rec } = connect(raw.url);
    await within(t.closed, 5000, 'closed');
    expect(rec.opened).toBe(false);
    expect(rec.errors.length).toBe(1);
    expect(rec.closes).toEqual([{ code: 1006, reason: '' }]);
  });

  it('a response head that never ends is refused once over the limit', async () => {
    const raw = await rawServer((s) => {
      void readRequest(s).then(() => {
        s.write('HTTP/1.1 101 Switching Protocols\r\n');
        // Header lines forever (bounded here: 64 KiB).
        for (let i = 0; i < 1024; i++) s.write(`X-Filler-${i}: ${'f'.repeat(50)}\r\n`);
      });
    });
    const { t, rec } = connect(raw.url);
    await within(t.closed, 5000, 'closed');
    expect(rec.opened).toBe(false);
    expect(rec.errors.length).toBe(1);
    expect(rec.closes).toEqual([{ code: 1006, reason: '' }]);
  });

  it('the 101 and the first frames in the same TCP write: the frames are delivered', async () => {
    const frames = Buffer.concat([
      serverFrame(1, 'first'),
      serverFrame(2, pattern(200)),
      serverFrame(9, 'ping!'),
      serverFrame(1, 'x'.repeat(300)),
      serverFrame(1, 'second'),
    ]);
    const raw = await rawServer((s) => {
      void readRequest(s).then((req) =>
        s.write(Buffer.concat([Buffer.from(acceptHead(req), 'latin1'), frames])),
      );
    });
    const { rec } = connect(raw.url);
    await waitFor(() => rec.messages.length >= 4 || rec.closes.length > 0);
    expect(rec.opened).toBe(true);
    expect(rec.messages.length).toBe(4);
    expect(rec.messages[0]).toBe('first');
    expect(same(rec.messages[1], pattern(200))).toBe(true);
    expect(rec.messages[2]).toBe('x'.repeat(300));
    expect(rec.messages[3]).toBe('second');
    expect(rec.lives).toBe(1);
    expect(rec.events.findIndex((e) => e.type === 'open')).toBe(0);
  });

  it('the 101 head one byte per write, then frames: open, and the frames delivered', async () => {
    const raw = await rawServer((s) => {
      s.setNoDelay(true);
      void readRequest(s).then(async (req) => {
        const head = Buffer.from(acceptHead(req), 'latin1');
        for (let i = 0; i < head.length && !s.destroyed; i++) {
          s.write(head.subarray(i, i + 1));
          await sleep(1);
        }
        await sleep(5);
        s.write(Buffer.concat([serverFrame(1, 'after the head'), serverFrame(1, 'and another')]));
      });
    });
    const { rec } = connect(raw.url);
    await waitFor(() => rec.messages.length >= 2 || rec.closes.length > 0, 10_000);
    expect(rec.opened).toBe(true);
    expect(rec.messages).toEqual(['after the head', 'and another']);
    expect(rec.errors).toEqual([]);
  });

  it("the head's end and a frame's first byte in one write, the rest of the frame in the next", async () => {
    const raw = await rawServer((s) => {
      s.setNoDelay(true);
      void readRequest(s).then(async (req) => {
        const f = serverFrame(1, 'after the head');
        s.write(Buffer.concat([Buffer.from(acceptHead(req), 'latin1'), f.subarray(0, 1)]));
        await sleep(20);
        s.write(Buffer.concat([f.subarray(1), serverFrame(1, 'and another')]));
      });
    });
    const { rec } = connect(raw.url);
    await waitFor(() => rec.messages.length >= 2 || rec.closes.length > 0 || rec.errors.length > 0);
    expect(rec.opened).toBe(true);
    expect(rec.errors.map((e) => e.message)).toEqual([]);
    expect(rec.messages).toEqual(['after the head', 'and another']);
  });

  it('a frame header split across two TCP writes is read correctly', async () => {
    const raw = await rawServer((s) => {
      s.setNoDelay(true);
      void readRequest(s).then(async (req) => {
        s.write(acceptHead(req), 'latin1');
        const f = serverFrame(1, 'y'.repeat(300)); // a 4-byte header
        await sleep(20);
        s.write(f.subarray(0, 1));
        await sleep(20);
        s.write(f.subarray(1, 3));
        await sleep(20);
        s.write(Buffer.concat([f.subarray(3), serverFrame(1, 'tail')]));
      });
    });
    const { rec } = connect(raw.url);
    await waitFor(() => rec.messages.length >= 2 || rec.closes.length > 0 || rec.errors.length > 0);
    expect(rec.errors.map((e) => e.message)).toEqual([]);
    expect(rec.messages).toEqual(['y'.repeat(300), 'tail']);
  });

  it('close() from the open callback with a frame split after the head: the close still reads in step', async () => {
    const raw = await rawServer((s) => {
      s.setNoDelay(true);
      const big = serverFrame(1, 'z'.repeat(300));
      let upgraded = false;
      void readRequest(s).then((req) => {
        upgraded = true;
        s.write(Buffer.concat([Buffer.from(acceptHead(req), 'latin1'), big.subarray(0, 6)]));
      });
      s.on('data', (chunk: Buffer) => {
        // Our close frame (opcode 8, masked): the rest of the frame, then the peer's close.
        if (upgraded && (chunk[0]! & 0x0f) === 8) {
          s.write(Buffer.concat([big.subarray(6), serverFrame(8, Buffer.from([0x03, 0xe8]))]));
        }
      });
    });
    const rec = new Recorder();
    const t = openNodeTransport(
      raw.url,
      { maxPayloadBytes: 1 << 20 },
      {
        ...bind(rec),
        open: () => {
          rec.open();
          t.close(1000, 'bye');
        },
      },
    );
    cleanup.push(async () => {
      t.terminate();
      await within(t.closed, 5000, 'closed');
    });
    await within(t.closed, 5000, 'closed');
    expect(rec.errors.map((e) => e.code ?? e.message)).toEqual([]);
    expect(rec.closes).toEqual([{ code: 1000, reason: '' }]);
  });

  it('a masked frame from the server: error WS_ERR_UNEXPECTED_MASK, close frame 1002 sent', async () => {
    let fromClient = Buffer.alloc(0);
    const raw = await rawServer((s) => {
      void readRequest(s).then((req) => {
        s.on('data', (d: Buffer) => (fromClient = Buffer.concat([fromClient, d])));
        s.write(
          Buffer.concat([
            Buffer.from(acceptHead(req), 'latin1'),
            Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61 ^ 1]),
          ]),
        );
      });
    });
    const { t, rec } = connect(raw.url);
    await within(t.closed, 5000, 'closed');
    expect(rec.errors.map((e) => e.code)).toEqual(['WS_ERR_UNEXPECTED_MASK']);
    // The client's close frame: FIN + close, masked, 2-byte payload 1002.
    await waitFor(() => fromClient.length >= 8, 2000).catch(() => {});
    expect(fromClient.length).toBeGreaterThanOrEqual(8);
    expect(fromClient[0]).toBe(0x88);
    expect(fromClient[1]).toBe(0x82);
    const mask = fromClient.subarray(2, 6);
    const code = ((fromClient[6]! ^ mask[0]!) << 8) | (fromClient[7]! ^ mask[1]!);
    expect(code).toBe(1002);
  });
});

describe('openNodeTransport over TLS (wss://)', () => {
  const tlsDir = new URL('./support/tls/', import.meta.url);
  const key = readFileSync(new URL('key.pem', tlsDir));
  const cert = readFileSync(new URL('cert.pem', tlsDir));

  async function wssServer(onConnection: (s: WebSocket) => void = () => {}) {
    const https = createHttpsServer({ key, cert });
    const wss = new WebSocketServer({ server: https });
    const sockets = new Set<WebSocket>();
    wss.on('connection', (s) => {
      sockets.add(s);
      s.on('error', () => {});
      onConnection(s);
    });
    https.listen(0, '127.0.0.1');
    await once(https, 'listening');
    cleanup.push(async () => {
      for (const s of sockets) s.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      https.closeAllConnections();
      await new Promise<void>((r) => https.close(() => r()));
    });
    const { port } = https.address() as AddressInfo;
    return { url: `wss://127.0.0.1:${port}/secure`, sockets };
  }

  it('refuses a self-signed certificate by default: error, no open, close 1006', async () => {
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    try {
      const { url, sockets } = await wssServer();
      const { t, rec } = connect(url);
      await within(t.closed, 5000, 'closed');
      expect(rec.opened).toBe(false);
      expect(rec.errors.length).toBeGreaterThanOrEqual(1);
      expect(rec.errors[0]!.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
      expect(rec.closes).toEqual([{ code: 1006, reason: '' }]);
      expect(sockets.size).toBe(0);
    } finally {
      if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
    }
  });

  it('with NODE_TLS_REJECT_UNAUTHORIZED=0: opens and carries messages both ways, 100 KiB too', async () => {
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const big = 'q'.repeat(100 * 1024 - 7) + 'end€';
      const bigBinary = pattern(100 * 1024, 9);
      const { url } = await wssServer((s) => {
        s.on('message', (data, isBinary) => s.send(data, { binary: isBinary }));
        s.send('welcome');
        s.send(bigBinary, { binary: true });
      });
      const { t, rec } = connect(url);
      await waitFor(() => rec.messages.length >= 2 || rec.closes.length > 0);
      expect(rec.opened).toBe(true);
      expect(rec.messages[0]).toBe('welcome');
      expect(same(rec.messages[1], bigBinary)).toBe(true);
      t.send('hello over tls');
      t.send(big);
      for (let i = 0; i < 50; i++) t.send(`n${i}`);
      await waitFor(() => rec.messages.length >= 54 || rec.closes.length > 0, 10_000);
      expect(rec.messages.slice(2)).toEqual([
        'hello over tls',
        big,
        ...Array.from({ length: 50 }, (_, i) => `n${i}`),
      ]);
      expect(t.ping()).toBe(true);
      await waitFor(() => rec.lives >= 1);
      t.close(1000, 'done');
      await within(t.closed, 5000, 'closed');
      expect(rec.closes).toEqual([{ code: 1000, reason: 'done' }]);
      expect(rec.errors).toEqual([]);
    } finally {
      if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
    }
  });
  it('sends the host name as SNI, and no SNI for an IP address', async () => {
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const names: (string | false | null)[] = [];
      const tls = createTlsServer({ key, cert }, (s) => {
        names.push(s.servername);
        s.destroy();
      });
      // Where this machine's `localhost` is (127.0.0.1 or ::1): loopback either way.
      const local = await lookup('localhost');
      tls.listen(0, local.address);
      await once(tls, 'listening');
      cleanup.push(() => new Promise<void>((r) => tls.close(() => r())));
      const { port } = tls.address() as AddressInfo;
      const ip = local.family === 6 ? `[${local.address}]` : local.address;
      for (const host of ['localhost', ip]) {
        const { t } = connect(`wss://${host}:${port}/sni`);
        await within(t.closed, 5000, `closed (${host})`);
      }
      expect(names).toEqual(['localhost', false]);
    } finally {
      if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
    }
  });
});
