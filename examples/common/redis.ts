// REDIS_URL: the example's counters (lockout and rate limits) in Redis, through gatehouse/redis.
//
// The client is ioredis: one package with a promise API, Redis Cluster and Sentinel in the same
// client, and reconnection built in; node-redis works as well with gatehouse (docs/redis.md).
// Options as docs/redis.md recommends: no offline queue (a command fails at once while the
// connection is down: the login answers 503 instead of waiting), one retry per command.
import { Redis } from 'ioredis';
import type { JsonLogger } from './logger.js';

/** The Redis connection of an example app. */
export interface ExampleRedis {
  client: Redis;
  /** `127.0.0.1:6379`: where REDIS_URL points (never its password). */
  address: string;
  close(): Promise<void>;
}

/**
 * REDIS_URL could not be reached or used at start. The message is one line that names the
 * variable, the host and port, and the cause; it never holds the password.
 */
export class RedisUrlError extends Error {
  override readonly name = 'RedisUrlError';
  constructor(redisUrl: string, cause: unknown) {
    super(redisUrlFailureMessage(redisUrl, cause), { cause });
  }
}

const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS lookup failed)',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
};

/** `127.0.0.1:6379` from a redis:// URL (Redis' default port when none is given). */
export function redisAddress(redisUrl: string): string {
  try {
    const u = new URL(redisUrl);
    return `${u.hostname || 'localhost'}:${u.port || '6379'}`;
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * `REDIS_URL: connection refused at 127.0.0.1:6390 (ECONNREFUSED)`: the variable, the host and
 * port from the URL, and the cause: a known socket code, a Redis error (`WRONGPASS`, `NOAUTH`),
 * or else the first line of the driver's message. The password is never printed.
 */
export function redisUrlFailureMessage(redisUrl: string, cause: unknown): string {
  const host = redisAddress(redisUrl);
  let password = '';
  try {
    password = decodeURIComponent(new URL(redisUrl).password);
  } catch {}
  const err = cause as { code?: unknown; message?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const message = String(err?.message ?? cause).split('\n')[0] ?? '';
  const redisCode = /^([A-Z]{3,})\s/.exec(message)?.[1];
  let what: string;
  if (code && CAUSES[code]) what = `${CAUSES[code]} at ${host} (${code})`;
  else if (redisCode === 'WRONGPASS' || redisCode === 'NOAUTH')
    what = `authentication failed at ${host} (${redisCode})`;
  else what = `${message} at ${host}${code ? ` (${code})` : ''}`;
  let line = `REDIS_URL: ${what}`;
  if (password) line = line.split(password).join('***');
  return line;
}

/**
 * Connects to REDIS_URL and checks it answers (PING), or throws {@link RedisUrlError}. After the
 * start, a lost connection is retried for ever (every 100 ms, backing off to 2 s) and logged at
 * most once per 10 s; meanwhile the stores answer 503 and log the outage themselves.
 */
export async function openRedis(
  redisUrl: string,
  logger: JsonLogger,
  options: { connectTimeoutMs?: number } = {},
): Promise<ExampleRedis> {
  const address = redisAddress(redisUrl);
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  });
  // ioredis emits one error per failed reconnection: the first is logged, then one line per 10 s.
  let firstError: Error | undefined;
  let lastLogged = Number.NEGATIVE_INFINITY;
  let since = 0;
  let started = false;
  client.on('error', (err: Error) => {
    if (!started) {
      firstError ??= err;
      return;
    }
    const now = Date.now();
    if (now - lastLogged < 10_000) {
      since++;
      return;
    }
    logger.warn('redis connection error', {
      error: err.message,
      ...(since > 0 ? { errorsSinceLastLine: since } : {}),
    });
    lastLogged = now;
    since = 0;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    // ioredis rejects connect() with "Connection is closed."; the socket's error says why.
    throw new RedisUrlError(redisUrl, firstError ?? err);
  }
  started = true;
  logger.info('counters: Redis', { via: 'REDIS_URL', address });
  return {
    client,
    address,
    async close() {
      // QUIT lets pending replies arrive; a dead connection is dropped at once.
      if (client.status === 'ready') {
        await Promise.race([
          client.quit().catch(() => {}),
          new Promise((resolve) => setTimeout(resolve, 1_000).unref()),
        ]);
      }
      client.disconnect();
    },
  };
}
