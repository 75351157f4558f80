import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, runExampleToExit, startExample } from './example-process.js';

// The examples' start-up failures with DATABASE_URL: one line naming the variable, the host and
// port and the cause; exit 1 within seconds; no stack trace, no password. The refused port and the
// unknown host need no server; a wrong password, an unknown database and the printed next steps
// need a real PostgreSQL server in DATABASE_URL (CI has one) and are skipped without it.

const APPS = ['express-api', 'fastify-api'] as const;
const SERVER_URL = process.env.DATABASE_URL || undefined;
const PASSWORD = 'sup3r-s3cret-pw';
const dirs: string[] = [];

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-startup-'));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Exit 1, the expected single line on its own, no stack trace and no password anywhere. */
function expectOneLineFailure(
  exit: Awaited<ReturnType<typeof runExampleToExit>>,
  line: RegExp,
  password: string,
) {
  expect(exit.timedOut).toBe(false);
  expect(exit.code).toBe(1);
  expect(exit.ms).toBeLessThan(20_000);
  const lines = exit.output.split('\n');
  expect(lines.filter((l) => l.startsWith('DATABASE_URL:'))).toHaveLength(1);
  expect(lines.find((l) => l.startsWith('DATABASE_URL:'))).toMatch(line);
  expect(exit.output).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(exit.output).not.toContain('technical difficulties');
  expect(exit.output).not.toContain(password);
}

/** The same server as `url`, with a changed password or database. */
function derive(url: string, change: { password?: string; database?: string }): string {
  const u = new URL(url);
  if (change.password !== undefined) u.password = change.password;
  if (change.database !== undefined) u.pathname = `/${change.database}`;
  return u.toString();
}

describe.each(APPS)(
  '%s start-up failures name DATABASE_URL, the host and port, and the cause',
  (app) => {
    it('a refused port (nothing listening) exits 1 with "DATABASE_URL: connection refused at 127.0.0.1:<port> (ECONNREFUSED)"', async () => {
      const port = await freePort();
      const exit = await runExampleToExit(
        app,
        { DATA_DIR: dataDir(), DATABASE_URL: `postgres://u:${PASSWORD}@127.0.0.1:${port}/db` },
        30_000,
      );
      expectOneLineFailure(
        exit,
        new RegExp(
          `^DATABASE_URL: connection refused at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)$`,
        ),
        PASSWORD,
      );
    }, 40_000);

    it('an unresolvable host exits 1 with "DATABASE_URL: host not found at <host>:5432 (ENOTFOUND)"', async () => {
      // .invalid never resolves (RFC 6761): the lookup fails without any network traffic out.
      const exit = await runExampleToExit(
        app,
        { DATA_DIR: dataDir(), DATABASE_URL: `postgres://u:${PASSWORD}@no-such-host.invalid/db` },
        30_000,
      );
      expectOneLineFailure(
        exit,
        /^DATABASE_URL: host not found at no-such-host\.invalid:5432 \((ENOTFOUND|EAI_AGAIN)\)$/,
        PASSWORD,
      );
    }, 40_000);

    describe.skipIf(!SERVER_URL)('against the PostgreSQL server of DATABASE_URL', () => {
      it('a wrong password exits 1 with "DATABASE_URL: authentication failed for user ... (28P01)" and never prints it', async () => {
        const url = new URL(SERVER_URL!);
        const wrong = `wrong-${PASSWORD}`;
        const exit = await runExampleToExit(
          app,
          { DATA_DIR: dataDir(), DATABASE_URL: derive(SERVER_URL!, { password: wrong }) },
          30_000,
        );
        expectOneLineFailure(
          exit,
          new RegExp(
            `^DATABASE_URL: authentication failed for user "${decodeURIComponent(url.username)}" at ${url.hostname}:${url.port || '5432'} \\(28P01\\)$`,
          ),
          wrong,
        );
      }, 40_000);

      it('an unknown database exits 1 with "DATABASE_URL: database "<name>" does not exist at host:port (3D000)"', async () => {
        const url = new URL(SERVER_URL!);
        const name = `gatehouse_missing_${Date.now()}`;
        const exit = await runExampleToExit(
          app,
          { DATA_DIR: dataDir(), DATABASE_URL: derive(SERVER_URL!, { database: name }) },
          30_000,
        );
        expectOneLineFailure(
          exit,
          new RegExp(
            `^DATABASE_URL: database "${name}" does not exist at ${url.hostname}:${url.port || '5432'} \\(3D000\\)$`,
          ),
          decodeURIComponent(url.password) || PASSWORD,
        );
      }, 40_000);

      it('the printed next steps work: the register and login commands succeed and no demo account is offered', async () => {
        const running = await startExample(app, { DATABASE_URL: SERVER_URL! });
        try {
          await expect
            .poll(() => running.output(), { timeout: 10_000 })
            .toContain('Stop with Ctrl+C.');
          const out = running.output();
          expect(out).not.toContain('Demo accounts');
          for (const demo of ['user@example.com', 'admin@example.com'])
            expect(out).not.toContain(demo);
          const commands = [
            ...out.matchAll(
              /curl -s -X POST (\S+) -H 'content-type: application\/json' -d '(\{[^']*\})'/g,
            ),
          ];
          const register = commands.find(([, url]) => url!.endsWith('/api/auth/register'));
          const login = commands.find(([, url]) => url!.endsWith('/api/auth/login'));
          expect(register).toBeDefined();
          expect(login).toBeDefined();
          const post = (url: string, body: string) =>
            fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          expect((await post(register![1]!, register![2]!)).status).toBe(201);
          const res = await post(login![1]!, login![2]!);
          expect(res.status).toBe(200);
          const token = ((await res.json()) as { token: string }).token;
          const me = await fetch(`${running.url}/api/auth/me`, {
            headers: { authorization: `Bearer ${token}` },
          });
          expect(me.status).toBe(200);
        } finally {
          await running.stop();
        }
      }, 60_000);
    });
  },
);

it.runIf(!SERVER_URL)(
  'DATABASE_URL is not set: the wrong-password, unknown-database and next-steps tests above were skipped (CI sets it)',
  () => {
    expect(SERVER_URL).toBeUndefined();
  },
);
