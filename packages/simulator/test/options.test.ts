import { describe, expect, it } from 'vitest';
import {
  MAX_SYMBOLS,
  SimulatorErrorCode,
  startSimulator,
  type SimulatorOptions,
} from '@unifeed/simulator';

const BAD_NUMBERS: unknown[] = [NaN, Infinity, -1, 0, '100', null];
const BAD_COUNTS: unknown[] = [...BAD_NUMBERS, 0.5, 1e300];

/** Each option and values `startSimulator` must refuse, naming the option. */
const CASES: [name: string, values: unknown[], make: (v: unknown) => object][] = [
  ['speed', [...BAD_NUMBERS, 1e300, 1001], (v) => ({ speed: v })],
  ['tickMs', [...BAD_NUMBERS, 1e300, 60_001], (v) => ({ tickMs: v })],
  ['bookLevels', BAD_COUNTS, (v) => ({ bookLevels: v })],
  ['truthHistory', BAD_COUNTS, (v) => ({ truthHistory: v })],
  ['diffLogSize', BAD_COUNTS, (v) => ({ diffLogSize: v })],
  ['symbols', [...BAD_COUNTS, MAX_SYMBOLS + 1], (v) => ({ symbols: v })],
  ['symbols', [[], [5], [''], ['BTCUSDT', 'btcusdt']], (v) => ({ symbols: v })],
  ['seed', [NaN, 1.5, '1'], (v) => ({ seed: v })],
  ['venue', ['kraken', null, 5], (v) => ({ venue: v })],
  ['port', [NaN, 'x', -1, 1.5, 70_000], (v) => ({ port: v })],
  ['host', ['', 5], (v) => ({ host: v })],
  ['slotParam', ['', 5, null], (v) => ({ slotParam: v })],
  ['apiKeys', ['key', [{}], [null]], (v) => ({ apiKeys: v })],
  ['limits', ['x', null, { controlMessagesPerSecond: 5 }], (v) => ({ limits: v })],
  ['limits.streamsPerConnection', BAD_COUNTS, (v) => ({ limits: { streamsPerConnection: v } })],
  ['limits.connectionAttempts', BAD_COUNTS, (v) => ({ limits: { connectionAttempts: v } })],
  ['limits.maxBufferedBytes', [0, -1, NaN], (v) => ({ limits: { maxBufferedBytes: v } })],
  ['limits.lifetimeMs', [-1, NaN, 1.5, 2 ** 31], (v) => ({ limits: { lifetimeMs: v } })],
  ['limits.pongMustEcho', [1, 'yes'], (v) => ({ limits: { pongMustEcho: v } })],
  ['firehose', [null, 'btcusdt@bookTicker'], (v) => ({ firehose: v })],
  ['firehose.stream', [null, 5, ''], (v) => ({ firehose: { stream: v } })],
  [
    'firehose.frames',
    [...BAD_COUNTS, 100_001],
    (v) => ({ firehose: { stream: 'btcusdt@bookTicker', frames: v } }),
  ],
  [
    'firehose.highWaterBytes',
    BAD_COUNTS,
    (v) => ({ firehose: { stream: 'btcusdt@bookTicker', highWaterBytes: v } }),
  ],
  ['spreadPushes', ['yes'], (v) => ({ spreadPushes: v })],
  ['sendTime', [5], (v) => ({ sendTime: v })],
];

describe('startSimulator options', () => {
  it.each(CASES)(
    'refuses a bad %s, naming it, with UNIFEED_SIM_INVALID_OPTION',
    async (name, values, make) => {
      for (const v of values) {
        const options = { symbols: ['BTCUSDT'], ...make(v) } as SimulatorOptions;
        await expect(startSimulator(options), `${name} = ${String(v)}`).rejects.toMatchObject({
          name: 'SimulatorError',
          code: SimulatorErrorCode.InvalidOption,
          message: expect.stringContaining(name) as unknown,
        });
      }
    },
  );

  it('accepts the edges of every range', async () => {
    const sim = await startSimulator({
      port: 0,
      venue: 'binance-spot',
      symbols: 1,
      speed: 1000,
      tickMs: 60_000,
      bookLevels: 1,
      truthHistory: 1,
      diffLogSize: 1,
      // The limits whose 0 means none, never or disabled (docs/simulator.md).
      limits: { messagesPerMinute: 0, idleTimeoutMs: 0, lifetimeMs: 0, pingIntervalMs: 0 },
      firehose: { stream: 'btcusdt@bookTicker', frames: 1, highWaterBytes: 1 },
    });
    expect(sim.venue.limits.lifetimeMs).toBe(0);
    expect(sim.truth.book('BTCUSDT', 1)?.bids).toHaveLength(1);
    await sim.close();
  });
});
