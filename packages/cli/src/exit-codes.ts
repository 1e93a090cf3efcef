/** What `unifeed` exits with. Stable: scripts depend on them. */
export const ExitCode = {
  /** Done: the duration ran out, Ctrl-C, or a one-shot command finished. */
  Ok: 0,
  /** Something failed: an error, a fault the demo injected and the client did not recover. */
  Failure: 1,
  /** The command line is wrong (unknown option, bad value). */
  Usage: 2,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
