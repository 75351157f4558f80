// The Redis the tests run on: the server at REDIS_URL (`bash scripts/with-redis.sh npx vitest
// run tests/redis`), shared by the test files, each working under a prefix of its own; and, for
// the tests that stop, freeze or cluster a server, redis-server processes of their own
// (REDIS_SERVER_BIN, exported by the script), on free ports of 127.0.0.1.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { expect } from 'vitest';
import type { RedisClient } from '../../adapters/redis/index.js';

export const REDIS_URL = process.env.REDIS_URL;
export const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';
/** Without REDIS_URL every Redis suite shows as skipped. */
export const SKIP = REDIS_URL === undefined;

export type ClientKind = 'ioredis' | 'node-redis';
export const CLIENT_KINDS: ClientKind[] = ['ioredis', 'node-redis'];

/** A unique key prefix, so that test files and cases sharing one server never meet. */
export function freshPrefix(): string {
  return `gh-test:${randomBytes(6).toString('hex')}:`;
}

export interface OpenClient {
  kind: ClientKind;
  client: RedisClient;
  close(): Promise<void>;
}

/**
 * A connected client of either library, with the options docs/redis.md recommends (no offline
 * queue, one retry) unless `defaults` asks for the library's own defaults. Connection errors
 * are listened to, as every app must (node-redis would crash the process on an unhandled one).
 */
export async function openClient(
  kind: ClientKind,
  url: string,
  options: { defaults?: boolean } = {},
): Promise<OpenClient> {
  if (kind === 'ioredis') {
    const client = new Redis(url, {
      lazyConnect: true,
      ...(options.defaults ? {} : { enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
      retryStrategy: () => 100,
    });
    client.on('error', () => {});
    await client.connect();
    return { kind, client, close: async () => void client.disconnect() };
  }
  const client = createClient({
    url,
    ...(options.defaults ? {} : { disableOfflineQueue: true }),
    socket: { reconnectStrategy: () => 100 },
  });
  client.on('error', () => {});
  await client.connect();
  return { kind, client, close: async () => void client.destroy() };
}

/** A connected cluster client of either library on the cluster node at `port`. */
export async function openClusterClient(kind: ClientKind, port: number): Promise<OpenClient> {
  if (kind === 'ioredis') {
    const cluster = new Cluster([{ host: '127.0.0.1', port }], {
      enableOfflineQueue: false,
      redisOptions: { maxRetriesPerRequest: 1 },
    });
    cluster.on('error', () => {});
    await once(cluster, 'ready');
    return { kind, client: cluster, close: async () => void cluster.disconnect() };
  }
  const cluster = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${port}` }] });
  cluster.on('error', () => {});
  await cluster.connect();
  return { kind, client: cluster, close: async () => void cluster.destroy() };
}

/** Every key under `prefix` with its PTTL (-1: no TTL, -2: gone), read by SCAN. */
export async function keysUnder(admin: Redis, prefix: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) found.set(key, await admin.pttl(key));
  } while (cursor !== '0');
  return found;
}

/** Fails unless there is at least one key under `prefix` and every one has a TTL. */
export async function expectEveryKeyHasTtl(admin: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(admin, prefix);
  expect(keys.size, `no key under ${prefix}: the check would prove nothing`).toBeGreaterThan(0);
  const withoutTtl = [...keys].filter(([, pttl]) => !(pttl > 0));
  expect(withoutTtl, 'keys without a TTL (PTTL -1) or gone').toEqual([]);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Whether something answers PING on the port. */
async function answersPing(port: number): Promise<boolean> {
  const probe = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * A redis-server process of a test's own (loopback, no persistence), which the test can stop,
 * start again on the same port, or freeze (SIGSTOP) as a hung server.
 */
export class OwnRedisServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'gatehouse-redis-test-'));
  #process: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    readonly extraArgs: string[],
  ) {}

  static async start(extraArgs: string[] = []): Promise<OwnRedisServer> {
    const server = new OwnRedisServer(await freePort(), extraArgs);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again, on the same port); does nothing while it runs. */
  async start(): Promise<void> {
    const running = this.#process;
    if (running !== null && running.exitCode === null && running.signalCode === null) return;
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      'no',
      ...this.extraArgs,
    ];
    const child = spawn(REDIS_SERVER_BIN, args, { stdio: 'ignore' });
    this.#process = child;
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (await answersPing(this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server on port ${this.port} did not answer`);
  }

  /** Stops the server (SIGTERM) and waits until it has exited. */
  async stop(): Promise<void> {
    const child = this.#process;
    this.#process = null;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    await once(child, 'exit');
  }

  /** Freezes the server: connections stay open, nothing is answered. */
  freeze(): void {
    this.#process?.kill('SIGSTOP');
  }

  thaw(): void {
    this.#process?.kill('SIGCONT');
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A one-node Redis Cluster (every slot on one server): real cluster routing, one process. */
export async function startOneNodeCluster(): Promise<OwnRedisServer> {
  const server = await OwnRedisServer.start([
    '--cluster-enabled',
    'yes',
    '--cluster-announce-ip',
    '127.0.0.1',
  ]);
  const admin = new Redis(server.port, '127.0.0.1');
  try {
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    for (let i = 0; i < 100; i++) {
      const info = String(await admin.call('CLUSTER', 'INFO'));
      if (info.includes('cluster_state:ok')) return server;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('the one-node cluster did not become ready');
  } catch (err) {
    await server.close();
    throw err;
  } finally {
    admin.disconnect();
  }
}
