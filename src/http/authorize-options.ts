/**
 * The options of both adapters' `authorize()` guard, generic in the framework's request type:
 * the Express adapter's `ExpressAuthorizeOptions<Params>` is `AuthorizeOptions<Request<Params>>`,
 * the Fastify plugin's `FastifyAuthorizeOptions<RouteGeneric>` is
 * `AuthorizeOptions<FastifyRequest<RouteGeneric>>`.
 *
 * @example
 * ```ts
 * import type { AuthorizeOptions } from 'gatehouse/express';
 * const own: AuthorizeOptions<Request<{ id: string }>> = {
 *   resource: (req) => auth.getUser(req.params.id),
 * };
 * ```
 */
export interface AuthorizeOptions<Req> {
  /**
   * Loads the object the permission is checked on, e.g. `(req) => users.findById(req.params.id)`.
   * Null/undefined (or a thrown NOT_FOUND) means it does not exist. The loaded object is left on
   * the request's `authResource` for the handler; any other error it throws goes on to the
   * app's error handler untouched.
   */
  resource?: (request: Req) => unknown;
}
