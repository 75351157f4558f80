import { randomBytes } from 'node:crypto';

/**
 * A source of the current time in milliseconds since the epoch. Inject one to test expiry and
 * lockout without sleeping.
 *
 * @example
 * ```ts
 * let now = Date.parse('2025-06-01T12:00:00Z');
 * const clock: Clock = { now: () => now };
 * const auth = createAuth({ clock });
 * now += 16 * 60_000; // the access tokens issued above have expired
 * ```
 */
export interface Clock {
  now(): number;
}

/**
 * A source of cryptographically secure random bytes (token ids, refresh tokens, session ids).
 * The default uses `crypto.randomBytes`; inject another only for deterministic tests.
 *
 * @example
 * ```ts
 * import { randomBytes } from 'node:crypto';
 * const random: RandomSource = { bytes: (length) => randomBytes(length) };
 * createAuth({ random });
 * ```
 */
export interface RandomSource {
  bytes(length: number): Uint8Array;
}

/**
 * A minimal structured logger; gatehouse never passes it a password, hash or token. Without
 * one, gatehouse writes its warnings and errors to stderr as one JSON line each (see
 * `logger` in docs/configuration.md); `createAuth({ logger: false })` silences it.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const log = pino();
 * const logger: Logger = {
 *   debug: (msg, data) => log.debug(data, msg),
 *   info: (msg, data) => log.info(data, msg),
 *   warn: (msg, data) => log.warn(data, msg),
 *   error: (msg, data) => log.error(data, msg),
 * };
 * createAuth({ logger });
 * ```
 */
export interface Logger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

export const systemClock: Clock = { now: () => Date.now() };

export const cryptoRandom: RandomSource = { bytes: (length) => randomBytes(length) };

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Keys whose values never reach a line of the default logger, wherever they appear. */
const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|private|credential|api_?key/i;
/** Secrets that can hide inside a text (an error message): a JWT, a URL's password. */
const JWT = /\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi;
const MAX_DEPTH = 5;

function scrubText(text: string): string {
  return text.replace(JWT, '[redacted]').replace(URL_PASSWORD, '$1[redacted]@');
}

/** A JSON-safe copy of `value`: secrets redacted, Errors spelled out, cycles and bigints cut. */
function scrubValue(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) {
    return typeof value === 'function' || typeof value === 'symbol' ? String(value) : value;
  }
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Object]';
  seen.add(value);
  if (value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, seen, depth + 1));
  const entries =
    value instanceof Error
      ? Object.entries({
          error: `${value.name}: ${value.message}`,
          ...((value as { code?: unknown }).code !== undefined
            ? { code: (value as { code?: unknown }).code }
            : {}),
          stack: value.stack,
          ...(value.cause !== undefined ? { cause: value.cause } : {}),
        })
      : Object.entries(value);
  const out: Record<string, unknown> = {};
  for (const [key, v] of entries) {
    out[key] = SECRET_KEY.test(key) ? '[redacted]' : scrubValue(v, seen, depth + 1);
  }
  return out;
}

/** One JSON line `{ time, level, msg, ...data }` (with a newline), secrets redacted. */
export function jsonLogLine(
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  data: Record<string, unknown> | undefined,
  now: number,
): string {
  const fields = scrubValue(data ?? {}, new WeakSet(), 0) as Record<string, unknown>;
  return `${JSON.stringify({ time: new Date(now).toISOString(), level, msg: scrubText(message), ...fields })}\n`;
}

/**
 * The logger gatehouse uses when none is given: warnings and errors go to `process.stderr` as one
 * JSON line each (`{ time, level, msg, ...data }`), with values under secret-sounding keys, JWTs
 * and URL passwords redacted; info and debug are dropped. So an unexpected error (a 500) is never
 * silent. A failing write is ignored: logging never breaks a request.
 */
export const stderrLogger: Logger = {
  debug() {},
  info() {},
  warn(message, data) {
    writeStderr('warn', message, data);
  },
  error(message, data) {
    writeStderr('error', message, data);
  },
};

function writeStderr(
  level: 'warn' | 'error',
  message: string,
  data: Record<string, unknown> | undefined,
): void {
  try {
    process.stderr.write(jsonLogLine(level, message, data, Date.now()));
  } catch {
    // A value that cannot be serialised or a broken stderr: logging never breaks a request.
  }
}
