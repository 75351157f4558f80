import { createHash } from 'node:crypto';
import { toServerError } from './database-error.js';
import type { Queryable } from './queryable.js';

/** SQL for a JS time (ms since the epoch, a parameter) as a timestamptz. */
export const fromMs = (param: string) => `to_timestamp(${param}::float8 / 1000)`;

/** SQL for a timestamptz as ms since the epoch (float8 so both drivers return a number). */
export const toMs = (column: string) => `(extract(epoch from ${column}) * 1000)::float8`;

/** A statement deleting the rows of `table` matching `where`, returning `{ deleted }`. */
export const countDeleted = (table: string, where: string) =>
  `WITH d AS (DELETE FROM ${table} WHERE ${where} RETURNING 1) SELECT count(*)::int AS deleted FROM d`;

/**
 * Runs one statement; any failure becomes an `AuthError('SERVER_ERROR')` (503 when the
 * database is unavailable) unless `onError` maps it to something more precise first.
 */
export async function run<R>(
  client: Queryable,
  text: string,
  params: unknown[],
  onError?: (err: unknown) => Error | undefined,
): Promise<R[]> {
  try {
    const result = await client.query(text, params);
    return result.rows as R[];
  } catch (err) {
    throw onError?.(err) ?? toServerError(err);
  }
}

const MAX_PLAIN_KEY_LENGTH = 200;

/**
 * The stored form of a counter key (attempts, rate limits). Keys are caller data (an email, an
 * IP): one holding a NUL byte (which Postgres text refuses) or too long for a btree index entry
 * is stored as its SHA-256, so no input can make the statement fail.
 */
export function storedKey(key: string): string {
  if (key.length <= MAX_PLAIN_KEY_LENGTH && !key.includes('\u0000')) return key;
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** Removes NUL characters, which Postgres text and jsonb cannot hold. */
export function withoutNul(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '') : value;
}
