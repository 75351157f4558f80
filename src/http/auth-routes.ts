import { randomBytes } from 'node:crypto';
import type { RequestContext } from '../audit/emitter.js';
import type { Auth, LoginResult } from '../auth.js';
import { AuthError, isAuthError, withoutStack } from '../errors.js';
import { internalsOf } from '../internal/handle.js';
import type { RateLimitedRoute } from '../ratelimit/limiter.js';
import { silentLogger } from '../runtime.js';
import { type AccessPrincipal, tokenRejected } from '../tokens/access-token.js';
import {
  type AccessTokenSource,
  extractAccessToken,
  plainBearerHeader,
} from './access-token-source.js';
import { accountRoutes } from './account-routes.js';
import { parseJsonBody } from './body.js';
import {
  loginBodySchema,
  logoutBodySchema,
  passwordBodySchema,
  refreshBodySchema,
  registerBodySchema,
  validateBody,
} from './body-schemas.js';
import { cookieNames } from './cookie-mode.js';
import { type CookieAttributes, parseCookies, serializeCookie } from './cookies.js';
import { CsrfProtection, isSessionIdShape } from './csrf.js';
import { mfaRoutes, PUBLIC_MFA_ROUTES, withMfaChallenge } from './mfa-routes.js';
import { PUBLIC_RECOVERY_ROUTES, recoveryRoutes, SIGN_UP_ACCEPTED } from './recovery-routes.js';
import { clientIp, type HttpRequest, headerValue, rateLimitKeyOfIp } from './request.js';
import {
  isValidRequestId,
  type RequestIdOptions,
  type RequestIds,
  resolveRequestIds,
} from './request-id.js';
import { errorResponse, type HttpResponse, jsonResponse, requestFailureLogOf } from './response.js';
import { routePrefixOf } from './route-prefix.js';
import { sessionRoutes } from './session-routes.js';

/**
 * One route of the HTTP contract, in framework-neutral form; `handle` never throws.
 *
 * @example
 * ```ts
 * for (const route of createAuthHttp(auth).routes) {
 *   app.on(route.method, route.path, async (req) => write(await route.handle(toHttpRequest(req))));
 * }
 * ```
 */
export interface AuthRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The path; a segment `:name` is a parameter, given to `handle` in `request.params`. */
  path: string;
  /**
   * True for the routes anyone may call (register, login, refresh, csrf, the JWKS, and
   * password/forgot, password/reset, email/verify when `mail` is configured, and mfa/verify
   * when `mfa` is); false for
   * those whose handler requires an authenticated caller. The adapters mark the handlers they
   * mount with `PUBLIC_MARK` or `GUARD_MARK` accordingly.
   */
  public: boolean;
  handle(request: HttpRequest): Promise<HttpResponse>;
}

/**
 * Options of {@link createAuthHttp}.
 *
 * @example
 * ```ts
 * createAuthHttp(auth, { prefix: '/v1/auth' }); // /v1/auth/login, /v1/auth/refresh...
 * ```
 */
export interface AuthHttpOptions {
  /**
   * Path prefix of the auth routes, also the start of the refresh cookie's Path: `/` then
   * segments of letters, digits, `-`, `.`, `_`, `~` (no `;`, `..`, `:`, `%`, `?`, `#`,
   * whitespace or control characters; INVALID_CONFIG otherwise). @default '/api/auth'
   */
  prefix?: string;
  /**
   * Request ids: an incoming `X-Request-Id` is taken when valid, else one is made; it goes on
   * the response and into the audit events and log lines of the request. `false` turns them
   * off. See {@link RequestIdOptions} and docs/observability.md.
   * @default {} (on: `X-Request-Id`, incoming ids trusted, UUIDs, on every response)
   */
  requestId?: RequestIdOptions | false;
}

/**
 * Which requests `AuthHttp.authenticate` lets through without credentials.
 *
 * @example
 * ```ts
 * const principal = await http.authenticate(request, { optional: true }); // null when anonymous
 * ```
 */
