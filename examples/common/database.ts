import { existsSync, mkdirSync, writeSync } from 'node:fs';
import { url as inspectorUrl } from 'node:inspector';
import { join, resolve } from 'node:path';
import { checkSchema, migrate, type Queryable } from 'gatehouse/postgres';
import { acquireDataDirLock } from './data-dir-lock.js';
import type { ExampleConfig } from './env.js';
import type { JsonLogger } from './logger.js';
import type { PoolUsage } from './telemetry.js';
import { startWatchdog, type Watchdog } from './watchdog.js';

/** The example's own table, beside gatehouse's: orders with a decimal total. */
const ORDERS_SQL = `
CREATE TABLE IF NOT EXISTS orders (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  total numeric(12, 2) NOT NULL CHECK (total >= 0),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'cancelled')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS orders_user_id_created_at_idx ON orders (user_id, created_at DESC);
`;

export interface Database {
  client: Queryable;
  /** True for the embedded PGlite database (no DATABASE_URL). */
  embedded: boolean;
  /** With DATABASE_URL: the pool's connections now (the metrics read it at each scrape). */
  poolUsage?: () => PoolUsage;
  close(): Promise<void>;
}

/**
 * How long the main thread may stay without progress in each phase of the embedded database
 * before the watchdog kills the process. PGlite blocks the main thread while it works: creating
 * a new database (initdb) takes ~5 s on an idle machine, opening an existing one well under 1 s,
 * and each of the example's queries a few milliseconds.
 */
export interface StallLimits {
  create: number;
  open: number;
  verify: number;
  serve: number;
}

export const EMBEDDED_STALL_LIMITS_MS: Readonly<StallLimits> = {
  create: 120_000,
  open: 20_000,
  verify: 10_000,
  serve: 30_000,
};

/** The embedded database could not be opened or verified, or PGlite aborted. */
export class EmbeddedDatabaseError extends Error {
  override readonly name = 'EmbeddedDatabaseError';
  constructor(
    readonly dir: string,
    cause: unknown,
  ) {
    super(embeddedFailureMessage(dir, describe(cause)), { cause });
  }
}

/**
 * The external database (DATABASE_URL) could not be reached or used at start. The message is one
 * line that names the variable, the host and port, and the cause; it never holds the password.
 */
export class DatabaseUrlError extends Error {
  override readonly name = 'DatabaseUrlError';
  constructor(databaseUrl: string, cause: unknown) {
    super(databaseUrlFailureMessage(databaseUrl, cause), { cause });
  }
}

/** Every error in the chain: `cause` links and the `errors` of an AggregateError, depth first. */
function causeChain(outer: unknown): Error[] {
  const out: Error[] = [];
  const visit = (err: unknown, depth: number) => {
    if (!(err instanceof Error) || depth > 6 || out.includes(err)) return;
    out.push(err);
    if (err instanceof AggregateError) for (const e of err.errors) visit(e, depth + 1);
    visit(err.cause, depth + 1);
  };
  visit(outer, 0);
  return out;
}

const DATABASE_URL_CAUSES: Record<string, (user: string) => string> = {
  ECONNREFUSED: () => 'connection refused',
  ENOTFOUND: () => 'host not found',
  EAI_AGAIN: () => 'host not found (DNS lookup failed)',
  ETIMEDOUT: () => 'connection timed out',
  ECONNRESET: () => 'connection reset',
  EHOSTUNREACH: () => 'host unreachable',
  '28P01': (user) => `authentication failed for user "${user}"`,
  '28000': (user) => `authentication rejected for user "${user}"`,
  '3D000': () => 'database does not exist',
};

/**
 * `DATABASE_URL: connection refused at 127.0.0.1:5999 (ECONNREFUSED)`: the variable, the host
 * and port from the URL, and the first known code in the cause chain (otherwise the innermost
 * message). The password is never printed, not even when a driver message echoes the URL.
 */
