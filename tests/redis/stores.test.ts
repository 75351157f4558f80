// What the Redis stores promise beyond the conformance suites: counters shared exactly by
// instances on different client libraries, one atomic script per operation, a TTL on every
// key with the right length, a script cache that survives a flush, namespacing by prefix,
// bounded keys, and options checked at construction.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisStores,
  RedisAttemptStore,
  RedisRateLimitStore,
} from '../../adapters/redis/index.js';
import { AuthError, type LockoutRule } from '../../src/index.js';
import {
  CLIENT_KINDS,
  freshPrefix,
  keysUnder,
  type OpenClient,
  openClient,
  REDIS_URL,
  SKIP,
} from './servers.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = Date.UTC(2030, 0, 1);

function rule(now: number, overrides: Partial<LockoutRule> = {}): LockoutRule {
  return {
    now,
    maxAttempts: 3,
    windowMs: 15 * MINUTE,
    lockMs: 30 * MINUTE,
    backoffFactor: 2,
    maxLockMs: 24 * HOUR,
    ...overrides,
  };
}

function thrown(fn: () => unknown): AuthError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    return err as AuthError;
  }
  throw new Error('expected a throw');
}

describe('Redis store options are checked at construction', () => {
  it('an object that is neither ioredis nor node-redis (a pg.Pool by mistake) is refused: INVALID_CONFIG naming the client', () => {
    const pool = { query: async () => ({ rows: [] }), connect: async () => ({}) };
    for (const make of [
      () => new RedisAttemptStore(pool as never),
      () => new RedisRateLimitStore(pool as never),
      () => createRedisStores(pool as never),
      () => new RedisAttemptStore(undefined as never),
    ]) {
      const err = thrown(make);
      expect(err.code).toBe('INVALID_CONFIG');
      expect(err.message).toMatch(/option "client" must be an ioredis client/);
      expect(err.details).toEqual({ option: 'client' });
    }
  });

  it('bad options are refused with INVALID_CONFIG naming the option', () => {
    const client = { call: async () => null, evalsha: () => null };
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ prefix: 'x'.repeat(101) }, 'prefix', /at most 100 characters/],
      [{ prefix: 7 }, 'prefix', /must be a string/],
      [{ commandTimeoutMs: 0 }, 'commandTimeoutMs', /from 10 to 60000/],
      [{ commandTimeoutMs: 1.5 }, 'commandTimeoutMs', /whole number/],
      [{ lockoutHistoryMs: -1 }, 'lockoutHistoryMs', /from 0 to/],
      [{ logger: console.log }, 'logger', /must be a Logger/],
      [{ prefx: 'typo:' }, 'options', /unknown option "prefx"/],
    ];
    for (const [options, option, message] of cases) {
      const err = thrown(() => new RedisAttemptStore(client, options as never));
      expect([err.code, err.details?.['option']]).toEqual(['INVALID_CONFIG', option]);
      expect(err.message).toMatch(message);
      expect(err.message).toMatch(/^RedisAttemptStore: /);
    }
  });
});

