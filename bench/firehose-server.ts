/**
 * The firehose: a loopback WebSocket server that completes the handshake itself and then
 * writes pre-encoded, unmasked text frames of Binance combined bookTicker messages as fast as
 * the socket drains. Run as a child process by firehose.bench.ts:
 *
 *   node --import tsx bench/firehose-server.ts [framesPerBlock]
 *
 * It listens on 127.0.0.1, port 0, prints `PORT <n>` on stdout, and exits when its stdin
 * closes (the parent died or is done) or on SIGTERM.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OPCODE_CLOSE = 0x8;

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT', 'XRPUSDT', 'DOGEUSDT', 'ADAUSDT'];
const BASE_PRICE = [64250.1, 3120.55, 585.3, 145.62, 0.5234, 0.1587, 0.4521];

/** One unmasked FIN text frame around `payload`. */
function textFrame(payload: Buffer): Buffer {
  const n = payload.length;
  let header: Buffer;
  if (n < 126) {
    header = Buffer.from([0x81, n]);
  } else if (n < 0x10000) {
    header = Buffer.alloc(4);
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(n, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([header, payload]);
}

/** `count` combined bookTicker messages with varying `u`, symbols, prices and sizes. */
function bookTickerMessages(count: number): string[] {
  const out: string[] = [];
  let u = 400_900_217;
  for (let i = 0; i < count; i++) {
    const k = i % SYMBOLS.length;
    const symbol = SYMBOLS[k]!;
    const mid = BASE_PRICE[k]! * (1 + Math.sin(i / 97) * 0.002);
    const tick = mid > 100 ? 0.01 : 0.0001;
    const bid = mid - tick;
    const ask = mid + tick;
    u += 1 + (i % 5);
    out.push(
      JSON.stringify({
        stream: `${symbol.toLowerCase()}@bookTicker`,
        data: {
          u,
          s: symbol,
          b: bid.toFixed(8),
          B: (1 + ((i * 7919) % 100_000) / 1000).toFixed(8),
          a: ask.toFixed(8),
          A: (1 + ((i * 104_729) % 100_000) / 1000).toFixed(8),
        },
      }),
    );
  }
  return out;
}

const framesPerBlock = Number(process.argv[2] ?? 8192);
const messages = bookTickerMessages(framesPerBlock);
/** Built once; every connection writes this same Buffer over and over. */
const block = Buffer.concat(messages.map((m) => textFrame(Buffer.from(m, 'utf8'))));

/** Write `block` while the socket takes it; wait for 'drain' when it does not. */
function pump(socket: Duplex): void {
  const loop = (): void => {
    while (!socket.destroyed && socket.writable) {
      if (!socket.write(block)) {
        socket.once('drain', loop);
        return;
      }
    }
  };
  loop();
}

/** Watch the client's (masked) frames; a close frame ends the connection at once. */
function watchClient(socket: Duplex): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      if (pending.length < 2) return;
      const opcode = pending[0]! & 0x0f;
      let len = pending[1]! & 0x7f;
      const masked = (pending[1]! & 0x80) !== 0;
      let at = 2;
      if (len === 126) {
        if (pending.length < 4) return;
        len = pending.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (pending.length < 10) return;
        len = Number(pending.readBigUInt64BE(2));
        at = 10;
      }
      const end = at + (masked ? 4 : 0) + len;
      if (pending.length < end) return;
      if (opcode === OPCODE_CLOSE) {
        // The client is done; no need to queue a close reply behind megabytes of frames.
        socket.destroy();
        return;
      }
      pending = pending.subarray(end); // pings and anything else: ignored
    }
  });
}

function onUpgrade(req: IncomingMessage, socket: Duplex): void {
  socket.on('error', () => socket.destroy());
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return;
  }
  const accept = createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  if (socket instanceof Socket) socket.setNoDelay(true);
  watchClient(socket);
  pump(socket);
}

const server = createServer((_req, res) => {
  res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only\n');
});
server.on('upgrade', onUpgrade);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(
    `PORT ${address.port} FRAMES ${framesPerBlock} BLOCK_BYTES ${block.length}\n`,
  );
});

const shutdown = (): void => process.exit(0);
process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.resume();
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
