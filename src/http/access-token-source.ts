import { AuthError, withoutStack } from '../errors.js';
import { countRawHeader, type HttpRequest, headerValue } from './request.js';

/**
 * Where a request's access token was found.
 *
 * @example
 * ```ts
 * const found = extractAccessToken(request, cookies, '__Host-gatehouse-access');
 * if (found?.source === 'cookie') checkCsrf();
 * ```
 */
export type AccessTokenSource = 'header' | 'cookie';

/** The longest token accepted from a request (a gatehouse access token is far shorter). */
const MAX_TOKEN_LENGTH = 8192;
// RFC 6750 b64token, which covers every JWT.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

function invalidToken(reason: string): AuthError {
  // A routine refusal: no stack trace (see withoutStack).
  return withoutStack(
    () => new AuthError('TOKEN_INVALID', undefined, { cause: new Error(reason) }),
  );
}

const BEARER_PREFIX = 'Bearer ';

/** VALIDATION_ERROR for several `Authorization` headers (Node keeps only the first in `headers`). */
function assertSingleAuthorization(request: Pick<HttpRequest, 'rawHeaders'>): void {
  if (request.rawHeaders && countRawHeader(request.rawHeaders, 'authorization') > 1) {
    throw withoutStack(
      () =>
        new AuthError('VALIDATION_ERROR', 'Send a single Authorization header.', {
          details: { field: 'authorization', reason: 'duplicate' },
        }),
    );
  }
}

/**
 * The whole `Authorization` header when it is `Bearer <rest>` (the common form, one space), after
 * the duplicate-header check, with its characters NOT checked; undefined for any other header.
 * Only for a caller that accepts it solely as the header of a token it verified before (a cache
 * hit: such a token holds only base64url characters and dots), compared whole, and calls
 * {@link extractAccessToken} otherwise. Internal: for the adapters' hot path.
 */
export function plainBearerHeader(
  request: Pick<HttpRequest, 'headers' | 'rawHeaders'>,
): string | undefined {
  const authorization = headerValue(request.headers, 'authorization');
  if (authorization === undefined || !authorization.startsWith(BEARER_PREFIX)) return undefined;
  assertSingleAuthorization(request);
  return authorization;
}

/**
 * Finds the access token of a request: the `Authorization: Bearer` header first, then (in cookie
 * mode) the access cookie. A token in the query string is never looked at. Returns null when the
 * request carries no bearer credentials (no header, or another scheme such as `Basic`).
 *
 * `cookies` may be a function returning them: it is called only when the request has no bearer
 * header, so a request with one never has its cookies parsed. Node keeps the first of duplicated
 * `Authorization` headers in `headers`; `rawHeaders` is scanned for duplicates only when
 * `headers` has one.
 *
 * Throws VALIDATION_ERROR (`details.field: 'authorization'`, answered with
 * `WWW-Authenticate: Bearer error="invalid_request"`) for several `Authorization` headers, and
 * TOKEN_INVALID for `Bearer` without a token or with characters no token has.
 *
 * @example
 * ```ts
 * extractAccessToken({ method: 'GET', headers: { authorization: 'Bearer abc' }, ip }, null);
 * // { token: 'abc', source: 'header' }
 * ```
 */
export function extractAccessToken(
  request: Pick<HttpRequest, 'headers' | 'rawHeaders'>,
  cookies: ReadonlyMap<string, string> | null | (() => ReadonlyMap<string, string> | null),
  accessCookie: string | null,
): { token: string; source: AccessTokenSource } | null {
  const authorization = headerValue(request.headers, 'authorization');
  if (authorization !== undefined) {
    assertSingleAuthorization(request);
    // The common form (`Bearer <token>`, one space, nothing around): what the general parse
    // below would return, without trimming and matching the whole header first.
    if (authorization.startsWith(BEARER_PREFIX)) {
      const token = authorization.slice(BEARER_PREFIX.length);
      if (token.length > 0 && token.length <= MAX_TOKEN_LENGTH && B64TOKEN.test(token)) {
        return { token, source: 'header' };
      }
    }
    const match = /^bearer(?:[ \t]+(.*))?$/is.exec(authorization.trim());
    if (match) {
      const token = (match[1] ?? '').trim();
      if (token.length === 0) throw invalidToken('bearer_without_token');
      if (token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) {
        throw invalidToken('malformed_bearer');
      }
      return { token, source: 'header' };
    }
    if (/^bearer\S/i.test(authorization)) throw invalidToken('malformed_bearer');
  }
  if (accessCookie === null || cookies === null) return null;
  const jar = typeof cookies === 'function' ? cookies() : cookies;
  const token = jar?.get(accessCookie);
  if (token !== undefined && token.length > 0) {
    if (token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) {
      throw invalidToken('malformed_cookie');
    }
    return { token, source: 'cookie' };
  }
  return null;
}
