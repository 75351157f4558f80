import { PostgresAttemptStore } from './attempt-store.js';
import { PostgresAuditLog } from './audit-log.js';
import type { Queryable } from './queryable.js';
import { PostgresRateLimitStore } from './rate-limit-store.js';
import type { PostgresTableOptions } from './tables.js';
import { PostgresTokenStore } from './token-store.js';
import { PostgresUserStore } from './user-store.js';

const DAY = 86_400_000;

/**
 * How long {@link PostgresStores.prune} keeps ended rows, in milliseconds.
 *
 * @example
 * ```ts
 * const DAY = 86_400_000;
 * const retention: PostgresRetention = { attempts: 14 * DAY, sessions: DAY, audit: 365 * DAY };
 * await db.prune(Date.now(), retention);
 * ```
 */
export interface PostgresRetention {
  /**
   * Lockout counters untouched for this long (and not locked) are deleted, which also forgets
   * their lockout count: keep it above your longest lockout.
   * @default 7 days
   */
  attempts?: number;
  /**
   * Sessions revoked or expired this long ago are deleted with their refresh tokens; until
   * then a replayed token of theirs is still reported as reuse.
   * @default 1 day
   */
  sessions?: number;
  /**
   * Audit events older than this are deleted.
   * @default 90 days
   */
  audit?: number;
}

/**
 * Rows deleted by one {@link PostgresStores.prune}, per table.
 *
 * @example
 * ```ts
 * const deleted: PruneResult = await db.prune();
 * logger.info('pruned', deleted); // { attempts, rateLimits, sessions, auditEvents }
 * ```
 */
export interface PruneResult {
  attempts: number;
  rateLimits: number;
  sessions: number;
  auditEvents: number;
}

/**
 * Every gatehouse store on one PostgreSQL client; see {@link createPostgresStores}.
 *
 * @example
 * ```ts
 * const db: PostgresStores = createPostgresStores(pool);
 * const auth = createAuth({ stores: db.stores, audit: db.auditLog.sink });
 * ```
 */
export interface PostgresStores {
  /** The stores, shaped for `createAuth({ stores })`. */
  stores: {
    users: PostgresUserStore;
    attempts: PostgresAttemptStore;
    tokens: PostgresTokenStore;
    rateLimits: PostgresRateLimitStore;
  };
  /** The audit log; pass `auditLog.sink` as `createAuth({ audit })`. */
  auditLog: PostgresAuditLog;
  /**
   * Deletes ended rows of every table (see {@link PostgresRetention}) and returns the counts.
   * Safe to run from every instance at once; schedule it (e.g. hourly) so tables stay bounded.
   */
  prune(now?: number, retention?: PostgresRetention): Promise<PruneResult>;
}

/**
 * Builds every gatehouse store on one client (`pg.Pool`, `pg.Client` or PGlite). Run
 * {@link migrate} with the same table options first.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createAuth } from 'gatehouse';
 * import { createPostgresStores, migrate } from 'gatehouse/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * pool.on('error', (err) => console.error('idle database client failed', err));
 * await migrate(pool, { roles: ['user', 'admin'] });
 * const db = createPostgresStores(pool);
 * const auth = createAuth({ stores: db.stores, audit: db.auditLog.sink });
 * setInterval(() => db.prune().catch(console.error), 3_600_000).unref();
 * ```
 */
export function createPostgresStores(
  client: Queryable,
  options: PostgresTableOptions = {},
): PostgresStores {
  const stores = {
    users: new PostgresUserStore(client, options),
    attempts: new PostgresAttemptStore(client, options),
    tokens: new PostgresTokenStore(client, options),
    rateLimits: new PostgresRateLimitStore(client, options),
  };
  const auditLog = new PostgresAuditLog(client, options);
  return {
    stores,
    auditLog,
    async prune(now = Date.now(), retention = {}) {
      const [attempts, rateLimits, sessions, auditEvents] = await Promise.all([
        stores.attempts.prune(now - (retention.attempts ?? 7 * DAY)),
        stores.rateLimits.prune(now),
        stores.tokens.prune(now - (retention.sessions ?? DAY)),
        auditLog.prune(now - (retention.audit ?? 90 * DAY)),
      ]);
      return { attempts, rateLimits, sessions, auditEvents };
    },
  };
}
