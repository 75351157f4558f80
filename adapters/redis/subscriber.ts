import { AuthError } from '../../src/errors.js';
import type { RedisClient } from './client.js';

/**
 * A Redis connection that gatehouse may SUBSCRIBE on for {@link withRedisRevocations}: an
 * ioredis `Redis` (not a `Cluster`) or a node-redis 5 `createClient` client, used for nothing
 * else (a connection in subscribe mode cannot send ordinary commands). gatehouse subscribes,
 * pings it to check the subscription holds, and unsubscribes at the end; it never closes a
 * subscriber you passed in. Connect a node-redis one (`await sub.connect()`) and give it an
 * `'error'` listener. With a Redis Cluster, pass a plain client connected to any node: Redis
 * Cluster delivers every PUBLISH to every node's subscribers.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const subscriber: RedisSubscriber = new Redis(process.env.REDIS_URL!);
 * subscriber.on('error', (err) => logger.warn('redis subscriber', { error: err.message }));
 * const tokens = withRedisRevocations(db.stores.tokens, client, { subscriber });
 * ```
 */
export type RedisSubscriber = IoRedisSubscriber | NodeRedisSubscriber;

/**
 * What gatehouse uses of an ioredis `Redis` in subscribe mode (see {@link RedisSubscriber}).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const subscriber: IoRedisSubscriber = new Redis(process.env.REDIS_URL!);
 * ```
 */
