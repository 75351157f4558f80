// Compile-time specifications: `npx tsc --noEmit` fails if a misspelt permission, action,
// resource, role, condition field or principal field stops being a compile error. The calls also
// run, so each line is a real call.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { definePolicy, type Policy, resource } from '../../../src/policy/policy.js';
import { seedPolicy } from '../../../src/policy/seed-policy.js';
import type { Permission, PolicyExplanation, PolicyFilter } from '../../../src/policy/types.js';

interface Order {
  id: string;
  userId: string;
  status: 'open' | 'paid';
}

const principal = { userId: 'u1', role: 'user' };

describe('typed permissions', () => {
  it('derives the permission union from the declared resources and actions', () => {
    expectTypeOf<
      Permission<{ users: readonly ['read', 'delete']; orders: readonly ['read'] }>
    >().toEqualTypeOf<'users:read' | 'users:delete' | 'orders:read'>();
    expectTypeOf(seedPolicy.permissions).toEqualTypeOf<
      readonly (
        | 'users:read'
        | 'users:update'
        | 'users:delete'
        | 'users:export'
        | 'users:list'
        | 'users:ban'
        | 'users:role'
        | 'orders:create'
        | 'orders:read'
      )[]
    >();
    expectTypeOf(seedPolicy.roles).toEqualTypeOf<readonly ('user' | 'admin')[]>();
  });

  it('rejects a misspelt permission at every call site', () => {
    // And at run time, for JavaScript callers, each is a denial, never an exception.
    // @ts-expect-error misspelt action
    expect(seedPolicy.can(principal, 'users:delte')).toBe(false);
    // @ts-expect-error misspelt resource
    expect(() => seedPolicy.authorize(principal, 'user:read')).toThrow('permission');
    // @ts-expect-error wildcards are for rules, not checks
    expect(seedPolicy.canSome(principal, 'users:*')).toBe(false);
    // @ts-expect-error undeclared action
    expect(seedPolicy.explain(principal, 'orders:delete').reason).toBe('unknown_permission');
    // @ts-expect-error undeclared action
    expect(seedPolicy.filter(principal, 'orders:update')).toEqual({ kind: 'none' });
    expectTypeOf(seedPolicy.explain(principal, 'orders:read')).toEqualTypeOf<PolicyExplanation>();
    expectTypeOf(seedPolicy.filter(principal, 'orders:read')).toEqualTypeOf<PolicyFilter>();
  });

  it('types the resource argument from the permission’s resource', () => {
    seedPolicy.can(principal, 'orders:read', { userId: 'u1' });
    // @ts-expect-error an order needs userId
    seedPolicy.can(principal, 'orders:read', { id: 'u1' });
    expectTypeOf(seedPolicy.can).toBeFunction();
  });

  it('rejects misspellings inside the definition', () => {
    const resources = { orders: resource<Order>()(['read', 'cancel']), users: ['read'] } as const;
    const define = () =>
      definePolicy({
        resources,
        roles: {
          user: {
            allow: [
              // @ts-expect-error misspelt action in a permission string
              'orders:raed',
              'orders:*',
              '*',
              {
                resource: 'orders',
                // @ts-expect-error action of another resource
                actions: ['read', 'delete'],
              },
              {
                resource: 'orders',
                actions: ['cancel'],
                // @ts-expect-error misspelt resource field
                where: { userID: { principal: 'userId' } },
              },
              {
                resource: 'orders',
                actions: ['read'],
                // @ts-expect-error unknown principal field
                where: { userId: { principal: 'uid' } },
              },
              {
                resource: 'orders',
                actions: ['read'],
                // @ts-expect-error literal of the wrong type for the field
                where: { status: 'shipped' },
              },
              {
                resource: 'orders',
                actions: ['cancel'],
                where: { userId: { principal: 'userId' }, status: 'open' },
                when: (who, order) => {
                  expectTypeOf(order).toEqualTypeOf<Order>();
                  return who.claims?.vip === true || order.id.startsWith('o');
                },
              },
            ],
          },
          // @ts-expect-error unknown role in inherits
          admin: { inherits: ['usr'] },
        },
      });
    // The same mistakes are refused at run time too (the first one found is named).
    expect(define).toThrow("role 'admin' inherits unknown role 'usr'");
  });

  it('accepts a principal with more fields, and a specific policy where any Policy is expected', () => {
    const fromToken = {
      userId: 'u1',
      email: 'a@example.com',
      role: 'user',
      sessionId: 's1',
      claims: { tenant: 't1' } as Record<string, unknown>,
    };
    seedPolicy.can(fromToken, 'orders:create');
    const anyPolicy: Policy = seedPolicy;
    anyPolicy.can(fromToken, 'whatever:action', {});
    expectTypeOf(anyPolicy.can(fromToken, 'x:y')).toEqualTypeOf<boolean>();
  });
});
