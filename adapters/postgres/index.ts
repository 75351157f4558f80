// The public API of `gatehouse/postgres`: every store on PostgreSQL and its migrations. Works
// with any client that has `query(text, params)`: pg.Pool, pg.Client or PGlite. Every name is
// listed; types go out with `export type`.

// Internals (withTransaction, the SQL builders, table names) stay unexported. The policy filter's
// SQL form, `policyFilterToSql`, is exported by `gatehouse` (the core; it imports no driver).
export { PostgresAttemptStore } from './attempt-store.js';
export { PostgresAuditLog } from './audit-log.js';
export { isUnavailable, toServerError } from './database-error.js';
export { PostgresMailOutbox } from './mail-outbox.js';
export { PostgresMfaStore } from './mfa-store.js';
export type { MigrateOptions, MigrateResult } from './migrations.js';
export { migrate, migrationScripts } from './migrations.js';
export { PostgresOneTimeTokenStore } from './one-time-token-store.js';
export type { TrackedQueryable } from './outage-tracker.js';
export { trackOutages } from './outage-tracker.js';
export type {
  PostgresRetention,
  PostgresStores,
  PostgresStoresOptions,
  PruneResult,
} from './postgres-stores.js';
export { createPostgresStores } from './postgres-stores.js';
export type { Queryable } from './queryable.js';
export { PostgresRateLimitStore } from './rate-limit-store.js';
export type {
  NotificationConnection,
  PostgresRevocationOptions,
  RevocationListenSource,
} from './revocation-listener.js';
export type { SchemaCheckResult } from './schema-check.js';
export { checkSchema } from './schema-check.js';
export type { PostgresTableOptions } from './tables.js';
export type { PostgresTokenStoreOptions } from './token-store.js';
export { PostgresTokenStore } from './token-store.js';
export { PostgresUserStore } from './user-store.js';
