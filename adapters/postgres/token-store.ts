import type {
  RevocationListener,
  RevocationWatch,
  RotationResult,
  RotationRule,
  SessionRecord,
  TokenStore,
} from '../../src/stores/types.js';
import type { Queryable } from './queryable.js';
import {
  canListen,
  type PostgresRevocationOptions,
  RevocationChannel,
  revocationChannel,
  sessionPayload,
  userPayload,
} from './revocation-listener.js';
import { countDeleted, fromMs, run, toMs } from './sql.js';
import { type PostgresTableOptions, resolveTables } from './tables.js';

/**
 * Options of {@link PostgresTokenStore}: where its tables are, and how revocations are
 * announced to the other instances.
 *
 * @example
 * ```ts
 * const options: PostgresTokenStoreOptions = { schema: 'auth', revocations: { listen: pool } };
 * const tokens = new PostgresTokenStore(trackOutages(pool, { logger }), options);
 * ```
 */
export interface PostgresTokenStoreOptions extends PostgresTableOptions {
  revocations?: PostgresRevocationOptions;
}

interface SessionRow {
  id: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  last_used_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
}

const SESSION_COLUMNS = `id, user_id, ${toMs('created_at')} AS created_at, ${toMs('expires_at')} AS expires_at,
  ${toMs('last_used_at')} AS last_used_at, ${toMs('revoked_at')} AS revoked_at, revoked_reason`;

function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
  };
}

/**
 * A {@link TokenStore} on PostgreSQL: refresh-token families in `sessions`, and every refresh
 * token of a family (as its SHA-256 hex, never in clear) in `refresh_tokens`, kept after use
 * so that a replayed token is recognised as reuse until its family is pruned.
 *
 * `rotate` is one statement: it locks the presented token's row and its family's row
 * (`SELECT ... FOR UPDATE`), decides, and writes in data-modifying CTEs. Of concurrent callers
 * presenting the same token, on any number of app instances, exactly one gets `rotated`; the
 * others wait for its commit, then see the token used (`reused`, which revokes the family) or
 * the family revoked (`revoked`).
 *
 * `rotate` commits on its own (one statement, autocommit). If the connection is lost while it
 * is in flight (the server stopping, the network cut), the call fails (SERVER_ERROR, 503) and
 * nobody on this side can tell whether the server committed before it went: if it did, the
 * presented token is used, and the client's retry with it is reuse (its family revoked). That
 * window, one statement's round trip, is left open: closing it takes a reuse grace period,
 * not a different statement. `findSessionByTokenHash` lets `refresh` do its reads before this
 * statement, so no other step sits between the rotation and the answer.
 *
 * Every revocation (`revokeSession`, `revokeUserSessions`, reuse detected by `rotate`) calls
 * `pg_notify` in its own statement, so it is announced on commit and never when rolled back.
 * With a `pg.Pool` (or PGlite, in process) the store has `watchRevocations`: one connection of
 * the pool LISTENs for every instance's announcements, so `createAuth` caches session states
 * while that connection is up and drops them on each announcement (see
 * {@link PostgresRevocationOptions}). `auth.close()` gives the connection back.
 *
 * @example
 * ```ts
 * import { PostgresTokenStore } from 'gatehouse/postgres';
 * const tokens = new PostgresTokenStore(pool);
 * setInterval(() => tokens.prune(Date.now() - 86_400_000), 3_600_000).unref();
 * ```
 */
export class PostgresTokenStore implements TokenStore {
  readonly #client: Queryable;
  readonly #sessions: string;
  readonly #tokens: string;
  readonly #rotateSql: string;
  readonly #channel: string;
  /**
   * Present when the store can hear revocations (a `pg.Pool`, PGlite, or `revocations.listen`):
   * see {@link TokenStore.watchRevocations}. Each watch is told of every revocation committed
   * by any instance on the same tables while its LISTEN connection is up.
   */
  readonly watchRevocations?: (listener: RevocationListener) => RevocationWatch;

