// The few OpenTelemetry shapes gatehouse's public options name, declared structurally so that the
// published types never require @opentelemetry/api (an optional peer dependency). A MeterProvider
// or TracerProvider of @opentelemetry/api (the SDK's, or the global one) fits them.

/**
 * Where gatehouse gets its Meter: any OpenTelemetry `MeterProvider` (`@opentelemetry/api`), such
 * as the SDK's `new MeterProvider({ readers })` from `@opentelemetry/sdk-metrics`.
 *
 * @example
 * ```ts
 * import { MeterProvider } from '@opentelemetry/sdk-metrics';
 * const meterProvider: TelemetryMeterProvider = new MeterProvider({ readers: [reader] });
 * createAuth({ telemetry: { meterProvider } });
 * ```
 */
export interface TelemetryMeterProvider {
  /** Returns the Meter of an instrumentation scope (gatehouse asks for `gatehouse`, its version). */
  getMeter(name: string, version?: string): object;
}

/**
 * Where gatehouse gets its Tracer: any OpenTelemetry `TracerProvider` (`@opentelemetry/api`),
 * such as the SDK's `BasicTracerProvider` or `NodeTracerProvider`.
 *
 * @example
 * ```ts
 * import { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
 * const tracerProvider: TelemetryTracerProvider = new BasicTracerProvider({
 *   spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())],
 * });
 * createAuth({ telemetry: { tracerProvider } });
 * ```
 */
export interface TelemetryTracerProvider {
  /** Returns the Tracer of an instrumentation scope (gatehouse asks for `gatehouse`, its version). */
  getTracer(name: string, version?: string): object;
}
