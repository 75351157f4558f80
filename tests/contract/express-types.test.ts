import { describe, expectTypeOf, it } from 'vitest';
import { gatehouseExpress } from '../../adapters/express/index.js';
import { type AccessPrincipal, createAuth, seedPolicy } from '../../src/index.js';

describe('gatehouse/express types', () => {
  const gate = gatehouseExpress(createAuth({ policy: seedPolicy }));

  it("types authorize()'s permission by the auth's policy", () => {
    expectTypeOf(gate.authorize)
      .parameter(0)
      .toEqualTypeOf<
        'users:read' | 'users:update' | 'users:delete' | 'orders:create' | 'orders:read'
      >();
    // @ts-expect-error a typo is not a permission of the seed policy
    gate.authorize('users:raed');
  });

  it('augments Express.Request with auth and authResource', () => {
    expectTypeOf<Express.Request['auth']>().toEqualTypeOf<AccessPrincipal | null | undefined>();
    expectTypeOf<Express.Request['authResource']>().toEqualTypeOf<unknown>();
  });
});
