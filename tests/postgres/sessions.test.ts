// Sessions per device and the refresh reuse grace on PostgreSQL: two app instances (each with
// its own pool on a server) sharing one database, on PGlite and on the server at DATABASE_URL.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPostgresStores,
  migrate,
  migrationScripts,
  PostgresTokenStore,
  type Queryable,
} from '../../adapters/postgres/index.js';
import { type AuditEvent, createAuth, isAuthError } from '../../src/index.js';
import { CountingHasher, ManualClock } from '../helpers/fakes.js';
import { freshSchema, openPool, type TestDatabase, targets } from './databases.js';

const PASSWORD = 'correct horse battery';
const KEYS = [
  { kid: 'shared-1', alg: 'HS256' as const, key: 'a-shared-secret-of-more-than-32-bytes!!' },
];
const MINUTE = 60_000;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isAuthError(err)) return err.code;
    throw err;
  }
  return 'OK';
}

for (const target of targets) {
  describe.skipIf(target.skip)(`sessions and reuse grace on ${target.name}`, () => {
    let db: TestDatabase;
    const pools: { end(): Promise<void> }[] = [];
    beforeAll(async () => {
      db = await target.open();
    }, 60_000);
    afterAll(async () => {
      await Promise.all(pools.map((p) => p.end()));
      await db?.close();
    });

    /** One app instance: its own createAuth and, on a server, its own pool. */
    function instance(clock: ManualClock, audit?: (e: AuditEvent) => void) {
      let client: Queryable = db.client;
      if (target.concurrent) {
        const pool = openPool({ max: 10 });
        pools.push(pool);
        client = pool;
      }
      return createAuth({
        stores: createPostgresStores(client, db.options).stores,
        passwordHasher: new CountingHasher(),
        clock,
        tokens: { keys: KEYS, reuseGrace: '10s' },
        identifierKey: 'shared-identifier-key-0123456789',
        ...(audit ? { audit } : {}),
      });
    }

    async function twoInstances(audit?: (e: AuditEvent) => void) {
      await db.truncate();
      const clock = new ManualClock();
      const a = instance(clock, audit);
      const b = instance(clock, audit);
      const user = await a.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
      return { a, b, clock, user };
    }

    it('a refresh whose response was lost, retried on the other instance inside the window, gets a working pair; a second retry revokes the family', async () => {
      const { a, b, clock } = await twoInstances();
      try {
        const login = await a.login({ email: 'ada@example.com', password: PASSWORD });
        await a.refresh(login.refreshToken);
        clock.advance(2000);
        const retried = await b.refresh(login.refreshToken);
        await expect(a.verifyAccessToken(retried.token)).resolves.toBeDefined();
        expect(await codeOf(a.refresh(login.refreshToken))).toBe('TOKEN_INVALID');
        expect(await codeOf(b.verifyAccessToken(retried.token))).toBe('TOKEN_INVALID');
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('of 20 concurrent retries of the predecessor spread over two instances, exactly one gets a pair and the family ends revoked', async () => {
      const events: AuditEvent[] = [];
      const { a, b } = await twoInstances((e) => events.push(e));
      try {
        const login = await a.login({ email: 'ada@example.com', password: PASSWORD });
        await a.refresh(login.refreshToken);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            codeOf((i % 2 === 0 ? a : b).refresh(login.refreshToken)),
          ),
        );
        expect(results.filter((r) => r === 'OK')).toHaveLength(1);
        expect(results.filter((r) => r === 'TOKEN_INVALID')).toHaveLength(19);
        expect(events.some((e) => e.event === 'TOKEN_REUSE_DETECTED')).toBe(true);
        expect(
          events.filter((e) => e.event === 'TOKEN_REFRESHED' && e.metadata['graced'] === true),
        ).toHaveLength(1);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('session metadata: a login with IP, user agent and label on one instance is listed by the other, and revoking it there ends it on the first at once', async () => {
      const { a, b, clock, user } = await twoInstances();
      try {
        const phone = await a.login(
          { email: 'ada@example.com', password: PASSWORD, deviceLabel: 'Téléphone 📱' },
          { ip: '2001:db8::7', userAgent: 'Mozilla/5.0 (iPhone)' },
        );
        // Newest first: the laptop signs in a second later (same instant: no defined order).
        clock.advance(1000);
        const laptop = await b.login({ email: 'ada@example.com', password: PASSWORD });
        const phoneId = (await a.verifyAccessToken(phone.token)).sessionId;
        const laptopId = (await b.verifyAccessToken(laptop.token)).sessionId;
        const listed = await b.listSessions(user.id, { currentSessionId: laptopId });
        expect(listed.map((s) => s.id)).toEqual([laptopId, phoneId]);
        expect(listed[1]).toMatchObject({
          ip: '2001:db8::7',
          userAgent: 'Mozilla/5.0 (iPhone)',
          label: 'Téléphone 📱',
          current: false,
        });
        // Cached on a: the revocation made through b must reach it.
        await a.verifyAccessToken(phone.token);
        await b.revokeSession(user.id, phoneId);
        await expect
          .poll(() => codeOf(a.verifyAccessToken(phone.token)), { timeout: 5000 })
          .toBe('TOKEN_INVALID');
        expect(await b.revokeOtherSessions(user.id, laptopId)).toBe(0);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it("last use: a request verified on one instance a minute later moves the session's lastUsedAt for the other", async () => {
      const { a, b, clock, user } = await twoInstances();
      try {
        const login = await a.login({ email: 'ada@example.com', password: PASSWORD });
        const loggedInAt = clock.now();
        clock.advance(MINUTE);
        await b.verifyAccessToken(login.token);
        await expect
          .poll(async () => (await a.listSessions(user.id))[0]?.lastUsedAt, { timeout: 5000 })
          .toBe(new Date(loggedInAt + MINUTE).toISOString());
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('migration 3 upgrades a version-2 database with a live session: no device fields, its token rotates, and the grace works from its next rotation', async () => {
      const schema = freshSchema();
      const exec = (sql: string) =>
        'exec' in db.client && typeof db.client.exec === 'function'
          ? (db.client.exec as (sql: string) => Promise<unknown>)(sql)
          : db.client.query(sql);
      const [v1, v2] = migrationScripts({ schema });
      const sessionId = randomUUID();
      const first = createHash('sha256').update('first').digest('hex');
      await exec(`CREATE SCHEMA "${schema}";
${v1!.sql}
${v2!.sql}
CREATE TABLE "${schema}".migrations (
  version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO "${schema}".migrations (version, name) VALUES (1, 'initial'), (2, 'recovery');
INSERT INTO "${schema}".sessions (id, user_id, created_at, expires_at, last_used_at)
  VALUES ('${sessionId}', 'u1', now(), now() + interval '1 day', now());
INSERT INTO "${schema}".refresh_tokens (token_hash, session_id, created_at)
  VALUES ('${first}', '${sessionId}', now());`);
      try {
        const result = await migrate(db.client, { schema });
        expect(result.applied[0]).toBe(3);
        const store = new PostgresTokenStore(db.client, { schema, revocations: { listen: false } });
        const session = await store.getSession(sessionId);
        expect(session).toMatchObject({ ip: null, userAgent: null, label: null });
        const now = Date.now();
        const second = createHash('sha256').update('second').digest('hex');
        const rule = { now, idleMs: 86_400_000, reuseGraceMs: 10_000 };
        // The step before the migration has no recorded predecessor: an ordinary rotation.
        expect((await store.rotate(first, second, rule)).status).toBe('rotated');
        const graced = await store.rotate(first, createHash('sha256').update('3').digest('hex'), {
          ...rule,
          now: now + 1000,
        });
        expect(graced).toMatchObject({ status: 'rotated', graced: true });
        expect(await store.listSessions('u1')).toHaveLength(1);
      } finally {
        await db.client.query(`DROP SCHEMA "${schema}" CASCADE`);
      }
    });
  });
}
