import type { MfaFactorRecord, MfaFactorStatus, MfaStore } from '../../src/stores/types.js';
import type { Queryable } from './queryable.js';
import { fromMs, run, toMs } from './sql.js';
import { type PostgresTableOptions, resolveTables } from './tables.js';

interface FactorRow {
  user_id: string;
  secret_ciphertext: string;
  status: MfaFactorStatus;
  created_at: number;
  confirmed_at: number | null;
  last_used_step: number | null;
}

const COLUMNS = `user_id, secret_ciphertext, status, ${toMs('created_at')} AS created_at,
  ${toMs('confirmed_at')} AS confirmed_at, last_used_step::float8 AS last_used_step`;

/** A base64url HMAC-SHA256, as the core stores: anything else matches no stored code. */
const HASH = /^[A-Za-z0-9_-]{43}$/;

function toRecord(row: FactorRow): MfaFactorRecord {
  return {
    userId: row.user_id,
    secretCiphertext: row.secret_ciphertext,
    status: row.status,
    createdAt: row.created_at,
    confirmedAt: row.confirmed_at,
    lastUsedStep: row.last_used_step,
  };
}

function checkStep(step: number): void {
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new TypeError('PostgresMfaStore: step must be an integer >= 0');
  }
}

function checkHashes(hashes: readonly string[]): string[] {
  const list = [...hashes];
  if (!list.every((hash) => typeof hash === 'string' && HASH.test(hash))) {
    throw new TypeError(
      'PostgresMfaStore: recovery code hashes must be base64url SHA-256 (43 characters)',
    );
  }
  return list;
}

/**
 * An {@link MfaStore} on PostgreSQL: TOTP factors in `mfa_factors` and recovery-code hashes in
 * `mfa_recovery_codes`, both created by {@link migrate} (migration 5).
 *
 * Atomicity, each operation one statement (so any client works, a shared `pg.Client` included):
 * - `acceptStep` is one `UPDATE … WHERE status = 'active' AND last_used_step < $step`: concurrent
 *   callers with one step queue on the row lock and re-check the condition on the updated row,
 *   so exactly one gets true, on any number of instances.
 * - `consumeRecoveryCode` is one `UPDATE … WHERE used_at IS NULL` on the code's row (of the
 *   factor's current set): exactly one of concurrent callers with one hash gets true.
 * - `activateFactor` and `replaceRecoveryCodes` update the factor row (which bumps its
 *   `codes_generation`) and delete and insert the codes in data-modifying CTEs of one
 *   statement; a code counts only while its generation is the factor's, so two replacements
 *   racing leave exactly one set usable.
 * - `savePendingFactor` is one `INSERT … ON CONFLICT DO UPDATE … WHERE status = 'pending'`.
 *
 * No foreign key to `users`: it works with your own users table too. Recovery-code hashes must be
 * base64url SHA-256 digests (43 characters, what the core stores): another value is a TypeError
 * when stored and matches nothing when consumed. Errors: `SERVER_ERROR` (503 when the database
 * is unreachable).
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createAuth } from 'gatehouse';
 * import { migrate, PostgresMfaStore } from 'gatehouse/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migrate(pool);
 * const auth = createAuth({ stores: { mfa: new PostgresMfaStore(pool) } });
 * ```
 */
export class PostgresMfaStore implements MfaStore {
  readonly #client: Queryable;
  readonly #factors: string;
  readonly #codes: string;

  constructor(client: Queryable, options: PostgresTableOptions = {}) {
    this.#client = client;
    const t = resolveTables(options);
    this.#factors = t.mfaFactors;
    this.#codes = t.mfaRecoveryCodes;
  }

