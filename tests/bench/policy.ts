// Policy checks: gatehouse vs @casl/ability (a prebuilt ability per user, and build + check) and
// casbin (enforceSync), all on the same model: the seed's users/orders policy.
import { AbilityBuilder, createMongoAbility, type MongoAbility, subject } from '@casl/ability';
import { newEnforcer, newModelFromString, StringAdapter } from 'casbin';
import { seedPolicy } from '../../src/policy/seed-policy.js';
import { figuresOf, ratioFigure, runCases } from './measure.js';
import { type BenchContext, type Figure, figureOf, type SuiteResult } from './report.js';

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

export async function run(ctx: BenchContext): Promise<SuiteResult> {
  const rounds = ctx.quick ? { rounds: 5, roundSeconds: 0.05 } : { rounds: 7, roundSeconds: 0.15 };
  const figures: Figure[] = [];
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

  const names = {
    gatehouse: 'gatehouse can()',
    casl: 'CASL prebuilt ability',
    caslBuild: 'CASL build + check',
    casbin: 'casbin enforceSync',
  };
  for (const s of scenarios) {
    ctx.log(`policy: ${s.title}`);
    const results = await runCases(
      [
        { name: names.gatehouse, fn: () => (sink += s.gatehouse() ? 1 : 0) },
        { name: names.casl, fn: () => (sink += s.casl() ? 1 : 0) },
        { name: names.caslBuild, fn: () => (sink += s.caslBuild() ? 1 : 0) },
        { name: names.casbin, fn: () => (sink += s.casbin() ? 1 : 0) },
      ],
      rounds,
    );
    const prefix = `${s.title}: `;
    figures.push(
      ...figuresOf(results, Object.values(names), prefix),
      ratioFigure(`${prefix}gatehouse / CASL prebuilt`, results, names.gatehouse, names.casl),
      ratioFigure(
        `${prefix}gatehouse / CASL build + check`,
        results,
        names.gatehouse,
        names.caslBuild,
      ),
      ratioFigure(`${prefix}gatehouse / casbin`, results, names.gatehouse, names.casbin),
    );
  }

  // Per-request setup: CASL needs an ability per user; gatehouse checks the verified principal
  // as is. explain() is the opt-in slow path.
  const build = 'CASL: build an ability for a user';
  const explain = 'gatehouse explain() (denied, on demand)';
  const setup = await runCases(
    [
      { name: build, fn: () => (sink += caslAbility(user) ? 1 : 0) },
      {
        name: explain,
        fn: () => (sink += seedPolicy.explain(user, 'users:read', otherUser).reason.length),
      },
    ],
    rounds,
  );
  figures.push(...figuresOf(setup, [build, explain]));
  figures.push(
    figureOf(
      'CASL ability build per request',
      'µs',
      (setup.get(build)?.samples ?? []).map((ops) => 1e6 / ops),
    ),
  );
  if (sink === -1) console.log(sink);
  return {
    suite: 'policy',
    title: 'Policy checks vs CASL and casbin (in process, the seed policy)',
    figures,
    targets: [],
    notes: [
      'the same model in all three, checked to give the same answers before timing; gatehouse needs no per-user setup (it checks the verified principal directly), CASL builds an ability per user.',
    ],
  };
}
