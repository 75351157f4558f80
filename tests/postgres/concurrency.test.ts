// Two app servers sharing one database: two separate createAuth instances, each with its own
// connection pool, race on the same account.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStores, type Queryable } from '../../adapters/postgres/index.js';
import { resolveTables } from '../../adapters/postgres/tables.js';
import { type AuditEvent, createAuth, isAuthError } from '../../src/index.js';
import { internalsOf } from '../../src/internal/handle.js';
import { CountingHasher, ManualClock } from '../helpers/fakes.js';
import { openPool, type TestDatabase, targets } from './databases.js';

const PASSWORD = 'correct horse battery';
const THRESHOLD = 5;
// Both app instances sign and verify with the same key, as two servers of one app do.
const KEYS = [
  { kid: 'shared-1', alg: 'HS256' as const, key: 'a-shared-secret-of-more-than-32-bytes!!' },
];
// And hash login identifiers with the same key, so both count one identifier under one key.
const IDENTIFIER_KEY = 'shared-identifier-key-0123456789';

for (const target of targets) {
  describe.skipIf(target.skip)(`two app instances on ${target.name}`, () => {
    let db: TestDatabase;
    const extraPools: { end(): Promise<void> }[] = [];
    beforeAll(async () => {
      db = await target.open();
    });
    afterAll(async () => {
      await Promise.all(extraPools.map((p) => p.end()));
      await db?.close();
    });

    /** One app instance: its own createAuth and, on a server, its own pool. */
    function instance(hasher: CountingHasher, clock: ManualClock, audit?: (e: AuditEvent) => void) {
      let client: Queryable = db.client;
      if (target.concurrent) {
        const pool = openPool({ max: 10 });
        extraPools.push(pool);
        client = pool;
      }
      const stores = createPostgresStores(client, db.options).stores;
      return createAuth({
        stores,
        passwordHasher: hasher,
        clock,
        lockout: { maxAttempts: THRESHOLD },
        tokens: { keys: KEYS },
        identifierKey: IDENTIFIER_KEY,
        ...(audit ? { audit } : {}),
      });
    }

    it('50 concurrent wrong logins on one account make at most 5 password checks and lock it (brute force across instances)', async () => {
      await db.truncate();
      const hasher = new CountingHasher();
      const clock = new ManualClock();
      const [a, b] = [instance(hasher, clock), instance(hasher, clock)];
      await a.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
      hasher.verifyCalls = 0;

      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          (i % 2 === 0 ? a : b).login({ email: 'ada@example.com', password: `wrong-${i}-guess` }),
        ),
      );

      const codes = results.map((r) =>
        r.status === 'rejected' && isAuthError(r.reason) ? r.reason.code : 'OTHER',
      );
      expect(codes.filter((c) => c === 'INVALID_CREDENTIALS').length).toBeLessThanOrEqual(
        THRESHOLD,
      );
      expect(codes.filter((c) => c !== 'INVALID_CREDENTIALS' && c !== 'ACCOUNT_LOCKED')).toEqual(
        [],
      );
      expect(hasher.verifyCalls).toBeLessThanOrEqual(THRESHOLD);
      // Locked for both instances, even with the right password.
      for (const auth of [a, b]) {
        await expect(
          auth.login({ email: 'ada@example.com', password: PASSWORD }),
        ).rejects.toMatchObject({ code: 'ACCOUNT_LOCKED' });
      }
    });

    it('50 concurrent wrong passwords emit exactly one ACCOUNT_LOCKED (two instances, one lock, one audit event)', async () => {
      await db.truncate();
      const hasher = new CountingHasher();
      const clock = new ManualClock();
      const events: AuditEvent[] = [];
      const record = (e: AuditEvent) => void events.push(e);
      const [a, b] = [instance(hasher, clock, record), instance(hasher, clock, record)];
      await a.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });

      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          (i % 2 === 0 ? a : b).login({ email: 'ada@example.com', password: `wrong-${i}-guess` }),
        ),
      );

      expect(results.every((r) => r.status === 'rejected')).toBe(true);
      expect(events.filter((e) => e.event === 'ACCOUNT_LOCKED')).toHaveLength(1);
      expect(events.filter((e) => e.event === 'LOGIN_FAILED')).toHaveLength(50);
      await expect(b.login({ email: 'ada@example.com', password: PASSWORD })).rejects.toMatchObject(
        { code: 'ACCOUNT_LOCKED' },
      );
      // Refusals while locked announce nothing further.
      expect(events.filter((e) => e.event === 'ACCOUNT_LOCKED')).toHaveLength(1);
    });

    it('lockout store never holds the typed identifier: two instances with one identifierKey share the lock of a real and a malformed identifier', async () => {
      await db.truncate();
      const hasher = new CountingHasher();
      const clock = new ManualClock();
      const [a, b] = [instance(hasher, clock), instance(hasher, clock)];
      await a.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
      const typed = ['ada@example.com', '<script>@@'];
      for (const identifier of typed) {
        for (let i = 0; i < THRESHOLD; i++) {
          await expect(
            (i % 2 === 0 ? a : b).login({ email: identifier, password: `wrong-${i}-guess` }),
          ).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
        }
        // Locked on both instances: they counted the same hashed key.
        for (const auth of [a, b]) {
          await expect(auth.login({ email: identifier, password: PASSWORD })).rejects.toMatchObject(
            { code: 'ACCOUNT_LOCKED' },
          );
        }
      }

      const table = resolveTables(db.options).loginAttempts;
      const { rows } = await db.client.query(`SELECT * FROM ${table}`);
      expect(rows).toHaveLength(2);
      const stored = JSON.stringify(rows).toLowerCase();
      for (const text of [...typed, 'ada', 'example.com', 'script']) {
        expect(stored).not.toContain(text);
      }
      for (const row of rows as { key: string }[]) {
        expect(row.key).toMatch(/^login:[A-Za-z0-9_-]{43}$/);
      }
    });

    it('of 10 concurrent registrations of one email on two instances exactly one succeeds', async () => {
      await db.truncate();
      const hasher = new CountingHasher();
      const clock = new ManualClock();
      const [a, b] = [instance(hasher, clock), instance(hasher, clock)];
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 === 0 ? a : b).register({
            email: 'race@example.com',
            password: PASSWORD,
            name: `Racer ${i}`,
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'EMAIL_TAKEN' });
      }
    });

    it('of 20 concurrent refreshes of one refresh token on two instances exactly one succeeds and the rest are refused as reuse (replayed token)', async () => {
      await db.truncate();
      const hasher = new CountingHasher();
      const clock = new ManualClock();
      const events: AuditEvent[] = [];
      const record = (e: AuditEvent) => void events.push(e);
      const [a, b] = [instance(hasher, clock, record), instance(hasher, clock, record)];
      await a.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
      const { refreshToken, token } = await a.login({
        email: 'ada@example.com',
        password: PASSWORD,
      });
      const sessionId = (await b.verifyAccessToken(token)).sessionId;

      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).refresh(refreshToken)),
      );

      const winners = results.filter((r) => r.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'TOKEN_INVALID' });
      }
      expect(events.filter((e) => e.event === 'TOKEN_REUSE_DETECTED').length).toBeGreaterThan(0);
      // Reuse ended the session for both instances: the winner's new tokens are refused too.
      expect((await internalsOf(a).stores.tokens.getSession(sessionId))?.revokedReason).toBe(
        'reuse',
      );
      const won = (winners[0] as PromiseFulfilledResult<{ refreshToken: string; token: string }>)
        .value;
      await expect(b.refresh(won.refreshToken)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      await expect(a.verifyAccessToken(won.token)).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
      });
    });
  });
}