export function databaseUrlFailureMessage(databaseUrl: string, cause: unknown): string {
  let host = '(unparsable URL)';
  let user = '';
  let password = '';
  let database = '';
  try {
    const u = new URL(databaseUrl);
    host = `${u.hostname || 'localhost'}:${u.port || '5432'}`;
    user = decodeURIComponent(u.username);
    password = decodeURIComponent(u.password);
    database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  } catch {}
  const chain = causeChain(cause);
  let what: string | undefined;
  for (const err of chain) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && DATABASE_URL_CAUSES[code]) {
      const text = DATABASE_URL_CAUSES[code](user);
      what = `${code === '3D000' && database ? `database "${database}" does not exist` : text} at ${host} (${code})`;
      break;
    }
  }
  if (what === undefined) {
    // A schema that is missing or outdated says "run migrate()" in gatehouse's own message.
    const migrateHint = chain.find((e) => e.message.includes('migrate()'));
    const inner = migrateHint ?? chain[chain.length - 1];
    const first = inner ? (inner.message.split('\n')[0] ?? '') : String(cause);
    const code = (inner as { code?: unknown } | undefined)?.code;
    what = `${first} at ${host}${typeof code === 'string' ? ` (${code})` : ''}`;
  }
  let line = `DATABASE_URL: ${what}`;
  if (password) line = line.split(password).join('***');
  return line;
}

/** The first line of the innermost cause: the store's AuthError wraps the database's error. */
function describe(outer: unknown): string {
  let err = outer;
  for (let depth = 0; depth < 5 && err instanceof Error && err.cause !== undefined; depth++) {
    err = err.cause;
  }
  if (!(err instanceof Error)) return String(err);
  const first = err.message.split('\n')[0] ?? '';
  return `${err.name === 'Error' ? '' : `${err.name}: `}${first}`;
}

/** The fatal message: what happened, to which directory, and how to recover. */
export function embeddedFailureMessage(dir: string, what: string): string {
  return (
    `fatal: the embedded database in ${dir} failed (${what}); it is damaged or unusable. ` +
    `To recover, stop every process using it, move it away (for example: mv ${dir} ` +
    `${dir}.damaged) and start again: a new database will be created and the demo accounts ` +
    `seeded; the old data stays in the moved directory.`
  );
}

/**
 * A `WebAssembly.RuntimeError`, such as `RuntimeError: Aborted()`: the WebAssembly Postgres
 * died, and the PGlite instance is unusable after it.
 */
export function isPgliteAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'RuntimeError';
}

/** What the guard needs of PGlite: `query` and `transaction`. */
export interface TransactionalClient extends Queryable {
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
}

/**
 * The client the app uses instead of PGlite itself: any query (inside a transaction too) that
 * fails with a PGlite abort calls `onAbort`, which ends the process; other errors pass through.
 */
export function guardPgliteAborts(
  lite: TransactionalClient,
  onAbort: (err: unknown) => void,
): TransactionalClient {
  const guard = <T>(promise: Promise<T>): Promise<T> =>
    promise.catch((err: unknown) => {
      if (isPgliteAbort(err)) onAbort(err);
      throw err;
    });
  return {
    query: (text, params) => guard(lite.query(text, params)),
    transaction: (fn) =>
      guard(
        lite.transaction((tx) => fn({ query: (text, params) => guard(tx.query(text, params)) })),
      ),
  };
}

/**
 * Opens the database: PGlite persisted in DATA_DIR without DATABASE_URL, otherwise a pg.Pool.
 * Migrates gatehouse's tables (roles of the seed policy) and the example's orders table.
 *
 * The embedded database is opened by one process only (an exclusive lock on DATA_DIR, see
 * `data-dir-lock.ts`), verified with a write before the app listens, and watched: an abort of
 * PGlite, or a main thread that stops making progress (PGlite spinning in WebAssembly), ends
 * the process with a fatal message that says how to recover.
 */
export async function openDatabase(
  config: ExampleConfig,
  logger: JsonLogger,
  options: { stallLimitsMs?: Partial<StallLimits> } = {},
): Promise<Database> {
  if (!config.DATABASE_URL) {
    return openEmbedded(config, logger, { ...EMBEDDED_STALL_LIMITS_MS, ...options.stallLimitsMs });
  }
  const { default: pg } = await import('pg');
  const databaseUrl = config.DATABASE_URL;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 10,
    // An unreachable host fails the start in seconds, not at the OS's TCP timeout.
    connectionTimeoutMillis: 10_000,
  });
  // An idle connection dropped by the server (an outage) emits one error per pooled connection:
  // log the first, then at most one line per 10 s with how many were dropped meanwhile. Queries
  // that fail are logged by gatehouse's outage tracker.
  let lastPoolError = Number.NEGATIVE_INFINITY;
  let droppedSince = 0;
  pool.on('error', (err) => {
    const now = Date.now();
    if (now - lastPoolError < 10_000) {
      droppedSince++;
      return;
    }
    logger.warn('database connection dropped', {
      error: err.message,
      ...(droppedSince > 0 ? { droppedSinceLastLine: droppedSince } : {}),
    });
    lastPoolError = now;
    droppedSince = 0;
  });
  const db: Database = {
    client: pool,
    embedded: false,
    poolUsage: () => ({
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      max: pool.options.max,
    }),
    close: () => pool.end(),
  };
  logger.info('database: PostgreSQL', { via: 'DATABASE_URL' });
  try {
    // One connection first: a refused port, a wrong password or an unknown database is reported
    // by the driver with its code, before gatehouse's stores wrap it.
    const conn = await pool.connect();
    conn.release();
    await migrateExample(db.client);
  } catch (err) {
    await pool.end().catch(() => {});
    throw new DatabaseUrlError(databaseUrl, err);
  }
  return db;
}

