// The OpenTelemetry SDK of a benchmark server with telemetry on (BENCH_TELEMETRY=1): a
// MeterProvider and a TracerProvider registered as the global providers, as an application does
// before it calls createAuth. Every instrument records and aggregates and every span is created,
// sampled and handed to a batch processor; nothing leaves the process, so the figure is the cost
// of recording, not of a network exporter.
import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

/** A reader that is never collected: the SDK aggregates into its storage, nothing is exported. */
class NoExportReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** An exporter that drops every batch (success, so the processor never retries). */
class DiscardingSpanExporter implements SpanExporter {
  spans = 0;
  // `{ code: 0 }` is ExportResultCode.SUCCESS of @opentelemetry/core.
  export(spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    this.spans += spans.length;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

/** The SDK's providers, recording everything and exporting nothing. */
export function benchTelemetryProviders(): {
  meterProvider: MeterProvider;
  tracerProvider: BasicTracerProvider;
} {
  return {
    meterProvider: new MeterProvider({ readers: [new NoExportReader()] }),
    tracerProvider: new BasicTracerProvider({
      spanProcessors: [new BatchSpanProcessor(new DiscardingSpanExporter())],
    }),
  };
}

/** Registers the SDK's providers globally; returns how to flush and shut them down. */
export function registerBenchTelemetry(): { shutdown(): Promise<void> } {
  const { meterProvider, tracerProvider } = benchTelemetryProviders();
  if (!metrics.setGlobalMeterProvider(meterProvider)) {
    throw new Error('bench server: a global MeterProvider was already registered');
  }
  if (!trace.setGlobalTracerProvider(tracerProvider)) {
    throw new Error('bench server: a global TracerProvider was already registered');
  }
  return {
    async shutdown() {
      await Promise.all([meterProvider.shutdown(), tracerProvider.shutdown()]);
    },
  };
}
