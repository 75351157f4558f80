// What the Postgres stores promise beyond the conformance suites: case-insensitive emails,
// hostile inputs that must not turn into server errors, pruning, and the audit log.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createPostgresStores,
  PostgresAttemptStore,
  PostgresAuditLog,
  PostgresRateLimitStore,
  PostgresUserStore,
} from '../../adapters/postgres/index.js';
import type { AuditEvent } from '../../src/audit/events.js';
import { isAuthError } from '../../src/errors.js';
import { createAuth } from '../../src/index.js';
import { policyFilterToSql } from '../../src/policy/filter.js';
import { seedPolicy } from '../../src/policy/seed-policy.js';
import type { LockoutRule } from '../../src/stores/types.js';
import { CountingHasher } from '../helpers/fakes.js';
import { type TestDatabase, targets } from './databases.js';

const HASH = `$2b$10$${'a'.repeat(53)}`;
const T0 = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;
const DAY = 86_400_000;

const rule = (now: number, overrides: Partial<LockoutRule> = {}): LockoutRule => ({
  now,
  maxAttempts: 3,
  windowMs: 15 * MINUTE,
  lockMs: 30 * MINUTE,
  backoffFactor: 1,
  maxLockMs: DAY,
  ...overrides,
});

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return isAuthError(err) ? err.code : String(err);
  }
}

function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    timestamp: new Date(T0).toISOString(),
    event: 'LOGIN_FAILED',
    status: 'failure',
    userId: 'user-1',
    ip: '203.0.113.7',
    userAgent: 'curl/8.0',
    metadata: { reason: 'wrong_password' },
    ...overrides,
  };
}

