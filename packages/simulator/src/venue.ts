import { SPOT_KLINE_INTERVALS } from '@unifeed/core';

/** The dialects the simulator speaks: two of Binance, and Upbit. */
export type VenueId = 'binance-usdm' | 'binance-spot' | 'upbit';

/** Futures routed path groups; spot has one group. */
export type RouteGroup = 'public' | 'market' | 'private' | 'any';

/**
 * Every number of protocol.md that the simulator enforces or imitates. Each one can be
 * overridden through `SimulatorOptions.limits`; none is a literal buried in logic.
 */
export interface VenueLimits {
  /** Streams one connection may hold; more is an error reply. */
  streamsPerConnection: number;
  /** Inbound messages (text, ping, pong) per second per connection before close 1008. */
  messagesPerSecond: number;
  /** The same per minute (Upbit: 100); 0 for none. */
  messagesPerMinute: number;
  /** A connection that sent nothing (message, ping or pong) this long is closed; 0 for never. */
  idleTimeoutMs: number;
  /** Connection attempts allowed per `connectionWindowMs` before HTTP 429 on the upgrade. */
  connectionAttempts: number;
  /** Window of {@link connectionAttempts}. */
  connectionWindowMs: number;
  /** A connection is cut after this long; 0 for never. */
  lifetimeMs: number;
  /** Server ping interval; 0 disables server pings. */
  pingIntervalMs: number;
  /** Disconnect when no (valid) pong arrived within this after a ping. */
  pongTimeoutMs: number;
  /** Spot: only a pong echoing the ping payload keeps the connection alive. */
  pongMustEcho: boolean;
  /** REST weight budget per minute. */
  restWeightPerMinute: number;
  /** Requests answered 429 in one minute after which the client is banned (418). */
  restBanAfter429s: number;
  /** How long a 418 ban lasts. */
  restBanMs: number;
  /** Futures listen key validity after POST/PUT. */
  listenKeyValidityMs: number;
  /** Writes buffered for one socket beyond which the slow client is disconnected. */
  maxBufferedBytes: number;
}

/** Push cadences in milliseconds of simulated time. */
export interface VenueCadences {
  kline: number;
  /** Spot `kline_1s` pushes faster than the other intervals. */
  kline1s: number;
  miniTicker: number;
  ticker: number;
  /** Diff depth without a speed suffix. */
  depth: number;
  /** Partial depth without a speed suffix. */
  partialDepth: number;
  aggTrade: number;
  markPrice: number;
}

export interface VenueProfile {
  id: VenueId;
  /**
   * Binance: SUBSCRIBE/UNSUBSCRIBE answered by id, server pings, routed paths. Upbit: one
   * request replaces the set, `PING` answered `{"status":"UP"}`, idle close, binary frames.
   */
  dialect: 'binance' | 'upbit';
  limits: VenueLimits;
  cadences: VenueCadences;
  /** Kline intervals the venue accepts. */
  intervals: readonly string[];
  /** Speed suffixes the depth streams accept, in ms. */
  depthSpeeds: readonly number[];
  /** Whether futures-only fields (`pu`, `T`, bookTicker `e`) and routing apply. */
  futures: boolean;
  restPrefix: '/api/v3' | '/fapi/v1';
  /** Snapshot limits the depth endpoint accepts (spot: any 1..5000). */
  depthLimits: readonly number[] | undefined;
  depthDefaultLimit: number;
  depthMaxLimit: number;
  /** Weight of a depth request by limit. */
  depthWeight(limit: number): number;
}

const SPOT_INTERVALS = SPOT_KLINE_INTERVALS;

export const SPOT: VenueProfile = {
  id: 'binance-spot',
  dialect: 'binance',
  futures: false,
  limits: {
    streamsPerConnection: 1024,
    messagesPerSecond: 5,
    messagesPerMinute: 0,
    idleTimeoutMs: 0,
    connectionAttempts: 300,
    connectionWindowMs: 300_000,
    lifetimeMs: 86_400_000,
    pingIntervalMs: 20_000,
    pongTimeoutMs: 60_000,
    pongMustEcho: true,
    restWeightPerMinute: 1200,
    restBanAfter429s: 5,
    restBanMs: 120_000,
    listenKeyValidityMs: 3_600_000,
    maxBufferedBytes: 16 * 1024 * 1024,
  },
  cadences: {
    kline: 2000,
    kline1s: 1000,
    miniTicker: 1000,
    ticker: 1000,
    depth: 1000,
    partialDepth: 1000,
    aggTrade: 100,
    markPrice: 3000,
  },
  intervals: SPOT_INTERVALS,
  depthSpeeds: [100, 1000],
  restPrefix: '/api/v3',
  depthLimits: undefined,
  depthDefaultLimit: 100,
  depthMaxLimit: 5000,
  depthWeight: (limit) => (limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250),
};

export const USDM: VenueProfile = {
  id: 'binance-usdm',
  dialect: 'binance',
  futures: true,
  limits: {
    ...SPOT.limits,
    streamsPerConnection: 200,
    messagesPerSecond: 10,
    pingIntervalMs: 180_000,
    pongTimeoutMs: 600_000,
    pongMustEcho: false,
    restWeightPerMinute: 2400,
  },
  cadences: {
    kline: 250,
    kline1s: 250,
    miniTicker: 2000,
    ticker: 2000,
    depth: 250,
    partialDepth: 250,
    aggTrade: 100,
    markPrice: 3000,
  },
  intervals: SPOT_INTERVALS.slice(1),
  depthSpeeds: [100, 250, 500],
  restPrefix: '/fapi/v1',
  depthLimits: [5, 10, 20, 50, 100, 500, 1000],
  depthDefaultLimit: 500,
  depthMaxLimit: 1000,
  depthWeight: (limit) => (limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20),
};

/** Candle intervals Upbit serves over WebSocket (`candle.1s` ... `candle.240m`). */
export const UPBIT_INTERVALS = [
  '1s',
  '1m',
  '3m',
  '5m',
  '10m',
  '15m',
  '30m',
  '60m',
  '240m',
] as const;

/**
 * Upbit (protocol.md, "Other venues"). No server pings and no lifetime cut: a connection
 * silent for about 120 s is closed instead. Ticker, trade and order book are pushed when
 * they change; candles once a second while open. There is no REST order book in its
 * dialect: its order book stream is full snapshots.
 */
export const UPBIT: VenueProfile = {
  ...SPOT,
  id: 'upbit',
  dialect: 'upbit',
  limits: {
    ...SPOT.limits,
    // Upbit states no number; the client's default is the same.
    streamsPerConnection: 200,
    messagesPerSecond: 5,
    messagesPerMinute: 100,
    idleTimeoutMs: 120_000,
    connectionAttempts: 5,
    connectionWindowMs: 1000,
    lifetimeMs: 0,
    pingIntervalMs: 0,
    restWeightPerMinute: 600,
  },
  cadences: { ...SPOT.cadences, kline: 1000, kline1s: 1000, ticker: 0 },
  intervals: UPBIT_INTERVALS,
};

export function venueProfile(id: VenueId, overrides: Partial<VenueLimits> = {}): VenueProfile {
  const base = id === 'binance-spot' ? SPOT : id === 'upbit' ? UPBIT : USDM;
  return { ...base, limits: { ...base.limits, ...overrides } };
}
