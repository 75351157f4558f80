// Two app servers sharing one database: two separate createAuth instances, each with its own
// connection pool, race on the same account.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStores, type Queryable } from '../../adapters/postgres/index.js';
import { createAuth, isAuthError } from '../../src/index.js';
import { CountingHasher, ManualClock } from '../helpers/fakes.js';
import { openPool, type TestDatabase, targets } from './databases.js';

const PASSWORD = 'correct horse battery';
const THRESHOLD = 5;

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
    function instance(hasher: CountingHasher, clock: ManualClock) {
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
  });
}
