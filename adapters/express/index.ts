// gatehouse/express: the Express adapter (Express 4.21+ and 5; typed against @types/express 5).
// It translates only: every rule lives in the core's framework-neutral http layer (src/http),
// which the Fastify adapter shares.

import { IncomingMessage } from 'node:http';
import type {
  ErrorRequestHandler,
  NextFunction,
  Request,
  RequestHandler,
  Response,
  Router,
} from 'express';
import express from 'express';
import type { Auth } from '../../src/auth.js';
import { AuthError, isAuthError } from '../../src/errors.js';
import {
  type AuthenticateOptions,
  type AuthHttpOptions,
  createAuthHttp,
  hotPathOf,
  type Pending,
} from '../../src/http/auth-routes.js';
import type { AuthorizeOptions } from '../../src/http/authorize-options.js';
import { hasUnreceivedBody, MAX_BODY_BYTES, readRequestBody } from '../../src/http/body.js';
import type { HttpRequest } from '../../src/http/request.js';
import { isValidRequestId, type RequestIds } from '../../src/http/request-id.js';
import type { HttpResponse } from '../../src/http/response.js';
import { markGuard, markPublic } from '../../src/http/route-marks.js';
import type { Policy, PolicyModelOf } from '../../src/policy/policy.js';
import type { Permission } from '../../src/policy/types.js';
import type { AccessPrincipal } from '../../src/tokens/access-token.js';

export type { AuthorizeOptions } from '../../src/http/authorize-options.js';

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
      /**
       * The request's id (its valid `X-Request-Id`, or a new one), set once gatehouse needed
       * it: by `gate.router` for every request passing through it (`requestId.everyResponse`),
       * else by `gate.requestIdOf(req)`, an auth route or an error gatehouse answers.
       */
      requestId?: string;
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
export interface ExpressAdapterOptions extends AuthHttpOptions {
  /** What `gate.errorHandler` answers. */
  errorHandler?: {
    /**
     * Answer every error with the contract's body, not only gatehouse's AuthErrors: a
     * framework 4xx (a malformed body from `express.json()`) as its registry code, anything
     * else as the generic 500 SERVER_ERROR (logged with its stack through the auth's logger).
     * When false, an error that is not an AuthError goes on with `next(err)` to your next error
     * handler or Express's default, its status and message intact.
     * @default false
     */
    handleAll?: boolean;
  };
}

/**
 * Options of the adapter's `authorize()` middleware: the shared {@link AuthorizeOptions} with
 * Express's request. `Params` is the route's parameters, inferred from the route's path where
 * `authorize()` is passed to `app.get('/api/users/:id', ...)`, so `req.params.id` is a string.
 *
 * @example
 * ```ts
 * app.get('/api/users/:id', gate.authenticate(),
 *   gate.authorize('users:read', { resource: (req) => auth.getUser(req.params.id) }));
 * ```
 */
export interface ExpressAuthorizeOptions<Params = Request['params']>
  extends AuthorizeOptions<Request<Params>> {}

/**
 * The id of `req` (undefined when request ids are off): `req.requestId` when it is set and valid
 * (made earlier, or set by the app before gatehouse), else its valid incoming header or a new id,
 * recorded on `req.requestId`.
 */
function requestIdOf(req: Request, ids: RequestIds | null): string | undefined {
  if (ids === null) return undefined;
  const known = req.requestId;
  if (known !== undefined && isValidRequestId(known)) return known;
  const id = known === undefined ? ids.idOf(req.headers) : ids.generate();
  req.requestId = id;
  return id;
}

