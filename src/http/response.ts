import { AuthError, isAuthError } from '../errors.js';
import { type Clock, type Logger, silentLogger } from '../runtime.js';
import {
  describeCause,
  OutageLog,
  type OutageLogOptions,
  type ResolvedOutageLogOptions,
  resolveOutageLogOptions,
} from './outage-log.js';

/**
 * A response as the framework-neutral http layer produces it. An adapter writes `status`, every
 * header (a `string[]` value means one header line per entry, as for `Set-Cookie`) and `body`
 * (already serialised JSON) unchanged.
 *
 * @example
 * ```ts
 * const { status, headers, body }: HttpResponse = await route.handle(request);
 * res.writeHead(status, headers).end(body);
 * ```
 */
export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
}

/**
 * The JSON error body of the HTTP contract.
 *
 * @example
 * ```ts
 * const body: ErrorBody = { success: false, error: 'Not found.', code: 'NOT_FOUND' };
 * ```
 */
export interface ErrorBody {
  success: false;
  error: string;
  code: string;
}

const NO_STORE = 'no-store';

/**
 * A JSON response with `Content-Type: application/json; charset=utf-8`, `Content-Length` and
 * `Cache-Control: no-store` unless `headers` gives another `cache-control`.
 *
 * @example
 * ```ts
 * jsonResponse(201, { success: true, user });
 * ```
 */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): HttpResponse {
  const text = JSON.stringify(body);
  return {
    status,
    headers: {
      'cache-control': NO_STORE,
      ...headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
    },
    body: text,
  };
}

/**
 * The `WWW-Authenticate` value of an error (RFC 6750), or undefined when it needs none: every 401
 * gets `Bearer`, with `error="invalid_token"` for a bad or expired token; a malformed
 * `Authorization` header (400) gets `error="invalid_request"`.
 *
 * @example
 * ```ts
 * wwwAuthenticateOf(new AuthError('TOKEN_INVALID')); // 'Bearer error="invalid_token"'
 * ```
 */
export function wwwAuthenticateOf(err: AuthError): string | undefined {
  if (err.code === 'TOKEN_INVALID') return 'Bearer error="invalid_token"';
  if (err.code === 'TOKEN_EXPIRED') {
    return 'Bearer error="invalid_token", error_description="The access token expired"';
  }
  if (err.status === 401) return 'Bearer';
  if (err.code === 'VALIDATION_ERROR' && err.details?.['field'] === 'authorization') {
    return 'Bearer error="invalid_request"';
  }
  return undefined;
}

/** Maps a framework's own HTTP error (body parser, router) to a registry error; null if none. */
function fromFrameworkError(err: unknown): AuthError | null {
  if (typeof err !== 'object' || err === null) return null;
  const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  if (typeof code !== 'number' || code < 400 || code > 499) return null;
  if (code === 413) return new AuthError('PAYLOAD_TOO_LARGE');
  if (code === 415) return new AuthError('UNSUPPORTED_MEDIA_TYPE');
  if (code === 404) return new AuthError('NOT_FOUND');
  return new AuthError('VALIDATION_ERROR');
}

/**
 * Where {@link errorResponse} logs the requests that failed with a server error: every 500 at
 * once with its stack (each is a bug to look at), and 503s (a store or database unavailable)
 * without a storm: the first with its cause, then at most one summary line per interval with
 * the count, and one line after an interval without any. Build one with
 * {@link createRequestFailureLog}.
 *
 * @example
 * ```ts
 * const failures: RequestFailureLog = createRequestFailureLog({ logger });
 * const { status, headers, body } = errorResponse(err, failures);
 * ```
 */
export interface RequestFailureLog {
  /**
   * Logs one request that failed with `status` (500 or above) because of `err`; `requestId`, the
   * request's id when known, goes into the line of that request.
   */
  failed(err: unknown, status: number, requestId?: string): void;
}

const REQUEST_OUTAGE_MESSAGES = {
  unavailable: 'requests failing: service unavailable (503)',
  stillUnavailable: 'requests still failing: service unavailable (503)',
  back: 'requests no longer failing with 503',
};

function requestFailureLog(options: ResolvedOutageLogOptions): RequestFailureLog {
  const unavailable = new OutageLog(options, REQUEST_OUTAGE_MESSAGES, 'quiet');
  return {
    failed(err, status, requestId) {
      const request = requestId === undefined ? undefined : { requestId };
      if (status === 503) unavailable.failed(err, request);
      else options.logger.error('request failed', { ...request, ...describe(err) });
    },
  };
}

