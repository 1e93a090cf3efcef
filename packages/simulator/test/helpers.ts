import { ManualClock } from '@unifeed/core/testing';
import { afterEach } from 'vitest';
import { WebSocket } from 'ws';
import { startSimulator, type Simulator, type SimulatorOptions } from '@unifeed/simulator';

/** A test client that records every frame; `next` waits (bounded) for a matching one. */
export interface Client {
  /** The server's id for this connection (set by the fixture). */
  id?: number;
  ws: WebSocket;
  frames: string[];
  closed: Promise<{ code: number; reason: string }>;
  next(match: (msg: unknown, text: string) => boolean, timeoutMs?: number): Promise<unknown>;
  send(msg: unknown): void;
  close(): void;
}

export async function connect(url: string, options: { autoPong?: boolean } = {}): Promise<Client> {
  const ws = new WebSocket(url, options);
  const frames: string[] = [];
  const waiters = new Set<(text: string) => void>();
  ws.on('message', (data: Buffer) => {
    const text = data.toString();
    if (frames.length < 100_000) frames.push(text);
    for (const w of [...waiters]) w(text);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };
  return {
    ws,
    frames,
    closed,
    send: (msg) => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)),
    close: () => ws.terminate(),
    next: (match, timeoutMs = 2000) =>
      new Promise((resolve, reject) => {
        for (const f of frames) {
          if (match(parse(f), f)) {
            resolve(parse(f));
            return;
          }
        }
        const timer = setTimeout(() => {
          waiters.delete(onText);
          reject(new Error(`no matching frame in ${timeoutMs} ms`));
        }, timeoutMs);
        const onText = (text: string): void => {
          const msg = parse(text);
          if (!match(msg, text)) return;
          clearTimeout(timer);
          waiters.delete(onText);
          resolve(msg);
        };
        waiters.add(onText);
      }),
  };
}

export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A reply frame to the request with this id. */
export const reply = (id: number) => (m: unknown) => isObj(m) && m['id'] === id;

/** A combined-stream frame of this stream. */
export const onStream = (stream: string) => (m: unknown) => isObj(m) && m['stream'] === stream;

/** Let real socket I/O happen (a few event-loop turns) without moving a ManualClock. */
export async function settle(ms = 20): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Simulated start time of every test: a Monday, 00:00 UTC. */
export const START = Date.UTC(2026, 0, 5);

/**
 * Per-test simulators on a ManualClock and clients, all closed after each test.
 * Call once at the top of a test file.
 */
export function simulatorFixture(defaults: SimulatorOptions = {}) {
  const sims: Simulator[] = [];
  const clients: Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of sims.splice(0)) await s.close();
  });
  const fixture = {
    async start(options: SimulatorOptions = {}): Promise<{ sim: Simulator; clock: ManualClock }> {
      const clock = new ManualClock(START);
      const sim = await startSimulator({ symbols: 5, clock, ...defaults, ...options });
      sims.push(sim);
      return { sim, clock };
    },
    /** Connect to `path` on the most recently started simulator. */
    async open(path: string, options: { autoPong?: boolean } = {}): Promise<Client> {
      const sim = sims.at(-1);
      if (sim === undefined) throw new Error('start a simulator first');
      const c = await connect(`${sim.wsUrl}${path}`, options);
      // The server registers a connection before its 101 goes out, so it is listed by now.
      c.id = Math.max(...sim.stats().connectionList.map((x) => x.id));
      clients.push(c);
      return c;
    },
    /** Wait until `c` has received every frame the server wrote to it so far. */
    async drain(c: Client): Promise<void> {
      const sim = sims.at(-1);
      const sent = (): number =>
        sim?.stats().connectionList.find((x) => x.id === c.id)?.framesSent ?? 0;
      await waitFor(() => c.frames.length >= sent());
    },
  };
  return fixture;
}

/** Wait (bounded) until `cond` holds: real socket I/O takes its time, more so on a busy machine. */
export async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
