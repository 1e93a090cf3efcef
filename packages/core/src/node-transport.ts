import { connect as netConnect, isIP, type OnReadOpts, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

import { FrameReader, type ProtocolError } from './frame-reader.js';
import { closePayload, encodeFrame } from './frame-writer.js';
import type { Transport, TransportListener, TransportOptions } from './transport.js';
import { MAX_RESPONSE_HEAD, readUpgradeAnswer, upgradeRequest } from './upgrade.js';
import {
  CLOSE_ABNORMAL,
  CLOSE_NO_STATUS,
  OP_CLOSE,
  OP_PING,
  OP_PONG,
  OP_TEXT,
} from './websocket-codes.js';

/**
 * Bytes read from a socket at a time, into one buffer per connection (Node's own default read
 * size). Each connection has its own: a write can make a TLS socket read at once, and another
 * connection's read must not land in bytes still being parsed.
 */
const READ_BUFFER_BYTES = 64 * 1024;

type State = 'connecting' | 'upgrading' | 'open' | 'closing' | 'closed';

const silent: TransportListener = {
  open() {},
  message() {},
  life() {},
  close() {},
  error() {},
  rejected() {},
};

const encoder = new TextEncoder();

/**
 * A WebSocket client over a Node socket (`ws://` on `net`, `wss://` on `tls`) that reads every
 * socket into one reused buffer ({@link FrameReader}) instead of a fresh allocation per read,
 * as `ws` does: less CPU and less resident memory for the same frames (docs/benchmarks.md).
 * No extension, no subprotocol, no redirect: what a market-data feed needs, and no more.
 * It owns no timer: the feed's handshake timeout, heartbeat and stop deadline bound every wait.
 */
export function openNodeTransport(
  url: string,
  options: TransportOptions,
  listener: TransportListener,
): Transport {
  return new NodeTransport(new URL(url), options, listener);
}

class NodeTransport implements Transport {
  #listener: TransportListener;
  #state: State = 'connecting';
  readonly #socket: Socket;
  readonly #reader: FrameReader;
  readonly #key: string;
  readonly #request: string;
  /** The upgrade answer's head so far, as latin1 (one character a byte). */
  #head = '';
  /** The peer's close frame, once read. */
  #peerClose: { code: number; reason: string } | undefined;
  #closeSent = false;
  /**
   * Frames written while a read is parsed wait until it ends (a TLS write may read at once,
   * into the buffer being parsed), then go out in order.
   */
  #reading = false;
  #flushing = false;
  #pending: Uint8Array[] = [];
  #endAfterFlush = false;
  readonly closed: Promise<void>;

  constructor(url: URL, options: TransportOptions, listener: TransportListener) {
    // `ws` reads http: as ws: and https: as wss:, and so does the feed's URL check.
    if (url.protocol === 'http:' || url.protocol === 'https:') {
      url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      throw new SyntaxError(`the URL's protocol must be ws: or wss:, not ${url.protocol}`);
    }
    this.#listener = listener;
    this.#reader = new FrameReader(options.maxPayloadBytes, {
      message: (data) => this.#listener.message(data),
      ping: (payload) => {
        this.#write(OP_PONG, payload);
        this.#listener.life();
      },
      pong: () => this.#listener.life(),
      close: (code, reason) => this.#onPeerClose(code, reason),
      fail: (error) => this.#onProtocolError(error),
    });
    ({ request: this.#request, key: this.#key } = upgradeRequest(url));
    const secure = url.protocol === 'wss:';
    // `URL` keeps an IPv6 host in brackets; a socket wants it bare.
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    const buffer = new Uint8Array(READ_BUFFER_BYTES);
    const onread: OnReadOpts = {
      buffer,
      callback: (n: number, bytes: Uint8Array) => this.#onRead(n, bytes),
    };
    // Node takes `onread` for TLS too (since 15.1); its type declarations have not caught up.
    const tlsOptions: ConnectionOptions & { onread: OnReadOpts } = {
      host,
      port,
      onread,
      ...(isIP(host) === 0 ? { servername: host } : {}),
    };
    this.#socket = secure ? tlsConnect(tlsOptions) : netConnect({ host, port, onread });
    let markClosed!: () => void;
    this.closed = new Promise<void>((resolve) => (markClosed = resolve));
    this.#socket.once(secure ? 'secureConnect' : 'connect', () => this.#onConnect());
    this.#socket.on('error', (err: Error) => this.#listener.error(err));
    this.#socket.once('close', () => {
      this.#state = 'closed';
      this.#reader.stop();
      markClosed();
      const peer = this.#peerClose;
      this.#listener.close(peer?.code ?? CLOSE_ABNORMAL, peer?.reason ?? '');
    });
  }

  send(text: string): void {
    if (this.#state === 'connecting' || this.#state === 'upgrading') {
      throw new Error('WebSocket is not open');
    }
    if (this.#state === 'open') this.#write(OP_TEXT, encoder.encode(text));
  }

  ping(): boolean {
    if (this.#state === 'open') this.#write(OP_PING, new Uint8Array(0));
    return true;
  }

  pause(): boolean {
    this.#socket.pause();
    return true;
  }

  resume(): void {
    this.#socket.resume();
  }

  close(code: number, reason: string): void {
    if (this.#state !== 'open') {
      // Nothing to close politely before the upgrade, or once a close is under way.
      if (this.#state !== 'closing') this.terminate();
      return;
    }
    this.#state = 'closing';
    this.#sendClose(code, reason);
  }

  terminate(): void {
    this.#reader.stop();
    this.#socket.destroy();
  }

  detach(): void {
    this.#listener = silent;
  }

  #onConnect(): void {
    this.#socket.setNoDelay(true);
    this.#state = 'upgrading';
    this.#socket.write(this.#request);
  }

  #onRead(n: number, bytes: Uint8Array): boolean {
    this.#reading = true;
    try {
      if (this.#state === 'upgrading') {
        const at = this.#readHead(n, bytes);
        if (at >= 0 && at < n) this.#reader.read(bytes.subarray(at), n - at);
      } else if (this.#state === 'open' || this.#state === 'closing') {
        this.#reader.read(bytes, n);
      }
    } finally {
      this.#reading = false;
      this.#flush();
    }
    return true;
  }

  /**
   * Read the upgrade answer; -1 while its head is incomplete or once it is refused, else where
   * the frames begin in this read.
   */
  #readHead(n: number, bytes: Uint8Array): number {
    const before = this.#head.length;
    this.#head += Buffer.from(bytes.buffer, bytes.byteOffset, n).toString('latin1');
    const end = this.#head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.#head.length > MAX_RESPONSE_HEAD) this.#refuse('the upgrade answer has no end');
      return -1;
    }
    const answer = readUpgradeAnswer(this.#head.slice(0, end), this.#key);
    this.#head = '';
    if (answer.type === 'rejected') {
      this.#listener.rejected(answer.status, answer.retryAfter);
      this.terminate();
      return -1;
    }
    if (answer.type === 'invalid') {
      this.#refuse(answer.message);
      return -1;
    }
    this.#state = 'open';
    this.#listener.open();
    // The listener may have dropped the socket on hearing it open (the reader is stopped
    // then), or begun a close: the frames after the head are still read, so that the peer's
    // close frame is found where it is.
    return this.#state === 'open' || this.#state === 'closing' ? end + 4 - before : -1;
  }

  #refuse(message: string): void {
    this.#listener.error(new Error(message));
    this.terminate();
  }

  #onPeerClose(code: number, reason: string): void {
    this.#peerClose = { code, reason };
    if (!this.#closeSent) this.#sendClose(code === CLOSE_NO_STATUS ? undefined : code, '');
    this.#state = 'closing';
    // Both close frames are out: the connection is over, whether or not the peer ends TCP.
    this.#endSoon();
  }

  #onProtocolError(error: ProtocolError): void {
    this.#listener.error(error);
    if (this.#state !== 'open' && this.#state !== 'closing') return;
    if (!this.#closeSent) this.#sendClose(error.closeCode, '');
    this.#state = 'closing';
    this.#endSoon();
  }

  /** End the socket once every frame written so far is out, the close frame included. */
  #endSoon(): void {
    if (this.#reading || this.#flushing) this.#endAfterFlush = true;
    else this.#socket.destroySoon();
  }

  #sendClose(code: number | undefined, reason: string): void {
    this.#closeSent = true;
    this.#write(OP_CLOSE, closePayload(code, reason));
  }

  #write(opcode: number, payload: Uint8Array): void {
    const frame = encodeFrame(opcode, payload);
    if (this.#reading || this.#flushing) this.#pending.push(frame);
    else this.#socket.write(frame);
  }

  #flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      for (let frame = this.#pending.shift(); frame; frame = this.#pending.shift()) {
        this.#socket.write(frame);
      }
    } finally {
      this.#flushing = false;
    }
    if (this.#endAfterFlush) {
      this.#endAfterFlush = false;
      this.#socket.destroySoon();
    }
  }
}