export interface AuthenticateOptions {
  /** Let a request without credentials through with a null principal. @default false */
  optional?: boolean;
}

/**
 * Loads the object an authorization check is about; null or undefined when it does not exist.
 *
 * @example
 * ```ts
 * await http.authorize(principal, 'users:read', () => auth.getUser(params.id));
 * ```
 */
export type ResourceLoader = () => unknown;

/** A value, or the promise of one when it was not known synchronously. */
export type Pending<T> = T | Promise<T>;

/**
 * An audit context, or a function building it from the request (called only when a request is
 * refused).
 */
export type LazyContext<R> = RequestContext | ((request: R) => RequestContext);

/**
 * The guards as the adapters call them on every request: synchronous when the answer is known
 * synchronously (a cached token and session state, a loader returning a plain object), a
 * promise otherwise; errors are thrown synchronously or rejected. Internal to the adapters.
 */
export interface AuthHotPath {
  authenticate(request: HttpRequest, optional: boolean): Pending<AccessPrincipal | null>;
  /** `load` and `context` get `request` (the framework's), so an adapter needs no closure. */
  authorize<R>(
    principal: AccessPrincipal | null | undefined,
    permission: string,
    load: ((request: R) => unknown) | undefined,
    request: R,
    context: LazyContext<R>,
  ): unknown;
}

const hotPaths = new WeakMap<object, AuthHotPath>();

