// The public API of `gatehouse/http`: the framework-neutral HTTP layer, for authors of adapters
// (a Koa, Hono or raw node:http integration) and for apps that answer their own routes with the
// same contract (body reading under the cap, the error body, cookies, CSRF). Express and Fastify
// users do not need it: `gatehouse/express` and `gatehouse/fastify` are built on it. Every name
// is listed; types go out with `export type`.

export { extractAccessToken } from './access-token-source.js';
export type { AuthHttp, AuthHttpOptions, AuthRoute } from './auth-routes.js';
export { createAuthHttp } from './auth-routes.js';
export { isJsonContentType, MAX_BODY_BYTES, parseJsonBody, readRequestBody } from './body.js';
export type { CookieAttributes } from './cookies.js';
export { parseCookies, serializeCookie } from './cookies.js';
export type { CsrfBinding, CsrfRejection } from './csrf.js';
export { CsrfProtection } from './csrf.js';
export type { HttpRequest } from './request.js';
export { clientIp, countRawHeader, headerValue } from './request.js';
export type { RequestIdOptions } from './request-id.js';
export { isValidRequestId } from './request-id.js';
export type { HttpResponse, RequestFailureLog } from './response.js';
export {
  createRequestFailureLog,
  errorResponse,
  jsonResponse,
  wwwAuthenticateOf,
} from './response.js';
export { GUARD_MARK, PUBLIC_MARK } from './route-marks.js';
