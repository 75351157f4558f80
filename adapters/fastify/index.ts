// gatehouse/fastify: the Fastify 5 plugin. It translates only: every rule lives in the core's
// framework-neutral http layer (src/http), which the Express adapter shares.
import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  preHandlerHookHandler,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
} from 'fastify';
import type { Auth } from '../../src/auth.js';
import { AuthError, isAuthError } from '../../src/errors.js';
import {
  type AuthHttp,
  type AuthHttpOptions,
  createAuthHttp,
  hotPathOf,
} from '../../src/http/auth-routes.js';
import type { AuthorizeOptions } from '../../src/http/authorize-options.js';
import { MAX_BODY_BYTES } from '../../src/http/body.js';
import type { HttpRequest } from '../../src/http/request.js';
import { isValidRequestId, type RequestIds, resolveRequestIds } from '../../src/http/request-id.js';
import { errorResponse, type HttpResponse } from '../../src/http/response.js';
import { markGuard, markPublic } from '../../src/http/route-marks.js';
import type { Policy, PolicyModelOf } from '../../src/policy/policy.js';
import type { Permission } from '../../src/policy/types.js';
import { silentLogger } from '../../src/runtime.js';
import type { AccessPrincipal } from '../../src/tokens/access-token.js';

export type { AuthorizeOptions } from '../../src/http/authorize-options.js';

/**
 * Options of the plugin's `authorize()` preHandler: the shared {@link AuthorizeOptions} with
 * Fastify's request. `RouteGeneric` types `request.params` (and the rest) in the loader:
 * `app.authorize<{ Params: { id: string } }>('users:read', { resource: ... })`.
 *
 * @example
 * ```ts
 * app.authorize<{ Params: { id: string } }>('users:read', {
 *   resource: (request) => auth.getUser(request.params.id),
 * });
 * ```
 */
export interface FastifyAuthorizeOptions<
  RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
> extends AuthorizeOptions<FastifyRequest<RouteGeneric>> {}

/**
 * Declare your policy here once, and `app.authorize()` takes only its permissions (a typo is a
 * type error, as with the Express adapter, whose `gate` is typed by the auth it is given).
 * Fastify's decorators are typed for every app at once, so the policy is registered by
 * declaration merging, as `@fastify/jwt` types `request.user`. Left empty, a permission is any
 * string (checked at run time).
 *
 * @example
 * ```ts
 * import { seedPolicy } from 'gatehouse';
 *
 * declare module 'gatehouse/fastify' {
 *   interface FastifyPolicyRegister {
 *     policy: typeof seedPolicy;
 *   }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by the app's declaration merging
export interface FastifyPolicyRegister {}

/**
 * A permission `app.authorize()` takes: one of the registered policy's (see
 * {@link FastifyPolicyRegister}), or any string when no policy is registered.
 *
 * @example
 * ```ts
 * const permission: FastifyPermission = 'users:read';
 * ```
 */
export type FastifyPermission = FastifyPolicyRegister extends { policy: infer P extends Policy }
  ? Permission<PolicyModelOf<P>>
  : string;

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Marks a route without a guard as public on purpose (`{ config: { public: true } }`), so
     * that a check of every route can tell a decision from an oversight.
     */
    public?: boolean;
  }
  interface FastifyRequest {
    /** The caller, set by `authenticate`; null when anonymous or not authenticated yet. */
    auth: AccessPrincipal | null;
    /** The object `authorize(permission, { resource })` loaded and checked. */
    authResource: unknown;
  }
  interface FastifyInstance {
    /** preHandler: requires a valid access token and sets `request.auth`. */
    authenticate: preHandlerHookHandler;
    /** preHandler: sets `request.auth` when credentials are present, null otherwise. */
    authenticateOptional: preHandlerHookHandler;
    /**
     * A preHandler requiring `permission` (authenticates first when needed). The permission is
     * typed by the policy registered in {@link FastifyPolicyRegister}; `RouteGeneric` types
     * the request the resource loader receives.
     */
    authorize<RouteGeneric extends RouteGenericInterface = RouteGenericInterface>(
      permission: FastifyPermission,
      options?: FastifyAuthorizeOptions<RouteGeneric>,
    ): preHandlerHookHandler<
      RawServerDefault,
      RawRequestDefaultExpression,
      RawReplyDefaultExpression,
      RouteGeneric
    >;
    /**
     * Writes the contract's error response for `error` (an AuthError with its status; a
     * framework 4xx as its registry code; anything else as the generic 500, logged with its
     * stack); use it from your own error handler.
     */
    sendAuthError(reply: FastifyReply, error: unknown): FastifyReply;
    /** The framework-neutral http layer behind the plugin. */
    gatehouse: AuthHttp;
  }
}

