import type {
  AttemptReservation,
  AttemptState,
  AttemptStore,
  LockoutRule,
} from '../../src/stores/types.js';
import type { Queryable } from './queryable.js';
import { countDeleted, fromMs, run, storedKey, toMs } from './sql.js';
import { type PostgresTableOptions, resolveTables } from './tables.js';

// Parameters of reserve / recordFailure: $1 key, $2 now, $3 maxAttempts, $4 windowMs,
// $5 lockMs, $6 backoffFactor, $7 maxLockMs.
const NOW = fromMs('$2');
const ms = (param: string) => `(${param}::float8 * interval '1 millisecond')`;
// min(maxLockMs, round(lockMs * backoffFactor ^ lockouts)), rounding half up like Math.round.
// The exponent is capped just past the point where the product exceeds maxLockMs (which leaves
// the result unchanged) so that many lockouts can never overflow float8.
function lockFor(lockouts: string, p = { lockMs: '$5', factor: '$6', maxLock: '$7' }): string {
  const [lock, factor, max] = [
    `${p.lockMs}::float8`,
    `${p.factor}::float8`,
    `${p.maxLock}::float8`,
  ];
  const cap = `ceil(ln(greatest(${max} / ${lock}, 1)) / ln(${factor})) + 1`;
  const exponent = `CASE WHEN ${factor} <= 1 THEN ${lockouts} ELSE least(${lockouts}, ${cap}) END`;
  return ms(`least(${max}, floor(${lock} * power(${factor}, ${exponent}) + 0.5))`);
}

// Cap of a refused-reservation count, so a flood of refusals cannot overflow the integer column.
const MAX_REFUSED = 2_000_000_000;

/**
 * The row after one reservation, as SQL expressions over the row before it. While a row is
 * locked, `attempts` counts the reservations that lock refused: the write that takes the lock
 * sets it to 0 and each refusal adds one, so the one statement that sees a lock with
 * `attempts = 0` is the one that took it (RETURNING only shows the row after the write).
 */
function reserved(o: {
  attempts: string;
  windowStart: string;
  lockedUntil: string;
  lockouts: string;
}) {
  const locked = `(${o.lockedUntil} IS NOT NULL AND ${o.lockedUntil} > ${NOW})`;
  const restart = `(${o.lockedUntil} IS NOT NULL OR ${o.windowStart} + ${ms('$4')} <= ${NOW})`;
  const counted = `(CASE WHEN ${restart} THEN 0 ELSE ${o.attempts} END + 1)`;
  const trips = `(${counted} > $3::int)`;
  return {
    attempts: `CASE WHEN ${locked} THEN least(${o.attempts}, ${MAX_REFUSED}) + 1 WHEN ${trips} THEN 0 ELSE ${counted} END`,
    windowStart: `CASE WHEN ${locked} THEN ${o.windowStart} WHEN ${restart} THEN ${NOW} ELSE ${o.windowStart} END`,
    lockedUntil: `CASE WHEN ${locked} THEN ${o.lockedUntil} WHEN ${trips} THEN ${NOW} + ${lockFor(o.lockouts)} END`,
    lockouts: `CASE WHEN NOT ${locked} AND ${trips} THEN ${o.lockouts} + 1 ELSE ${o.lockouts} END`,
  };
}

interface AttemptRow {
  attempts: number;
  locked_until: number | null;
}

/**
 * An {@link AttemptStore} on PostgreSQL: one row per identifier in `login_attempts`. `reserve`
 * is a single `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, so concurrent reservations on
 * one identifier, from any number of app instances, are counted one after the other on the
 * row's lock: never more than `maxAttempts` password checks between two lockouts. The
 * statement that takes a lock is the only one told so (`lockedNow`, or `recordFailure`'s time),
 * which `recordFailure` gets from an `UPDATE ... WHERE` that only matches an unlocked row at
 * the threshold.
 *
 * Keys are stored as given when short (the core's keys are keyed hashes, `login:` + 43
 * characters); a key over 200 characters or with a NUL byte is stored as its SHA-256.
 *
 * Rows outlive their window so a lockout count (for backoff) survives; {@link prune} deletes
 * rows left untouched since a given time.
 *
 * @example
 * ```ts
 * import { PostgresAttemptStore } from 'gatehouse/postgres';
 * const attempts = new PostgresAttemptStore(pool);
 * const auth = createAuth({ stores: { attempts } });
 * setInterval(() => attempts.prune(Date.now() - 7 * 86_400_000), 3_600_000).unref();
 * ```
 */
export class PostgresAttemptStore implements AttemptStore {
  readonly #client: Queryable;
  readonly #table: string;
  readonly #reserveSql: string;
  readonly #failureSql: string;

