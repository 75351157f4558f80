import type { OutageLogOptions } from '../../src/http/outage-log.js';
import type { Logger } from '../../src/runtime.js';
import { PostgresAttemptStore } from './attempt-store.js';
import { PostgresAuditLog } from './audit-log.js';
import { PostgresMailOutbox } from './mail-outbox.js';
import { PostgresMfaStore } from './mfa-store.js';
import { PostgresOneTimeTokenStore } from './one-time-token-store.js';
import { trackOutages } from './outage-tracker.js';
import type { Queryable } from './queryable.js';
import { PostgresRateLimitStore } from './rate-limit-store.js';
import type { PostgresRevocationOptions } from './revocation-listener.js';
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
  /**
   * One-time tokens (reset and verification links) expired, used or superseded this long ago
   * are deleted. An ended token is refused either way.
   * @default 1 day
   */
  oneTimeTokens?: number;
  /**
   * Delivered and given-up mails (their content is erased at once; the row keeps the kind,
   * recipient, attempts and last error) are deleted this long after they ended.
   * @default 7 days
   */
  mail?: number;
}

/**
 * Rows deleted by one {@link PostgresStores.prune}, per table.
 *
 * @example
 * ```ts
 * const deleted: PruneResult = await db.prune();
 * logger.info('pruned', deleted); // { attempts, rateLimits, sessions, auditEvents, oneTimeTokens, mail }
 * ```
 */
export interface PruneResult {
  attempts: number;
  rateLimits: number;
  sessions: number;
  auditEvents: number;
  oneTimeTokens: number;
  mail: number;
}

/**
 * Options of {@link createPostgresStores}: where the tables are, and where outages are logged.
 *
 * @example
 * ```ts
 * const options: PostgresStoresOptions = { schema: 'auth', logger, outageLog: { intervalMs: 30_000 } };
 * const db = createPostgresStores(pool, options);
 * ```
 */
export interface PostgresStoresOptions extends PostgresTableOptions {
  /**
   * Logs database outages without a storm (see {@link trackOutages}): the first failure with
   * its cause, at most one summary per interval, one line when the database is back.
   * Unset: the stores log nothing (their errors still reach your error handler).
   */
  logger?: Logger;
  /** The interval, clock and timer of the outage log; used only with `logger`. */
  outageLog?: Omit<OutageLogOptions, 'logger'>;
  /**
   * How the token store hears revocations made by other instances (LISTEN/NOTIFY). Unset: on a
   * `pg.Pool`, one connection of it is held for LISTEN (size the pool one larger); on PGlite,
   * in process. `auth.close()` gives the connection back.
   */
  revocations?: PostgresRevocationOptions;
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
    /** Reset and verification tokens; `issue(record, mail)` enqueues into `outbox`. */
    oneTimeTokens: PostgresOneTimeTokenStore;
    /** The mail outbox (`mail_outbox`), shared by every instance's mail worker. */
    outbox: PostgresMailOutbox;
    /** TOTP factors and recovery codes (`mfa_factors`, `mfa_recovery_codes`). */
    mfa: PostgresMfaStore;
  };
  /** The audit log; pass `auditLog.sink` as `createAuth({ audit })`. */
  auditLog: PostgresAuditLog;
  /**
   * The client the stores query: the one you passed, wrapped by {@link trackOutages} when a
   * `logger` was given. Run your own queries on it so that an outage is logged once.
   */
  client: Queryable;
  /**
   * Deletes ended rows of every table (see {@link PostgresRetention}) and returns the counts.
   * Safe to run from every instance at once; schedule it (e.g. hourly) so tables stay bounded.
   */
  prune(now?: number, retention?: PostgresRetention): Promise<PruneResult>;
}

/**
 * Builds every gatehouse store on one client (`pg.Pool`, `pg.Client` or PGlite). Run
 * {@link migrate} with the same table options first. With `logger`, a database outage is
 * logged as a few lines instead of one per failed request (see {@link trackOutages}).
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
 * const db = createPostgresStores(pool, { logger }); // logs outages without a storm
 * const auth = createAuth({ stores: db.stores, audit: db.auditLog.sink, logger });
 * setInterval(() => db.prune().catch(console.error), 3_600_000).unref();
 * ```
 */
export function createPostgresStores(
  client: Queryable,
  options: PostgresStoresOptions = {},
): PostgresStores {
  // The LISTEN connection comes from the client as given (the outage wrapper cannot lend one).
  const revocations = { listen: client, ...options.revocations };
  if (options.logger !== undefined) {
    client = trackOutages(client, { ...options.outageLog, logger: options.logger });
  }
  const stores = {
    users: new PostgresUserStore(client, options),
    attempts: new PostgresAttemptStore(client, options),
    tokens: new PostgresTokenStore(client, { ...options, revocations }),
    rateLimits: new PostgresRateLimitStore(client, options),
    oneTimeTokens: new PostgresOneTimeTokenStore(client, options),
    outbox: new PostgresMailOutbox(client, options),
    mfa: new PostgresMfaStore(client, options),
  };
  const auditLog = new PostgresAuditLog(client, options);
  return {
    stores,
    auditLog,
    client,
    async prune(now = Date.now(), retention = {}) {
      const [attempts, rateLimits, sessions, auditEvents, oneTimeTokens, mail] = await Promise.all([
        stores.attempts.prune(now - (retention.attempts ?? 7 * DAY)),
        stores.rateLimits.prune(now),
        stores.tokens.prune(now - (retention.sessions ?? DAY)),
        auditLog.prune(now - (retention.audit ?? 90 * DAY)),
        stores.oneTimeTokens.prune(now - (retention.oneTimeTokens ?? DAY)),
        stores.outbox.prune(now - (retention.mail ?? 7 * DAY)),
      ]);
      return { attempts, rateLimits, sessions, auditEvents, oneTimeTokens, mail };
    },
  };
}
