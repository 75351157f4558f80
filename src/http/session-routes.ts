// The sessions routes: a signed-in user lists their sessions (one per device) and ends one or
// all the others. They sit over the small context `createAuthHttp` hands them; every rule
// lives in the core (src/account/sessions.ts).
import type { RequestContext } from '../audit/emitter.js';
import type { Auth } from '../auth.js';
import { AuthError } from '../errors.js';
import type { AccessPrincipal } from '../tokens/access-token.js';
import type { HttpRequest } from './request.js';
import { type HttpResponse, jsonResponse } from './response.js';

/** What the sessions routes need from `createAuthHttp`. */
export interface SessionRouteContext<Route> {
  auth: Auth;
  prefix: string;
  route(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    run: (request: HttpRequest) => Promise<HttpResponse>,
  ): Route;
  /**
   * The caller (bearer or access cookie; a cookie-authenticated DELETE or POST passes the
   * session-bound CSRF check).
   */
  requirePrincipal(request: HttpRequest): Promise<AccessPrincipal>;
  contextOf(request: HttpRequest): RequestContext;
  /** Cookie mode: the Set-Cookie lines that sign this browser out (null in bearer mode). */
  clearedCookies(): string[] | null;
}

/**
 * `GET {prefix}/sessions`, `DELETE {prefix}/sessions/:id` and
 * `POST {prefix}/sessions/revoke-others`, all for an authenticated caller and about the
 * caller's own sessions only.
 */
export function sessionRoutes<Route>(c: SessionRouteContext<Route>): Route[] {
  const { auth, prefix } = c;
  return [
    c.route('GET', `${prefix}/sessions`, async (request) => {
      const principal = await c.requirePrincipal(request);
      const sessions = await auth.listSessions(principal.userId, {
        currentSessionId: principal.sessionId,
      });
      return jsonResponse(200, { success: true, sessions });
    }),

    // Registered before `/sessions/:id`, though a POST never matches that DELETE route anyway.
    c.route('POST', `${prefix}/sessions/revoke-others`, async (request) => {
      const principal = await c.requirePrincipal(request);
      const revoked = await auth.revokeOtherSessions(
        principal.userId,
        principal.sessionId,
        c.contextOf(request),
      );
      return jsonResponse(200, { success: true, revoked });
    }),

    c.route('DELETE', `${prefix}/sessions/:id`, async (request) => {
      const principal = await c.requirePrincipal(request);
      const sessionId = request.params?.['id'];
      // No id (an adapter without params): nothing of the caller's is named.
      if (typeof sessionId !== 'string') throw new AuthError('NOT_FOUND', 'Session not found.');
      await auth.revokeSession(principal.userId, sessionId, c.contextOf(request));
      // Ending the caller's own session signs this browser out, as a logout does.
      const cleared = sessionId === principal.sessionId ? c.clearedCookies() : null;
      return jsonResponse(200, { success: true }, cleared ? { 'set-cookie': cleared } : {});
    }),
  ];
}