/**
 * Options of the {@link gatehouseFastify} plugin.
 *
 * @example
 * ```ts
 * await app.register(gatehouseFastify, { auth, errorHandler: false, notFoundHandler: true });
 * ```
 */
export interface FastifyAdapterOptions extends AuthHttpOptions {
  auth: Auth;
  /**
   * Whether the guards (`authenticate`, `authenticateOptional`, `authorize`) answer their own
   * AuthErrors (401, 403, 404, and a store failure as 500/503, logged) with the contract's body.
   * Set to false to have them throw the AuthError to your error handler instead, and call
   * `fastify.sendAuthError(reply, err)` from it. Either way the plugin never installs an error
   * handler of the app: every other error keeps your handler or Fastify's default, status and
   * message intact, and the auth routes always answer with the contract's errors.
   * @default true
   */
  errorHandler?: boolean;
  /** Answer unmatched routes with the contract's NOT_FOUND body. @default false */
  notFoundHandler?: boolean;
}

/**
 * The id of a request: Fastify's `request.id`, which the plugin's genReqId makes (a valid
 * incoming header, or a new id). An id that is not valid (Fastify's own `requestIdHeader` option
 * takes the header unchecked) is replaced, on `request.id` too, and never echoed.
 */
function requestIdOf(request: FastifyRequest, ids: RequestIds | null): string | undefined {
  if (ids === null) return undefined;
  const id: unknown = request.id;
  if (isValidRequestId(id)) return id;
  const made = ids.generate();
  request.id = made;
  return made;
}

/**
 * The request as the http layer sees it, read from Fastify's on demand: `ip` (a getter, which runs
 * proxy-addr under `trustProxy`) is computed only if something reads it.
 */
