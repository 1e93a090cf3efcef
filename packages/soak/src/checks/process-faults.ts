import { ViolationLog } from './violations.js';

/** The part of `process` the check listens on. */
export interface ProcessEvents {
  on(event: 'unhandledRejection' | 'uncaughtException', listener: (err: unknown) => void): unknown;
  off(event: 'unhandledRejection' | 'uncaughtException', listener: (err: unknown) => void): unknown;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}${typeof code === 'string' ? ` ${code}` : ''}: ${err.message.slice(0, 200)}`;
  }
  return String(err).slice(0, 200);
}

/**
 * An unhandled rejection or uncaught exception anywhere in the process while the soak runs.
 * Listening keeps the process alive so the run finishes and reports them; each one counts.
 */
export class ProcessFaultCheck {
  readonly violations = new ViolationLog('an unhandled rejection or exception');
  readonly #target: ProcessEvents;
  readonly #onRejection = (err: unknown): void => this.violations.add(`rejection ${describe(err)}`);
  readonly #onException = (err: unknown): void => this.violations.add(`exception ${describe(err)}`);
  #attached = false;

  constructor(target: ProcessEvents = process) {
    this.#target = target;
  }

  attach(): void {
    if (this.#attached) return;
    this.#attached = true;
    this.#target.on('unhandledRejection', this.#onRejection);
    this.#target.on('uncaughtException', this.#onException);
  }

  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#target.off('unhandledRejection', this.#onRejection);
    this.#target.off('uncaughtException', this.#onException);
  }
}
