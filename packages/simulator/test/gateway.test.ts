import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '@unifeed/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway } from '../src/server/gateway.js';
import { USDM } from '../src/venue.js';
import { connect, START, waitFor, type Client } from './helpers.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A gateway alone behind a loopback HTTP server: no streams, only sockets and slots. */
async function gateway(maxClosedDoubledSlots: number) {
  const clock = new ManualClock(START);
  const gw = new Gateway({
    venue: USDM,
    slotParam: 'slot',
    maxClosedDoubledSlots,
    isValidListenKey: () => false,
    onOpen: () => undefined,
    host: {
      clock,
      limits: { ...USDM.limits, pingIntervalMs: 0 },
      binary: false,
      onText: () => undefined,
      onSent: () => undefined,
      onTooManyRequests: () => undefined,
      onGone: () => undefined,
    },
  });
  const server: Server = createServer();
  server.on('upgrade', (req, socket, head) => gw.upgrade(req, socket, head as Buffer));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(async () => {
    gw.close();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  const open = async (slot: number): Promise<Client> => {
    const c = await connect(`ws://127.0.0.1:${port}/market/stream?slot=${slot}`);
    cleanup.push(() => c.close());
    return c;
  };
  return { gw, open };
}

describe('Gateway slots', () => {
  it('keeps only the latest closed slots that held two sockets at once, and counts them all', async () => {
    const { gw, open } = await gateway(3);
    for (let slot = 1; slot <= 8; slot++) {
      const a = await open(slot);
      const b = await open(slot);
      await waitFor(() => gw.connections().length === 2);
      a.close();
      b.close();
      await waitFor(() => gw.connections().length === 0);
    }
    expect(gw.slots()).toEqual({
      '/market/stream?slot=6': { open: 0, highWater: 2 },
      '/market/stream?slot=7': { open: 0, highWater: 2 },
      '/market/stream?slot=8': { open: 0, highWater: 2 },
    });
    expect(gw.counters.doubledSlots).toBe(8);
  });

  it('never drops an open slot, and one that reopens is kept again as the latest when it closes', async () => {
    const { gw, open } = await gateway(2);
    const double = async (slot: number): Promise<Client[]> => {
      const pair = [await open(slot), await open(slot)];
      await waitFor(() => gw.slots()[`/market/stream?slot=${slot}`]?.open === 2);
      return pair;
    };
    const closeAll = async (clients: Client[]): Promise<void> => {
      for (const c of clients) c.close();
      await waitFor(() => gw.connections().length === 0);
    };
    await closeAll(await double(1));
    // Slot 1 reconnects (as a pool's slot does) and stays open while others double and close.
    const again = await open(1);
    await waitFor(() => gw.connections().length === 1);
    for (let slot = 2; slot <= 4; slot++) {
      const pair = await double(slot);
      for (const c of pair) c.close();
      await waitFor(() => gw.connections().length === 1);
    }
    expect(gw.slots()['/market/stream?slot=1']).toEqual({ open: 1, highWater: 2 });
    await closeAll([again]);
    const kept = () => Object.keys(gw.slots()).sort();
    expect(kept()).toEqual(['/market/stream?slot=1', '/market/stream?slot=4']);
    // Slot 1 closed after slot 4: the next one to close pushes slot 4 out.
    await closeAll(await double(5));
    expect(kept()).toEqual(['/market/stream?slot=1', '/market/stream?slot=5']);
    // Closed slots that never held two sockets are not kept at all.
    await closeAll([await open(9)]);
    expect(kept()).toEqual(['/market/stream?slot=1', '/market/stream?slot=5']);
    expect(gw.counters.doubledSlots).toBe(5);
  });
});
