import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, type Queryable } from 'gatehouse/postgres';
import type { ExampleConfig } from './env.js';
import type { JsonLogger } from './logger.js';

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
  close(): Promise<void>;
}

/**
 * Opens the database: PGlite persisted in DATA_DIR without DATABASE_URL, otherwise a pg.Pool.
 * Migrates gatehouse's tables (roles of the seed policy) and the example's orders table.
 */
export async function openDatabase(config: ExampleConfig, logger: JsonLogger): Promise<Database> {
  let db: Database;
  if (config.DATABASE_URL) {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 10 });
    pool.on('error', (err) => logger.error('database pool error', { error: err.message }));
    db = { client: pool, embedded: false, close: () => pool.end() };
    logger.info('database: PostgreSQL', { via: 'DATABASE_URL' });
  } else {
    const { PGlite } = await import('@electric-sql/pglite');
    const dir = join(config.DATA_DIR, 'pglite');
    mkdirSync(dir, { recursive: true });
    const lite = await PGlite.create(dir);
    db = { client: lite, embedded: true, close: () => lite.close() };
    logger.info('database: embedded PGlite', { dir });
  }
  await migrate(db.client, { roles: ['user', 'admin'] });
  await db.client.query(ORDERS_SQL.trim(), []).catch(async () => {
    // PGlite's extended protocol takes one statement at a time.
    for (const statement of ORDERS_SQL.split(';')
      .map((s) => s.trim())
      .filter(Boolean)) {
      await db.client.query(statement, []);
    }
  });
  return db;
}
