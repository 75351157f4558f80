// The databases the Postgres suites run on: an in-process PGlite always, and the server at
// DATABASE_URL when it is set (`bash scripts/with-postgres.sh npx vitest run tests/postgres`).
// On the server each suite works in a schema of its own, so test files can run in parallel.
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import {
  type MigrateOptions,
  migrate,
  type PostgresTableOptions,
  type Queryable,
} from '../../adapters/postgres/index.js';

export const DATABASE_URL = process.env.DATABASE_URL;

/** One migrated database for a test file. */
export interface TestDatabase {
  client: Queryable;
  options: PostgresTableOptions;
  /** Empties every table but the roles and the migrations. */
  truncate(): Promise<void>;
  close(): Promise<void>;
}

export interface Target {
  name: string;
  /** True when the target cannot run here; the suite shows as skipped. */
  skip: boolean;
  /** Whether several connections run statements truly at the same time. */
  concurrent: boolean;
  open(options?: MigrateOptions): Promise<TestDatabase>;
}

function tableList(options: PostgresTableOptions): string {
  const q = (name: string) =>
    options.schema === undefined
      ? `"${options.tablePrefix ?? ''}${name}"`
      : `"${options.schema}"."${options.tablePrefix ?? ''}${name}"`;
  return [
    'users',
    'login_attempts',
    'rate_limits',
    'sessions',
    'refresh_tokens',
    'audit_events',
    'one_time_tokens',
    'mail_outbox',
    'mfa_factors',
    'mfa_recovery_codes',
  ]
    .map(q)
    .join(', ');
}

/** A unique schema name for one suite on the shared server. */
export function freshSchema(): string {
  return `gh_test_${randomBytes(6).toString('hex')}`;
}

/** Opens a pg.Pool on DATABASE_URL (with the idle-error listener every app needs). */
export function openPool(config: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 20, ...config });
  pool.on('error', () => {});
  return pool;
}

export const pglite: Target = {
  name: 'PGlite',
  skip: false,
  concurrent: false,
  async open(options = {}) {
    const db = new PGlite();
    await db.waitReady;
    await migrate(db, options);
    const tables = tableList(options);
    return {
      client: db,
      options,
      truncate: async () => {
        await db.query(`TRUNCATE ${tables}`);
      },
      close: () => db.close(),
    };
  },
};

export const server: Target = {
  name: 'PostgreSQL server (DATABASE_URL)',
  skip: DATABASE_URL === undefined,
  concurrent: true,
  async open(options = {}) {
    const pool = openPool();
    const schema = options.schema ?? freshSchema();
    const where = { ...options, schema };
    await migrate(pool, where);
    const tables = tableList(where);
    return {
      client: pool,
      options: where,
      truncate: async () => {
        await pool.query(`TRUNCATE ${tables}`);
      },
      close: async () => {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await pool.end();
      },
    };
  },
};

/** Every target; the server one is skipped (visibly) when DATABASE_URL is unset. */
export const targets: Target[] = [pglite, server];
