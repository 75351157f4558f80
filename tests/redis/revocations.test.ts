// Revocation fan-out over Redis pub/sub (withRedisRevocations), on a real redis-server with both
// client libraries. Two createAuth instances in this process share one MemoryTokenStore, but the
// wrapper hides the memory store's in-process watch: the only way instance 2 hears instance 1's
// revocations is Redis (the control case shows that without the fan-out instance 2 serves its
// cache). Faults (CLIENT KILL TYPE pubsub, a stopped Redis, a frozen Redis) run on redis-servers
// of the test's own, so the shared server of the other files is never touched.
// `bash scripts/with-redis.sh npx vitest run tests/redis/revocations.test.ts`
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RedisSubscriber, withRedisRevocations } from '../../adapters/redis/index.js';
import {
  AuthError,
  MemoryTokenStore,
  MemoryUserStore,
  type SessionRecord,
  type TokenStore,
} from '../../src/index.js';
import { describeTokenStore } from '../../src/testing/index.js';
import type { LogLine } from '../helpers/auth.js';
import { collectingLogger, makeAuth, PASSWORD } from '../helpers/auth.js';
import {
  CLIENT_KINDS,
  type ClientKind,
  freshPrefix,
  type OpenClient,
  OwnRedisServer,
  openClient,
  openClusterClient,
  REDIS_URL,
  SKIP,
  startOneNodeCluster,
} from './servers.js';

const JWT_SECRET = randomBytes(32).toString('base64url');
/** Instance 2's own subscriber reconnects this late, so a killed subscription stays down a while. */
const SLOW_RECONNECT_MS = 1_500;
const TIMEOUT_MS = 300;
const HEARTBEAT_MS = 200;

let closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  closers = [];
});

/** The memory store behind a plain object (no watch of its own), counting its session reads. */
function countingStore(inner = new MemoryTokenStore()) {
  const counts = { reads: 0 };
  const store: TokenStore = {
    createSession: (session, hash) => inner.createSession(session, hash),
    rotate: (oldHash, newHash, rule) => inner.rotate(oldHash, newHash, rule),
    getSession: (id) => {
      counts.reads++;
      return inner.getSession(id);
    },
    revokeSession: (id, reason, now) => inner.revokeSession(id, reason, now),
    revokeUserSessions: (userId, reason, now, except) =>
      inner.revokeUserSessions(userId, reason, now, except),
    prune: (olderThan) => inner.prune(olderThan),
    listSessions: (userId) => inner.listSessions(userId),
    touchSession: (id, now, interval) => inner.touchSession(id, now, interval),
    deleteUserSessions: (userId) => inner.deleteUserSessions(userId),
  };
  return { store, counts };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<number> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - started;
}

/**
 * A subscriber of the test's own, logged in as ACL user `gh-sub`, retrying every
 * SLOW_RECONNECT_MS: with the user switched off, a killed subscription stays down until the test
 * switches it on again (node-redis reconnects at once after a dropped socket, whatever its
 * strategy, so only a refused reconnection makes an outage long enough to look at).
 */
async function aclSubscriber(kind: ClientKind, port: number): Promise<RedisSubscriber> {
  const url = `redis://gh-sub:gh-sub-password@127.0.0.1:${port}`;
  if (kind === 'ioredis') {
    const sub = new Redis(url, { retryStrategy: () => SLOW_RECONNECT_MS, lazyConnect: true });
    sub.on('error', () => {});
    await sub.connect();
    closers.push(async () => sub.disconnect());
    return sub;
  }
  const sub = createClient({ url, socket: { reconnectStrategy: () => SLOW_RECONNECT_MS } });
  sub.on('error', () => {});
  await sub.connect();
  closers.push(async () => sub.destroy());
  return sub as unknown as RedisSubscriber;
}

interface Instance {
  auth: ReturnType<typeof makeAuth>['auth'];
  /** A second watch on the instance's token store, telling whether its subscription is live. */
  status: { readonly live: boolean };
  /** Every `onLiveChange` that watch heard. */
  changes: boolean[];
  logs: LogLine[];
}

