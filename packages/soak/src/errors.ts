import { CodedError, isNumberIn } from '@unifeed/core';

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

/**
 * Throws `UNIFEED_SOAK_INVALID_OPTION` naming `name` unless `value` is a finite number in
 * [`min`, `max`] (above `min` when `above`; an integer when `integer`). Undefined passes: the
 * default applies.
 */
export function requireOption(
  name: string,
  value: unknown,
  range: { min: number; max: number; above?: boolean; integer?: boolean },
): void {
  if (value === undefined) return;
  const { min, max, above = false, integer = false } = range;
  if (!isNumberIn(value, min, max, integer) || (above && value === min)) {
    throw new SoakError(
      SoakErrorCode.InvalidOption,
      `${name} must be ${integer ? 'an integer' : 'a number'} in ${above ? '(' : '['}${min}, ${max}], got ${String(value).slice(0, 40)}`,
    );
  }
}
