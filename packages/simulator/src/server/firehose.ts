import type { SymbolMarket } from '../market/symbol-market.js';
import type { Encoder } from '../payloads.js';
import type { FirehoseOptions } from '../options.js';
import type { Connection } from './connection.js';

/** Frames written per pump turn at most, so one fast socket cannot starve the event loop. */
const BURST = 256;

/**
 * Benchmark mode: distinct frames of one stream, encoded once up front, written to each
 * subscriber as fast as its socket drains. A pump writes until `bufferedAmount` reaches the
 * high-water mark, then waits for the last write's callback (the socket drained it), so
 * memory stays bounded however slow the reader.
 */
export class Firehose {
  readonly stream: string;
  readonly #raw: string[] = [];
  readonly #combined: string[] = [];
  readonly #highWater: number;
  readonly #pumping = new Set<Connection>();
  messages = 0;
  bytes = 0;
  #closed = false;
  readonly #yields = new Set<NodeJS.Immediate>();

  constructor(
    options: FirehoseOptions,
    m: SymbolMarket | undefined,
    encoder: Encoder,
    now: number,
  ) {
    this.stream = options.stream;
    this.#highWater = options.highWaterBytes ?? 1024 * 1024;
    const frames = Math.max(1, Math.min(options.frames ?? 1024, 100_000));
    for (let i = 0; i < frames; i++) {
      let payload = `{"u":${i + 1},"s":"FIREHOSE","b":"1.0","B":"1","a":"1.1","A":"1"}`;
      if (m !== undefined) {
        m.step(now + i);
        payload = encoder.bookTicker(m, now + i);
      }
      this.#raw.push(payload);
      this.#combined.push(`{"stream":"${this.stream}","data":${payload}}`);
    }
  }

  start(conn: Connection): void {
    if (this.#closed || this.#pumping.has(conn)) return;
    this.#pumping.add(conn);
    this.#pump(conn, 0);
  }

  #pump(conn: Connection, from: number): void {
    const ws = conn.ws;
    if (this.#closed || conn.closed || conn.frozen || ws.readyState !== ws.OPEN) {
      this.#pumping.delete(conn);
      return;
    }
    const frames = conn.combined ? this.#combined : this.#raw;
    let i = from;
    for (let n = 0; n < BURST && ws.bufferedAmount < this.#highWater; n++) {
      const text = frames[i % frames.length] ?? '';
      i++;
      this.messages++;
      this.bytes += text.length;
      conn.messagesSent++;
      conn.framesSent++;
      conn.bytesSent += text.length;
      ws.send(text);
    }
    const next = i;
    // The callback runs once this write has left the buffer: the socket is draining. It can
    // run on process.nextTick when the write completes at once, so the next burst waits for
    // setImmediate: without that yield the pump starves socket reads (close frames, pings)
    // and everything else. An I/O yield, not a delay, so it is not the injected Clock's.
    ws.send(frames[next % frames.length] ?? '', () => {
      if (this.#closed) return;
      const handle = setImmediate(() => {
        this.#yields.delete(handle);
        this.#pump(conn, next + 1);
      });
      this.#yields.add(handle);
    });
    this.messages++;
  }

  close(): void {
    this.#closed = true;
    for (const handle of this.#yields) clearImmediate(handle);
    this.#yields.clear();
    this.#pumping.clear();
  }
}
