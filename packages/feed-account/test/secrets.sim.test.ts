import { randomUUID } from 'node:crypto';
import type { Logger } from '@unifeed/core';
import { describe, expect, it } from 'vitest';
import { spotUserData, userData, type AccountStatus } from '../src/index.js';
import {
  accountFixture,
  capturingLogger,
  errorFields,
  listenKeys,
  QUIET_HEARTBEAT,
  rawLogger,
  recordingRest,
  recordingWebSocket,
  teeLogger,
  waitFor,
} from './support.js';

const f = accountFixture();
const KEEPALIVE = 30 * 60_000;

/**
 * Everything a lifecycle could leak through: pino's lines at debug level, the same calls
 * before any redaction, and every status, error and stats() snapshot, spelled out as JSON.
 */
function observer() {
  const pinoOut = capturingLogger();
  const raw: string[] = [];
  const texts: string[] = [];
  const logger: Logger = teeLogger(pinoOut.logger, rawLogger(raw));
  return {
    logger,
    lines: pinoOut.lines,
    raw,
    texts,
    record: (x: unknown) => texts.push(JSON.stringify(x, errorFields)),
    all: () => [...pinoOut.lines, ...raw, ...texts],
  };
}

/** Pairs of (text, secret) where a secret shows; [] is the only good answer. */
function leaks(texts: readonly string[], secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const text of texts) {
    for (const s of secrets) if (text.includes(s)) found.push(`${s} in ${text.slice(0, 200)}`);
  }
  return found;
}

