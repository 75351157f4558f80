import type { MailKind, MailOutboxStore, OutboxMessage } from '../../src/stores/types.js';
import type { Queryable } from './queryable.js';
import { countDeleted, fromMs, run, toMs, withoutNul } from './sql.js';
import { type PostgresTableOptions, resolveTables } from './tables.js';

interface OutboxRow {
  id: string;
  kind: MailKind;
  to_address: string;
  subject: string;
  body_text: string;
  body_html: string;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  expires_at: number | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Longest `last_error` kept (the column is varchar(500)). */
const MAX_ERROR_LENGTH = 500;

/** Expired messages given up by one claim at most (the next claims take the rest). */
const MAX_GIVE_UP = 1000;

/** What a delivered or given-up message keeps of its content: nothing (it may carry a link). */
const ERASED = `subject = '', body_text = '', body_html = ''`;

/** Not delivered, not given up. */
const WAITING = 'delivered_at IS NULL AND failed_at IS NULL';

/**
 * The values of a message's columns as parameters, in the order `id, kind, to_address, subject,
 * body_text, body_html, attempts, next_attempt_at, created_at, expires_at`. NUL characters,
 * which PostgreSQL text cannot hold, are removed so that no content can make the insert fail.
 */
export function outboxValues(message: OutboxMessage): unknown[] {
  return [
    message.id,
    message.kind,
    withoutNul(message.to),
    withoutNul(message.subject),
    withoutNul(message.text),
    withoutNul(message.html),
    message.attempts,
    message.nextAttemptAt,
    message.createdAt,
    message.expiresAt,
  ];
}

function toMessage(row: OutboxRow): OutboxMessage {
  return {
    id: row.id,
    kind: row.kind,
    to: row.to_address,
    subject: row.subject,
    text: row.body_text,
    html: row.body_html,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

const MESSAGE_COLUMNS = (alias: string) =>
  `${alias}.id::text AS id, ${alias}.kind, ${alias}.to_address, ${alias}.subject,
  ${alias}.body_text, ${alias}.body_html, ${alias}.attempts,
  ${toMs(`${alias}.next_attempt_at`)} AS next_attempt_at, ${toMs(`${alias}.created_at`)} AS created_at,
  ${toMs(`${alias}.expires_at`)} AS expires_at`;

/**
 * A {@link MailOutboxStore} on PostgreSQL: the `mail_outbox` table created by {@link migrate}.
 * Messages survive a restart or a crash (a message enqueued before it is delivered after it),
 * and every app instance's mail worker can claim from the same table:
 *
 * - `claim` is one statement: it locks the due messages with `FOR UPDATE SKIP LOCKED` (a
 *   concurrent claim skips them instead of waiting), increments their `attempts` and leases
 *   them until `now + leaseMs`; of concurrent claims on any number of instances, none returns
 *   a message another one holds. Due messages whose `expiresAt` has passed are given up in the
 *   same statement, without using up `limit`.
 * - Delivery is at-least-once: a worker that dies after sending and before `markDelivered`
 *   leaves the message to be claimed again when its lease ends.
 * - `markDelivered` and a final `markFailed` (`retryAt: null`) erase the message's subject,
 *   text and html (they may carry a one-time link); the row stays, without content, until
 *   `prune`.
 *
 * Errors: `SERVER_ERROR` (503 when the database is unreachable).
 *
 * @example
 * ```ts
 * import { createAuth } from 'gatehouse';
 * import { PostgresMailOutbox, PostgresOneTimeTokenStore } from 'gatehouse/postgres';
 *
 * const outbox = new PostgresMailOutbox(pool);
 * const auth = createAuth({
 *   stores: { outbox, oneTimeTokens: new PostgresOneTimeTokenStore(pool) },
 *   mail: { mailer, publicUrl: 'https://app.example.com' },
 * });
 * setInterval(() => outbox.prune(Date.now() - 7 * 86_400_000), 3_600_000).unref();
 * ```
 */
export class PostgresMailOutbox implements MailOutboxStore {
  readonly #client: Queryable;
  readonly #table: string;
  readonly #claimSql: string;

  constructor(client: Queryable, options: PostgresTableOptions = {}) {
    this.#client = client;
    const t = resolveTables(options);
    this.#table = t.mailOutbox;
    const now = fromMs('$1');
    const due = `${WAITING} AND next_attempt_at <= ${now}
    AND (lease_until IS NULL OR lease_until <= ${now})`;
    // $1 now, $2 limit, $3 leaseMs. Two disjoint sets of rows, each locked with SKIP LOCKED:
    // the expired ones to give up, the others to lease.
    this.#claimSql = `WITH expired AS (
  SELECT id FROM ${t.mailOutbox}
  WHERE ${due} AND expires_at <= ${now}
  ORDER BY next_attempt_at LIMIT ${MAX_GIVE_UP}
  FOR UPDATE SKIP LOCKED
), given_up AS (
  UPDATE ${t.mailOutbox} o SET failed_at = ${now}, lease_until = NULL, ${ERASED},
    last_error = 'expired before delivery'
  FROM expired e WHERE o.id = e.id
  RETURNING 1
), due AS (
  SELECT id FROM ${t.mailOutbox}
  WHERE ${due} AND (expires_at IS NULL OR expires_at > ${now})
  ORDER BY created_at, seq LIMIT $2
  FOR UPDATE SKIP LOCKED
), claimed AS (
  UPDATE ${t.mailOutbox} o SET attempts = o.attempts + 1,
    lease_until = ${now} + ($3::float8 * interval '1 millisecond')
  FROM due d WHERE o.id = d.id
  RETURNING o.*
)
SELECT ${MESSAGE_COLUMNS('c')} FROM claimed c ORDER BY c.created_at, c.seq`;
  }

  /** Adds a message; an existing id is a no-op (`INSERT ... ON CONFLICT (id) DO NOTHING`). */
  async enqueue(message: OutboxMessage): Promise<void> {
    await run(
      this.#client,
      `INSERT INTO ${this.#table} (id, kind, to_address, subject, body_text, body_html, attempts,
  next_attempt_at, created_at, expires_at)
VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::int, ${fromMs('$8')}, ${fromMs('$9')}, ${fromMs('$10')})
ON CONFLICT (id) DO NOTHING`,
      outboxValues(message),
    );
  }

  async claim(now: number, limit: number, leaseMs: number): Promise<OutboxMessage[]> {
    const rows = await run<OutboxRow>(this.#client, this.#claimSql, [
      now,
      Math.max(0, Math.floor(limit)),
      leaseMs,
    ]);
    return rows.map(toMessage);
  }

  async markDelivered(id: string, now: number): Promise<void> {
    if (typeof id !== 'string' || !UUID.test(id)) return;
    await run(
      this.#client,
      `UPDATE ${this.#table} SET delivered_at = ${fromMs('$2')}, lease_until = NULL, ${ERASED}
WHERE id = $1::uuid AND ${WAITING}`,
      [id, now],
    );
  }

  async markFailed(
    id: string,
    failure: { retryAt: number | null; error: string; now: number },
  ): Promise<void> {
    if (typeof id !== 'string' || !UUID.test(id)) return;
    const error = withoutNul(String(failure.error)).slice(0, MAX_ERROR_LENGTH);
    const giveUp = failure.retryAt === null;
    await run(
      this.#client,
      giveUp
        ? `UPDATE ${this.#table} SET failed_at = ${fromMs('$2')}, lease_until = NULL, ${ERASED},
  last_error = $3
WHERE id = $1::uuid AND ${WAITING}`
        : `UPDATE ${this.#table} SET next_attempt_at = ${fromMs('$2')}, lease_until = NULL,
  last_error = $3
WHERE id = $1::uuid AND ${WAITING}`,
      [id, giveUp ? failure.now : failure.retryAt, error],
    );
  }

  async pending(): Promise<number> {
    const rows = await run<{ pending: number }>(
      this.#client,
      `SELECT count(*)::int AS pending FROM ${this.#table} WHERE ${WAITING}`,
      [],
    );
    return rows[0]!.pending;
  }

  /**
   * Deletes every message to `email` (one DELETE, any state; the address compared
   * case-insensitively after trimming); returns how many.
   */
  async deleteForRecipient(email: string): Promise<number> {
    if (typeof email !== 'string') return 0;
    const rows = await run<{ deleted: number }>(
      this.#client,
      countDeleted(this.#table, 'lower(btrim(to_address)) = lower(btrim($1))'),
      [withoutNul(email)],
    );
    return rows[0]!.deleted;
  }

  /**
   * Deletes delivered and given-up messages (already without content) that ended before
   * `olderThan` (ms since the epoch); returns how many. A message waiting for delivery is never
   * deleted.
   */
  async prune(olderThan: number): Promise<number> {
    const rows = await run<{ deleted: number }>(
      this.#client,
      `WITH d AS (
  DELETE FROM ${this.#table}
  WHERE (delivered_at IS NOT NULL OR failed_at IS NOT NULL)
    AND coalesce(delivered_at, failed_at) < ${fromMs('$1')}
  RETURNING 1
) SELECT count(*)::int AS deleted FROM d`,
      [olderThan],
    );
    return rows[0]!.deleted;
  }
}
