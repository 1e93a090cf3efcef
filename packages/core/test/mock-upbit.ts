import { Server, type Client } from 'mock-socket';

interface UpbitConn {
  socket: Client;
  /** The connection's current set, as `<type>:<code>`. */
  streams: Set<string>;
  /** Every request received: its arrival time and the set it asked for. */
  requests: { at: number; set: string[] }[];
  /** Every text frame received, requests and `PING`s alike, with its arrival time. */
  inbound: { at: number; text: string }[];
}

/**
 * An Upbit-like endpoint on mock-socket: a request (a JSON array of a ticket, type objects
 * and a format) replaces the connection's whole set and is not answered; a code in `refuse`
 * makes the whole request fail with `INVALID_PARAM` and leaves the previous set in force;
 * `PING` is answered with `{"status":"UP"}`. Counts streams that were subscribed while
 * already held by another open connection.
 */
export class MockUpbit {
  readonly server: Server;
  readonly conns: UpbitConn[] = [];
  readonly refuse = new Set<string>();
  duplicates = 0;
  /** Send one SNAPSHOT message of every stream a request adds, as Upbit does by default. */
  snapshots = true;
  /** A refusal goes out this long after the request (0: at once). */
  refusalDelayMs = 0;

  constructor(readonly url: string) {
    this.server = new Server(url);
    this.server.on('connection', (socket) => {
      const conn: UpbitConn = { socket, streams: new Set(), requests: [], inbound: [] };
      this.conns.push(conn);
      socket.on('message', (raw) => this.#onText(conn, String(raw)));
    });
  }

  get open(): UpbitConn[] {
    return this.conns.filter((c) => c.socket.readyState === 1);
  }

  subscribed(): string[] {
    return this.open.flatMap((c) => [...c.streams]).sort();
  }

  /** Send a DEFAULT-format message of `stream` to every connection holding it. */
  publish(stream: string, fields: Record<string, unknown> = {}): number {
    const colon = stream.indexOf(':');
    const body = { type: stream.slice(0, colon), code: stream.slice(colon + 1), ...fields };
    let sent = 0;
    for (const c of this.open) {
      if (!c.streams.has(stream)) continue;
      c.socket.send(JSON.stringify(body));
      sent++;
    }
    return sent;
  }

  stop(): void {
    this.server.stop();
  }

  #onText(conn: UpbitConn, text: string): void {
    conn.inbound.push({ at: Date.now(), text });
    if (text === 'PING') {
      conn.socket.send('{"status":"UP"}');
      return;
    }
    const parts = JSON.parse(text) as Record<string, unknown>[];
    const set: string[] = [];
    for (const p of parts) {
      if (typeof p.type !== 'string') continue;
      for (const code of p.codes as string[]) set.push(`${p.type}:${code}`);
    }
    conn.requests.push({ at: Date.now(), set });
    const bad = set.find((s) => this.refuse.has(s.slice(s.indexOf(':') + 1)));
    if (bad !== undefined) {
      const refuse = () =>
        conn.socket.send(
          JSON.stringify({ error: { name: 'INVALID_PARAM', message: `invalid code ${bad}` } }),
        );
      if (this.refusalDelayMs > 0) setTimeout(refuse, this.refusalDelayMs);
      else refuse();
      return;
    }
    const added = set.filter((s) => !conn.streams.has(s));
    for (const s of added) {
      if (this.open.some((c) => c !== conn && c.streams.has(s))) this.duplicates++;
    }
    conn.streams = new Set(set);
    if (!this.snapshots) return;
    for (const s of added) {
      const colon = s.indexOf(':');
      conn.socket.send(
        JSON.stringify({
          type: s.slice(0, colon),
          code: s.slice(colon + 1),
          stream_type: 'SNAPSHOT',
        }),
      );
    }
  }
}
