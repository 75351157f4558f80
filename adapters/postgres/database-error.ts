import { AuthError, isAuthError } from '../../src/errors.js';

// Node socket errors and SQLSTATEs that mean the database cannot be reached or is going away:
// class 08 (connection exception), 53300 too_many_connections, 57P01-57P03 shutdown / starting
// up, 57014 query_canceled (statement_timeout under load).
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
  '53300',
  '57P01',
  '57P02',
  '57P03',
  '57014',
]);

// Errors pg and PGlite raise without a code when a connection is lost or cannot be made.
const UNAVAILABLE_MESSAGE =
  /connection terminated|timeout exceeded when trying to connect|query read timeout|not queryable|connection error|connection is closed|pglite is closed|terminating connection/i;

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Whether a driver error means the database is unreachable (503) rather than a failed query:
 * connection refused, reset or timed out, SQLSTATE class 08, `57P01`–`57P03`, `53300`, `57014`,
 * also when wrapped in `cause` or an `AggregateError`.
 *
 * @example
 * ```ts
 * import { isUnavailable } from 'gatehouse/postgres';
 *
 * pool.query('SELECT 1').catch((err) => {
 *   if (isUnavailable(err)) res.status(503).set('Retry-After', '5').end();
 * });
 * ```
 */
export function isUnavailable(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 3) return false;
  const code = errorCode(err);
  if (code !== undefined && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  const message = (err as { message?: unknown }).message;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  // Node's happy-eyeballs connect reports an AggregateError of one error per address.
  const nested = (err as { errors?: unknown }).errors;
  if (Array.isArray(nested) && nested.some((e) => isUnavailable(e, depth + 1))) return true;
  return isUnavailable((err as { cause?: unknown }).cause, depth + 1);
}

/** SQLSTATEs caused by the values a caller passed in (too long, NUL byte, failed CHECK). */
const INVALID_INPUT_CODES = new Set(['22001', '22021', '22P05', '23514']);

/** Whether a driver error was caused by an input value the database refused. */
export function isInvalidInput(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && INVALID_INPUT_CODES.has(code);
}

/** Whether a driver error is a unique violation (SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  return errorCode(err) === '23505';
}

// SQLSTATEs of a schema that is missing or older than this code: 42P01 undefined_table,
// 3F000 invalid_schema_name, 42703 undefined_column.
const SCHEMA_HINTS: Record<string, string> = {
  '42P01':
    'a table gatehouse needs does not exist: run migrate() (gatehouse/postgres) with the same schema and tablePrefix as the stores',
  '3F000':
    'the schema gatehouse was given does not exist: run migrate() (gatehouse/postgres) with the same schema option as the stores',
  '42703':
    'a column gatehouse needs does not exist, so the database schema is older than this gatehouse: run migrate()',
};

/**
 * What to do about a driver error caused by a missing or outdated schema ("run migrate()"), or
 * undefined for any other error; looks through `cause`.
 */
export function schemaHintOf(err: unknown, depth = 0): string | undefined {
  if (typeof err !== 'object' || err === null || depth > 3) return undefined;
  const code = errorCode(err);
  if (code !== undefined && code in SCHEMA_HINTS) return SCHEMA_HINTS[code];
  return schemaHintOf((err as { cause?: unknown }).cause, depth + 1);
}

/**
 * Turns any error from the database into an `AuthError('SERVER_ERROR')` with the registry's
 * generic message: status 503 when the database is unavailable, 500 otherwise. The driver
 * error is kept as `cause` for logs and never reaches a response body; a missing table or an
 * outdated schema adds `details.hint` ("run migrate()"), which the failure log writes out. An
 * `AuthError` passes through unchanged.
 *
 * @example
 * ```ts
 * try {
 *   await pool.query('SELECT 1');
 * } catch (err) {
 *   throw toServerError(err); // AuthError SERVER_ERROR, status 503 if the server is down
 * }
 * ```
 */
export function toServerError(err: unknown): AuthError {
  if (isAuthError(err)) return err;
  const hint = schemaHintOf(err);
  return new AuthError('SERVER_ERROR', undefined, {
    cause: err,
    ...(isUnavailable(err) ? { status: 503 } : {}),
    ...(hint !== undefined ? { details: { hint } } : {}),
  });
}
