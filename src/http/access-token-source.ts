import { AuthError } from '../errors.js';
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
  return new AuthError('TOKEN_INVALID', undefined, { cause: new Error(reason) });
}

/**
 * Finds the access token of a request: the `Authorization: Bearer` header first, then (in cookie
 * mode) the access cookie. A token in the query string is never looked at. Returns null when the
 * request carries no bearer credentials (no header, or another scheme such as `Basic`).
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
  cookies: ReadonlyMap<string, string> | null,
  accessCookie: string | null,
): { token: string; source: AccessTokenSource } | null {
  const authorization = headerValue(request.headers, 'authorization');
  if (request.rawHeaders && countRawHeader(request.rawHeaders, 'authorization') > 1) {
    throw new AuthError('VALIDATION_ERROR', 'Send a single Authorization header.', {
      details: { field: 'authorization', reason: 'duplicate' },
    });
  }
  if (authorization !== undefined) {
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
  if (accessCookie !== null && cookies !== null) {
    const token = cookies.get(accessCookie);
    if (token !== undefined && token.length > 0) {
      if (token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) {
        throw invalidToken('malformed_cookie');
      }
      return { token, source: 'cookie' };
    }
  }
  return null;
}
