import { describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/errors.js';
import { definePolicy } from '../../../src/policy/policy.js';

// The definitions below are deliberately wrong; `loose` lets them past the compiler, as a policy
// loaded from JSON or written in JavaScript would be.
// biome-ignore lint/suspicious/noExplicitAny: building invalid definitions on purpose
const loose = (definition: unknown) => () => definePolicy(definition as any);

const resources = { users: ['read', 'update', 'delete'], orders: ['create', 'read'] };

function refusal(build: () => unknown): AuthError {
  try {
    build();
  } catch (err) {
    if (err instanceof AuthError) return err;
    throw err;
  }
  throw new Error('definePolicy accepted an invalid definition');
}

describe('definePolicy refuses a bad definition at construction', () => {
  it('refuses an unknown role in inherits, naming both roles', () => {
    const err = refusal(loose({ resources, roles: { user: {}, admin: { inherits: ['usr'] } } }));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain("role 'admin' inherits unknown role 'usr'");
  });

  it('refuses an inheritance cycle, naming the roles in the cycle', () => {
    const err = refusal(
      loose({
        resources,
        roles: {
          a: { inherits: ['b'] },
          b: { inherits: ['c'] },
          c: { inherits: ['a'] },
        },
      }),
    );
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain('inheritance cycle: a -> b -> c -> a');
  });

  it('refuses a role inheriting itself', () => {
    expect(refusal(loose({ resources, roles: { a: { inherits: ['a'] } } })).message).toContain(
      'inheritance cycle: a -> a',
    );
  });

  it('refuses an unknown resource in a permission string, naming it', () => {
    const err = refusal(loose({ resources, roles: { user: { allow: ['user:read'] } } }));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain("role 'user' allow[0]: unknown resource 'user' in 'user:read'");
  });

  it('refuses an unknown resource in a rule object', () => {
    const err = refusal(
      loose({ resources, roles: { user: { deny: [{ resource: 'invoices', actions: '*' }] } } }),
    );
    expect(err.message).toContain("role 'user' deny[0]: unknown resource 'invoices'");
  });

  it('refuses an unknown action, naming it and the declared actions', () => {
    const err = refusal(loose({ resources, roles: { user: { allow: ['users:delte'] } } }));
    expect(err.message).toContain("unknown action 'delte' of resource 'users'");
    expect(err.message).toContain('declared: read, update, delete');
  });

  it.each([['usersread'], ['users:read:extra'], [':read'], ['users:'], ['']])(
    'refuses the malformed permission string %j',
    (permission) => {
      const err = refusal(loose({ resources, roles: { user: { allow: [permission] } } }));
      expect(err.code).toBe('INVALID_CONFIG');
      expect(err.message).toContain(`malformed permission '${permission}'`);
    },
  );

  it('refuses a permission that is not a string', () => {
    expect(refusal(loose({ resources, roles: { user: { allow: [42] } } })).message).toContain(
      "role 'user' allow[0] must be a permission string",
    );
  });

  it('refuses a misspelt rule key instead of granting unconditionally (`were` for `where`)', () => {
    const err = refusal(
      loose({
        resources,
        roles: {
          user: { allow: [{ resource: 'users', actions: ['read'], were: { id: 'x' } }] },
        },
      }),
    );
    expect(err.message).toContain("role 'user' allow[0] has unknown key 'were'");
  });

  it('refuses a misspelt role key instead of declaring an empty role (`allows`)', () => {
    expect(
      refusal(loose({ resources, roles: { user: { allows: ['users:read'] } } })).message,
    ).toContain("role 'user' has unknown key 'allows'");
  });

  it('refuses an unknown principal field in a condition', () => {
    const err = refusal(
      loose({
        resources,
        roles: {
          user: {
            allow: [{ resource: 'users', actions: ['read'], where: { id: { principal: 'uid' } } }],
          },
        },
      }),
    );
    expect(err.message).toContain("where.id: unknown principal field 'uid'");
  });

  it('refuses a condition value that is neither a literal nor a principal reference', () => {
    const err = refusal(
      loose({
        resources,
        roles: {
          user: { allow: [{ resource: 'users', actions: ['read'], where: { id: ['u1'] } }] },
        },
      }),
    );
    expect(err.message).toContain('where.id must be a string, number, boolean, bigint, null');
  });

  it('refuses an empty where (it would grant unconditionally)', () => {
    const err = refusal(
      loose({
        resources,
        roles: { user: { allow: [{ resource: 'users', actions: ['read'], where: {} }] } },
      }),
    );
    expect(err.message).toContain("role 'user' allow[0].where is empty");
  });

  it('refuses a condition field that is not an identifier (it becomes a SQL column)', () => {
    const err = refusal(
      loose({
        resources,
        roles: {
          user: {
            allow: [{ resource: 'users', actions: ['read'], where: { 'id; DROP': 'x' } }],
          },
        },
      }),
    );
    expect(err.message).toContain("field 'id; DROP' must be an identifier");
  });

  it('refuses a `when` that is not a function', () => {
    const err = refusal(
      loose({
        resources,
        roles: { user: { allow: [{ resource: 'users', actions: ['read'], when: true }] } },
      }),
    );
    expect(err.message).toContain("role 'user' allow[0].when must be a function");
  });

  it('refuses an empty actions list in a rule', () => {
    const err = refusal(
      loose({ resources, roles: { user: { allow: [{ resource: 'users', actions: [] }] } } }),
    );
    expect(err.message).toContain('`actions` must be');
  });

  it('refuses a resource or action name containing ":" or "*"', () => {
    expect(refusal(loose({ resources: { 'a:b': ['read'] }, roles: { r: {} } })).message).toContain(
      "resource name 'a:b'",
    );
    expect(refusal(loose({ resources: { a: ['re*d'] }, roles: { r: {} } })).message).toContain(
      "action 're*d' of resource 'a'",
    );
  });

  it('refuses a resource declared without actions', () => {
    expect(refusal(loose({ resources: { a: [] }, roles: { r: {} } })).message).toContain(
      "resource 'a' declares no actions",
    );
  });

  it('refuses a definition without roles or without resources', () => {
    expect(refusal(loose({ resources, roles: {} })).message).toContain('`roles`');
    expect(refusal(loose({ roles: { r: {} } })).message).toContain('`resources`');
  });
});
