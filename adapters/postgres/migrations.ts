import { createHash } from 'node:crypto';
import { AuthError } from '../../src/errors.js';
import { toServerError } from './database-error.js';
import { type Queryable, withTransaction } from './queryable.js';
import { type PostgresTableOptions, resolveTables, type TableNames } from './tables.js';

/** One schema migration: a version, a name and its statements (one statement per string). */
interface Migration {
  version: number;
  name: string;
  statements(t: TableNames): string[];
}

/** The roles of the seed's policy, inserted by the first migration. */
const SEED_ROLES = ['user', 'admin'];

// Forward-only. Never edit a released migration: add a new one with the next version.
const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    statements: (t) => [
      `CREATE TABLE ${t.roles} (
  name varchar(100) PRIMARY KEY,
  CONSTRAINT ${t.object('roles_name_check')} CHECK (name <> '' AND name = btrim(name))
)`,
      `INSERT INTO ${t.roles} (name) VALUES ${SEED_ROLES.map((r) => `('${r}')`).join(', ')}`,
      `CREATE TABLE ${t.users} (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email varchar(255) NOT NULL,
  password_hash varchar(1024) NOT NULL,
  name varchar(255) NOT NULL,
  role varchar(100) NOT NULL,
  is_active boolean NOT NULL DEFAULT true,
  last_login_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ${t.object('users_email_check')}
    CHECK (email = btrim(email) AND position('@' in email) > 1),
  CONSTRAINT ${t.object('users_password_hash_check')} CHECK (password_hash <> ''),
  CONSTRAINT ${t.object('users_name_check')} CHECK (btrim(name) <> ''),
  CONSTRAINT ${t.object('users_role_fkey')} FOREIGN KEY (role)
    REFERENCES ${t.roles} (name) ON UPDATE CASCADE,
  CONSTRAINT ${t.object('users_updated_at_check')} CHECK (updated_at >= created_at)
)`,
      `CREATE UNIQUE INDEX ${t.object('users_email_key')} ON ${t.users} (lower(email))`,
      `CREATE INDEX ${t.object('users_role_idx')} ON ${t.users} (role)`,
      `CREATE INDEX ${t.object('users_last_login_at_idx')} ON ${t.users} (last_login_at)`,
      `CREATE TABLE ${t.loginAttempts} (
  key varchar(300) PRIMARY KEY,
  attempts integer NOT NULL,
  window_start timestamptz NOT NULL,
  locked_until timestamptz,
  lockouts integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL,
  CONSTRAINT ${t.object('login_attempts_attempts_check')} CHECK (attempts >= 0),
  CONSTRAINT ${t.object('login_attempts_lockouts_check')} CHECK (lockouts >= 0),
  CONSTRAINT ${t.object('login_attempts_locked_until_check')}
    CHECK (locked_until IS NULL OR locked_until >= window_start)
)`,
      `CREATE INDEX ${t.object('login_attempts_updated_at_idx')} ON ${t.loginAttempts} (updated_at)`,
      `CREATE TABLE ${t.rateLimits} (
  key varchar(300) PRIMARY KEY,
  hits integer NOT NULL,
  window_start timestamptz NOT NULL,
  reset_at timestamptz NOT NULL,
  CONSTRAINT ${t.object('rate_limits_hits_check')} CHECK (hits >= 1),
  CONSTRAINT ${t.object('rate_limits_window_check')} CHECK (reset_at > window_start)
)`,
      `CREATE INDEX ${t.object('rate_limits_reset_at_idx')} ON ${t.rateLimits} (reset_at)`,
      `CREATE TABLE ${t.sessions} (
  id varchar(128) PRIMARY KEY,
  user_id varchar(128) NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  last_used_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoked_reason varchar(100),
  CONSTRAINT ${t.object('sessions_id_check')} CHECK (id <> ''),
  CONSTRAINT ${t.object('sessions_user_id_check')} CHECK (user_id <> ''),
  CONSTRAINT ${t.object('sessions_expires_at_check')} CHECK (expires_at >= created_at),
  CONSTRAINT ${t.object('sessions_revoked_check')}
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
)`,
      `CREATE INDEX ${t.object('sessions_user_id_idx')} ON ${t.sessions} (user_id)`,
      `CREATE INDEX ${t.object('sessions_expires_at_idx')} ON ${t.sessions} (expires_at)`,
      `CREATE INDEX ${t.object('sessions_revoked_at_idx')} ON ${t.sessions} (revoked_at)
  WHERE revoked_at IS NOT NULL`,
      `CREATE TABLE ${t.refreshTokens} (
  token_hash char(64) PRIMARY KEY,
  session_id varchar(128) NOT NULL,
  created_at timestamptz NOT NULL,
  used_at timestamptz,
  CONSTRAINT ${t.object('refresh_tokens_hash_check')} CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  CONSTRAINT ${t.object('refresh_tokens_session_fkey')} FOREIGN KEY (session_id)
    REFERENCES ${t.sessions} (id) ON DELETE CASCADE
)`,
      `CREATE INDEX ${t.object('refresh_tokens_session_id_idx')} ON ${t.refreshTokens} (session_id)`,
      `CREATE TABLE ${t.auditEvents} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at timestamptz NOT NULL,
  event varchar(64) NOT NULL,
  status varchar(16) NOT NULL,
  user_id varchar(128),
  ip varchar(64),
  user_agent varchar(512),
  metadata jsonb NOT NULL DEFAULT '{}',
  CONSTRAINT ${t.object('audit_events_event_check')} CHECK (event ~ '^[A-Z][A-Z0-9_]*$'),
  CONSTRAINT ${t.object('audit_events_status_check')} CHECK (status IN ('success', 'failure')),
  CONSTRAINT ${t.object('audit_events_metadata_check')} CHECK (jsonb_typeof(metadata) = 'object')
)`,
      `CREATE INDEX ${t.object('audit_events_occurred_at_idx')} ON ${t.auditEvents} (occurred_at)`,
      `CREATE INDEX ${t.object('audit_events_user_id_idx')} ON ${t.auditEvents} (user_id, occurred_at)
  WHERE user_id IS NOT NULL`,
      `CREATE INDEX ${t.object('audit_events_event_idx')} ON ${t.auditEvents} (event, occurred_at)`,
    ],
  },
  {
    version: 2,
    name: 'account recovery: email_verified, one-time tokens, mail outbox',
    statements: (t) => [
      // A constant default: existing rows get false without a table rewrite (PostgreSQL 11+).
      `ALTER TABLE ${t.users} ADD COLUMN email_verified boolean NOT NULL DEFAULT false`,
      // No foreign key to users: like sessions, the store works with an app's own users table.
      `CREATE TABLE ${t.oneTimeTokens} (
  token_hash varchar(64) PRIMARY KEY,
  user_id varchar(128) NOT NULL,
  purpose varchar(32) NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  consumed_at timestamptz,
  superseded_at timestamptz,
  CONSTRAINT ${t.object('one_time_tokens_hash_check')} CHECK (token_hash ~ '^[A-Za-z0-9_-]{43}$'),
  CONSTRAINT ${t.object('one_time_tokens_user_id_check')} CHECK (user_id <> ''),
  CONSTRAINT ${t.object('one_time_tokens_purpose_check')} CHECK (purpose ~ '^[a-z][a-z0-9_]*$'),
  CONSTRAINT ${t.object('one_time_tokens_expires_at_check')} CHECK (expires_at >= created_at)
)`,
      // At most one live token per user and purpose, enforced by the database: an issue that
      // races another one for the same user and purpose fails here and is retried.
      `CREATE UNIQUE INDEX ${t.object('one_time_tokens_live_key')} ON ${t.oneTimeTokens} (user_id, purpose)
  WHERE consumed_at IS NULL AND superseded_at IS NULL`,
      `CREATE INDEX ${t.object('one_time_tokens_expires_at_idx')} ON ${t.oneTimeTokens} (expires_at)`,
      `CREATE TABLE ${t.mailOutbox} (
  id uuid PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  kind varchar(32) NOT NULL,
  to_address varchar(320) NOT NULL,
  subject text NOT NULL,
  body_text text NOT NULL,
  body_html text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  lease_until timestamptz,
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  delivered_at timestamptz,
  failed_at timestamptz,
  last_error varchar(500),
  CONSTRAINT ${t.object('mail_outbox_kind_check')} CHECK (kind ~ '^[a-z][a-z0-9_]*$'),
  CONSTRAINT ${t.object('mail_outbox_to_check')} CHECK (to_address <> ''),
  CONSTRAINT ${t.object('mail_outbox_attempts_check')} CHECK (attempts >= 0),
  CONSTRAINT ${t.object('mail_outbox_ended_check')} CHECK (delivered_at IS NULL OR failed_at IS NULL)
)`,
      `CREATE INDEX ${t.object('mail_outbox_due_idx')} ON ${t.mailOutbox} (next_attempt_at)
  WHERE delivered_at IS NULL AND failed_at IS NULL`,
      `CREATE INDEX ${t.object('mail_outbox_ended_idx')} ON ${t.mailOutbox} ((coalesce(delivered_at, failed_at)))
  WHERE delivered_at IS NOT NULL OR failed_at IS NOT NULL`,
    ],
  },
  {
    version: 3,
    name: 'sessions per device: ip, user agent, label; refresh reuse grace',
    statements: (t) => [
      // Nullable columns without a default (and a constant default for grace_used): no table
      // rewrite; sessions signed in before this migration show no device details.
      `ALTER TABLE ${t.sessions} ADD COLUMN ip varchar(64)`,
      `ALTER TABLE ${t.sessions} ADD COLUMN user_agent varchar(512)`,
      `ALTER TABLE ${t.sessions} ADD COLUMN label varchar(100)`,
      // The reuse grace (tokens.reuseGrace) of the family's current step: the hash the current
      // token replaced, when that rotation happened, and whether the grace was used since.
      `ALTER TABLE ${t.sessions} ADD COLUMN previous_hash char(64)`,
      `ALTER TABLE ${t.sessions} ADD COLUMN rotated_at timestamptz`,
      `ALTER TABLE ${t.sessions} ADD COLUMN grace_used boolean NOT NULL DEFAULT false`,
      // The sessions list of a user (not revoked, newest first).
      `CREATE INDEX ${t.object('sessions_user_active_idx')} ON ${t.sessions} (user_id, created_at DESC)
  WHERE revoked_at IS NULL`,
    ],
  },
  {
    version: 4,
    name: 'administration: user bans, the users listing index',
    statements: (t) => [
      // Nullable columns without a default: no table rewrite, existing users are not banned.
      `ALTER TABLE ${t.users} ADD COLUMN banned_at timestamptz`,
      `ALTER TABLE ${t.users} ADD COLUMN banned_until timestamptz`,
      `ALTER TABLE ${t.users} ADD COLUMN ban_reason varchar(500)`,
      `ALTER TABLE ${t.users} ADD CONSTRAINT ${t.object('users_ban_check')}
  CHECK ((banned_at IS NULL) = (ban_reason IS NULL) AND (banned_until IS NULL OR banned_at IS NOT NULL))`,
      // The admin listing's keyset order (code points, whatever the database's collation). IF NOT
      // EXISTS: on a large table, build it beforehand with CREATE INDEX CONCURRENTLY under this
      // name, and the migration keeps it instead of locking writes while it builds.
      `CREATE INDEX IF NOT EXISTS ${t.object('users_email_order_idx')} ON ${t.users} ((lower(email) COLLATE "C"))`,
    ],
  },
  {
    version: 5,
    name: 'TOTP second factor: factors and recovery codes',
    statements: (t) => [
      // One factor per user. No foreign key to users (like sessions): the store works with an
      // app's own users table; erasure deletes the factor. The secret is sealed by the core
      // (AES-256-GCM, bound to the user id): the database never holds it in clear.
      `CREATE TABLE ${t.mfaFactors} (
  user_id varchar(128) PRIMARY KEY,
  secret_ciphertext varchar(1024) NOT NULL,
  status varchar(16) NOT NULL,
  created_at timestamptz NOT NULL,
  confirmed_at timestamptz,
  last_used_step bigint,
  codes_generation integer NOT NULL DEFAULT 0,
  CONSTRAINT ${t.object('mfa_factors_user_id_check')} CHECK (user_id <> ''),
  CONSTRAINT ${t.object('mfa_factors_secret_check')} CHECK (secret_ciphertext <> ''),
  CONSTRAINT ${t.object('mfa_factors_status_check')} CHECK (status IN ('pending', 'active')),
  CONSTRAINT ${t.object('mfa_factors_active_check')} CHECK (
    (status = 'active') = (confirmed_at IS NOT NULL)
    AND (status = 'active') = (last_used_step IS NOT NULL))
)`,
      // Keyed hashes only; a code belongs to its user's factor and goes with it. A set counts
      // only while its generation is the factor's `codes_generation`: a replacement bumps it in
      // the same statement that inserts the new set, so no code of an older set can ever be
      // used again, even one the replacement's snapshot could not see to delete.
      `CREATE TABLE ${t.mfaRecoveryCodes} (
  user_id varchar(128) NOT NULL,
  generation integer NOT NULL,
  code_hash varchar(64) NOT NULL,
  created_at timestamptz NOT NULL,
  used_at timestamptz,
  PRIMARY KEY (user_id, generation, code_hash),
  CONSTRAINT ${t.object('mfa_recovery_codes_hash_check')} CHECK (code_hash ~ '^[A-Za-z0-9_-]{43}$'),
  CONSTRAINT ${t.object('mfa_recovery_codes_factor_fkey')} FOREIGN KEY (user_id)
    REFERENCES ${t.mfaFactors} (user_id) ON DELETE CASCADE
)`,
    ],
  },
  {
    version: 6,
    name: 'erasure: indexes for the deletes and the audit pseudonymisation of a user',
    statements: (t) => [
      // eraseUser deletes a user's one-time tokens (consumed ones too), the mails to the address
      // and strips the email hash from events without a user id: each an index range, not a
      // scan of tables that grow with the traffic (audit_events above all).
      `CREATE INDEX IF NOT EXISTS ${t.object('one_time_tokens_user_id_idx')} ON ${t.oneTimeTokens} (user_id)`,
      `CREATE INDEX IF NOT EXISTS ${t.object('mail_outbox_recipient_idx')} ON ${t.mailOutbox} ((lower(btrim(to_address))))`,
      `CREATE INDEX IF NOT EXISTS ${t.object('audit_events_email_hash_idx')} ON ${t.auditEvents} ((metadata->>'emailHash'))
  WHERE user_id IS NULL`,
    ],
  },
];

