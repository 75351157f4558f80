import {
  OutageLog,
  type OutageLogOptions,
  resolveOutageLogOptions,
} from '../../src/http/outage-log.js';
import { isUnavailable } from './database-error.js';
import { type Queryable, withTransaction } from './queryable.js';

const DATABASE_MESSAGES = {
  unavailable: 'database unavailable',
  stillUnavailable: 'database still unavailable',
  back: 'database is back',
};

const TRACKED = Symbol.for('gatehouse.postgres.trackedQueryable');

/**
 * A client made by {@link trackOutages}: the same `query`, plus `transaction` (so
 * `withTransaction` and `migrate` still get one connection for a whole transaction).
 *
 * @example
 * ```ts
 * const db: TrackedQueryable = trackOutages(pool, { logger });
 * await db.transaction(async (tx) => tx.query('SELECT 1'));
 * ```
 */
export interface TrackedQueryable extends Queryable {
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

function tracked(client: Queryable, log: OutageLog): TrackedQueryable {
  // Unavailability errors already counted, so that a failed query inside a transaction is not
  // counted again when the transaction rethrows it.
  const counted = new WeakSet<object>();
  const failed = (err: unknown) => {
    if (typeof err === 'object' && err !== null) {
      if (counted.has(err)) return;
      counted.add(err);
    }
    log.failed(err);
  };
  const view = (connection: Queryable): Queryable => ({
    async query(text, params) {
      try {
        const result = await connection.query(text, params);
        log.succeeded();
        return result;
      } catch (err) {
        // Any answer from the server, even an error, means it is reachable.
        if (isUnavailable(err)) failed(err);
        else log.succeeded();
        throw err;
      }
    },
  });
  return Object.assign(view(client), {
    [TRACKED]: true,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      try {
        return await withTransaction(client, (tx) => fn(view(tx)));
      } catch (err) {
        // A pool that cannot hand out a connection fails before any query.
        if (isUnavailable(err)) failed(err);
        throw err;
      }
    },
  });
}

/**
 * Wraps a client so that a database outage is logged without a storm: the first query that
 * finds the database unreachable (see {@link isUnavailable}) is logged at once with its cause
 * (the driver's message and code, never the SQL or its parameters), then at most one
 * `database still unavailable` line per interval with the count of failed queries, and one
 * `database is back` line (with the outage's duration and failure count) at the first query
 * the database answers again. Queries, results and errors pass through unchanged.
 *
 * {@link createPostgresStores} does this for you when given a `logger`; use this for a client
 * you also query yourself, so one outage is one set of lines. The wrapper has no `end()`:
 * close the client you wrapped.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { trackOutages } from 'gatehouse/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const db = trackOutages(pool, { logger, intervalMs: 10_000 });
 * await db.query('SELECT 1');
 * ```
 */
export function trackOutages(client: Queryable, options: OutageLogOptions): TrackedQueryable {
  if (isTracked(client)) return client;
  const log = new OutageLog(
    resolveOutageLogOptions(options, 'trackOutages'),
    DATABASE_MESSAGES,
    'success',
  );
  return tracked(client, log);
}

function isTracked(client: Queryable): client is TrackedQueryable {
  return (client as { [TRACKED]?: unknown })[TRACKED] === true;
}
