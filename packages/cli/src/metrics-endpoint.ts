import {
  HealthMonitor,
  MetricSources,
  PrometheusExporter,
  serveMetrics,
  type MetricsServer,
} from '@unifeed/metrics';
import type { Io } from './io.js';

/** `--metrics-port` and `--metrics-host` of every streaming command. */
export interface MetricsOptions {
  /** Serve `/metrics` and `/health` on this port (0: any free one); undefined serves nothing. */
  metricsPort?: number | undefined;
  metricsHost: string;
}

/**
 * What a command is watched by: the sources it registers, the health monitor that judges
 * them (sampling once a second), and the `/metrics` + `/health` endpoint when asked for.
 */
export class CommandMetrics {
  readonly sources = new MetricSources();
  readonly health = new HealthMonitor(this.sources);
  #server: MetricsServer | undefined;

  /**
   * Serve when `--metrics-port` was given (the URLs go to stderr) and sample for it. Call it
   * before creating what it watches: if the port is taken it throws and leaves nothing running.
   * Sources can be added at any time.
   */
  async start(o: MetricsOptions, io: Io): Promise<void> {
    if (o.metricsPort !== undefined) {
      this.#server = await serveMetrics({
        exporter: new PrometheusExporter(this.sources),
        health: this.health,
        port: o.metricsPort,
        host: o.metricsHost,
      });
      io.err(`metrics ${this.#server.url}/metrics  health ${this.#server.url}/health\n`);
      // Sampled every second for /health; without the endpoint nobody asks (the demo's
      // dashboard reports once a second, which samples by itself).
      this.health.start();
    }
  }

  async stop(): Promise<void> {
    this.health.stop();
    await this.#server?.close();
  }
}
