import { UnifiedFeed } from '@unifeed/core';
import { afterEach, expect, it } from 'vitest';
import { startServer, waitFor, type TestServer } from './support/ws-server.js';

/** Active handles by type (timers, sockets, servers), as Node reports them. */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

// Sockets closing on either side hold short-lived timers; measure once they are gone.
const settle = () => new Promise((r) => setTimeout(r, 250));
let srv: TestServer | undefined;
afterEach(() => srv?.close());

it('1,000 forced disconnects: never two sockets, no growth, nothing left after stop()', async () => {
  let dropsLeft = 1;
  srv = await startServer((socket) => {
    if (dropsLeft > 0) {
      dropsLeft--;
      socket.terminate();
    }
  });
  await settle();
  const baseline = resources();

  const feed = new UnifiedFeed({
    url: srv.url,
    backoff: { initialMs: 1, maxMs: 2, jitter: 0 },
  });
  let closes = 0;
  feed.on('close', () => closes++);
  const listeners = () =>
    feed.eventNames().reduce((n, e) => n + feed.listenerCount(e as 'open'), 0);

  // First cycle: one forced disconnect, then a stable connection to measure against.
  void feed.start();
  await waitFor(() => srv!.accepted === 2 && feed.state === 'open', 5000);
  await settle();
  const afterFirst = { resources: resources(), listeners: listeners() };

  // 999 more: the open socket is cut, and so is each of the next 998 connections.
  dropsLeft = 998;
  for (const s of srv.open) s.terminate();
  await waitFor(() => srv!.accepted === 1001 && feed.state === 'open', 50_000, 10);
  await settle();

  expect(closes).toBe(1000);
  expect(srv.maxConcurrent).toBe(1);
  expect(srv.open.size).toBe(1);
  expect(feed.state).toBe('open');
  expect(feed.stats().connections).toBe(1001);
  expect(resources()).toEqual(afterFirst.resources);
  expect(listeners()).toBe(afterFirst.listeners);

  await feed.stop();
  await settle();
  expect(srv.open.size).toBe(0);
  expect(resources()).toEqual(baseline);
}, 60_000);
