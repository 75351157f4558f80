// gatehouse/express: the Express 5 adapter. It translates only: every rule lives in the core's
// framework-neutral http layer (src/http), which the Fastify adapter shares.
import type { ErrorRequestHandler, Request, RequestHandler, Response, Router } from 'express';
import express from 'express';
import type { Auth } from '../../src/auth.js';
import { AuthError } from '../../src/errors.js';
import {
  type AuthenticateOptions,
  type AuthHttpOptions,
  createAuthHttp,
} from '../../src/http/auth-routes.js';
import { hasUnreceivedBody, MAX_BODY_BYTES, readRequestBody } from '../../src/http/body.js';
import type { HttpRequest } from '../../src/http/request.js';
import type { HttpResponse } from '../../src/http/response.js';
import { markGuard, markPublic } from '../../src/http/route-marks.js';
import type { Policy, PolicyModelOf } from '../../src/policy/policy.js';
import type { Permission } from '../../src/policy/types.js';
import type { AccessPrincipal } from '../../src/tokens/access-token.js';

declare global {
  namespace Express {
    interface Request {
      /**
       * The caller, set by `authenticate()`: `{ userId, email, role, sessionId, claims }`, or
       * null after `authenticate({ optional: true })` without credentials.
       */
      auth?: AccessPrincipal | null;
      /** The object `authorize(permission, { resource })` loaded and checked. */
      authResource?: unknown;
    }
  }
}

/**
 * Options of {@link gatehouseExpress}.
 *
 * @example
 * ```ts
 * gatehouseExpress(auth, { prefix: '/v1/auth' } satisfies ExpressAdapterOptions);
 * ```
 */
export interface ExpressAdapterOptions extends AuthHttpOptions {}

/**
 * Options of the adapter's `authorize()` middleware.
 *
 * @example
 * ```ts
 * gate.authorize('users:read', { resource: (req) => auth.getUser(req.params.id) });
 * ```
 */
export interface ExpressAuthorizeOptions {
  /**
   * Loads the object the permission is checked on, e.g. `(req) => users.findById(req.params.id)`.
   * Null/undefined (or a thrown NOT_FOUND) means it does not exist. The loaded object is left on
   * `req.authResource` for the handler.
   */
  resource?: (req: Request) => unknown;
}

function toHttpRequest(req: Request, body?: Uint8Array): HttpRequest {
  return {
    method: req.method,
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    ip: req.ip ?? req.socket?.remoteAddress,
    body,
  };
}

function send(res: Response, response: HttpResponse): void {
  res.status(response.status);
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  // Answered before the body arrived (a 413, a 401 before reading it): close once the response
  // is flushed, so the rest of the body is never read or waited for on a keep-alive connection.
  if (hasUnreceivedBody(res.req)) res.setHeader('connection', 'close');
  // res.end, not res.send: no ETag or other Express-only header, so both adapters answer alike.
  res.end(response.body);
}

async function bodyOf(req: Request): Promise<Uint8Array | undefined> {
  // An app-wide express.json() may have read the stream already: use what it parsed.
  if (req.readableEnded || (req as { _body?: boolean })._body) {
    return req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
  }
  return readRequestBody(req, req.headers['content-length'], MAX_BODY_BYTES);
}

/**
 * Mounts gatehouse in an Express 5 app: a router with the auth routes of the HTTP contract,
 * `authenticate()` / `authorize()` middleware and an error handler answering with the
 * contract's error bodies. Mount the router at the root (use the `prefix` option to move it).
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createAuth, seedPolicy } from 'gatehouse';
 * import { gatehouseExpress } from 'gatehouse/express';
 *
 * const auth = createAuth({ policy: seedPolicy });
 * const gate = gatehouseExpress(auth);
 * const app = express();
 * app.use(gate.router);
 * app.get('/api/users/:id',
 *   gate.authenticate(),
 *   gate.authorize('users:read', { resource: (req) => auth.getUser(req.params.id) }),
 *   (req, res) => res.json({ success: true, user: req.authResource }));
 * app.use(gate.notFound);
 * app.use(gate.errorHandler);
 * ```
 */
export function gatehouseExpress<P extends Policy = Policy>(
  auth: Auth<P>,
  options: ExpressAdapterOptions = {},
) {
  // The http layer checks permissions as strings; the typing by P is this adapter's surface.
  const http = createAuthHttp(auth as unknown as Auth, options);

  const router: Router = express.Router();
  for (const route of http.routes) {
    const handler: RequestHandler = async (req, res) => {
      let body: Uint8Array | undefined;
      try {
        body = route.method === 'GET' ? undefined : await bodyOf(req);
      } catch (err) {
        send(res, http.errorResponse(err));
        return;
      }
      send(res, await route.handle(toHttpRequest(req, body)));
    };
    // Guarded or public on purpose: a test can prove every route of an app is one or the other.
    (route.public ? markPublic : markGuard)(handler);
    if (route.method === 'GET') router.get(route.path, handler);
    else if (route.method === 'POST') router.post(route.path, handler);
    else router.put(route.path, handler);
  }

  /** Requires a valid access token (or lets anonymous requests through when `optional`). */
  function authenticate(authenticateOptions: AuthenticateOptions = {}): RequestHandler {
    return markGuard(async (req, _res, next) => {
      req.auth = await http.authenticate(toHttpRequest(req), authenticateOptions);
      next();
    });
  }

  /**
   * Requires `permission` per the auth's policy, on the object `resource` loads when given.
   * Authenticates first when `authenticate()` has not run on this request. The permission is
   * typed by the auth's policy (`'users:read'`...).
   */
  function authorize(
    permission: Permission<PolicyModelOf<P>>,
    authorizeOptions: ExpressAuthorizeOptions = {},
  ): RequestHandler {
    const { resource } = authorizeOptions;
    return markGuard(async (req, _res, next) => {
      const request = toHttpRequest(req);
      if (req.auth === undefined) req.auth = await http.authenticate(request);
      req.authResource = await http.authorize(
        req.auth,
        permission,
        resource ? () => resource(req) : undefined,
        http.contextOf(request),
      );
      next();
    });
  }

  /** Answers any error with the contract's body and status (a non-AuthError as SERVER_ERROR). */
  const errorHandler: ErrorRequestHandler = (err, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    send(res, http.errorResponse(err));
  };

  /** Answers unmatched requests with the contract's NOT_FOUND body; mount after every route. */
  const notFound: RequestHandler = (_req, _res, next) => next(new AuthError('NOT_FOUND'));

  /**
   * Marks a route as public on purpose (`app.get('/healthz', gate.publicRoute, handler)`): it
   * does nothing but carry `PUBLIC_MARK`, so that a route without a guard reads as a decision,
   * not an oversight.
   */
  const publicRoute: RequestHandler = markPublic((_req, _res, next) => next());

  return { router, authenticate, authorize, publicRoute, errorHandler, notFound, http };
}

/**
 * The adapter returned by {@link gatehouseExpress}.
 *
 * @example
 * ```ts
 * const gate: ExpressAdapter = gatehouseExpress(auth);
 * app.use(gate.router);
 * ```
 */
export type ExpressAdapter = ReturnType<typeof gatehouseExpress>;
