// HTTP under concurrency: each server in its own process, loaded by autocannon with 50
// keep-alive connections, in interleaved rounds (every case once per round, same order), so
// that machine noise hits every case alike. Two token modes: one warm token (the verified-token
// cache hit, the common case), and a fresh token on every request (a pool of distinct valid
// tokens larger than the cache: every request is a signature check).
import { loadRound, roundProblem, type TokenFeed, TokenPool } from './load.js';
import {
  cpuSecondsOf,
  describeSpec,
  placement,
  type RunningServer,
  type ServerSpec,
  startServer,
  withLoadPinned,
} from './processes.js';
import {
  type BenchContext,
  type Figure,
  figureOf,
  interleave,
  ratioOfMedians,
  ratioTarget,
  type SuiteResult,
  type Target,
} from './report.js';

/** The servers, one process each. */
export const SERVERS = {
  expressBare: { framework: 'express', variant: 'bare' },
  fastifyBare: { framework: 'fastify', variant: 'bare' },
  expressJwt: { framework: 'express', variant: 'peer' },
  fastifyJwt: { framework: 'fastify', variant: 'peer' },
  expressAuthenticate: { framework: 'express', variant: 'authenticate', pool: true },
  fastifyAuthenticate: { framework: 'fastify', variant: 'authenticate', pool: true },
  expressAuthorize: { framework: 'express', variant: 'authorize' },
  fastifyAuthorize: { framework: 'fastify', variant: 'authorize' },
} as const satisfies Record<string, ServerSpec>;

export type ServerKey = keyof typeof SERVERS;

/** One measured case: a server, and the token mode of its requests. */
export interface HttpCase {
  name: string;
  server: ServerKey;
  mode: 'warm' | 'fresh';
  /**
   * A bare server's route: `/` (the default), or `GET /users/:id`, the route shape of the
   * authorize case, so that its baseline pays the same routing (a route parameter) as it does.
   */
  route?: 'root' | 'user';
}

export const CASES: readonly HttpCase[] = [
  { name: 'warm: Express bare', server: 'expressBare', mode: 'warm' },
  { name: 'warm: Express express-jwt', server: 'expressJwt', mode: 'warm' },
  { name: 'warm: Express gatehouse authenticate()', server: 'expressAuthenticate', mode: 'warm' },
  {
    name: 'warm: Express gatehouse authenticate()+authorize()',
    server: 'expressAuthorize',
    mode: 'warm',
  },
  {
    name: 'warm: Express bare GET /users/:id',
    server: 'expressBare',
    mode: 'warm',
    route: 'user',
  },
  { name: 'warm: Fastify bare', server: 'fastifyBare', mode: 'warm' },
  {
    name: 'warm: Fastify bare GET /users/:id',
    server: 'fastifyBare',
    mode: 'warm',
    route: 'user',
  },
  { name: 'warm: Fastify @fastify/jwt', server: 'fastifyJwt', mode: 'warm' },
  { name: 'warm: Fastify gatehouse authenticate', server: 'fastifyAuthenticate', mode: 'warm' },
  {
    name: 'warm: Fastify gatehouse authenticate+authorize',
    server: 'fastifyAuthorize',
    mode: 'warm',
  },
  { name: 'fresh: Express express-jwt', server: 'expressJwt', mode: 'fresh' },
  { name: 'fresh: Express gatehouse authenticate()', server: 'expressAuthenticate', mode: 'fresh' },
  { name: 'fresh: Fastify @fastify/jwt', server: 'fastifyJwt', mode: 'fresh' },
  { name: 'fresh: Fastify gatehouse authenticate', server: 'fastifyAuthenticate', mode: 'fresh' },
];