interface Pair {
  one: Instance;
  two: Instance;
  shared: TokenStore;
  counts: { reads: number };
  users: MemoryUserStore;
}

/** Two auth instances on one token store (watch hidden) and one Redis, each its own client. */
async function twoInstances(
  kind: ClientKind,
  url: string,
  options: { subscriberOfTwo?: RedisSubscriber; fanOutOnOne?: boolean } = {},
): Promise<Pair> {
  const { store: shared, counts } = countingStore();
  const users = new MemoryUserStore();
  const prefix = freshPrefix();
  const instance = async (subscriber?: RedisSubscriber, fanOut = true): Promise<Instance> => {
    const client = await openClient(kind, url);
    closers.push(() => client.close());
    const logger = collectingLogger();
    const tokens = fanOut
      ? withRedisRevocations(shared, client.client, {
          prefix,
          logger,
          commandTimeoutMs: TIMEOUT_MS,
          heartbeatMs: HEARTBEAT_MS,
          ...(subscriber ? { subscriber } : {}),
        })
      : shared;
    const { auth } = makeAuth({
      stores: { tokens, users },
      tokens: { keys: [{ kid: 'hs', alg: 'HS256', key: JWT_SECRET }] },
      rateLimits: { login: false, register: false },
      logger,
    });
    closers.push(() => auth.close());
    const changes: boolean[] = [];
    const watch = tokens.watchRevocations?.({
      onRevoked() {},
      onLiveChange: (live) => void changes.push(live),
    });
    if (watch) closers.push(() => watch.close());
    return { auth, status: watch ?? { live: false }, changes, logs: logger.lines };
  };
  const one = await instance(undefined, options.fanOutOnOne ?? true);
  const two = await instance(options.subscriberOfTwo);
  await until(() => two.status.live, 'instance 2 subscribed');
  return { one, two, shared, counts, users };
}

let emails = 0;
/** A user logged in on instance 1, its access token verified (and cached) on instance 2. */
async function sessionOnBoth({ one, two }: Pair) {
  const email = `user-${emails++}@example.com`;
  await one.auth.register({ email, password: PASSWORD, name: 'Ada' });
  const login = await one.auth.login({ email, password: PASSWORD });
  const principal = await two.auth.verifyAccessToken(login.token);
  return { token: login.token, refreshToken: login.refreshToken, ...principal };
}

async function refused(auth: Instance['auth'], token: string): Promise<boolean> {
  try {
    await auth.verifyAccessToken(token);
    return false;
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    return true;
  }
}

/** Verifies on instance 2 (yielding between calls) until refused; the time it took, in ms. */
async function msUntilRefused(two: Instance, token: string, limitMs = 5_000): Promise<number> {
  const started = performance.now();
  while (!(await refused(two.auth, token))) {
    if (performance.now() - started > limitMs) throw new Error('never refused');
    await new Promise((resolve) => setImmediate(resolve));
  }
  return performance.now() - started;
}

/** Store reads made by `count` verifies of `token` on instance 2. */
async function readsPerVerifies(pair: Pair, token: string, count: number): Promise<number> {
  const before = pair.counts.reads;
  for (let i = 0; i < count; i++) await pair.two.auth.verifyAccessToken(token);
  return pair.counts.reads - before;
}

const latencies: string[] = [];

