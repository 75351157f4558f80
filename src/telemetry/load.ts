import { createRequire } from 'node:module';
import type * as OpenTelemetryApi from '@opentelemetry/api';

/** The module `@opentelemetry/api` (its types are erased: nothing is imported at run time). */
export type OtelApi = typeof OpenTelemetryApi;

interface Loaded {
  readonly api: OtelApi | null;
  readonly version: string | undefined;
}

let loaded: Loaded | undefined;
let loads = 0;

/**
 * `@opentelemetry/api`, required synchronously on the first call and remembered for the process;
 * null when it is not installed (telemetry is then off, without an error). Never called when the
 * `telemetry` option is `false`.
 */
export function loadOpenTelemetryApi(): Loaded {
  if (loaded !== undefined) return loaded;
  loads += 1;
  const require = createRequire(import.meta.url);
  let api: OtelApi | null = null;
  try {
    api = require('@opentelemetry/api') as OtelApi;
  } catch {
    api = null;
  }
  let version: string | undefined;
  if (api !== null) {
    try {
      // The package's own package.json, by self-reference (it is in `exports`).
      version = (require('gatehouse/package.json') as { version?: unknown }).version as string;
    } catch {
      version = undefined;
    }
  }
  loaded = { api, version: typeof version === 'string' ? version : undefined };
  return loaded;
}

/** How many times the API was looked for in this process (0 or 1); for tests. */
export function openTelemetryApiLoads(): number {
  return loads;
}
