// Two instances of the Express example (separate processes) on one PostgreSQL database and one
// Redis, as `npm run example:cluster` runs them: the lockout and the per-IP login limit are
// counted in Redis, so they hold across instances; a Redis outage fails login closed (503,
// nothing evaluated) and service comes back by itself; a logout on one instance reaches the
// other through the Redis revocation fan-out.
//
//   bash scripts/with-redis.sh bash scripts/with-postgres.sh npx vitest run tests/e2e/redis-cluster.test.ts
//
// Real servers only: skipped without REDIS_URL and DATABASE_URL. The test stops and restarts
// Redis, so it runs a redis-server of its own (REDIS_SERVER_BIN, with an append-only file so the
// counters survive the restart), and a database of its own on the PostgreSQL server.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OwnRedisServer } from '../redis/servers.js';
import { type RunningExample, request, startExample } from './example-process.js';

const SERVER_URL = process.env.DATABASE_URL || undefined;
const SKIP = !process.env.REDIS_URL || !SERVER_URL;

const THRESHOLD = 3;
const LOGIN_LIMIT = 8;
const PASSWORD = 'quiet harbour lantern 42';
const PREFIX = 'gatehouse-example:';

let redis: OwnRedisServer;
let admin: Redis;
let database: string;
let a: RunningExample;
let b: RunningExample;
const emails: string[] = [];