// `req.auth` and `req.authResource`, kept out of the request object. Express gives every request
// a new prototype (its app's `request`), after which each property added to the request costs V8
// a map migration and each read a lookup that misses its caches: thousands of CPU instructions
// apiece, more than the rest of a warm authenticate (callgrind: authenticate() + authorize() cost
// 45k instructions on a 556k bare Express request this way, about 16.5k with the accessors). So the two
// values live in a WeakMap, behind accessors defined once on Express's own request prototype (the
// one every app's `request`, sub-apps' included, inherits from), as the `Express.Request`
// augmentation above declares them. A request that is not an Express request (a plain object in a
// test) gets own properties, as before.
interface GuardSlots {
  auth?: AccessPrincipal | null;
  authResource?: unknown;
}
const slots = new WeakMap<object, GuardSlots>();
function slotsOf(req: object): GuardSlots {
  let held = slots.get(req);
  if (held === undefined) {
    held = {};
    slots.set(req, held);
  }
  return held;
}
const SLOT_ACCESSORS = {
  auth: {
    get(this: object) {
      return slots.get(this)?.auth;
    },
    set(this: object, value: AccessPrincipal | null | undefined) {
      slotsOf(this).auth = value;
    },
  },
  authResource: {
    get(this: object) {
      return slots.get(this)?.authResource;
    },
    set(this: object, value: unknown) {
      slotsOf(this).authResource = value;
    },
  },
} as const;
// The immediate prototypes of requests already looked at.
const seenPrototypes = new WeakSet<object>();

/** Express's request prototype above `req` (the object right above IncomingMessage's), if any. */
function expressRequestPrototype(req: object): object | null {
  let proto = Object.getPrototypeOf(req) as object | null;
  for (let depth = 0; proto !== null && depth < 8; depth++) {
    const parent = Object.getPrototypeOf(proto) as object | null;
    if (parent === IncomingMessage.prototype) return proto;
    proto = parent;
  }
  return null;
}

/** Defines the accessors of `req.auth` / `req.authResource` on Express's prototype, once. */
function prepareRequest(req: object): void {
  const proto = Object.getPrototypeOf(req) as object | null;
  if (proto === null || seenPrototypes.has(proto)) return;
  seenPrototypes.add(proto);
  const shared = expressRequestPrototype(req);
  if (shared === null) return;
  // On the app's own prototype too: found one level up, a read is cheaper than two levels up
  // (about 11k instructions a request), and the shared one still serves a request that leaves a
  // sub-app for its parent (whose prototype it then gets).
  for (const target of proto === shared ? [shared] : [proto, shared]) {
    for (const name of ['auth', 'authResource'] as const) {
      if (Object.hasOwn(target, name)) continue;
      Object.defineProperty(target, name, { ...SLOT_ACCESSORS[name], configurable: true });
    }
  }
}

/**
 * The request as the http layer sees it, read from Express's on demand: `ip` (Express's getter
 * runs proxy-addr) and the request id are computed only if something reads them, such as the
 * audit context of a refusal.
 */
