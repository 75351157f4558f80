import { AuthError } from '../../src/errors.js';
import { toServerError } from './database-error.js';
import { migrationScripts } from './migrations.js';
import type { Queryable } from './queryable.js';
import { type PostgresTableOptions, resolveTables, type TableNames } from './tables.js';

/**
 * What {@link checkSchema} found in a database that is ready for this gatehouse.
 *
 * @example
 * ```ts
 * const { version, expected }: SchemaCheckResult = await checkSchema(pool);
 * if (version !== undefined && version > expected) console.warn('the schema is newer than this release');
 * ```
 */
export interface SchemaCheckResult {
  /**
   * The newest version recorded in the migrations table, or undefined when there is none (the
   * schema was applied with `migrationScripts` by another tool; then only the tables are checked).
   */
  version: number | undefined;
  /** The newest migration this gatehouse knows. */
  expected: number;
  /** The tables checked, as qualified and quoted names. */
  tables: string[];
}

const TABLE_KEYS = [
  'roles',
  'users',
  'loginAttempts',
  'rateLimits',
  'sessions',
  'refreshTokens',
  'auditEvents',
  'oneTimeTokens',
  'mailOutbox',
  'mfaFactors',
  'mfaRecoveryCodes',
] as const satisfies readonly (keyof TableNames)[];

function schemaError(message: string, details: Record<string, unknown>): AuthError {
  return new AuthError('INVALID_CONFIG', message, {
    details: { ...details, hint: 'run migrate()' },
  });
}

function where(t: TableNames): string {
  return t.schema === undefined ? 'on the search_path' : `in schema "${t.schema}"`;
}

/**
 * Reports at start a database whose schema is missing or older than this gatehouse, instead of
 * the first request failing with a 500: compares the newest version in the migrations table with
 * the newest migration this gatehouse knows, and checks that every table exists. Throws
 * `AuthError('INVALID_CONFIG')` saying what is wrong and to run `migrate()` ("database schema is
 * at version 1, this gatehouse needs 2: run migrate()"; `table "users" is missing: run
 * migrate()`), with `details.hint`. A database that cannot be reached is `SERVER_ERROR` (503)
 * with the driver error as `cause`, as from any store.
 *
 * Give it the same `schema` and `tablePrefix` as the stores. A schema newer than this gatehouse
 * (an older instance during a rolling deploy) passes: migrations only add. Without a migrations
 * table (schema applied with `migrationScripts` by your own tool) only the tables are checked.
 * Read-only: it never changes the database.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { checkSchema, migrate } from 'gatehouse/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * if (process.env.RUN_MIGRATIONS === '1') await migrate(pool);
 * await checkSchema(pool); // throws "database schema is at version 1, this gatehouse needs 2: run migrate()"
 * ```
 */
export async function checkSchema(
  client: Queryable,
  options: PostgresTableOptions = {},
): Promise<SchemaCheckResult> {
  const t = resolveTables(options);
  const expected = Math.max(...migrationScripts(options).map((m) => m.version));
  const tables = TABLE_KEYS.map((key) => t[key]);
  let present: Map<string, boolean>;
  let version: number | undefined;
  try {
    const found = await client.query(
      `SELECT name, to_regclass(name) IS NOT NULL AS present FROM unnest($1::text[]) AS t(name)`,
      [[t.migrations, ...tables]],
    );
    present = new Map(
      (found.rows as { name: string; present: boolean }[]).map((r) => [r.name, r.present]),
    );
    if (present.get(t.migrations)) {
      const recorded = await client.query(`SELECT max(version) AS version FROM ${t.migrations}`);
      const value = (recorded.rows[0] as { version: number | null } | undefined)?.version;
      version = value === null || value === undefined ? 0 : Number(value);
    }
  } catch (err) {
    throw toServerError(err);
  }
  const missing = tables.filter((name) => !present.get(name));
  if (version === undefined && missing.length === tables.length) {
    throw schemaError(
      `gatehouse's tables do not exist ${where(t)} (no ${t.migrations} table): run migrate() before serving requests.`,
      { version: 0, expected, missing },
    );
  }
  if (version !== undefined && version < expected) {
    throw schemaError(
      `database schema is at version ${version}, this gatehouse needs ${expected}: run migrate().`,
      { version, expected, missing },
    );
  }
  if (missing.length > 0) {
    const list = missing.join(', ');
    throw schemaError(
      `${missing.length === 1 ? `table ${list} is` : `tables ${list} are`} missing${t.schema === undefined ? ' (looked up on the search_path)' : ''}: run migrate().`,
      { version, expected, missing },
    );
  }
  return { version, expected, tables };
}
