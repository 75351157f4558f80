import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../src/audit/events.js';
import { createAuth } from '../../../src/auth.js';
import { seedPolicy } from '../../../src/policy/seed-policy.js';

const alice = {
  userId: 'u1',
  email: 'alice@example.com',
  role: 'user',
  sessionId: 's1',
  claims: {},
};
const admin = {
  userId: 'a1',
  email: 'admin@example.com',
  role: 'admin',
  sessionId: 's2',
  claims: {},
};

function withPolicy() {
  const events: AuditEvent[] = [];
  const auth = createAuth({
    policy: seedPolicy,
    audit: (event) => {
      events.push(event);
    },
    clock: { now: () => Date.UTC(2025, 0, 1) },
  });
  return { auth, events };
}

describe('createAuth({ policy })', () => {
  it('answers can(), canSome(), explain() and filter() from the policy', () => {
    const { auth } = withPolicy();
    expect(auth.can(alice, 'users:read', { id: 'u1' })).toBe(true);
    expect(auth.can(alice, 'users:delete', { id: 'u2' })).toBe(false);
    expect(auth.canSome(alice, 'orders:read')).toBe(true);
    expect(auth.explain(admin, 'users:delete').decision).toBe('allow');
    expect(auth.filter(alice, 'orders:read')).toEqual(seedPolicy.filter(alice, 'orders:read'));
    // @ts-expect-error misspelt permission at an auth call site
    expect(auth.can(alice, 'users:delte')).toBe(false);
  });

  it('authorize() lets an allowed call through without an audit event', () => {
    const { auth, events } = withPolicy();
    auth.authorize(admin, 'users:delete', { id: 'u1' });
    expect(events).toEqual([]);
  });

  it('authorize() throws FORBIDDEN and emits ACCESS_DENIED naming the reason, never the resource', () => {
    const { auth, events } = withPolicy();
    const target = { id: 'u2', email: 'bob@example.com' };
    expect(() => auth.authorize(alice, 'users:read', target, { ip: '203.0.113.7' })).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN' }),
    );
    expect(events).toEqual([
      {
        timestamp: '2025-01-01T00:00:00.000Z',
        event: 'ACCESS_DENIED',
        status: 'failure',
        userId: 'u1',
        ip: '203.0.113.7',
        metadata: {
          permission: 'users:read',
          role: 'user',
          reason: 'condition_not_met',
          rule: null,
        },
      },
    ]);
    expect(JSON.stringify(events)).not.toContain('bob@example.com');
  });

  it('authorize() records the reason when the role is not in the policy', () => {
    const { auth, events } = withPolicy();
    expect(() => auth.authorize({ ...alice, role: 'root' }, 'orders:create')).toThrow();
    expect(events[0]?.metadata).toMatchObject({ reason: 'unknown_role', role: 'root' });
  });

  it('refuses to check without a policy, saying how to configure one', () => {
    const auth = createAuth();
    expect(() => auth.can(alice, 'users:read')).toThrow(
      expect.objectContaining({
        code: 'INVALID_CONFIG',
        message: expect.stringContaining('policy'),
      }),
    );
  });

  it('refuses a policy option that is not a policy', () => {
    expect(() => createAuth({ policy: { can: () => true } as never })).toThrow(
      expect.objectContaining({
        code: 'INVALID_CONFIG',
        message: expect.stringContaining('policy'),
      }),
    );
  });
});