describe.skipIf(SKIP)('revocation fan-out over Redis pub/sub (withRedisRevocations)', () => {
  afterAll(() => {
    if (latencies.length > 0) {
      console.log(`cross-instance revocation latency (ms):\n  ${latencies.join('\n  ')}`);
    }
  });

  for (const kind of CLIENT_KINDS) {
    describe(kind, () => {
      it(`steady state (${kind}): instance 2 caches session state, 200 verifies read the token store 0 times`, async () => {
        const pair = await twoInstances(kind, REDIS_URL!);
        const session = await sessionOnBoth(pair);
        expect(await readsPerVerifies(pair, session.token, 200)).toBe(0);
      });

      it(`logout on instance 1 is refused on instance 2 within 1 s (${kind})`, async () => {
        const pair = await twoInstances(kind, REDIS_URL!);
        const session = await sessionOnBoth(pair);
        expect(await readsPerVerifies(pair, session.token, 5)).toBe(0);
        const started = performance.now();
        await pair.one.auth.logout(session.sessionId);
        const ms = performance.now() - started + (await msUntilRefused(pair.two, session.token));
        latencies.push(`${kind} logout: ${ms.toFixed(1)}`);
        expect(ms).toBeLessThan(1_000);
      });

      it(`logout-all on instance 1 is refused on instance 2 within 1 s, for every session of the user (${kind})`, async () => {
        const pair = await twoInstances(kind, REDIS_URL!);
        const first = await sessionOnBoth(pair);
        const email = `user-${emails - 1}@example.com`;
        const second = await pair.one.auth.login({ email, password: PASSWORD });
        await pair.two.auth.verifyAccessToken(second.token);
        const started = performance.now();
        expect(await pair.one.auth.logoutAll(first.userId)).toBe(2);
        const ms =
          performance.now() -
          started +
          Math.max(
            await msUntilRefused(pair.two, first.token),
            await msUntilRefused(pair.two, second.token),
          );
        latencies.push(`${kind} logout-all: ${ms.toFixed(1)}`);
        expect(ms).toBeLessThan(1_000);
      });

      it(`a stolen refresh token replayed on instance 1 (reuse detection) ends the session on instance 2 within 1 s (${kind})`, async () => {
        const pair = await twoInstances(kind, REDIS_URL!);
        const session = await sessionOnBoth(pair);
        await pair.one.auth.refresh(session.refreshToken);
        const started = performance.now();
        await expect(pair.one.auth.refresh(session.refreshToken)).rejects.toBeInstanceOf(AuthError);
        const ms = performance.now() - started + (await msUntilRefused(pair.two, session.token));
        latencies.push(`${kind} reuse: ${ms.toFixed(1)}`);
        expect(ms).toBeLessThan(1_000);
        expect((await pair.shared.getSession(session.sessionId))?.revokedReason).toBe('reuse');
      });
    });
  }

  it('control: a logout on an instance without the fan-out is still served from instance 2’s cache (the fan-out is what refuses it)', async () => {
    const pair = await twoInstances('ioredis', REDIS_URL!, { fanOutOnOne: false });
    const session = await sessionOnBoth(pair);
    await pair.one.auth.logout(session.sessionId);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await refused(pair.two.auth, session.token)).toBe(false);
  });
});