/**
 * Options of {@link migrate}: the table options shared with the stores, plus the policy's roles.
 *
 * @example
 * ```ts
 * const options: MigrateOptions = { schema: 'auth', roles: policy.roles };
 * await migrate(pool, options);
 * ```
 */
export interface MigrateOptions extends PostgresTableOptions {
  /**
   * The roles your policy defines. `users.role` references the `roles` table, so the database
   * refuses a user with any other role. When given, `migrate` makes the table hold exactly these
   * roles: it adds the missing ones and removes the others, and throws `INVALID_CONFIG` (changing
   * nothing) when a role to remove is still assigned to a user. When omitted, the roles table is
   * left as it is (the first migration seeds `user` and `admin`).
   */
  roles?: readonly string[];
}

/**
 * What {@link migrate} did.
 *
 * @example
 * ```ts
 * const { applied, version, roles }: MigrateResult = await migrate(pool, { roles: ['user', 'admin'] });
 * if (applied.length > 0) console.log(`schema migrated to version ${version}; roles: ${roles.join(', ')}`);
 * ```
 */
export interface MigrateResult {
  /** Versions applied by this call, in order (empty when the schema was up to date). */
  applied: number[];
  /** The newest version now recorded in the migrations table. */
  version: number;
  /** The roles table's content after the call, sorted. */
  roles: string[];
}

