import { z } from 'zod';
import type { TelemetryOptions } from '../options.js';
import type { TelemetryOption } from './create.js';
import type { TelemetryMeterProvider, TelemetryTracerProvider } from './types.js';

const withMethod = <T>(what: string, method: string) =>
  z.custom<T>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      typeof (value as Record<string, unknown>)[method] === 'function',
    { message: `must be ${what} (an object with a ${method}() method)` },
  );

const telemetryObjectSchema = z
  .object({
    meterProvider: withMethod<TelemetryMeterProvider>(
      'an OpenTelemetry MeterProvider',
      'getMeter',
    ).optional(),
    tracerProvider: withMethod<TelemetryTracerProvider>(
      'an OpenTelemetry TracerProvider',
      'getTracer',
    ).optional(),
  })
  .strict();

// Not a z.union: a union that fails everywhere reports "Invalid input", and the message must say
// which part of the option is wrong.
/**
 * The zod schema of createAuth's `telemetry` option: `false`, or `{ meterProvider?, tracerProvider? }`.
 *
 * @example
 * ```ts
 * telemetrySchema.parse(false); // false: telemetry off, @opentelemetry/api never loaded
 * ```
 */
export const telemetrySchema = z
  .custom<false | TelemetryOptions>(
    (value) => value === false || (typeof value === 'object' && value !== null),
    { message: 'must be false or { meterProvider?, tracerProvider? }' },
  )
  .transform((value, ctx): TelemetryOption => {
    if (value === false) return false;
    const result = telemetryObjectSchema.safeParse(value);
    if (!result.success) {
      for (const issue of result.error.issues) {
        ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
      }
      return z.NEVER;
    }
    return result.data;
  });
