import type { AuditEvent, AuditSink } from '../../src/audit/events.js';
import type { Queryable } from './queryable.js';
import { countDeleted, fromMs, run, withoutNul } from './sql.js';
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

/**
 * An audit log in the `audit_events` table: `sink` is the {@link AuditSink} to pass to
 * `createAuth`. Each event is one insert; columns `occurred_at` (the event's `timestamp`),
 * `event`, `status`, `user_id`, `ip`, `user_agent` and `metadata` (jsonb). Long or odd
 * values are clipped, never refused. A failed insert rejects with `SERVER_ERROR`, which
 * gatehouse logs without failing the request.
 *
 * Retention: {@link prune} deletes events older than a time you choose (the seed policy keeps
 * 90 days in hot storage).
 *
 * @example
 * ```ts
 * import { PostgresAuditLog } from 'gatehouse/postgres';
 * const auditLog = new PostgresAuditLog(pool);
 * const auth = createAuth({ audit: auditLog.sink });
 * setInterval(() => auditLog.prune(Date.now() - 90 * 86_400_000), 86_400_000).unref();
 * ```
 */
export class PostgresAuditLog {
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