  async getFactor(userId: string): Promise<MfaFactorRecord | null> {
    const rows = await run<FactorRow>(
      this.#client,
      `SELECT ${COLUMNS} FROM ${this.#factors} WHERE user_id = $1`,
      [userId],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async savePendingFactor(userId: string, secretCiphertext: string, now: number): Promise<boolean> {
    const rows = await run(
      this.#client,
      `INSERT INTO ${this.#factors} AS f (user_id, secret_ciphertext, status, created_at)
VALUES ($1, $2, 'pending', ${fromMs('$3')})
ON CONFLICT (user_id) DO UPDATE
  SET secret_ciphertext = EXCLUDED.secret_ciphertext, created_at = EXCLUDED.created_at
  WHERE f.status = 'pending'
RETURNING 1`,
      [userId, secretCiphertext, now],
    );
    return rows.length === 1;
  }

  async activateFactor(
    userId: string,
    step: number,
    recoveryCodeHashes: readonly string[],
    now: number,
    expectedCiphertext?: string,
  ): Promise<boolean> {
    checkStep(step);
    const hashes = checkHashes(recoveryCodeHashes);
    const rows = await run(
      this.#client,
      `WITH f AS (
  UPDATE ${this.#factors}
  SET status = 'active', confirmed_at = ${fromMs('$4')}, last_used_step = $2::bigint,
    codes_generation = codes_generation + 1
  WHERE user_id = $1 AND status = 'pending' AND ($5::text IS NULL OR secret_ciphertext = $5::text)
  RETURNING user_id, codes_generation
)${this.#replaceCodes('$3', '$4')}
SELECT count(*)::int AS changed FROM f`,
      [userId, step, hashes, now, expectedCiphertext ?? null],
    );
    return (rows[0] as { changed: number }).changed === 1;
  }

  async acceptStep(userId: string, step: number): Promise<boolean> {
    checkStep(step);
    const rows = await run(
      this.#client,
      `UPDATE ${this.#factors} SET last_used_step = $2::bigint
WHERE user_id = $1 AND status = 'active' AND last_used_step < $2::bigint
RETURNING 1`,
      [userId, step],
    );
    return rows.length === 1;
  }

  async consumeRecoveryCode(userId: string, codeHash: string, now: number): Promise<boolean> {
    if (typeof codeHash !== 'string' || !HASH.test(codeHash)) return false;
    const rows = await run(
      this.#client,
      `UPDATE ${this.#codes} c SET used_at = ${fromMs('$3')}
FROM ${this.#factors} f
WHERE c.user_id = $1 AND c.code_hash = $2 AND c.used_at IS NULL
  AND f.user_id = c.user_id AND f.status = 'active' AND c.generation = f.codes_generation
RETURNING 1`,
      [userId, codeHash, now],
    );
    return rows.length === 1;
  }

  async replaceRecoveryCodes(
    userId: string,
    codeHashes: readonly string[],
    now: number,
  ): Promise<boolean> {
    const hashes = checkHashes(codeHashes);
    const rows = await run(
      this.#client,
      `WITH f AS (
  UPDATE ${this.#factors} SET codes_generation = codes_generation + 1
  WHERE user_id = $1 AND status = 'active'
  RETURNING user_id, codes_generation
)${this.#replaceCodes('$2', '$3')}
SELECT count(*)::int AS changed FROM f`,
      [userId, hashes, now],
    );
    return (rows[0] as { changed: number }).changed === 1;
  }

  async recoveryCodesLeft(userId: string): Promise<number> {
    const rows = await run<{ left: number }>(
      this.#client,
      `SELECT count(*)::int AS left FROM ${this.#codes} c
JOIN ${this.#factors} f ON f.user_id = c.user_id
WHERE c.user_id = $1 AND c.used_at IS NULL AND f.status = 'active'
  AND c.generation = f.codes_generation`,
      [userId],
    );
    return (rows[0] as { left: number }).left;
  }

  async deleteFactor(userId: string): Promise<boolean> {
    // The codes go with it (ON DELETE CASCADE).
    const rows = await run(
      this.#client,
      `DELETE FROM ${this.#factors} WHERE user_id = $1 RETURNING 1`,
      [userId],
    );
    return rows.length === 1;
  }

  async updateSecret(
    userId: string,
    ciphertext: string,
    expectedCiphertext?: string,
  ): Promise<boolean> {
    const rows = await run(
      this.#client,
      `UPDATE ${this.#factors} SET secret_ciphertext = $2
WHERE user_id = $1 AND ($3::text IS NULL OR secret_ciphertext = $3::text)
RETURNING 1`,
      [userId, ciphertext, expectedCiphertext ?? null],
    );
    return rows.length === 1;
  }

  /**
   * The CTEs that follow a CTE `f` (the updated factor: user_id and its new codes_generation):
   * delete the user's codes of older generations and insert `hashes` (distinct) as the new set.
   */
  #replaceCodes(hashesParam: string, nowParam: string): string {
    return `, gone AS (
  DELETE FROM ${this.#codes} c USING f
  WHERE c.user_id = f.user_id AND c.generation < f.codes_generation
  RETURNING 1
), added AS (
  INSERT INTO ${this.#codes} (user_id, generation, code_hash, created_at)
  SELECT f.user_id, f.codes_generation, h.code_hash, ${fromMs(nowParam)}
  FROM f, (SELECT DISTINCT unnest(${hashesParam}::text[]) AS code_hash) h
  RETURNING 1
)`;
  }
}