class FastifyHttpRequest implements HttpRequest {
  readonly #request: FastifyRequest;
  readonly #ids: RequestIds | null;
  constructor(request: FastifyRequest, ids: RequestIds | null) {
    this.#request = request;
    this.#ids = ids;
  }
  get requestId(): string | undefined {
    return requestIdOf(this.#request, this.#ids);
  }
  get method(): string {
    return this.#request.method;
  }
  get headers(): HttpRequest['headers'] {
    return this.#request.headers;
  }
  get rawHeaders(): readonly string[] {
    return this.#request.raw.rawHeaders;
  }
  get ip(): string | undefined {
    return this.#request.ip;
  }
  get params(): HttpRequest['params'] {
    // Fastify decodes them from the matched route's path (`:id`).
    return this.#request.params as HttpRequest['params'];
  }
  get body(): Uint8Array | undefined {
    const body = this.#request.body;
    return body instanceof Uint8Array ? body : undefined;
  }
}

function toHttpRequest(request: FastifyRequest, ids: RequestIds | null): HttpRequest {
  return new FastifyHttpRequest(request, ids);
}

// The request-id settings of the instance the plugin was registered on, for
// contractFrameworkErrors (null: request ids off).
const requestIdsOf = new WeakMap<object, RequestIds | null>();
const DEFAULT_REQUEST_IDS = resolveRequestIds({}, 'contractFrameworkErrors')!;

function send(reply: FastifyReply, response: HttpResponse): FastifyReply {
  return reply.code(response.status).headers(response.headers).send(response.body);
}

const plugin: FastifyPluginCallback<FastifyAdapterOptions> = (fastify, options, done) => {
  let http: AuthHttp;
  try {
    http = createAuthHttp(options.auth, options);
  } catch (err) {
    // A bad option (an unsafe prefix) fails the registration, not a timeout of the plugin.
    done(err as Error);
    return;
  }
  const ids = http.requestIds;
  requestIdsOf.set(fastify, ids);
  const sendAuthError = (reply: FastifyReply, error: unknown) =>
    send(reply, http.errorResponse(error, requestIdOf(reply.request, ids)));

  // A guard answers its own AuthError (unless errorHandler: false); any other error, such as
  // one thrown by the app's resource loader, goes on to the app's error handler untouched.
  // Callback-style hooks: a result known synchronously (a cached token) calls done() in the same
  // turn, with no promise for Fastify to wait on.
  const answerAuthErrors = options.errorHandler !== false;
  const hot = hotPathOf(http);
  const fail = (reply: FastifyReply, done: HookHandlerDoneFunction, err: unknown) => {
    if (answerAuthErrors && isAuthError(err)) sendAuthError(reply, err);
    else done(err as Error);
  };
  const guard = (run: (request: FastifyRequest) => unknown) =>
    markGuard((request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      let result: unknown;
      try {
        result = run(request);
      } catch (err) {
        fail(reply, done, err);
        return;
      }
      if (result instanceof Promise) {
        result.then(
          () => done(),
          (err: unknown) => fail(reply, done, err),
        );
      } else {
        done();
      }
    });
  const authenticateWith = (optional: boolean) =>
    guard((request) => {
      const principal = hot.authenticate(toHttpRequest(request, ids), optional);
      if (principal instanceof Promise) {
        return principal.then((value) => {
          request.auth = value;
        });
      }
      request.auth = principal;
      return undefined;
    });
  // The audit context of a refused authorize(): built only then.
  const refusalContext = (request: FastifyRequest) => http.contextOf(toHttpRequest(request, ids));

  if (ids !== null) {
    // request.id becomes gatehouse's id, so Fastify's own log lines (reqId) carry it too.
    // The id made last: Fastify calls genReqId and then the onRequest hooks in one turn, so in
    // the hook below request.id is usually that very string, valid by construction, and is not
    // checked again. Anything else (Fastify's requestIdHeader, an id changed by another hook)
    // goes through requestIdOf's check.
    let made: string | undefined;
    fastify.setGenReqId((raw) => {
      made = ids.idOf(raw.headers);
      return made;
    });
    if (ids.everyResponse) {
      const header = ids.header;
      fastify.addHook('onRequest', (request, reply, next) => {
        const id = request.id;
        reply.header(header, id === made ? id : requestIdOf(request, ids));
        next();
      });
    }
  }

  fastify.decorateRequest('auth', null);
  fastify.decorateRequest('authResource', null);
  fastify.decorate('gatehouse', http);
  fastify.decorate('sendAuthError', sendAuthError);
  // The guards carry GUARD_MARK, so a test can prove every route is guarded or public.
  fastify.decorate('authenticate', authenticateWith(false));
  fastify.decorate('authenticateOptional', authenticateWith(true));
  fastify.decorate(
    'authorize',
    (permission: FastifyPermission, authorizeOptions: FastifyAuthorizeOptions = {}) => {
      const load = authorizeOptions.resource as ((request: FastifyRequest) => unknown) | undefined;
      const check = (request: FastifyRequest): unknown => {
        const resource = hot.authorize(request.auth, permission, load, request, refusalContext);
        if (resource instanceof Promise) {
          return resource.then((value) => {
            request.authResource = value;
          });
        }
        request.authResource = resource;
        return undefined;
      };
      return guard((request) => {
        if (request.auth !== null && request.auth !== undefined) return check(request);
        const principal = hot.authenticate(toHttpRequest(request, ids), false);
        if (principal instanceof Promise) {
          return principal.then((value) => {
            request.auth = value;
            return check(request);
          });
        }
        request.auth = principal;
        return check(request);
      });
    },
  );

  // No setErrorHandler here: the plugin is not encapsulated, so it would replace the app's.
  if (options.notFoundHandler) {
    fastify.setNotFoundHandler((_request, reply) =>
      sendAuthError(reply, new AuthError('NOT_FOUND')),
    );
  }

  // The routes sit in their own context, whose only body parser hands raw bytes (16 KiB at most)
  // to the core; the app's parsers and limits stay as they are everywhere else.
  fastify.register(async (routes: FastifyInstance) => {
    routes.removeAllContentTypeParsers();
    routes.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES },
      (_request, body, parsed) => parsed(null, body),
    );
    for (const route of http.routes) {
      routes.route({
        method: route.method,
        url: route.path,
        errorHandler: (error, _request, reply) => sendAuthError(reply, error),
        config: { public: route.public },
        // A guarded auth route authenticates inside its handler, which carries the mark.
        handler: (route.public ? markPublic : markGuard)(async (request, reply) =>
          send(reply, await route.handle(toHttpRequest(request, ids))),
        ),
      });
    }
  });
  done();
};

