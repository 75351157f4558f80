// A database outage is logged as a few lines, not one stack per request: the first failed query
// with its cause, at most one summary per interval with a count, and one "database is back"
// line. On PGlite (a data directory closed and reopened, as a restart) always; on a real
// PostgreSQL server behind a proxy the test cuts when DATABASE_URL is set.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPostgresStores,
  migrate,
  type Queryable,
  trackOutages,
} from '../../adapters/postgres/index.js';
import { withTransaction } from '../../adapters/postgres/queryable.js';
import { AuthError, type Logger } from '../../src/index.js';
import { poolBehindProxy } from '../helpers/cuttable-proxy.js';
import {
  call,
  GENERIC_SERVER_ERROR,
  prepareExampleDatabase,
  problemLines,
  signIn,
  startExampleApps,
} from '../helpers/example-apps.js';
import { ManualClock } from '../helpers/fakes.js';
import { DATABASE_URL, freshSchema, openPool, server } from './databases.js';

interface Line {
  level: string;
  message: string;
  data: Record<string, unknown>;
}

function recordingLogger() {
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (message: string, data: Record<string, unknown> = {}) =>
      void lines.push({ level, message, data });
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return { logger, lines };
}

/** Timers run by hand on the manual clock. */
function manualTimers(clock: ManualClock) {
  let tasks: { at: number; run: () => void }[] = [];
  return {
    schedule(run: () => void, delayMs: number) {
      const task = { at: clock.now() + delayMs, run };
      tasks.push(task);
      return () => {
        tasks = tasks.filter((t) => t !== task);
      };
    },
    advance(ms: number) {
      const end = clock.now() + ms;
      for (;;) {
        const next = tasks.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        tasks = tasks.filter((t) => t !== next);
        clock.time = Math.max(clock.time, next.at);
        next.run();
      }
      clock.time = end;
    },
  };
}

