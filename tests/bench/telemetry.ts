// The cost of telemetry (issue 16): authenticated req/s of the same gatehouse server with
// telemetry off (no provider registered: createAuth holds the no-op, the stores are not wrapped)
// and on (the SDK's MeterProvider and TracerProvider registered as the global providers before
// createAuth, recording every instrument and span, exporting nothing: see servers/telemetry-sdk.ts).
// Each server in its own process, autocannon with 50 keep-alive connections, interleaved rounds
// (off and on alternate, so machine noise hits both alike). Then the same calls in this process,
// off and on: the microseconds telemetry adds to each, which the load of the machine blurs less.
import { createAuth, seedPolicy } from '../../src/index.js';
import { internalsOf } from '../../src/internal/handle.js';
import { CountingHasher } from '../helpers/fakes.js';
import {
  checkServer,
  cpuFigureName,
  SERVERS as HTTP_SERVERS,
  type Measured,
  measureCases,
  planOf,
  startAll,
} from './http.js';
import { type TokenFeed, TokenPool } from './load.js';
import { runCases } from './measure.js';
import type { RunningServer, ServerSpec } from './processes.js';
import {
  type BenchContext,
  type Figure,
  figureOf,
  ratioOfMedians,
  ratioTarget,
  type SuiteResult,
  type Target,
} from './report.js';
import { benchTelemetryProviders } from './servers/telemetry-sdk.js';

/** The servers, one process each: the http suite's gatehouse servers, without and with the SDK. */
export const SERVERS = {
  expressOff: { ...HTTP_SERVERS.expressAuthenticate, telemetry: false },
  expressOn: { ...HTTP_SERVERS.expressAuthenticate, telemetry: true },
  fastifyOff: { ...HTTP_SERVERS.fastifyAuthenticate, telemetry: false },
  fastifyOn: { ...HTTP_SERVERS.fastifyAuthenticate, telemetry: true },
  expressAuthorizeOff: { ...HTTP_SERVERS.expressAuthorize, telemetry: false },
  expressAuthorizeOn: { ...HTTP_SERVERS.expressAuthorize, telemetry: true },
  fastifyAuthorizeOff: { ...HTTP_SERVERS.fastifyAuthorize, telemetry: false },
  fastifyAuthorizeOn: { ...HTTP_SERVERS.fastifyAuthorize, telemetry: true },
} as const satisfies Record<string, ServerSpec>;

type ServerKey = keyof typeof SERVERS;

interface TelemetryCase {
  name: string;
  server: ServerKey;
  mode: 'warm' | 'fresh';
}

/** Every pair: off, then on, next to each other in each round. */
export const CASES: readonly TelemetryCase[] = [
  { name: 'warm: Express authenticate(), telemetry off', server: 'expressOff', mode: 'warm' },
  { name: 'warm: Express authenticate(), telemetry on', server: 'expressOn', mode: 'warm' },
  { name: 'warm: Fastify authenticate, telemetry off', server: 'fastifyOff', mode: 'warm' },
  { name: 'warm: Fastify authenticate, telemetry on', server: 'fastifyOn', mode: 'warm' },
  {
    name: 'warm: Express authenticate()+authorize(), telemetry off',
    server: 'expressAuthorizeOff',
    mode: 'warm',
  },
  {
    name: 'warm: Express authenticate()+authorize(), telemetry on',
    server: 'expressAuthorizeOn',
    mode: 'warm',
  },
  {
    name: 'warm: Fastify authenticate+authorize, telemetry off',
    server: 'fastifyAuthorizeOff',
    mode: 'warm',
  },
  {
    name: 'warm: Fastify authenticate+authorize, telemetry on',
    server: 'fastifyAuthorizeOn',
    mode: 'warm',
  },
  { name: 'fresh: Express authenticate(), telemetry off', server: 'expressOff', mode: 'fresh' },
  { name: 'fresh: Express authenticate(), telemetry on', server: 'expressOn', mode: 'fresh' },
  { name: 'fresh: Fastify authenticate, telemetry off', server: 'fastifyOff', mode: 'fresh' },
  { name: 'fresh: Fastify authenticate, telemetry on', server: 'fastifyOn', mode: 'fresh' },
];

