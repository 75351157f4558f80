import type { Meter, Tracer } from '@opentelemetry/api';
import { AuthError } from '../errors.js';
import type { Logger } from '../runtime.js';
import { loadOpenTelemetryApi, type OtelApi } from './load.js';
import { createOtelTelemetry, SCOPE } from './otel.js';
import { noopTelemetry, type Telemetry } from './telemetry.js';
import type { TelemetryMeterProvider, TelemetryTracerProvider } from './types.js';

/** The validated `telemetry` option of createAuth. */
export type TelemetryOption =
  | false
  | {
      meterProvider?: TelemetryMeterProvider | undefined;
      tracerProvider?: TelemetryTracerProvider | undefined;
    }
  | undefined;

/** The global TracerProvider, or null when none is registered (the proxy's delegate is no-op). */
function globalTracerProvider(api: OtelApi): TelemetryTracerProvider | null {
  const provider = api.trace.getTracerProvider();
  // A fresh proxy's delegate is the API's one no-op TracerProvider.
  const noop = new api.ProxyTracerProvider().getDelegate();
  const actual = provider instanceof api.ProxyTracerProvider ? provider.getDelegate() : provider;
  return actual === noop ? null : provider;
}

function isMeter(value: unknown): value is Meter {
  const meter = value as Partial<Record<keyof Meter, unknown>> | null;
  return (
    typeof meter === 'object' &&
    meter !== null &&
    typeof meter.createCounter === 'function' &&
    typeof meter.createHistogram === 'function' &&
    typeof meter.createObservableGauge === 'function'
  );
}

function isTracer(value: unknown): value is Tracer {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { startSpan?: unknown }).startSpan === 'function'
  );
}

function invalid(option: string, message: string): AuthError {
  return new AuthError(
    'INVALID_CONFIG',
    `Invalid createAuth options: telemetry.${option}: ${message}`,
  );
}

/**
 * The Telemetry of a new instance: the shared no-op when the option is `false` (the API is then
 * not even loaded), when @opentelemetry/api is not installed, or when no provider is given and
 * none is registered globally at this moment; else the OpenTelemetry one. A global provider
 * registered after createAuth is not seen by that instance (register the SDK first).
 */
export function createTelemetry(option: TelemetryOption, logger: Logger): Telemetry {
  if (option === false) return noopTelemetry;
  const { api, version } = loadOpenTelemetryApi();
  if (api === null) {
    if (option?.meterProvider !== undefined || option?.tracerProvider !== undefined) {
      logger.warn(
        'telemetry providers were given but @opentelemetry/api cannot be loaded: telemetry is off (install @opentelemetry/api)',
      );
    }
    return noopTelemetry;
  }
  const noopMeter = api.createNoopMeter();
  // The global provider when none was given; when none is registered either, it is the API's
  // no-op provider, which hands out its one no-op Meter (the one createNoopMeter() returns).
  const meter = (option?.meterProvider ?? api.metrics.getMeterProvider()).getMeter(SCOPE, version);
  if (!isMeter(meter)) {
    throw invalid('meterProvider', 'getMeter() must return an OpenTelemetry Meter');
  }
  const tracerProvider = option?.tracerProvider ?? globalTracerProvider(api);
  if (meter === noopMeter && tracerProvider === null) return noopTelemetry;
  let tracer: Tracer | null = null;
  if (tracerProvider !== null) {
    const made = tracerProvider.getTracer(SCOPE, version);
    if (!isTracer(made)) {
      throw invalid('tracerProvider', 'getTracer() must return an OpenTelemetry Tracer');
    }
    tracer = made;
  }
  return createOtelTelemetry({ api, meter, tracer });
}
