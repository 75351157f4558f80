// The public API of `gatehouse/postgres`: every store on PostgreSQL and its migrations. Works
// with any client that has `query(text, params)`: pg.Pool, pg.Client or PGlite. Every name is
// listed; types go out with `export type`.

// The policy engine's filter as a SQL condition lives in the core (it imports no driver); it is
// listed here too so that a Postgres user finds it next to the stores.
export type { PolicyFilterSqlOptions } from '../../src/policy/filter.js';
export { policyFilterToSql } from '../../src/policy/filter.js';
export { PostgresAttemptStore } from './attempt-store.js';
export { PostgresAuditLog } from './audit-log.js';
export { isUnavailable, toServerError } from './database-error.js';
export { PostgresMailOutbox } from './mail-outbox.js';
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
export { withTransaction } from './queryable.js';
export { PostgresRateLimitStore } from './rate-limit-store.js';
export type { SchemaCheckResult } from './schema-check.js';
export { checkSchema } from './schema-check.js';
export type { PostgresTableOptions } from './tables.js';
export { PostgresTokenStore } from './token-store.js';
export { PostgresUserStore } from './user-store.js';
