import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesPolicyFilter } from '../../../src/policy/filter.js';
import { definePolicy, type Policy } from '../../../src/policy/policy.js';

// Random policies over a small fixed model, checked against a naive reference interpreter.
const resources = { r0: ['a0', 'a1', 'a2'], r1: ['a0', 'a1'] } as const;
const permissions = ['r0:a0', 'r0:a1', 'r0:a2', 'r1:a0', 'r1:a1'] as const;
type Check = (typeof permissions)[number];

type Value = string | null | { principal: 'userId' | 'claims.t' };
type RuleSpec =
  | string
  | { resource: 'r0' | 'r1'; actions: '*' | string[]; where?: Record<string, Value> };
interface RoleSpec {
  inherits: string[];
  allow: RuleSpec[];
  deny: RuleSpec[];
}
type Spec = Record<string, RoleSpec>;

const value = fc.oneof(
  fc.constantFrom<Value>('u1', 'u2', null),
  fc.constantFrom<Value>({ principal: 'userId' }, { principal: 'claims.t' }),
);
const where = fc.dictionary(fc.constantFrom('f0', 'f1'), value, { minKeys: 1, maxKeys: 2 });
const rule: fc.Arbitrary<RuleSpec> = fc.oneof(
  fc.constantFrom(...permissions, 'r0:*', 'r1:*', '*'),
  fc
    .record({
      resource: fc.constantFrom<'r0' | 'r1'>('r0', 'r1'),
      star: fc.boolean(),
      picks: fc.subarray(['a0', 'a1'], { minLength: 1 }),
      where: fc.option(where, { nil: undefined }),
    })
    .map(
      ({ resource, star, picks, where }): RuleSpec => ({
        resource,
        actions: star ? '*' : picks,
        ...(where ? { where } : {}),
      }),
    ),
);
const spec: fc.Arbitrary<Spec> = fc.integer({ min: 1, max: 5 }).chain((n) =>
  fc
    .tuple(
      ...Array.from({ length: n }, (_, i) =>
        fc.record({
          // Only earlier roles as parents: inheritance stays acyclic, any depth.
          inherits: fc.subarray(Array.from({ length: i }, (_, j) => `role${j}`)),
          allow: fc.array(rule, { maxLength: 3 }),
          deny: fc.array(rule, { maxLength: 2 }),
        }),
      ),
    )
    .map((roles) => Object.fromEntries(roles.map((role, i) => [`role${i}`, role]))),
);
const principal = fc.record({
  userId: fc.constantFrom('u1', 'u2'),
  role: fc.constantFrom('role0', 'role1', 'role2', 'role3', 'role4', 'ghost'),
  claims: fc.option(fc.record({ t: fc.constantFrom('u1', 'u2') }), { nil: undefined }),
});
type Principal = { userId: string; role: string; claims?: { t: string } | undefined };
const fieldValue = fc.constantFrom<string | null | undefined>('u1', 'u2', null, undefined);
const resource = fc.option(
  fc
    .record({ f0: fieldValue, f1: fieldValue })
    .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))),
  { nil: undefined },
);
const check = fc.record({ principal, permission: fc.constantFrom(...permissions), resource });

function build(s: Spec): Policy {
  // biome-ignore lint/suspicious/noExplicitAny: random definitions are checked at run time
  return definePolicy({ resources, roles: s } as any) as unknown as Policy;
}

// --- the reference interpreter ---------------------------------------------------------------
function covers(r: RuleSpec, permission: Check): boolean {
  const [res, act] = permission.split(':');
  if (typeof r === 'string') return r === '*' || r === permission || r === `${res}:*`;
  return r.resource === res && (r.actions === '*' || r.actions.includes(act!));
}
/**
 * The meaning of a condition, written independently of the engine: true, false, or undefined
 * (unknown). A missing principal value makes it unknown; otherwise any term whose resource value
 * is present and different makes it false; otherwise a missing (or NULL where a value is wanted)
 * resource value makes it unknown.
 */
function holds(r: RuleSpec, p: Principal, res: Record<string, unknown> | undefined) {
  if (typeof r === 'string' || !r.where) return true;
  if (!res) return undefined;
  const terms = Object.entries(r.where).map(([field, v]) => ({
    actual: res[field],
    expected:
      v !== null && typeof v === 'object' ? (v.principal === 'userId' ? p.userId : p.claims?.t) : v,
  }));
  const missing = (t: { actual: unknown; expected: unknown }) =>
    t.actual === undefined || (t.actual === null && t.expected !== null);
  if (terms.some((t) => t.expected === undefined)) return undefined;
  if (terms.some((t) => !missing(t) && t.actual !== t.expected)) return false;
  if (terms.some(missing)) return undefined;
  return true;
}
function lineage(s: Spec, role: string): string[] {
  const seen = [role];
  for (let i = 0; i < seen.length; i++) {
    for (const parent of s[seen[i]!]!.inherits) if (!seen.includes(parent)) seen.push(parent);
  }
  return seen;
}
function matchingAllow(s: Spec, p: Principal, permission: Check, res?: Record<string, unknown>) {
  if (!s[p.role]) return false;
  return lineage(s, p.role).some((role) =>
    s[role]!.allow.some((r) => covers(r, permission) && holds(r, p, res) === true),
  );
}
function denyApplies(s: Spec, p: Principal, permission: Check, res?: Record<string, unknown>) {
  if (!s[p.role]) return true;
  return lineage(s, p.role).some((role) =>
    s[role]!.deny.some((r) => covers(r, permission) && holds(r, p, res) !== false),
  );
}

describe('policy properties (fast-check)', () => {
  it('a principal with no matching allow is never allowed', () => {
    fc.assert(
      fc.property(spec, check, (s, { principal: p, permission, resource: res }) => {
        if (!matchingAllow(s, p, permission, res)) {
          expect(build(s).can(p, permission, res)).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('adding a deny never turns a denial into an allow', () => {
    fc.assert(
      fc.property(
        spec,
        rule,
        fc.nat(),
        fc.array(check, { minLength: 1, maxLength: 10 }),
        (s, extra, at, checks) => {
          const roles = Object.keys(s);
          const target = roles[at % roles.length]!;
          const denied: Spec = {
            ...s,
            [target]: { ...s[target]!, deny: [...s[target]!.deny, extra] },
          };
          const before = build(s);
          const after = build(denied);
          for (const { principal: p, permission, resource: res } of checks) {
            if (!before.can(p, permission, res)) expect(after.can(p, permission, res)).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decides exactly as the reference: allowed iff some allow matches and no deny applies', () => {
    fc.assert(
      fc.property(spec, check, (s, { principal: p, permission, resource: res }) => {
        const expected =
          matchingAllow(s, p, permission, res) && !denyApplies(s, p, permission, res);
        expect(build(s).can(p, permission, res)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('explain() always reaches the same decision as can()', () => {
    fc.assert(
      fc.property(spec, check, (s, { principal: p, permission, resource: res }) => {
        const policy = build(s);
        const allowed = policy.can(p, permission, res);
        expect(policy.explain(p, permission, res).decision).toBe(allowed ? 'allow' : 'deny');
      }),
      { numRuns: 500 },
    );
  });

  it('filter() agrees with can() on every row, and canSome() whenever can() allows', () => {
    fc.assert(
      fc.property(spec, check, (s, { principal: p, permission, resource: res }) => {
        const policy = build(s);
        const row = res ?? {};
        const allowed = policy.can(p, permission, row);
        expect(matchesPolicyFilter(policy.filter(p, permission), row)).toBe(allowed);
        if (allowed) expect(policy.canSome(p, permission)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
