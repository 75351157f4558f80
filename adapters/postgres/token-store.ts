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
import { countDeleted, fromMs, run, toMs, withoutNul } from './sql.js';
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
  ip: string | null;
  user_agent: string | null;
  label: string | null;
}

const SESSION_COLUMNS = `id, user_id, ${toMs('created_at')} AS created_at, ${toMs('expires_at')} AS expires_at,
  ${toMs('last_used_at')} AS last_used_at, ${toMs('revoked_at')} AS revoked_at, revoked_reason,
  ip, user_agent, label`;

function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
    ip: row.ip,
    userAgent: row.user_agent,
    label: row.label,
  };
}

/** A device field as the columns hold it: NUL-free, cut to the column's length, or null. */
function deviceText(value: string | null | undefined, max: number): string | null {
  if (typeof value !== 'string' || value.length === 0) return null;
  return withoutNul(value).slice(0, max);
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
 * not a different statement: `tokens.reuseGrace` (the grace of {@link TokenStore.rotate}, decided
 * in the same statement under the same locks: of concurrent replays of the predecessor exactly
 * one is graced). `findSessionByTokenHash` lets `refresh` do its reads before this statement,
 * so no other step sits between the rotation and the answer.
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
    const expired = `(expires_at <= ${now} OR last_used_at + ($4::float8 * interval '1 millisecond') < ${now})`;
    // $1 presented hash, $2 new hash, $3 now, $4 idleMs, $5 channel, $6 reuseGraceMs (0: off).
    // 'graced': the presented hash is the family's previous_hash (the current token's
    // immediate predecessor), the step's grace is unused and its rotation at most $6 ms ago.
    // A graced rotation uses up the current token (the family's one unused row: every change
    // of a family's tokens happens under its session row's lock, taken here) and keeps the step.
    this.#rotateSql = `WITH cur AS (
  SELECT t.token_hash, t.used_at, s.id, s.user_id, s.created_at, s.expires_at, s.last_used_at,
    s.revoked_at, s.revoked_reason, s.ip, s.user_agent, s.label, s.previous_hash, s.rotated_at,
    s.grace_used
  FROM ${t.refreshTokens} t JOIN ${t.sessions} s ON s.id = t.session_id
  WHERE t.token_hash = $1
  FOR UPDATE OF t, s
), decision AS (
  SELECT cur.*, CASE
    WHEN revoked_at IS NOT NULL THEN 'revoked'
    WHEN used_at IS NOT NULL AND $6::float8 > 0 AND previous_hash = token_hash
      AND NOT grace_used AND rotated_at + ($6::float8 * interval '1 millisecond') >= ${now}
      THEN CASE WHEN ${expired} THEN 'expired' ELSE 'graced' END
    WHEN used_at IS NOT NULL THEN 'reused'
    WHEN ${expired} THEN 'expired'
    ELSE 'rotated' END AS status
  FROM cur
), revoked AS (
  UPDATE ${t.sessions} s SET revoked_at = ${now}, revoked_reason = 'reuse'
  FROM decision d WHERE s.id = d.id AND d.status = 'reused'
  RETURNING s.id, s.revoked_at, s.revoked_reason
), used AS (
  UPDATE ${t.refreshTokens} t SET used_at = ${now}
  FROM decision d
  WHERE (d.status = 'rotated' AND t.token_hash = d.token_hash)
    OR (d.status = 'graced' AND t.session_id = d.id AND t.used_at IS NULL)
  RETURNING 1
), issued AS (
  INSERT INTO ${t.refreshTokens} (token_hash, session_id, created_at)
  SELECT $2, d.id, ${now} FROM decision d WHERE d.status IN ('rotated', 'graced')
  RETURNING 1
), touched AS (
  UPDATE ${t.sessions} s SET last_used_at = ${now},
    previous_hash = CASE WHEN d.status = 'rotated' THEN d.token_hash ELSE s.previous_hash END,
    rotated_at = CASE WHEN d.status = 'rotated' THEN ${now} ELSE s.rotated_at END,
    grace_used = (d.status = 'graced')
  FROM decision d WHERE s.id = d.id AND d.status IN ('rotated', 'graced')
  RETURNING s.last_used_at
)
SELECT d.status, d.id, d.user_id, ${ms('d.created_at')} AS created_at,
  ${ms('d.expires_at')} AS expires_at,
  ${ms('coalesce(touched.last_used_at, d.last_used_at)')} AS last_used_at,
  ${ms('coalesce(revoked.revoked_at, d.revoked_at)')} AS revoked_at,
  coalesce(revoked.revoked_reason, d.revoked_reason) AS revoked_reason,
  d.ip, d.user_agent, d.label,
  CASE WHEN revoked.id IS NOT NULL THEN pg_notify($5, ${sessionPayload('revoked.id')}) END AS notified
