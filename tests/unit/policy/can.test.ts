import { describe, expect, it } from 'vitest';
import { definePolicy, resource } from '../../../src/policy/policy.js';

interface Doc {
  id: string;
  ownerId: string | null;
  tenantId: string;
  status: 'draft' | 'published' | 'archived';
  pages: number;
}

const principal = (role: string, userId = 'u1', claims: Record<string, unknown> = {}) => ({
  userId,
  role,
  email: `${userId}@example.com`,
  sessionId: 's1',
  claims,
});

describe('inheritance', () => {
  const policy = definePolicy({
    resources: { docs: ['read', 'write', 'publish', 'delete'], audit: ['read'] },
    roles: {
      reader: { allow: ['docs:read'] },
      writer: { inherits: ['reader'], allow: ['docs:write'] },
      editor: { inherits: ['writer'], allow: ['docs:publish'] },
      auditor: { allow: ['audit:read'] },
      chief: { inherits: ['editor', 'auditor'], allow: ['docs:delete'] },
    },
  });

  it('gives a role the permissions of every ancestor over several levels', () => {
    const chief = principal('chief');
    for (const permission of [
      'docs:read',
      'docs:write',
      'docs:publish',
      'docs:delete',
      'audit:read',
    ] as const) {
      expect(policy.can(chief, permission)).toBe(true);
    }
  });

  it('never gives a parent the permissions of its children', () => {
    expect(policy.can(principal('writer'), 'docs:publish')).toBe(false);
    expect(policy.can(principal('reader'), 'docs:write')).toBe(false);
  });

  it('inherits from several parents', () => {
    expect(policy.can(principal('chief'), 'audit:read')).toBe(true);
    expect(policy.can(principal('editor'), 'audit:read')).toBe(false);
  });

  it('accepts a diamond (two paths to the same ancestor)', () => {
    const diamond = definePolicy({
      resources: { docs: ['read', 'write'] },
      roles: {
        base: { allow: ['docs:read'] },
        left: { inherits: ['base'] },
        right: { inherits: ['base'] },
        both: { inherits: ['left', 'right'], allow: ['docs:write'] },
      },
    });
    expect(diamond.can(principal('both'), 'docs:read')).toBe(true);
  });
});

describe('deny', () => {
  const policy = definePolicy({
    resources: { docs: ['read', 'write', 'delete'] },
    roles: {
      staff: { allow: ['docs:*'] },
      intern: { inherits: ['staff'], deny: ['docs:delete'] },
      trainee: { inherits: ['intern'] },
      guest: { allow: ['*'], deny: ['*'] },
    },
  });

  it('beats an inherited allow', () => {
    expect(policy.can(principal('intern'), 'docs:delete')).toBe(false);
    expect(policy.can(principal('intern'), 'docs:write')).toBe(true);
  });

  it('is itself inherited, so it still beats the allow two levels down', () => {
    expect(policy.can(principal('trainee'), 'docs:delete')).toBe(false);
  });

  it('beats an allow of the same role', () => {
    expect(policy.can(principal('guest'), 'docs:read')).toBe(false);
  });

  it('applies a conditional deny only where its condition holds', () => {
    const guarded = definePolicy({
      resources: { docs: resource<Doc>()(['read', 'delete']) },
      roles: {
        staff: {
          allow: ['docs:*'],
          deny: [{ resource: 'docs', actions: ['delete'], where: { status: 'published' } }],
        },
      },
    });
    const staff = principal('staff');
    const doc: Doc = { id: 'd', ownerId: 'u1', tenantId: 't', status: 'draft', pages: 1 };
    expect(guarded.can(staff, 'docs:delete', doc)).toBe(true);
    expect(guarded.can(staff, 'docs:delete', { ...doc, status: 'published' })).toBe(false);
  });

  it('denies when a conditional deny cannot be ruled out: no resource given', () => {
    const guarded = definePolicy({
      resources: { docs: resource<Doc>()(['delete']) },
      roles: {
        staff: {
          allow: ['docs:delete'],
          deny: [{ resource: 'docs', actions: ['delete'], where: { status: 'published' } }],
        },
      },
    });
    expect(guarded.can(principal('staff'), 'docs:delete')).toBe(false);
  });

  it('denies when a conditional deny compares a field the resource lacks', () => {
    const guarded = definePolicy({
      resources: { docs: ['delete'] },
      roles: {
        staff: {
          allow: ['docs:delete'],
          deny: [{ resource: 'docs', actions: ['delete'], where: { status: 'published' } }],
        },
      },
    });
    expect(guarded.can(principal('staff'), 'docs:delete', { id: 'd' })).toBe(false);
  });
});

