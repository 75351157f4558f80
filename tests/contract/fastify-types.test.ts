import Fastify, { type FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expectTypeOf, it } from 'vitest';
import {
  type AuthorizeOptions,
  type FastifyAuthorizeOptions,
  type FastifyPermission,
  gatehouseFastify,
} from '../../adapters/fastify/index.js';
import { createAuth, seedPolicy } from '../../src/index.js';

// Type tests: `npm run typecheck` (tsc over tests/) fails on a broken expectation, or on an
// expected error that is not one; vitest runs the same file, where expectTypeOf is a no-op.

// Registers the seed policy, as an app does once (docs/fastify.md). Declaration merging is
// program-wide: every `app.authorize()` of this repository's tests and examples is now checked
// against the seed policy's permissions, which is what they use.
declare module '../../adapters/fastify/index.js' {
  interface FastifyPolicyRegister {
    policy: typeof seedPolicy;
  }
}

describe('gatehouse/fastify types', () => {
  const auth = createAuth({ policy: seedPolicy });
  const app = Fastify();
  beforeAll(async () => {
    await app.register(gatehouseFastify, { auth });
  });
  afterAll(() => app.close());

  it("types authorize()'s permission by the registered policy, as the Express adapter's", () => {
    expectTypeOf<FastifyPermission>().toEqualTypeOf<
      | 'users:read'
      | 'users:update'
      | 'users:delete'
      | 'users:export'
      | 'users:list'
      | 'users:ban'
      | 'users:role'
      | 'orders:create'
      | 'orders:read'
    >();
    expectTypeOf(app.authorize).parameter(0).toEqualTypeOf<FastifyPermission>();
    // @ts-expect-error a typo is not a permission of the seed policy
    app.authorize('users:raed');
  });

  it("types the loader's request by the route's generic, inferred from the route", () => {
    app.get<{ Params: { id: string } }>(
      '/api/users/:id',
      {
        preHandler: [
          app.authenticate,
          app.authorize('users:read', {
            resource: (request) => {
              expectTypeOf(request.params).toEqualTypeOf<{ id: string }>();
              return auth.getUser(request.params.id);
            },
          }),
        ],
      },
      async (request) => ({ success: true, user: request.authResource }),
    );
    // Or given to authorize() itself.
    app.authorize<{ Params: { id: string } }>('users:read', {
      resource: (request) => auth.getUser(request.params.id),
    });
  });

  it('shares the generic AuthorizeOptions with the Express adapter', () => {
    expectTypeOf<FastifyAuthorizeOptions<{ Params: { id: string } }>>().toExtend<
      AuthorizeOptions<FastifyRequest<{ Params: { id: string } }>>
    >();
    expectTypeOf<FastifyAuthorizeOptions['resource']>().toEqualTypeOf<
      ((request: FastifyRequest) => unknown) | undefined
    >();
  });
});