/** The issue's targets, as ratios of the medians of two cases (req/s). */
export const TARGETS: readonly {
  name: string;
  numerator: string;
  denominator: string;
  bound: number;
}[] = [
  {
    name: 'warm: Express authenticate() / Express bare',
    numerator: 'warm: Express gatehouse authenticate()',
    denominator: 'warm: Express bare',
    bound: 0.95,
  },
  {
    name: 'warm: Fastify authenticate / Fastify bare',
    numerator: 'warm: Fastify gatehouse authenticate',
    denominator: 'warm: Fastify bare',
    bound: 0.95,
  },
  {
    name: 'warm: Express authenticate() / express-jwt',
    numerator: 'warm: Express gatehouse authenticate()',
    denominator: 'warm: Express express-jwt',
    bound: 3,
  },
  {
    name: 'warm: Fastify authenticate / @fastify/jwt',
    numerator: 'warm: Fastify gatehouse authenticate',
    denominator: 'warm: Fastify @fastify/jwt',
    bound: 2,
  },
  {
    name: 'fresh: Express authenticate() / express-jwt',
    numerator: 'fresh: Express gatehouse authenticate()',
    denominator: 'fresh: Express express-jwt',
    bound: 1,
  },
  {
    name: 'fresh: Fastify authenticate / @fastify/jwt',
    numerator: 'fresh: Fastify gatehouse authenticate',
    denominator: 'fresh: Fastify @fastify/jwt',
    bound: 1,
  },
  {
    name: 'warm: Express authenticate()+authorize() / Express bare GET /users/:id',
    numerator: 'warm: Express gatehouse authenticate()+authorize()',
    denominator: 'warm: Express bare GET /users/:id',
    bound: 0.9,
  },
  {
    name: 'warm: Fastify authenticate+authorize / Fastify bare GET /users/:id',
    numerator: 'warm: Fastify gatehouse authenticate+authorize',
    denominator: 'warm: Fastify bare GET /users/:id',
    bound: 0.9,
  },
];

/** Computes the targets from the figures by name (a missing figure: the target is missed). */
export function httpTargets(figures: readonly Figure[]): Target[] {
  const byName = new Map(figures.map((f) => [f.name, f]));
  return TARGETS.map((t) =>
    ratioTarget(t.name, byName.get(t.numerator), byName.get(t.denominator), '>=', t.bound),
  );
}

/**
 * Each target's counterpart in server CPU time: the baseline's median µs/request over the
 * case's (as req/s would compare if the server alone were the limit), NaN when unmeasured.
 */
export function cpuRatios(figures: readonly Figure[]): { name: string; value: number }[] {
  const byName = new Map(figures.map((f) => [f.name, f]));
  return TARGETS.map((t) => ({
    name: t.name,
    value: ratioOfMedians(
      byName.get(cpuFigureName(t.denominator)),
      byName.get(cpuFigureName(t.numerator)),
    ),
  }));
}

export interface LoadPlan {
  connections: number;
  rounds: number;
  /** Seconds per case per round. */
  seconds: number;
  /** Seconds of unmeasured load per case before the rounds (JIT, caches, connections). */
  warmupSeconds: number;
}

export function planOf(quick: boolean): LoadPlan {
  return quick
    ? { connections: 50, rounds: 3, seconds: 2, warmupSeconds: 0.5 }
    : { connections: 50, rounds: 5, seconds: 5, warmupSeconds: 2 };
}

/** The id in the path of a bare server's `GET /users/:id` (as long as a user id). */
export const BARE_USER_ID = '00000000-0000-4000-8000-000000000000';

/** The request path of a server's guarded route (of a bare server's `route`). */
export function pathOf(server: RunningServer, route: HttpCase['route'] = 'root'): string {
  if (server.spec.variant === 'authorize') return `/users/${server.userId}`;
  return route === 'user' ? `/users/${BARE_USER_ID}` : '/';
}

async function status(url: string, token?: string): Promise<number> {
  const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  await response.arrayBuffer();
  return response.status;
}

/**
 * Checks a server before loading it: a guarded route refuses a request without a token (the
 * guard is really there) and accepts each token given (the tokens are valid there).
 */