FROM decision d LEFT JOIN revoked ON true LEFT JOIN touched ON true`;
  }

  async createSession(session: SessionRecord, tokenHash: string): Promise<void> {
    // One statement: the session and its first token exist together or not at all.
    await run(
      this.#client,
      `WITH s AS (
  INSERT INTO ${this.#sessions} (id, user_id, created_at, expires_at, last_used_at, revoked_at, revoked_reason,
    ip, user_agent, label, rotated_at)
  VALUES ($1, $2, ${fromMs('$3')}, ${fromMs('$4')}, ${fromMs('$5')}, ${fromMs('$6')}, $7, $9, $10, $11,
    ${fromMs('$3')})
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
        deviceText(session.ip, 64),
        deviceText(session.userAgent, 512),
        deviceText(session.label, 100),
      ],
    );
  }

  async rotate(oldHash: string, newHash: string, rule: RotationRule): Promise<RotationResult> {
    const grace = rule.reuseGraceMs ?? 0;
    const rows = await run<
      SessionRow & { status: Exclude<RotationResult['status'], 'unknown'> | 'graced' }
    >(this.#client, this.#rotateSql, [
      oldHash,
      newHash,
      rule.now,
      rule.idleMs,
      this.#channel,
      Number.isFinite(grace) && grace > 0 ? grace : 0,
    ]);
    const row = rows[0];
    if (!row) return { status: 'unknown' };
    if (row.status === 'graced') {
      return { status: 'rotated', session: toSession(row), graced: true };
    }
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

  /** The user's sessions not revoked, newest first (one index range: user_id, created_at). */
  async listSessions(userId: string): Promise<SessionRecord[]> {
    if (typeof userId !== 'string' || userId.includes('\u0000')) return [];
    const rows = await run<SessionRow>(
      this.#client,
      `SELECT ${SESSION_COLUMNS} FROM ${this.#sessions}
WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id`,
      [userId],
    );
    return rows.map(toSession);
  }

  /**
   * One conditional UPDATE: of instances touching one session at once, at most one writes per
   * `minIntervalMs` (the others find `last_used_at` recent and change nothing).
   */
  async touchSession(sessionId: string, now: number, minIntervalMs: number): Promise<void> {
    if (typeof sessionId !== 'string' || sessionId.includes('\u0000')) return;
    await run(
      this.#client,
      `UPDATE ${this.#sessions} SET last_used_at = ${fromMs('$2')}
WHERE id = $1 AND revoked_at IS NULL
  AND last_used_at <= ${fromMs('$2')} - ($3::float8 * interval '1 millisecond')`,
      [sessionId, now, minIntervalMs],
    );
  }

  /** Deletes every session of the user; their refresh tokens go with them (ON DELETE CASCADE). */
  async deleteUserSessions(userId: string): Promise<number> {
    if (typeof userId !== 'string' || userId.includes('\u0000')) return 0;
    const rows = await run<{ deleted: number }>(
      this.#client,
      countDeleted(this.#sessions, 'user_id = $1'),
      [userId],
    );
    return rows[0]!.deleted;
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
