import type { AuditEvent, AuditEventName, AuditSink } from '../../src/audit/events.js';
import type { AuditLogStore } from '../../src/stores/types.js';
import type { Queryable } from './queryable.js';
import { countDeleted, fromMs, run, toMs, withoutNul } from './sql.js';
import { type PostgresTableOptions, resolveTables } from './tables.js';

const MAX_IP = 64;
const MAX_USER_AGENT = 512;
const MAX_USER_ID = 128;

// NUL cannot be stored in jsonb either; a bigint is not JSON: both are rewritten, not refused,
// so that no event content can make the insert fail.
function metadataJson(metadata: Record<string, unknown> | undefined): string {
  let json: string;
  try {
    json = JSON.stringify(metadata ?? {}, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
  } catch {
    // A cycle: keep the event, mark its metadata.
    json = '{"unserializable":true}';
  }
  // An odd run of backslashes before u0000 is the escape of a NUL; an even run is literal text.
  return json.replace(/(\\+)u0000/g, (match, slashes: string) =>
    slashes.length % 2 === 1 ? slashes.slice(0, -1) : match,
  );
}

function clip(value: string | undefined, max: number): string | null {
  return value === undefined || value === null ? null : withoutNul(String(value)).slice(0, max);
}

interface EventRow {
  occurred_at: number;
  event: AuditEventName;
  status: 'success' | 'failure';
  user_id: string | null;
  ip: string | null;
  user_agent: string | null;
  metadata: Record<string, unknown> | string;
}

function toEvent(row: EventRow): AuditEvent {
  const stored =
    typeof row.metadata === 'string'
      ? (JSON.parse(row.metadata) as Record<string, unknown>)
      : { ...row.metadata };
  const { requestId, ...metadata } = stored;
  const event: AuditEvent = {
    timestamp: new Date(Math.round(row.occurred_at)).toISOString(),
    event: row.event,
    status: row.status,
    metadata,
  };
  if (row.user_id !== null) event.userId = row.user_id;
  if (row.ip !== null) event.ip = row.ip;
  if (row.user_agent !== null) event.userAgent = row.user_agent;
  if (typeof requestId === 'string') event.requestId = requestId;
  else if (requestId !== undefined) event.metadata['requestId'] = requestId;
  return event;
}

/** The most events one `listForUser` returns, whatever the limit asked. */
const MAX_LIST = 10_000;

/**
 * An audit log in the `audit_events` table, and the {@link AuditLogStore} of `gatehouse/postgres`:
 * pass it as `createAuth({ stores: { auditLog } })` and every event is written to it (and a
 * user's events can be exported and, at erasure, pseudonymised), or pass `sink` as
 * `createAuth({ audit })` for a write-only log (not both: each event would be stored twice).
 * Each event is one insert; columns `occurred_at` (the event's `timestamp`), `event`, `status`,
 * `user_id`, `ip`, `user_agent` and `metadata` (jsonb; the request id rides in it). Long or odd
 * values are clipped, never refused. A failed insert rejects with `SERVER_ERROR`, which
 * gatehouse logs without failing the request.
 *
 * `listForUser` and `pseudonymiseUser` use the `(user_id, occurred_at)` index; `pseudonymiseUser`
 * is one UPDATE.
 *
 * Retention: {@link prune} deletes events older than a time you choose (the seed policy keeps
 * 90 days in hot storage).
 *
 * @example
 * ```ts
 * import { PostgresAuditLog } from 'gatehouse/postgres';
 * const auditLog = new PostgresAuditLog(pool);
 * const auth = createAuth({ stores: { auditLog } });
 * setInterval(() => auditLog.prune(Date.now() - 90 * 86_400_000), 86_400_000).unref();
 * ```
 */
export class PostgresAuditLog implements AuditLogStore {
  readonly #client: Queryable;
  readonly #table: string;
  /** The sink to pass as `createAuth({ audit })`; the same as calling {@link write}. */
  readonly sink: AuditSink;

  constructor(client: Queryable, options: PostgresTableOptions = {}) {
    this.#client = client;
    this.#table = resolveTables(options).auditEvents;
    this.sink = (event) => this.write(event);
  }

  /** Stores one event. */
  async write(event: AuditEvent): Promise<void> {
    const at = Date.parse(event.timestamp);
    await run(
      this.#client,
      `INSERT INTO ${this.#table} (occurred_at, event, status, user_id, ip, user_agent, metadata)
VALUES (coalesce(${fromMs('$1')}, now()), $2, $3, $4, $5, $6, $7::jsonb)`,
      [
        Number.isFinite(at) ? at : null,
        event.event,
        event.status,
        clip(event.userId, MAX_USER_ID),
        clip(event.ip, MAX_IP),
        clip(event.userAgent, MAX_USER_AGENT),
        // The request id has no column of its own: it rides in the metadata (no migration).
        metadataJson(
          event.requestId === undefined
            ? event.metadata
            : { ...event.metadata, requestId: event.requestId },
        ),
      ],
    );
  }

  /** The user's events, newest first, at most `limit` (and at most 10 000). */
  async listForUser(userId: string, options: { limit: number }): Promise<AuditEvent[]> {
    const limit = Math.min(MAX_LIST, Math.max(0, Math.floor(Number(options?.limit) || 0)));
    if (typeof userId !== 'string' || limit === 0) return [];
    const rows = await run<EventRow>(
      this.#client,
      `SELECT ${toMs('occurred_at')} AS occurred_at, event, status, user_id, ip, user_agent, metadata
FROM ${this.#table} WHERE user_id = $1
ORDER BY occurred_at DESC, id DESC LIMIT $2`,
      [clip(userId, MAX_USER_ID), limit],
    );
    return rows.map(toEvent);
  }

  /**
   * Replaces the user id of every event of the user by `pseudonym` and removes
   * `metadata.emailHash` (and, with `options.emailHash`, removes it from the events without a
   * user id that carry it), in one statement; returns how many events changed. The user's
   * events are found through the `user_id` index; the email-hash part reads the events without
   * a user id (no index on the metadata).
   */
  async pseudonymiseUser(
    userId: string,
    pseudonym: string,
    options: { emailHash?: string } = {},
  ): Promise<number> {
    if (typeof userId !== 'string') return 0;
    const rows = await run<{ changed: number }>(
      this.#client,
      `WITH by_user AS (
  UPDATE ${this.#table} SET user_id = $2, metadata = metadata - 'emailHash'
  WHERE user_id = $1
  RETURNING 1
), by_email AS (
  UPDATE ${this.#table} SET metadata = metadata - 'emailHash'
  WHERE $3::text IS NOT NULL AND user_id IS NULL AND metadata->>'emailHash' = $3::text
  RETURNING 1
) SELECT ((SELECT count(*) FROM by_user) + (SELECT count(*) FROM by_email))::int AS changed`,
      [
        clip(userId, MAX_USER_ID),
        clip(pseudonym, MAX_USER_ID),
        typeof options?.emailHash === 'string' ? withoutNul(options.emailHash) : null,
      ],
    );
    return rows[0]!.changed;
  }

  /** Deletes the events that occurred before `olderThan` (ms since the epoch); returns how many. */
  async prune(olderThan: number): Promise<number> {
    const rows = await run<{ deleted: number }>(
      this.#client,
      countDeleted(this.#table, `occurred_at < ${fromMs('$1')}`),
      [olderThan],
    );
    return rows[0]!.deleted;
  }
}
