import { AuthError } from '../../src/errors.js';

/**
 * An ioredis client, `Redis` or `Cluster` (ioredis 5): what gatehouse needs of it is `call`
 * (any command) and `evalsha`, by which it is recognised. gatehouse never imports ioredis.
 *
 * Recommended: `enableOfflineQueue: false` (a command fails at once while the connection is
 * down, instead of waiting in ioredis' queue) and `maxRetriesPerRequest: 1`. Whatever the
 * options, the stores give up on a command after `commandTimeoutMs`.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const client: IoRedisClient = new Redis(process.env.REDIS_URL!, {
 *   enableOfflineQueue: false,
 *   maxRetriesPerRequest: 1,
 * });
 * ```
 */
export interface IoRedisClient {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  evalsha(...args: never[]): unknown;
}

/**
 * A node-redis client (`createClient`, redis 5): what gatehouse needs of it is
 * `sendCommand(args, options)` and `evalSha`, by which it is recognised. Connect it
 * (`await client.connect()`) before the first request. gatehouse never imports redis.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * const client: NodeRedisClient = await createClient({
 *   url: process.env.REDIS_URL,
 *   disableOfflineQueue: true,
 * }).connect();
 * ```
 */
export interface NodeRedisClient {
  sendCommand(args: string[], options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  evalSha(...args: never[]): unknown;
}

/**
 * A node-redis cluster client (`createCluster`, redis 5), recognised by `sendCommand` and
 * `getSlotRandomNode`; each command is routed to the node owning its key's slot.
 *
 * @example
 * ```ts
 * import { createCluster } from 'redis';
 * const cluster: NodeRedisCluster = await createCluster({
 *   rootNodes: [{ url: 'redis://10.0.0.1:6379' }],
 * }).connect();
 * ```
 */
export interface NodeRedisCluster {
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
    options?: { abortSignal?: AbortSignal },
  ): Promise<unknown>;
  getSlotRandomNode(...args: never[]): unknown;
}

/**
 * Any Redis client the gatehouse Redis stores accept: ioredis (`Redis`, `Cluster`) or
 * node-redis (`createClient`, `createCluster`). The stores tell them apart by their methods
 * (duck typing), so neither library is imported by gatehouse; both are optional peer
 * dependencies.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisStores, type RedisClient } from 'gatehouse/redis';
 * const client: RedisClient = new Redis(process.env.REDIS_URL!, { enableOfflineQueue: false });
 * const redis = createRedisStores(client);
 * ```
 */
export type RedisClient = IoRedisClient | NodeRedisClient | NodeRedisCluster;

/** The one thing the stores need of a client: send a command about one key, abortable. */
export interface RedisCommands {
  readonly kind: 'ioredis' | 'node-redis' | 'node-redis-cluster';
  send(args: string[], key: string, signal: AbortSignal): Promise<unknown>;
}

const has = (value: object, method: string) =>
  typeof (value as Record<string, unknown>)[method] === 'function';

/** Wraps an ioredis or node-redis client; anything else is INVALID_CONFIG naming `owner`. */
export function commandsOf(client: unknown, owner: string): RedisCommands {
  if (typeof client === 'object' && client !== null) {
    if (has(client, 'sendCommand') && has(client, 'getSlotRandomNode')) {
      const cluster = client as NodeRedisCluster;
      return {
        kind: 'node-redis-cluster',
        send: (args, key, signal) => cluster.sendCommand(key, false, args, { abortSignal: signal }),
      };
    }
    if (has(client, 'sendCommand') && has(client, 'evalSha')) {
      const single = client as NodeRedisClient;
      return {
        kind: 'node-redis',
        // A command still waiting in node-redis' queue when the signal fires is dropped.
        send: (args, _key, signal) => single.sendCommand(args, { abortSignal: signal }),
      };
    }
    if (has(client, 'call') && has(client, 'evalsha')) {
      const io = client as IoRedisClient;
      // ioredis routes EVALSHA by its declared key itself (Cluster) and has no abort.
      return { kind: 'ioredis', send: (args) => io.call(args[0]!, ...args.slice(1)) };
    }
  }
  throw new AuthError(
    'INVALID_CONFIG',
    `${owner}: option "client" must be an ioredis client (Redis or Cluster) or a connected node-redis 5 client (createClient or createCluster).`,
    { details: { option: 'client' } },
  );
}