// Not encapsulated (the decorators apply to the whole app), named, and bound
// to Fastify 5, as fastify-plugin would mark it, without the extra dependency.
Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'gatehouse',
  [Symbol.for('plugin-meta')]: { name: 'gatehouse', fastify: '5.x' },
});

/**
 * The Fastify 5 plugin of gatehouse: registers the auth routes of the HTTP contract, decorates
 * `request.auth`, exposes `fastify.authenticate` / `fastify.authorize(...)` preHandlers that
 * answer their AuthErrors with the contract's bodies, and `fastify.sendAuthError` for your own
 * error handler. It never installs an error handler of the app: any other error keeps your
 * handler or Fastify's default. Set Fastify's `trustProxy` only behind a proxy you run: the
 * rate limiter keys on `request.ip`. Request ids (the `requestId` option, on by default) make
 * `request.id` gatehouse's id through `fastify.setGenReqId`, so pass your own generator as
 * `requestId.generate` rather than Fastify's `genReqId`.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createAuth, seedPolicy } from 'gatehouse';
 * import { gatehouseFastify } from 'gatehouse/fastify';
 *
 * const auth = createAuth({ policy: seedPolicy });
 * const app = Fastify();
 * await app.register(gatehouseFastify, { auth });
 * app.get('/api/users/:id', {
 *   preHandler: app.authorize('users:read', {
 *     resource: (request) => auth.getUser((request.params as { id: string }).id),
 *   }),
 * }, async (request) => ({ success: true, user: request.authResource }));
 * ```
 */
export const gatehouseFastify = plugin;

/**
 * Fastify's `frameworkErrors` option answering the errors Fastify raises before routing (a
 * malformed URL) with the contract's body: `Fastify({ frameworkErrors: contractFrameworkErrors })`.
 * The answer carries the request id as the plugin's `requestId` option says (the defaults when
 * the plugin is not registered on that instance).
 *
 * @example
 * ```ts
 * const app = Fastify({ frameworkErrors: contractFrameworkErrors });
 * ```
 */
export function contractFrameworkErrors(
  error: Error,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const response = errorResponse(error, silentLogger);
  // The plugin's request-id settings when it was registered on this instance, else the defaults.
  const registered = requestIdsOf.get(request.server);
  const ids = registered === undefined ? DEFAULT_REQUEST_IDS : registered;
  if (ids !== null) response.headers[ids.header] = requestIdOf(request, ids)!;
  void send(reply, response);
}
