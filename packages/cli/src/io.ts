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
   * Call `fn` once on Ctrl-C (SIGINT), SIGTERM, or when the reader of stdout or stderr has
   * gone; returns a function that removes it.
   */
  onInterrupt(fn: () => void): () => void;
}

/** Called when the reader of stdout or stderr has gone (what Ctrl-C does). */
const onReaderGone = new Set<() => void>();

/**
 * One output stream whose reader may go: `unifeed watch ... | head -n 3` (and `2>&1 | head`)
 * closes the pipe once `head` has read enough, which is the reader's way of saying it is done,
 * so the command stops as on Ctrl-C and exits 0 instead of dying of an unhandled EPIPE, and
 * nothing more is written there. Watched from the first write, not on import: a program that
 * imports @unifeed/cli keeps its own streams as they were. Other errors still surface.
 */
function guarded(stream: NodeJS.WriteStream): (text: string) => void {
  let watched = false;
  let gone = false;
  return (text) => {
    if (!watched) {
      watched = true;
      stream.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE') throw err;
        gone = true;
        for (const fn of [...onReaderGone]) fn();
      });
    }
    if (!gone) stream.write(text);
  };
}

export const processIo: Io = {
  out: guarded(process.stdout),
  err: guarded(process.stderr),
  tty: process.stderr.isTTY === true,
  onInterrupt(fn) {
    const once = (): void => {
      off();
      fn();
    };
    const off = (): void => {
      process.off('SIGINT', once);
      process.off('SIGTERM', once);
      onReaderGone.delete(once);
    };
    process.on('SIGINT', once);
    process.on('SIGTERM', once);
    onReaderGone.add(once);
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
