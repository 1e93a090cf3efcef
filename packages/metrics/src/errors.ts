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
export class MetricsError extends Error {
  override readonly name = 'MetricsError';
  readonly code: MetricsErrorCode;

  constructor(code: MetricsErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
  }
}
