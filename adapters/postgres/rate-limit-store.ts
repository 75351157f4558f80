import type { RateLimitResult, RateLimitStore } from '../../src/stores/types.js';
import type { Queryable } from './queryable.js';
import { countDeleted, fromMs, run, storedKey, toMs } from './sql.js';
import { type PostgresTableOptions, resolveTables } from './tables.js';

const NOW = fromMs('$2');
const RESET_AT = fromMs('($2::float8 + $3::float8)');
// Hits past this are not counted any further (the window is refused anyway), so a flood can
// never overflow the integer column.
const MAX_HITS = 2_000_000_000;

/**
 * A {@link RateLimitStore} on PostgreSQL: one fixed window per key in `rate_limits`. Each hit
 * is a single `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, so concurrent hits from any
 * number of app instances are all counted. Ended windows stay until {@link prune} deletes them.
 *
 * @example
 * ```ts
 * import { PostgresRateLimitStore } from 'gatehouse/postgres';
 * const rateLimits = new PostgresRateLimitStore(pool);
 * setInterval(() => rateLimits.prune(Date.now()), 600_000).unref();
 * ```
 */
export class PostgresRateLimitStore implements RateLimitStore {
  readonly #client: Queryable;
  readonly #table: string;
  readonly #hitSql: string;

  constructor(client: Queryable, options: PostgresTableOptions = {}) {
    this.#client = client;
    this.#table = resolveTables(options).rateLimits;
    const ended = `r.reset_at <= ${NOW}`;
    this.#hitSql = `INSERT INTO ${this.#table} AS r (key, hits, window_start, reset_at)
VALUES ($1, 1, ${NOW}, ${RESET_AT})
ON CONFLICT (key) DO UPDATE SET
  hits = CASE WHEN ${ended} THEN 1 ELSE least(r.hits + 1, ${MAX_HITS}) END,
  window_start = CASE WHEN ${ended} THEN ${NOW} ELSE r.window_start END,
  reset_at = CASE WHEN ${ended} THEN ${RESET_AT} ELSE r.reset_at END
RETURNING hits, ${toMs('reset_at')} AS reset_at`;
  }

  async hit(
    key: string,
    rule: { now: number; windowMs: number; limit: number },
  ): Promise<RateLimitResult> {
    const rows = await run<{ hits: number; reset_at: number }>(this.#client, this.#hitSql, [
      storedKey(key),
      rule.now,
      rule.windowMs,
    ]);
    const row = rows[0]!;
    return { allowed: row.hits <= rule.limit, count: row.hits, resetAt: row.reset_at };
  }

  async reset(key: string): Promise<void> {
    await run(this.#client, `DELETE FROM ${this.#table} WHERE key = $1`, [storedKey(key)]);
  }

  /** Deletes the windows that ended at or before `now` (ms since the epoch); returns how many. */
  async prune(now: number): Promise<number> {
    const rows = await run<{ deleted: number }>(
      this.#client,
      countDeleted(this.#table, `reset_at <= ${fromMs('$1')}`),
      [now],
    );
    return rows[0]!.deleted;
  }
}
