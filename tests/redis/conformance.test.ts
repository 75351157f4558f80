// The gatehouse/testing conformance suites against the Redis stores, on both clients (ioredis
// and node-redis) against the server at REDIS_URL, and on both cluster clients against a
// one-node Redis Cluster. After every case, every key the case left under its prefix must have
// a TTL (`PTTL > 0`): no code path may write a key that lives forever.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  RedisAttemptStore,
  type RedisClient,
  RedisRateLimitStore,
} from '../../adapters/redis/index.js';
import {
  describeAttemptStore,
  describeRateLimitStore,
  type TestApi,
} from '../../src/testing/index.js';
import {
  CLIENT_KINDS,
  type ClientKind,
  expectEveryKeyHasTtl,
  freshPrefix,
  type OpenClient,
  type OwnRedisServer,
  openClient,
  openClusterClient,
  REDIS_URL,
  SKIP,
  startOneNodeCluster,
} from './servers.js';

interface Target {
  name: string;
  open(): Promise<{ client: OpenClient; admin: Redis; close(): Promise<void> }>;
}

function single(kind: ClientKind): Target {
  return {
    name: `${kind} on one server`,
    async open() {
      const client = await openClient(kind, REDIS_URL!);
      const admin = new Redis(REDIS_URL!);
      return {
        client,
        admin,
        close: async () => {
          await client.close();
          admin.disconnect();
        },
      };
    },
  };
}

function cluster(kind: ClientKind): Target {
  return {
    name: `${kind} cluster client on a one-node Redis Cluster`,
    async open() {
      const server: OwnRedisServer = await startOneNodeCluster();
      const client = await openClusterClient(kind, server.port).catch(async (err: unknown) => {
        await server.close();
        throw err;
      });
      const admin = new Redis(server.port, '127.0.0.1');
      return {
        client,
        admin,
        close: async () => {
          await client.close();
          admin.disconnect();
          await server.close();
        },
      };
    },
  };
}

const targets = [...CLIENT_KINDS.map(single), ...CLIENT_KINDS.map(cluster)];

for (const target of targets) {
  describe.skipIf(SKIP)(`Redis stores with ${target.name}`, () => {
    let opened: Awaited<ReturnType<Target['open']>>;
    let prefix = '';
    beforeAll(async () => {
      opened = await target.open();
    });
    afterAll(async () => {
      await opened?.close();
    });

    // Each case gets a fresh prefix (an empty store); after it, no key under it lacks a TTL.
    const api: TestApi = {
      describe,
      it: (name, fn, timeout) =>
        it(
          name,
          async () => {
            await fn();
            await expectEveryKeyHasTtl(opened.admin, prefix);
          },
          timeout,
        ),
    };
    const fresh = <S>(make: (client: RedisClient, prefix: string) => S) => {
      prefix = freshPrefix();
      return make(opened.client.client, prefix);
    };

    describeAttemptStore(
      'RedisAttemptStore',
      () => fresh((client, p) => new RedisAttemptStore(client, { prefix: p })),
      api,
    );
    describeRateLimitStore(
      'RedisRateLimitStore',
      () => fresh((client, p) => new RedisRateLimitStore(client, { prefix: p })),
      api,
    );
  });
}
