export { ManualClock, flushMicrotasks } from './manual-clock.js';
export { throwingLogger } from './throwing-logger.js';