const OFF = ', telemetry off';
const ON = ', telemetry on';

/** The target for each pair: on / off ≥ 0.95 (within 5 %). */
export const BOUND = 0.95;

/** One target per off/on pair of {@link CASES}, named after the pair. */
export function telemetryTargets(figures: readonly Figure[]): Target[] {
  const byName = new Map(figures.map((f) => [f.name, f]));
  const targets: Target[] = [];
  for (const off of CASES.filter((c) => c.name.endsWith(OFF))) {
    const pair = off.name.slice(0, -OFF.length);
    targets.push(
      ratioTarget(
        `${pair}: telemetry on / off`,
        byName.get(`${pair}${ON}`),
        byName.get(off.name),
        '>=',
        BOUND,
      ),
    );
  }
  return targets;
}

/** One instance of the in-process part: its token, principal and the calls timed. */
async function inProcessInstance(telemetry: boolean, verifiedCacheSize?: number) {
  const auth = createAuth({
    policy: seedPolicy,
    passwordHasher: new CountingHasher(),
    rateLimits: { login: false, refresh: false, register: false },
    identifierKey: 'bench-identifier-key-0123456789',
    tokens: {
      keys: [{ kid: 'bench', alg: 'HS256', key: 'bench-secret-0123456789-abcdefghijklmnop' }],
      issuer: 'bench',
      audience: 'bench',
      ...(verifiedCacheSize === undefined ? {} : { verifiedCacheSize }),
    },
    telemetry: telemetry ? benchTelemetryProviders() : false,
  });
  if (internalsOf(auth).telemetry.enabled !== telemetry) {
    throw new Error(`in-process instance: telemetry is not ${telemetry ? 'on' : 'off'}`);
  }
  const email = 'bench@example.com';
  const password = 'correct horse battery staple';
  const user = await auth.register({ email, password, name: 'Bench' });
  const { token } = await auth.login({ email, password });
  // The adapters' hot path: the principal itself (no promise) on a cache hit.
  const verify = internalsOf(auth).verifyAccessToken;
  const principal = await verify(token);
  const own = { id: user.id };
  return {
    warm: () => verify(token),
    authorize: () => {
      const p = verify(token);
      auth.authorize(p instanceof Promise ? principal : p, 'users:read', own);
    },
    login: () => auth.login({ email, password }),
  };
}

/**
 * The same calls in this process, telemetry off and on, in alternating rounds: the cost per
 * call in microseconds, which does not depend on the load of the machine as req/s does.
 */
async function inProcess(ctx: BenchContext): Promise<Figure[]> {
  const off = await inProcessInstance(false);
  const on = await inProcessInstance(true);
  // Verified-token cache off: every call a signature check (a cache_miss and a verify span).
  const offMiss = await inProcessInstance(false, 0);
  const onMiss = await inProcessInstance(true, 0);
  const kinds = [
    ['warm authenticate (cache hit)', off.warm, on.warm],
    ['warm authenticate + authorize', off.authorize, on.authorize],
    ['authenticate, cache off (signature check)', offMiss.warm, onMiss.warm],
    ['login (fake hasher, memory stores)', off.login, on.login],
  ] as const;
  const cases = kinds.flatMap(([label, fnOff, fnOn]) => [
    { name: `in-process: ${label}, telemetry off`, fn: fnOff },
    { name: `in-process: ${label}, telemetry on`, fn: fnOn },
  ]);
  ctx.log('in-process: the hot path and a login, telemetry off and on');
  const results = await runCases(
    cases,
    ctx.quick ? { rounds: 5, roundSeconds: 0.1 } : { rounds: 9, roundSeconds: 0.25 },
  );
  const figures: Figure[] = [];
  for (const [label] of kinds) {
    const offSamples = results.get(`in-process: ${label}, telemetry off`)?.samples ?? [];
    const onSamples = results.get(`in-process: ${label}, telemetry on`)?.samples ?? [];
    figures.push(
      figureOf(`in-process: ${label}, telemetry off`, 'ops/s', offSamples),
      figureOf(`in-process: ${label}, telemetry on`, 'ops/s', onSamples),
      // Per round: the time of one call on, minus one call off (the rounds alternate them).
      figureOf(
        `in-process: ${label}, added by telemetry`,
        'µs',
        onSamples.map((o, i) => 1e6 / o - 1e6 / (offSamples[i] ?? Number.NaN)),
      ),
    );
  }
  return figures;
}

