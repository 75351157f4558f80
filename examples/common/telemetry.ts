// METRICS=1: an OpenTelemetry MeterProvider with a Prometheus exporter, registered as the global
// provider before gatehouse is created (gatehouse's telemetry records into the global provider by
// default), plus the app's own instruments: the HTTP server duration and the pg pool's use.
//
// The scrape is served by the app itself at /metrics (the exporter's `collect()` and its
// serializer, through each framework's normal response path), not by the exporter's own HTTP
// server on another port: one port to run, and the route goes through the app's error handling.
// The SDK is loaded only with METRICS=1 (a dynamic import): without it nothing of it is loaded.
import type { Attributes, Histogram, MeterProvider } from '@opentelemetry/api';
import type { JsonLogger } from './logger.js';

/**
 * The bucket boundaries of `http.server.request.duration` (seconds), as the OpenTelemetry HTTP
 * semantic conventions advise: 1 s is a boundary, so "p95 over 1 s" is exact.
 */
export const HTTP_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** The Content-Type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Health, readiness and the scrape: not logged, not in the request metrics. */
export const OPERATIONS_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

/** What a pg.Pool reports of its connections. */
export interface PoolUsage {
  /** Open connections, idle and in use. */
  total: number;
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
  /** The most connections the pool opens. */
  max: number;
}

/** The metrics of an example app (METRICS=1). */
export interface ExampleMetrics {
  meterProvider: MeterProvider;
  /**
   * Records one answered request in `http.server.request.duration`. `route` is the route's
   * template (`/api/users/:id`), never the raw path; undefined when no route matched (404s and
   * static files), so the label set stays small whatever clients send.
   */
  recordRequest(method: string, route: string | undefined, status: number, seconds: number): void;
  /** `db.client.connection.*` of the pool, read at each scrape. */
  observePool(read: () => PoolUsage): void;
  /** The Prometheus text of every metric, collected now. */
  scrape(): Promise<string>;
  shutdown(): Promise<void>;
}

/** The pool's name in `db.client.connection.pool.name`. */
export const POOL_NAME = 'gatehouse-example';

/**
 * Creates the MeterProvider with a Prometheus reader and registers it as the global provider of
 * @opentelemetry/api (call it before `createAuth`).
 */
export async function startExampleMetrics(logger: JsonLogger): Promise<ExampleMetrics> {
  const api = await import('@opentelemetry/api');
  const { MeterProvider } = await import('@opentelemetry/sdk-metrics');
  const { PrometheusExporter, PrometheusSerializer } = await import(
    '@opentelemetry/exporter-prometheus'
  );
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const serializer = new PrometheusSerializer();
  const provider = new MeterProvider({ readers: [exporter] });
  const registered = api.metrics.setGlobalMeterProvider(provider);
  if (!registered) {
    // Another provider was registered first (a second app in one process): gatehouse would
    // record into that one, and this scrape would miss its metrics.
    logger.warn('metrics: a global MeterProvider was already registered; keeping it');
  }
  const meter = provider.getMeter('gatehouse-example');

  const duration: Histogram = meter.createHistogram('http.server.request.duration', {
    description: 'Duration of HTTP server requests.',
    unit: 's',
    advice: { explicitBucketBoundaries: [...HTTP_DURATION_BUCKETS] },
  });

  let collectionErrorLogged = false;
  return {
    meterProvider: provider,
    recordRequest(method, route, status, seconds) {
      const attributes: Attributes = {
        'http.request.method': KNOWN_METHODS.has(method) ? method : '_OTHER',
        'http.response.status_code': status,
        'url.scheme': 'http',
      };
      if (route !== undefined) attributes['http.route'] = route;
      if (status >= 500) attributes['error.type'] = String(status);
      duration.record(seconds, attributes);
    },
    observePool(read) {
      const count = meter.createObservableUpDownCounter('db.client.connection.count', {
        description: 'Connections of the database pool, by state (idle or used).',
        unit: '{connection}',
      });
      const max = meter.createObservableUpDownCounter('db.client.connection.max', {
        description: 'The most connections the database pool opens.',
        unit: '{connection}',
      });
      const pending = meter.createObservableUpDownCounter('db.client.connection.pending_requests', {
        description: 'Queries waiting for a connection of the database pool.',
        unit: '{request}',
      });
      const pool = { 'db.client.connection.pool.name': POOL_NAME };
      const idle = { ...pool, 'db.client.connection.state': 'idle' };
      const used = { ...pool, 'db.client.connection.state': 'used' };
      meter.addBatchObservableCallback(
        (result) => {
          const usage = read();
          result.observe(count, usage.idle, idle);
          result.observe(count, usage.total - usage.idle, used);
          result.observe(max, usage.max, pool);
          result.observe(pending, usage.waiting, pool);
        },
        [count, max, pending],
      );
    },
    async scrape() {
      const { resourceMetrics, errors } = await exporter.collect();
      if (errors.length > 0 && !collectionErrorLogged) {
        // A callback that throws (a gauge whose store is down) leaves only its own metric out.
        collectionErrorLogged = true;
        logger.warn('metrics: collection errors (logged once)', {
          errors: errors.map((e) => String((e as Error)?.message ?? e)),
        });
      }
      return serializer.serialize(resourceMetrics);
    },
    async shutdown() {
      if (registered) api.metrics.disable();
      await provider.shutdown();
    },
  };
}
