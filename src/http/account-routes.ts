// The account route of the signed-in user: deleting their own account. It sits over the small
// context `createAuthHttp` hands it; every rule (password check, lockout, erasure) lives in the
// core (src/account/data-rights.ts).
import { z } from 'zod';
import type { RequestContext } from '../audit/emitter.js';
import type { Auth } from '../auth.js';
import type { AccessPrincipal } from '../tokens/access-token.js';
import { validateBody } from './body-schemas.js';
import type { HttpRequest } from './request.js';
import { type HttpResponse, jsonResponse } from './response.js';

/**
 * `POST /account/delete`: `{ password }`, the account's password entered again. Other fields are
 * ignored.
 *
 * @example
 * ```ts
 * const { password } = validateBody(deleteAccountBodySchema, body);
 * ```
 */
export const deleteAccountBodySchema = z.object({ password: z.string().max(4096) });

/** What the account routes need from `createAuthHttp`. */
export interface AccountRouteContext<Route> {
  auth: Auth;
  prefix: string;
  route(method: 'POST', path: string, run: (request: HttpRequest) => Promise<HttpResponse>): Route;
  /** The caller (bearer or access cookie, with the session-bound CSRF check for a cookie). */
  requirePrincipal(request: HttpRequest): Promise<AccessPrincipal>;
  body(request: HttpRequest): unknown;
  contextOf(request: HttpRequest): RequestContext;
  /** Cookie mode: the `set-cookie` values that clear the session cookies; null otherwise. */
  clearedCookies: (() => string[]) | null;
}

/**
 * `POST {prefix}/account/delete {password}`: the authenticated user erases their own account
 * after entering the password again. A wrong password is INVALID_CREDENTIALS (401) and counts
 * toward the lockout (ACCOUNT_LOCKED, 403, once locked); success is 200 `{ success: true }`
 * and, in cookie mode, clears the session cookies (every session of the account has ended).
 */
export function accountRoutes<Route>(c: AccountRouteContext<Route>): Route[] {
  const { auth, prefix } = c;
  return [
    c.route('POST', `${prefix}/account/delete`, async (request) => {
      const principal = await c.requirePrincipal(request);
      const { password } = validateBody(deleteAccountBodySchema, c.body(request));
      await auth.deleteOwnAccount(principal.userId, { password }, c.contextOf(request));
      return jsonResponse(
        200,
        { success: true },
        c.clearedCookies ? { 'set-cookie': c.clearedCookies() } : {},
      );
    }),
  ];
}