/** A client whose target the test switches, as an app reconnecting after a restart does. */
function switchable(initial: Queryable) {
  let target = initial;
  return {
    client: { query: (text: string, params?: unknown[]) => target.query(text, params) },
    use(next: Queryable) {
      target = next;
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<AuthError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthError);
  return err as AuthError;
}

describe('database outage log on PGlite (a data directory closed mid-run, then reopened)', () => {
  let dir: string;
  let first: PGlite; // closed by the first test: the database "gone away"
  let reopened: PGlite;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-outage-'));
    first = await PGlite.create(dir);
    await migrate(first);
  }, 60_000);

  afterAll(async () => {
    await reopened?.close().catch(() => {});
    await first?.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('a restart of the database: failures while it is down answer 503, the first is logged with its cause, and one "database is back" line follows when it reopens', async () => {
    const clock = new ManualClock();
    const timers = manualTimers(clock);
    const { logger, lines } = recordingLogger();
    const link = switchable(first);
    const db = createPostgresStores(link.client, {
      logger,
      outageLog: { clock, schedule: timers.schedule },
    });
    const users = db.stores.users;
    const ada = await users.create({
      email: 'ada@example.com',
      name: 'Ada',
      role: 'user',
      passwordHash: 'h',
    });

    await first.close();
    for (let i = 0; i < 30; i++) {
      const err = await rejection(users.findByEmail('ada@example.com'));
      expect([err.code, err.status]).toEqual(['SERVER_ERROR', 503]);
      expect(JSON.stringify(err.toJSON())).toBe(JSON.stringify(GENERIC_SERVER_ERROR));
      timers.advance(1_000);
    }
    reopened = await PGlite.create(dir);
    link.use(reopened);
    expect((await users.findById(ada.id))?.email).toBe('ada@example.com');
    for (let i = 0; i < 20; i++) await users.findById(ada.id);

    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ['error', 'database unavailable'],
      ['warn', 'database still unavailable'],
      ['warn', 'database still unavailable'],
      ['warn', 'database still unavailable'],
      ['info', 'database is back'],
    ]);
    expect(lines[0]!.data).toEqual({ error: 'Error: PGlite is closed' });
    // One summary per 10 s interval: the failures at 1-9 s, 10-19 s and 20-29 s.
    expect(lines.slice(1, 4).map((l) => l.data['suppressed'])).toEqual([9, 10, 10]);
    expect(lines[4]!.data).toEqual({ downForMs: 30_000, failures: 30 });
    // Neither the SQL nor its parameters reach the log.
    expect(JSON.stringify(lines)).not.toMatch(/SELECT|ada@example\.com|\$1/);
  });

  it('log storm: 5 000 store calls during a 10 s outage write at most 3 lines', async () => {
    const clock = new ManualClock();
    const timers = manualTimers(clock);
    const { logger, lines } = recordingLogger();
    const link = switchable(first); // closed
    const { stores } = createPostgresStores(link.client, {
      logger,
      outageLog: { clock, schedule: timers.schedule },
    });
    for (let i = 0; i < 5_000; i++) {
      await rejection(stores.rateLimits.hit('ip', { now: clock.now(), windowMs: 1000, limit: 5 }));
      timers.advance(2);
    }
    link.use(reopened);
    await stores.users.findByEmail('nobody@example.com');
    expect(lines.map((l) => l.message)).toEqual([
      'database unavailable',
      'database still unavailable',
      'database is back',
    ]);
    expect(lines[1]!.data['suppressed']).toBe(4_999);
    expect(lines[2]!.data).toMatchObject({ failures: 5_000 });
  });

  it('a flapping connection (back, then down again within the interval) writes its second "back" line only at the end of the interval', async () => {
    const clock = new ManualClock();
    const timers = manualTimers(clock);
    const { logger, lines } = recordingLogger();
    const link = switchable(first);
    const db = trackOutages(link.client, { logger, clock, schedule: timers.schedule });
    const flap = async (target: PGlite) => {
      link.use(target);
      await db.query('SELECT 1').catch(() => {});
      timers.advance(100);
    };
    for (let i = 0; i < 20; i++) {
      await flap(first);
      await flap(reopened);
    }
    expect(lines.map((l) => l.message)).toEqual(['database unavailable', 'database is back']);
    timers.advance(10_000);
    expect(lines.map((l) => l.message)).toEqual([
      'database unavailable',
      'database is back',
      'database is back',
    ]);
    expect(lines[2]!.data).toMatchObject({ failures: 20 });
  });

  it('a tracked client keeps transactions on one connection (a rolled back insert is gone)', async () => {
    const { logger } = recordingLogger();
    const db = trackOutages(reopened, { logger });
    await db.query('CREATE TEMP TABLE t (n int)');
    await expect(
      withTransaction(db, async (tx) => {
        await tx.query('INSERT INTO t VALUES (1)');
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await withTransaction(db, (tx) => tx.query('INSERT INTO t VALUES (2)'));
    expect((await db.query('SELECT n FROM t')).rows).toEqual([{ n: 2 }]);
    // Wrapping twice adds nothing.
    expect(trackOutages(db, { logger })).toBe(db);
  });

  it('refuses a bad outage log option with INVALID_CONFIG naming it', () => {
    const { logger } = recordingLogger();
    expect(() => trackOutages(reopened, { logger, intervalMs: -1 })).toThrow(/"intervalMs"/);
    expect(() =>
      createPostgresStores(reopened, { logger, outageLog: { intervalMs: Number.NaN } }),
    ).toThrow(/"intervalMs"/);
  });
});

describe.skipIf(server.skip)('database outage on a PostgreSQL server (DATABASE_URL)', () => {
  const schema = freshSchema();
  let admin: pg.Pool;
  beforeAll(async () => {
    admin = openPool({ max: 2 });
    await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('the network to the server cut mid-run: store calls answer 503, the first is logged with its code, and one "database is back" line follows the restore', async () => {
    const { proxy, pool } = await poolBehindProxy(DATABASE_URL!, schema);
    try {
      await migrate(pool, { schema });
      const clock = new ManualClock();
      const timers = manualTimers(clock);
      const { logger, lines } = recordingLogger();
      const { stores } = createPostgresStores(pool, {
        schema,
        logger,
        outageLog: { clock, schedule: timers.schedule },
      });
      expect(await stores.users.findByEmail('ada@example.com')).toBeNull();
      await proxy.cut();
      for (let i = 0; i < 40; i++) {
        const err = await rejection(stores.users.findByEmail('ada@example.com'));
        expect(err.status).toBe(503);
        timers.advance(500);
      }
      await proxy.restore();
      expect(await stores.users.findByEmail('ada@example.com')).toBeNull();
      // 40 failures over 20 s: the first, one summary per 10 s, then the recovery.
      expect(lines.map((l) => l.message)).toEqual([
        'database unavailable',
        'database still unavailable',
        'database still unavailable',
        'database is back',
      ]);
      expect(lines.slice(1, 3).map((l) => l.data['suppressed'])).toEqual([19, 20]);
      expect(String(lines[0]!.data['error'])).toMatch(
        /ECONNREFUSED|Connection terminated|connect/i,
      );
      expect(lines[3]!.data).toMatchObject({ failures: 40 });
      expect(JSON.stringify(lines)).not.toContain(new URL(DATABASE_URL!).password);
    } finally {
      await pool.end();
      await proxy.close();
    }
  });

  it('both example apps answer POST and GET /api/orders with 503 and the generic body while the server is cut off, log it once, and work again after', async () => {
    const { proxy, pool } = await poolBehindProxy(DATABASE_URL!, schema);
    await prepareExampleDatabase(pool, { schema });
    const apps = await startExampleApps({ client: pool, embedded: false, close: () => pool.end() });
    try {
      const tokens = {
        express: await signIn(apps.urls.express, 'express-pg-outage@example.com'),
        fastify: await signIn(apps.urls.fastify, 'fastify-pg-outage@example.com'),
      };
      await proxy.cut();
      for (const name of ['express', 'fastify'] as const) {
        for (let i = 0; i < 10; i++) {
          const created = await call(`${apps.urls[name]}/api/orders`, {
            token: tokens[name],
            body: { total: '12.50' },
          });
          expect([name, created]).toEqual([name, { status: 503, body: GENERIC_SERVER_ERROR }]);
          const listed = await call(`${apps.urls[name]}/api/orders`, { token: tokens[name] });
          expect([name, listed]).toEqual([name, { status: 503, body: GENERIC_SERVER_ERROR }]);
        }
      }
      await proxy.restore();
      for (const name of ['express', 'fastify'] as const) {
        const created = await call(`${apps.urls[name]}/api/orders`, {
          token: tokens[name],
          body: { total: '12.50' },
        });
        expect(created.status).toBe(201);
        expect((await call(`${apps.urls[name]}/api/orders`, { token: tokens[name] })).status).toBe(
          200,
        );
      }
      const messages = problemLines(apps.lines).map((l) => l['msg']);
      expect(messages.filter((m) => m === 'database unavailable')).toHaveLength(1);
      expect(messages.filter((m) => m === 'database is back')).toHaveLength(1);
      expect(
        messages.filter((m) => m === 'requests failing: service unavailable (503)'),
      ).toHaveLength(1);
      expect(messages).not.toContain('request failed');
    } finally {
      await apps.close();
      await proxy.close();
    }
  });
});
