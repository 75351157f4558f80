// When the database is unreachable or a query fails, every request fails closed with
// SERVER_ERROR (503 when the database is unavailable), no driver, SQL or connection detail
// reaches the response body, and the next request after recovery works.
import net from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPostgresStores,
  migrate,
  type PostgresStores,
  toServerError,
} from '../../adapters/postgres/index.js';
import { createAuthHttp } from '../../src/http/index.js';
import { createAuth } from '../../src/index.js';
import { poolBehindProxy } from '../helpers/cuttable-proxy.js';
import { CountingHasher, ManualClock } from '../helpers/fakes.js';
import { DATABASE_URL, freshSchema, openPool, server } from './databases.js';

const PASSWORD = 'correct horse battery';
const T0 = Date.UTC(2030, 0, 1);

/** Runs `action` and returns the AuthError it throws, checking that nothing leaks. */
async function failure(action: () => Promise<unknown>) {
  let caught: unknown;
  try {
    await action();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeDefined();
  const err = caught as { code: string; status: number; message: string; toJSON(): unknown };
  const body = JSON.stringify(err.toJSON());
  expect(body).not.toMatch(
    /ECONN|127\.0\.0\.1|5432|relation|select|insert|update|pglite|postgres|sql/i,
  );
  expect(err.toJSON()).toEqual({
    success: false,
    code: 'SERVER_ERROR',
    error: "We're experiencing technical difficulties. Please try again in a few moments.",
  });
  return err;
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function storeCalls(db: PostgresStores): [string, () => Promise<unknown>][] {
  const { users, attempts, tokens, rateLimits } = db.stores;
  const rule = {
    now: T0,
    maxAttempts: 5,
    windowMs: 60_000,
    lockMs: 60_000,
    backoffFactor: 1,
    maxLockMs: 60_000,
  };
  return [
    ['users.findByEmail', () => users.findByEmail('ada@example.com')],
    [
      'users.create',
      () => users.create({ email: 'a@b.co', name: 'A', role: 'user', passwordHash: 'h' }),
    ],
    ['attempts.reserve', () => attempts.reserve('login:ada@example.com', rule)],
    ['attempts.recordFailure', () => attempts.recordFailure('login:ada@example.com', rule)],
    ['tokens.rotate', () => tokens.rotate('a'.repeat(64), 'b'.repeat(64), { now: T0, idleMs: 1 })],
    ['tokens.getSession', () => tokens.getSession('s1')],
    ['rateLimits.hit', () => rateLimits.hit('ip', { now: T0, windowMs: 1000, limit: 1 })],
    [
      'auditLog.write',
      () =>
        db.auditLog.write({
          timestamp: new Date(T0).toISOString(),
          event: 'LOGOUT',
          status: 'success',
          metadata: {},
        }),
    ],
  ];
}

describe('an unreachable database', () => {
  let pool: pg.Pool;
  let db: PostgresStores;
  beforeAll(async () => {
    pool = new pg.Pool({
      host: '127.0.0.1',
      port: await closedPort(),
      user: 'nobody',
      database: 'nothing',
      connectionTimeoutMillis: 2000,
    });
    pool.on('error', () => {});
    db = createPostgresStores(pool);
  });
  afterAll(async () => {
    await pool.end();
  });

  it('makes every store operation fail with SERVER_ERROR 503 and no connection detail', async () => {
    for (const [name, call] of storeCalls(db)) {
      const err = await failure(call);
      expect([name, err.status]).toEqual([name, 503]);
    }
  });

  it('makes migrate fail with SERVER_ERROR 503', async () => {
    expect((await failure(() => migrate(pool))).status).toBe(503);
  });

  it('makes register and login fail closed with SERVER_ERROR 503, authorizing nothing', async () => {
    const auth = createAuth({ stores: db.stores, passwordHasher: new CountingHasher() });
    const register = await failure(() =>
      auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' }),
    );
    expect(register.status).toBe(503);
    const login = await failure(() => auth.login({ email: 'ada@example.com', password: PASSWORD }));
    expect(login.status).toBe(503);
  });
  it('answers the HTTP auth routes with 503 and the generic SERVER_ERROR body', async () => {
    const http = createAuthHttp(
      createAuth({ stores: db.stores, passwordHasher: new CountingHasher() }),
    );
    const bodies = {
      '/api/auth/login': { email: 'ada@example.com', password: PASSWORD },
      '/api/auth/register': { email: 'ada@example.com', password: PASSWORD, name: 'Ada' },
      '/api/auth/refresh': { refreshToken: 'x'.repeat(43) },
    };
    for (const [path, body] of Object.entries(bodies)) {
      const route = http.routes.find((r) => r.method === 'POST' && r.path === path)!;
      const response = await route.handle({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        ip: '203.0.113.7',
        body: new TextEncoder().encode(JSON.stringify(body)),
      });
      expect([path, response.status]).toEqual([path, 503]);
      expect(JSON.parse(response.body)).toEqual({
        success: false,
        code: 'SERVER_ERROR',
        error: "We're experiencing technical difficulties. Please try again in a few moments.",
      });
    }
  });
});

describe('a failing query', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = new PGlite(); // never migrated: every table is missing
    await db.waitReady;
  });
  afterAll(async () => {
    await db?.close();
  });

  it('makes every store operation fail with SERVER_ERROR 500 and no SQL in the body', async () => {
    for (const [name, call] of storeCalls(createPostgresStores(db))) {
      const err = await failure(call);
      expect([name, err.status]).toEqual([name, 500]);
      expect((err as unknown as { cause: unknown }).cause).toBeDefined();
    }
  });

  it('makes a login fail closed with SERVER_ERROR 500', async () => {
    const auth = createAuth({
      stores: createPostgresStores(db).stores,
      passwordHasher: new CountingHasher(),
    });
    const err = await failure(() => auth.login({ email: 'ada@example.com', password: PASSWORD }));
    expect(err.status).toBe(500);
  });

  it('reports a closed PGlite as unavailable (503)', async () => {
    const closed = new PGlite();
    await closed.waitReady;
    await closed.close();
    const err = await failure(() =>
      createPostgresStores(closed).stores.users.findByEmail('a@b.co'),
    );
    expect(err.status).toBe(503);
  });
});

