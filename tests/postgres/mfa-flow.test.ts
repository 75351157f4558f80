// The MFA flow over the Postgres stores (PGlite always, the server at DATABASE_URL when set): two
// app instances share one database, as two servers of one app do; the replay, single-use and
// lockout rules must hold across them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStores, type Queryable } from '../../adapters/postgres/index.js';
import { type AuthError, createAuth, generateMfaKey } from '../../src/index.js';
import { totpCodeAt } from '../../src/mfa/totp.js';
import { CountingHasher, ManualClock } from '../helpers/fakes.js';
import { openPool, type TestDatabase, targets } from './databases.js';

const PASSWORD = 'correct horse battery';
const KEYS = [
  { kid: 'shared-1', alg: 'HS256' as const, key: 'a-shared-secret-of-more-than-32-bytes!!' },
];
const IDENTIFIER_KEY = 'shared-identifier-key-0123456789';
const MFA_KEYS = [{ id: 'k1', key: generateMfaKey() }];
const STEP_MS = 30_000;

for (const target of targets) {
  describe.skipIf(target.skip)(`the MFA flow on ${target.name}, two app instances`, () => {
    let db: TestDatabase;
    const pools: { end(): Promise<void> }[] = [];
    const clock = new ManualClock();
    beforeAll(async () => {
      db = await target.open();
    }, 60_000);
    afterAll(async () => {
      await Promise.all(pools.map((p) => p.end()));
      await db?.close();
    });

    function instance() {
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
        tokens: { keys: KEYS },
        identifierKey: IDENTIFIER_KEY,
        logger: false,
        mfa: { encryptionKeys: MFA_KEYS, lockout: { maxAttempts: 5 } },
      });
    }

    async function enrolled(email: string) {
      const [a, b] = [instance(), instance()];
      const user = await a.register({ email, password: PASSWORD, name: 'Ada' });
      const { secret } = await a.startTotpEnrollment(user.id);
      await b.confirmTotp(user.id, totpCodeAt(secret, clock.now()));
      clock.advance(STEP_MS);
      return { a, b, user, secret };
    }

    async function challenge(auth: ReturnType<typeof instance>, email: string) {
      const err = (await auth.login({ email, password: PASSWORD }).catch((e) => e)) as AuthError;
      expect(err.code).toBe('MFA_REQUIRED');
      return err.details?.['challenge'] as string;
    }

    it('one code presented to both instances at once signs in exactly once (concurrent replay across instances)', async () => {
      const email = 'replay@example.com';
      const { a, b, secret } = await enrolled(email);
      const code = totpCodeAt(secret, clock.now());
      const ch = await challenge(a, email);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 4 }, (_, i) => (i % 2 ? a : b).completeMfa(ch, { code })),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      // And on a new login the used code is refused (replay).
      const again = await b.completeMfa(await challenge(b, email), { code }).catch((e) => e);
      expect((again as AuthError).code).toBe('MFA_INVALID_CODE');
    }, 60_000);

    it('a challenge used on one instance is MFA_CHALLENGE_INVALID on the other (single use)', async () => {
      const email = 'single-use@example.com';
      const { a, b, secret } = await enrolled(email);
      const ch = await challenge(a, email);
      await a.completeMfa(ch, { code: totpCodeAt(secret, clock.now()) });
      clock.advance(STEP_MS);
      const err = await b
        .completeMfa(ch, { code: totpCodeAt(secret, clock.now()) })
        .catch((e) => e);
      expect((err as AuthError).code).toBe('MFA_CHALLENGE_INVALID');
    }, 60_000);

    it('wrong codes spread over both instances lock the factor at the fifth (brute force across instances)', async () => {
      const email = 'lockout@example.com';
      const { a, b, secret } = await enrolled(email);
      const near = [-STEP_MS, 0, STEP_MS].map((o) => totpCodeAt(secret, clock.now() + o));
      const wrong = ['000000', '111111', '222222', '333333', '444444', '555555'].filter(
        (c) => !near.includes(c),
      );
      const ch = await challenge(a, email);
      const codes: string[] = [];
      for (let i = 0; i < 5; i++) {
        const err = await (i % 2 ? a : b).completeMfa(ch, { code: wrong[i]! }).catch((e) => e);
        codes.push((err as AuthError).code);
      }
      expect(codes.at(-1)).toBe('MFA_LOCKED');
      const locked = await b
        .completeMfa(await challenge(b, email), { code: totpCodeAt(secret, clock.now()) })
        .catch((e) => e);
      expect((locked as AuthError).code).toBe('MFA_LOCKED');
    }, 60_000);

    it('a recovery code works once across instances, and eraseUser leaves no factor behind', async () => {
      const email = 'recovery@example.com';
      const [a, b] = [instance(), instance()];
      const user = await a.register({ email, password: PASSWORD, name: 'Ada' });
      const { secret } = await a.startTotpEnrollment(user.id);
      const { recoveryCodes } = await a.confirmTotp(user.id, totpCodeAt(secret, clock.now()));
      await b.completeMfa(await challenge(b, email), { recoveryCode: recoveryCodes[0]! });
      const again = await a
        .completeMfa(await challenge(a, email), { recoveryCode: recoveryCodes[0]! })
        .catch((e) => e);
      expect((again as AuthError).code).toBe('MFA_INVALID_CODE');
      expect((await a.exportUser(user.id)).mfa).toMatchObject({
        enrolled: true,
        recoveryCodesLeft: 9,
      });
      await b.eraseUser(user.id);
      const stores = createPostgresStores(db.client, db.options).stores;
      expect(await stores.mfa.getFactor(user.id)).toBeNull();
      expect(await stores.mfa.recoveryCodesLeft(user.id)).toBe(0);
    }, 60_000);
  });
}