  constructor(client: Queryable, options: PostgresTokenStoreOptions = {}) {
    this.#client = client;
    const t = resolveTables(options);
    this.#sessions = t.sessions;
    this.#tokens = t.refreshTokens;
    this.#channel = revocationChannel(t);
    const source = options.revocations?.listen === undefined ? client : options.revocations.listen;
    if (source !== false && canListen(source)) {
      const channel = new RevocationChannel(source, this.#channel, options.revocations?.reconnect);
      this.watchRevocations = (listener) => channel.watch(listener);
    }
    const now = fromMs('$3');
    const ms = (expr: string) => toMs(expr);
    // $1 presented hash, $2 new hash, $3 now, $4 idleMs.
    this.#rotateSql = `WITH cur AS (
  SELECT t.token_hash, t.used_at, s.id, s.user_id, s.created_at, s.expires_at, s.last_used_at,
    s.revoked_at, s.revoked_reason
  FROM ${t.refreshTokens} t JOIN ${t.sessions} s ON s.id = t.session_id
  WHERE t.token_hash = $1
  FOR UPDATE OF t, s
), decision AS (
  SELECT cur.*, CASE
    WHEN revoked_at IS NOT NULL THEN 'revoked'
    WHEN used_at IS NOT NULL THEN 'reused'
    WHEN expires_at <= ${now} OR last_used_at + ($4::float8 * interval '1 millisecond') < ${now}
      THEN 'expired'
    ELSE 'rotated' END AS status
  FROM cur
), revoked AS (
  UPDATE ${t.sessions} s SET revoked_at = ${now}, revoked_reason = 'reuse'
  FROM decision d WHERE s.id = d.id AND d.status = 'reused'
  RETURNING s.id, s.revoked_at, s.revoked_reason
), used AS (
  UPDATE ${t.refreshTokens} t SET used_at = ${now}
  FROM decision d WHERE t.token_hash = d.token_hash AND d.status = 'rotated'
  RETURNING 1
), issued AS (
  INSERT INTO ${t.refreshTokens} (token_hash, session_id, created_at)
  SELECT $2, d.id, ${now} FROM decision d WHERE d.status = 'rotated'
  RETURNING 1
), touched AS (
  UPDATE ${t.sessions} s SET last_used_at = ${now}
  FROM decision d WHERE s.id = d.id AND d.status = 'rotated'
  RETURNING s.last_used_at
)
SELECT d.status, d.id, d.user_id, ${ms('d.created_at')} AS created_at,
  ${ms('d.expires_at')} AS expires_at,
  ${ms('coalesce(touched.last_used_at, d.last_used_at)')} AS last_used_at,
  ${ms('coalesce(revoked.revoked_at, d.revoked_at)')} AS revoked_at,
  coalesce(revoked.revoked_reason, d.revoked_reason) AS revoked_reason,
  CASE WHEN revoked.id IS NOT NULL THEN pg_notify($5, ${sessionPayload('revoked.id')}) END AS notified
FROM decision d LEFT JOIN revoked ON true LEFT JOIN touched ON true`;
  }

  async createSession(session: SessionRecord, tokenHash: string): Promise<void> {
    // One statement: the session and its first token exist together or not at all.
    await run(
      this.#client,
      `WITH s AS (
  INSERT INTO ${this.#sessions} (id, user_id, created_at, expires_at, last_used_at, revoked_at, revoked_reason)
  VALUES ($1, $2, ${fromMs('$3')}, ${fromMs('$4')}, ${fromMs('$5')}, ${fromMs('$6')}, $7)
  RETURNING id, created_at
)
INSERT INTO ${this.#tokens} (token_hash, session_id, created_at) SELECT $8, id, created_at FROM s`,
      [
        session.id,
        session.userId,
        session.createdAt,
        session.expiresAt,
        session.lastUsedAt,
        session.revokedAt,
        session.revokedReason,
        tokenHash,
      ],
    );
  }

  async rotate(oldHash: string, newHash: string, rule: RotationRule): Promise<RotationResult> {
    const rows = await run<SessionRow & { status: Exclude<RotationResult['status'], 'unknown'> }>(
      this.#client,
      this.#rotateSql,
      [oldHash, newHash, rule.now, rule.idleMs, this.#channel],
    );
    const row = rows[0];
    if (!row) return { status: 'unknown' };
    return { status: row.status, session: toSession(row) };
  }

  async getSession(sessionId: string): Promise<SessionRecord | null> {
    if (typeof sessionId !== 'string' || sessionId.includes('\u0000')) return null;
    const rows = await run<SessionRow>(
      this.#client,
      `SELECT ${SESSION_COLUMNS} FROM ${this.#sessions} WHERE id = $1`,
      [sessionId],
    );
    return rows[0] ? toSession(rows[0]) : null;
  }

  /**
   * One read on the two primary keys (`refresh_tokens.token_hash`, then `sessions.id`), without
   * a lock; `rotate` stays the judge (see {@link TokenStore.findSessionByTokenHash}). A used hash
   * is found until its family is pruned, as `rotate` reports it `reused` until then.
   */
  async findSessionByTokenHash(tokenHash: string): Promise<SessionRecord | null> {
    const rows = await run<SessionRow>(
      this.#client,
      `SELECT ${SESSION_COLUMNS} FROM ${this.#sessions}
WHERE id = (SELECT session_id FROM ${this.#tokens} WHERE token_hash = $1)`,
      [tokenHash],
    );
    return rows[0] ? toSession(rows[0]) : null;
  }

  async revokeSession(sessionId: string, reason: string, now: number): Promise<void> {
    await run(
      this.#client,
      `WITH r AS (
  UPDATE ${this.#sessions} SET revoked_at = ${fromMs('$3')}, revoked_reason = $2
  WHERE id = $1 AND revoked_at IS NULL
  RETURNING id
) SELECT pg_notify($4, ${sessionPayload('r.id')}) AS notified FROM r`,
      [sessionId, reason, now, this.#channel],
    );
  }

  async revokeUserSessions(
    userId: string,
    reason: string,
    now: number,
    exceptSessionId?: string,
  ): Promise<number> {
    const rows = await run<{ revoked: number }>(
      this.#client,
      `WITH r AS (
  UPDATE ${this.#sessions} SET revoked_at = ${fromMs('$3')}, revoked_reason = $2
  WHERE user_id = $1 AND revoked_at IS NULL AND ($4::text IS NULL OR id <> $4::text)
  RETURNING 1
), c AS (SELECT count(*)::int AS revoked FROM r)
SELECT revoked, CASE WHEN revoked > 0 THEN pg_notify($5, ${userPayload('$1')}) END AS notified
FROM c`,
      [userId, reason, now, exceptSessionId ?? null, this.#channel],
    );
    return rows[0]!.revoked;
  }

  /**
   * Deletes the sessions revoked or expired before `olderThan` (ms since the epoch), with their
   * refresh tokens; returns how many sessions. A token of a pruned family is then `unknown`
   * rather than `reused`: both are refused, but reuse is no longer detected or audited, so
   * keep ended families a while (e.g. `Date.now() - 24h`).
   */
  async prune(olderThan: number): Promise<number> {
    const rows = await run<{ deleted: number }>(
      this.#client,
      countDeleted(this.#sessions, `revoked_at < ${fromMs('$1')} OR expires_at < ${fromMs('$1')}`),
      [olderThan],
    );
    return rows[0]!.deleted;
  }
}