describe('toServerError', () => {
  it.each([
    { name: 'a server shutting down (57P01)', cause: { code: '57P01' }, status: 503 },
    { name: 'a lost connection (08006)', cause: { code: '08006' }, status: 503 },
    { name: 'too many connections (53300)', cause: { code: '53300' }, status: 503 },
    { name: 'a statement timeout (57014)', cause: { code: '57014' }, status: 503 },
    {
      name: 'a reset socket',
      cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      status: 503,
    },
    {
      name: 'a pool connect timeout',
      cause: new Error('timeout exceeded when trying to connect'),
      status: 503,
    },
    {
      name: 'a terminated connection',
      cause: new Error('Connection terminated unexpectedly'),
      status: 503,
    },
    {
      name: 'every address refusing (AggregateError)',
      cause: new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]),
      status: 503,
    },
    {
      name: 'a syntax error (42601)',
      cause: { code: '42601', message: 'syntax error at or near "SELEC"' },
      status: 500,
    },
    { name: 'a deadlock (40P01)', cause: { code: '40P01' }, status: 500 },
    { name: 'something that is not an error', cause: 'boom', status: 500 },
  ])('maps $name to SERVER_ERROR $status', ({ cause, status }) => {
    const err = toServerError(cause);
    expect([err.code, err.status]).toEqual(['SERVER_ERROR', status]);
    expect(err.message).not.toMatch(/SELEC|ECONN|terminated/);
  });
});

describe.skipIf(server.skip)('outage and recovery on a PostgreSQL server (DATABASE_URL)', () => {
  const schema = freshSchema();
  let admin: pg.Pool;
  beforeAll(async () => {
    admin = openPool({ max: 2 });
    await migrate(admin, { schema });
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('fails login, refresh, verification and registration closed with 503 while the network to the database is cut, then works again', async () => {
    const { proxy, pool } = await poolBehindProxy(DATABASE_URL!);
    try {
      const db = createPostgresStores(pool, { schema });
      const clock = new ManualClock(T0);
      const auth = createAuth({
        stores: db.stores,
        passwordHasher: new CountingHasher(),
        clock,
        tokens: {
          keys: [{ kid: 'k1', alg: 'HS256', key: 'a-test-secret-of-more-than-32-bytes-long!' }],
        },
      });
      await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
      const session = await auth.login({ email: 'ada@example.com', password: PASSWORD });

      await proxy.cut();
      const duringOutage = [
        () => auth.login({ email: 'ada@example.com', password: PASSWORD }),
        () => auth.login({ email: 'ada@example.com', password: 'a wrong password' }),
        () => auth.refresh(session.refreshToken),
        () => auth.verifyAccessToken(session.token),
        () => auth.register({ email: 'bob@example.com', password: PASSWORD, name: 'Bob' }),
      ];
      for (const request of duringOutage) expect((await failure(request)).status).toBe(503);

      await proxy.restore();
      // The refresh token presented during the outage was not used up.
      const refreshed = await auth.refresh(session.refreshToken);
      expect((await auth.verifyAccessToken(refreshed.token)).userId).toBe(session.user.id);
      expect((await auth.login({ email: 'ada@example.com', password: PASSWORD })).user.email).toBe(
        'ada@example.com',
      );
    } finally {
      await pool.end();
      await proxy.close();
    }
  });

  it('answers 503 on a pg.Client whose connection the server terminated', async () => {
    const client = new pg.Client({
      connectionString: DATABASE_URL,
      application_name: 'gatehouse-client',
    });
    client.on('error', () => {});
    await client.connect();
    try {
      const users = createPostgresStores(client, { schema }).stores.users;
      expect(await users.findByEmail('a@b.co')).toBeNull();
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'gatehouse-client'`,
      );
      expect((await failure(() => users.findByEmail('a@b.co'))).status).toBe(503);
    } finally {
      await client.end().catch(() => {});
    }
  });

  it('answers 503 or a result while the server terminates pooled connections, and recovers at once', async () => {
    const pool = openPool({ max: 2, application_name: 'gatehouse-terminated' });
    try {
      const users = createPostgresStores(pool, { schema }).stores.users;
      // Two idle connections in the pool...
      await Promise.all([users.findByEmail('a@b.co'), users.findByEmail('b@b.co')]);
      // ...that the server then terminates, as on a restart or failover.
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'gatehouse-terminated'`,
      );
      const results = await Promise.allSettled([
        users.findByEmail('a@b.co'),
        users.findByEmail('b@b.co'),
      ]);
      for (const r of results) {
        if (r.status === 'rejected') expect((r.reason as { status: number }).status).toBe(503);
      }
      expect(await users.findByEmail('a@b.co')).toBeNull();
    } finally {
      await pool.end();
    }
  });
});
