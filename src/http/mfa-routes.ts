// The routes of the TOTP second factor: enrolment, the code step of a login, recovery codes and
// disabling. They sit over the small context `createAuthHttp` hands them; every rule (codes,
// replay, the factor's lockout, challenges) lives in the core (src/mfa/).

import type { z } from 'zod';
import type { RequestContext } from '../audit/emitter.js';
import type { Auth, LoginResult } from '../auth.js';
import { AuthError, isAuthError } from '../errors.js';
import { internalsOf } from '../internal/handle.js';
import type { RateLimitedRoute } from '../ratelimit/limiter.js';
import type { AccessPrincipal } from '../tokens/access-token.js';
import {
  mfaConfirmBodySchema,
  mfaDisableBodySchema,
  mfaEnrollBodySchema,
  mfaRecoveryCodesBodySchema,
  mfaVerifyBodySchema,
  validateBody,
} from './body-schemas.js';
import type { HttpRequest } from './request.js';
import { type ErrorBody, type HttpResponse, jsonResponse } from './response.js';

/** The MFA routes anyone may call (relative to the prefix): the code step of a login. */
export const PUBLIC_MFA_ROUTES = ['mfa/verify'];

/** The login refusals that carry a challenge the client needs for its next step. */
const CHALLENGE_CODES: ReadonlySet<string> = new Set(['MFA_REQUIRED', 'MFA_ENROLLMENT_REQUIRED']);

/** What the MFA routes need from `createAuthHttp`. */
export interface MfaRouteContext<Route> {
  auth: Auth;
  prefix: string;
  route(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    run: (request: HttpRequest) => Promise<HttpResponse>,
  ): Route;
  /** The per-IP limit of a route; RATE_LIMITED (429, Retry-After) over it. */
  limit(route: RateLimitedRoute, request: HttpRequest): Promise<void>;
  /** Cookie mode: the CSRF check of a request without a session (the binding alone counts). */
  checkPreLoginCsrf(request: HttpRequest): void;
  /** The caller (bearer or access cookie, with the session-bound CSRF check for a cookie). */
  requirePrincipal(request: HttpRequest): Promise<AccessPrincipal>;
  /**
   * The answer to a finished login, as the login route gives it: the tokens, or in cookie mode
   * the session cookies and a CSRF binding bound to the new session.
   */
  loginResponse(result: LoginResult): HttpResponse;
  body(request: HttpRequest): unknown;
  contextOf(request: HttpRequest): RequestContext;
}

/**
 * The login route's answer to MFA_REQUIRED and MFA_ENROLLMENT_REQUIRED: the contract's error
 * body plus the `challenge` the core put in the error's details (the only way the client learns
 * it) and its `expiresIn` (seconds). Any other failure is returned as it is.
 */
export function withMfaChallenge(response: HttpResponse, err: unknown): HttpResponse {
  if (!isAuthError(err) || !CHALLENGE_CODES.has(err.code)) return response;
  const challenge = err.details?.['challenge'];
  if (typeof challenge !== 'string') return response;
  const expiresIn = err.details?.['expiresIn'];
  const body: ErrorBody & { challenge: string; expiresIn?: number } = {
    ...(JSON.parse(response.body) as ErrorBody),
    challenge,
    ...(typeof expiresIn === 'number' ? { expiresIn } : {}),
  };
  const { 'content-length': _length, 'content-type': _type, ...headers } = response.headers;
  return jsonResponse(response.status, body, headers);
}

/**
 * The routes of the TOTP second factor (and its status). Mounted only when `mfa` is configured: without
 * encryption keys no factor can be stored.
 */
