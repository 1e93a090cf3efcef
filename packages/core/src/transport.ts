import { parseJson } from './json-parse.js';

/** A frame as the socket delivers it: text, a Node Buffer, an ArrayBuffer or fragments. */
export type RawFrame = string | Uint8Array | ArrayBuffer | Uint8Array[];

/** The least a WebSocket must offer: the DOM API (browsers, mock-socket) or `ws`. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor: `ws` in Node, the global one in browsers, mock-socket in tests. */
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: Record<string, unknown>,
) => WebSocketLike;

/** The socket events a {@link Transport} reports to its owner. */
export interface TransportListener {
  open(): void;
  message(frame: RawFrame): void;
  /** A ping or pong frame arrived: life, but no data. */
  life(): void;
  close(code: number, reason: string): void;
  error(err: Error & { code?: string }): void;
  /** The server answered the upgrade with this HTTP status instead of 101. */
  rejected(status: number, retryAfter: string | undefined): void;
}

/**
 * One socket, with the API differences hidden between unifeed's Node client
 * (node-transport.ts), `ws` and DOM sockets.
 */
export interface Transport {
  send(text: string): void;
  /** Send a ping frame; false when the socket has no ping frames (DOM sockets). */
  ping(): boolean;
  /** Stop reading from the socket; false when the socket cannot (DOM sockets). */
  pause(): boolean;
  resume(): void;
  /** Polite close. */
  close(code: number, reason: string): void;
  /** Destroy the socket now, without a closing handshake (dead or half-open peers). */
  terminate(): void;
  /**
   * Remove every listener of ours; late events from this socket reach no one and crash
   * nothing. Only a no-op error listener and the watcher behind `closed` stay until it closes.
   */
  detach(): void;
  /** Settles when the socket has closed, whoever closed it. */
  readonly closed: Promise<void>;
}

/** Options a socket is opened with. */
export interface TransportOptions {
  maxPayloadBytes: number;
}

interface NodeStyleSocket extends WebSocketLike {
  on(event: string, listener: (...args: never[]) => void): unknown;
  removeAllListeners(): unknown;
  ping?(): void;
  pause?(): void;
  resume?(): void;
  terminate?(): void;
}

interface DomStyleSocket extends WebSocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  binaryType?: string;
}

const noop = (): void => {};

/** Open a socket with `Ctor` and report its events to `listener`. */
export function openTransport(
  Ctor: WebSocketConstructor,
  url: string,
  options: TransportOptions,
  listener: TransportListener,
): Transport {
  const socket = new Ctor(url, undefined, {
    perMessageDeflate: false,
    maxPayload: options.maxPayloadBytes,
    // `ws`'s default, said out loud: a redirected upgrade would carry a listen key in its URL
    // to wherever the answer points. A 3xx is a rejected handshake (test/security.test.ts).
    followRedirects: false,
  });
  return typeof (socket as Partial<NodeStyleSocket>).on === 'function'
    ? nodeTransport(socket as NodeStyleSocket, listener)
    : domTransport(socket as DomStyleSocket, listener);
}

function nodeTransport(socket: NodeStyleSocket, listener: TransportListener): Transport {
  let rejected = false;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const watchClose = (): void => {
    socket.on('close', markClosed);
    socket.on('error', noop);
  };
  watchClose();
  socket.on('open', () => listener.open());
  socket.on('message', (data: RawFrame) => listener.message(data));
  socket.on('ping', () => listener.life());
  socket.on('pong', () => listener.life());
  socket.on('close', (code: number, reason: Uint8Array) => listener.close(code, String(reason)));
  socket.on('error', (err: Error) => {
    // After a rejected upgrade the abort error is ours, not news.
    if (!rejected) listener.error(err);
  });
  socket.on(
    'unexpected-response',
    (req: { destroy(): void }, res: { statusCode?: number; headers: Record<string, unknown> }) => {
      rejected = true;
      const retryAfter = res.headers['retry-after'];
      listener.rejected(
        res.statusCode ?? 0,
        typeof retryAfter === 'string' ? retryAfter : undefined,
      );
      socket.terminate?.();
      req.destroy();
    },
  );
  return {
    send: (text) => socket.send(text),
    ping: () => {
      if (typeof socket.ping !== 'function') return false;
      socket.ping();
      return true;
    },
    pause: () => {
      if (typeof socket.pause !== 'function') return false;
      socket.pause();
      return true;
    },
    resume: () => socket.resume?.(),
    close: (code, reason) => socket.close(code, reason),
    terminate: () => (socket.terminate ? socket.terminate() : socket.close()),
    detach: () => {
      socket.removeAllListeners();
      // A socket we let go of may still emit 'error'; without a listener that would throw.
      watchClose();
    },
    closed,
  };
}

function domTransport(socket: DomStyleSocket, listener: TransportListener): Transport {
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  socket.binaryType = 'arraybuffer';
  socket.onopen = () => listener.open();
  socket.onmessage = (ev) => listener.message(ev.data as RawFrame);
  socket.onclose = (ev) => {
    markClosed();
    listener.close(ev.code, ev.reason);
  };
  socket.onerror = () => listener.error(new Error('WebSocket error'));
  return {
    send: (text) => socket.send(text),
    ping: () => false,
    pause: () => false,
    resume: noop,
    close: (code, reason) => socket.close(code, reason),
    // The DOM API has no terminate; a close without the server's answer is the nearest.
    terminate: () => socket.close(),
    detach: () => {
      socket.onopen = null;
      socket.onmessage = null;
      socket.onclose = () => markClosed();
      socket.onerror = null;
    },
    closed,
  };
}

/** Size of a frame in bytes (string frames: UTF-16 code units, a lower bound of UTF-8 bytes). */
export function frameSize(frame: RawFrame): number {
  if (typeof frame === 'string') return frame.length;
  if (Array.isArray(frame)) return frame.reduce((n, part) => n + part.byteLength, 0);
  return frame.byteLength;
}

/**
 * UTF-8 that refuses malformed bytes instead of putting U+FFFD in their place: the Node clients
 * check text frames, but not binary ones (all of Upbit's), where a broken symbol or order id would
 * otherwise be delivered as if the venue had sent it. As fast as `Buffer#toString()` on Node 20.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 text of a frame. Throws a `TypeError` for bytes that are not UTF-8. */
export function frameText(frame: RawFrame): string {
  if (typeof frame === 'string') return frame;
  if (!Array.isArray(frame)) return utf8.decode(frame);
  // A character may span two fragments, so they decode as one stream, with a decoder of their
  // own: one that threw mid-stream would carry the broken state into the next frame.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let text = '';
  for (const part of frame) text += decoder.decode(part, { stream: true });
  return text + decoder.decode();
}

/**
 * The default decoder: UTF-8 text to its JSON value, as `JSON.parse` would give it, without
 * V8's internalizing of short strings (json-parse.ts).
 */
export function decodeJson(frame: RawFrame): unknown {
  return parseJson(frameText(frame));
}
