import { PGlite } from '@electric-sql/pglite';
import { hash } from '@node-rs/bcrypt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPostgresStores,
  migrate,
  migrationScripts,
  PostgresUserStore,
  type Queryable,
} from '../../adapters/postgres/index.js';
import { withTransaction } from '../../adapters/postgres/queryable.js';
import { isAuthError } from '../../src/errors.js';
import { createAuth } from '../../src/index.js';
import { DATABASE_URL, freshSchema, openPool, server } from './databases.js';

const HASH = `$2b$10$${'a'.repeat(53)}`;
/** Every migration version, in order, and the newest. */
const ALL = [1, 2, 3, 4, 5, 6];
const LATEST = 6;
/** The migrations after the first, applied when upgrading a version-1 database. */
const AFTER_1 = ALL.slice(1);

async function tables(client: Queryable, schema: string): Promise<string[]> {
  const { rows } = await client.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
    [schema],
  );
  return (rows as { table_name: string }[]).map((r) => r.table_name);
}

/** Every column of the gh_ tables of a schema, with its type and nullability. */
async function columns(client: Queryable, schema: string, except = ''): Promise<unknown[]> {
  const { rows } = await client.query(
    `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
     WHERE table_schema = $1 AND table_name LIKE 'gh\\_%' AND table_name <> $2 ORDER BY 1, 2`,
    [schema, except],
  );
  return rows;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<unknown> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isAuthError(err) ? err.code : err).toBe(code);
  return err;
}

const PASSWORD = 'correct horse battery staple';

/**
 * Builds what an installation of the previous release holds: version 1 applied and recorded,
 * and users created by that release (without `email_verified`).
 */
async function installedVersion1(exec: (sql: string) => Promise<unknown>, schema: string) {
  const [v1] = migrationScripts({ schema });
  const passwordHash = await hash(PASSWORD, { cost: 4 });
  await exec(`CREATE SCHEMA "${schema}";
${v1!.sql}
CREATE TABLE "${schema}".migrations (
  version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO "${schema}".migrations (version, name) VALUES (1, 'initial schema');
INSERT INTO "${schema}".users (email, name, role, password_hash, is_active) VALUES
  ('ada@example.com', 'Ada', 'user', '${passwordHash}', true),
  ('bob@example.com', 'Bob', 'admin', '${passwordHash}', false);`);
}

/** Upgrades a version-1 database and checks that its users still read and log in. */
async function expectUpgradeKeepsUsers(client: Queryable, schema: string) {
  const result = await migrate(client, { schema });
  expect(result).toMatchObject({ applied: AFTER_1, version: LATEST });
  const db = createPostgresStores(client, { schema });
  const ada = await db.stores.users.findByEmail('ada@example.com');
  expect(ada).toMatchObject({ email: 'ada@example.com', isActive: true, emailVerified: false });
  expect(await db.stores.users.findByEmail('bob@example.com')).toMatchObject({
    role: 'admin',
    isActive: false,
    emailVerified: false,
  });
  const auth = createAuth({ stores: db.stores });
  const session = await auth.login({ email: 'ada@example.com', password: PASSWORD });
  expect(session.user).toMatchObject({ id: ada!.id, emailVerified: false });
  expect(await db.stores.users.update(ada!.id, { emailVerified: true })).toMatchObject({
    emailVerified: true,
  });
  expect((await db.stores.users.findById(ada!.id))?.emailVerified).toBe(true);
  // The new tables are there and empty.
  expect(await db.stores.outbox.pending()).toBe(0);
  expect(await db.stores.oneTimeTokens.revokeUserTokens(ada!.id)).toBe(0);
}