async function createDatabase(name: string): Promise<string> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(SERVER_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropDatabase(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

const login = (app: RunningExample, email: string, password: string) =>
  request(`${app.url}/api/auth/login`, { body: { email, password } });

/** The lockout counters in Redis: key -> attempts. */
async function attemptCounters(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const key of await admin.keys(`${PREFIX}attempts:*`)) {
    out.set(key, Number(await admin.hget(key, 'attempts')));
  }
  return out;
}

async function register(app: RunningExample): Promise<string> {
  const email = `cluster-${randomBytes(4).toString('hex')}@example.com`;
  const res = await request(`${app.url}/api/auth/register`, {
    body: { email, password: PASSWORD, name: 'Cluster Test' },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  emails.push(email);
  return email;
}

describe.skipIf(SKIP)('two example instances on one PostgreSQL and one Redis', () => {
  beforeAll(async () => {
    // Persisted (append-only file, fsync on every write) so a restart keeps the counters.
    redis = await OwnRedisServer.start(['--appendonly', 'yes', '--appendfsync', 'always']);
    admin = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    admin.on('error', () => {});
    database = `gh_cluster_${randomBytes(4).toString('hex')}`;
    const databaseUrl = await createDatabase(database);
    const env = {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      JWT_SECRET: randomBytes(32).toString('hex'),
      AUTH_IDENTIFIER_KEY: randomBytes(32).toString('hex'),
      AUTH_LOCKOUT_THRESHOLD: String(THRESHOLD),
      AUTH_LOGIN_RATE_LIMIT: `${LOGIN_LIMIT}/min`,
      AUTH_REGISTER_RATE_LIMIT: '20/min',
    };
    // One after the other: the first migrates the new database, the second finds it ready.
    a = await startExample('express-api', env);
    b = await startExample('express-api', env);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    admin?.disconnect();
    await redis?.close();
    if (database) await dropDatabase(database);
  }, 60_000);

  // Every case starts from empty counters (the previous case's rate-limit window included).
  beforeEach(async () => {
    await redis.start();
    await admin.flushall();
  });

  it('wrong passwords alternated between the instances add up to one lockout, which holds on both (the right password gets 403 ACCOUNT_LOCKED on a and on b)', async () => {
    const email = await register(a);
    const apps = [a, b, a];
    for (const [i, app] of apps.entries()) {
      const res = await login(app, email, `wrong password ${i}`);
      expect([401, 403]).toContain(res.status);
    }
    // One counter in Redis (not one per instance, not in PostgreSQL), with every failure.
    expect([...(await attemptCounters()).values()]).toEqual([THRESHOLD]);
    // Each instance saw fewer than THRESHOLD failures: only a shared counter locks.
    for (const app of [a, b]) {
      const res = await login(app, email, PASSWORD);
      expect(res.status, `${app.url}: ${JSON.stringify(res.body)}`).toBe(403);
      expect(res.body).toMatchObject({ success: false, code: 'ACCOUNT_LOCKED' });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  }, 60_000);

  it('the per-IP login limit is shared: requests split across the instances, the limit+1-th is 429 on either', async () => {
    for (let i = 0; i < LOGIN_LIMIT; i++) {
      const app = i % 2 === 0 ? a : b;
      // Unknown accounts: each answer is 401, and no lockout gets in the way.
      const res = await login(app, `nobody-${i}@example.com`, 'not the password');
      expect(res.status, `request ${i + 1} on ${app.url}`).toBe(401);
    }
    for (const app of [a, b]) {
      const res = await login(app, 'nobody-extra@example.com', 'not the password');
      expect(res.status, `${app.url}: ${JSON.stringify(res.body)}`).toBe(429);
      expect(res.body).toMatchObject({ success: false, code: 'RATE_LIMITED' });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // Counted in Redis: one window for this IP, with a TTL.
    const windows = await admin.keys(`${PREFIX}ratelimit:*`);
    expect(windows).toHaveLength(1);
    expect(Number(await admin.hget(windows[0]!, 'count'))).toBeGreaterThanOrEqual(LOGIN_LIMIT);
    expect(await admin.pttl(windows[0]!)).toBeGreaterThan(0);
  }, 60_000);

  it('a logout on instance b is refused on instance a within one second (a had the session cached)', async () => {
    const email = await register(b);
    const session = await login(a, email, PASSWORD);
    expect(session.status).toBe(200);
    const token = session.body.token as string;
    // Both verify it (and cache its state): a token of one instance works on the other.
    for (const app of [a, b, a]) {
      expect((await request(`${app.url}/api/auth/me`, { token })).status).toBe(200);
    }
    const out = await request(`${b.url}/api/auth/logout`, {
      token,
      body: { refreshToken: session.body.refreshToken },
    });
    expect(out.status).toBe(200);
    const loggedOutAt = performance.now();
    let refusedAfterMs = Number.NaN;
    while (performance.now() - loggedOutAt < 5_000) {
      const me = await request(`${a.url}/api/auth/me`, { token });
      if (me.status === 401) {
        refusedAfterMs = performance.now() - loggedOutAt;
        break;
      }
      expect(me.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    console.log(`logout on b refused on a after ${refusedAfterMs.toFixed(0)} ms`);
    expect(refusedAfterMs).toBeLessThan(1_000);
    // The refresh token is dead on both too.
    for (const app of [a, b]) {
      const refreshed = await request(`${app.url}/api/auth/refresh`, {
        body: { refreshToken: session.body.refreshToken },
      });
      expect(refreshed.status).toBe(401);
    }
  }, 60_000);

  it('Redis stopped: login answers 503 SERVER_ERROR on both instances without checking the password (the right one too; the counter did not move), and service is back within seconds of the restart', async () => {
    const email = await register(a);
    // One failure counted (and audited: a password was checked) before the outage.
    expect((await login(b, email, 'wrong before the outage')).status).toBe(401);
    expect(b.logs().some((l) => l.event === 'LOGIN_FAILED')).toBe(true);
    const before = await attemptCounters();
    expect([...before.values()]).toEqual([1]);

    await redis.stop();
    const linesBefore = [a, b].map((app) => app.logs().length);
    for (const app of [a, b, a, b]) {
      for (const password of [PASSWORD, 'wrong during the outage']) {
        const started = performance.now();
        const res = await login(app, email, password);
        expect(res.status, `${app.url}: ${JSON.stringify(res.body)}`).toBe(503);
        expect(res.body).toMatchObject({ success: false, code: 'SERVER_ERROR' });
        // Bounded by the store's command timeout (1 s), never a hang.
        expect(performance.now() - started).toBeLessThan(3_000);
      }
    }
    // A clear log line on each instance: Redis, not the password, is the problem.
    for (const [i, app] of [a, b].entries()) {
      const lines = app.logs().slice(linesBefore[i]);
      expect(lines.some((l) => l.msg === 'redis unavailable')).toBe(true);
      // No password was checked: no login event at all while Redis was down.
      expect(
        lines.filter((l) => l.event === 'LOGIN_FAILED' || l.event === 'LOGIN_SUCCEEDED'),
      ).toEqual([]);
    }

    await redis.start();
    const restartedAt = performance.now();
    // The append-only file brought the counters back: no attempt was counted during the outage.
    expect(await attemptCounters()).toEqual(before);
    const backAfterMs: number[] = [];
    for (const app of [a, b]) {
      for (;;) {
        const res = await login(app, email, PASSWORD);
        if (res.status === 200) break;
        expect(res.status, JSON.stringify(res.body)).toBe(503);
        expect(performance.now() - restartedAt).toBeLessThan(10_000);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      backAfterMs.push(performance.now() - restartedAt);
    }
    console.log(
      `service back after the Redis restart: a ${backAfterMs[0]!.toFixed(0)} ms, b ${backAfterMs[1]!.toFixed(0)} ms`,
    );
    expect(Math.max(...backAfterMs)).toBeLessThan(5_000);
    for (const app of [a, b]) {
      expect(app.logs().some((l) => l.msg === 'redis is back')).toBe(true);
    }
  }, 90_000);
});
