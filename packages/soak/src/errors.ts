/** Every error code @unifeed/soak throws. Codes are stable; messages may change. */
export const SoakErrorCode = {
  /** An option or command-line argument has an invalid value. */
  InvalidOption: 'UNIFEED_SOAK_INVALID_OPTION',
  /** The scenario did not come up (streams, books or account) within the warm-up limit. */
  WarmupTimeout: 'UNIFEED_SOAK_WARMUP_TIMEOUT',
} as const;

export type SoakErrorCode = (typeof SoakErrorCode)[keyof typeof SoakErrorCode];

export class SoakError extends Error {
  override readonly name = 'SoakError';
  readonly code: SoakErrorCode;

  constructor(code: SoakErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