describe('wildcards', () => {
  const policy = definePolicy({
    resources: { docs: ['read', 'write'], users: ['read'] },
    roles: { docAdmin: { allow: ['docs:*'] }, root: { allow: ['*'] } },
  });

  it("'resource:*' grants every action of that resource only", () => {
    expect(policy.can(principal('docAdmin'), 'docs:write')).toBe(true);
    expect(policy.can(principal('docAdmin'), 'users:read')).toBe(false);
  });

  it("'*' grants every declared permission", () => {
    for (const permission of policy.permissions) {
      expect(policy.can(principal('root'), permission)).toBe(true);
    }
  });

  it('treats a wildcard passed to a check as an undeclared permission, not as "all"', () => {
    // A JavaScript caller (or a permission built from a request) must not widen the check.
    expect(policy.can(principal('docAdmin'), 'docs:*' as 'docs:read')).toBe(false);
    expect(policy.can(principal('root'), '*' as 'docs:read')).toBe(false);
  });
});

describe('conditions', () => {
  const policy = definePolicy({
    resources: { docs: resource<Doc>()(['read', 'write', 'publish', 'archive']) },
    roles: {
      member: {
        allow: [
          {
            resource: 'docs',
            actions: ['read'],
            where: { tenantId: { principal: 'claims.tenantId' } },
          },
          { resource: 'docs', actions: ['write'], where: { ownerId: { principal: 'userId' } } },
          {
            resource: 'docs',
            actions: ['publish'],
            where: { ownerId: { principal: 'userId' }, status: 'draft' },
          },
          {
            resource: 'docs',
            actions: ['archive'],
            when: function shortDoc(_p, doc) {
              return doc.pages < 10;
            },
          },
        ],
      },
    },
  });
  const member = principal('member', 'u1', { tenantId: 't1' });
  const doc: Doc = { id: 'd1', ownerId: 'u1', tenantId: 't1', status: 'draft', pages: 3 };

  it('grants when the resource field equals the principal field', () => {
    expect(policy.can(member, 'docs:write', doc)).toBe(true);
  });

  it('refuses when it does not', () => {
    expect(policy.can(member, 'docs:write', { ...doc, ownerId: 'u2' })).toBe(false);
  });

  it('compares with a claim of the principal', () => {
    expect(policy.can(member, 'docs:read', doc)).toBe(true);
    expect(policy.can(member, 'docs:read', { ...doc, tenantId: 't2' })).toBe(false);
  });

  it('requires every field of a where to hold', () => {
    expect(policy.can(member, 'docs:publish', doc)).toBe(true);
    expect(policy.can(member, 'docs:publish', { ...doc, status: 'published' })).toBe(false);
  });

  it('uses a function condition for anything else', () => {
    expect(policy.can(member, 'docs:archive', doc)).toBe(true);
    expect(policy.can(member, 'docs:archive', { ...doc, pages: 12 })).toBe(false);
  });

  it('fails closed: a conditional grant checked without a resource answers no', () => {
    expect(policy.can(member, 'docs:write')).toBe(false);
    expect(policy.can(member, 'docs:write', undefined)).toBe(false);
  });

  it('answers "may they do this to some doc" with canSome()', () => {
    expect(policy.canSome(member, 'docs:write')).toBe(true);
    expect(policy.canSome(principal('stranger'), 'docs:write')).toBe(false);
    expect(policy.canSome(null, 'docs:write')).toBe(false);
  });

  it('denies, without throwing, when the resource lacks the compared field', () => {
    expect(policy.can(member, 'docs:write', { id: 'd1' } as unknown as Doc)).toBe(false);
  });

  it('denies when both the resource field and the principal field are missing (undefined === undefined attack)', () => {
    const anonymousish = { userId: undefined, role: 'member' } as unknown as typeof member;
    expect(policy.can(anonymousish, 'docs:write', { id: 'd1' } as unknown as Doc)).toBe(false);
  });

  it('denies when the resource field is null and the principal has no such claim', () => {
    const noTenant = principal('member', 'u1', {});
    expect(policy.can(noTenant, 'docs:read', { ...doc, tenantId: null as unknown as string })).toBe(
      false,
    );
  });

  it('denies a principal without claims instead of throwing', () => {
    const bare = { userId: 'u1', role: 'member' };
    expect(policy.can(bare, 'docs:read', doc)).toBe(false);
  });

  it('is not fooled by inherited prototype fields (constructor === constructor attack)', () => {
    const proto = definePolicy({
      resources: { docs: ['read'] },
      roles: {
        member: {
          allow: [
            {
              resource: 'docs',
              actions: ['read'],
              where: { constructor: { principal: 'claims.constructor' as const } },
            },
          ],
        },
      },
    });
    expect(proto.can(member, 'docs:read', {})).toBe(false);
  });

  it('denies when the resource is not an object', () => {
    expect(policy.can(member, 'docs:write', 'd1' as unknown as Doc)).toBe(false);
  });

  it('denies, without throwing, when a function condition throws', () => {
    const throwing = definePolicy({
      resources: { docs: resource<Doc>()(['read']) },
      roles: {
        member: {
          allow: [
            {
              resource: 'docs',
              actions: ['read'],
              when: (_p, d) => (d as unknown as { meta: { public: boolean } }).meta.public,
            },
          ],
        },
      },
    });
    expect(throwing.can(member, 'docs:read', doc)).toBe(false);
  });

  it('denies when a function condition returns a truthy non-boolean (an async function’s promise)', () => {
    const asyncCondition = definePolicy({
      resources: { docs: ['read'] },
      roles: {
        member: {
          allow: [
            {
              resource: 'docs',
              actions: ['read'],
              when: (async () => false) as unknown as () => boolean,
            },
          ],
        },
      },
    });
    expect(asyncCondition.can(member, 'docs:read', doc)).toBe(false);
  });

  it('matches a literal null only against null, not a missing field', () => {
    const orphan = definePolicy({
      resources: { docs: ['claim'] },
      roles: {
        member: { allow: [{ resource: 'docs', actions: ['claim'], where: { ownerId: null } }] },
      },
    });
    expect(orphan.can(member, 'docs:claim', { ownerId: null })).toBe(true);
    expect(orphan.can(member, 'docs:claim', {})).toBe(false);
    expect(orphan.can(member, 'docs:claim', { ownerId: 'u2' })).toBe(false);
  });

  it('grants when any of several conditional allows holds', () => {
    const either = definePolicy({
      resources: { docs: resource<Doc>()(['read']) },
      roles: {
        member: {
          allow: [
            { resource: 'docs', actions: ['read'], where: { ownerId: { principal: 'userId' } } },
            { resource: 'docs', actions: ['read'], where: { status: 'published' } },
          ],
        },
      },
    });
    expect(either.can(member, 'docs:read', { ...doc, ownerId: 'u9', status: 'published' })).toBe(
      true,
    );
    expect(either.can(member, 'docs:read', { ...doc, ownerId: 'u9' })).toBe(false);
  });
});

describe('principals the policy does not know', () => {
  const policy = definePolicy({
    resources: { docs: ['read'] },
    roles: { member: { allow: ['docs:read'] } },
  });

  it('denies a role that is not in the policy, without throwing', () => {
    expect(policy.can(principal('superuser'), 'docs:read')).toBe(false);
  });

  it('denies a role named like an Object.prototype member (__proto__ attack)', () => {
    expect(policy.can(principal('__proto__'), 'docs:read')).toBe(false);
    expect(policy.can(principal('constructor'), 'docs:read')).toBe(false);
  });

  it('denies a principal whose role is not a string', () => {
    expect(
      policy.can(
        { userId: 'u1', role: ['member'] } as unknown as { userId: string; role: string },
        'docs:read',
      ),
    ).toBe(false);
  });

  it('denies a permission that is not declared (a JavaScript caller’s typo)', () => {
    expect(policy.can(principal('member'), 'doc:read' as 'docs:read')).toBe(false);
  });
});