describe.skipIf(SKIP)('revocation fan-out: faults', () => {
  let server: OwnRedisServer;
  beforeAll(async () => {
    server = await OwnRedisServer.start();
  });
  afterAll(async () => {
    await server?.close();
  });
  afterEach(async () => {
    server.thaw();
    await server.start().catch(() => {});
  });

  async function admin(...args: string[]): Promise<unknown> {
    const connection = new Redis(server.port, '127.0.0.1');
    try {
      return await connection.call(args[0]!, ...args.slice(1));
    } finally {
      connection.disconnect();
    }
  }

  for (const kind of CLIENT_KINDS) {
    it(`subscriber connection killed (CLIENT KILL TYPE pubsub) and its reconnection refused (${kind}): instance 2 reads the token store on every verify until resubscribed, a logout made meanwhile is refused at once, then caching resumes`, async () => {
      await admin('ACL', 'SETUSER', 'gh-sub', 'on', '>gh-sub-password', '~*', '&*', '+@all');
      const subscriber = await aclSubscriber(kind, server.port);
      const pair = await twoInstances(kind, server.url, { subscriberOfTwo: subscriber });
      const session = await sessionOnBoth(pair);
      const other = await sessionOnBoth(pair);
      expect(await readsPerVerifies(pair, other.token, 10)).toBe(0);

      await admin('ACL', 'SETUSER', 'gh-sub', 'off');
      expect(Number(await admin('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toBeGreaterThan(0);
      await until(() => !pair.two.status.live, 'the watch to go down', 2_000);
      expect(await readsPerVerifies(pair, other.token, 10)).toBe(10);
      // Published while instance 2 was not subscribed: lost for it, yet refused at once.
      await pair.one.auth.logout(session.sessionId);
      expect(pair.two.status.live).toBe(false);
      expect(await refused(pair.two.auth, session.token)).toBe(true);

      await admin('ACL', 'SETUSER', 'gh-sub', 'on');
      await until(() => pair.two.status.live, 'resubscribed', 10_000);
      expect(pair.two.changes).toEqual([true, false, true]);
      await pair.two.auth.verifyAccessToken(other.token);
      expect(await readsPerVerifies(pair, other.token, 10)).toBe(0);
      const lines = pair.two.logs.filter((l) =>
        l.message.startsWith('redis revocation subscription'),
      );
      expect(lines.map((l) => l.level)).toEqual(['warn', 'info']);
      // And it hears the next logout again.
      await pair.one.auth.logout(other.sessionId);
      expect(await msUntilRefused(pair.two, other.token)).toBeLessThan(1_000);
    });

    it(`subscriber duplicated from the client is killed (CLIENT KILL TYPE pubsub, ${kind}): the watch goes down, resubscribes by itself, and the next logout is refused on instance 2 within 1 s`, async () => {
      const pair = await twoInstances(kind, server.url);
      const session = await sessionOnBoth(pair);
      expect(Number(await admin('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toBeGreaterThan(0);
      // node-redis is back within milliseconds: look at the transitions, not at a poll.
      await until(() => pair.two.changes.length >= 3 && pair.two.status.live, 'down, then up');
      expect(pair.two.changes).toEqual([true, false, true]);
      await pair.two.auth.verifyAccessToken(session.token);
      await pair.one.auth.logout(session.sessionId);
      expect(await msUntilRefused(pair.two, session.token)).toBeLessThan(1_000);
    });
  }

  for (const kind of CLIENT_KINDS) {
    it(`Redis stopped (${kind}): logout still succeeds and is logged as unpublished, instance 2 reads the store and refuses it at once; Redis back: live again, the missed event republished, logouts heard again`, async () => {
      const pair = await twoInstances(kind, server.url);
      const session = await sessionOnBoth(pair);
      const other = await sessionOnBoth(pair);

      await server.stop();
      await until(() => !pair.two.status.live, 'the watch to go down', 3_000);
      const started = performance.now();
      await pair.one.auth.logout(session.sessionId);
      expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 500);
      expect((await pair.shared.getSession(session.sessionId))?.revokedAt).not.toBeNull();
      const failed = pair.one.logs.find((l) =>
        l.message.startsWith('redis revocation publish failed'),
      );
      expect(failed?.level).toBe('error');
      expect(JSON.stringify(failed?.data)).not.toContain(session.sessionId);
      expect(await refused(pair.two.auth, session.token)).toBe(true);
      expect(await readsPerVerifies(pair, other.token, 5)).toBe(5);

      await server.start();
      await until(() => pair.two.status.live && pair.one.status.live, 'both live again', 10_000);
      await until(
        () =>
          pair.one.logs.some((l) => l.message.startsWith('redis revocation publish works again')),
        'the missed publish to go out',
        5_000,
      );
      await pair.two.auth.verifyAccessToken(other.token);
      expect(await readsPerVerifies(pair, other.token, 5)).toBe(0);
      await pair.one.auth.logout(other.sessionId);
      expect(await msUntilRefused(pair.two, other.token)).toBeLessThan(1_000);
    });

    it(`a frozen Redis (SIGSTOP: the socket stays open, nothing arrives, ${kind}) is caught by the heartbeat: instance 2 reads the store within heartbeatMs + commandTimeoutMs, and caches again once thawed`, async () => {
      const pair = await twoInstances(kind, server.url);
      const session = await sessionOnBoth(pair);
      server.freeze();
      const downAfter = await until(() => !pair.two.status.live, 'the watch to go down', 3_000);
      expect(downAfter).toBeLessThan(HEARTBEAT_MS + TIMEOUT_MS + 300);
      // The store is still there: a revocation written to it directly is honoured at once.
      await pair.shared.revokeSession(session.sessionId, 'test', Date.now());
      expect(await refused(pair.two.auth, session.token)).toBe(true);
      server.thaw();
      await until(() => pair.two.status.live, 'live after the thaw', 5_000);
    });
  }
});

describe.skipIf(SKIP)(
  'withRedisRevocations: the TokenStore conformance suite (with its watch)',
  () => {
    const open = new Map<ClientKind, OpenClient>();
    beforeAll(async () => {
      for (const kind of CLIENT_KINDS) open.set(kind, await openClient(kind, REDIS_URL!));
    });
    afterAll(async () => {
      for (const client of open.values()) await client.close();
    });
    for (const kind of CLIENT_KINDS) {
      describeTokenStore(
        `withRedisRevocations(MemoryTokenStore) on ${kind}`,
        () =>
          withRedisRevocations(countingStore().store, open.get(kind)!.client, {
            prefix: freshPrefix(),
            logger: collectingLogger(),
          }),
        { describe, it },
        { watchRevocations: true },
      );
    }
  },
);

describe.skipIf(SKIP)('withRedisRevocations: configuration', () => {
  let client: OpenClient;
  beforeAll(async () => {
    client = await openClient('ioredis', REDIS_URL!);
  });
  afterAll(async () => {
    await client?.close();
  });

  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return { code: (err as AuthError).code, message: (err as Error).message };
    }
    return null;
  };

  it('refuses a bad option, an unknown option, a non-store and a non-client with INVALID_CONFIG naming it', () => {
    const store = new MemoryTokenStore();
    expect(codeOf(() => withRedisRevocations(store, client.client, { heartbeatMs: 5 }))).toEqual({
      code: 'INVALID_CONFIG',
      message: 'withRedisRevocations: option "heartbeatMs" must be from 100 to 60000 (ms).',
    });
    expect(
      codeOf(() => withRedisRevocations(store, client.client, { channel: 'x' } as never))?.message,
    ).toBe('withRedisRevocations: unknown option "channel".');
    expect(codeOf(() => withRedisRevocations({} as TokenStore, client.client))?.message).toMatch(
      /argument "tokens" must be a TokenStore/,
    );
    expect(codeOf(() => withRedisRevocations(store, {} as never))?.message).toMatch(
      /option "client" must be an ioredis client/,
    );
    expect(
      codeOf(() => withRedisRevocations(store, client.client, { subscriber: {} as never }))
        ?.message,
    ).toMatch(/option "subscriber" must be an ioredis Redis client or a node-redis 5 client/);
  });

  it('a cluster client without a subscriber is refused (a cluster cannot duplicate itself into one subscriber connection)', async () => {
    const node = await startOneNodeCluster();
    const cluster = await openClusterClient('ioredis', node.port);
    try {
      expect(codeOf(() => withRedisRevocations(new MemoryTokenStore(), cluster.client))).toEqual({
        code: 'INVALID_CONFIG',
        message: expect.stringMatching(/option "subscriber" is required with a cluster client/),
      });
    } finally {
      await cluster.close();
      await node.close();
    }
  });

  it('hides the wrapped store’s own watch: events come from Redis only (a Postgres LISTEN would never be opened)', async () => {
    const inner = new MemoryTokenStore();
    let innerWatches = 0;
    const original = inner.watchRevocations.bind(inner);
    inner.watchRevocations = (listener) => {
      innerWatches++;
      return original(listener);
    };
    const tokens = withRedisRevocations(inner, client.client, {
      prefix: freshPrefix(),
      logger: collectingLogger(),
    });
    const heard: unknown[] = [];
    const watch = tokens.watchRevocations!({ onRevoked: (e) => heard.push(e), onLiveChange() {} });
    try {
      await until(() => watch.live, 'live');
      const session: SessionRecord = {
        id: 'b1c9a2f0-0000-4000-8000-000000000001',
        userId: 'u1',
        createdAt: 0,
        expiresAt: 10 ** 13,
        lastUsedAt: 0,
        revokedAt: null,
        revokedReason: null,
      };
      await tokens.createSession(session, 'a'.repeat(64));
      await tokens.revokeSession(session.id, 'logout', 1);
      await until(() => heard.length >= 2, 'the event');
      expect(heard).toEqual([{ kind: 'all' }, { kind: 'session', sessionId: session.id }]);
      expect(innerWatches).toBe(0);
    } finally {
      await watch.close();
    }
  });
});
