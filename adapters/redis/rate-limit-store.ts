import type { RateLimitResult, RateLimitStore } from '../../src/stores/types.js';
import type { RedisClient } from './client.js';
import { type RedisStoreOptions, redisKey, resolveRedisOptions } from './options.js';
import type { ScriptRunner } from './script-runner.js';
import { luaScript, runnerFor } from './script-runner.js';

// One fixed window per key: a hash { count, resetAt }. Times are the caller's `now` (ms since
// the epoch, from the injected clock); the key expires when its window ends (PEXPIRE by the
// window's remaining length, a duration, so Redis' own clock never decides a window).
// Numbers travel as text with 17 significant digits: exact for any integer below 2^53.
const HIT = luaScript(`
local now = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local resetAt = tonumber(redis.call('HGET', KEYS[1], 'resetAt'))
local count
if resetAt == nil or resetAt <= now then
  resetAt = now + windowMs
  count = 1
  redis.call('HSET', KEYS[1], 'count', 1, 'resetAt', string.format('%.17g', resetAt))
else
  count = redis.call('HINCRBY', KEYS[1], 'count', 1)
end
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(resetAt - now)))
return { tostring(count), string.format('%.17g', resetAt) }
`);

const RESET = luaScript(`return redis.call('DEL', KEYS[1])`);

/**
 * A {@link RateLimitStore} on Redis, shared by every app instance: one fixed window per key,
 * kept as a hash under `<prefix>ratelimit:<key>`. Each `hit` is one Lua script (loaded once,
 * called by its SHA), so concurrent hits from any number of instances are all counted, and
 * the same script sets the key's TTL to the end of its window: no key outlives its window,
 * and none is left without a TTL.
 *
 * Time is the `now` gatehouse passes (its injected clock), never Redis' `TIME`, so a fake
 * clock in tests works and the window is the one the core computed; the TTL is the window's
 * remaining duration. Keep the clocks of your instances in sync (NTP), as for PostgreSQL.
 *
 * Redis unreachable (or no answer within `commandTimeoutMs`) fails closed: `hit` throws
 * `AuthError('SERVER_ERROR')` with status 503, so a rate-limited route answers 503 rather
 * than letting a request through uncounted. See docs/redis.md.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createAuth } from 'gatehouse';
 * import { RedisRateLimitStore } from 'gatehouse/redis';
 *
 * const client = new Redis(process.env.REDIS_URL!, { enableOfflineQueue: false });
 * const rateLimits = new RedisRateLimitStore(client, { prefix: 'shop:' });
 * const auth = createAuth({ stores: { rateLimits } });
 * ```
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #runner: ScriptRunner;
  readonly #prefix: string;

  constructor(client: RedisClient, options: RedisStoreOptions = {}) {
    const resolved = resolveRedisOptions(options, 'RedisRateLimitStore');
    this.#runner = runnerFor(client, resolved, 'RedisRateLimitStore');
    this.#prefix = resolved.prefix;
  }

  /** Counts one hit; one atomic script (see {@link RateLimitStore.hit}). */
  async hit(
    key: string,
    rule: { now: number; windowMs: number; limit: number },
  ): Promise<RateLimitResult> {
    const reply = await this.#runner.run(HIT, redisKey(this.#prefix, 'ratelimit', key), [
      rule.now,
      rule.windowMs,
    ]);
    const [count, resetAt] = (reply as unknown[]).map((v) => Number(String(v)));
    return { allowed: count! <= rule.limit, count: count!, resetAt: resetAt! };
  }

  /** Forgets a key. */
  async reset(key: string): Promise<void> {
    await this.#runner.run(RESET, redisKey(this.#prefix, 'ratelimit', key), []);
  }
}
