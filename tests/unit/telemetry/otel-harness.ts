// A real OpenTelemetry SDK in memory for the telemetry tests: a MeterProvider whose reader the
// test collects from, a BasicTracerProvider exporting to an InMemorySpanExporter, and an
// AsyncLocalStorage context manager (what the Node SDK registers) so that spans nest.
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type Attributes,
  type Context,
  type ContextManager,
  context,
  ROOT_CONTEXT,
} from '@opentelemetry/api';
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  type MetricData,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** The context manager of @opentelemetry/context-async-hooks, in a few lines. */
export class AsyncLocalStorageContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(ctx, () => fn.call(thisArg, ...args));
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const run = (...args: unknown[]) =>
      this.with(ctx, () => (target as (...a: unknown[]) => unknown)(...args));
    return run as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.#storage.disable();
    return this;
  }
}

let contextManagerSet = false;
/** Registers the context manager once per test process (the global API allows one). */
export function useAsyncContext(): void {
  if (contextManagerSet) return;
  contextManagerSet = context.setGlobalContextManager(new AsyncLocalStorageContextManager());
}

/** A reader the test collects from on demand (no timers). */
class CollectingReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** One recorded point of a metric: its attributes and value (a histogram's value is its count). */
export interface Point {
  attributes: Attributes;
  value: number;
  sum?: number;
}

export interface OtelHarness {
  meterProvider: MeterProvider;
  tracerProvider: BasicTracerProvider;
  /** Every metric collected now, by name. */
  metrics(): Promise<Map<string, MetricData>>;
  /** The points of one metric now (empty when it recorded nothing). */
  points(name: string): Promise<Point[]>;
  /** The value of the point of `name` whose attributes are exactly `attributes` (0 when none). */
  value(name: string, attributes?: Attributes): Promise<number>;
  /** The spans ended so far. */
  spans(): ReadableSpan[];
  /** The scope (name, version) of the metrics collected now. */
  scopes(): Promise<{ name: string; version?: string | undefined }[]>;
}

function sameAttributes(a: Attributes, b: Attributes): boolean {
  const ak = Object.keys(a).sort();
  const bk = Object.keys(b).sort();
  return ak.length === bk.length && ak.every((k, i) => k === bk[i] && a[k] === b[k]);
}

export function otelHarness(): OtelHarness {
  useAsyncContext();
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  async function collect() {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
    return resourceMetrics;
  }
  async function metrics(): Promise<Map<string, MetricData>> {
    const byName = new Map<string, MetricData>();
    for (const scope of (await collect()).scopeMetrics) {
      for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
    }
    return byName;
  }
  async function points(name: string): Promise<Point[]> {
    const metric = (await metrics()).get(name);
    if (!metric) return [];
    return (metric.dataPoints as DataPoint<number | Histogram>[]).map((point) =>
      typeof point.value === 'number'
        ? { attributes: point.attributes, value: point.value }
        : { attributes: point.attributes, value: point.value.count, sum: point.value.sum },
    );
  }
  return {
    meterProvider,
    tracerProvider,
    metrics,
    points,
    async value(name, attributes = {}) {
      const point = (await points(name)).find((p) => sameAttributes(p.attributes, attributes));
      return point?.value ?? 0;
    },
    spans: () => exporter.getFinishedSpans(),
    async scopes() {
      return (await collect()).scopeMetrics.map((s) => ({
        name: s.scope.name,
        version: s.scope.version,
      }));
    },
  };
}
