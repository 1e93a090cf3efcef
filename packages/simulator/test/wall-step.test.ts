import { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import {
  isObj,
  onStream,
  reply,
  settle,
  simulatorFixture,
  waitFor,
  type Client,
} from './helpers.js';

/**
 * The simulator's windows are durations, on the monotonic clock: a wall-clock step (NTP, a
 * resumed VM; `ManualClock.stepWall`) neither trips them early nor holds them, while the
 * timestamps it sends stay on the wall clock.
 */
const { start, open } = simulatorFixture();

const HOUR = 3_600_000;
const STEPS = [
  ['forward', HOUR],
  ['back', -HOUR],
] as const;

/** Resolve with the HTTP status the server answered an upgrade with, or 101 when it opened. */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.on('error', () => undefined);
  });
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

/** The close a client got within `ms` of real time, or undefined while it stays open. */
async function closedWithin(
  c: Client,
  ms = 500,
): Promise<{ code: number; reason: string } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const open = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  try {
    return await Promise.race([c.closed, open]);
  } finally {
    clearTimeout(timer);
  }
}

/** Send `count` text frames and wait until the server has answered every one. */
async function sendAnswered(c: Client, count: number, firstId: number): Promise<void> {
  for (let i = 0; i < count; i++) c.send({ method: 'LIST_SUBSCRIPTIONS', id: firstId + i });
  await c.next(reply(firstId + count - 1));
}

