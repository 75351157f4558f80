/**
 * Any PostgreSQL client gatehouse can talk to: something with `query(text, params)` resolving
 * to `{ rows }`. `pg.Pool`, `pg.Client`, a checked-out `pg.PoolClient` and PGlite all fit, so
 * gatehouse never imports a driver.
 *
 * The stores run every operation as one statement, so they work on any of these, shared by
 * as many stores and app instances as you like. Only {@link migrate} needs a transaction; see
 * `withTransaction` (internal to the stores) for how it gets one from each kind of client.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import type { Queryable } from 'gatehouse/postgres';
 *
 * const pool: Queryable = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * ```
 */
export interface Queryable {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** A client of which one connection can be checked out, like `pg.Pool`. */
interface PoolLike extends Queryable {
  connect(): Promise<Queryable & { release(destroy?: boolean | Error): void }>;
  totalCount: number;
}

/** A client with its own transaction API, like PGlite. */
interface TransactionRunner extends Queryable {
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

function isPool(client: Queryable): client is PoolLike {
  const candidate = client as Partial<PoolLike> & { release?: unknown };
  return (
    typeof candidate.connect === 'function' &&
    typeof candidate.totalCount === 'number' &&
    typeof candidate.release !== 'function'
  );
}

function hasTransactions(client: Queryable): client is TransactionRunner {
  return typeof (client as Partial<TransactionRunner>).transaction === 'function';
}

/**
 * Runs `fn` inside one transaction on one connection and commits, or rolls back and rethrows.
 * - PGlite (has `transaction`): uses it.
 * - `pg.Pool` (has `connect` and `totalCount`): checks out a connection for the transaction.
 * - anything else is taken to be a single connection (`pg.Client`, `pg.PoolClient`): BEGIN and
 *   COMMIT run on it directly, so do not share it with concurrent work while this runs.
 *
 * @example
 * ```ts
 * import { withTransaction } from './queryable.js'; // internal to the stores
 * await withTransaction(pool, async (tx) => {
 *   await tx.query('UPDATE accounts SET balance = balance - 1 WHERE id = $1', [id]);
 * });
 * ```
 */
export async function withTransaction<T>(
  client: Queryable,
  fn: (tx: Queryable) => Promise<T>,
): Promise<T> {
  if (hasTransactions(client)) return client.transaction(fn);
  if (isPool(client)) {
    const connection = await client.connect();
    let broken: Error | undefined;
    try {
      return await inTransaction(connection, fn);
    } catch (err) {
      // A connection whose ROLLBACK failed may be unusable: destroy it rather than pool it.
      if (err instanceof RollbackFailed) broken = err;
      throw err instanceof RollbackFailed ? err.original : err;
    } finally {
      connection.release(broken);
    }
  }
  try {
    return await inTransaction(client, fn);
  } catch (err) {
    throw err instanceof RollbackFailed ? err.original : err;
  }
}

class RollbackFailed extends Error {
  constructor(readonly original: unknown) {
    super('rollback failed');
  }
}

async function inTransaction<T>(connection: Queryable, fn: (tx: Queryable) => Promise<T>) {
  await connection.query('BEGIN');
  let result: T;
  try {
    result = await fn(connection);
  } catch (err) {
    try {
      await connection.query('ROLLBACK');
    } catch {
      throw new RollbackFailed(err);
    }
    throw err;
  }
  await connection.query('COMMIT');
  return result;
}