function lockKey(t: TableNames): string {
  const digest = createHash('sha256')
    .update(`gatehouse:${t.schema ?? ''}:${t.prefix}`)
    .digest();
  return digest.readBigInt64BE(0).toString();
}

function checkRoles(roles: unknown): string[] {
  const valid =
    Array.isArray(roles) &&
    roles.length > 0 &&
    roles.every(
      (r) =>
        typeof r === 'string' &&
        r !== '' &&
        r === r.trim() &&
        r.length <= 100 &&
        !/\p{Cc}/u.test(r),
    );
  if (!valid) {
    throw new AuthError(
      'INVALID_CONFIG',
      'gatehouse/postgres option "roles" must be a non-empty list of role names (at most 100 characters, no surrounding spaces or control characters).',
      { details: { option: 'roles' } },
    );
  }
  return [...new Set(roles as string[])];
}

/**
 * Creates or upgrades gatehouse's tables: applies the pending migrations in order, each recorded
 * in the `migrations` table, all in one transaction under an advisory lock, so several app
 * instances starting at once apply each migration exactly once, and a failed run changes
 * nothing. Idempotent: call it at every start. Then syncs the roles table (see
 * {@link MigrateOptions.roles}).
 *
 * Works with `pg.Pool` (checks out one connection), `pg.Client` and PGlite. Errors:
 * `INVALID_CONFIG` for bad options or a role still in use, `SERVER_ERROR` (503 when the
 * database is unreachable) for a database failure, with the driver error as `cause`.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { migrate } from 'gatehouse/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migrate(pool, { roles: ['user', 'editor', 'admin'] });
 * ```
 */
