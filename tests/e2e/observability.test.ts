// The operations endpoints of both example apps (docs/observability.md): /healthz, /readyz and,
// with METRICS=1, the Prometheus scrape at /metrics, with gatehouse's metrics, the HTTP server
// duration and the database pool's use; and the alert rules of the docs checked against a real
// scrape.
//
// - In process: both apps on one PGlite database (no METRICS): readiness of the mail outbox,
//   check timeouts against a server that never answers, one check run for a burst of probes.
// - As processes on the embedded database with METRICS=1: the scrape after a login, a failed
//   login and a lockout.
// - On a real PostgreSQL server (DATABASE_URL, or a server of the test's own when the binaries are
//   installed) behind a cuttable proxy: /readyz 503 naming the database while it is unreachable,
//   the pool gauges, and every metric of the alert rules in a scrape.
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../../adapters/postgres/index.js';
import { ConfigError, loadConfig } from '../../examples/common/env.js';
import { createReadiness, MAIL_FAILING } from '../../examples/common/health.js';
import { createLogger } from '../../examples/common/logger.js';
import { openRedis } from '../../examples/common/redis.js';
import { HTTP_DURATION_BUCKETS } from '../../examples/common/telemetry.js';
import { cuttableProxy } from '../helpers/cuttable-proxy.js';
import {
  type ExampleApps,
  prepareExampleDatabase,
  startExampleApps,
} from '../helpers/example-apps.js';
import { OwnRedisServer, REDIS_SERVER_BIN } from '../redis/servers.js';
import { type PostgresServer, startPostgres } from '../reliability/postgres.js';
import { type RunningExample, request, startExample } from './example-process.js';

const PASSWORD = 'observant heron 42 lantern';

// ---------------------------------------------------------------------------------------------
// The Prometheus text format, read as Prometheus reads it.

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseScrape(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!;
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples of `name` whose labels include `match`. */
function total(samples: Sample[], name: string, match: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

async function scrape(base: string): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const text = await res.text();
  return { text, samples: parseScrape(text) };
}

// ---------------------------------------------------------------------------------------------
// The alert rules of docs/observability.md: the metric and label names their expressions use.

/** Labels Prometheus adds to every series at scrape time (not in the exposition). */
const TARGET_LABELS = new Set(['job', 'instance']);

function alertRules(): { alert: string; metrics: string[]; labels: string[] }[] {
  const doc = readFileSync('docs/observability.md', 'utf8');
  const section = doc.split('\n## Alert rules\n')[1]?.split('\n## ')[0] ?? '';
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (!yaml) throw new Error('docs/observability.md: no ```yaml block under "## Alert rules"');
  return yaml
    .split(/\n\s*- alert: /)
    .slice(1)
    .map((block) => {
      const alert = block.split('\n')[0]!.trim();
      const expr = /expr: \|?\n?([\s\S]*?)\n\s*for: /.exec(block)?.[1] ?? '';
      // Metric names: outside label matchers `{...}` and groupings `by (...)`.
      const bare = expr.replace(/\{[^}]*\}/g, ' ').replace(/\b(?:by|without)\s*\([^)]*\)/g, ' ');
      const metrics = [...new Set(bare.match(/\b(?:http|db|gatehouse)_[a-z0-9_]+\b/g) ?? [])];
      const selectors = [...expr.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!).join(',');
      const grouping = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].map((m) => m[1]!);
      const labels = [
        ...new Set(
          [
            ...[...selectors.matchAll(/([a-z_][a-z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]!),
            ...grouping.flatMap((g) => g.split(',').map((l) => l.trim())),
          ].filter((l) => l !== ''),
        ),
      ];
      return { alert, metrics, labels };
    });
}

// ---------------------------------------------------------------------------------------------
// A TCP server that accepts connections and never answers: a database or network that hangs.

async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// ---------------------------------------------------------------------------------------------