/** The hot path of an {@link AuthHttp} (internal: for the adapters of this package). */
export function hotPathOf(http: AuthHttp): AuthHotPath {
  return hotPaths.get(http)!;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** A loader's NOT_FOUND counts as a missing object; any other failure goes on. */
function nothingIfNotFound(err: unknown): undefined {
  if (isAuthError(err) && err.code === 'NOT_FOUND') return undefined;
  throw err;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const JWKS_CACHE = 'public, max-age=300';

// One CSRF key per gatehouse instance, shared by every adapter mounted on it.
const csrfKeys = new WeakMap<object, Uint8Array>();

function csrfKeyOf(auth: Auth): Uint8Array {
  const configured = internalsOf(auth).config.cookies?.csrfSecret;
  if (configured !== undefined) {
    return typeof configured === 'string' ? new TextEncoder().encode(configured) : configured;
  }
  let key = csrfKeys.get(auth);
  if (!key) {
    key = randomBytes(32);
    csrfKeys.set(auth, key);
  }
  return key;
}

/**
 * The framework-neutral HTTP side of gatehouse: the auth routes of the HTTP contract, the
 * authenticate and authorize guards and the error mapping. The Express and Fastify adapters
 * only translate their requests into {@link HttpRequest} and write back the {@link HttpResponse}.
 *
 * @example
 * ```ts
 * import { createAuth } from 'gatehouse';
 * import { createAuthHttp } from 'gatehouse/http';
 *
 * const http = createAuthHttp(createAuth());
 * for (const route of http.routes) {
 *   myFramework.on(route.method, route.path, async (req) => send(await route.handle(toHttpRequest(req))));
 * }
 * ```
 */
export function createAuthHttp(auth: Auth, options: AuthHttpOptions = {}) {
  // Options, audit, rate limiter and clock: behind the instance, not on its public surface.
  const internals = internalsOf(auth);
  // Validated before it becomes route paths and the refresh cookie's Path.
  const prefix = routePrefixOf(options.prefix ?? '/api/auth');
  const requestIds: RequestIds | null = resolveRequestIds(
    options.requestId,
    'Invalid auth routes options',
  );
  // The routes anyone may call; every other one authenticates its caller first.
  const publicPaths = new Set([
    ...[
      'register',
      'login',
      'refresh',
      'csrf',
      ...PUBLIC_RECOVERY_ROUTES,
      ...PUBLIC_MFA_ROUTES,
    ].map((name) => `${prefix}/${name}`),
    '/.well-known/jwks.json',
  ]);
  const logger = internals.config.logger ?? silentLogger;
  const cookieMode = internals.config.cookies;
  const names = cookieMode ? cookieNames(cookieMode.insecureDevelopment) : null;
  const csrf = cookieMode
    ? new CsrfProtection({ key: csrfKeyOf(auth), trustedOrigins: cookieMode.trustedOrigins })
    : null;
  const secure = cookieMode ? !cookieMode.insecureDevelopment : true;
  const refreshPath = `${prefix}/refresh`;
  const sessionSeconds = Math.floor(internals.config.tokens.refreshAbsoluteTtl / 1000);

  function contextOf(request: HttpRequest): RequestContext {
    const userAgent = headerValue(request.headers, 'user-agent');
    return {
      ip: clientIp(request.ip),
      userAgent: userAgent?.slice(0, 512),
      requestId: requestIds === null ? undefined : request.requestId,
    };
  }

  /**
   * The id of a request reaching a route: the adapter's (valid by construction in ours), else
   * one taken from the headers or made, recorded on the request for its audit context.
   */
  function requestIdFor(request: HttpRequest): string | undefined {
    if (requestIds === null) return undefined;
    const given = request.requestId;
    if (given !== undefined && isValidRequestId(given)) return given;
    const id = given === undefined ? requestIds.idOf(request.headers) : requestIds.generate();
    request.requestId = id;
    return id;
  }

  /** The response with the request's id header, when request ids are on. */
  function withRequestId(response: HttpResponse, requestId: string | undefined): HttpResponse {
    if (requestIds !== null && requestId !== undefined) {
      response.headers[requestIds.header] = requestId;
    }
    return response;
  }

  function cookiesOf(request: HttpRequest): Map<string, string> | null {
    return names ? parseCookies(headerValue(request.headers, 'cookie')) : null;
  }

  /**
   * The CSRF defence; `sessionId` is the session of the request's credential (after login), or
   * undefined on the routes that start one (login, register), where the binding alone counts.
   */
  function checkCsrf(
    request: HttpRequest,
    cookies: ReadonlyMap<string, string>,
    sessionId?: string,
  ): void {
    try {
      csrf!.verify(request.headers, cookies.get(names!.csrf), sessionId);
    } catch (err) {
      internals.audit.emit({
        event: 'CSRF_REJECTED',
        status: 'failure',
        context: contextOf(request),
        metadata: { reason: (err as AuthError).details?.['reason'], method: request.method },
      });
      throw err;
    }
  }

  function cookie(name: string, value: string, attributes: Omit<CookieAttributes, 'secure'>) {
    return serializeCookie(name, value, { ...attributes, secure });
  }

  // The refresh cookie carries its session id (`sid.token`): the refresh route must know the
  // session before it rotates anything, to check that the CSRF token is bound to it.
  function sessionCookies(
    tokens: { token: string; refreshToken: string; expiresIn: number },
    sessionId: string,
  ) {
    return [
      cookie(names!.access, tokens.token, {
        path: '/',
        httpOnly: true,
        sameSite: 'Lax',
        maxAge: tokens.expiresIn,
      }),
      cookie(names!.refresh, `${sessionId}.${tokens.refreshToken}`, {
        path: refreshPath,
        httpOnly: true,
        sameSite: 'Strict',
        maxAge: sessionSeconds,
      }),
    ];
  }

  function bindingCookie(value: string, maxAge: number | undefined) {
    return cookie(names!.csrf, value, { path: '/', httpOnly: true, sameSite: 'Strict', maxAge });
  }

  /** A new binding cookie plus its token, bound to `sessionId` when there is a session. */
  function newBinding(sessionId: string | null) {
    const binding = csrf!.newBinding();
    return {
      csrfToken: csrf!.tokenFor(binding, sessionId),
      setCookie: bindingCookie(
        csrf!.cookieValue(binding, sessionId),
        sessionId === null ? undefined : sessionSeconds,
      ),
    };
  }

  /**
   * The answer to a finished login (password, or the second factor after it): the tokens, or in
   * cookie mode the session cookies and a new binding, bound to the new session: a CSRF token
   * obtained before login, or planted from another session, does not work on this one.
   */
  function loginResponse(result: LoginResult): HttpResponse {
    if (!csrf) return jsonResponse(200, { success: true, ...result });
    const sessionId = sessionIdOfIssued(result.token);
    const { csrfToken, setCookie } = newBinding(sessionId);
    return jsonResponse(
      200,
      { success: true, expiresIn: result.expiresIn, user: result.user, csrfToken },
      { 'set-cookie': [...sessionCookies(result, sessionId), setCookie] },
    );
  }

  /** The session id of an access token this instance just issued. */
  async function sessionIdOf(token: string): Promise<string> {
    return (await auth.verifyAccessToken(token)).sessionId;
  }

  /**
   * The session of an access token this instance has just issued (login, refresh): read from its
   * payload, with no verify and no store read, so nothing can fail after a refresh has rotated
   * (a 503 there would make the browser's retry look like reuse and end the session).
   */
  function sessionIdOfIssued(token: string): string {
    const payload = token.split('.')[1] ?? '';
    const { sid } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      sid: string;
    };
    return sid;
  }

  /** The session of a valid access cookie, or null (absent, expired, revoked: no session). */
  async function cookieSessionId(cookies: ReadonlyMap<string, string>): Promise<string | null> {
    const token = cookies.get(names!.access);
    if (!token) return null;
    try {
      return await sessionIdOf(token);
    } catch (err) {
      if (isAuthError(err)) return null;
      throw err;
    }
  }

  /** Splits the refresh cookie (`sid.token`); null when it is not of that shape. */
  function splitRefreshCookie(value: string): { sessionId: string; refreshToken: string } | null {
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return null;
    const sessionId = value.slice(0, dot);
    return isSessionIdShape(sessionId) ? { sessionId, refreshToken: value.slice(dot + 1) } : null;
  }

  function clearedCookies(): string[] {
    return [
      cookie(names!.access, '', { path: '/', httpOnly: true, sameSite: 'Lax', maxAge: 0 }),
      cookie(names!.refresh, '', {
        path: refreshPath,
        httpOnly: true,
        sameSite: 'Strict',
        maxAge: 0,
      }),
      bindingCookie('', 0),
    ];
  }

  async function limit(route: RateLimitedRoute, request: HttpRequest): Promise<void> {
    const context = contextOf(request);
    await internals.rateLimiter.enforce(route, rateLimitKeyOfIp(context.ip ?? 'unknown'), context);
  }

  const verifyToken = internals.verifyAccessToken;
  const verifyCachedBearer = internals.verifyCachedBearer;
  const accessCookie = names?.access ?? null;

  /**
   * Resolves the caller of a request: verifies the bearer token (header, or the access cookie in
   * cookie mode) and, for a cookie-authenticated state-changing request, the CSRF defence.
   * Returns null only for an `optional` request without credentials. The principal comes back
   * without a promise when it is known synchronously (a cached token whose session state is
   * cached); throws synchronously or rejects. Cookies are parsed only without a bearer header.
   */
  function authenticateNow(
    request: HttpRequest,
    optional: boolean,
  ): Pending<AccessPrincipal | null> {
    // A warm `Bearer <token>` header: one cache lookup, the header compared whole with the
    // entry; the token's characters were checked when it was first verified, and a header token
    // needs no CSRF check.
    const bearer = plainBearerHeader(request);
    if (bearer !== undefined) {
      const warm = verifyCachedBearer(bearer);
      if (warm !== undefined) return warm;
    }
    let cookies: Map<string, string> | null | undefined;
    const jar = names === null ? null : () => (cookies ??= cookiesOf(request));
    const found = extractAccessToken(request, jar, accessCookie);
    if (found === null) {
      if (optional) return null;
      throw withoutStack(() => new AuthError('UNAUTHENTICATED'));
    }
    const verified = verifyToken(found.token);
    if (!requiresCsrf(found.source, request.method)) return verified;
    const csrfChecked = (principal: AccessPrincipal) => {
      checkCsrf(request, cookies!, principal.sessionId);
      return principal;
    };
    return verified instanceof Promise ? verified.then(csrfChecked) : csrfChecked(verified);
  }

  /** The guard of `authenticate`, always as a promise. */
  async function authenticate(
    request: HttpRequest,
    authenticateOptions: AuthenticateOptions = {},
  ): Promise<AccessPrincipal | null> {
    return authenticateNow(request, authenticateOptions.optional === true);
  }

  function requiresCsrf(source: AccessTokenSource, method: string): boolean {
    return source === 'cookie' && !SAFE_METHODS.has(method);
  }

  async function requirePrincipal(request: HttpRequest): Promise<AccessPrincipal> {
    return (await authenticate(request)) as AccessPrincipal;
  }

  const can = auth.can as (
    principal: AccessPrincipal,
    permission: string,
    resource?: unknown,
  ) => boolean;
  const authorizeOrThrow = auth.authorize as (
    principal: AccessPrincipal,
    permission: string,
    resource?: unknown,
    context?: RequestContext,
  ) => void;

  /**
   * Allows, or throws FORBIDDEN after `auth.authorize` emitted ACCESS_DENIED: the audit context
   * (`context`, or what it returns) is built for a refusal only, never for a granted request.
   */
  function decide<R>(
    principal: AccessPrincipal,
    permission: string,
    resource: unknown,
    request: R,
    context: LazyContext<R>,
  ): void {
    if (can(principal, permission, resource)) return;
    authorizeOrThrow(
      principal,
      permission,
      resource,
      typeof context === 'function' ? context(request) : context,
    );
    // Only a policy condition answering differently the second time gets here: still refused.
    throw new AuthError('FORBIDDEN');
  }

  /** The decision on what the loader gave: NOT_FOUND for nothing (after the check), see below. */
  function decideOnLoaded<R>(
    principal: AccessPrincipal,
    permission: string,
    resource: unknown,
    request: R,
    context: LazyContext<R>,
  ): unknown {
    if (resource === null || resource === undefined) {
      decide(principal, permission, undefined, request, context);
      throw withoutStack(() => new AuthError('NOT_FOUND'));
    }
    decide(principal, permission, resource, request, context);
    return resource;
  }

  /**
   * Checks `permission` for `principal`, on the object `load` returns when given, and returns
   * that object. UNAUTHENTICATED without a principal; FORBIDDEN when denied. A missing object is
   * NOT_FOUND only for a caller allowed the permission on every object (an admin); anyone else
   * gets FORBIDDEN, so ids cannot be probed for existence. Synchronous when `load` is (or absent);
   * a promise when it returns one.
   */
  function authorizeNow<R>(
    principal: AccessPrincipal | null | undefined,
    permission: string,
    load: ((request: R) => unknown) | undefined,
    request: R,
    context: LazyContext<R>,
  ): unknown {
    if (!principal) throw withoutStack(() => new AuthError('UNAUTHENTICATED'));
    if (load === undefined) {
      decide(principal, permission, undefined, request, context);
      return undefined;
    }
    let loaded: unknown;
    try {
      loaded = load(request);
    } catch (err) {
      return decideOnLoaded(principal, permission, nothingIfNotFound(err), request, context);
    }
    if (!isThenable(loaded)) {
      return decideOnLoaded(principal, permission, loaded, request, context);
    }
    return Promise.resolve(loaded).then(
      (resource) => decideOnLoaded(principal, permission, resource, request, context),
      (err: unknown) =>
        decideOnLoaded(principal, permission, nothingIfNotFound(err), request, context),
    );
  }

  /** The guard of `authorize`, always as a promise. */
  async function authorize(
    principal: AccessPrincipal | null | undefined,
    permission: string,
    load?: ResourceLoader,
    context: RequestContext = {},
  ): Promise<unknown> {
    return authorizeNow(principal, permission, load, undefined, context);
  }

  function body(request: HttpRequest): unknown {
    return parseJsonBody(request.body, headerValue(request.headers, 'content-type'));
  }

  function route(
    method: AuthRoute['method'],
    path: string,
    run: (request: HttpRequest) => Promise<HttpResponse>,
    onError?: (response: HttpResponse, err: unknown) => HttpResponse,
  ): AuthRoute {
    return {
      method,
      path,
      public: publicPaths.has(path),
      async handle(request) {
        const requestId = requestIdFor(request);
        let response: HttpResponse;
        try {
          response = await run(request);
        } catch (err) {
          const failed = errorResponse(
            err,
            requestFailureLogOf(logger, internals.clock),
            requestId,
          );
          response = onError ? onError(failed, err) : failed;
        }
        return withRequestId(response, requestId);
      },
    };
  }

  const routes: AuthRoute[] = [
    route('POST', `${prefix}/register`, async (request) => {
      await limit('register', request);
      if (csrf) checkCsrf(request, cookiesOf(request)!);
      const input = validateBody(registerBodySchema, body(request));
      // With verification required, a new and a taken email get the same 202: the owner of a
      // taken one is told by mail instead.
      if (internals.config.emailVerification.required) {
        await auth.signUp(input, contextOf(request));
        return jsonResponse(202, SIGN_UP_ACCEPTED);
      }
      const user = await auth.register(input, contextOf(request));
      return jsonResponse(201, { success: true, user });
    }),

    route(
      'POST',
      `${prefix}/login`,
      async (request) => {
        await limit('login', request);
        if (csrf) checkCsrf(request, cookiesOf(request)!);
        const input = validateBody(loginBodySchema, body(request));
        return loginResponse(await auth.login(input, contextOf(request)));
      },
      // MFA_REQUIRED / MFA_ENROLLMENT_REQUIRED carry the challenge of the next step.
      withMfaChallenge,
    ),

    route(
      'POST',
      `${prefix}/refresh`,
      async (request) => {
        await limit('refresh', request);
        if (!csrf) {
          const { refreshToken } = validateBody(refreshBodySchema, body(request));
          const tokens = await auth.refresh(refreshToken, contextOf(request));
          return jsonResponse(200, { success: true, ...tokens });
        }
        const cookies = cookiesOf(request)!;
        const presented = cookies.get(names!.refresh);
        if (!presented) {
          checkCsrf(request, cookies);
          throw new AuthError('UNAUTHENTICATED');
        }
        // Cleared by the error mapping below; a cookie of the shape before session binding too.
        const parts = splitRefreshCookie(presented);
        if (parts === null) throw tokenRejected('refresh_malformed');
        // Checked against the refresh cookie's session before anything rotates.
        checkCsrf(request, cookies, parts.sessionId);
        const tokens = await auth.refresh(parts.refreshToken, contextOf(request));
        // Only a holder who rewrote its own cookie can name another session than the token's.
        if (sessionIdOfIssued(tokens.token) !== parts.sessionId) {
          throw tokenRejected('refresh_malformed');
        }
        const { binding } = csrf.parseBinding(cookies.get(names!.csrf))!;
        return jsonResponse(
          200,
          {
            success: true,
            expiresIn: tokens.expiresIn,
            csrfToken: csrf.tokenFor(binding, parts.sessionId),
          },
          { 'set-cookie': sessionCookies(tokens, parts.sessionId) },
        );
      },
      // A refresh cookie that no longer works is cleared, so the browser stops sending it.
      (response, err) =>
        csrf && isAuthError(err) && (err.code === 'TOKEN_INVALID' || err.code === 'TOKEN_EXPIRED')
          ? { ...response, headers: { ...response.headers, 'set-cookie': clearedCookies() } }
          : response,
    ),

    route('POST', `${prefix}/logout`, async (request) => {
      if (csrf) {
        // Cookie mode: the access cookie (and the CSRF check). The refresh cookie is scoped to
        // the refresh route, so a browser never sends it here.
        const principal = await requirePrincipal(request);
        validateBody(logoutBodySchema, body(request));
        await auth.logout(principal.sessionId, contextOf(request));
        return jsonResponse(200, { success: true }, { 'set-cookie': clearedCookies() });
      }
      // Bearer mode: the access token, or the body's refresh token alone (a client whose access
      // token expired must still be able to sign out). Each ends its own session.
      let principal: AccessPrincipal | null = null;
      let refusal: unknown = new AuthError('UNAUTHENTICATED');
      try {
        principal = await authenticate(request, { optional: true });
      } catch (err) {
        if (!isAuthError(err) || !['TOKEN_EXPIRED', 'TOKEN_INVALID'].includes(err.code)) throw err;
        refusal = err;
      }
      let refreshToken: string | undefined;
      try {
        refreshToken = validateBody(logoutBodySchema, body(request))?.refreshToken;
      } catch (err) {
        // Without a credential, the missing credential is the answer (as before the body).
        throw principal ? err : refusal;
      }
      if (!principal) {
        if (refreshToken === undefined) throw refusal;
        await auth.logoutWithRefreshToken(refreshToken, contextOf(request));
        return jsonResponse(200, { success: true });
      }
      await auth.logout(principal.sessionId, contextOf(request));
      if (refreshToken !== undefined) {
        try {
          await auth.logoutWithRefreshToken(refreshToken, contextOf(request));
        } catch (err) {
          // A stale refresh token beside a valid access token ends nothing more; not an error.
          if (!isAuthError(err) || err.code !== 'TOKEN_INVALID') throw err;
        }
      }
      return jsonResponse(200, { success: true });
    }),

    route('POST', `${prefix}/logout-all`, async (request) => {
      const principal = await requirePrincipal(request);
      await auth.logoutAll(principal.userId, contextOf(request));
      return jsonResponse(200, { success: true }, csrf ? { 'set-cookie': clearedCookies() } : {});
    }),

    route('GET', `${prefix}/me`, async (request) => {
      const principal = await requirePrincipal(request);
      try {
        return jsonResponse(200, { success: true, user: await auth.getUser(principal.userId) });
      } catch (err) {
        if (isAuthError(err) && err.code === 'NOT_FOUND') throw new AuthError('UNAUTHENTICATED');
        throw err;
      }
    }),

    route('PUT', `${prefix}/password`, async (request) => {
      const principal = await requirePrincipal(request);
      const input = validateBody(passwordBodySchema, body(request));
      await auth.changePassword(principal.userId, input, {
        ...contextOf(request),
        sessionId: principal.sessionId,
      });
      return jsonResponse(200, { success: true });
    }),

    route('GET', '/.well-known/jwks.json', async () =>
      jsonResponse(200, auth.jwks(), { 'cache-control': JWKS_CACHE }),
    ),
  ];

  routes.push(
    ...recoveryRoutes({
      auth,
      prefix,
      route,
      limit,
      checkPreLoginCsrf: (request) => {
        if (csrf) checkCsrf(request, cookiesOf(request)!);
      },
      requirePrincipal,
      body,
      contextOf,
    }),
  );

  routes.push(
    ...accountRoutes({
      auth,
      prefix,
      route,
      requirePrincipal,
      body,
      contextOf,
      clearedCookies: csrf ? clearedCookies : null,
    }),
  );

  routes.push(
    ...mfaRoutes({
      auth,
      prefix,
      route,
      limit,
      checkPreLoginCsrf: (request) => {
        if (csrf) checkCsrf(request, cookiesOf(request)!);
      },
      requirePrincipal,
      loginResponse,
      body,
      contextOf,
    }),
  );

  routes.push(
    ...sessionRoutes({
      auth,
      prefix,
      route,
      requirePrincipal,
      contextOf,
      clearedCookies: () => (csrf ? clearedCookies() : null),
    }),
  );

  if (csrf) {
    routes.push(
      // The token of the current binding: bound to the session of a valid access cookie, else
      // to the session the binding was given at login (the access cookie may have expired while
      // the refresh cookie lives), else to the binding alone. A binding of another session is
      // replaced.
      route('GET', `${prefix}/csrf`, async (request) => {
        const cookies = cookiesOf(request)!;
        const existing = csrf.parseBinding(cookies.get(names!.csrf));
        const sessionId = await cookieSessionId(cookies);
        if (existing && (sessionId === null || existing.sessionId === sessionId)) {
          const csrfToken = csrf.tokenFor(existing.binding, existing.sessionId);
          return jsonResponse(200, { success: true, csrfToken });
        }
        const { csrfToken, setCookie } = newBinding(sessionId);
        return jsonResponse(200, { success: true, csrfToken }, { 'set-cookie': [setCookie] });
      }),
      // Logout with the refresh cookie alone, under its Path (the browser sends it only there):
      // a browser whose access cookie expired can still end its session. CSRF-checked against
      // the refresh cookie's session, as the refresh route; the cookies are cleared.
      route(
        'POST',
        `${refreshPath}/logout`,
        async (request) => {
          await limit('refresh', request);
          const cookies = cookiesOf(request)!;
          const presented = cookies.get(names!.refresh);
          // No credential: nothing to end and nothing to protect.
          if (!presented) throw new AuthError('UNAUTHENTICATED');
          const parts = splitRefreshCookie(presented);
          if (parts === null) throw tokenRejected('refresh_malformed');
          checkCsrf(request, cookies, parts.sessionId);
          validateBody(logoutBodySchema, body(request));
          await auth.logoutWithRefreshToken(parts.refreshToken, contextOf(request));
          return jsonResponse(200, { success: true }, { 'set-cookie': clearedCookies() });
        },
        // A refresh cookie that no longer works is cleared too: that browser is signed out.
        (response, err) =>
          isAuthError(err) && (err.code === 'TOKEN_INVALID' || err.code === 'TOKEN_EXPIRED')
            ? { ...response, headers: { ...response.headers, 'set-cookie': clearedCookies() } }
            : response,
      ),
    );
  }

  const http = {
    /** The auth routes, for an adapter to mount. */
    routes,
    /** The path prefix of the auth routes. */
    prefix,
    authenticate,
    authorize,
    /**
     * The contract's error response for anything thrown (logged when it is not an AuthError).
     * `requestId`, the request's id, goes into that log line and on the response's header.
     */
    errorResponse(err: unknown, requestId?: string): HttpResponse {
      return withRequestId(
        errorResponse(err, requestFailureLogOf(logger, internals.clock), requestId),
        requestId,
      );
    },
    /** The request-id settings of the adapters (null when off). */
    requestIds,
    /** Request context (client IP, user agent, request id) for audit events. */
    contextOf,
  };
  hotPaths.set(http, { authenticate: authenticateNow, authorize: authorizeNow });
  return http;
}

/**
 * The framework-neutral HTTP side of a gatehouse instance; see {@link createAuthHttp}.
 *
 * @example
 * ```ts
 * const http: AuthHttp = createAuthHttp(auth);
 * const principal = await http.authenticate(request);
 * ```
 */
export type AuthHttp = ReturnType<typeof createAuthHttp>;