for (const target of targets) {
  describe.skipIf(target.skip)(`on ${target.name}`, () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await target.open({ tablePrefix: 'gh_' });
    });
    afterAll(async () => {
      await db?.close();
    });
    beforeEach(async () => {
      await db.truncate();
    });

    describe('PostgresUserStore', () => {
      const users = () => new PostgresUserStore(db.client, db.options);
      const newUser = (email: string, name = 'Ada') => ({
        email,
        name,
        role: 'user',
        passwordHash: HASH,
      });

      it('treats emails differing only in case as the same account', async () => {
        const store = users();
        const ada = await store.create(newUser('ada@example.com'));
        expect(await codeOf(store.create(newUser('ADA@Example.com')))).toBe('EMAIL_TAKEN');
        expect((await store.findByEmail('Ada@EXAMPLE.com'))?.id).toBe(ada.id);
      });

      it('finds nobody for an email with a NUL byte instead of failing (NUL injection)', async () => {
        const store = users();
        await store.create(newUser('ada@example.com'));
        expect(await store.findByEmail('ada@example.com\u0000')).toBeNull();
      });

      it('finds nobody for an email that is SQL (injection)', async () => {
        const store = users();
        await store.create(newUser('ada@example.com'));
        expect(await store.findByEmail("' OR '1'='1")).toBeNull();
        expect(await store.findByEmail("ada@example.com' --")).toBeNull();
      });

      it('answers null or false for a malformed id on update, replace and delete', async () => {
        const store = users();
        expect(await store.update('42', { name: 'x' })).toBeNull();
        expect(await store.replacePasswordHash('42', HASH, HASH)).toBe(false);
        expect(await store.delete("1' OR '1'='1")).toBe(false);
      });

      it('refuses a name the table cannot hold with VALIDATION_ERROR, not a server error', async () => {
        const store = users();
        expect(await codeOf(store.create(newUser('a@example.com', 'x'.repeat(256))))).toBe(
          'VALIDATION_ERROR',
        );
        expect(await codeOf(store.create(newUser('b@example.com', ' ')))).toBe('VALIDATION_ERROR');
        expect(await codeOf(store.create(newUser('c@example.com', 'A\u0000da')))).toBe(
          'VALIDATION_ERROR',
        );
        expect(await codeOf(store.create(newUser('not-an-email')))).toBe('VALIDATION_ERROR');
      });

      it('keeps createdAt and moves updatedAt forward on update', async () => {
        const store = users();
        const ada = await store.create(newUser('ada@example.com'));
        const renamed = await store.update(ada.id, { name: 'Ada L.' });
        expect(renamed?.createdAt.getTime()).toBe(ada.createdAt.getTime());
        expect(renamed!.updatedAt.getTime()).toBeGreaterThanOrEqual(ada.updatedAt.getTime());
      });
    });

    describe('PostgresAttemptStore', () => {
      const attempts = () => new PostgresAttemptStore(db.client, db.options);

      it('counts keys with a NUL byte or 10,000 characters without failing (hostile identifiers)', async () => {
        const store = attempts();
        for (const key of ['login:a\u0000b@example.com', `login:${'x'.repeat(10_000)}`]) {
          expect(await store.reserve(key, rule(T0))).toEqual({ allowed: true, attempts: 1 });
          expect(await store.reserve(key, rule(T0))).toEqual({ allowed: true, attempts: 2 });
          await store.reset(key);
          expect(await store.reserve(key, rule(T0))).toEqual({ allowed: true, attempts: 1 });
        }
      });

      it('keeps two long keys with the same beginning apart', async () => {
        const store = attempts();
        const base = 'x'.repeat(500);
        await store.reserve(`${base}a`, rule(T0));
        expect(await store.reserve(`${base}b`, rule(T0))).toEqual({ allowed: true, attempts: 1 });
      });

      it('caps the lock at maxLockMs after thousands of lockouts instead of overflowing', async () => {
        const store = attempts();
        await store.reserve('k', rule(T0));
        await db.client.query(
          `UPDATE ${db.options.schema ? `"${db.options.schema}".` : ''}"gh_login_attempts" SET lockouts = 100000`,
        );
        let result = await store.reserve('k', rule(T0, { backoffFactor: 10 }));
        while (result.allowed) result = await store.reserve('k', rule(T0, { backoffFactor: 10 }));
        expect(result).toEqual({ allowed: false, lockedUntil: T0 + DAY, lockedNow: true });
      });

      it('rounds a backoff duration like the memory store (half up)', async () => {
        const store = attempts();
        const r = (now: number) => rule(now, { lockMs: 1003, backoffFactor: 1.5, maxLockMs: DAY });
        let now = T0;
        const durations: number[] = [];
        for (let i = 0; i < 3; i++) {
          let result = await store.reserve('k', r(now));
          while (result.allowed) result = await store.reserve('k', r(now));
          durations.push(result.lockedUntil - now);
          now = result.lockedUntil;
        }
        expect(durations).toEqual([1003, 1505, 2257]);
      });

      it('prunes counters idle since olderThan and keeps recent or still locked ones', async () => {
        const store = attempts();
        await store.reserve('idle', rule(T0));
        for (let i = 0; i < 4; i++) await store.reserve('locked', rule(T0));
        await store.reserve('recent', rule(T0 + 10 * MINUTE));
        expect(await store.prune(T0 + 5 * MINUTE)).toBe(1);
        expect(await store.reserve('idle', rule(T0 + 6 * MINUTE))).toEqual({
          allowed: true,
          attempts: 1,
        });
        expect(await store.reserve('recent', rule(T0 + 10 * MINUTE))).toEqual({
          allowed: true,
          attempts: 2,
        });
        expect((await store.reserve('locked', rule(T0 + 6 * MINUTE))).allowed).toBe(false);
      });
    });

    describe('PostgresRateLimitStore', () => {
      const limits = () => new PostgresRateLimitStore(db.client, db.options);
      const window = (now: number) => ({ now, windowMs: MINUTE, limit: 2 });

      it('counts a key with a NUL byte or 10,000 characters without failing (hostile keys)', async () => {
        const store = limits();
        for (const key of ['ip:\u0000', `ip:${'9'.repeat(10_000)}`]) {
          expect((await store.hit(key, window(T0))).count).toBe(1);
          expect((await store.hit(key, window(T0))).count).toBe(2);
        }
      });

      it('prunes the windows that have ended and keeps the running ones', async () => {
        const store = limits();
        await store.hit('old', window(T0));
        await store.hit('running', window(T0 + 30_000));
        expect(await store.prune(T0 + MINUTE)).toBe(1);
        expect((await store.hit('running', window(T0 + MINUTE))).count).toBe(2);
      });
    });

    describe('PostgresAuditLog', () => {
      const log = () => new PostgresAuditLog(db.client, db.options);
      const table = () => `${db.options.schema ? `"${db.options.schema}".` : ''}"gh_audit_events"`;
      const rows = async () =>
        (
          await db.client.query(
            `SELECT (extract(epoch from occurred_at) * 1000)::float8 AS at, event, status, user_id,
               ip, user_agent, metadata FROM ${table()} ORDER BY id`,
          )
        ).rows as Record<string, unknown>[];

      it('stores every field of an event through its sink', async () => {
        await log().sink(event());
        expect(await rows()).toEqual([
          {
            at: T0,
            event: 'LOGIN_FAILED',
            status: 'failure',
            user_id: 'user-1',
            ip: '203.0.113.7',
            user_agent: 'curl/8.0',
            metadata: { reason: 'wrong_password' },
          },
        ]);
      });

      it('stores an event without the optional fields', async () => {
        await log().write(
          event({ userId: undefined, ip: undefined, userAgent: undefined, metadata: {} }),
        );
        const [row] = await rows();
        expect(row).toMatchObject({ user_id: null, ip: null, user_agent: null, metadata: {} });
      });

      it('clips a 10,000-character user agent and drops NUL bytes instead of losing the event (hostile headers)', async () => {
        await log().write(
          event({
            userAgent: `Mozilla\u0000${'x'.repeat(10_000)}`,
            ip: '203.0.113.7\u0000',
            metadata: { note: 'a\u0000b', literal: '\\u0000 stays', big: 10n } as never,
          }),
        );
        const row = (await rows())[0]!;
        expect((row['user_agent'] as string).length).toBe(512);
        expect((row['user_agent'] as string).startsWith('Mozillaxxx')).toBe(true);
        expect(row['ip']).toBe('203.0.113.7');
        expect(row['metadata']).toEqual({ note: 'ab', literal: '\\u0000 stays', big: '10' });
      });

      it('keeps an event whose metadata has a cycle, marked as unserializable', async () => {
        const metadata: Record<string, unknown> = {};
        metadata['self'] = metadata;
        await log().write(event({ metadata }));
        expect((await rows())[0]?.metadata).toEqual({ unserializable: true });
      });

      it("keeps an event's request id in its metadata (no column of its own)", async () => {
        await log().write(event({ requestId: 'req-42', metadata: { reason: 'x' } }));
        await log().write(event({}));
        const [withId, without] = await rows();
        expect(withId?.['metadata']).toEqual({ reason: 'x', requestId: 'req-42' });
        expect(without?.['metadata']).not.toHaveProperty('requestId');
      });

      it('records the events of createAuth when given as its audit sink', async () => {
        const audit = log();
        const writes: Promise<void>[] = [];
        const auth = createAuth({
          stores: { users: new PostgresUserStore(db.client, db.options) },
          passwordHasher: new CountingHasher(),
          audit: (e) => {
            const write = audit.sink(e) as Promise<void>;
            writes.push(write);
            return write;
          },
        });
        const ada = await auth.register({
          email: 'ada@example.com',
          password: 'correct horse battery',
          name: 'Ada',
        });
        await expect(
          auth.login(
            { email: 'ada@example.com', password: 'wrong password' },
            { ip: '203.0.113.7', userAgent: 'curl/8.0' },
          ),
        ).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
        await Promise.all(writes);
        const stored = await rows();
        expect(stored.map((r) => [r['event'], r['status'], r['user_id']])).toEqual([
          ['USER_REGISTERED', 'success', ada.id],
          ['LOGIN_FAILED', 'failure', ada.id],
        ]);
        expect(stored[1]).toMatchObject({ ip: '203.0.113.7', user_agent: 'curl/8.0' });
        expect(JSON.stringify(stored)).not.toContain('ada@example.com');
      });

      it('prunes events older than the retention time', async () => {
        const audit = log();
        await audit.write(event({ timestamp: new Date(T0 - 91 * DAY).toISOString() }));
        await audit.write(event({ timestamp: new Date(T0).toISOString() }));
        expect(await audit.prune(T0 - 90 * DAY)).toBe(1);
        expect((await rows()).map((r) => r['at'])).toEqual([T0]);
      });
    });

    describe('createPostgresStores', () => {
      it('prunes every table with the default retention and reports the counts', async () => {
        const pg = createPostgresStores(db.client, db.options);
        await pg.stores.attempts.reserve('k', rule(T0 - 8 * DAY));
        await pg.stores.rateLimits.hit('ip', { now: T0 - MINUTE, windowMs: MINUTE, limit: 5 });
        await pg.stores.tokens.createSession(
          {
            id: 's1',
            userId: 'u1',
            createdAt: T0 - 3 * DAY,
            expiresAt: T0 - 2 * DAY,
            lastUsedAt: T0 - 3 * DAY,
            revokedAt: null,
            revokedReason: null,
          },
          'a'.repeat(64),
        );
        await pg.auditLog.write(event({ timestamp: new Date(T0 - 100 * DAY).toISOString() }));
        await pg.auditLog.write(event({ timestamp: new Date(T0).toISOString() }));
        // One-time tokens: one expired 2 days ago (pruned after 1 day), one live.
        const hash = (c: string) => c.repeat(43);
        for (const [c, createdAt] of [
          ['a', T0 - 3 * DAY],
          ['b', T0],
        ] as const) {
          await pg.stores.oneTimeTokens.issue({
            tokenHash: hash(c),
            userId: `u-${c}`,
            purpose: 'password_reset',
            createdAt,
            expiresAt: createdAt + DAY,
          });
        }
        // Mail: one delivered 8 days ago (pruned after 7 days), one delivered now, one pending.
        const mail = (id: string) => ({
          id,
          kind: 'password_reset' as const,
          to: 'ada@example.com',
          subject: 's',
          text: 't',
          html: 'h',
          attempts: 0,
          nextAttemptAt: T0 - 9 * DAY,
          createdAt: T0 - 9 * DAY,
          expiresAt: null,
        });
        const ids = ['1', '2', '3'].map((n) => `00000000-0000-4000-8000-00000000000${n}`);
        for (const id of ids) await pg.stores.outbox.enqueue(mail(id));
        await pg.stores.outbox.markDelivered(ids[0]!, T0 - 8 * DAY);
        await pg.stores.outbox.markDelivered(ids[1]!, T0);
        expect(await pg.prune(T0)).toEqual({
          attempts: 1,
          rateLimits: 1,
          sessions: 1,
          auditEvents: 1,
          oneTimeTokens: 1,
          mail: 1,
        });
        expect(await pg.prune(T0)).toEqual({
          attempts: 0,
          rateLimits: 0,
          sessions: 0,
          auditEvents: 0,
          oneTimeTokens: 0,
          mail: 0,
        });
        expect(await pg.stores.outbox.pending()).toBe(1);
        expect(await pg.stores.oneTimeTokens.find(hash('b'), 'password_reset', T0)).not.toBeNull();
      });
    });

    describe('policyFilterToSql', () => {
      it('lists only the caller’s own orders with the seed policy’s filter', async () => {
        const orders = `${db.options.schema ? `"${db.options.schema}".` : ''}"gh_test_orders"`;
        await db.client.query(
          `CREATE TABLE IF NOT EXISTS ${orders} (id int PRIMARY KEY, user_id text, total numeric)`,
        );
        await db.client.query(`TRUNCATE ${orders}`);
        await db.client.query(
          `INSERT INTO ${orders} VALUES (1, 'u1', 10), (2, 'u2', 20), (3, 'u1', 30), (4, NULL, 40)`,
        );
        const filter = seedPolicy.filter({ userId: 'u1', role: 'user' }, 'orders:read');
        const where = policyFilterToSql(filter, { columns: { userId: 'user_id' }, firstParam: 2 });
        const { rows } = await db.client.query(
          `SELECT id FROM ${orders} WHERE total >= $1 AND ${where.text} ORDER BY id`,
          [0, ...where.params],
        );
        expect(rows).toEqual([{ id: 1 }, { id: 3 }]);
      });
    });
  });
}
