/**
 * @unifeed/metrics: Prometheus metrics and a health report for unifeed pools, order books,
 * account feeds, REST clients and feeds. Optional, so that @unifeed/core stays free of a
 * metrics library.
 *
 * ```ts
 * const sources = new MetricSources();
 * sources.addPool(pool, 'usdm');
 * sources.addBooks(() => bookStats(pool), 'usdm');
 * const health = new HealthMonitor(sources);
 * health.start();
 * const server = await serveMetrics({ exporter: new PrometheusExporter(sources), health, port: 9464 });
 * ```
 */
export {
  MetricSources,
  type AccountStatsInput,
  type BookStatsInput,
  type Named,
  type SourceKind,
  type SourcesSnapshot,
  type StatsOf,
} from './sources.js';
export { PrometheusExporter, type PrometheusExporterOptions } from './prometheus-exporter.js';
export {
  HealthMonitor,
  DEFAULT_HEALTH_THRESHOLDS,
  type Anomaly,
  type HealthCheck,
  type HealthMonitorOptions,
  type HealthReport,
  type HealthStatus,
  type HealthThresholds,
  type Severity,
} from './health-monitor.js';
export { serveMetrics, type MetricsServer, type MetricsServerOptions } from './metrics-server.js';
export { MetricsError, MetricsErrorCode } from './errors.js';