async function migrateExample(client: Queryable): Promise<void> {
  await migrate(client, { roles: ['user', 'admin'] });
  // Fails the start with "run migrate()" if the schema is missing or older than this gatehouse.
  await checkSchema(client);
  await client.query(ORDERS_SQL.trim(), []).catch(async () => {
    // PGlite's extended protocol takes one statement at a time.
    for (const statement of ORDERS_SQL.split(';')
      .map((s) => s.trim())
      .filter(Boolean)) {
      await client.query(statement, []);
    }
  });
}

/** A write (and a read of every table) at start, so a damaged database fails before listening. */
async function verifyWithWrite(client: Queryable): Promise<void> {
  await client.query(
    'CREATE TABLE IF NOT EXISTS example_start_check (id int PRIMARY KEY, checked_at timestamptz NOT NULL)',
    [],
  );
  await client.query(
    'INSERT INTO example_start_check (id, checked_at) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at',
    [],
  );
  await client.query('DELETE FROM example_start_check WHERE id = 1', []);
  const { rows } = await client.query(
    "SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'",
    [],
  );
  for (const { name } of rows as { name: string }[]) {
    await client.query(`SELECT count(*) FROM ${name}`, []);
  }
  // Writes the dirty pages to the files now, not at some later request.
  await client.query('CHECKPOINT', []);
}

async function openEmbedded(
  config: ExampleConfig,
  logger: JsonLogger,
  limits: StallLimits,
): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const dataDir = resolve(config.DATA_DIR);
  const dir = join(dataDir, 'pglite');
  const lock = acquireDataDirLock(dataDir, {
    onStale: (holder) =>
      logger.warn('took over the lock of DATA_DIR left by a process that is gone', {
        dataDir,
        pid: holder.pid,
        startedAt: holder.startedAt,
      }),
  });
  // Under a debugger a paused main thread is no fault.
  const watchdog: Watchdog | undefined = inspectorUrl() ? undefined : startWatchdog();
  const stalled = (what: string) =>
    embeddedFailureMessage(dir, `no progress while ${what}: PGlite is hung`);
  const fatal = (err: unknown) => {
    const message = embeddedFailureMessage(dir, describe(err));
    logger.error('embedded database aborted', { dir, error: describe(err) });
    writeSync(2, `${message}\n`);
    process.exit(1);
  };
  // An abort thrown where nobody awaits it still ends the process (Node's default), with the
  // recovery advice first.
  const monitor = (err: unknown) => {
    if (isPgliteAbort(err)) writeSync(2, `${embeddedFailureMessage(dir, describe(err))}\n`);
  };
  process.on('uncaughtExceptionMonitor', monitor);
  const cleanUp = () => {
    watchdog?.stop();
    process.off('uncaughtExceptionMonitor', monitor);
    lock.release();
  };

  let lite: InstanceType<typeof PGlite> | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    const fresh = !existsSync(join(dir, 'PG_VERSION'));
    watchdog?.phase(
      fresh ? 'creating the database' : 'opening the database',
      fresh ? limits.create : limits.open,
      stalled(fresh ? 'creating the database' : 'opening the database'),
    );
    lite = await PGlite.create(dir);
    watchdog?.phase('verifying the database', limits.verify, stalled('verifying the database'));
    await migrateExample(lite);
    await verifyWithWrite(lite);
    watchdog?.phase('serving requests', limits.serve, stalled('serving requests'));
  } catch (err) {
    const failure = new EmbeddedDatabaseError(dir, err);
    logger.error('embedded database failed', { dir, error: describe(err) });
    if (!isPgliteAbort(err)) await lite?.close().catch(() => {});
    cleanUp();
    throw failure;
  }
  logger.info('database: embedded PGlite', { dir, lock: lock.file });

  const instance = lite;
  const client = guardPgliteAborts(instance, fatal);
  return {
    client,
    embedded: true,
    async close() {
      try {
        await instance.close();
      } finally {
        cleanUp();
      }
    },
  };
}
