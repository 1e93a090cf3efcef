export { MAX_TIMER_MS, realClock, steadyEpochTime, type Clock, type TimerHandle } from './clock.js';
export { CodedError, ErrorCode, UnifeedError, isCodedError, isUnifeedError } from './errors.js';
export {
  given,
  type PartialOptions,
  isNumberIn,
  requireClock,
  requireDuration,
  requireFunction,
  requireInRange,
  requireList,
  requireLogger,
  requireObject,
  requirePool,
  requireOptionalString,
  requirePositiveInteger,
  requireRestClient,
  withDefaults,
} from './options.js';
export { createLogger, guardedLogger, silentLogger, REDACT_PATHS, type Logger } from './logger.js';
export { excerpt, redactUrl } from './redact.js';
export {
  backoffDelay,
  backoffOptions,
  parseRetryAfter,
  rateLimitHoldMs,
  DEFAULT_BACKOFF,
  CLOSE_POLICY_VIOLATION,
  type BackoffOptions,
  type RetryCause,
} from './backoff.js';
export {
  SlidingWindowLimiter,
  type SlidingWindowLimiterOptions,
} from './sliding-window-limiter.js';
export { Reconnector, type ReconnectorOptions } from './reconnector.js';
export {
  Heartbeat,
  DEFAULT_HEARTBEAT,
  type HeartbeatOptions,
  type HeartbeatTarget,
} from './heartbeat.js';
export {
  BoundedQueue,
  type BoundedQueueHooks,
  type OverflowPolicy,
  type QueueOptions,
} from './bounded-queue.js';
export { addFeedStats } from './feed-stats.js';
export { LatencyHistogram, LATENCY_BUCKETS_MS, type LatencySummary } from './histogram.js';
export { decodeLossless, parseLossless, parseLosslessNumbers } from './lossless-json.js';
export { parseJson } from './json-parse.js';
export {
  decodeJson,
  frameText,
  frameSize,
  type RawFrame,
  type WebSocketConstructor,
  type WebSocketLike,
} from './transport.js';
export {
  UnifiedFeed,
  type FeedGapReason,
  type FeedHeartbeatOptions,
  type FeedState,
  type FeedStatus,
  type InboundMessage,
  type UnifiedFeedEvents,
  type UnifiedFeedOptions,
  type UnifiedFeedStats,
} from './unified-feed.js';
export {
  type Classified,
  type HeartbeatStyle,
  type SubscriptionChange,
  type Venue,
  type VenueAnswers,
  type VenueLimits,
  type VenueRequest,
} from './venue.js';
export {
  marketStream,
  parseUpbitStream,
  upbit,
  upbitStream,
  UPBIT_CANDLE_INTERVALS,
  type UpbitCandleInterval,
  type UpbitStreamType,
  type UpbitVenueOptions,
} from './upbit.js';
export {
  binanceSpot,
  binanceUsdm,
  streamKind,
  SPOT_KLINE_INTERVALS,
  USDM_KLINE_INTERVALS,
  type BinanceVenueOptions,
} from './binance.js';
export type { FeedPlugin } from './plugin.js';
export {
  RestClient,
  REST_WEIGHT_SHARE,
  sharedRestClient,
  venueRestClient,
  type RestClientOptions,
  type RestClientStats,
  type RestRequest,
} from './rest-client.js';
export { RateLimitHold } from './rate-limit-hold.js';
export { RestWeightBudget } from './rest-weight-budget.js';
export { isLoopbackHost, requireSecureUrl, secureBase } from './secure-url.js';
export {
  StreamPool,
  type GapReason,
  type PoolConnectionStats,
  type PoolStatus,
  type StreamPoolOptions,
  type StreamPoolStats,
} from './stream-pool.js';
export { venueAttemptLimiter } from './venue-attempt-limiter.js';