class ExpressHttpRequest implements HttpRequest {
  readonly #req: Request;
  readonly #ids: RequestIds | null;
  readonly body: Uint8Array | undefined;
  constructor(req: Request, ids: RequestIds | null, body?: Uint8Array) {
    this.#req = req;
    this.#ids = ids;
    this.body = body;
  }
  get requestId(): string | undefined {
    return requestIdOf(this.#req, this.#ids);
  }
  get method(): string {
    return this.#req.method;
  }
  get headers(): HttpRequest['headers'] {
    return this.#req.headers;
  }
  get rawHeaders(): readonly string[] {
    return this.#req.rawHeaders;
  }
  get ip(): string | undefined {
    return this.#req.ip ?? this.#req.socket?.remoteAddress;
  }
  get params(): HttpRequest['params'] {
    // Express decodes them from the matched route's path (`:id`).
    return this.#req.params as HttpRequest['params'];
  }
}

function toHttpRequest(req: Request, ids: RequestIds | null, body?: Uint8Array): HttpRequest {
  return new ExpressHttpRequest(req, ids, body);
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

/**
 * A middleware that fits any route and leaves the route's params to its path: placed first in
 * `app.get('/api/users/:id', gate.authenticate(), ...)`, it lets Express infer `{ id: string }`
 * for the handlers after it (a plain `RequestHandler` would fix them to `ParamsDictionary`,
 * whose values are `string | string[]`).
 */
type RouteMiddleware = <Params>(req: Request<Params>, res: Response, next: NextFunction) => void;

/**
 * Passes a rejection to `next(err)`, also on Express 4, which ignores the promise a handler
 * returns. A promise rejected with nothing still fails the request (next() alone would go on).
 */
function forwardRejection(next: NextFunction): (err: unknown) => void {
  return (err) => next(err ?? new Error('Rejected promise'));
}

async function bodyOf(req: Request): Promise<Uint8Array | undefined> {
  // An app-wide express.json() may have read the stream already: use what it parsed.
  if (req.readableEnded || (req as { _body?: boolean })._body) {
    return req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
  }
  return readRequestBody(req, req.headers['content-length'], MAX_BODY_BYTES);
}

/**
 * Mounts gatehouse in an Express app (4.21+ or 5): a router with the auth routes of the HTTP contract,
 * `authenticate()` / `authorize()` middleware and an error handler answering AuthErrors with
 * the contract's error bodies (other errors go on to yours, unless `errorHandler: { handleAll:
 * true }`). Mount the router at the root (use the `prefix` option to move it).
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
  const ids = http.requestIds;
  const idHeader = ids?.everyResponse ? ids.header : null;

  const router: Router = express.Router();
  // Express's router answers OPTIONS on a matched path by itself (200 text/plain, the Allow list
  // as the body), outside the contract. OPTIONS leaves this router untouched instead, to the app's
  // own handlers (a CORS middleware) or to `gate.notFound` (404 with the contract's body).
  // With `requestId.everyResponse`, every request passing through gets its id and the header.
  router.use(
    markPublic((req: Request, res: Response, next: NextFunction) => {
      if (idHeader !== null) res.setHeader(idHeader, requestIdOf(req, ids)!);
      next(req.method === 'OPTIONS' ? 'router' : undefined);
    }),
  );
  for (const route of http.routes) {
    // Never rejects: whatever fails answers the contract's error here (or goes on to next(err)
    // once a response has started), on Express 4 as on 5.
    const handler: RequestHandler = (req, res, next) => {
      const answer = async () => {
        const body = route.method === 'GET' ? undefined : await bodyOf(req);
        return route.handle(toHttpRequest(req, ids, body));
      };
      answer().then(
        (response) => send(res, response),
        (err: unknown) => {
          if (res.headersSent) next(err);
          else send(res, http.errorResponse(err, requestIdOf(req, ids)));
        },
      );
    };
    // Guarded or public on purpose: a test can prove every route of an app is one or the other.
    (route.public ? markPublic : markGuard)(handler);
    if (route.method === 'GET') router.get(route.path, handler);
    else if (route.method === 'POST') router.post(route.path, handler);
    else if (route.method === 'DELETE') router.delete(route.path, handler);
    else router.put(route.path, handler);
  }

  const hot = hotPathOf(http);
  // The audit context of a refused authorize(): built only then.
  const refusalContext = (req: Request) => http.contextOf(toHttpRequest(req, ids));

  /** Requires a valid access token (or lets anonymous requests through when `optional`). */
  function authenticate(authenticateOptions: AuthenticateOptions = {}): RouteMiddleware {
    const optional = authenticateOptions.optional === true;
    // A cached token goes on to the next handler in the same turn: no promise, no microtask.
    const guard = (req: Request, _res: Response, next: NextFunction) => {
      prepareRequest(req);
      let principal: Pending<AccessPrincipal | null>;
      try {
        principal = hot.authenticate(toHttpRequest(req, ids), optional);
      } catch (err) {
        next(err);
        return;
      }
      if (principal instanceof Promise) {
        principal.then((value) => {
          req.auth = value;
          next();
        }, forwardRejection(next));
        return;
      }
      req.auth = principal;
      next();
    };
    return markGuard(guard as RouteMiddleware);
  }

  /**
   * Requires `permission` per the auth's policy, on the object `resource` loads when given.
   * Authenticates first when `authenticate()` has not run on this request. The permission is
   * typed by the auth's policy (`'users:read'`...); `Params`, the route's parameters, is
   * inferred from the path of the route it is passed to, so `resource: (req) =>
   * auth.getUser(req.params.id)` types `req.params.id` as a string.
   */
  function authorize<Params = Request['params']>(
    permission: Permission<PolicyModelOf<P>>,
    authorizeOptions: ExpressAuthorizeOptions<Params> = {},
  ): RequestHandler<Params> {
    // Express fills req.params from the route's path: they are the route's Params.
    const load = authorizeOptions.resource as ((req: Request) => unknown) | undefined;
    const check = (req: Request, principal: AccessPrincipal | null): unknown =>
      hot.authorize(principal, permission, load, req, refusalContext);
    const guard = (req: Request, _res: Response, next: NextFunction) => {
      prepareRequest(req);
      let result: unknown;
      try {
        if (req.auth === undefined) {
          const principal = hot.authenticate(toHttpRequest(req, ids), false);
          if (principal instanceof Promise) {
            result = principal.then((value) => {
              req.auth = value;
              return check(req, value);
            });
          } else {
            req.auth = principal;
            result = check(req, principal);
          }
        } else {
          result = check(req, req.auth);
        }
      } catch (err) {
        next(err);
        return;
      }
      if (result instanceof Promise) {
        result.then((value) => {
          req.authResource = value;
          next();
        }, forwardRejection(next));
        return;
      }
      req.authResource = result;
      next();
    };
    return markGuard(guard as unknown as RequestHandler<Params>);
  }

  const handleAll = options.errorHandler?.handleAll === true;
  // An app-wide express.json() refusing the body of an auth route fails before the router: that
  // route still answers the contract.
  const ownRoutes = new Set(http.routes.map((r) => `${r.method} ${r.path.toLowerCase()}`));
  const isOwnRoute = (req: Request) =>
    ownRoutes.has(`${req.method} ${req.path.toLowerCase().replace(/(.)\/+$/, '$1')}`);
  /**
   * Answers an AuthError, and any error on gatehouse's own routes, with the contract's body and
   * status; passes any other error on with `next(err)`, unless the adapter's `errorHandler: {
   * handleAll: true }` option makes it answer every error (a non-AuthError as the generic
   * SERVER_ERROR, logged).
   */
  const errorHandler: ErrorRequestHandler = (err, req, res, next) => {
    if (res.headersSent || !(handleAll || isAuthError(err) || isOwnRoute(req))) {
      next(err);
      return;
    }
    send(res, http.errorResponse(err, requestIdOf(req, ids)));
  };

  /** Answers unmatched requests with the contract's NOT_FOUND body; mount after every route. */
  const notFound: RequestHandler = (_req, _res, next) => next(new AuthError('NOT_FOUND'));

  /**
   * Marks a route as public on purpose (`app.get('/healthz', gate.publicRoute, handler)`): it
   * does nothing but carry `PUBLIC_MARK`, so that a route without a guard reads as a decision,
   * not an oversight.
   */
  const publicRoute: RouteMiddleware = markPublic((_req, _res, next) => next());

  /**
   * The id of a request (made and recorded on `req.requestId` the first time), for the app's
   * own log lines; undefined when the adapter's `requestId` option is false.
   */
  const requestIdOfRequest = (req: Request): string | undefined => requestIdOf(req, ids);

  return {
    router,
    authenticate,
    authorize,
    publicRoute,
    errorHandler,
    notFound,
    requestIdOf: requestIdOfRequest,
    http,
  };
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
