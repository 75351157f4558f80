import type {
  AttemptReservation,
  AttemptState,
  AttemptStore,
  LockoutRule,
} from '../../src/stores/types.js';
import type { RedisClient } from './client.js';
import { type RedisAttemptStoreOptions, redisKey, resolveRedisOptions } from './options.js';
import { luaScript, runnerFor, type ScriptRunner } from './script-runner.js';

// One hash per identifier: attempts, windowStart, lockedUntil (absent: no lock since the
// counter last restarted), lockouts. ARGV of both scripts: now, maxAttempts, windowMs, lockMs,
// backoffFactor, maxLockMs, lockoutHistoryMs. Times are the caller's `now` (ms since the epoch,
// from the injected clock), never Redis' TIME; the TTL is a duration computed from them:
// the end of the counting window or of the lock, plus lockoutHistoryMs once the key has been
// locked (so the backoff remembers), and it is set by every write.
const COMMON = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local maxAttempts = tonumber(ARGV[2])
local windowMs = tonumber(ARGV[3])
local lockMs = tonumber(ARGV[4])
local backoffFactor = tonumber(ARGV[5])
local maxLockMs = tonumber(ARGV[6])
local historyMs = tonumber(ARGV[7])
local function num(x) return string.format('%.17g', x) end
-- min(maxLockMs, round(lockMs * backoffFactor ^ lockouts)), as the memory store computes it
-- (an infinite product falls to maxLockMs).
local function lockFor(lockouts)
  local d = math.floor(lockMs * backoffFactor ^ lockouts + 0.5)
  if d > maxLockMs then d = maxLockMs end
  return d
end
local function expire(windowStart, lockedUntil, lockouts)
  local endsAt = windowStart + windowMs
  if lockedUntil and lockedUntil > endsAt then endsAt = lockedUntil end
  if lockouts > 0 then endsAt = endsAt + historyMs end
  redis.call('PEXPIRE', key, math.max(1, math.ceil(endsAt - now)))
end
local f = redis.call('HMGET', key, 'attempts', 'windowStart', 'lockedUntil', 'lockouts')
local attempts = tonumber(f[1])
local windowStart = tonumber(f[2])
local lockedUntil = tonumber(f[3])
local lockouts = tonumber(f[4]) or 0
`;

const RESERVE = luaScript(`${COMMON}
if lockedUntil ~= nil and lockedUntil > now then
  return { '0', num(lockedUntil), '0' }
end
if attempts == nil or windowStart == nil or lockedUntil ~= nil or windowStart + windowMs <= now then
  attempts = 0
  windowStart = now
  lockedUntil = nil
end
attempts = attempts + 1
local lockedNow = attempts > maxAttempts
if lockedNow then
  lockedUntil = now + lockFor(lockouts)
  lockouts = lockouts + 1
  redis.call('HSET', key, 'attempts', attempts, 'windowStart', num(windowStart),
    'lockedUntil', num(lockedUntil), 'lockouts', lockouts)
else
  redis.call('HSET', key, 'attempts', attempts, 'windowStart', num(windowStart), 'lockouts', lockouts)
  redis.call('HDEL', key, 'lockedUntil')
end
expire(windowStart, lockedUntil, lockouts)
if lockedNow then return { '0', num(lockedUntil), '1' } end
return { '1', tostring(attempts) }
`);

// Only the failure that brings an unlocked counter to the threshold writes; any other returns
// nil and changes nothing (a lock, even an ended one, waits for reserve to restart the counter).
const RECORD_FAILURE = luaScript(`${COMMON}
if attempts == nil or windowStart == nil or lockedUntil ~= nil or attempts < maxAttempts then
  return false
