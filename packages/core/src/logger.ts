import { createRequire } from 'node:module';
import type { DestinationStream, LoggerOptions } from 'pino';

/** The logging surface unifeed uses: a subset of pino's `Logger`, so a pino logger fits. */
export interface Logger {
  trace(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

const noop = (): void => {};

/** The library default: logs nothing and costs nothing. */
export const silentLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/**
 * `logger` made unable to throw into the library. A logger that throws (a destination closed
 * under it, a bug in a custom one) would otherwise cut short the state change it was telling
 * of: a feed would stay 'open' on a closed socket until its heartbeat gave up, a minute later.
 * What such a logger fails to write is lost; there is nowhere left to say so.
 */
export function guardedLogger(logger: Logger): Logger {
  // A pool hands its guarded logger to its feeds, which guard theirs: once is enough.
  if (logger === silentLogger || guarded.has(logger)) return logger;
  const level =
    (name: Level) =>
    (obj: object, msg?: string): void => {
      try {
        if (msg === undefined) logger[name](obj);
        else logger[name](obj, msg);
      } catch {
        // Swallowed on purpose: see above.
      }
    };
  const safe: Logger = {
    trace: level('trace'),
    debug: level('debug'),
    info: level('info'),
    warn: level('warn'),
    error: level('error'),
    child: (bindings) => {
      try {
        return guardedLogger(logger.child(bindings));
      } catch {
        return silentLogger;
      }
    },
  };
  guarded.add(safe);
  return safe;
}

const guarded = new WeakSet<Logger>();

/** Field names whose values are secrets, as unifeed and Binance spell them. */
const SECRET_FIELDS = ['apiKey', 'apiSecret', 'secret', 'signature', 'listenKey'];
/** The API key header, in the case RestClient sends it and in the case Node reports it. */
const KEY_HEADERS = ['headers["X-MBX-APIKEY"]', 'headers["x-mbx-apikey"]'];

/**
 * Field paths pino censors in every log line. Secrets must never be logged, but a log call
 * that passes a whole request or config object could carry one, so they are censored here too:
 * at the top, one level down (a config) and two (a request's `params` or `query`). pino's paths
 * are exact: they name a depth and a case.
 */
export const REDACT_PATHS: readonly string[] = [...SECRET_FIELDS, ...KEY_HEADERS].flatMap((f) => [
  f,
  `*.${f}`,
  `*.*.${f}`,
]);

/**
 * A pino logger with unifeed's redaction list applied (and any `redact` paths of `options` as
 * well), writing to stdout or `destination`. Use it when you want unifeed's logs; the library
 * itself stays silent unless you pass a logger.
 */
export function createLogger(options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  // Loaded on first use: the library is silent by default, and loading pino at import cost
  // every process that imports unifeed 0.4 MB of heap (3.69 against 3.27 MB after a GC).
  const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');
  // The caller's own paths join unifeed's (a plain spread would have dropped them silently).
  const own = Array.isArray(options.redact) ? { paths: options.redact } : options.redact;
  const redact = { censor: '[redacted]', ...own, paths: [...REDACT_PATHS, ...(own?.paths ?? [])] };
  const redacted = { ...options, redact };
  return destination === undefined ? pino(redacted) : pino(redacted, destination);
}
