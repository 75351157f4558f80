import type {
  OneTimeTokenPurpose,
  OneTimeTokenRecord,
  OneTimeTokenStore,
  OutboxMessage,
} from '../../src/stores/types.js';
import { toServerError } from './database-error.js';
import { outboxValues } from './mail-outbox.js';
import type { Queryable } from './queryable.js';
import { countDeleted, fromMs, run, toMs } from './sql.js';
import { type PostgresTableOptions, resolveTables } from './tables.js';

interface TokenRow {
  token_hash: string;
  user_id: string;
  purpose: OneTimeTokenPurpose;
  created_at: number;
  expires_at: number;
}

const COLUMNS = `token_hash, user_id, purpose, ${toMs('created_at')} AS created_at,
  ${toMs('expires_at')} AS expires_at`;

/** A base64url SHA-256: anything else cannot be a stored hash (and must not reach the query). */
const HASH = /^[A-Za-z0-9_-]{43}$/;

// The CHECK constraint accepts any lower-case name; the store answers only purposes it knows.
const PURPOSES: readonly string[] = Object.keys({
  password_reset: true,
  email_verification: true,
  mfa_challenge: true,
} satisfies Record<OneTimeTokenPurpose, true>);

/**
 * How often `issue` runs its statement again after losing a race for the same user and purpose.
 * Each retry means another issue committed meanwhile, so this bounds only a pathological storm.
 */
const MAX_ISSUE_ATTEMPTS = 50;

