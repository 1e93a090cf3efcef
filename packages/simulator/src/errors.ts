import { CodedError } from '@unifeed/core';

/** Every error code @unifeed/simulator throws. Codes are stable; messages may change. */
export const SimulatorErrorCode = {
  /** An option has an invalid value. */
  InvalidOption: 'UNIFEED_SIM_INVALID_OPTION',
  /** A fault or account call named a connection, order or symbol that does not exist. */
  NotFound: 'UNIFEED_SIM_NOT_FOUND',
} as const;

export type SimulatorErrorCode = (typeof SimulatorErrorCode)[keyof typeof SimulatorErrorCode];

export class SimulatorError extends CodedError<SimulatorErrorCode> {
  override readonly name = 'SimulatorError';
}