/**
 * A {@link RequestFailureLog} writing to `options.logger`: 500s each with a stack, 503s through
 * a throttle (first one with its cause, at most one summary per `intervalMs`, one line once an
 * interval passed without a 503). Options are validated; a bad one is INVALID_CONFIG naming it.
 *
 * @example
 * ```ts
 * import { createRequestFailureLog, errorResponse } from 'gatehouse/http';
 *
 * const failures = createRequestFailureLog({ logger, intervalMs: 30_000 });
 * app.use((err, req, res, next) => {
 *   const { status, headers, body } = errorResponse(err, failures);
 *   res.writeHead(status, headers).end(body);
 * });
 * ```
 */
export function createRequestFailureLog(options: OutageLogOptions): RequestFailureLog {
  return requestFailureLog(resolveOutageLogOptions(options, 'createRequestFailureLog'));
}

// One throttle per logger, so every gatehouse instance and adapter writing to the same logger
// shares it (two instances must not each write their own storm).
const failureLogs = new WeakMap<Logger, RequestFailureLog>();
const SILENT: RequestFailureLog = { failed() {} };

/** The shared {@link RequestFailureLog} of `logger`, made with `clock` the first time. */
export function requestFailureLogOf(logger: Logger, clock?: Clock): RequestFailureLog {
  if (logger === silentLogger) return SILENT;
  let log = failureLogs.get(logger);
  if (log === undefined) {
    // Not validated: this runs inside error handling and must not throw.
    log = requestFailureLog({
      ...resolveOutageLogOptions({ logger: silentLogger }, 'errorResponse'),
      logger,
      ...(clock ? { clock } : {}),
    });
    failureLogs.set(logger, log);
  }
  return log;
}

function isRequestFailureLog(log: Logger | RequestFailureLog): log is RequestFailureLog {
  return typeof (log as Partial<RequestFailureLog>).failed === 'function';
}

/**
 * Turns anything thrown while handling a request into the contract's error response: an
 * {@link AuthError} keeps its status and message and gets `Retry-After` / `WWW-Authenticate`
 * as it needs; a framework's 4xx error (malformed body, too large) becomes its registry code;
 * anything else is answered as SERVER_ERROR with the generic message, never its own.
 *
 * Server errors are logged through `log`: a {@link RequestFailureLog}, or a `Logger` (then
 * through the one throttle shared by everything logging to that logger). A 500 is logged each
 * time with its stack; 503s (unavailable) are throttled so an outage does not flood the log.
 * `requestId`, the request's id when known, goes into the line logged for this request (the
 * response's header is the caller's: `AuthHttp.errorResponse` sets it).
 *
 * @example
 * ```ts
 * const { status, headers, body } = errorResponse(err, logger, req.requestId);
 * res.writeHead(status, headers).end(body);
 * ```
 */
export function errorResponse(
  err: unknown,
  log: Logger | RequestFailureLog,
  requestId?: string,
): HttpResponse {
  let error = isAuthError(err) ? err : fromFrameworkError(err);
  if (error === null || error.status >= 500) {
    const status = error !== null && error.status !== 500 ? error.status : 500;
    (isRequestFailureLog(log) ? log : requestFailureLogOf(log)).failed(err, status, requestId);
    // A generic message, but a 503's Retry-After (a full bcrypt queue, a breached-password
    // service down) is kept: it tells the client when to come back, and reveals nothing.
    const retryAfter = error !== null && status === 503 ? error.retryAfter : undefined;
    error = new AuthError('SERVER_ERROR', undefined, {
      status,
      ...(retryAfter === undefined ? {} : { retryAfter }),
    });
  }
  const headers: Record<string, string> = {};
  if (error.retryAfter !== undefined) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfter)));
  }
  const challenge = wwwAuthenticateOf(error);
  if (challenge !== undefined) headers['www-authenticate'] = challenge;
  const body: ErrorBody = { success: false, error: error.message, code: error.code };
  return jsonResponse(error.status, body, headers);
}

function describe(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    // A store's advice on its own failure ("run migrate()" for a missing table).
    const hint = isAuthError(err) ? err.details?.['hint'] : undefined;
    return {
      error: `${err.name}: ${err.message}`,
      ...(isAuthError(err) ? { code: err.code } : {}),
      ...(typeof hint === 'string' ? { hint } : {}),
      ...(err.cause !== undefined ? { cause: describeCause(err.cause) } : {}),
      stack: err.stack,
    };
  }
  return { error: String(err) };
}
