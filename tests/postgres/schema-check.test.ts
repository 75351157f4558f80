// A missing or outdated schema is reported at start (checkSchema) and, when a request runs into
// it anyway, logged with its cause and "run migrate()" instead of a bare SERVER_ERROR.
import net from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkSchema,
  createPostgresStores,
  migrate,
  migrationScripts,
} from '../../adapters/postgres/index.js';
import { createAuthHttp } from '../../src/http/auth-routes.js';
import { type AuthError, createAuth, isAuthError } from '../../src/index.js';
import { collectingLogger } from '../helpers/auth.js';
import { CountingHasher } from '../helpers/fakes.js';

const KEYS = [{ kid: 'k1', alg: 'HS256' as const, key: 'a-test-secret-of-32-characters!!' }];
const NEWEST = Math.max(...migrationScripts().map((m) => m.version));

let db: PGlite;
beforeAll(async () => {
  db = new PGlite();
  await db.waitReady;
}, 60_000);
afterAll(async () => {
  await db?.close();
});

async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  const err = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  if (!isAuthError(err)) throw err;
  return err;
}

/** What an installation of the previous release holds: version 1 applied and recorded. */
async function installVersion1(schema: string): Promise<void> {
  const [v1] = migrationScripts({ schema });
  await db.exec(`CREATE SCHEMA "${schema}";
${v1!.sql}
CREATE TABLE "${schema}".migrations (
  version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO "${schema}".migrations (version, name) VALUES (1, 'initial schema');`);
}

/** A gatehouse over Postgres stores in `schema`, and its login route, logging to `logs`. */
function loginRoute(client: pg.Pool | PGlite, schema: string) {
  const logger = collectingLogger();
  const db = createPostgresStores(client, { schema });
  const auth = createAuth({
    stores: db.stores,
    passwordHasher: new CountingHasher(),
    tokens: { keys: KEYS },
    logger,
  });
  const route = createAuthHttp(auth).routes.find((r) => r.path === '/api/auth/login')!;
  const login = () =>
    route.handle({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      rawHeaders: [],
      ip: '127.0.0.1',
      body: Buffer.from(JSON.stringify({ email: 'ada@example.com', password: 'x'.repeat(20) })),
    });
  return { login, logs: logger.lines, auth };
}

describe('checkSchema', () => {
  it('a database where migrate() never ran is refused at start with "run migrate()"', async () => {
    const err = await refusal(checkSchema(db, { schema: 'never_migrated' }));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toBe(
      `gatehouse's tables do not exist in schema "never_migrated" (no "never_migrated"."migrations" table): run migrate() before serving requests.`,
    );
    expect(err.details).toMatchObject({ hint: 'run migrate()', expected: NEWEST });
  });

  it('a schema of the previous release (version 1) is refused: "database schema is at version 1, this gatehouse needs 2"', async () => {
    await installVersion1('release_1');
    const err = await refusal(checkSchema(db, { schema: 'release_1' }));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toBe(
      `database schema is at version 1, this gatehouse needs ${NEWEST}: run migrate().`,
    );
    expect(err.details).toMatchObject({ version: 1, expected: NEWEST });
    await migrate(db, { schema: 'release_1' });
    expect(await checkSchema(db, { schema: 'release_1' })).toMatchObject({ version: NEWEST });
  });

  it('passes a migrated schema and reports its version', async () => {
    await migrate(db, { schema: 'current', tablePrefix: 'gh_' });
    const result = await checkSchema(db, { schema: 'current', tablePrefix: 'gh_' });
    expect(result.version).toBe(NEWEST);
    expect(result.expected).toBe(NEWEST);
    expect(result.tables).toContain('"current"."gh_users"');
  });

  it('a dropped table is named in the refusal: table "..." is missing: run migrate()', async () => {
    await migrate(db, { schema: 'dropped' });
    await db.exec('DROP TABLE dropped.mail_outbox');
    const err = await refusal(checkSchema(db, { schema: 'dropped' }));
    expect(err.message).toBe('table "dropped"."mail_outbox" is missing: run migrate().');
    expect(err.details).toMatchObject({ missing: ['"dropped"."mail_outbox"'] });
  });

  it('the stores checked with another tablePrefix than migrate used are refused, not served', async () => {
    await migrate(db, { schema: 'prefixed', tablePrefix: 'gh_' });
    const err = await refusal(checkSchema(db, { schema: 'prefixed' }));
    expect(err.message).toContain('run migrate()');
  });

  it('passes a schema newer than this gatehouse (an older instance during a rolling deploy)', async () => {
    await migrate(db, { schema: 'newer' });
    await db.query(`INSERT INTO newer.migrations (version, name) VALUES ($1, 'from the future')`, [
      NEWEST + 1,
    ]);
    expect(await checkSchema(db, { schema: 'newer' })).toMatchObject({
      version: NEWEST + 1,
      expected: NEWEST,
    });
  });

  it('refuses a bad schema option with INVALID_CONFIG naming it, before any query', async () => {
    const err = await refusal(checkSchema(db, { schema: 'x"; DROP TABLE users; --' }));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain('"schema"');
  });

  it('an unreachable database is SERVER_ERROR 503 with the driver error as cause', async () => {
    const closed = new PGlite();
    await closed.close();
    const err = await refusal(checkSchema(closed));
    expect(err.code).toBe('SERVER_ERROR');
    expect(err.status).toBe(503);
    expect(err.cause).toBeDefined();
  });
});

describe('store failures in the log', () => {
  it('a request on a missing table answers 500 and logs the cause (42P01, relation does not exist) with "run migrate()"', async () => {
    const { login, logs } = loginRoute(db, 'not_there');
    const response = await login();
    expect(response.status).toBe(500);
    expect(response.body).not.toContain('relation');
    const line = logs.find((l) => l.level === 'error');
    expect(line?.message).toBe('request failed');
    expect(String(line?.data?.['hint'])).toContain('run migrate()');
    expect(line?.data?.['cause']).toMatchObject({ code: '42P01' });
    expect(JSON.stringify(line?.data?.['cause'])).toMatch(
      /relation \\"not_there\.\w+\\" does not exist/,
    );
  });

  it('a refused connection answers 503 and logs ECONNREFUSED with the host and port, no password', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const pool = new pg.Pool({
      host: '127.0.0.1',
      port,
      user: 'app',
      password: 'hunter2-db-password',
      database: 'auth',
      connectionTimeoutMillis: 2000,
    });
    pool.on('error', () => {});
    try {
      const { login, logs } = loginRoute(pool, 'public');
      const response = await login();
      expect(response.status).toBe(503);
      const text = JSON.stringify(logs);
      expect(text).toContain('ECONNREFUSED');
      expect(text).toContain(`127.0.0.1:${port}`);
      expect(text).not.toContain('hunter2');
    } finally {
      await pool.end();
    }
  });
});
