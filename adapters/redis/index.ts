// The public API of `gatehouse/redis`: the counter stores (lockout and rate limits) on Redis,
// and revocation fan-out over Redis pub/sub (withRedisRevocations).
// Works with a client the user passes in, ioredis or node-redis, recognised by its methods:
// neither library is imported here. Every name is listed; types go out with `export type`.

export { RedisAttemptStore } from './attempt-store.js';
export type {
  IoRedisClient,
  NodeRedisClient,
  NodeRedisCluster,
  RedisClient,
} from './client.js';
export type { RedisAttemptStoreOptions, RedisStoreOptions } from './options.js';
export { RedisRateLimitStore } from './rate-limit-store.js';
export type { RedisStores } from './redis-stores.js';
export { createRedisStores } from './redis-stores.js';
export type { RedisRevocationOptions } from './revocations.js';
export { withRedisRevocations } from './revocations.js';
export type { IoRedisSubscriber, NodeRedisSubscriber, RedisSubscriber } from './subscriber.js';
