import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, UnifeedError, isNumberIn } from '@unifeed/core';
import { quoted } from '@unifeed/core/fields';
import { MetricsError, MetricsErrorCode } from './errors.js';
import type { HealthMonitor } from './health-monitor.js';
import type { PrometheusExporter } from './prometheus-exporter.js';

/** Settings of {@link serveMetrics}. */
export interface MetricsServerOptions {
  /** `UNIFEED_INVALID_OPTION` when missing or not a PrometheusExporter. */
  exporter: PrometheusExporter;
  /** Serves `/health` when given; it must have `report()`. */
  health?: HealthMonitor | undefined;
  /** 0 picks a free port; a whole number up to 65535. @default 0 */
  port?: number | undefined;
  /**
   * Loopback by default: metrics say a lot about a trading system. A non-empty string: `''`
   * would listen on every interface. @default '127.0.0.1'
   */
  host?: string | undefined;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  /** Stop listening and end open connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * `GET /metrics`: the Prometheus text exposition. `GET /health`: the health report as JSON,
 * status 200 while it is `ok` or `warning` and 503 when `critical`, so a load balancer or an
 * orchestrator can act on it without parsing. Anything else is 404 (405 for another method).
 */
export async function serveMetrics(options: MetricsServerOptions): Promise<MetricsServer> {
  // Everything is checked before anything listens: from plain JavaScript, a missing exporter or
  // monitor would otherwise listen, then answer every scrape with a 500.
  const o: Partial<MetricsServerOptions> = options ?? {};
  // As the options type says once checked below: plain JavaScript can pass anything.
  const exporter = o.exporter as PrometheusExporter;
  const health = o.health ?? undefined;
  const port = o.port ?? 0;
  const host = o.host ?? '127.0.0.1';
  if (typeof exporter?.metrics !== 'function' || typeof exporter.contentType !== 'string') {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `\`exporter\` must be a PrometheusExporter, not ${quoted(exporter)}`,
    );
  }
  if (health !== undefined && typeof health.report !== 'function') {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `\`health\` must be a HealthMonitor (with report()), not ${quoted(health)}`,
    );
  }
  // listen() reads an empty host, or a number in its place (as the backlog), as every
  // interface: the metrics of a trading system would be open to the network.
  if (typeof host !== 'string' || host === '') {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `\`host\` must be a non-empty string (an address or name of this machine), not ${quoted(host)}`,
    );
  }
  // listen() would throw a RangeError of its own, or read "9464" as a pipe's name.
  if (!isNumberIn(port, 0, 65_535, true)) {
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `\`port\` must be a whole number from 0 to 65535, not ${quoted(port)}`,
    );
  }
  const server = createServer((req, res) => void answer(req, res));

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && !(path === '/health' && health !== undefined)) {
      reply(res, 404, 'text/plain; charset=utf-8', 'not found: /metrics and /health are served\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      reply(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    try {
      if (path === '/metrics') {
        reply(res, 200, exporter.contentType, await exporter.metrics(), req.method === 'HEAD');
      } else {
        const report = health!.report();
        const body = `${JSON.stringify(report)}\n`;
        const status = report.status === 'critical' ? 503 : 200;
        reply(res, status, 'application/json; charset=utf-8', body, req.method === 'HEAD');
      }
    } catch {
      // A source that throws while being read must not take the process down with it.
      reply(res, 500, 'text/plain; charset=utf-8', 'metrics could not be read\n');
    }
  }

  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => {
      const why = err.code ?? err.message;
      const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      reject(
        new MetricsError(MetricsErrorCode.Listen, `cannot listen on ${where} (${why})`, {
          cause: err,
        }),
      );
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      // A later server error (EMFILE on accept, say) must not become an unhandled 'error'.
      server.on('error', () => {});
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const bound = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${bound}:${address.port}`,
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function reply(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headOnly = false,
): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(headOnly ? undefined : body);
}