export async function run(ctx: BenchContext): Promise<SuiteResult> {
  const plan = planOf(ctx.quick);
  const notes: string[] = [];
  ctx.log(`starting ${Object.keys(SERVERS).length} server processes (telemetry off and on)`);
  const servers = await startAll(SERVERS);
  try {
    // A server checks at start that its telemetry is on or off as asked (it exits otherwise).
    for (const server of Object.values(servers) as RunningServer[]) {
      const pool = server.tokens;
      await checkServer(server, pool.length > 1 ? [pool[0]!, pool.at(-1)!] : [pool[0]!]);
    }
    const pools = new Map<ServerKey, TokenPool>();
    const feedOf = (key: ServerKey, mode: 'warm' | 'fresh'): (() => TokenFeed) => {
      const server = servers[key];
      if (mode === 'warm') return () => ({ mode: 'warm', token: server.tokens[0]! });
      let pool = pools.get(key);
      if (!pool) {
        pool = new TokenPool(server.tokens);
        pools.set(key, pool);
      }
      const p = pool;
      return () => ({ mode: 'fresh', pool: p });
    };
    const cases: Measured[] = CASES.map((c) => ({
      name: c.name,
      server: servers[c.server],
      feed: feedOf(c.server, c.mode),
    }));
    const cache = servers.expressOff.cacheSize ?? Number.NaN;
    notes.push(
      `${plan.connections} connections, ${plan.rounds} interleaved rounds of ${plan.seconds} s per case (after ${plan.warmupSeconds} s of warm-up each); every server its own process, autocannon in the bench process.`,
      "telemetry on: @opentelemetry/sdk-metrics MeterProvider (a reader that is never collected: every instrument records and aggregates, nothing is exported) and @opentelemetry/sdk-trace-base BasicTracerProvider (AlwaysOn sampling, a BatchSpanProcessor whose exporter discards), registered as the global providers before createAuth; no context manager (an application registers its own: its cost is not gatehouse's). telemetry off: no provider registered (createAuth holds the no-op, stores unwrapped).",
      `warm: one token, the verified-token cache hit (gatehouse.token.verifications{cache_hit} per request, no span); fresh: a pool of ${servers.expressOff.tokens.length} distinct tokens (cache ${cache}), every request a signature check (a cache_miss counter); authorize adds gatehouse.authz.decisions{allow} per request.`,
    );
    const figures = [...(await measureCases(ctx, cases, plan, notes)), ...(await inProcess(ctx))];
    const byName = new Map(figures.map((f) => [f.name, f]));
    const cpuRatios = CASES.filter((c) => c.name.endsWith(OFF)).map((c) => {
      const pair = c.name.slice(0, -OFF.length);
      const ratio = ratioOfMedians(
        byName.get(cpuFigureName(c.name)),
        byName.get(cpuFigureName(`${pair}${ON}`)),
      );
      return `${pair} ${Number.isFinite(ratio) ? ratio.toFixed(3) : 'n/a'}`;
    });
    notes.push(
      `server CPU per request, off over on (what on / off req/s would be if the server alone were the limit): ${cpuRatios.join('; ')}.`,
    );
    notes.push(
      'in-process: the same calls in the bench process (no HTTP), off and on in alternating rounds; "added by telemetry" is the time of one call on minus one call off, per round: the cost that does not depend on the machine\'s load. At r req/s off, an added t µs predicts on / off = 1 / (1 + r·t / 10⁶).',
    );
    return {
      suite: 'telemetry',
      title: 'The cost of telemetry: authenticated req/s with telemetry off vs on',
      figures,
      targets: telemetryTargets(figures),
      notes,
    };
  } finally {
    await Promise.all(Object.values(servers).map((s) => (s as RunningServer).stop()));
  }
}