export async function checkServer(server: RunningServer, tokens: readonly string[]): Promise<void> {
  const url = server.url + pathOf(server);
  const guarded = server.spec.variant !== 'bare';
  const anonymous = await status(url);
  if (guarded && anonymous !== 401) {
    throw new Error(`${describeSpec(server.spec)} answered ${anonymous} without a token, not 401`);
  }
  for (const token of tokens) {
    const s = await status(url, token);
    if (s !== 200) throw new Error(`${describeSpec(server.spec)} answered ${s} to a valid token`);
  }
  if (!guarded) {
    const s = await status(server.url + pathOf(server, 'user'), tokens[0]);
    if (s !== 200) throw new Error(`${describeSpec(server.spec)} answered ${s} on GET /users/:id`);
  }
}

/** Starts servers (in parallel) and stops all of them if one fails. */
export async function startAll<K extends string>(
  specs: Record<K, ServerSpec>,
): Promise<Record<K, RunningServer>> {
  const entries = Object.entries(specs) as [K, ServerSpec][];
  const settled = await Promise.allSettled(entries.map(([, spec]) => startServer(spec)));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    throw (failed as PromiseRejectedResult).reason;
  }
  return Object.fromEntries(
    entries.map(([key], i) => [key, (settled[i] as PromiseFulfilledResult<RunningServer>).value]),
  ) as Record<K, RunningServer>;
}

export interface Measured {
  name: string;
  server: RunningServer;
  feed: () => TokenFeed;
  /** The route of a bare server (see {@link HttpCase.route}). */
  route?: HttpCase['route'];
}

/** The name of a case's server-CPU figure (CPU time of the server process per request). */
export function cpuFigureName(caseName: string): string {
  return `${caseName} server CPU`;
}

/**
 * Server CPU time per request in microseconds: the CPU seconds the server process used during
 * a round (every thread: the event loop, GC, libuv) over the requests it answered.
 */
export function cpuPerRequest(cpuSeconds: number, requests: number): number {
  return requests > 0 && Number.isFinite(cpuSeconds) && cpuSeconds >= 0
    ? (cpuSeconds * 1e6) / requests
    : Number.NaN;
}

/**
 * Runs the interleaved rounds over the cases and returns each case's req/s, server CPU per
 * request and p99 figures. The load runs pinned (see {@link placement}). A round with a non-2xx
 * response, an error or a timeout gives no sample (and a note).
 */
export async function measureCases(
  ctx: BenchContext,
  cases: readonly Measured[],
  plan: LoadPlan,
  notes: string[],
): Promise<Figure[]> {
  const where = placement();
  notes.push(
    `${where.description}; "server CPU" is the server process's CPU time (user + system, every thread, from /proc/<pid>/stat) per request answered in the round: less sensitive than req/s to what else the machine runs.`,
  );
  const load = (c: Measured, duration: number) =>
    loadRound({
      url: c.server.url,
      path: pathOf(c.server, c.route),
      connections: plan.connections,
      duration,
      tokens: c.feed(),
    });
  const rps = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const cpu = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const p99 = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  await withLoadPinned(async () => {
    for (const c of cases) {
      ctx.log(`warm-up ${c.name} (${plan.warmupSeconds} s)`);
      await load(c, plan.warmupSeconds);
    }
    for (const { round, item } of interleave(cases, plan.rounds)) {
      const before = cpuSecondsOf(item.server.pid);
      const result = await load(item, plan.seconds);
      const perRequest = cpuPerRequest(cpuSecondsOf(item.server.pid) - before, result.total);
      const problem = roundProblem(result);
      if (problem) {
        notes.push(`round ${round + 1} of "${item.name}" gave no sample: ${problem}`);
        ctx.log(`round ${round + 1}/${plan.rounds} ${item.name}: VOID (${problem})`);
        continue;
      }
      rps.get(item.name)!.push(result.rps);
      cpu.get(item.name)!.push(perRequest);
      p99.get(item.name)!.push(result.p99);
      ctx.log(
        `round ${round + 1}/${plan.rounds} ${item.name}: ${result.rps.toFixed(0)} req/s, server CPU ${perRequest.toFixed(2)} µs/req, p99 ${result.p99} ms`,
      );
    }
  });
  return [
    ...cases.flatMap((c) => [
      figureOf(c.name, 'req/s', rps.get(c.name)!),
      figureOf(cpuFigureName(c.name), 'µs/req', cpu.get(c.name)!),
    ]),
    ...cases.map((c) => figureOf(`${c.name} p99 latency`, 'ms', p99.get(c.name)!)),
  ];
}

