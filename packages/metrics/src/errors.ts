import { CodedError } from '@unifeed/core';

/** Every error code @unifeed/metrics produces itself. Codes are stable; messages may change. */
export const MetricsErrorCode = {
  /**
   * `serveMetrics` could not listen on its host and port: the port is taken (`EADDRINUSE`),
   * not permitted (`EACCES`), or the host is no address of this machine (`EADDRNOTAVAIL`).
   * The Node error is the `cause`.
   */
  Listen: 'UNIFEED_METRICS_LISTEN',
} as const;

export type MetricsErrorCode = (typeof MetricsErrorCode)[keyof typeof MetricsErrorCode];

/** An error of @unifeed/metrics. `code` is for programs, the message for people. */
export class MetricsError extends CodedError<MetricsErrorCode> {
  override readonly name = 'MetricsError';
}
