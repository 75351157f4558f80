// Redis: the counters of the login path on Redis vs PostgreSQL, and the example app scaled out.
//
// 1. Operations per second of the two counter operations every login pays: the lockout
//    reservation (AttemptStore.reserve) and the rate-limit hit (RateLimitStore.hit), on Redis
//    (gatehouse/redis, one ioredis connection) and on PostgreSQL (gatehouse/postgres, a pg.Pool
//    of 10, as the example app has), with the same 50 operations in flight, in interleaved rounds.
// 2. Authenticated req/s (GET /api/auth/me, one warm token) of the Express example with REDIS_URL
//    and DATABASE_URL: one instance, against two instances on the same PostgreSQL and Redis. One
//    instance: one autocannon run with C connections; two instances: two autocannon runs in
//    parallel (C/2 connections each, so the same C in total) and their 2xx/s summed. Interleaved.
//
// Redis: REDIS_URL, or else a throwaway redis-server started here (loopback, free port, no
// persistence) when the binary exists; otherwise the suite is skipped with a note saying so.
// PostgreSQL: DATABASE_URL (npm run bench provides one when PostgreSQL's binaries exist), in a
// database of the suite's own, dropped at the end; without it the parts that need it are skipped.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createPostgresStores, migrate } from '../../adapters/postgres/index.js';
import { createRedisStores } from '../../adapters/redis/index.js';
import type { AttemptStore, RateLimitStore } from '../../src/index.js';
import { type RunningExample, request, startExample } from '../e2e/example-process.js';
import { loadRound, roundProblem } from './load.js';
import {
  type BenchContext,
  type Figure,
  figureOf,
  interleave,
  type SuiteResult,
} from './report.js';

const TITLE = 'Redis counters vs PostgreSQL, and the example on two instances vs one';
const IN_FLIGHT = 50;
const KEYS = 10_000;

interface OwnRedis {
  url: string;
  stop(): Promise<void>;
}

function redisServerBin(): string | undefined {
  return [process.env['REDIS_SERVER_BIN'], '/usr/bin/redis-server', '/usr/local/bin/redis-server']
    .filter((p): p is string => !!p)
    .find((p) => existsSync(p));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A throwaway redis-server, as scripts/with-redis.sh starts one. */
async function startRedis(bin: string): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-redis-'));
  const child: ChildProcess = spawn(
    bin,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return { url, stop };
    } catch {
    } finally {
      probe.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`redis-server on port ${port} did not answer`);
}

