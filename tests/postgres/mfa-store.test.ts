// The MfaStore conformance suite (its concurrency cases included: 20 concurrent replays of one
// TOTP step, 20 concurrent uses of one recovery code, racing activations and replacements) on
// PGlite and, when DATABASE_URL is set, on a real server through pg.Pool, where the racers run
// on separate connections at the same time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStores, PostgresMfaStore } from '../../adapters/postgres/index.js';
import { resolveTables } from '../../adapters/postgres/tables.js';
import { describeMfaStore } from '../../src/testing/index.js';
import { type TestDatabase, targets } from './databases.js';

for (const target of targets) {
  describe.skipIf(target.skip)(`on ${target.name}`, { timeout: 30_000 }, () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await target.open({ tablePrefix: 'mfa_' });
    }, 60_000);
    afterAll(async () => {
      await db?.close();
    });

    const fresh = async () => {
      const t = resolveTables(db.options);
      await db.client.query(`TRUNCATE ${t.mfaFactors}, ${t.mfaRecoveryCodes}`);
      return new PostgresMfaStore(db.client, db.options);
    };

    describeMfaStore('PostgresMfaStore', fresh, { describe, it });

    it('createPostgresStores includes the MFA store on the same tables', async () => {
      const store = await fresh();
      const { stores } = createPostgresStores(db.client, db.options);
      expect(stores.mfa).toBeInstanceOf(PostgresMfaStore);
      await stores.mfa.savePendingFactor('u1', 'v1.k.x', 1_000);
      expect((await store.getFactor('u1'))?.secretCiphertext).toBe('v1.k.x');
    });

    it('a recovery-code hash that is not base64url SHA-256 matches nothing and never reaches the query', async () => {
      const store = await fresh();
      expect(await store.consumeRecoveryCode('u1', "' OR 1=1 --", 1)).toBe(false);
      expect(await store.consumeRecoveryCode('u1', 'x'.repeat(10_000), 1)).toBe(false);
      await store.savePendingFactor('u1', 'v1.k.x', 1);
      await expect(store.activateFactor('u1', 1, ['not-a-hash'], 2)).rejects.toThrow(TypeError);
      expect((await store.getFactor('u1'))?.status).toBe('pending');
    });

    it('the database refuses an active factor without a confirmation time (schema check)', async () => {
      await fresh();
      const t = resolveTables(db.options);
      await expect(
        db.client.query(
          `INSERT INTO ${t.mfaFactors} (user_id, secret_ciphertext, status, created_at) VALUES ('u', 'v1', 'active', now())`,
        ),
      ).rejects.toThrow();
    });
  });
}
