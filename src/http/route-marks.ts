/**
 * The property that marks a guard: a middleware or preHandler that authenticates or authorizes
 * the caller (the adapters' `authenticate` and `authorize`, and the handlers of gatehouse's own
 * routes that require a caller). A test or a start-up check can then prove that every route of
 * an app is either guarded or deliberately public. `Symbol.for`, so that two copies of the
 * package agree.
 *
 * @example
 * ```ts
 * import { GUARD_MARK } from 'gatehouse/http';
 * const guarded = route.stack.some((layer) => GUARD_MARK in layer.handle);
 * ```
 */
export const GUARD_MARK: unique symbol = Symbol.for('gatehouse.guard');

/**
 * The property that marks a route as public on purpose (a login page, a health check): the
 * Express adapter's `publicRoute` middleware carries it; any handler can with {@link markPublic}.
 *
 * @example
 * ```ts
 * import { PUBLIC_MARK } from 'gatehouse/http';
 * const isPublic = route.stack.some((layer) => PUBLIC_MARK in layer.handle);
 * ```
 */
export const PUBLIC_MARK: unique symbol = Symbol.for('gatehouse.public');

/**
 * Marks a function as a guard (see {@link GUARD_MARK}) and returns it. Only for functions that
 * really refuse an unauthenticated or unauthorized caller.
 *
 * @example
 * ```ts
 * import { markGuard } from 'gatehouse';
 * const requireApiKey = markGuard((req, res, next) => (req.get('x-api-key') === key ? next() : res.sendStatus(401)));
 * ```
 */
export function markGuard<F extends object>(handler: F): F {
  Object.defineProperty(handler, GUARD_MARK, { value: true });
  return handler;
}

/**
 * Marks a function (a middleware, a static file server) as deliberately public (see
 * {@link PUBLIC_MARK}) and returns it.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { markPublic } from 'gatehouse';
 * app.use(markPublic(express.static('public')));
 * ```
 */
export function markPublic<F extends object>(handler: F): F {
  Object.defineProperty(handler, PUBLIC_MARK, { value: true });
  return handler;
}

/**
 * True when `value` carries {@link GUARD_MARK}.
 *
 * @example
 * ```ts
 * isGuard(gate.authenticate()); // true
 * ```
 */
export function isGuard(value: unknown): boolean {
  return (
    (typeof value === 'function' || (typeof value === 'object' && value !== null)) &&
    (value as { [GUARD_MARK]?: unknown })[GUARD_MARK] === true
  );
}

/**
 * True when `value` carries {@link PUBLIC_MARK}.
 *
 * @example
 * ```ts
 * isPublic(gate.publicRoute); // true
 * ```
 */
export function isPublic(value: unknown): boolean {
  return (
    (typeof value === 'function' || (typeof value === 'object' && value !== null)) &&
    (value as { [PUBLIC_MARK]?: unknown })[PUBLIC_MARK] === true
  );
}
