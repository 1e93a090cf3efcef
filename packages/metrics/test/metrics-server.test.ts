import { ErrorCode, UnifeedError } from '@unifeed/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HealthMonitor,
  MetricsError,
  MetricsErrorCode,
  MetricSources,
  PrometheusExporter,
  serveMetrics,
  type HealthReport,
  type MetricsServer,
  type MetricsServerOptions,
} from '../src/index.js';
import { poolStats, source } from './fakes.js';
import { http } from './http.js';

let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start() {
  const sources = new MetricSources();
  const pool = source(poolStats());
  sources.addPool(pool, 'usdm');
  const health = new HealthMonitor(sources);
  server = await serveMetrics({ exporter: new PrometheusExporter(sources), health });
  return { pool, health, url: server.url };
}

describe('serveMetrics', () => {
  it('serves /metrics as Prometheus text and /health as JSON, on loopback', async () => {
    const { url } = await start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const metrics = await http(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.body).toContain('unifeed_pool_streams{pool="usdm",venue="binance-usdm"} 200');
    const health = await http(`${url}/health`);
    expect(health.status).toBe(200);
    expect(health.type).toMatch(/^application\/json/);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', anomalies: [] });
  });

  it('/health answers 200 with warnings and 503 while critical', async () => {
    const { pool, url } = await start();
    expect((await http(`${url}/health`)).status).toBe(200);
    pool.current = poolStats({ reconnects: 1 });
    const warning = await http(`${url}/health`);
    expect(warning.status).toBe(200);
    expect((JSON.parse(warning.body) as HealthReport).status).toBe('warning');
    pool.current = poolStats({ queue: { depth: 0, maxDepth: 500, dropped: 7, conflated: 0 } });
    const critical = await http(`${url}/health`);
    expect(critical.status).toBe(503);
    expect(JSON.parse(critical.body)).toMatchObject({
      status: 'critical',
      anomalies: [{ check: 'queue-drops', value: 7 }],
    });
  });

  it('HEAD has no body; other paths are 404, other methods 405; without a monitor no /health', async () => {
    const { url } = await start();
    const head = await http(`${url}/metrics`, 'HEAD');
    expect([head.status, head.body]).toEqual([200, '']);
    expect((await http(`${url}/nope`)).status).toBe(404);
    expect((await http(`${url}/metrics`, 'POST')).status).toBe(405);
    await server!.close();
    server = await serveMetrics({ exporter: new PrometheusExporter(new MetricSources()) });
    expect((await http(`${server.url}/health`)).status).toBe(404);
    await server.close();
    await server.close(); // idempotent
  });

  it('a port in use is UNIFEED_METRICS_LISTEN naming host and port; a port that is none is refused first', async () => {
    await start();
    const port = server!.port;
    const exporter = new PrometheusExporter(new MetricSources());
    const taken = await serveMetrics({ exporter, port }).catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(MetricsError);
    expect(taken).toMatchObject({
      code: MetricsErrorCode.Listen,
      message: `cannot listen on 127.0.0.1:${port} (EADDRINUSE)`,
      cause: expect.objectContaining({ code: 'EADDRINUSE' }) as unknown,
    });
    for (const bad of [-1, 65_536, 1.5, Number.NaN, '9464' as unknown as number]) {
      await expect(serveMetrics({ exporter, port: bad })).rejects.toMatchObject({
        code: 'UNIFEED_INVALID_OPTION',
      });
    }
  });

  it('refuses a missing exporter, a monitor without report() or a host that is none before listening', async () => {
    // From plain JavaScript anything arrives. What it refuses it never listened for: a server
    // started by mistake is closed here, so that the test fails without leaving it open.
    const refusal = (options: unknown) =>
      serveMetrics(options as MetricsServerOptions).then(
        async (s) => {
          await s.close();
          return `listened on ${s.url}`;
        },
        (e: unknown) => e,
      );
    const exporter = new PrometheusExporter(new MetricSources());
    const bad: [unknown, string][] = [
      // Listened, then answered every /metrics with a 500.
      [{}, '`exporter` must be a PrometheusExporter, not "undefined"'],
      [undefined, '`exporter` must be a PrometheusExporter, not "undefined"'],
      [{ exporter: new MetricSources() }, '`exporter` must be a PrometheusExporter'],
      // Listened, then answered every /health with a 500.
      [{ exporter, health: {} }, '`health` must be a HealthMonitor (with report()), not'],
      [{ exporter, health: new MetricSources() }, '`health` must be a HealthMonitor'],
      // Listened on every interface: '' is none in particular, a number became the backlog.
      [{ exporter, host: '' }, '`host` must be a non-empty string'],
      [{ exporter, host: 9464 }, '`host` must be a non-empty string'],
      [{ exporter, host: ['127.0.0.1'] }, '`host` must be a non-empty string'],
    ];
    for (const [options, message] of bad) {
      const err = await refusal(options);
      expect(err, message).toBeInstanceOf(UnifeedError);
      expect(err).toMatchObject({ code: ErrorCode.InvalidOption });
      expect((err as Error).message).toContain(message);
    }
    // null is left out, as undefined is: loopback, and no /health.
    server = await serveMetrics({
      exporter,
      host: null as unknown as string,
      health: null as unknown as HealthMonitor,
    });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await http(`${server.url}/health`)).status).toBe(404);
    expect((await http(`${server.url}/metrics`)).status).toBe(200);
  });
});
