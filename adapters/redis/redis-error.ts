import { AuthError, isAuthError } from '../../src/errors.js';

// Socket errors of a server that cannot be reached or went away.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

// The errors ioredis and node-redis raise about their connection, by class name.
const UNAVAILABLE_NAMES = new Set([
  'MaxRetriesPerRequestError',
  'ClusterAllFailedError',
  'ClientClosedError',
  'ClientOfflineError',
  'SocketClosedUnexpectedlyError',
  'ConnectionTimeoutError',
  'SocketTimeoutError',
  'ReconnectStrategyError',
]);

// Their messages when raised as a plain Error, and the server's replies meaning "not now"
// (loading, busy, failing over, out of memory, unable to persist).
const UNAVAILABLE_MESSAGE =
  /connection is closed|stream isn't writeable|enableOfflineQueue|max retries per request|client is (closed|offline)|socket closed unexpectedly|failed to refresh slots cache|none of startup nodes|cluster isn't ready|^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY|OOM|NOREPLICAS|MISCONF)\b/i;

/** A command that got no answer within `commandTimeoutMs`. */
export class RedisTimeoutError extends Error {
  override readonly name = 'RedisTimeoutError';
  readonly code = 'ETIMEDOUT';
  constructor(timeoutMs: number) {
    super(`Redis did not answer within ${timeoutMs} ms`);
  }
}

/** Whether an error means Redis cannot be reached or cannot serve now (503), not a bug (500). */
export function isRedisUnavailable(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 3) return false;
  if (err instanceof RedisTimeoutError) return true;
  const { code, name, message, errors, cause } = err as Record<string, unknown>;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  if (typeof name === 'string' && UNAVAILABLE_NAMES.has(name)) return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  if (Array.isArray(errors) && errors.some((e) => isRedisUnavailable(e, depth + 1))) return true;
  return isRedisUnavailable(cause, depth + 1);
}

/** Whether Redis answered that it does not hold the script (flushed, restarted, failed over). */
export function isNoScript(err: unknown): boolean {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message.startsWith('NOSCRIPT');
}

/**
 * Any failure of a Redis command as `AuthError('SERVER_ERROR')` with the registry's generic
 * message: 503 when Redis is unavailable, 500 otherwise. Its `cause` names Redis and keeps the
 * driver's error (for logs; never in a response body).
 */
export function toRedisServerError(err: unknown): AuthError {
  if (isAuthError(err)) return err;
  const unavailable = isRedisUnavailable(err);
  const text = err instanceof Error ? err.message : String(err);
  const cause = new Error(
    `${unavailable ? 'Redis unavailable' : 'Redis command failed'}: ${text}`,
    { cause: err },
  );
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') Object.assign(cause, { code });
  return new AuthError('SERVER_ERROR', undefined, {
    cause,
    ...(unavailable ? { status: 503 } : {}),
  });
}