  constructor(client: Queryable, options: PostgresTableOptions = {}) {
    this.#client = client;
    const table = resolveTables(options).loginAttempts;
    this.#table = table;
    const fresh = reserved({
      attempts: '0',
      windowStart: NOW,
      lockedUntil: 'NULL::timestamptz',
      lockouts: '0',
    });
    const next = reserved({
      attempts: 'a.attempts',
      windowStart: 'a.window_start',
      lockedUntil: 'a.locked_until',
      lockouts: 'a.lockouts',
    });
    this.#reserveSql = `INSERT INTO ${table} AS a (key, attempts, window_start, locked_until, lockouts, updated_at)
VALUES ($1, ${fresh.attempts}, ${fresh.windowStart}, ${fresh.lockedUntil}, ${fresh.lockouts}, ${NOW})
ON CONFLICT (key) DO UPDATE SET
  attempts = ${next.attempts},
  window_start = ${next.windowStart},
  locked_until = ${next.lockedUntil},
  lockouts = ${next.lockouts},
  updated_at = ${NOW}
RETURNING attempts, ${toMs('locked_until')} AS locked_until`;
    // Only the failure that locks writes: the WHERE clause is checked again on the newest row
    // version after waiting for a concurrent writer, so of racing failures one locks and the
    // others (and any failure after a reservation took the lock) update nothing.
    this.#failureSql = `UPDATE ${table} AS a SET
  locked_until = ${NOW} + ${lockFor('a.lockouts', FAILURE_LOCK)},
  lockouts = a.lockouts + 1,
  attempts = 0,
  updated_at = ${NOW}
WHERE a.key = $1 AND a.locked_until IS NULL AND a.attempts >= $3::int
RETURNING ${toMs('a.locked_until')} AS locked_until`;
  }

  async reserve(key: string, rule: LockoutRule): Promise<AttemptReservation> {
    const rows = await run<AttemptRow>(this.#client, this.#reserveSql, params(key, rule));
    const row = rows[0]!;
    return row.locked_until === null
      ? { allowed: true, attempts: row.attempts }
      : { allowed: false, lockedUntil: row.locked_until, lockedNow: row.attempts === 0 };
  }

  async recordFailure(key: string, rule: LockoutRule): Promise<number | null> {
    const rows = await run<AttemptRow>(this.#client, this.#failureSql, [
      storedKey(key),
      rule.now,
      rule.maxAttempts,
      rule.lockMs,
      rule.backoffFactor,
      rule.maxLockMs,
    ]);
    return rows[0]?.locked_until ?? null;
  }

  async reset(key: string): Promise<void> {
    await run(this.#client, `DELETE FROM ${this.#table} WHERE key = $1`, [storedKey(key)]);
  }

  /** Reads the key's row (one SELECT, no lock taken); see {@link AttemptStore.inspect}. */
  async inspect(key: string, now: number): Promise<AttemptState | null> {
    const rows = await run<{
      attempts: number;
      window_start: number;
      locked_until: number | null;
      lockouts: number;
    }>(
      this.#client,
      `SELECT attempts, ${toMs('window_start')} AS window_start,
  ${toMs('locked_until')} AS locked_until, lockouts
FROM ${this.#table} WHERE key = $1`,
      [storedKey(key)],
    );
    const row = rows[0];
    if (!row) return null;
    // While a lock stands, the column counts the reservations it refused: not attempts.
    return {
      attempts: row.locked_until === null ? row.attempts : 0,
      windowStart: row.window_start,
      lockedUntil: row.locked_until !== null && row.locked_until > now ? row.locked_until : null,
      lockouts: row.lockouts,
    };
  }

  /**
   * Deletes the counters untouched since `olderThan` (ms since the epoch) whose lock, if any,
   * ended before it; returns how many. Forgetting a row also forgets its lockout count, so keep
   * rows at least as long as your longest lockout (e.g. `now - 7 days`).
   */
  async prune(olderThan: number): Promise<number> {
    const rows = await run<{ deleted: number }>(
      this.#client,
      countDeleted(
        this.#table,
        `updated_at < ${fromMs('$1')} AND (locked_until IS NULL OR locked_until < ${fromMs('$1')})`,
      ),
      [olderThan],
    );
    return rows[0]!.deleted;
  }
}

// recordFailure's parameters: $1 key, $2 now, $3 maxAttempts, $4 lockMs, $5 backoffFactor,
// $6 maxLockMs.
const FAILURE_LOCK = { lockMs: '$4', factor: '$5', maxLock: '$6' };

function params(key: string, rule: LockoutRule): unknown[] {
  return [
    storedKey(key),
    rule.now,
    rule.maxAttempts,
    rule.windowMs,
    rule.lockMs,
    rule.backoffFactor,
    rule.maxLockMs,
  ];
}