describe('METRICS in the environment', () => {
  it('is off by default and takes 1/0/true/false', () => {
    expect(loadConfig({}).METRICS).toBe(false);
    expect(loadConfig({ METRICS: '1' }).METRICS).toBe(true);
    expect(loadConfig({ METRICS: 'true' }).METRICS).toBe(true);
    expect(loadConfig({ METRICS: '0' }).METRICS).toBe(false);
    expect(loadConfig({ METRICS: '' }).METRICS).toBe(false);
  });

  it('METRICS=yes is refused at start with a message naming METRICS', () => {
    expect(() => loadConfig({ METRICS: 'yes' })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS: 'yes' })).toThrow(/^\s+METRICS: .*\(got "yes"\)$/m);
  });
});

describe('in process: both apps on one PGlite database, without METRICS', () => {
  let lite: PGlite;
  let apps: ExampleApps;

  beforeAll(async () => {
    lite = new PGlite();
    await prepareExampleDatabase(lite);
    apps = await startExampleApps({ client: lite, embedded: false, close: () => lite.close() });
  }, 60_000);

  afterAll(async () => {
    await apps?.close();
  });

  afterEach(async () => {
    await lite.query('DELETE FROM mail_outbox', []);
  });

  const bases = () => [apps.urls.express, apps.urls.fastify];
  const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

  /** A row of the outbox as the worker leaves it: waiting (in backoff), given up or delivered. */
  async function outboxRow(state: 'waiting' | 'given-up' | 'delivered', minutes: number) {
    const at = minutesAgo(minutes);
    await lite.query(
      `INSERT INTO mail_outbox (id, kind, to_address, subject, body_text, body_html, attempts,
         next_attempt_at, created_at, delivered_at, failed_at, last_error)
       VALUES ($1, 'password_reset', 'someone@example.com', 's', 't', 'h', $2, $3, $4, $5, $6, $7)`,
      [
        randomUUID(),
        state === 'waiting' ? 3 : 8,
        // In backoff for a day: the apps' own worker leaves it alone.
        new Date(Date.now() + 86_400_000).toISOString(),
        at,
        state === 'delivered' ? at : null,
        state === 'given-up' ? at : null,
        state === 'delivered' ? null : 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:2525',
      ],
    );
  }

  async function readyz() {
    return Promise.all(bases().map((base) => request(`${base}/readyz`)));
  }

  it('/healthz answers 200 { status: "ok" } on both apps, without a token, never cached', async () => {
    for (const base of bases()) {
      const res = await request(`${base}/healthz`);
      expect(res).toMatchObject({ status: 200, body: { success: true, status: 'ok' } });
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('/readyz answers 200 with the database and the mail outbox ok on both apps', async () => {
    for (const res of await readyz()) {
      expect(res).toMatchObject({
        status: 200,
        body: { success: true, status: 'ready', checks: { database: 'ok', mail: 'ok' } },
      });
    }
  });

  it('/metrics without METRICS=1 answers 404 with the contract body on both apps', async () => {
    for (const base of bases()) {
      const res = await request(`${base}/metrics`);
      expect(res).toMatchObject({ status: 404, body: { success: false, code: 'NOT_FOUND' } });
    }
  });

  it('a mail stuck in the outbox for 20 minutes (a stalled worker) makes /readyz 503 naming mail', async () => {
    await outboxRow('waiting', 20);
    for (const res of await readyz()) {
      expect(res).toMatchObject({
        status: 503,
        body: {
          success: false,
          code: 'SERVER_ERROR',
          error: 'Not ready: mail failing.',
          checks: { database: 'ok', mail: 'failing' },
        },
      });
    }
    // The cause is in the log, once per change of state; the address never is.
    const lines = apps.lines.filter((l) => l.msg === 'readiness: dependency failing');
    expect(lines.at(-1)).toMatchObject({ dependency: 'mail', state: 'failing' });
    expect(JSON.stringify(lines)).not.toContain('someone@example.com');
  });

  it('a mail waiting 5 minutes (within the retries) keeps /readyz 200', async () => {
    await outboxRow('waiting', 5);
    for (const res of await readyz()) expect(res.status).toBe(200);
  });

  it(`${MAIL_FAILING.givenUp} mails given up and none delivered in 15 minutes (SMTP down) make /readyz 503 naming mail; one delivery since makes it ready again`, async () => {
    for (let i = 0; i < MAIL_FAILING.givenUp; i++) await outboxRow('given-up', 2 + i);
    for (const res of await readyz()) {
      expect(res).toMatchObject({ status: 503, body: { checks: { mail: 'failing' } } });
    }
    await outboxRow('delivered', 1);
    for (const res of await readyz()) expect(res.status).toBe(200);
    expect(
      apps.lines.filter((l) => l.msg === 'readiness: dependency answers again').at(-1),
    ).toMatchObject({ dependency: 'mail' });
  });

  it('a few bounced addresses, or failures older than 15 minutes, keep /readyz 200', async () => {
    for (let i = 1; i < MAIL_FAILING.givenUp; i++) await outboxRow('given-up', i);
    for (let i = 0; i < 5; i++) await outboxRow('given-up', 20 + i);
    for (const res of await readyz()) expect(res.status).toBe(200);
  });

  it('a database that accepts connections but never answers: the check ends as "timeout" within its timeout, not hanging the probe', async () => {
    const silent = await silentServer();
    const pool = new pg.Pool({
      host: '127.0.0.1',
      port: silent.port,
      user: 'u',
      database: 'd',
      connectionTimeoutMillis: 10_000,
    });
    pool.on('error', () => {});
    try {
      const lines: Record<string, unknown>[] = [];
      const readiness = createReadiness({
        database: pool,
        mail: true,
        logger: createLogger('info', (line) => lines.push(JSON.parse(line))),
        timeoutMs: 300,
      });
      const started = performance.now();
      const report = await readiness.check();
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(report).toEqual({ ready: false, checks: { database: 'timeout', mail: 'unknown' } });
      expect(lines).toEqual([
        expect.objectContaining({
          msg: 'readiness: dependency failing',
          dependency: 'database',
          state: 'timeout',
        }),
      ]);
    } finally {
      await silent.close();
      await pool.end().catch(() => {});
    }
  });

  // The example's own Redis client (examples/common/redis.ts: no offline queue) on a redis-server
  // of the test's own; skipped only where redis-server is not installed.
  it.skipIf(!existsSync(REDIS_SERVER_BIN))(
    'Redis frozen (SIGSTOP) makes the redis check "timeout", stopped makes it "failing" at once, and it is ok again once Redis is back',
    async () => {
      const server = await OwnRedisServer.start();
      const redis = await openRedis(server.url, createLogger('silent'));
      try {
        const readiness = createReadiness({
          database: lite,
          redis: redis.client,
          mail: false,
          logger: createLogger('silent'),
          timeoutMs: 500,
        });
        expect(await readiness.check()).toEqual({
          ready: true,
          checks: { database: 'ok', redis: 'ok' },
        });
        server.freeze();
        expect(await readiness.check()).toEqual({
          ready: false,
          checks: { database: 'ok', redis: 'timeout' },
        });
        server.thaw();
        await server.stop();
        // Until the client has seen the connection close, a PING may still be written to it.
        for (let i = 0; i < 100 && redis.client.status === 'ready'; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const started = performance.now();
        expect((await readiness.check()).checks.redis).toBe('failing');
        expect(performance.now() - started).toBeLessThan(400);
        await server.start();
        let state = (await readiness.check()).checks.redis;
        for (let i = 0; i < 100 && state !== 'ok'; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          state = (await readiness.check()).checks.redis;
        }
        expect(state).toBe('ok');
      } finally {
        await redis.close();
        await server.close();
      }
    },
    30_000,
  );

  it('a burst of 50 concurrent probes runs the checks once, not 50 times (a /readyz flood does not flood the database)', async () => {
    let queries = 0;
    const counting: Queryable = {
      query: (text, params) => {
        queries++;
        return lite.query(text, params);
      },
    };
    const readiness = createReadiness({
      database: counting,
      mail: true,
      logger: createLogger('silent'),
    });
    const reports = await Promise.all(Array.from({ length: 50 }, () => readiness.check()));
    expect(reports.every((r) => r.ready)).toBe(true);
    // SELECT 1 and the outbox query, once.
    expect(queries).toBe(2);
    await readiness.check();
    expect(queries).toBe(4);
  });
});

// ---------------------------------------------------------------------------------------------

describe.each(['express-api', 'fastify-api'] as const)(
  '%s as a process with METRICS=1 (embedded database)',
  (name) => {
    let app: RunningExample;
    const url = (path: string) => `${app.url}${path}`;

    beforeAll(async () => {
      app = await startExample(name, {
        DATABASE_URL: '',
        METRICS: '1',
        AUTH_LOCKOUT_THRESHOLD: '2',
        AUTH_LOGIN_RATE_LIMIT: '100/min',
      });
    }, 90_000);

    afterAll(async () => {
      await app?.stop();
    });

    it('/healthz and /readyz answer 200, 60 probes in a burst are never rate limited, and none is logged', async () => {
      const probes = await Promise.all(
        Array.from({ length: 30 }, () => [
          request(url('/healthz')),
          request(url('/readyz')),
        ]).flat(),
      );
      expect(probes.map((p) => p.status)).toEqual(probes.map(() => 200));
      await request(url('/metrics'));
      // A request that is logged, after the probes: once its line has arrived, every line of the
      // probes would have too (the log is written in order).
      await request(url('/api/auth/me'));
      for (let i = 0; i < 100; i++) {
        if (app.logs().some((l) => l.msg === 'request' && l.path === '/api/auth/me')) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const requests = app.logs().filter((l) => l.msg === 'request');
      expect(requests.some((l) => l.path === '/api/auth/me')).toBe(true);
      expect(
        requests.filter((l) => ['/healthz', '/readyz', '/metrics'].includes(String(l.path))),
      ).toEqual([]);
    });

    it('after a login, a failed login and a lockout, /metrics shows gatehouse_login_attempts_total by outcome, gatehouse_lockouts_total and the HTTP duration by route and status', async () => {
      const email = `metrics-${randomUUID().slice(0, 8)}@example.com`;
      const registered = await request(url('/api/auth/register'), {
        body: { email, password: PASSWORD, name: 'Metrics' },
      });
      expect(registered.status).toBe(201);
      const ok = await request(url('/api/auth/login'), { body: { email, password: PASSWORD } });
      expect(ok.status).toBe(200);
      for (let i = 0; i < 2; i++) {
        const bad = await request(url('/api/auth/login'), {
          body: { email, password: `wrong ${i}` },
        });
        expect(bad.status).toBe(401);
      }
      const locked = await request(url('/api/auth/login'), { body: { email, password: PASSWORD } });
      expect(locked).toMatchObject({ status: 403, body: { code: 'ACCOUNT_LOCKED' } });
      // A route with a parameter, by an id that is not a user's.
      const token = ok.body.token as string;
      const userId = ok.body.user.id as string;
      await request(url(`/api/users/${randomUUID()}`), { token });
      await request(url(`/no/such/${randomUUID()}`));
      // The login page's cookie-mode routes (a plugin of their own on Fastify) are measured too.
      expect((await request(url('/app/api/auth/csrf'))).status).toBe(200);

      const { text, samples } = await scrape(app.url);
      const attempts = 'gatehouse_login_attempts_total';
      expect(total(samples, attempts, { outcome: 'success' })).toBeGreaterThanOrEqual(1);
      expect(total(samples, attempts, { outcome: 'invalid_credentials' })).toBeGreaterThanOrEqual(
        2,
      );
      expect(total(samples, attempts, { outcome: 'locked' })).toBeGreaterThanOrEqual(1);
      expect(total(samples, 'gatehouse_lockouts_total')).toBeGreaterThanOrEqual(1);

      const count = 'http_server_request_duration_count';
      const login = { http_route: '/api/auth/login', http_request_method: 'POST' };
      expect(
        total(samples, count, { ...login, http_response_status_code: '200' }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        total(samples, count, { ...login, http_response_status_code: '401' }),
      ).toBeGreaterThanOrEqual(2);
      expect(
        total(samples, count, { ...login, http_response_status_code: '403' }),
      ).toBeGreaterThanOrEqual(1);
      expect(total(samples, count, { http_route: '/api/users/:id' })).toBeGreaterThanOrEqual(1);
      expect(total(samples, count, { http_route: '/app/api/auth/csrf' })).toBeGreaterThanOrEqual(1);
      // Buckets in seconds, with 1 s as a boundary (the p95 alert); +Inf holds every request.
      const buckets = samples.filter(
        (s) =>
          s.name === 'http_server_request_duration_bucket' &&
          s.labels.http_route === '/api/auth/login' &&
          s.labels.http_response_status_code === '200',
      );
      expect(buckets.map((s) => s.labels.le)).toEqual([
        ...HTTP_DURATION_BUCKETS.map(String),
        '+Inf',
      ]);
      expect(text).toContain('# UNIT http_server_request_duration s');

      // Route templates only: no raw path, no id, no email, token or address anywhere.
      const routes = new Set(samples.map((s) => s.labels.http_route).filter(Boolean));
      for (const route of routes) expect(route).not.toMatch(/[0-9a-f]{8}-|\/no\/such/);
      for (const secret of [email, userId, token, ok.body.refreshToken as string, '127.0.0.1']) {
        expect(text).not.toContain(secret);
      }
      // Probes and scrapes are not in the request metrics.
      expect([...routes].filter((r) => ['/healthz', '/readyz', '/metrics'].includes(r!))).toEqual(
        [],
      );
    });
  },
);

// ---------------------------------------------------------------------------------------------

const SERVER_URL = process.env.DATABASE_URL || undefined;
const hasPostgresBinaries = (() => {
  try {
    return readdirSync('/usr/lib/postgresql').some((v) =>
      existsSync(`/usr/lib/postgresql/${v}/bin/initdb`),
    );
  } catch {
    return false;
  }
})();

// Without DATABASE_URL and without PostgreSQL's binaries (a machine that has not run
// scripts/with-postgres.sh yet) there is no server to point the apps at: the reason is printed.
describe.skipIf(!SERVER_URL && !hasPostgresBinaries)(
  'on PostgreSQL behind a cuttable proxy (DATABASE_URL, or a server of the test own)',
  () => {
    let own: PostgresServer | undefined;
    let serverUrl: string;
    const database = `gatehouse_observability_${randomUUID().slice(0, 8)}`;
    let proxy: Awaited<ReturnType<typeof cuttableProxy>>;
    let express: RunningExample;
    let fastify: RunningExample;

    async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        return await fn(client);
      } finally {
        await client.end();
      }
    }

    beforeAll(async () => {
      if (SERVER_URL) serverUrl = SERVER_URL;
      else {
        own = await startPostgres();
        serverUrl = own.url;
      }
      await admin((c) => c.query(`CREATE DATABASE ${database}`));
      const target = new URL(serverUrl);
      proxy = await cuttableProxy(target);
      const viaProxy = new URL(serverUrl);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      viaProxy.pathname = `/${database}`;
      const env = { DATABASE_URL: viaProxy.toString(), AUTH_LOGIN_RATE_LIMIT: '100/min' };
      // One after the other: both migrate the same database at start.
      express = await startExample('express-api', { ...env, METRICS: '1' });
      fastify = await startExample('fastify-api', env);
    }, 180_000);

    afterAll(async () => {
      await express?.stop();
      await fastify?.stop();
      await proxy?.close();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)).catch(
        () => {},
      );
      await own?.close();
    }, 60_000);

    it('PostgreSQL unreachable (the network to it cut): /readyz answers 503 naming the database on both apps, /healthz stays 200, and both are ready again once it is back', async () => {
      for (const app of [express, fastify]) {
        expect((await request(`${app.url}/readyz`)).status).toBe(200);
      }
      await proxy.cut();
      try {
        for (const app of [express, fastify]) {
          const res = await request(`${app.url}/readyz`);
          expect(res).toMatchObject({
            status: 503,
            body: {
              success: false,
              code: 'SERVER_ERROR',
              error: 'Not ready: database failing.',
              checks: { database: 'failing', mail: 'unknown' },
            },
          });
          // States only: no address, port, user or driver message in the public answer.
          const body = JSON.stringify(res.body);
          expect(body).not.toContain(String(proxy.port));
          expect(body).not.toContain('ECONNREFUSED');
          expect((await request(`${app.url}/healthz`)).status).toBe(200);
          expect(app.logs()).toContainEqual(
            expect.objectContaining({
              msg: 'readiness: dependency failing',
              dependency: 'database',
            }),
          );
        }
      } finally {
        await proxy.restore();
      }
      for (const app of [express, fastify]) {
        expect((await request(`${app.url}/readyz`)).body).toMatchObject({
          success: true,
          checks: { database: 'ok', mail: 'ok' },
        });
      }
    });

    it('/metrics shows the pool: db_client_connection_count by state (idle, used) and db_client_connection_max of 10', async () => {
      const { samples } = await scrape(express.url);
      const pool = { db_client_connection_pool_name: 'gatehouse-example' };
      expect(total(samples, 'db_client_connection_max', pool)).toBe(10);
      const idle = samples.find(
        (s) =>
          s.name === 'db_client_connection_count' && s.labels.db_client_connection_state === 'idle',
      );
      const used = samples.find(
        (s) =>
          s.name === 'db_client_connection_count' && s.labels.db_client_connection_state === 'used',
      );
      expect(idle?.value).toBeGreaterThanOrEqual(0);
      expect(used?.value).toBeGreaterThanOrEqual(0);
      expect(idle!.value + used!.value).toBeLessThanOrEqual(10);
      expect(total(samples, 'db_client_connection_pending_requests', pool)).toBe(0);
    });

    it('every metric and label the alert rules of docs/observability.md use appears in a real scrape', async () => {
      const email = `rules-${randomUUID().slice(0, 8)}@example.com`;
      await request(`${express.url}/api/auth/register`, {
        body: { email, password: PASSWORD, name: 'Rules' },
      });
      expect(
        (await request(`${express.url}/api/auth/login`, { body: { email, password: PASSWORD } }))
          .status,
      ).toBe(200);
      const { samples } = await scrape(express.url);
      const rules = alertRules();
      expect(rules.map((r) => r.alert)).toEqual([
        'GatehouseHighErrorRate',
        'GatehouseSlowRequests',
        'GatehouseDatabasePoolSaturated',
      ]);
      for (const rule of rules) {
        expect(rule.metrics.length, rule.alert).toBeGreaterThan(0);
        for (const metric of rule.metrics) {
          const series = samples.filter((s) => s.name === metric);
          expect(series.length, `${rule.alert}: ${metric} in the scrape`).toBeGreaterThan(0);
        }
        for (const label of rule.labels.filter((l) => !TARGET_LABELS.has(l))) {
          const carried = samples.some(
            (s) => rule.metrics.includes(s.name) && Object.hasOwn(s.labels, label),
          );
          expect(carried, `${rule.alert}: label ${label} on one of ${rule.metrics}`).toBe(true);
        }
      }
    });
  },
);
