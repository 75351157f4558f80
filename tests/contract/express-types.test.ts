import { readFileSync } from 'node:fs';
import express, { type Request } from 'express';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type AuthorizeOptions,
  type ExpressAuthorizeOptions,
  gatehouseExpress,
} from '../../adapters/express/index.js';
import { type AccessPrincipal, createAuth, seedPolicy } from '../../src/index.js';

// Type tests: `npm run typecheck` (tsc over tests/) fails on a broken expectation, or on an
// expected error that is not one; vitest runs the same file, where expectTypeOf is a no-op.

/** The flagship line of README.md, docs/express.md and docs/getting-started.md, verbatim. */
const FLAGSHIP_LINE =
  "  gate.authorize('users:read', { resource: (req) => auth.getUser(req.params.id) }),";

describe('gatehouse/express types', () => {
  const auth = createAuth({ policy: seedPolicy });
  const gate = gatehouseExpress(auth);

  it("types authorize()'s permission by the auth's policy", () => {
    expectTypeOf(gate.authorize)
      .parameter(0)
      .toEqualTypeOf<
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
    // @ts-expect-error a typo is not a permission of the seed policy
    gate.authorize('users:raed');
  });

  it("compiles the flagship snippet as documented: req.params.id is the route's string", () => {
    const app = express();
    // The snippet of README.md and docs/express.md, verbatim (the docs are checked below).
    // biome-ignore format: verbatim from the docs
    app.get('/api/users/:id',
      gate.authenticate(),
      gate.authorize('users:read', { resource: (req) => auth.getUser(req.params.id) }),
      (req, res) => res.json({ success: true, user: req.authResource }));
    // The loader's request has the route's params, inferred from the path, in any position.
    app.get(
      '/api/orders/:orderId/lines/:line',
      gate.authenticate(),
      gate.authorize('orders:read', {
        resource: (req) => {
          expectTypeOf(req.params).toEqualTypeOf<{ orderId: string } & { line: string }>();
          return { id: req.params.orderId };
        },
      }),
      (req, res) => res.json({ line: req.params.line }),
    );
    // Without authenticate() first, the request type is the annotation's.
    app.get(
      '/api/users/:id/avatar',
      gate.authorize('users:read', {
        resource: (req: Request<{ id: string }>) => auth.getUser(req.params.id),
      }),
    );
    for (const file of ['README.md', 'docs/express.md', 'docs/getting-started.md']) {
      expect(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')).toContain(
        FLAGSHIP_LINE,
      );
    }
    // ...and it is the line compiled above, not a copy that drifted.
    const compiled = readFileSync(new URL(import.meta.url), 'utf8').split('\n');
    expect(compiled.map((line) => line.trim())).toContain(FLAGSHIP_LINE.trim());
  });

  it('shares the generic AuthorizeOptions with the Fastify plugin', () => {
    expectTypeOf<ExpressAuthorizeOptions<{ id: string }>>().toExtend<
      AuthorizeOptions<Request<{ id: string }>>
    >();
    expectTypeOf<ExpressAuthorizeOptions['resource']>().toEqualTypeOf<
      ((request: Request) => unknown) | undefined
    >();
  });

  it('augments Express.Request with auth and authResource', () => {
    expectTypeOf<Express.Request['auth']>().toEqualTypeOf<AccessPrincipal | null | undefined>();
    expectTypeOf<Express.Request['authResource']>().toEqualTypeOf<unknown>();
  });
});