export function mfaRoutes<Route>(c: MfaRouteContext<Route>): Route[] {
  const { auth, prefix } = c;
  if (!(internalsOf(auth).config as { mfa?: unknown }).mfa) return [];

  /**
   * The enrolment challenge of a body, or else the caller's session, which is checked before the
   * body is (an anonymous caller gets UNAUTHENTICATED, whatever it sent).
   */
  async function enrolling<S extends z.ZodType>(request: HttpRequest, schema: S) {
    let body: unknown;
    let unreadable: unknown;
    try {
      body = c.body(request);
    } catch (err) {
      unreadable = err;
    }
    const challenge = (body as { challenge?: unknown } | null | undefined)?.challenge;
    if (challenge === undefined) {
      const principal = await c.requirePrincipal(request);
      if (unreadable !== undefined) throw unreadable;
      return { principal, input: validateBody(schema, body) };
    }
    // A user whose role requires a factor has no session yet: the challenge stands for the
    // password it proved at login, and the CSRF binding alone is checked (as at login).
    c.checkPreLoginCsrf(request);
    const input = validateBody(schema, body);
    return { challenge: (input as { challenge: string }).challenge, input };
  }

  return [
    // Whether the caller has an active factor, and how many recovery codes are left.
    c.route('GET', `${prefix}/mfa`, async (request) => {
      const principal = await c.requirePrincipal(request);
      const status = await auth.mfaStatus(principal.userId);
      return jsonResponse(200, { success: true, ...status });
    }),

    // Authenticated: a new secret (pending until confirmed). With an enrolment challenge (a
    // login answered MFA_ENROLLMENT_REQUIRED): the same, for the user of that challenge.
    c.route('POST', `${prefix}/mfa/totp/enroll`, async (request) => {
      const who = await enrolling(request, mfaEnrollBodySchema);
      const { secret, uri } =
        who.principal !== undefined
          ? await auth.startTotpEnrollment(who.principal.userId, c.contextOf(request))
          : await auth.enrollWithChallenge(who.challenge, { step: 'start' }, c.contextOf(request));
      return jsonResponse(200, { success: true, secret, uri });
    }),

    // The first valid code activates the factor; the recovery codes are in this answer only.
    // With an enrolment challenge, the login then finishes: the tokens (cookies) come too.
    c.route('POST', `${prefix}/mfa/totp/confirm`, async (request) => {
      const who = await enrolling(request, mfaConfirmBodySchema);
      if (who.principal !== undefined) {
        const { recoveryCodes } = await auth.confirmTotp(
          who.principal.userId,
          who.input.code,
          c.contextOf(request),
        );
        return jsonResponse(200, { success: true, recoveryCodes });
      }
      const { recoveryCodes, login } = await auth.enrollWithChallenge(
        who.challenge,
        { step: 'confirm', code: who.input.code },
        c.contextOf(request),
      );
      return withRecoveryCodes(c.loginResponse(login), recoveryCodes);
    }),

    // The code step of a login: the challenge of the MFA_REQUIRED answer with a code from the
    // app or a recovery code. Limited per IP like the login (the same bucket: one sign-in is a
    // login and a verify); the factor's own lockout stops guessing across IPs.
    c.route('POST', `${prefix}/mfa/verify`, async (request) => {
      await c.limit('login', request);
      c.checkPreLoginCsrf(request);
      const input = validateBody(mfaVerifyBodySchema, c.body(request));
      const proof = secondFactorOf(input);
      const deviceLabel = input.deviceLabel === undefined ? {} : { deviceLabel: input.deviceLabel };
      const result = await auth.completeMfa(
        input.challenge,
        { ...proof, ...deviceLabel },
        c.contextOf(request),
      );
      return c.loginResponse(result);
    }),

    // A valid code replaces the whole set: the old codes stop working at once.
    c.route('POST', `${prefix}/mfa/recovery-codes`, async (request) => {
      const principal = await c.requirePrincipal(request);
      const { code } = validateBody(mfaRecoveryCodesBodySchema, c.body(request));
      const { recoveryCodes } = await auth.regenerateRecoveryCodes(
        principal.userId,
        { code },
        c.contextOf(request),
      );
      return jsonResponse(200, { success: true, recoveryCodes });
    }),

    // Both the password and a code (or a recovery code, for a lost phone): a stolen session
    // alone cannot remove the factor. The other sessions end; this one stays.
    c.route('DELETE', `${prefix}/mfa/totp`, async (request) => {
      const principal = await c.requirePrincipal(request);
      const input = validateBody(mfaDisableBodySchema, c.body(request));
      await auth.disableTotp(
        principal.userId,
        { password: input.password, ...secondFactorOf(input) },
        { ...c.contextOf(request), sessionId: principal.sessionId },
      );
      return jsonResponse(200, { success: true });
    }),
  ];
}

/** Exactly one of `code` and `recoveryCode`; VALIDATION_ERROR naming `code` otherwise. */
function secondFactorOf(input: {
  code?: string | undefined;
  recoveryCode?: string | undefined;
}): { code: string } | { recoveryCode: string } {
  if (input.code !== undefined && input.recoveryCode === undefined) return { code: input.code };
  if (input.recoveryCode !== undefined && input.code === undefined) {
    return { recoveryCode: input.recoveryCode };
  }
  throw new AuthError('VALIDATION_ERROR', 'Give either code or recoveryCode.', {
    details: { field: 'code', reason: 'required' },
  });
}

/** A login answer (200, JSON) with the recovery codes of the enrolment that finished it. */
function withRecoveryCodes(response: HttpResponse, recoveryCodes: string[]): HttpResponse {
  const body = { ...(JSON.parse(response.body) as Record<string, unknown>), recoveryCodes };
  const { 'content-length': _length, 'content-type': _type, ...headers } = response.headers;
  return jsonResponse(response.status, body, headers);
}
