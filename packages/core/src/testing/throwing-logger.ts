import type { Logger } from '../logger.js';

/**
 * A logger that throws on every call, as one writing to a destination closed under it does:
 * for tests that what is logged never decides what the library does next.
 */
export function throwingLogger(): Logger {
  const fail = (): never => {
    throw new Error('EPIPE: the log destination is closed');
  };
  const logger: Logger = {
    trace: fail,
    debug: fail,
    info: fail,
    warn: fail,
    error: fail,
    child: () => logger,
  };
  return logger;
}
