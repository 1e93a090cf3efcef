import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** A real `ws` server on 127.0.0.1, port 0, that tracks how many clients it holds at once. */
export interface TestServer {
  url: string;
  wss: WebSocketServer;
  /** Sockets open now. */
  readonly open: Set<WebSocket>;
  /** Connections accepted so far. */
  accepted: number;
  /** Most sockets open at the same time. */
  maxConcurrent: number;
  close(): Promise<void>;
}

export async function startServer(
  onConnection: (socket: WebSocket, server: TestServer) => void = () => {},
  options: { maxPayload?: number } = {},
): Promise<TestServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
  await once(wss, 'listening');
  const { port } = wss.address() as AddressInfo;
  const server: TestServer = {
    url: `ws://127.0.0.1:${port}`,
    wss,
    open: new Set(),
    accepted: 0,
    maxConcurrent: 0,
    close: async () => {
      for (const s of server.open) s.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
  wss.on('connection', (socket) => {
    server.accepted++;
    server.open.add(socket);
    server.maxConcurrent = Math.max(server.maxConcurrent, server.open.size);
    socket.on('close', () => server.open.delete(socket));
    socket.on('error', () => {});
    onConnection(socket, server);
  });
  return server;
}

/**
 * A Binance-like market server that accepts every request (`{"result":null,"id"}`); `socket()`
 * is the latest client, to push frames to.
 */
export async function acceptingServer(): Promise<{
  server: TestServer;
  socket: () => WebSocket | undefined;
}> {
  let latest: WebSocket | undefined;
  const server = await startServer((s) => {
    latest = s;
    s.on('message', (raw) => {
      s.send(JSON.stringify({ result: null, id: (JSON.parse(String(raw)) as { id: number }).id }));
    });
  });
  return { server, socket: () => latest };
}

/** Resolve once `predicate()` holds, polling every `everyMs`; reject after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs = 5000,
  everyMs = 5,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