describe('secrets never leak', { timeout: 30_000 }, () => {
  it('futures: connect, events, expiry, renewal, keepalive failure, -1125, bad frames, network failure, stop, bad key', async () => {
    const creds = { apiKey: `key-${randomUUID()}`, secret: `secret-${randomUUID()}` };
    const { sim, clock, wire, advance, advanceUntil } = await f.start({ apiKeys: [creds] });
    const o = observer();
    const statuses: AccountStatus[] = [];
    const options = {
      wsUrl: sim.wsUrl,
      clock,
      random: () => 0,
      logger: o.logger,
      rest: recordingRest(sim.restUrl, clock, wire, o.logger),
      connection: { heartbeat: QUIET_HEARTBEAT, WebSocket: recordingWebSocket(wire) },
    };
    const account = userData({ apiKey: creds.apiKey, ...options });
    f.onCleanup(() => account.stop());
    account.status$.subscribe((s) => {
      statuses.push(s);
      o.record(s);
    });
    account.events$.subscribe({ error: o.record });
    const said = (type: string) => statuses.filter((s) => s.type === type).length;

    await account.start();
    o.record(account.stats());
    const order = sim.account.placeOrder({
      symbol: 'BTCUSDT',
      side: 'BUY',
      quantity: '1',
      price: '2',
    });
    sim.account.fill(order.orderId);
    // Expiry -> renewal on a new key.
    sim.faults.expireListenKey();
    await waitFor(() => said('renewed') === 1, 'renewal after expiry');
    // A failed keepalive, retried.
    sim.faults.rest({ status: 503, path: '/fapi/v1/listenKey', count: 1 });
    await advance(KEEPALIVE);
    await advanceUntil(() => account.stats().listenKey.keptAlive === 1, 1000);
    // -1125 -> renewal.
    await fetch(`${sim.restUrl}/fapi/v1/listenKey`, {
      method: 'DELETE',
      headers: { 'X-MBX-APIKEY': creds.apiKey },
    });
    await advance(KEEPALIVE);
    await waitFor(() => said('renewed') === 2, 'renewal after -1125');
    // Frames that cannot be decoded or parsed.
    sim.faults.malformed('invalid-json');
    sim.faults.malformed('wrong-types');
    await waitFor(() => said('error') >= 2, 'decode and parse errors');
    // A network failure.
    sim.faults.drop({ code: 1006 });
    await waitFor(() => said('backoff') === 1, 'back-off');
    await advance(1000, 1000);
    await waitFor(() => statuses.some((s) => s.type === 'gap' && s.reason === 'reconnect'), 'back');
    o.record(account.stats());
    await account.stop();
    o.record(account.stats());

    // A key the venue refuses: the fatal path.
    const badKey = `bad-${randomUUID()}`;
    const bad = userData({ apiKey: badKey, ...options });
    bad.status$.subscribe(o.record);
    bad.orders$.subscribe({ error: o.record });
    await bad.start().catch(o.record);
    o.record(bad.stats());

    const keys = listenKeys(wire);
    expect(keys.length).toBeGreaterThanOrEqual(3);
    const secrets = [creds.apiKey, creds.secret, badKey, ...keys];
    // The lifecycle really was logged, at debug level, URLs included (redacted).
    expect(
      o.lines.some((l) => l.includes('"level":20') && l.includes('listenKey=[redacted]')),
    ).toBe(true);
    expect(o.lines.length).toBeGreaterThan(30);
    expect(o.texts.some((t) => t.includes('UNIFEED_AUTH'))).toBe(true);
    expect(o.texts.some((t) => t.includes('UNIFEED_DECODE'))).toBe(true);
    expect(o.texts.some((t) => t.includes('UNIFEED_PARSE'))).toBe(true);
    expect(leaks(o.all(), secrets)).toEqual([]);
  });

  it('spot: connect, events, termination, network failure, stop, wrong secret', async () => {
    const creds = { apiKey: `key-${randomUUID()}`, secret: `secret-${randomUUID()}` };
    const { sim, clock, wire, advance } = await f.start({
      venue: 'binance-spot',
      apiKeys: [creds],
    });
    const o = observer();
    const statuses: AccountStatus[] = [];
    const options = {
      wsUrl: sim.wsUrl,
      clock,
      random: () => 0,
      logger: o.logger,
      connection: { heartbeat: QUIET_HEARTBEAT, WebSocket: recordingWebSocket(wire) },
    };
    const account = spotUserData({ apiKey: creds.apiKey, apiSecret: creds.secret, ...options });
    f.onCleanup(() => account.stop());
    account.status$.subscribe((s) => {
      statuses.push(s);
      o.record(s);
    });
    const said = (type: string) => statuses.filter((s) => s.type === type).length;
    // A frame that does not decode is a gap of its own (`decode`): count each reason apart.
    const gaps = (reason: string) =>
      statuses.filter((s) => s.type === 'gap' && s.reason === reason).length;

    await account.start();
    sim.account.adjustBalance('BTC', '2');
    const order = sim.account.placeOrder({
      symbol: 'BTCUSDT',
      side: 'SELL',
      quantity: '1',
      price: '9',
    });
    sim.account.fill(order.orderId);
    sim.faults.expireListenKey();
    await waitFor(() => gaps('stream-terminated') === 1, 'resubscribed after termination');
    sim.faults.malformed('invalid-json');
    await waitFor(() => said('error') === 1, 'a decode error');
    sim.faults.drop({ code: 1006 });
    await waitFor(() => said('backoff') === 1, 'back-off');
    await advance(1000, 1000);
    await waitFor(() => gaps('reconnect') === 1, 'resubscribed after the reconnect');
    o.record(account.stats());
    await account.stop();

    const wrong = spotUserData({
      apiKey: creds.apiKey,
      apiSecret: `wrong-${randomUUID()}`,
      ...options,
    });
    wrong.status$.subscribe(o.record);
    wrong.events$.subscribe({ error: o.record });
    await wrong.start().catch(o.record);
    o.record(wrong.stats());

    const signatures = wire.sent.map(
      (t) => (JSON.parse(t) as { params: { signature: string } }).params.signature,
    );
    expect(signatures.length).toBeGreaterThanOrEqual(4);
    const secrets = [creds.apiKey, creds.secret, ...signatures];
    expect(o.lines.length).toBeGreaterThan(10);
    expect(o.texts.some((t) => t.includes('UNIFEED_AUTH'))).toBe(true);
    expect(leaks(o.all(), secrets)).toEqual([]);
  });
});
