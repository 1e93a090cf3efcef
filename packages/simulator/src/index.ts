export { startSimulator } from './simulator.js';
export type { ConnectionInfo, Simulator, SimulatorStats } from './simulator.js';
export type { ConnectionCount } from './server/gateway.js';
export { DEFAULT_API_KEY, type FirehoseOptions, type SimulatorOptions } from './options.js';
export {
  Faults,
  type ConnectionSelector,
  type FaultTrigger,
  type MalformedKind,
} from './faults.js';
export { Truth, type TruthBook } from './truth.js';
export { Account, type OrderRequest, type SimOrder } from './account.js';
export { SimulatorError, SimulatorErrorCode } from './errors.js';
export { MAX_SPEED, MAX_SYMBOLS, MAX_TICK_MS } from './validate.js';
export { ControlError, type SubscriptionCounters } from './server/control.js';
export { CLOSE_IDLE, CLOSE_LIFETIME, CLOSE_TOO_MANY_REQUESTS } from './server/connection.js';
export { UpbitError } from './server/upbit-control.js';
export { UPBIT_ORDERBOOK_UNITS } from './upbit-payloads.js';
export { OTHER_STREAMS, type DiffLogEntry, type StreamCounters } from './server/hub.js';
export type { RestFault, RestCounters } from './server/rest.js';
export { signParams, type ApiCredentials } from './server/user-data.js';
export { defaultSymbols, DEFAULT_SYMBOL_COUNT, type SymbolSpec } from './market/symbols.js';
export { Prng } from './market/prng.js';
export {
  SPOT,
  UPBIT,
  UPBIT_INTERVALS,
  USDM,
  venueProfile,
  type RouteGroup,
  type VenueCadences,
  type VenueId,
  type VenueLimits,
  type VenueProfile,
} from './venue.js';
