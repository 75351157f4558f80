import { AuthError, isAuthError } from '../errors.js';
import type { Logger } from '../runtime.js';

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
 * Turns anything thrown while handling a request into the contract's error response: an
 * {@link AuthError} keeps its status and message and gets `Retry-After` / `WWW-Authenticate`
 * as it needs; a framework's 4xx error (malformed body, too large) becomes its registry code;
 * anything else is logged and answered as SERVER_ERROR with the generic message, never its own.
 *
 * @example
 * ```ts
 * const { status, headers, body } = errorResponse(err, logger);
 * res.writeHead(status, headers).end(body);
 * ```
 */
export function errorResponse(err: unknown, logger: Logger): HttpResponse {
  let error = isAuthError(err) ? err : fromFrameworkError(err);
  if (error === null || error.status >= 500) {
    logger.error('request failed', describe(err));
    error = new AuthError('SERVER_ERROR', undefined, {
      status: error !== null && error.status !== 500 ? error.status : 500,
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
    return {
      error: `${err.name}: ${err.message}`,
      ...(isAuthError(err) ? { code: err.code } : {}),
      stack: err.stack,
    };
  }
  return { error: String(err) };
}
