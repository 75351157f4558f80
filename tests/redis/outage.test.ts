// Redis unreachable means fail closed: login answers 503 SERVER_ERROR before any password is
// checked (nothing is evaluated without its counter), with one clear log line, and service
// comes back without a restart as soon as Redis answers. On a redis-server of the test's own
// (stopped, restarted on the same port, or frozen with SIGSTOP), through real createAuth +
// Express and Fastify apps on 127.0.0.1, with both client libraries.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gatehouseExpress } from '../../adapters/express/index.js';
import { gatehouseFastify } from '../../adapters/fastify/index.js';
import { createRedisStores } from '../../adapters/redis/index.js';
import { AuthError, ERROR_CODES, type Logger } from '../../src/index.js';
import { collectingLogger, makeAuth, PASSWORD, registerUser } from '../helpers/auth.js';
import {
  type ClientKind,
  freshPrefix,
  type OpenClient,
  OwnRedisServer,
  openClient,
  SKIP,
} from './servers.js';

const TIMEOUT_MS = 400;
const GENERIC_503_BODY = {
  success: false,
  error: ERROR_CODES.SERVER_ERROR.message,
  code: 'SERVER_ERROR',
};

type Framework = 'Express' | 'Fastify';

let closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  closers = [];
});

async function listen(framework: Framework, auth: ReturnType<typeof makeAuth>['auth']) {
  if (framework === 'Express') {
    const gate = gatehouseExpress(auth);
    const app = express();
    app.use(gate.router);
    app.use(gate.notFound);
    app.use(gate.errorHandler);
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const app = Fastify();
  await app.register(gatehouseFastify, { auth });
  closers.push(() => app.close());
  return app.listen({ port: 0, host: '127.0.0.1' });
}

/** A gatehouse app whose counters live in Redis, users in memory. */
async function appOnRedis(
  framework: Framework,
  client: OpenClient,
  storeLogger: Logger,
): Promise<{
  login(password?: string): Promise<Answer>;
  verifyCalls(): number;
  appLog: ReturnType<typeof makeAuth>['logs'];
}> {
  const redis = createRedisStores(client.client, {
    prefix: freshPrefix(),
    commandTimeoutMs: TIMEOUT_MS,
    logger: storeLogger,
  });
  const made = makeAuth({
    stores: redis.stores,
    rateLimits: { login: { limit: 10_000, window: '1m' } },
  });
  const user = await registerUser(made.auth);
  const url = await listen(framework, made.auth);
  return {
    login: (password = PASSWORD) => post(`${url}/api/auth/login`, { email: user.email, password }),
    verifyCalls: () => made.hasher.verifyCalls,
    appLog: made.logs,
  };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  ms: number;
}

async function post(url: string, payload: unknown): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body, ms: performance.now() - started };
}