function toRecord(row: TokenRow): OneTimeTokenRecord {
  return {
    tokenHash: row.token_hash,
    userId: row.user_id,
    purpose: row.purpose,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

function usable(hash: unknown, purpose: unknown): boolean {
  return typeof hash === 'string' && HASH.test(hash) && PURPOSES.includes(purpose as string);
}

// The token $1 of purpose $2, live at $3: what `find` reads and `consume` takes, alike.
const LIVE_TOKEN = `token_hash = $1 AND purpose = $2 AND consumed_at IS NULL AND superseded_at IS NULL
  AND expires_at > ${fromMs('$3')}`;

/**
 * A {@link OneTimeTokenStore} on PostgreSQL: password-reset and email-verification tokens in the
 * `one_time_tokens` table created by {@link migrate}, as their base64url SHA-256 only (the token
 * itself exists only in the mail that carries it). `issue` puts the mail into the `mail_outbox`
 * table that {@link PostgresMailOutbox} delivers from (give both the same table options).
 *
 * Atomicity, each operation one statement:
 * - `issue` supersedes the user's live tokens of that purpose, inserts the new token and its
 *   mail in data-modifying CTEs: all of it or none of it (a mail that cannot be stored, e.g. a
 *   duplicate id, leaves no token). A unique partial index allows one live token per user and
 *   purpose, so of concurrent issues for one user and purpose, on any number of instances,
 *   exactly one token stays usable: a losing issue hits the index and runs again, superseding
 *   the winner.
 * - `consume` is one `UPDATE ... WHERE consumed_at IS NULL AND superseded_at IS NULL AND
 *   expires_at > now RETURNING`: of concurrent consumers of one hash exactly one gets the record.
 *
 * No foreign key to `users`: it works with your own users table too. `auth.eraseUser` deletes
 * the user's tokens (`deleteUserTokens`); otherwise a deleted user's tokens stay until `prune`
 * (the core refuses a token whose user is gone). Errors: `SERVER_ERROR`
 * (503 when the database is unreachable).
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { migrate, PostgresMailOutbox, PostgresOneTimeTokenStore } from 'gatehouse/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migrate(pool);
 * const oneTimeTokens = new PostgresOneTimeTokenStore(pool);
 * const outbox = new PostgresMailOutbox(pool); // where oneTimeTokens.issue(record, mail) enqueues
 * setInterval(() => oneTimeTokens.prune(Date.now() - 86_400_000), 3_600_000).unref();
 * ```
 */
export class PostgresOneTimeTokenStore implements OneTimeTokenStore {
  readonly #client: Queryable;
  readonly #table: string;
  readonly #issueSql: string;
  /** The live index's name as the server reports it in a unique violation. */
  readonly #liveKey: string;

  constructor(client: Queryable, options: PostgresTableOptions = {}) {
    this.#client = client;
    const t = resolveTables(options);
    this.#table = t.oneTimeTokens;
    this.#liveKey = `${t.prefix}one_time_tokens_live_key`;
    // $1 hash, $2 user, $3 purpose, $4 createdAt, $5 expiresAt, $6.. the mail (all null: none).
    // The token's INSERT reads the supersede's count, so it runs after the UPDATE: the older
    // token has left the live index when the new one enters it.
    this.#issueSql = `WITH superseded AS (
  UPDATE ${t.oneTimeTokens} SET superseded_at = ${fromMs('$4')}
  WHERE user_id = $2 AND purpose = $3 AND consumed_at IS NULL AND superseded_at IS NULL
  RETURNING 1
), token AS (
  INSERT INTO ${t.oneTimeTokens} (token_hash, user_id, purpose, created_at, expires_at)
  SELECT $1, $2, $3, ${fromMs('$4')}, ${fromMs('$5')} FROM (SELECT count(*) FROM superseded) s
  RETURNING token_hash
), mail AS (
  INSERT INTO ${t.mailOutbox} (id, kind, to_address, subject, body_text, body_html, attempts,
    next_attempt_at, created_at, expires_at)
  SELECT $6::uuid, $7, $8, $9, $10, $11, $12::int, ${fromMs('$13')}, ${fromMs('$14')}, ${fromMs('$15')}
  FROM token WHERE $6::uuid IS NOT NULL
  RETURNING id
)
SELECT (SELECT count(*) FROM token)::int AS tokens, (SELECT count(*) FROM mail)::int AS mails`;
  }

  async issue(record: OneTimeTokenRecord, mail?: OutboxMessage): Promise<void> {
    const params = [
      record.tokenHash,
      record.userId,
      record.purpose,
      record.createdAt,
      record.expiresAt,
      ...(mail === undefined ? Array.from({ length: 10 }, () => null) : outboxValues(mail)),
    ];
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#client.query(this.#issueSql, params);
        return;
      } catch (err) {
        const lostRace = (err as { constraint?: unknown })?.constraint === this.#liveKey;
        if (!lostRace || attempt >= MAX_ISSUE_ATTEMPTS) throw toServerError(err);
      }
    }
  }

  async consume(
    tokenHash: string,
    purpose: OneTimeTokenPurpose,
    now: number,
  ): Promise<OneTimeTokenRecord | null> {
    if (!usable(tokenHash, purpose)) return null;
    const rows = await run<TokenRow>(
      this.#client,
      `UPDATE ${this.#table} SET consumed_at = ${fromMs('$3')}
WHERE ${LIVE_TOKEN}
RETURNING ${COLUMNS}`,
      [tokenHash, purpose, now],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async find(
    tokenHash: string,
    purpose: OneTimeTokenPurpose,
    now: number,
  ): Promise<OneTimeTokenRecord | null> {
    if (!usable(tokenHash, purpose)) return null;
    const rows = await run<TokenRow>(
      this.#client,
      `SELECT ${COLUMNS} FROM ${this.#table}
WHERE ${LIVE_TOKEN}`,
      [tokenHash, purpose, now],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /**
   * Makes every unconsumed token of the user (of one purpose, or all) unusable; returns how
   * many. Their end time is the database's clock, capped at each token's expiry.
   */
  async revokeUserTokens(userId: string, purpose?: OneTimeTokenPurpose): Promise<number> {
    if (typeof userId !== 'string' || userId.includes('\u0000')) return 0;
    const rows = await run<{ revoked: number }>(
      this.#client,
      `WITH r AS (
  UPDATE ${this.#table} SET superseded_at = greatest(created_at, least(now(), expires_at))
  WHERE user_id = $1 AND ($2::text IS NULL OR purpose = $2::text)
    AND consumed_at IS NULL AND superseded_at IS NULL
  RETURNING 1
) SELECT count(*)::int AS revoked FROM r`,
      [userId, purpose ?? null],
    );
    return rows[0]!.revoked;
  }

  /** The user's pending tokens, oldest first (one SELECT on the live index). */
  async listUserTokens(userId: string, now: number): Promise<OneTimeTokenRecord[]> {
    if (typeof userId !== 'string' || userId.includes('\u0000')) return [];
    const rows = await run<TokenRow>(
      this.#client,
      `SELECT ${COLUMNS} FROM ${this.#table}
WHERE user_id = $1 AND consumed_at IS NULL AND superseded_at IS NULL AND expires_at > ${fromMs('$2')}
ORDER BY created_at, token_hash`,
      [userId, now],
    );
    return rows.map(toRecord);
  }

  /** Deletes every token of the user, whatever its state (one DELETE); returns how many. */
  async deleteUserTokens(userId: string): Promise<number> {
    if (typeof userId !== 'string' || userId.includes('\u0000')) return 0;
    const rows = await run<{ deleted: number }>(
      this.#client,
      countDeleted(this.#table, 'user_id = $1'),
      [userId],
    );
    return rows[0]!.deleted;
  }

  /**
   * Deletes tokens that expired, were consumed or were superseded (or revoked) before
   * `olderThan` (ms since the epoch); returns how many. An ended token answers null either way,
   * so any retention works; `Date.now()` keeps the table smallest.
   */
  async prune(olderThan: number): Promise<number> {
    const before = fromMs('$1');
    const rows = await run<{ deleted: number }>(
      this.#client,
      countDeleted(
        this.#table,
        `expires_at < ${before} OR consumed_at < ${before} OR superseded_at < ${before}`,
      ),
      [olderThan],
    );
    return rows[0]!.deleted;
  }
}
