/**
 * Where a command writes and how it learns it should stop: the real process in `main`, a
 * recorder in tests. Data goes to `out` (stdout), people's text and logs to `err` (stderr).
 */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal that can be redrawn. */
  readonly tty: boolean;
  /**
   * Call `fn` once on Ctrl-C (SIGINT), SIGTERM, or when the reader of stdout has gone;
   * returns a function that removes it.
   */
  onInterrupt(fn: () => void): () => void;
}

/** Set once whoever read stdout has closed it; nothing more is written there. */
let stdoutGone = false;
const onStdoutGone = new Set<() => void>();
let stdoutWatched = false;

/**
 * `unifeed watch ... | head -n 3`: `head` closes the pipe when it has read enough, which is
 * the reader's way of saying it is done, so the command stops as on Ctrl-C and exits 0 instead
 * of dying of an unhandled EPIPE. Installed at the first write, not on import: a program that
 * imports @unifeed/cli keeps its own stdout as it was. Other errors of stdout still surface.
 */
function watchStdout(): void {
  if (stdoutWatched) return;
  stdoutWatched = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stdoutGone = true;
    for (const fn of [...onStdoutGone]) fn();
  });
}

export const processIo: Io = {
  out: (text) => {
    watchStdout();
    if (!stdoutGone) process.stdout.write(text);
  },
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
      onStdoutGone.delete(once);
    };
    process.on('SIGINT', once);
    process.on('SIGTERM', once);
    onStdoutGone.add(once);
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
