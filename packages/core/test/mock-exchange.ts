import { Server, type Client } from 'mock-socket';

interface Conn {
  socket: Client;
  streams: Set<string>;
  /** Most streams this connection ever held at once. */
  maxStreams: number;
  /** Request frames received, with their arrival time. */
  requests: { at: number; method: string; params: string[]; id: number }[];
}

/**
 * A Binance-like combined-stream endpoint on mock-socket: answers SUBSCRIBE / UNSUBSCRIBE
 * by id, refuses a whole request that names a stream in `refuse` (as Binance refuses a bad
 * request), counts duplicate subscriptions, and publishes to subscribed connections.
 */
export class MockExchange {
  readonly server: Server;
  readonly conns: Conn[] = [];
  readonly refuse = new Set<string>();
  /**
   * Refusals without the request's id: Binance's answer to unreadable JSON has id null, and an
   * id-less answer to an invalid stream has been reported for USD-M (ccxt #19833).
   */
  refuseWithoutId = false;
  duplicates = 0;
  /** When false, requests get no answer (a server that swallows them). */
  answering = true;
  /** Requests are applied and answered this many ms after they arrive (a slow server). */
  delayMs = 0;

  constructor(readonly url: string) {
    this.server = new Server(url);
    this.server.on('connection', (socket) => {
      const conn: Conn = { socket, streams: new Set(), maxStreams: 0, requests: [] };
      this.conns.push(conn);
      socket.on('message', (raw) => this.#onRequest(conn, String(raw)));
    });
  }

  get open(): Conn[] {
    return this.conns.filter((c) => c.socket.readyState === 1);
  }

  /** Every stream subscribed on an open connection, with duplicates across connections. */
  subscribed(): string[] {
    return this.open.flatMap((c) => [...c.streams]).sort();
  }

  publish(stream: string, data: unknown): number {
    let sent = 0;
    for (const c of this.open) {
      if (!c.streams.has(stream)) continue;
      c.socket.send(JSON.stringify({ stream, data }));
      sent++;
    }
    return sent;
  }

  send(conn: Conn, message: unknown): void {
    conn.socket.send(JSON.stringify(message));
  }

  stop(): void {
    this.server.stop();
  }

  #onRequest(conn: Conn, raw: string): void {
    const req = JSON.parse(raw) as { method: string; params: string[]; id: number };
    conn.requests.push({ at: Date.now(), ...req });
    if (!this.answering) return;
    if (this.delayMs > 0) setTimeout(() => this.#answer(conn, req), this.delayMs);
    else this.#answer(conn, req);
  }

  #answer(conn: Conn, req: { method: string; params: string[]; id: number }): void {
    if (conn.socket.readyState !== 1) return;
    if (req.method === 'SUBSCRIBE') {
      if (req.params.some((p) => this.refuse.has(p))) {
        const refusal = { code: 2, msg: 'Invalid request: invalid stream' };
        this.send(conn, this.refuseWithoutId ? refusal : { ...refusal, id: req.id });
        return;
      }
      for (const p of req.params) {
        if (conn.streams.has(p) || this.open.some((c) => c !== conn && c.streams.has(p))) {
          this.duplicates++;
        }
        conn.streams.add(p);
      }
      conn.maxStreams = Math.max(conn.maxStreams, conn.streams.size);
    } else if (req.method === 'UNSUBSCRIBE') {
      for (const p of req.params) conn.streams.delete(p);
    }
    this.send(conn, { result: null, id: req.id });
  }
}
