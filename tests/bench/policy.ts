// Policy checks: gatehouse vs @casl/ability (a prebuilt ability per user, and build + check) and
// casbin (enforceSync), all on the same model: the seed's users/orders policy.
import { AbilityBuilder, createMongoAbility, type MongoAbility, subject } from '@casl/ability';
import { newEnforcer, newModelFromString, StringAdapter } from 'casbin';
import { seedPolicy } from '../../src/policy/seed-policy.js';
import { printTable, runCases } from './measure.js';

interface Principal {
  userId: string;
  email: string;
  role: string;
  sessionId: string;
  claims: Record<string, unknown>;
}

const user: Principal = {
  userId: 'u1',
  email: 'u1@example.com',
  role: 'user',
  sessionId: 's1',
  claims: {},
};
const admin: Principal = {
  userId: 'a1',
  email: 'admin@example.com',
  role: 'admin',
  sessionId: 's2',
  claims: {},
};
const ownOrder = { id: 'o1', userId: 'u1', total: '10.00' };
const otherUser = { id: 'u2', email: 'u2@example.com', name: 'Two', role: 'user' };

// CASL: the same rules, built per principal.
function caslAbility(principal: Principal): MongoAbility {
  const { can, build } = new AbilityBuilder<MongoAbility>(createMongoAbility);
  can(['read', 'update'], 'users', { id: principal.userId });
  can('create', 'orders');
  can('read', 'orders', { userId: principal.userId });
  if (principal.role === 'admin') can(['read', 'delete'], 'users');
  return build();
}
const caslUser = caslAbility(user);
const caslAdmin = caslAbility(admin);
const caslOwnOrder = subject('orders', { ...ownOrder });
const caslOtherUser = subject('users', { ...otherUser });

// casbin: RBAC with ABAC ownership conditions in the matcher.
const casbinModel = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act, cond

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub.role, p.sub) && r.obj.type == p.obj && r.act == p.act && (p.cond == "any" || (p.cond == "own_id" && r.obj.id == r.sub.userId) || (p.cond == "own_userId" && r.obj.userId == r.sub.userId))
`;
const casbinPolicy = `
p, user, users, read, own_id
p, user, users, update, own_id
p, user, orders, create, any
p, user, orders, read, own_userId
p, admin, users, read, any
p, admin, users, delete, any
g, admin, user
`;
const casbinOwnOrder = { type: 'orders', ...ownOrder };
const casbinOtherUser = { type: 'users', ...otherUser };

function expect(name: string, actual: boolean, expected: boolean): void {
  if (actual !== expected) throw new Error(`bench model mismatch: ${name} gave ${actual}`);
}

export async function run(): Promise<void> {
  const enforcer = await newEnforcer(
    newModelFromString(casbinModel),
    new StringAdapter(casbinPolicy),
  );

  // Every implementation must give the same answers before we time it.
  for (const [name, allowed, denied, adminOk] of [
    [
      'gatehouse',
      seedPolicy.can(user, 'orders:read', ownOrder),
      seedPolicy.can(user, 'users:read', otherUser),
      seedPolicy.can(admin, 'users:read', otherUser),
    ],
    [
      'casl',
      caslUser.can('read', caslOwnOrder),
      caslUser.can('read', caslOtherUser),
      caslAdmin.can('read', caslOtherUser),
    ],
    [
      'casbin',
      enforcer.enforceSync(user, casbinOwnOrder, 'read'),
      enforcer.enforceSync(user, casbinOtherUser, 'read'),
      enforcer.enforceSync(admin, casbinOtherUser, 'read'),
    ],
  ] as const) {
    expect(`${name} allowed ownership`, allowed, true);
    expect(`${name} denied`, denied, false);
    expect(`${name} admin`, adminOk, true);
  }

  let sink = 0;
  const scenarios = [
    {
      title: 'allowed ownership check (user reads own order)',
      gatehouse: () => seedPolicy.can(user, 'orders:read', ownOrder),
      casl: () => caslUser.can('read', caslOwnOrder),
      caslBuild: () => caslAbility(user).can('read', caslOwnOrder),
      casbin: () => enforcer.enforceSync(user, casbinOwnOrder, 'read'),
    },
    {
      title: "denied check (user reads another user's record)",
      gatehouse: () => seedPolicy.can(user, 'users:read', otherUser),
      casl: () => caslUser.can('read', caslOtherUser),
      caslBuild: () => caslAbility(user).can('read', caslOtherUser),
      casbin: () => enforcer.enforceSync(user, casbinOtherUser, 'read'),
    },
    {
      title: 'admin check (admin reads any user)',
      gatehouse: () => seedPolicy.can(admin, 'users:read', otherUser),
      casl: () => caslAdmin.can('read', caslOtherUser),
      caslBuild: () => caslAbility(admin).can('read', caslOtherUser),
      casbin: () => enforcer.enforceSync(admin, casbinOtherUser, 'read'),
    },
  ];

  for (const s of scenarios) {
    const results = await runCases([
      { name: 'gatehouse can()', fn: () => (sink += s.gatehouse() ? 1 : 0) },
      { name: 'casl prebuilt ability', fn: () => (sink += s.casl() ? 1 : 0) },
      { name: 'casl build + check', fn: () => (sink += s.caslBuild() ? 1 : 0) },
      { name: 'casbin enforceSync', fn: () => (sink += s.casbin() ? 1 : 0) },
    ]);
    printTable(`policy: ${s.title}`, results, [
      { name: 'gatehouse can()', baseline: 'casl prebuilt ability' },
      { name: 'casl prebuilt ability' },
      { name: 'casl build + check' },
      { name: 'casbin enforceSync' },
    ]);
    const g = results.get('gatehouse can()')!.opsPerSec;
    const ratio = (name: string): string => (g / results.get(name)!.opsPerSec).toFixed(1);
    console.log(
      `gatehouse is ${ratio('casl prebuilt ability')}x CASL prebuilt, ${ratio('casl build + check')}x CASL build+check, ${ratio('casbin enforceSync')}x casbin`,
    );
  }

  // Per-request setup: CASL needs an ability per user; gatehouse checks the verified principal
  // as is. explain() is the opt-in slow path.
  const setup = await runCases([
    { name: 'casl: build ability for a user', fn: () => (sink += caslAbility(user) ? 1 : 0) },
    {
      name: 'gatehouse explain() (denied, on demand)',
      fn: () => (sink += seedPolicy.explain(user, 'users:read', otherUser).reason.length),
    },
  ]);
  printTable('policy: per-request setup and explain', setup, [
    { name: 'casl: build ability for a user' },
    { name: 'gatehouse explain() (denied, on demand)' },
  ]);
  const buildMicros = 1e6 / setup.get('casl: build ability for a user')!.opsPerSec;
  console.log(
    `per-request setup: gatehouse none (0 µs: checks the verified principal directly); CASL ${buildMicros.toFixed(2)} µs per ability build`,
  );
  if (sink === -1) console.log(sink);
}