/** Runs `op` with `inFlight` calls outstanding for `seconds`; resolves to completed ops/s. */
async function opsPerSecond(
  op: (n: number) => Promise<unknown>,
  inFlight: number,
  seconds: number,
): Promise<number> {
  let next = 0;
  let done = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        await op(next++);
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

function counterCases(attempts: AttemptStore, rateLimits: RateLimitStore, store: string) {
  // Many keys, limits never reached: every operation is the common case, a counted attempt.
  const lockout = {
    maxAttempts: 1_000_000,
    windowMs: 900_000,
    lockMs: 60_000,
    backoffFactor: 2,
    maxLockMs: 3_600_000,
  };
  return [
    {
      name: `reserve (lockout), ${store}`,
      op: (n: number) =>
        attempts.reserve(`login:bench-${n % KEYS}`, { ...lockout, now: Date.now() }),
    },
    {
      name: `hit (rate limit), ${store}`,
      op: (n: number) =>
        rateLimits.hit(`login:10.${(n >> 8) % 40}.${n % 250}.1`, {
          now: Date.now(),
          windowMs: 60_000,
          limit: 1_000_000,
        }),
    },
  ];
}

/** A database of the suite's own on the server of DATABASE_URL. */
async function createDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `gh_bench_redis_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export async function run(ctx: BenchContext): Promise<SuiteResult> {
  const notes: string[] = [];
  const figures: Figure[] = [];
  let own: OwnRedis | undefined;
  let redisUrl = process.env['REDIS_URL'];
  if (!redisUrl) {
    const bin = redisServerBin();
    if (!bin) {
      return {
        suite: 'redis',
        title: TITLE,
        figures: [],
        targets: [],
        notes: [
          'skipped: no Redis server (REDIS_URL is not set and no redis-server binary was found; `apt-get install redis-server`, or run under `bash scripts/with-redis.sh`).',
        ],
      };
    }
    ctx.log('starting a throwaway redis-server');
    own = await startRedis(bin);
    redisUrl = own.url;
    notes.push(`Redis: a throwaway redis-server on ${new URL(redisUrl).host} (${bin}).`);
  } else {
    notes.push(`Redis: REDIS_URL (${new URL(redisUrl).host}).`);
  }
  const serverUrl = process.env['DATABASE_URL'];
  const rounds = ctx.quick ? 3 : 5;
  const seconds = ctx.quick ? 1 : 3;
  const client = new Redis(redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
  });
  client.on('error', () => {});
  const closers: (() => Promise<unknown>)[] = [async () => client.disconnect()];
  try {
    await client.connect();
    const redis = createRedisStores(client, {
      prefix: `gh-bench:${randomBytes(4).toString('hex')}:`,
    });
    const cases = counterCases(redis.stores.attempts, redis.stores.rateLimits, 'Redis');
    let database: Awaited<ReturnType<typeof createDatabase>> | undefined;
    if (serverUrl) {
      database = await createDatabase(serverUrl);
      closers.push(() => database!.drop());
      const pool = new pg.Pool({ connectionString: database.url, max: 10 });
      closers.push(() => pool.end());
      await migrate(pool);
      const db = createPostgresStores(pool, { revocations: { listen: false } });
      cases.push(...counterCases(db.stores.attempts, db.stores.rateLimits, 'PostgreSQL'));
    } else {
      notes.push(
        'PostgreSQL figures skipped: DATABASE_URL is not set (npm run bench starts a throwaway server when PostgreSQL is installed).',
      );
    }
    notes.push(
      `counter operations: ${IN_FLIGHT} in flight on one ioredis connection (Redis) or a pg.Pool of 10 (PostgreSQL), ${KEYS} keys, ${rounds} interleaved rounds of ${seconds} s.`,
    );
    const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
    for (const { round, item } of interleave(cases, rounds)) {
      // Warm-up: the first round's first second is not counted (scripts loaded, pool filled).
      if (round === 0) await opsPerSecond(item.op, IN_FLIGHT, 0.5);
      const ops = await opsPerSecond(item.op, IN_FLIGHT, seconds);
      samples.get(item.name)!.push(ops);
      ctx.log(`round ${round + 1}/${rounds} ${item.name}: ${ops.toFixed(0)} ops/s`);
    }
    for (const c of cases) figures.push(figureOf(c.name, 'ops/s', samples.get(c.name)!));
    for (const what of ['reserve (lockout)', 'hit (rate limit)']) {
      const r = samples.get(`${what}, Redis`)!;
      const p = samples.get(`${what}, PostgreSQL`);
      if (p && p.length === r.length) {
        figures.push(
          figureOf(
            `${what}: Redis / PostgreSQL (per round)`,
            'x',
            r.map((v, i) => v / p[i]!),
          ),
        );
      }
    }

    if (database) {
      figures.push(...(await scaleOut(ctx, database.url, redisUrl, rounds, notes, closers)));
    } else {
      notes.push('two instances vs one skipped: the example needs DATABASE_URL.');
    }
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
    await own?.stop();
  }
  return { suite: 'redis', title: TITLE, figures, targets: [], notes };
}

/** Authenticated req/s of the example: one instance vs two on the same PostgreSQL and Redis. */
async function scaleOut(
  ctx: BenchContext,
  databaseUrl: string,
  redisUrl: string,
  rounds: number,
  notes: string[],
  closers: (() => Promise<unknown>)[],
): Promise<Figure[]> {
  const connections = 50;
  const seconds = ctx.quick ? 3 : 8;
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    JWT_SECRET: randomBytes(32).toString('hex'),
    AUTH_IDENTIFIER_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'info',
  };
  ctx.log('starting two instances of the Express example');
  const instances: RunningExample[] = [];
  closers.push(() => Promise.all(instances.map((i) => i.stop())));
  instances.push(await startExample('express-api', env));
  instances.push(await startExample('express-api', env));
  const [a, b] = instances as [RunningExample, RunningExample];
  const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
  const password = 'quiet harbour lantern 42 violet';
  const registered = await request(`${a.url}/api/auth/register`, {
    body: { email, password, name: 'Bench' },
  });
  if (registered.status !== 201) throw new Error(`register: ${JSON.stringify(registered.body)}`);
  const session = await request(`${a.url}/api/auth/login`, { body: { email, password } });
  if (session.status !== 200) throw new Error(`login: ${JSON.stringify(session.body)}`);
  const token = session.body.token as string;
  for (const app of instances) {
    const me = await request(`${app.url}/api/auth/me`, { token });
    if (me.status !== 200) throw new Error(`${app.url}/api/auth/me: ${me.status}`);
  }
  notes.push(
    `two instances vs one: the Express example with DATABASE_URL and REDIS_URL, GET /api/auth/me with one warm token, ${connections} keep-alive connections in total (one instance: one autocannon run of ${connections}; two: two runs of ${connections / 2} in parallel, one per instance, 2xx/s summed), ${rounds} interleaved rounds of ${seconds} s. autocannon runs in the bench process, on the same machine: with ${cpus().length} CPUs shared by both instances, PostgreSQL, Redis and autocannon, a second instance gains only what idle cores there are.`,
  );
  const load = (url: string, n: number) =>
    loadRound({
      url,
      path: '/api/auth/me',
      connections: n,
      duration: seconds,
      tokens: { mode: 'warm', token },
    });
  // Warm-up (JIT, connections, caches) on both instances, not counted.
  await Promise.all([load(a.url, connections / 2), load(b.url, connections / 2)]);
  const one: number[] = [];
  const two: number[] = [];
  for (const { round, item } of interleave(['one', 'two'] as const, rounds)) {
    const results =
      item === 'one'
        ? [await load(a.url, connections)]
        : await Promise.all([load(a.url, connections / 2), load(b.url, connections / 2)]);
    const problem = results.map(roundProblem).find((p) => p !== null);
    if (problem) notes.push(`round ${round + 1}, ${item} instance(s): ${problem}`);
    const rps = results.reduce((sum, r) => sum + r.rps, 0);
    (item === 'one' ? one : two).push(rps);
    ctx.log(`round ${round + 1}/${rounds} ${item} instance(s): ${rps.toFixed(0)} req/s`);
  }
  return [
    figureOf('GET /api/auth/me, one instance', 'req/s', one),
    figureOf('GET /api/auth/me, two instances (summed)', 'req/s', two),
    figureOf(
      'two instances / one (per round)',
      'x',
      two.map((v, i) => v / one[i]!),
    ),
  ];
}