export async function run(ctx: BenchContext): Promise<SuiteResult> {
  const plan = planOf(ctx.quick);
  const notes: string[] = [];
  ctx.log(`starting ${Object.keys(SERVERS).length} server processes`);
  const servers = await startAll(SERVERS);
  try {
    // Every side gets the same token strings: minted by gatehouse (HS256, the shared secret,
    // issuer and audience), so the peers verify exactly what gatehouse verifies.
    const shared = servers.expressAuthenticate.tokens;
    const warmToken = (server: RunningServer) => server.tokens[0] ?? shared[0]!;
    // gatehouse servers verify their own pool (their sessions); the peers take the shared one.
    const poolOf = (server: RunningServer) => (server.tokens.length > 0 ? server.tokens : shared);
    const fresh = new Set(CASES.filter((c) => c.mode === 'fresh').map((c) => c.server));
    for (const [key, server] of Object.entries(servers) as [ServerKey, RunningServer][]) {
      const pool = poolOf(server);
      const tokens = fresh.has(key)
        ? [warmToken(server), pool[0]!, pool.at(-1)!]
        : [warmToken(server)];
      await checkServer(server, tokens);
    }
    const pools = new Map<ServerKey, TokenPool>();
    const feedOf = (key: ServerKey, mode: 'warm' | 'fresh'): (() => TokenFeed) => {
      const server = servers[key];
      if (mode === 'warm') return () => ({ mode: 'warm', token: warmToken(server) });
      let pool = pools.get(key);
      if (!pool) {
        pool = new TokenPool(poolOf(server));
        pools.set(key, pool);
      }
      const p = pool;
      return () => ({ mode: 'fresh', pool: p });
    };
    const cache = servers.expressAuthenticate.cacheSize ?? Number.NaN;
    notes.push(
      `${plan.connections} connections, ${plan.rounds} interleaved rounds of ${plan.seconds} s per case (after ${plan.warmupSeconds} s of warm-up each); every server its own process, autocannon in the bench process.`,
      `fresh mode: a pool of ${shared.length} distinct valid tokens per gatehouse server (its verified-token cache holds ${cache}), taken in turn, so no request finds its token cached; the peers get the same token strings.`,
      "every request carries the Authorization header, bare routes too; authorize() checks users:read on the caller's own record (GET /users/:id, seedPolicy), and its target compares it with the bare server's GET /users/:id (the same routing, a route parameter, which alone costs a bare Fastify route about 5 %).",
    );
    const cases: Measured[] = CASES.map((c) => ({
      name: c.name,
      server: servers[c.server],
      feed: feedOf(c.server, c.mode),
      ...(c.route ? { route: c.route } : {}),
    }));
    const figures = await measureCases(ctx, cases, plan, notes);
    notes.push(
      `server CPU per request, the baseline's over the case's (each target's CPU-bound counterpart): ${cpuRatios(
        figures,
      )
        .map((r) => `${r.name} ${Number.isFinite(r.value) ? r.value.toFixed(3) : 'n/a'}`)
        .join('; ')}.`,
    );
    return {
      suite: 'http',
      title: 'HTTP under concurrency (autocannon, separate server processes)',
      figures,
      targets: httpTargets(figures),
      notes,
    };
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  }
}
