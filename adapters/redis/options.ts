import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AuthError } from '../../src/errors.js';
import type { OutageLogOptions } from '../../src/http/outage-log.js';
import type { Logger } from '../../src/runtime.js';

/**
 * Options shared by the Redis stores ({@link RedisRateLimitStore}, {@link RedisAttemptStore},
 * {@link createRedisStores}).
 *
 * @example
 * ```ts
 * const options: RedisStoreOptions = { prefix: 'shop:auth:', commandTimeoutMs: 500, logger };
 * const rateLimits = new RedisRateLimitStore(client, options);
 * ```
 */
export interface RedisStoreOptions {
  /**
   * Put before every key, so several apps (or test runs) can share one Redis. Keep it free of
   * `{` and `}`: a hash tag in the prefix would put every gatehouse key in one Cluster slot.
   * At most 100 characters.
   * @default 'gatehouse:'
   */
  prefix?: string;
  /**
   * How long one operation may wait for Redis, in milliseconds, before it fails with
   * SERVER_ERROR 503. It bounds a login while Redis is down or frozen, whatever the client's
   * own queueing and retry options. A whole number from 10 to 60 000.
   * @default 1000
   */
  commandTimeoutMs?: number;
  /**
   * Logs Redis outages without a storm: `redis unavailable` (error, with the cause) at the
   * first failed command, at most one `redis still unavailable` per interval, and `redis is
   * back` at the first command Redis answers again. Unset: the stores log nothing (their
   * errors still reach your error handler, whose 503 log names Redis in the cause).
   */
  logger?: Logger;
  /** The interval, clock and timer of the outage log; used only with `logger`. */
  outageLog?: Omit<OutageLogOptions, 'logger'>;
}

/**
 * Options of {@link RedisAttemptStore} (and {@link createRedisStores}).
 *
 * @example
 * ```ts
 * const options: RedisAttemptStoreOptions = { lockoutHistoryMs: 14 * 86_400_000 };
 * const attempts = new RedisAttemptStore(client, options);
 * ```
 */
export interface RedisAttemptStoreOptions extends RedisStoreOptions {
  /**
   * How long an identifier that has been locked keeps its lockout count after its last lock
   * (or counting window) ends, in milliseconds: the memory of the progressive lock. An
   * identifier never locked is forgotten when its counting window ends. Shorter than your
   * longest lockout, an attacker who waits it out starts again at the first lock's duration.
   * A whole number from 0 to 365 days.
   * @default 7 days (604 800 000)
   */
  lockoutHistoryMs?: number;
}

export const DEFAULT_PREFIX = 'gatehouse:';
export const DEFAULT_COMMAND_TIMEOUT_MS = 1000;
export const DEFAULT_LOCKOUT_HISTORY_MS = 7 * 86_400_000;

const implementing = (what: string, methods: string[]) =>
  z.custom(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function'),
    { message: `must be ${what} with methods ${methods.join(', ')}` },
  );

const wholeMs = (min: number, max: number, range: string) =>
  z
    .number({ message: 'must be a number of milliseconds' })
    .int('must be a whole number of milliseconds')
    .min(min, `must be ${range}`)
    .max(max, `must be ${range}`);

const optionsSchema = z
  .object({
    prefix: z
      .string({ message: 'must be a string' })
      .max(100, 'must be at most 100 characters')
      .optional(),
    commandTimeoutMs: wholeMs(10, 60_000, 'from 10 to 60000 (ms)').optional(),
    logger: implementing('a Logger', ['debug', 'info', 'warn', 'error']).optional(),
    // Checked by the outage log itself, which names the option.
    outageLog: z.object({}).passthrough().optional(),
    lockoutHistoryMs: wholeMs(0, 365 * 86_400_000, 'from 0 to 31536000000 (365 days)').optional(),
  })
  .strict();

export interface ResolvedRedisOptions {
  prefix: string;
  commandTimeoutMs: number;
  lockoutHistoryMs: number;
  logger: Logger | undefined;
  outageLog: Omit<OutageLogOptions, 'logger'>;
}

/** Validates the options; a bad one is INVALID_CONFIG naming `owner` and the option. */
export function resolveRedisOptions(
  options: RedisAttemptStoreOptions,
  owner: string,
): ResolvedRedisOptions {
  const result = optionsSchema.safeParse(options ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const option = issue.path.join('.') || 'options';
    const message =
      issue.code === 'unrecognized_keys'
        ? `${owner}: unknown option "${issue.keys.join('", "')}".`
        : `${owner}: option "${option}" ${issue.message}.`;
    throw new AuthError('INVALID_CONFIG', message, { details: { option } });
  }
  return {
    prefix: options?.prefix ?? DEFAULT_PREFIX,
    commandTimeoutMs: options?.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    lockoutHistoryMs: options?.lockoutHistoryMs ?? DEFAULT_LOCKOUT_HISTORY_MS,
    logger: options?.logger,
    outageLog: options?.outageLog ?? {},
  };
}

const MAX_PLAIN_KEY_LENGTH = 200;

/**
 * The Redis key of a counter: the prefix, the kind, then the caller's key (`login:<hash>`,
 * `<route>:<ip>`), or its SHA-256 when longer than 200 characters, so no input makes a huge key.
 */
export function redisKey(prefix: string, kind: 'attempts' | 'ratelimit', key: string): string {
  const stored =
    key.length <= MAX_PLAIN_KEY_LENGTH
      ? key
      : `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
  return `${prefix}${kind}:${stored}`;
}