describe('a wall-clock step', () => {
  it.each(STEPS)(
    'stepped %s, neither closes an Upbit connection idle early nor holds it open',
    async (_dir, ms) => {
      const { clock } = await start({ venue: 'upbit' });
      const c = await open('/websocket/v1');
      await clock.advance(100_000);
      c.send('PING');
      await c.next((m) => isObj(m) && m['status'] === 'UP');
      clock.stepWall(ms);
      // 20 s silent when the idle timer armed at open (for 120 s) fires: kept, and 119 s at
      // the end of this.
      await clock.advance(119_000);
      expect(await closedWithin(c, 50)).toBeUndefined();
      await clock.advance(2000); // 121 s silent
      expect(await closedWithin(c, 2000)).toEqual({ code: 1001, reason: 'Idle timeout' });
    },
  );

  it.each(STEPS)(
    'stepped %s, the per-second message limit neither trips early nor forgets',
    async (_dir, ms) => {
      const { clock } = await start({ venue: 'binance-spot', limits: { pingIntervalMs: 0 } });
      const held = await open('/ws');
      await sendAnswered(held, 5, 1); // the limit, used up
      clock.stepWall(ms);
      await clock.advance(1000); // a second later, the window is empty
      await sendAnswered(held, 5, 11);
      expect(await closedWithin(held, 50)).toBeUndefined();

      const kept = await open('/ws');
      await sendAnswered(kept, 5, 1);
      clock.stepWall(ms);
      kept.send({ method: 'LIST_SUBSCRIPTIONS', id: 6 }); // the same second: one too many
      expect(await closedWithin(kept, 2000)).toEqual({ code: 1008, reason: 'Too many requests' });
    },
  );

  it.each(STEPS)(
    'stepped %s, the per-minute message limit neither trips early nor forgets',
    async (_dir, ms) => {
      const limits = { messagesPerSecond: 1000, messagesPerMinute: 10 };
      const { clock } = await start({ venue: 'upbit', limits });
      const held = await open('/websocket/v1');
      for (let i = 0; i < 10; i++) held.send('PING'); // the limit, used up
      await waitFor(() => held.frames.length === 10);
      clock.stepWall(ms);
      await clock.advance(60_000); // a minute later: empty
      held.send('PING');
      await waitFor(() => held.frames.length === 11);
      expect(await closedWithin(held, 50)).toBeUndefined();

      const kept = await open('/websocket/v1');
      for (let i = 0; i < 10; i++) kept.send('PING');
      await waitFor(() => kept.frames.length === 10);
      clock.stepWall(ms);
      await clock.advance(1000);
      kept.send('PING'); // the same minute: one too many
      expect(await closedWithin(kept, 2000)).toEqual({ code: 1008, reason: 'Too many requests' });
    },
  );

  it.each(STEPS)(
    'stepped %s, the connection-attempt window neither refuses early nor forgets',
    async (_dir, ms) => {
      const limits = { connectionAttempts: 2, connectionWindowMs: 10_000, pingIntervalMs: 0 };
      const { sim, clock } = await start({ limits });
      const url = `${sim.wsUrl}/market/ws`;
      expect(await upgradeStatus(url)).toBe(101);
      expect(await upgradeStatus(url)).toBe(101);
      clock.stepWall(ms);
      expect(await upgradeStatus(url)).toBe(429); // the same window
      await clock.advance(10_000);
      clock.stepWall(ms);
      expect(await upgradeStatus(url)).toBe(101); // the window has passed
      expect(sim.stats().handshakes.rejected429).toBe(1);
    },
  );

  it.each(STEPS)(
    'stepped %s, the REST weight minute neither resets early nor stays spent',
    async (_dir, ms) => {
      const { sim, clock } = await start({
        limits: { restWeightPerMinute: 40, restBanAfter429s: 100, pingIntervalMs: 0 },
      });
      const url = `${sim.restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=1000`; // weight 20
      expect((await getJson(url)).status).toBe(200);
      expect((await getJson(url)).status).toBe(200);
      expect((await getJson(url)).status).toBe(429);
      await clock.advance(30_000);
      clock.stepWall(ms);
      expect((await getJson(url)).status).toBe(429); // the same minute
      await clock.advance(30_000);
      expect((await getJson(url)).status).toBe(200); // the next one
    },
  );

  it.each(STEPS)(
    'stepped %s, a 418 ban neither ends early nor outlasts its length',
    async (_dir, ms) => {
      const { sim, clock } = await start({
        limits: {
          restWeightPerMinute: 40,
          restBanAfter429s: 1,
          restBanMs: 120_000,
          pingIntervalMs: 0,
        },
      });
      const url = `${sim.restUrl}/fapi/v1/depth?symbol=BTCUSDT&limit=1000`;
      for (const status of [200, 200, 429, 418]) expect((await getJson(url)).status).toBe(status);
      await clock.advance(30_000);
      clock.stepWall(ms);
      const banned = await getJson(url);
      expect(banned.status).toBe(418);
      // The end of the ban is reported on the wall clock as it reads now: 90 s ahead.
      expect(banned.body).toMatchObject({
        msg: expect.stringContaining(`IP banned until ${clock.now() + 90_000}.`),
      });
      await clock.advance(89_000);
      expect((await getJson(url)).status).toBe(418);
      await clock.advance(1000);
      expect((await getJson(url)).status).toBe(200);
    },
  );

  it.each(STEPS)(
    'stepped %s, pushes keep their cadence, stamped with the wall clock',
    async (_dir, ms) => {
      const { clock } = await start({ venue: 'binance-spot', limits: { pingIntervalMs: 0 } });
      const c = await open('/stream?streams=btcusdt@miniTicker'); // every 1000 ms
      const pushes = (): number =>
        c.frames.filter((f) => f.includes('"btcusdt@miniTicker"')).length;
      await clock.advance(1000);
      await c.next(onStream('btcusdt@miniTicker'));
      // Off the cadence's grid by half a period, so that the step back shows too.
      clock.stepWall(ms + 500);
      for (let t = 0; t < 19; t++) await clock.advance(50); // 950 ms: none due
      await settle();
      expect(pushes()).toBe(1);
      await clock.advance(50);
      await waitFor(() => pushes() === 2);
      const last = JSON.parse(c.frames.at(-1)!) as { data: { E: number } };
      expect(last.data.E).toBe(clock.now());
    },
  );
});
