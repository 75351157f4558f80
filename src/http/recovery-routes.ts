// The account-recovery routes: password reset by mail and email verification. They sit over the
// small context `createAuthHttp` hands them; every rule lives in the core (src/account/).
import type { RequestContext } from '../audit/emitter.js';
import type { Auth } from '../auth.js';
import { internalsOf } from '../internal/handle.js';
import type { RateLimitedRoute } from '../ratelimit/limiter.js';
import type { AccessPrincipal } from '../tokens/access-token.js';
import {
  forgotPasswordBodySchema,
  resetPasswordBodySchema,
  validateBody,
  verifyEmailBodySchema,
} from './body-schemas.js';
import type { HttpRequest } from './request.js';
import { type HttpResponse, jsonResponse } from './response.js';

/** The answer to every forgot-password request, whether or not the account exists. */
export const FORGOT_PASSWORD_ACCEPTED = {
  success: true,
  message: 'If an account exists for that email, we sent a link to reset the password.',
} as const;

/** The answer to a registration when verification is required, new or taken email alike. */
export const SIGN_UP_ACCEPTED = {
  success: true,
  message: 'Check your email to finish creating your account.',
} as const;

/** The recovery routes anyone may call (relative to the prefix); resend needs a caller. */
export const PUBLIC_RECOVERY_ROUTES = ['password/forgot', 'password/reset', 'email/verify'];

/** What the recovery routes need from `createAuthHttp`. */
export interface RecoveryRouteContext<Route> {
  auth: Auth;
  prefix: string;
  route(method: 'POST', path: string, run: (request: HttpRequest) => Promise<HttpResponse>): Route;
  /** The per-IP limit of a route; RATE_LIMITED (429, Retry-After) over it. */
  limit(route: RateLimitedRoute, request: HttpRequest): Promise<void>;
  /** Cookie mode: the CSRF check of a request without a session (the binding alone counts). */
  checkPreLoginCsrf(request: HttpRequest): void;
  /** The caller (bearer or access cookie, with the session-bound CSRF check for a cookie). */
  requirePrincipal(request: HttpRequest): Promise<AccessPrincipal>;
  body(request: HttpRequest): unknown;
  contextOf(request: HttpRequest): RequestContext;
}

/**
 * The four routes of account recovery. Mounted only when `mail` is configured: without a mailer
 * no link can be sent, and a public route that could only fail would log an error per request.
 */
export function recoveryRoutes<Route>(c: RecoveryRouteContext<Route>): Route[] {
  const { auth, prefix } = c;
  if (!internalsOf(auth).config.mail) return [];
  return [
    // Same status, headers and body for every email: existing, unknown, disabled, locked,
    // malformed. The limit comes first, so a flood costs no body parsing and no lookup.
    c.route('POST', `${prefix}/password/forgot`, async (request) => {
      await c.limit('forgot', request);
      c.checkPreLoginCsrf(request);
      const { email } = validateBody(forgotPasswordBodySchema, c.body(request));
      await auth.requestPasswordReset(email, c.contextOf(request));
      return jsonResponse(202, FORGOT_PASSWORD_ACCEPTED);
    }),

    c.route('POST', `${prefix}/password/reset`, async (request) => {
      c.checkPreLoginCsrf(request);
      const input = validateBody(resetPasswordBodySchema, c.body(request));
      await auth.resetPassword(input, c.contextOf(request));
      return jsonResponse(200, { success: true });
    }),

    c.route('POST', `${prefix}/email/verify`, async (request) => {
      c.checkPreLoginCsrf(request);
      const { token } = validateBody(verifyEmailBodySchema, c.body(request));
      const user = await auth.verifyEmail(token, c.contextOf(request));
      return jsonResponse(200, { success: true, user });
    }),

    // The body is ignored: the address is the caller's own.
    c.route('POST', `${prefix}/email/resend`, async (request) => {
      const principal = await c.requirePrincipal(request);
      await auth.requestEmailVerification(principal.userId, c.contextOf(request));
      return jsonResponse(202, { success: true });
    }),
  ];
}
