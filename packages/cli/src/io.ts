/**
 * Where a command writes and how it learns it should stop: the real process in `main`, a
 * recorder in tests. Data goes to `out` (stdout), people's text and logs to `err` (stderr).
 */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal that can be redrawn. */
  readonly tty: boolean;
  /** Call `fn` once on Ctrl-C (SIGINT) or SIGTERM; returns a function that removes it. */
  onInterrupt(fn: () => void): () => void;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  tty: process.stderr.isTTY === true,
  onInterrupt(fn) {
    const once = (): void => {
      off();
      fn();
    };
    const off = (): void => {
      process.off('SIGINT', once);
      process.off('SIGTERM', once);
    };
    process.on('SIGINT', once);
    process.on('SIGTERM', once);
    return off;
  },
};

/** Resolves on Ctrl-C, or at once when `signal` is already aborted. */
export function untilInterrupted(io: Io, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const off = io.onInterrupt(() => {
      signal?.removeEventListener('abort', done);
      resolve();
    });
    const done = (): void => {
      off();
      resolve();
    };
    signal?.addEventListener('abort', done, { once: true });
  });
}
