import { describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/errors.js';
import { seedPolicy } from '../../../src/policy/seed-policy.js';

const alice = {
  userId: 'u1',
  email: 'alice@example.com',
  role: 'user',
  sessionId: 's1',
  claims: {},
};
const bob = { userId: 'u2', email: 'bob@example.com', role: 'user', sessionId: 's2', claims: {} };
const admin = {
  userId: 'a1',
  email: 'admin@example.com',
  role: 'admin',
  sessionId: 's3',
  claims: {},
};

describe('seed authorization table', () => {
  describe('GET /api/users/:id (users:read)', () => {
    it('lets a user read their own record', () => {
      expect(seedPolicy.can(alice, 'users:read', { id: 'u1' })).toBe(true);
    });

    it("refuses a user reading another user's record (IDOR)", () => {
      expect(seedPolicy.can(alice, 'users:read', { id: 'u2' })).toBe(false);
    });

    it('lets an admin read any user', () => {
      expect(seedPolicy.can(admin, 'users:read', { id: 'u2' })).toBe(true);
    });
  });

  describe('PUT /api/users/:id (users:update)', () => {
    it('lets a user update their own record', () => {
      expect(seedPolicy.can(alice, 'users:update', { id: 'u1' })).toBe(true);
    });

    it("refuses a user updating another user's record", () => {
      expect(seedPolicy.can(bob, 'users:update', { id: 'u1' })).toBe(false);
    });

    it("refuses an admin updating another user's record (only their own)", () => {
      expect(seedPolicy.can(admin, 'users:update', { id: 'u1' })).toBe(false);
      expect(seedPolicy.can(admin, 'users:update', { id: 'a1' })).toBe(true);
    });
  });

  describe('DELETE /api/users/:id (users:delete)', () => {
    it('lets an admin delete any user', () => {
      expect(seedPolicy.can(admin, 'users:delete', { id: 'u1' })).toBe(true);
    });

    it('refuses a user deleting a user, even their own record', () => {
      expect(seedPolicy.can(alice, 'users:delete', { id: 'u2' })).toBe(false);
      expect(seedPolicy.can(alice, 'users:delete', { id: 'u1' })).toBe(false);
    });

    it('throws FORBIDDEN from authorize() for a user deleting a user', () => {
      expect(() => seedPolicy.authorize(alice, 'users:delete', { id: 'u2' })).toThrow(
        expect.objectContaining({ code: 'FORBIDDEN', status: 403 }),
      );
      expect(() => seedPolicy.authorize(alice, 'users:delete')).toThrow(AuthError);
    });
  });

  describe('GET /api/users/:id/export (users:export)', () => {
    it('lets a user export their own data', () => {
      expect(seedPolicy.can(alice, 'users:export', { id: 'u1' })).toBe(true);
    });

    it("refuses a user exporting another user's data (IDOR on the export)", () => {
      expect(seedPolicy.can(alice, 'users:export', { id: 'u2' })).toBe(false);
      expect(seedPolicy.can(alice, 'users:export')).toBe(false);
    });

    it('lets an admin export any user', () => {
      expect(seedPolicy.can(admin, 'users:export', { id: 'u2' })).toBe(true);
    });
  });

  describe('the admin routes (users:list, users:ban, users:role)', () => {
    it('lets an admin list, ban and re-role users', () => {
      expect(seedPolicy.can(admin, 'users:list')).toBe(true);
      expect(seedPolicy.can(admin, 'users:ban', { id: 'u1' })).toBe(true);
      expect(seedPolicy.can(admin, 'users:role', { id: 'u1' })).toBe(true);
    });

    it('refuses a user listing, banning or re-roling anyone, their own record included (privilege escalation)', () => {
      expect(seedPolicy.can(alice, 'users:list')).toBe(false);
      for (const permission of ['users:ban', 'users:role'] as const) {
        expect(seedPolicy.can(alice, permission, { id: 'u2' })).toBe(false);
        expect(seedPolicy.can(alice, permission, { id: 'u1' })).toBe(false);
      }
      expect(() => seedPolicy.authorize(alice, 'users:role', { id: 'u1' })).toThrow(
        expect.objectContaining({ code: 'FORBIDDEN', status: 403 }),
      );
    });
  });

  describe('POST /api/orders (orders:create)', () => {
    it('lets any authenticated user create an order', () => {
      expect(seedPolicy.can(alice, 'orders:create')).toBe(true);
      expect(seedPolicy.can(admin, 'orders:create')).toBe(true);
    });

    it('refuses an unauthenticated caller', () => {
      expect(seedPolicy.can(null, 'orders:create')).toBe(false);
      expect(seedPolicy.can(undefined, 'orders:create')).toBe(false);
    });
  });

  describe('GET /api/orders (orders:read): the caller’s own orders', () => {
    it('lets a user read their own order', () => {
      expect(seedPolicy.can(alice, 'orders:read', { userId: 'u1' })).toBe(true);
    });

    it("refuses a user reading another user's order", () => {
      expect(seedPolicy.can(alice, 'orders:read', { userId: 'u2' })).toBe(false);
    });

    it("refuses an admin reading another user's order (admins list their own too)", () => {
      expect(seedPolicy.can(admin, 'orders:read', { userId: 'u1' })).toBe(false);
    });

    it('lists exactly the orders whose userId is the caller’s, as a filter', () => {
      expect(seedPolicy.filter(alice, 'orders:read')).toEqual({
        kind: 'where',
        anyOf: [[{ field: 'userId', equals: 'u1' }]],
        noneOf: [],
      });
    });

    it('answers “may read some order” with canSome() and “this order?” with can()', () => {
      expect(seedPolicy.canSome(alice, 'orders:read')).toBe(true);
      expect(seedPolicy.can(alice, 'orders:read')).toBe(false);
    });
  });

  it('declares the roles user and admin', () => {
    expect(seedPolicy.roles).toEqual(['user', 'admin']);
    expect(seedPolicy.hasRole('admin')).toBe(true);
    expect(seedPolicy.hasRole('root')).toBe(false);
  });

  it('denies a principal whose role is not in the policy (a forged or stale role)', () => {
    const root = { ...alice, role: 'root' };
    expect(seedPolicy.can(root, 'orders:create')).toBe(false);
    expect(seedPolicy.explain(root, 'orders:create').reason).toBe('unknown_role');
  });
});