describe.skipIf(SKIP)('Redis stores against a real server', () => {
  const clients = {} as Record<(typeof CLIENT_KINDS)[number], OpenClient>;
  let admin: Redis;
  beforeAll(async () => {
    for (const kind of CLIENT_KINDS) clients[kind] = await openClient(kind, REDIS_URL!);
    admin = new Redis(REDIS_URL!);
  });
  afterAll(async () => {
    for (const kind of CLIENT_KINDS) await clients[kind]?.close();
    admin?.disconnect();
  });

  it('50 parallel wrong-password attempts on one account, split over an ioredis and a node-redis instance, lock it exactly once (no lost counter across clients)', async () => {
    const prefix = freshPrefix();
    const instances = CLIENT_KINDS.map(
      (kind) => new RedisAttemptStore(clients[kind].client, { prefix }),
    );
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const store = instances[i % 2]!;
        const reservation = await store.reserve('login:ada', rule(T0));
        if (!reservation.allowed) return reservation.lockedNow ? 'locked-by-reserve' : 'refused';
        const lockedUntil = await store.recordFailure('login:ada', rule(T0));
        return lockedUntil === null ? 'checked' : 'locked-by-failure';
      }),
    );
    const checked = outcomes.filter((o) => o === 'checked' || o === 'locked-by-failure');
    expect(checked.length).toBe(3);
    expect(outcomes.filter((o) => o.startsWith('locked')).length).toBe(1);
    const stored = await admin.hgetall(`${prefix}attempts:login:ada`);
    expect(stored['lockouts']).toBe('1');
    expect(Number(stored['lockedUntil'])).toBe(T0 + 30 * MINUTE);
  });

  it('60 parallel hits on one IP from two instances on different clients are counted exactly (no lost update)', async () => {
    const prefix = freshPrefix();
    const instances = CLIENT_KINDS.map(
      (kind) => new RedisRateLimitStore(clients[kind].client, { prefix }),
    );
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        instances[i % 2]!.hit('login:203.0.113.7', { now: T0, windowMs: MINUTE, limit: 5 }),
      ),
    );
    expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    expect(results.filter((r) => r.allowed).length).toBe(5);
    expect(await admin.hget(`${prefix}ratelimit:login:203.0.113.7`, 'count')).toBe('60');
  });

  it('a key never lives without a TTL, and each lives as long as it must: a window until it ends, a counter until its window ends, a locked identifier until lockoutHistoryMs after its lock', async () => {
    const prefix = freshPrefix();
    const client = clients.ioredis.client;
    const limits = new RedisRateLimitStore(client, { prefix });
    const attempts = new RedisAttemptStore(client, { prefix, lockoutHistoryMs: 2 * HOUR });
    const pttl = (key: string) => admin.pttl(`${prefix}${key}`);
    const near = (value: number, expected: number) => {
      expect(value).toBeLessThanOrEqual(expected);
      expect(value).toBeGreaterThan(expected - 5_000);
    };

    await limits.hit('login:203.0.113.7', { now: T0, windowMs: MINUTE, limit: 5 });
    near(await pttl('ratelimit:login:203.0.113.7'), MINUTE);
    // 40 s later the same window has 20 s left.
    await limits.hit('login:203.0.113.7', { now: T0 + 40_000, windowMs: MINUTE, limit: 5 });
    near(await pttl('ratelimit:login:203.0.113.7'), 20_000);

    await attempts.reserve('login:ada', rule(T0));
    near(await pttl('attempts:login:ada'), 15 * MINUTE);
    for (let i = 0; i < 3; i++) await attempts.reserve('login:ada', rule(T0));
    near(await pttl('attempts:login:ada'), 30 * MINUTE + 2 * HOUR);
    // After the lock, a new window: the lockout count is kept for the backoff.
    const lockEnd = T0 + 30 * MINUTE;
    await attempts.reserve('login:ada', rule(lockEnd));
    near(await pttl('attempts:login:ada'), 15 * MINUTE + 2 * HOUR);
    // A failure taking the lock sets it too.
    for (let i = 0; i < 2; i++) await attempts.reserve('login:eve', rule(T0));
    await attempts.reserve('login:eve', rule(T0));
    expect(await attempts.recordFailure('login:eve', rule(T0))).toBe(T0 + 30 * MINUTE);
    near(await pttl('attempts:login:eve'), 30 * MINUTE + 2 * HOUR);

    const all = await keysUnder(admin, prefix);
    expect(all.size).toBe(3);
    for (const ttl of all.values()) expect(ttl).toBeGreaterThan(0);
  });

  it('each operation is one EVALSHA on its one declared key: no read-then-write from the app', async () => {
    const everyOperation = async (prefix: string) => {
      for (const kind of CLIENT_KINDS) {
        const attempts = new RedisAttemptStore(clients[kind].client, { prefix });
        const limits = new RedisRateLimitStore(clients[kind].client, { prefix });
        await attempts.reserve(`login:${kind}`, rule(T0));
        await attempts.recordFailure(`login:${kind}`, rule(T0));
        await attempts.reset(`login:${kind}`);
        await limits.hit(`login:${kind}`, { now: T0, windowMs: MINUTE, limit: 5 });
        await limits.reset(`login:${kind}`);
      }
    };
    // Once, so that Redis holds every script (a first call after a flush goes by EVAL).
    await everyOperation(freshPrefix());
    const prefix = freshPrefix();
    const monitor = await admin.monitor();
    const fromClients: string[][] = [];
    const insideScripts: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (!args.some((a) => a.startsWith(prefix))) return;
      (source === 'lua' ? insideScripts : fromClients).push(args);
    });
    try {
      await everyOperation(prefix);
      // MONITOR reports commands in order: once this marker is seen, all the above are in.
      const marker = `${prefix}marker`;
      const seen = new Promise<void>((resolve) =>
        monitor.on('monitor', (_t: string, args: string[]) => {
          if (args.includes(marker)) resolve();
        }),
      );
      await admin.exists(marker);
      await seen;
    } finally {
      monitor.disconnect();
    }
    const calls = fromClients.filter((args) => !args.includes(`${prefix}marker`));
    expect(calls.map((args) => [args[0]!.toUpperCase(), args[2], args[3]])).toEqual(
      CLIENT_KINDS.flatMap((kind) => [
        ...Array.from({ length: 3 }, () => ['EVALSHA', '1', `${prefix}attempts:login:${kind}`]),
        ...Array.from({ length: 2 }, () => ['EVALSHA', '1', `${prefix}ratelimit:login:${kind}`]),
      ]),
    );
    // The reads and writes ran inside the scripts, on the declared key only.
    expect(insideScripts.length).toBeGreaterThan(0);
    for (const args of insideScripts) expect(args[1]!.startsWith(prefix)).toBe(true);
  });

  it('a flushed script cache (SCRIPT FLUSH, as after a Redis restart or failover) is reloaded: the caller never sees NOSCRIPT', async () => {
    for (const kind of CLIENT_KINDS) {
      const prefix = freshPrefix();
      const limits = new RedisRateLimitStore(clients[kind].client, { prefix });
      const attempts = new RedisAttemptStore(clients[kind].client, { prefix });
      await limits.hit('ip', { now: T0, windowMs: MINUTE, limit: 5 });
      await admin.script('FLUSH');
      expect((await limits.hit('ip', { now: T0, windowMs: MINUTE, limit: 5 })).count).toBe(2);
      expect(await attempts.reserve('login:ada', rule(T0))).toEqual({ allowed: true, attempts: 1 });
    }
  });

  it('two apps with different prefixes on one Redis never share a counter, and the default prefix is "gatehouse:"', async () => {
    const [a, b] = [freshPrefix(), freshPrefix()];
    const limitsA = new RedisRateLimitStore(clients.ioredis.client, { prefix: a });
    const limitsB = new RedisRateLimitStore(clients['node-redis'].client, { prefix: b });
    for (let i = 0; i < 4; i++) await limitsA.hit('ip', { now: T0, windowMs: MINUTE, limit: 3 });
    expect((await limitsB.hit('ip', { now: T0, windowMs: MINUTE, limit: 3 })).count).toBe(1);

    const key = `login:default-prefix-${freshPrefix()}`;
    const byDefault = new RedisAttemptStore(clients.ioredis.client);
    await byDefault.reserve(key, rule(T0));
    expect(await admin.hget(`gatehouse:attempts:${key}`, 'attempts')).toBe('1');
    await byDefault.reset(key);
    expect(await admin.exists(`gatehouse:attempts:${key}`)).toBe(0);
  });

  it('a 10 000-character key is stored under its SHA-256 (no input makes a huge Redis key)', async () => {
    const prefix = freshPrefix();
    const long = `login:${'a'.repeat(10_000)}`;
    const limits = new RedisRateLimitStore(clients['node-redis'].client, { prefix });
    await limits.hit(long, { now: T0, windowMs: MINUTE, limit: 3 });
    expect((await limits.hit(long, { now: T0, windowMs: MINUTE, limit: 3 })).count).toBe(2);
    const digest = createHash('sha256').update(long, 'utf8').digest('hex');
    expect([...(await keysUnder(admin, prefix)).keys()]).toEqual([
      `${prefix}ratelimit:sha256:${digest}`,
    ]);
  });

  it('createRedisStores shares one client between both stores under one prefix', async () => {
    const prefix = freshPrefix();
    const { stores } = createRedisStores(clients['node-redis'].client, { prefix });
    await stores.rateLimits.hit('login:198.51.100.1', { now: T0, windowMs: MINUTE, limit: 3 });
    await stores.attempts.reserve('login:ada', rule(T0));
    expect([...(await keysUnder(admin, prefix)).keys()].sort()).toEqual([
      `${prefix}attempts:login:ada`,
      `${prefix}ratelimit:login:198.51.100.1`,
    ]);
  });
});
