import { binanceSpot, RestClient, StreamPool } from '@unifeed/core';
import { acceptingServer, waitFor } from './ws-server.js';

type Levels = string[][];

/**
 * A Binance spot depth market for BTCUSDT: diffs go out on a real `ws` server, and the REST
 * snapshot comes from a stubbed fetch, `snapshot(limit)` at the current update id. Each diff
 * takes the next id (`U = u`), so a book that keeps up is never out of sequence.
 */
export async function binanceDepthMarket(
  snapshot: (limit: number) => {
    bids: Levels;
    asks: Levels;
  },
) {
  let id = 100;
  let snapshots = 0;
  const { server, socket: latest } = await acceptingServer();
  const fetch = (url: string | URL | Request): Promise<Response> => {
    snapshots++;
    const limit = Number(new URL(String(url)).searchParams.get('limit'));
    const body = { lastUpdateId: id, ...snapshot(limit) };
    return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
  };
  const rest = new RestClient({ baseUrl: 'https://rest.test', fetch: fetch as typeof fetch });
  const pool = new StreamPool({
    venue: binanceSpot({ wsUrl: server.url, restUrl: 'https://rest.test' }),
  });
  return {
    pool,
    rest,
    /** The last update id sent (the one a snapshot taken now is at). */
    id: () => id,
    /** Snapshots fetched so far. */
    snapshots: () => snapshots,
    /** Send the next diff, with these changed levels. */
    diff(levels: { b?: Levels; a?: Levels }): void {
      id++;
      const data = { e: 'depthUpdate', E: id, s: 'BTCUSDT', U: id, u: id, b: [], a: [], ...levels };
      latest()!.send(JSON.stringify({ stream: 'btcusdt@depth@100ms', data }));
    },
    /** Resolve once the pool has subscribed the depth stream and the venue answered. */
    async subscribed(): Promise<void> {
      await waitFor(() => latest() !== undefined && pool.stats().streams > 0, 5000);
      await new Promise((r) => setTimeout(r, 200)); // the SUBSCRIBE answered
    },
    async close(): Promise<void> {
      await pool.close();
      await server.close();
    },
  };
}
