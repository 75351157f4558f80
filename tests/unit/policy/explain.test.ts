import { describe, expect, it } from 'vitest';
import { definePolicy, resource } from '../../../src/policy/policy.js';
import { seedPolicy } from '../../../src/policy/seed-policy.js';

const alice = { userId: 'u1', role: 'user' };
const admin = { userId: 'a1', role: 'admin' };

describe('explain', () => {
  it('names the rule and the role that allowed, including an inherited rule', () => {
    const why = seedPolicy.explain(admin, 'orders:create');
    expect(why).toMatchObject({
      decision: 'allow',
      reason: 'allowed',
      permission: 'orders:create',
      role: 'admin',
      rule: {
        role: 'user',
        effect: 'allow',
        index: 1,
        permissions: 'orders:create',
        condition: null,
      },
    });
  });

  it('names the conditional rule that allowed, with its condition in words', () => {
    const why = seedPolicy.explain(alice, 'users:read', { id: 'u1' });
    expect(why.decision).toBe('allow');
    expect(why.rule).toEqual({
      role: 'user',
      effect: 'allow',
      index: 0,
      permissions: 'users:read, users:update',
      condition: 'id = principal.userId',
    });
  });

  it('says no rule allows it when the role has none', () => {
    const why = seedPolicy.explain(alice, 'users:delete', { id: 'u2' });
    expect(why).toMatchObject({ decision: 'deny', reason: 'no_rule', rule: null, role: 'user' });
    expect(why.message).toContain("No rule of role 'user'");
  });

  it('lists the conditional allows that did not hold', () => {
    const why = seedPolicy.explain(alice, 'users:read', { id: 'u2' });
    expect(why.reason).toBe('condition_not_met');
    expect(why.considered).toEqual([expect.objectContaining({ role: 'user', index: 0 })]);
  });

  it('says a resource is required when only conditional allows exist and none was given', () => {
    const why = seedPolicy.explain(alice, 'orders:read');
    expect(why).toMatchObject({ decision: 'deny', reason: 'resource_required' });
    expect(why.message).toContain('canSome()');
  });

  it('says the role is unknown, and lists the declared roles', () => {
    const why = seedPolicy.explain({ userId: 'u1', role: 'root' }, 'orders:create');
    expect(why).toMatchObject({ decision: 'deny', reason: 'unknown_role', role: 'root' });
    expect(why.message).toContain('declared: user, admin');
  });

  it('says the permission is unknown', () => {
    const why = seedPolicy.explain(alice, 'orders:delete' as 'orders:read');
    expect(why.reason).toBe('unknown_permission');
  });

  it('says there is no principal', () => {
    expect(seedPolicy.explain(null, 'orders:create')).toMatchObject({
      decision: 'deny',
      reason: 'no_principal',
      role: null,
    });
  });

  const guarded = definePolicy({
    resources: { docs: resource<{ status: string }>()(['delete']) },
    roles: {
      staff: { allow: ['docs:delete'] },
      intern: {
        inherits: ['staff'],
        deny: [{ resource: 'docs', actions: ['delete'], where: { status: 'published' } }],
      },
      visitor: { inherits: ['staff'], deny: ['docs:*'] },
    },
  });

  it('names the deny rule that beat an inherited allow', () => {
    const why = guarded.explain({ userId: 'u1', role: 'intern' }, 'docs:delete', {
      status: 'published',
    });
    expect(why).toMatchObject({
      decision: 'deny',
      reason: 'denied_by_rule',
      rule: { role: 'intern', effect: 'deny', index: 0, condition: "status = 'published'" },
    });
  });

  it('names an unconditional deny', () => {
    const why = guarded.explain({ userId: 'u1', role: 'visitor' }, 'docs:delete');
    expect(why).toMatchObject({
      reason: 'denied_by_rule',
      rule: { role: 'visitor', effect: 'deny', permissions: 'docs:*' },
    });
  });

  it('says a conditional deny could not be ruled out without a resource', () => {
    const why = guarded.explain({ userId: 'u1', role: 'intern' }, 'docs:delete');
    expect(why).toMatchObject({ decision: 'deny', reason: 'deny_not_ruled_out' });
  });

  it('never includes the resource’s data (safe for an ACCESS_DENIED audit event)', () => {
    const secret = { id: 'u2', email: 'secret@example.com', passwordHash: '$2b$10$abcdef' };
    const text = JSON.stringify(seedPolicy.explain(alice, 'users:read', secret));
    expect(text).not.toContain('secret@example.com');
    expect(text).not.toContain('$2b$10$abcdef');
    expect(text).not.toContain('u2');
  });
});
