// The examples' start-up failures with REDIS_URL: one line naming the variable, the host and port
// and the cause; exit 1 within seconds; no stack trace, no password. The refused port and the
// unknown host need no server; a wrong password needs redis-server (REDIS_URL set by
// scripts/with-redis.sh, which also exports REDIS_SERVER_BIN) and is skipped without it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { OwnRedisServer } from '../redis/servers.js';
import { freePort, runExampleToExit } from './example-process.js';

const APPS = ['express-api', 'fastify-api'] as const;
const PASSWORD = 'r3dis-s3cret-pw';
const dirs: string[] = [];

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-redis-startup-'));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function expectOneLineFailure(exit: Awaited<ReturnType<typeof runExampleToExit>>, line: RegExp) {
  expect(exit.timedOut).toBe(false);
  expect(exit.code).toBe(1);
  const lines = exit.output.split('\n');
  expect(lines.filter((l) => l.startsWith('REDIS_URL:'))).toHaveLength(1);
  expect(lines.find((l) => l.startsWith('REDIS_URL:'))).toMatch(line);
  expect(exit.output).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(exit.output).not.toContain(PASSWORD);
}

describe.each(APPS)(
  '%s start-up failures name REDIS_URL, the host and port, and the cause',
  (app) => {
    it('a refused Redis port exits 1 with "REDIS_URL: connection refused at 127.0.0.1:<port> (ECONNREFUSED)" and never prints the password', async () => {
      const port = await freePort();
      const exit = await runExampleToExit(
        app,
        { DATA_DIR: dataDir(), REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${port}` },
        40_000,
      );
      expectOneLineFailure(
        exit,
        new RegExp(`^REDIS_URL: connection refused at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)$`),
      );
    }, 50_000);

    it('an unresolvable Redis host exits 1 with "REDIS_URL: host not found at <host>:6379 (ENOTFOUND)"', async () => {
      const exit = await runExampleToExit(
        app,
        { DATA_DIR: dataDir(), REDIS_URL: `redis://:${PASSWORD}@no-such-host.invalid` },
        40_000,
      );
      expectOneLineFailure(
        exit,
        /^REDIS_URL: host not found at no-such-host\.invalid:6379 \((ENOTFOUND|EAI_AGAIN)\)$/,
      );
    }, 50_000);

    it('a URL that is not redis:// is refused before anything starts, the value masked', async () => {
      const exit = await runExampleToExit(
        app,
        { DATA_DIR: dataDir(), REDIS_URL: `http://user:${PASSWORD}@127.0.0.1:6379` },
        40_000,
      );
      expect(exit.code).toBe(1);
      expect(exit.output).toContain('REDIS_URL: must be a redis:// or rediss:// URL');
      expect(exit.output).toContain('[redacted]');
      expect(exit.output).not.toContain(PASSWORD);
    }, 50_000);

    describe.skipIf(!process.env.REDIS_URL)('against a redis-server with a password', () => {
      it('a wrong Redis password exits 1 with "REDIS_URL: authentication failed at ... (WRONGPASS)" and never prints it', async () => {
        const server = await OwnRedisServer.start();
        try {
          // Set once the server answers (its readiness probe sends no password).
          const admin = new Redis(server.url);
          await admin.config('SET', 'requirepass', `right-${PASSWORD}`);
          admin.disconnect();
          const exit = await runExampleToExit(
            app,
            { DATA_DIR: dataDir(), REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${server.port}` },
            40_000,
          );
          expectOneLineFailure(
            exit,
            new RegExp(
              `^REDIS_URL: authentication failed at 127\\.0\\.0\\.1:${server.port} \\(WRONGPASS\\)$`,
            ),
          );
        } finally {
          await server.close();
        }
      }, 50_000);
    });
  },
);