export interface IoRedisSubscriber {
  readonly status: string;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  ping(): Promise<unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: ioredis' overloaded EventEmitter signatures
  on(event: string, listener: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: ioredis' overloaded EventEmitter signatures
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/**
 * What gatehouse uses of a node-redis 5 client in subscribe mode (see {@link RedisSubscriber}).
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * const subscriber: NodeRedisSubscriber = createClient({ url: process.env.REDIS_URL });
 * subscriber.on('error', () => {});
 * await subscriber.connect();
 * ```
 */
export interface NodeRedisSubscriber {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  subscribe(
    channel: string,
    listener: (message: string, channel: string) => void,
  ): Promise<unknown>;
  unsubscribe(
    channel: string,
    listener: (message: string, channel: string) => void,
  ): Promise<unknown>;
  sendCommand(args: string[]): Promise<unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: node-redis' overloaded EventEmitter signatures
  on(event: string, listener: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: node-redis' overloaded EventEmitter signatures
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/** What a subscription tells its owner. */
export interface SubscriberEvents {
  message(payload: string): void;
  /** The connection is (again) ready: check the subscription. */
  ready(): void;
  /** The connection dropped (or failed to open). */
  lost(cause: unknown): void;
}

/** One subscriber connection, seen the same way whatever the library. */
export interface SubscriberHandle {
  readonly kind: 'ioredis' | 'node-redis';
  /** Whether the connection is up (it may still need {@link SubscriberHandle.subscribe}). */
  readonly ready: boolean;
  /** SUBSCRIBEs (again) to the channel; resolves once Redis has confirmed it. */
  subscribe(): Promise<void>;
  /** A PING on the subscriber connection itself (allowed in subscribe mode). */
  ping(): Promise<unknown>;
  /** Closes a connection gatehouse opened; unsubscribes and detaches from a user's one. */
  close(): Promise<void>;
}

const has = (value: object, method: string) =>
  typeof (value as Record<string, unknown>)[method] === 'function';

/** ioredis `Cluster` (`isCluster: true`) or node-redis `createCluster`. */
const isCluster = (value: object) =>
  has(value, 'getSlotRandomNode') || (value as { isCluster?: unknown }).isCluster === true;

function invalid(owner: string, option: string, message: string): AuthError {
  return new AuthError('INVALID_CONFIG', `${owner}: option "${option}" ${message}`, {
    details: { option },
  });
}

function isIoRedis(value: object): boolean {
  return has(value, 'subscribe') && has(value, 'ping') && has(value, 'on') && 'status' in value;
}

function isNodeRedis(value: object): boolean {
  return (
    has(value, 'subscribe') && has(value, 'sendCommand') && has(value, 'on') && 'isOpen' in value
  );
}

/** A subscriber connection to open: the user's, or a new duplicate gatehouse owns. */
export type SubscriberFactory = () => { connection: object; owned: boolean };

/**
 * Checks the `client` / `subscriber` pair of {@link withRedisRevocations} at construction and
 * returns how to get the subscriber connection when the first watch opens: the user's
 * `subscriber`, or a duplicate of `client` (ioredis `duplicate()`; node-redis `duplicate()`
 * then `connect()`), which gatehouse owns and closes. A cluster client needs `subscriber`.
 */
export function subscriberFactory(
  client: RedisClient,
  subscriber: RedisSubscriber | undefined,
  owner: string,
): SubscriberFactory {
  const usable = (value: object) => isIoRedis(value) || (isNodeRedis(value) && !isCluster(value));
  if (subscriber !== undefined) {
    if (
      typeof subscriber !== 'object' ||
      subscriber === null ||
      !usable(subscriber) ||
      isCluster(subscriber)
    ) {
      throw invalid(
        owner,
        'subscriber',
        'must be an ioredis Redis client or a node-redis 5 client (createClient), not a cluster client.',
      );
    }
    return () => ({ connection: subscriber, owned: false });
  }
  const source = client as unknown as object;
  if (isCluster(source)) {
    throw invalid(
      owner,
      'subscriber',
      'is required with a cluster client: pass a plain ioredis or node-redis client connected to any node of the cluster (Redis Cluster delivers every PUBLISH to every node).',
    );
  }
  if (!has(source, 'duplicate') || !usable(source)) {
    throw invalid(
      owner,
      'subscriber',
      'is required: the client cannot duplicate() itself into a subscriber connection.',
    );
  }
  const duplicate = (source as { duplicate(options?: object): object }).duplicate;
  // ioredis: lazyConnect, so the listeners are in place before the first connection.
  const io = isIoRedis(source);
  return () => ({
    connection: io ? duplicate.call(source, { lazyConnect: true }) : duplicate.call(source),
    owned: true,
  });
}

/** Attaches to a subscriber connection made by a {@link SubscriberFactory}. */
export function attachSubscriber(
  { connection, owned }: { connection: object; owned: boolean },
  channel: string,
  events: SubscriberEvents,
): SubscriberHandle {
  return isIoRedis(connection)
    ? ioRedisHandle(connection as IoRedisSubscriber, owned, channel, events)
    : nodeRedisHandle(connection as NodeRedisSubscriber, owned, channel, events);
}

function ioRedisHandle(
  sub: IoRedisSubscriber,
  owned: boolean,
  channel: string,
  events: SubscriberEvents,
): SubscriberHandle {
  const onMessage = (from: string, message: string) => {
    if (from === channel) events.message(String(message));
  };
  const onReady = () => events.ready();
  let lastError: unknown = null;
  const onError = (err: unknown) => {
    lastError = err;
  };
  const onClose = () => events.lost(lastError ?? new Error('the subscriber connection closed'));
  sub.on('message', onMessage);
  sub.on('ready', onReady);
  sub.on('error', onError);
  sub.on('close', onClose);
  if (sub.status === 'wait') {
    // Reconnects by itself (retryStrategy) when the first attempt fails.
    (sub as unknown as { connect(): Promise<void> }).connect().catch(() => {});
  }
  return {
    kind: 'ioredis',
    get ready() {
      return sub.status === 'ready';
    },
    subscribe: async () => {
      lastError = null;
      await sub.subscribe(channel);
    },
    ping: () => sub.ping(),
    close: async () => {
      sub.off('message', onMessage);
      sub.off('ready', onReady);
      sub.off('close', onClose);
      if (owned) {
        (sub as unknown as { disconnect(): void }).disconnect();
        return;
      }
      sub.off('error', onError);
      await sub.unsubscribe(channel).catch(() => {});
    },
  };
}

function nodeRedisHandle(
  sub: NodeRedisSubscriber,
  owned: boolean,
  channel: string,
  events: SubscriberEvents,
): SubscriberHandle {
  const listener = (message: string, from: string) => {
    if (from === channel) events.message(String(message));
  };
  const onReady = () => events.ready();
  // An 'error' without a listener would end the process: an owned connection always has one.
  const onError = (err: unknown) => events.lost(err);
  const onEnd = () => events.lost(new Error('the subscriber connection closed'));
  sub.on('ready', onReady);
  sub.on('error', onError);
  sub.on('end', onEnd);
  sub.on('reconnecting', onEnd);
  if (owned && !sub.isOpen) {
    // Reconnects by itself (reconnectStrategy) when the first attempt fails.
    (sub as unknown as { connect(): Promise<unknown> }).connect().catch(() => {});
  }
  return {
    kind: 'node-redis',
    get ready() {
      return sub.isReady;
    },
    // Once subscribed, node-redis resubscribes by itself before each 'ready' (and answers a
    // repeated subscribe at once), so the PING that follows is what proves it holds.
    subscribe: async () => {
      await sub.subscribe(channel, listener);
    },
    ping: () => sub.sendCommand(['PING']),
    close: async () => {
      sub.off('ready', onReady);
      sub.off('end', onEnd);
      sub.off('reconnecting', onEnd);
      if (owned) {
        const closable = sub as unknown as { destroy?(): void; disconnect?(): Promise<void> };
        if (typeof closable.destroy === 'function') closable.destroy();
        else await closable.disconnect?.().catch(() => {});
        sub.off('error', onError);
        return;
      }
      sub.off('error', onError);
      await sub.unsubscribe(channel, listener).catch(() => {});
    },
  };
}
