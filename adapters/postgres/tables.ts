import { AuthError } from '../../src/errors.js';

/**
 * Where gatehouse's tables live. The same options must be given to {@link migrate} and to
 * every store.
 *
 * @example
 * ```ts
 * const where: PostgresTableOptions = { schema: 'auth', tablePrefix: 'gh_' };
 * await migrate(pool, where);              // creates auth.gh_users, auth.gh_sessions, ...
 * const users = new PostgresUserStore(pool, where);
 * ```
 */
export interface PostgresTableOptions {
  /**
   * Schema holding the tables; created by `migrate` when missing. Unset: unqualified names,
   * resolved through the connection's `search_path` (normally `public`).
   * Letters, digits and `_`, not starting with a digit.
   */
  schema?: string;
  /**
   * Prefix of every table, index and constraint name, so several gatehouse installations (or
   * your own tables of the same names) can share a schema. Letters, digits and `_`, at most 20.
   * @default ''
   */
  tablePrefix?: string;
}

/** The quoted, qualified table names and the prefixed object names of one installation. */
export interface TableNames {
  schema: string | undefined;
  prefix: string;
  migrations: string;
  roles: string;
  users: string;
  loginAttempts: string;
  rateLimits: string;
  sessions: string;
  refreshTokens: string;
  auditEvents: string;
  oneTimeTokens: string;
  mailOutbox: string;
  mfaFactors: string;
  mfaRecoveryCodes: string;
  /** Quotes an index or constraint name with the prefix (schema-wide namespace in Postgres). */
  object(name: string): string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function invalid(option: string, reason: string): AuthError {
  return new AuthError('INVALID_CONFIG', `gatehouse/postgres option "${option}" ${reason}.`, {
    details: { option },
  });
}

/** Validates the options and builds every table name once. */
export function resolveTables(options: PostgresTableOptions = {}): TableNames {
  const { schema, tablePrefix = '' } = options;
  if (schema !== undefined && (typeof schema !== 'string' || !IDENTIFIER.test(schema))) {
    throw invalid('schema', 'must be letters, digits and _ (not starting with a digit)');
  }
  if (schema !== undefined && schema.length > 63) {
    throw invalid('schema', 'must be at most 63 characters');
  }
  if (typeof tablePrefix !== 'string' || (tablePrefix !== '' && !IDENTIFIER.test(tablePrefix))) {
    throw invalid('tablePrefix', 'must be letters, digits and _ (not starting with a digit)');
  }
  if (tablePrefix.length > 20) throw invalid('tablePrefix', 'must be at most 20 characters');
  const qualify = (name: string) =>
    schema === undefined ? `"${tablePrefix}${name}"` : `"${schema}"."${tablePrefix}${name}"`;
  return {
    schema,
    prefix: tablePrefix,
    migrations: qualify('migrations'),
    roles: qualify('roles'),
    users: qualify('users'),
    loginAttempts: qualify('login_attempts'),
    rateLimits: qualify('rate_limits'),
    sessions: qualify('sessions'),
    refreshTokens: qualify('refresh_tokens'),
    auditEvents: qualify('audit_events'),
    oneTimeTokens: qualify('one_time_tokens'),
    mailOutbox: qualify('mail_outbox'),
    mfaFactors: qualify('mfa_factors'),
    mfaRecoveryCodes: qualify('mfa_recovery_codes'),
    object: (name) => `"${tablePrefix}${name}"`,
  };
}