/** Logs in until it answers 200 (a client reconnecting), for at most `withinMs`. */
async function loginUntilServed(login: () => Promise<Answer>, withinMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const answer = await login();
    if (answer.status === 200) return performance.now() - started;
    expect(answer.status).toBe(503);
    if (performance.now() - started > withinMs) throw new Error(`still ${answer.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(SKIP)('Redis unreachable: fail closed, then recover without a restart', () => {
  let server: OwnRedisServer;
  beforeAll(async () => {
    server = await OwnRedisServer.start();
  });
  afterAll(async () => {
    await server?.close();
  });
  afterEach(async () => {
    server.thaw();
    // Every test starts with the server up.
    await server.start().catch(() => {});
  });

  const cases: [Framework, ClientKind][] = [
    ['Express', 'ioredis'],
    ['Fastify', 'node-redis'],
  ];
  for (const [framework, kind] of cases) {
    it(`Redis stopped mid-run (${framework}, ${kind}): login answers 503 SERVER_ERROR without checking any password, one "redis unavailable" line names the cause, and login works again without a restart once Redis is back`, async () => {
      const client = await openClient(kind, server.url);
      closers.push(() => client.close());
      const storeLog = collectingLogger();
      const app = await appOnRedis(framework, client, storeLog);
      expect((await app.login()).status).toBe(200);
      expect((await app.login('wrong password')).status).toBe(401);

      await server.stop();
      const checkedBefore = app.verifyCalls();
      for (let i = 0; i < 5; i++) {
        const answer = await app.login(i % 2 === 0 ? PASSWORD : 'wrong password');
        expect([answer.status, answer.body]).toEqual([503, GENERIC_503_BODY]);
        expect(answer.ms).toBeLessThan(TIMEOUT_MS + 1_000);
      }
      // Nothing evaluated without its counter: not one password check while Redis was down.
      expect(app.verifyCalls()).toBe(checkedBefore);
      const down = storeLog.lines.filter((l) => l.level === 'error');
      expect(down.map((l) => l.message)).toEqual(['redis unavailable']);
      expect(String(down[0]!.data?.['error'])).not.toBe('');
      // The app's own 503 log names Redis in the cause, for apps that pass no logger to the store.
      expect(JSON.stringify(app.appLog)).toContain('Redis unavailable');

      await server.start();
      const recoveredInMs = await loginUntilServed(app.login, 10_000);
      expect(recoveredInMs).toBeLessThan(10_000);
      expect(storeLog.lines.map((l) => l.message)).toContain('redis is back');
      // Counting again: the fresh server's counter sees the next failure.
      expect((await app.login('wrong password')).status).toBe(401);
    });
  }

  it('a frozen Redis (SIGSTOP: connected, never answering) cannot hang a login, even with ioredis default options (offline queue, 20 retries): 503 within commandTimeoutMs', async () => {
    const client = await openClient('ioredis', server.url, { defaults: true });
    closers.push(() => client.close());
    const app = await appOnRedis('Express', client, collectingLogger());
    expect((await app.login()).status).toBe(200);

    server.freeze();
    const answer = await app.login();
    expect([answer.status, answer.body]).toEqual([503, GENERIC_503_BODY]);
    expect(answer.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(answer.ms).toBeLessThan(TIMEOUT_MS + 1_000);

    server.thaw();
    expect(await loginUntilServed(app.login, 5_000)).toBeLessThan(5_000);
  });

  for (const kind of ['ioredis', 'node-redis'] as const) {
    it(`Redis stopped with ${kind}'s default offline queue: login answers 503 within commandTimeoutMs instead of waiting in the queue for a reconnect`, async () => {
      const client = await openClient(kind, server.url, { defaults: true });
      closers.push(() => client.close());
      const app = await appOnRedis('Fastify', client, collectingLogger());
      expect((await app.login()).status).toBe(200);

      await server.stop();
      for (let i = 0; i < 3; i++) {
        const answer = await app.login();
        expect([answer.status, answer.body]).toEqual([503, GENERIC_503_BODY]);
        expect(answer.ms).toBeLessThan(TIMEOUT_MS + 1_000);
      }
      await server.start();
      expect(await loginUntilServed(app.login, 10_000)).toBeLessThan(10_000);
    });
  }

  for (const kind of ['ioredis', 'node-redis'] as const) {
    it(`every operation of both stores fails closed while Redis is down (${kind}): SERVER_ERROR 503 with a cause naming Redis, never a default answer`, async () => {
      const client = await openClient(kind, server.url);
      closers.push(() => client.close());
      const { stores } = createRedisStores(client.client, {
        prefix: freshPrefix(),
        commandTimeoutMs: TIMEOUT_MS,
      });
      const rule = {
        now: Date.UTC(2030, 0, 1),
        maxAttempts: 3,
        windowMs: 60_000,
        lockMs: 60_000,
        backoffFactor: 1,
        maxLockMs: 60_000,
      };
      await server.stop();
      const operations: [string, () => Promise<unknown>][] = [
        [
          'hit',
          () => stores.rateLimits.hit('login:ip', { now: rule.now, windowMs: 60_000, limit: 5 }),
        ],
        ['rate limit reset', () => stores.rateLimits.reset('login:ip')],
        ['reserve', () => stores.attempts.reserve('login:ada', rule)],
        ['recordFailure', () => stores.attempts.recordFailure('login:ada', rule)],
        ['attempts reset', () => stores.attempts.reset('login:ada')],
      ];
      for (const [name, operation] of operations) {
        const err = await operation().then(
          () => new Error(`${name} answered while Redis was down`),
          (e: unknown) => e,
        );
        expect(err, name).toBeInstanceOf(AuthError);
        expect([(err as AuthError).code, (err as AuthError).status], name).toEqual([
          'SERVER_ERROR',
          503,
        ]);
        expect(String(((err as AuthError).cause as Error).message), name).toMatch(
          /^Redis unavailable: /,
        );
      }
    });
  }

  it('node-redis with its offline queue: a rate-limit hit that timed out while Redis was down is not counted when the connection comes back (the queued command is dropped)', async () => {
    const client = await openClient('node-redis', server.url, { defaults: true });
    closers.push(() => client.close());
    const prefix = freshPrefix();
    const { stores } = createRedisStores(client.client, { prefix, commandTimeoutMs: TIMEOUT_MS });
    const hit = (key: string) => stores.rateLimits.hit(key, { now: 0, windowMs: 60_000, limit: 5 });

    await server.stop();
    await expect(hit('login:203.0.113.7')).rejects.toMatchObject({
      code: 'SERVER_ERROR',
      status: 503,
    });
    await server.start();
    const started = performance.now();
    for (;;) {
      const answered = await hit('login:probe').then(
        () => true,
        () => false,
      );
      if (answered) break;
      expect(performance.now() - started).toBeLessThan(10_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const admin = new Redis(server.port, '127.0.0.1');
    closers.push(async () => admin.disconnect());
    expect(await admin.exists(`${prefix}ratelimit:login:probe`)).toBe(1);
    expect(await admin.exists(`${prefix}ratelimit:login:203.0.113.7`)).toBe(0);
  });
});
