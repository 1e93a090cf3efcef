/**
 * @unifeed/soak: the demo's streams against the simulator for minutes or hours, while a seeded
 * plan injects every fault the simulator has and invariants are checked continuously.
 * `pnpm soak --minutes 2 --seed 1` runs it; `runSoak()` is the same from a program.
 */
export { runSoak, SOAK_CREDENTIALS, type SoakOptions } from './soak.js';
export {
  formatReport,
  type InvariantResult,
  type LandedByTarget,
  type SoakReport,
} from './report.js';
export {
  ACCOUNT_FIRST,
  FAULT_KINDS,
  countByKind,
  MAX_RUN_MS,
  MIN_FAULT_SPACING_MS,
  planFaults,
  type FaultKind,
  type FaultPlanOptions,
  type FaultTarget,
  type PlannedFault,
} from './fault-plan.js';
export { FaultInjector, type FaultInjectorOptions, type InjectedFault } from './fault-injector.js';
export { seededRandom, shuffle } from './prng.js';
export { CountingClock } from './counting-clock.js';
export { GROWTH_BOUNDS, sampleResources, type ResourceSources } from './resources.js';
export { SoakError, SoakErrorCode } from './errors.js';
export { ViolationLog } from './checks/violations.js';
export { SlotSocketCheck, type SlotCount } from './checks/slot-sockets.js';
export {
  DoubleSubscriptionCheck,
  poolConnectionOf,
  type ServerConnection,
  type SubscriptionSample,
} from './checks/double-subscription.js';
export {
  DeliveryCheck,
  intervalMs,
  orderUpdateKey,
  type OrderUpdateFields,
} from './checks/delivery.js';
export { HoleCheck, type ChainedEvent } from './checks/holes.js';
export { BookTruthCheck, type BookSides, type TruthSource } from './checks/book-truth.js';
export { ControlRateCheck } from './checks/control-rate.js';
export { ProcessFaultCheck, type ProcessEvents } from './checks/process-faults.js';
export { GrowthCheck, type GrowthResult, type ResourceSample } from './checks/growth.js';
export { SecretScan } from './checks/secrets.js';