describe('migrate on PGlite', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = new PGlite();
    await db.waitReady;
  });
  afterAll(async () => {
    await db?.close();
  });

  it('creates every table in the chosen schema with the prefix and records the version', async () => {
    const result = await migrate(db, { schema: 'auth', tablePrefix: 'gh_' });
    expect(result).toEqual({ applied: ALL, version: LATEST, roles: ['admin', 'user'] });
    expect(await tables(db, 'auth')).toEqual([
      'gh_audit_events',
      'gh_login_attempts',
      'gh_mail_outbox',
      'gh_mfa_factors',
      'gh_mfa_recovery_codes',
      'gh_migrations',
      'gh_one_time_tokens',
      'gh_rate_limits',
      'gh_refresh_tokens',
      'gh_roles',
      'gh_sessions',
      'gh_users',
    ]);
    const { rows } = await db.query('SELECT version, name FROM auth.gh_migrations ORDER BY 1');
    expect(rows).toEqual([
      { version: 1, name: 'initial schema' },
      { version: 2, name: 'account recovery: email_verified, one-time tokens, mail outbox' },
      { version: 3, name: 'sessions per device: ip, user agent, label; refresh reuse grace' },
      { version: 4, name: 'administration: user bans, the users listing index' },
      { version: 5, name: 'TOTP second factor: factors and recovery codes' },
      {
        version: 6,
        name: 'erasure: indexes for the deletes and the audit pseudonymisation of a user',
      },
    ]);
  });

  it('applies nothing the second time (idempotent)', async () => {
    const again = await migrate(db, { schema: 'auth', tablePrefix: 'gh_' });
    expect(again.applied).toEqual([]);
    expect(again.version).toBe(LATEST);
  });

  it('keeps installations with different prefixes apart in one schema', async () => {
    await migrate(db, { schema: 'auth', tablePrefix: 'other_' });
    const a = new PostgresUserStore(db, { schema: 'auth', tablePrefix: 'gh_' });
    const b = new PostgresUserStore(db, { schema: 'auth', tablePrefix: 'other_' });
    await a.create({ email: 'ada@example.com', name: 'Ada', role: 'user', passwordHash: HASH });
    expect(await b.findByEmail('ada@example.com')).toBeNull();
    await b.create({ email: 'ada@example.com', name: 'Ada', role: 'user', passwordHash: HASH });
  });

  it('runs concurrent calls one after the other, applying each migration once', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, () => migrate(db, { schema: 'concurrent' })),
    );
    expect(results.flatMap((r) => r.applied)).toEqual(ALL);
  });

  it('syncs the roles table to the given roles', async () => {
    const result = await migrate(db, { schema: 'roles1', roles: ['reader', 'editor', 'admin'] });
    expect(result.roles).toEqual(['admin', 'editor', 'reader']);
    const users = new PostgresUserStore(db, { schema: 'roles1' });
    const editor = await users.create({
      email: 'ed@example.com',
      name: 'Ed',
      role: 'editor',
      passwordHash: HASH,
    });
    expect(editor.role).toBe('editor');
  });

  it('refuses a user whose role is not in the roles table with VALIDATION_ERROR', async () => {
    const users = new PostgresUserStore(db, { schema: 'roles1' });
    await expectCode(
      users.create({ email: 'x@example.com', name: 'X', role: 'superuser', passwordHash: HASH }),
      'VALIDATION_ERROR',
    );
    const reader = await users.create({
      email: 'r@example.com',
      name: 'R',
      role: 'reader',
      passwordHash: HASH,
    });
    await expectCode(users.update(reader.id, { role: 'superuser' }), 'VALIDATION_ERROR');
  });

  it('refuses to drop a role still assigned to a user, changing nothing', async () => {
    const err = await expectCode(
      migrate(db, { schema: 'roles1', roles: ['reader', 'admin'] }),
      'INVALID_CONFIG',
    );
    expect((err as Error).message).toContain('"editor" (1 users)');
    expect((await migrate(db, { schema: 'roles1' })).roles).toEqual(['admin', 'editor', 'reader']);
  });

  it('drops roles no user holds when they leave the list', async () => {
    const users = new PostgresUserStore(db, { schema: 'roles1' });
    const editor = await users.findByEmail('ed@example.com');
    await users.update(editor!.id, { role: 'reader' });
    const result = await migrate(db, { schema: 'roles1', roles: ['reader', 'admin'] });
    expect(result.roles).toEqual(['admin', 'reader']);
  });

  it('rolls the whole run back when a statement fails', async () => {
    await db.query('CREATE SCHEMA broken');
    // A table in the way of the first migration makes it fail half-way.
    await db.query('CREATE TABLE broken.users (id int)');
    await expectCode(migrate(db, { schema: 'broken' }), 'SERVER_ERROR');
    expect(await tables(db, 'broken')).toEqual(['users']);
  });

  it('rejects invalid table options and roles with INVALID_CONFIG naming the option', async () => {
    for (const [options, option] of [
      [{ schema: 'auth; DROP TABLE users' }, 'schema'],
      [{ tablePrefix: 'gh-' }, 'tablePrefix'],
      [{ tablePrefix: 'x'.repeat(21) }, 'tablePrefix'],
      [{ roles: [] }, 'roles'],
      [{ roles: ['user', ' admin'] }, 'roles'],
      [{ roles: ["x'); DROP TABLE users; --\u0000"] }, 'roles'],
    ] as const) {
      const err = await expectCode(migrate(db, options), 'INVALID_CONFIG');
      expect((err as { details?: unknown }).details).toEqual({ option });
    }
  });

  it('renders the migrations as SQL scripts that build the same schema', async () => {
    const scripts = migrationScripts({ schema: 'scripted', tablePrefix: 'gh_' });
    expect(scripts.map((s) => s.version)).toEqual(ALL);
    expect(scripts[0]?.sql).toContain('CREATE TABLE "scripted"."gh_users"');
    expect(scripts[1]?.sql).toContain('CREATE TABLE "scripted"."gh_mail_outbox"');
    await db.exec(`CREATE SCHEMA scripted; ${scripts.map((s) => s.sql).join('\n')}`);
    const scripted = await columns(db, 'scripted');
    expect(scripted.length).toBeGreaterThan(30);
    expect(scripted).toEqual(await columns(db, 'auth', 'gh_migrations'));
  });

  it('upgrades a version-1 database with users in it: they read emailVerified false and still log in', async () => {
    await installedVersion1((sql) => db.exec(sql), 'upgrade');
    await expectUpgradeKeepsUsers(db, 'upgrade');
  });
});

