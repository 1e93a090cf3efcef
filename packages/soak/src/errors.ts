import { CodedError } from '@unifeed/core';

/** Every error code @unifeed/soak throws. Codes are stable; messages may change. */
export const SoakErrorCode = {
  /** An option or command-line argument has an invalid value. */
  InvalidOption: 'UNIFEED_SOAK_INVALID_OPTION',
  /** The scenario did not come up (streams, books or account) within the warm-up limit. */
  WarmupTimeout: 'UNIFEED_SOAK_WARMUP_TIMEOUT',
} as const;

export type SoakErrorCode = (typeof SoakErrorCode)[keyof typeof SoakErrorCode];

export class SoakError extends CodedError<SoakErrorCode> {
  override readonly name = 'SoakError';
}
