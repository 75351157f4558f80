import { RedisAttemptStore } from './attempt-store.js';
import type { RedisClient } from './client.js';
import { type RedisAttemptStoreOptions, resolveRedisOptions } from './options.js';
import { RedisRateLimitStore } from './rate-limit-store.js';
import { ScriptRunner, standInFor } from './script-runner.js';

/**
 * The counters gatehouse keeps in Redis, made by {@link createRedisStores}.
 *
 * @example
 * ```ts
 * const redis: RedisStores = createRedisStores(client, { logger });
 * const auth = createAuth({ stores: { ...db.stores, ...redis.stores } });
 * ```
 */
export interface RedisStores {
  /** Shaped for `createAuth({ stores })`: spread them over your other stores. */
  stores: {
    attempts: RedisAttemptStore;
    rateLimits: RedisRateLimitStore;
  };
}

/**
 * Builds the Redis counter stores (lockout and rate limits) on one client, sharing one
 * outage log when given a `logger` (one outage is one set of lines, not one per store). The
 * other stores (users, sessions, tokens, audit) stay in PostgreSQL or wherever they are.
 *
 * Fail closed: while Redis cannot be reached, login and every rate-limited route answer 503
 * SERVER_ERROR, and nothing is evaluated without its counter. They recover at the first
 * command Redis answers. See docs/redis.md.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createAuth } from 'gatehouse';
 * import { createPostgresStores } from 'gatehouse/postgres';
 * import { createRedisStores } from 'gatehouse/redis';
 *
 * const client = new Redis(process.env.REDIS_URL!, {
 *   enableOfflineQueue: false,
 *   maxRetriesPerRequest: 1,
 * });
 * const db = createPostgresStores(pool, { logger });
 * const redis = createRedisStores(client, { prefix: 'shop:', logger });
 * const auth = createAuth({ stores: { ...db.stores, ...redis.stores }, logger });
 * ```
 */
export function createRedisStores(
  client: RedisClient,
  options: RedisAttemptStoreOptions = {},
): RedisStores {
  const owner = 'createRedisStores';
  const resolved = resolveRedisOptions(options, owner);
  const shared = standInFor(new ScriptRunner(client, resolved, owner));
  const { prefix, lockoutHistoryMs } = resolved;
  return {
    stores: {
      attempts: new RedisAttemptStore(shared, { prefix, lockoutHistoryMs }),
      rateLimits: new RedisRateLimitStore(shared, { prefix }),
    },
  };
}