describe('withTransaction', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = new PGlite();
    await db.exec('CREATE TABLE t (n int)');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('commits on success and rolls back when the function throws', async () => {
    await withTransaction(db, async (tx) => {
      await tx.query('INSERT INTO t VALUES (1)');
    });
    await expect(
      withTransaction(db, async (tx) => {
        await tx.query('INSERT INTO t VALUES (2)');
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await db.query('SELECT n FROM t')).rows).toEqual([{ n: 1 }]);
  });

  it('runs BEGIN and COMMIT on a single-connection client without its own transaction API', async () => {
    const seen: string[] = [];
    const single: Queryable = {
      query: (text, params) => {
        seen.push(text.split(' ')[0]!);
        return db.query(text, params);
      },
    };
    await withTransaction(single, async (tx) => {
      await tx.query('INSERT INTO t VALUES (3)');
    });
    await expect(
      withTransaction(single, async () => {
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(seen).toEqual(['BEGIN', 'INSERT', 'COMMIT', 'BEGIN', 'ROLLBACK']);
  });
});

describe('withTransaction on a pool (pg.Pool shape)', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = new PGlite();
    await db.exec('CREATE TABLE t (n int)');
  });
  afterAll(async () => {
    await db?.close();
  });

  /** A pool whose one connection is PGlite, recording what it is asked and how it is released. */
  function fakePool(failOn?: string) {
    const log: string[] = [];
    const connection = {
      query: async (text: string, params?: unknown[]) => {
        log.push(text.split(' ')[0]!);
        if (text === failOn) throw new Error(`${failOn} failed`);
        return db.query(text, params);
      },
      release: (err?: boolean | Error) => {
        log.push(err ? 'release(destroy)' : 'release');
      },
    };
    const pool = {
      totalCount: 1,
      query: () => Promise.reject(new Error('a transaction must not use the pool directly')),
      connect: async () => connection,
    };
    return { pool, log };
  }

  it('checks out one connection for the transaction and returns it to the pool', async () => {
    const { pool, log } = fakePool();
    await withTransaction(pool, async (tx) => {
      await tx.query('INSERT INTO t VALUES (1)');
    });
    expect(log).toEqual(['BEGIN', 'INSERT', 'COMMIT', 'release']);
  });

  it('rolls back and returns the connection when the function throws', async () => {
    const { pool, log } = fakePool();
    await expect(
      withTransaction(pool, async () => {
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(log).toEqual(['BEGIN', 'ROLLBACK', 'release']);
  });

  it('destroys the connection when even the rollback fails, rethrowing the first error', async () => {
    const { pool, log } = fakePool('ROLLBACK');
    await expect(
      withTransaction(pool, async () => {
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(log).toEqual(['BEGIN', 'ROLLBACK', 'release(destroy)']);
  });

  it('rethrows the first error when the rollback on a single connection fails', async () => {
    const { pool } = fakePool('ROLLBACK');
    const single = await pool.connect();
    await expect(
      withTransaction({ query: single.query }, async () => {
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
  });
});

describe.skipIf(server.skip)('migrate on a PostgreSQL server (DATABASE_URL)', () => {
  it('applies each migration once when 8 app instances start at the same time', async () => {
    const schema = freshSchema();
    const pools = Array.from({ length: 8 }, () => openPool({ max: 2 }));
    try {
      const results = await Promise.all(pools.map((pool) => migrate(pool, { schema })));
      expect(results.flatMap((r) => r.applied)).toEqual(ALL);
      const { rows } = await pools[0]!.query(
        `SELECT count(*)::int AS n FROM "${schema}".migrations`,
      );
      expect(rows).toEqual([{ n: ALL.length }]);
    } finally {
      await pools[0]!.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('upgrades a version-1 database with users in it: they read emailVerified false and still log in', async () => {
    const schema = freshSchema();
    const pool = openPool({ max: 4 });
    try {
      await installedVersion1((sql) => pool.query(sql), schema);
      await expectUpgradeKeepsUsers(pool, schema);
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    }
  });

  it('migrates through a single pg.Client too', async () => {
    const schema = freshSchema();
    const { Client } = (await import('pg')).default;
    const client = new Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      expect((await migrate(client, { schema })).applied).toEqual(ALL);
      expect((await migrate(client, { schema })).applied).toEqual([]);
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  });
});