end
lockedUntil = now + lockFor(lockouts)
lockouts = lockouts + 1
redis.call('HSET', key, 'lockedUntil', num(lockedUntil), 'lockouts', lockouts)
expire(windowStart, lockedUntil, lockouts)
return num(lockedUntil)
`);

const RESET = luaScript(`return redis.call('DEL', KEYS[1])`);

// A plain read of the hash (one key, so a Cluster routes it like the others); nil when absent.
const INSPECT = luaScript(`
local f = redis.call('HMGET', KEYS[1], 'attempts', 'windowStart', 'lockedUntil', 'lockouts')
if f[1] == false and f[2] == false then return false end
return { f[1] or '0', f[2] or '0', f[3] or '', f[4] or '0' }
`);

/**
 * An {@link AttemptStore} (lockout counters) on Redis, shared by every app instance: one hash
 * per identifier under `<prefix>attempts:<key>` (the core's keys are keyed hashes, so Redis
 * holds no email address). `reserve` and `recordFailure` are each one Lua script (loaded
 * once, called by its SHA), so concurrent reservations on one identifier, from any number of
 * instances, are counted one after the other: never more than `maxAttempts` password checks
 * between two lockouts, and exactly one caller is told it took the lock.
 *
 * Every write sets the key's TTL: the end of its counting window or lock, plus
 * `lockoutHistoryMs` once it has been locked (the memory of the progressive lock). Time is the
 * `now` gatehouse passes (its injected clock), never Redis' `TIME`, so a fake clock works and
 * every instance computes the same windows; keep their clocks in sync (NTP).
 *
 * Redis unreachable (or no answer within `commandTimeoutMs`) fails closed: the operation
 * throws `AuthError('SERVER_ERROR')` with status 503, and login answers 503 before any
 * password is checked. See docs/redis.md.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { createAuth } from 'gatehouse';
 * import { RedisAttemptStore } from 'gatehouse/redis';
 *
 * const client = await createClient({ url: process.env.REDIS_URL }).connect();
 * const attempts = new RedisAttemptStore(client, { lockoutHistoryMs: 14 * 86_400_000 });
 * const auth = createAuth({ stores: { attempts } });
 * ```
 */
export class RedisAttemptStore implements AttemptStore {
  readonly #runner: ScriptRunner;
  readonly #prefix: string;
  readonly #historyMs: number;

  constructor(client: RedisClient, options: RedisAttemptStoreOptions = {}) {
    const resolved = resolveRedisOptions(options, 'RedisAttemptStore');
    this.#runner = runnerFor(client, resolved, 'RedisAttemptStore');
    this.#prefix = resolved.prefix;
    this.#historyMs = resolved.lockoutHistoryMs;
  }

  /** Reserves one attempt; one atomic script (see {@link AttemptStore.reserve}). */
  async reserve(key: string, rule: LockoutRule): Promise<AttemptReservation> {
    const reply = (await this.#run(RESERVE, key, rule)) as unknown[];
    const [allowed, value, lockedNow] = reply.map((v) => Number(String(v)));
    return allowed === 1
      ? { allowed: true, attempts: value! }
      : { allowed: false, lockedUntil: value!, lockedNow: lockedNow === 1 };
  }

  /** Locks the key if this failure reaches the threshold; one atomic script. */
  async recordFailure(key: string, rule: LockoutRule): Promise<number | null> {
    const reply = await this.#run(RECORD_FAILURE, key, rule);
    return reply === null || reply === undefined ? null : Number(String(reply));
  }

  /** Forgets the key entirely (counter, lock and lockout count). */
  async reset(key: string): Promise<void> {
    await this.#runner.run(RESET, redisKey(this.#prefix, 'attempts', key), []);
  }

  /** Reads the key's hash without changing it (one script); see {@link AttemptStore.inspect}. */
  async inspect(key: string, now: number): Promise<AttemptState | null> {
    const reply = await this.#runner.run(INSPECT, redisKey(this.#prefix, 'attempts', key), []);
    if (!Array.isArray(reply)) return null;
    const [attempts, windowStart, lockedUntil, lockouts] = reply.map((v) => String(v));
    const lock = lockedUntil === '' ? null : Number(lockedUntil);
    return {
      attempts: lock === null ? Number(attempts) : 0,
      windowStart: Number(windowStart),
      lockedUntil: lock !== null && lock > now ? lock : null,
      lockouts: Number(lockouts),
    };
  }

  #run(script: typeof RESERVE, key: string, rule: LockoutRule): Promise<unknown> {
    return this.#runner.run(script, redisKey(this.#prefix, 'attempts', key), [
      rule.now,
      rule.maxAttempts,
      rule.windowMs,
      rule.lockMs,
      rule.backoffFactor,
      rule.maxLockMs,
      this.#historyMs,
    ]);
  }
}