export async function migrate(
  client: Queryable,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const t = resolveTables(options);
  const roles = options.roles === undefined ? undefined : checkRoles(options.roles);
  try {
    return await withTransaction(client, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey(t)]);
      if (t.schema !== undefined) await tx.query(`CREATE SCHEMA IF NOT EXISTS "${t.schema}"`);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${t.migrations} (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`);
      const done = await tx.query(`SELECT version FROM ${t.migrations}`);
      const recorded = new Set((done.rows as { version: number }[]).map((r) => r.version));
      const applied: number[] = [];
      for (const migration of MIGRATIONS) {
        if (recorded.has(migration.version)) continue;
        for (const statement of migration.statements(t)) await tx.query(statement);
        await tx.query(`INSERT INTO ${t.migrations} (version, name) VALUES ($1, $2)`, [
          migration.version,
          migration.name,
        ]);
        applied.push(migration.version);
        recorded.add(migration.version);
      }
      if (roles !== undefined) await syncRoles(tx, t, roles);
      const current = await tx.query(`SELECT name FROM ${t.roles} ORDER BY name`);
      return {
        applied,
        version: Math.max(...recorded),
        roles: (current.rows as { name: string }[]).map((r) => r.name),
      };
    });
  } catch (err) {
    throw toServerError(err);
  }
}

async function syncRoles(tx: Queryable, t: TableNames, roles: string[]): Promise<void> {
  const inUse = await tx.query(
    `SELECT r.name, count(*)::int AS users
FROM ${t.roles} r JOIN ${t.users} u ON u.role = r.name
WHERE NOT (r.name = ANY($1::text[]))
GROUP BY r.name ORDER BY r.name`,
    [roles],
  );
  const stranded = inUse.rows as { name: string; users: number }[];
  if (stranded.length > 0) {
    const list = stranded.map((r) => `"${r.name}" (${r.users} users)`).join(', ');
    throw new AuthError(
      'INVALID_CONFIG',
      `gatehouse/postgres option "roles" leaves out roles still assigned to users: ${list}. Reassign those users or keep the roles.`,
      { details: { option: 'roles', roles: stranded.map((r) => r.name) } },
    );
  }
  await tx.query(`DELETE FROM ${t.roles} WHERE NOT (name = ANY($1::text[]))`, [roles]);
  await tx.query(
    `INSERT INTO ${t.roles} (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING`,
    [roles],
  );
}

/**
 * The migrations as SQL text, for teams that apply schema changes with their own tool (Flyway,
 * Sqitch, a DBA). Each script is what {@link migrate} runs for that version; record it in your
 * tool instead of gatehouse's `migrations` table, and do not mix the two ways.
 *
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { migrationScripts } from 'gatehouse/postgres';
 * for (const m of migrationScripts({ schema: 'auth' })) {
 *   writeFileSync(`V${m.version}__gatehouse.sql`, m.sql);
 * }
 * ```
 */
export function migrationScripts(
  options: PostgresTableOptions = {},
): { version: number; name: string; sql: string }[] {
  const t = resolveTables(options);
  return MIGRATIONS.map((m) => ({
    version: m.version,
    name: m.name,
    sql: `${m.statements(t).join(';\n\n')};\n`,
  }));
}
