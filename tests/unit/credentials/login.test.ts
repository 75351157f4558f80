import { describe, expect, it } from 'vitest';
import { AuthError, createAuth, MemoryUserStore } from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';
import { makeAuth, PASSWORD, registerUser } from '../../helpers/auth.js';

const MINUTE = 60_000;

async function failLogin(
  auth: ReturnType<typeof makeAuth>['auth'],
  email: string,
  password = 'wrong-password!',
) {
  return auth.login({ email, password }).then(
    () => {
      throw new Error('login unexpectedly succeeded');
    },
    (err: AuthError) => err,
  );
}

describe('login', () => {
  it('returns the user without its hash for the right password', async () => {
    const { auth } = makeAuth();
    const registered = await registerUser(auth);
    const result = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    expect(result.user).toEqual(registered);
    expect(JSON.stringify(result)).not.toContain('$fake$');
  });

  it('matches the email case-insensitively and ignores surrounding spaces', async () => {
    const { auth } = makeAuth();
    await registerUser(auth);
    const result = await auth.login({ email: '  ADA@Example.com ', password: PASSWORD });
    expect(result.user.email).toBe('ada@example.com');
  });

  it('refuses a wrong password with INVALID_CREDENTIALS', async () => {
    const { auth } = makeAuth();
    await registerUser(auth);
    const err = await failLogin(auth, 'ada@example.com');
    expect(err).toBeInstanceOf(AuthError);
    expect(err.code).toBe('INVALID_CREDENTIALS');
    expect(err.status).toBe(401);
  });

  it('answers an unknown email exactly like a wrong password (user enumeration)', async () => {
    const { auth } = makeAuth();
    await registerUser(auth);
    const wrong = await failLogin(auth, 'ada@example.com');
    const unknown = await failLogin(auth, 'nobody@example.com');
    expect(unknown.toJSON()).toEqual(wrong.toJSON());
    expect(unknown.status).toBe(wrong.status);
  });

  it('runs one password check against a dummy hash of the configured cost for an unknown email (timing enumeration)', async () => {
    const { auth, hasher } = makeAuth({ passwords: { cost: 12 } });
    const before = hasher.verifyCalls;
    await failLogin(auth, 'nobody@example.com');
    expect(hasher.verifyCalls - before).toBe(1);
  });

  it('prepares the dummy hash with the configured cost', async () => {
    const { hasher } = makeAuth({ passwords: { cost: 12 } });
    await new Promise((r) => setImmediate(r));
    expect(hasher.hashCalls).toBe(1);
  });

  it('answers a disabled account like a wrong password, even with the right one', async () => {
    const { auth } = makeAuth();
    const user = await registerUser(auth);
    await auth.disableUser(user.id);
    const disabled = await failLogin(auth, 'ada@example.com', PASSWORD);
    const unknown = await failLogin(auth, 'nobody@example.com');
    expect(disabled.toJSON()).toEqual(unknown.toJSON());
  });

  it('fails as INVALID_CREDENTIALS, never a crash, when the stored hash is malformed', async () => {
    const users = new MemoryUserStore();
    const auth = createAuth({ stores: { users } });
    await users.create({
      email: 'bad@example.com',
      name: 'Bad',
      role: 'user',
      passwordHash: 'not-a-hash',
    });
    await expect(
      auth.login({ email: 'bad@example.com', password: PASSWORD }),
    ).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
  });

  it('refuses non-string email or password with VALIDATION_ERROR', async () => {
    const { auth } = makeAuth();
    for (const input of [{}, { email: 'a@example.com' }, { email: 1, password: 'x' }, null]) {
      await expect(auth.login(input as never)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    }
  });

  it('refuses a password over 72 bytes with VALIDATION_ERROR before any password check', async () => {
    const { auth, hasher } = makeAuth();
    await registerUser(auth);
    const before = hasher.verifyCalls;
    await expect(
      auth.login({ email: 'ada@example.com', password: `${PASSWORD}${'x'.repeat(60)}` }),
    ).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(hasher.verifyCalls).toBe(before);
  });

  it('logs in with the NFD form of a password registered in NFC, and the reverse', async () => {
    const { auth } = makeAuth();
    const nfc = 'mot-de-passe-\u00e9t\u00e9';
    await auth.register({ email: 'nfc@example.com', password: nfc, name: 'N' });
    await auth.register({ email: 'nfd@example.com', password: nfc.normalize('NFD'), name: 'N' });
    await expect(
      auth.login({ email: 'nfc@example.com', password: nfc.normalize('NFD') }),
    ).resolves.toBeTruthy();
    await expect(auth.login({ email: 'nfd@example.com', password: nfc })).resolves.toBeTruthy();
  });

  it('records the time of the last login', async () => {
    const { auth, clock } = makeAuth();
    const user = await registerUser(auth);
    await auth.login({ email: 'ada@example.com', password: PASSWORD });
    const stored = await internalsOf(auth).stores.users.findById(user.id);
    expect(stored?.lastLoginAt?.getTime()).toBe(clock.now());
  });
});

describe('rehash on login', () => {
  it('rehashes with the configured cost when the stored cost differs', async () => {
    const { auth } = makeAuth({ passwords: { cost: 12 } });
    const user = await internalsOf(auth).stores.users.create({
      email: 'old@example.com',
      name: 'Old',
      role: 'user',
      passwordHash: `$fake$10$${PASSWORD}`,
    });
    await auth.login({ email: 'old@example.com', password: PASSWORD });
    expect((await internalsOf(auth).stores.users.findById(user.id))?.passwordHash).toBe(
      `$fake$12$${PASSWORD}`,
    );
    await expect(
      auth.login({ email: 'old@example.com', password: PASSWORD }),
    ).resolves.toBeTruthy();
  });

  it('leaves a hash of the configured cost alone', async () => {
    const { auth, hasher } = makeAuth();
    await registerUser(auth);
    const hashes = hasher.hashCalls;
    await auth.login({ email: 'ada@example.com', password: PASSWORD });
    expect(hasher.hashCalls).toBe(hashes);
  });

  it('upgrades a real $2y$ hash from PHP to $2b$ with the configured cost', async () => {
    const users = new MemoryUserStore();
    const auth = createAuth({ stores: { users } });
    const user = await users.create({
      email: 'php@example.com',
      name: 'Rasmus',
      role: 'user',
      passwordHash: '$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a',
    });
    // 'rasmuslerdorf' is 13 characters: fine for a stored hash, the policy applies to new ones.
    await auth.login({ email: 'php@example.com', password: 'rasmuslerdorf' });
    expect((await users.findById(user.id))?.passwordHash).toMatch(/^\$2b\$10\$/);
  });
});

describe('lockout', () => {
  it('locks after 5 failures: the 6th attempt gets ACCOUNT_LOCKED with retryAfter of 1 minute (the default first lock)', async () => {
    const { auth } = makeAuth();
    await registerUser(auth);
    for (let i = 0; i < 5; i++)
      expect((await failLogin(auth, 'ada@example.com')).code).toBe('INVALID_CREDENTIALS');
    const locked = await failLogin(auth, 'ada@example.com');
    expect(locked.code).toBe('ACCOUNT_LOCKED');
    expect(locked.status).toBe(403);
    expect(locked.retryAfter).toBe(60);
  });

  it('victim lockout DoS: each consecutive lock doubles from 1 min up to 1 h, a success resets it', async () => {
    const { auth, clock } = makeAuth();
    await registerUser(auth);
    /** Five wrong guesses by the attacker, then the victim's own attempt: seconds locked. */
    async function lockRound(): Promise<number> {
      for (let i = 0; i < 5; i++)
        expect((await failLogin(auth, 'ada@example.com')).code).toBe('INVALID_CREDENTIALS');
      const locked = await failLogin(auth, 'ada@example.com', PASSWORD);
      expect(locked.code).toBe('ACCOUNT_LOCKED');
      clock.advance(locked.retryAfter! * 1000);
      return locked.retryAfter!;
    }
    const rounds: number[] = [];
    for (let i = 0; i < 8; i++) rounds.push(await lockRound());
    expect(rounds).toEqual([60, 120, 240, 480, 960, 1920, 3600, 3600]);
    // The victim logs in once the lock ends: the next attacker round locks for 1 minute again.
    await expect(
      auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).resolves.toBeTruthy();
    expect(await lockRound()).toBe(60);
  });

  it('50 concurrent wrong passwords emit exactly one ACCOUNT_LOCKED', async () => {
    const { auth, events } = makeAuth();
    await registerUser(auth);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        failLogin(auth, 'ada@example.com', `wrong-password-${i}`),
      ),
    );
    expect(results.filter((e) => e.code === 'ACCOUNT_LOCKED').length).toBe(45);
    const locks = events.filter((e) => e.event === 'ACCOUNT_LOCKED');
    expect(locks).toHaveLength(1);
    expect(locks[0]?.metadata).toMatchObject({
      lockedUntil: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      emailHash: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
  });

  it('emits one ACCOUNT_LOCKED per lock when failures lock one after the other (sequential guessing)', async () => {
    const { auth, clock, events } = makeAuth();
    await registerUser(auth);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 7; i++) await failLogin(auth, 'ada@example.com');
      clock.advance(60 * MINUTE);
    }
    const locks = events.filter((e) => e.event === 'ACCOUNT_LOCKED');
    expect(locks).toHaveLength(2);
    expect(locks.map((e) => e.userId)).toEqual([expect.any(String), expect.any(String)]);
  });

  it('refuses a locked identifier before computing any hash', async () => {
    const { auth, hasher } = makeAuth();
    await registerUser(auth);
    for (let i = 0; i < 5; i++) await failLogin(auth, 'ada@example.com');
    const before = hasher.verifyCalls;
    await failLogin(auth, 'ada@example.com', PASSWORD);
    expect(hasher.verifyCalls).toBe(before);
  });

  it('refuses the correct password while locked and accepts it once the lock ends', async () => {
    const { auth, clock } = makeAuth();
    await registerUser(auth);
    for (let i = 0; i < 5; i++) await failLogin(auth, 'ada@example.com');
    expect((await failLogin(auth, 'ada@example.com', PASSWORD)).code).toBe('ACCOUNT_LOCKED');
    clock.advance(MINUTE - 1000);
    const stillLocked = await failLogin(auth, 'ada@example.com', PASSWORD);
    expect(stillLocked.code).toBe('ACCOUNT_LOCKED');
    expect(stillLocked.retryAfter).toBe(1);
    clock.advance(1000);
    await expect(
      auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).resolves.toBeTruthy();
  });

  it('locks an unknown identifier the same way, so the lock reveals nothing (enumeration via lockout)', async () => {
    const { auth } = makeAuth();
    await registerUser(auth);
    const known: string[] = [];
    const unknown: string[] = [];
    for (let i = 0; i < 7; i++) {
      known.push((await failLogin(auth, 'ada@example.com')).code);
      unknown.push((await failLogin(auth, 'ghost@example.com')).code);
    }
    expect(unknown).toEqual(known);
    expect(known.slice(5)).toEqual(['ACCOUNT_LOCKED', 'ACCOUNT_LOCKED']);
  });

  it('counts the identifier case-insensitively (lockout bypass by changing case)', async () => {
    const { auth } = makeAuth();
    await registerUser(auth);
    for (const email of [
      'ada@example.com',
      'ADA@example.com',
      'Ada@Example.com',
      ' ada@EXAMPLE.com',
      'aDa@example.COM',
    ]) {
      await failLogin(auth, email);
    }
    expect((await failLogin(auth, 'ADA@EXAMPLE.COM', PASSWORD)).code).toBe('ACCOUNT_LOCKED');
  });

  it('resets the counter after a successful login', async () => {
    const { auth } = makeAuth();
    await registerUser(auth);
    for (let i = 0; i < 4; i++) await failLogin(auth, 'ada@example.com');
    await auth.login({ email: 'ada@example.com', password: PASSWORD });
    for (let i = 0; i < 4; i++)
      expect((await failLogin(auth, 'ada@example.com')).code).toBe('INVALID_CREDENTIALS');
    await expect(
      auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).resolves.toBeTruthy();
  });

  it('forgets failures older than the 15-minute window', async () => {
    const { auth, clock } = makeAuth();
    await registerUser(auth);
    for (let i = 0; i < 4; i++) await failLogin(auth, 'ada@example.com');
    clock.advance(15 * MINUTE);
    for (let i = 0; i < 4; i++)
      expect((await failLogin(auth, 'ada@example.com')).code).toBe('INVALID_CREDENTIALS');
  });

  it('uses the configured threshold, window and duration', async () => {
    const { auth, clock } = makeAuth({ lockout: { maxAttempts: 2, window: '1m', duration: '5m' } });
    await registerUser(auth);
    await failLogin(auth, 'ada@example.com');
    await failLogin(auth, 'ada@example.com');
    const locked = await failLogin(auth, 'ada@example.com', PASSWORD);
    expect(locked).toMatchObject({ code: 'ACCOUNT_LOCKED', retryAfter: 300 });
    clock.advance(5 * MINUTE);
    await expect(
      auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).resolves.toBeTruthy();
  });

  it('doubles each further lockout with progressive backoff, up to the maximum', async () => {
    const { auth, clock } = makeAuth({
      lockout: { maxAttempts: 2, duration: '10m', backoffFactor: 2, maxDuration: '30m' },
    });
    const retries: number[] = [];
    for (let round = 0; round < 3; round++) {
      await failLogin(auth, 'ada@example.com');
      await failLogin(auth, 'ada@example.com');
      const locked = await failLogin(auth, 'ada@example.com');
      retries.push(locked.retryAfter!);
      clock.advance(locked.retryAfter! * 1000);
    }
    expect(retries).toEqual([600, 1200, 1800]);
  });

  it('gives 50 concurrent wrong attempts on one account at most 5 password checks and locks it (parallel brute force)', async () => {
    const { auth, hasher } = makeAuth();
    await registerUser(auth);
    const before = hasher.verifyCalls;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        failLogin(auth, 'ada@example.com', `wrong-password-${i}`),
      ),
    );
    expect(hasher.verifyCalls - before).toBeLessThanOrEqual(5);
    expect(results.filter((e) => e.code === 'ACCOUNT_LOCKED').length).toBeGreaterThanOrEqual(45);
    expect((await failLogin(auth, 'ada@example.com', PASSWORD)).code).toBe('ACCOUNT_LOCKED');
  });

  it('counts a wrong current password on a password change against the same lockout', async () => {
    const { auth } = makeAuth();
    const user = await registerUser(auth);
    for (let i = 0; i < 5; i++) {
      await expect(
        auth.changePassword(user.id, {
          currentPassword: 'not-it-at-all',
          newPassword: 'violet tangerine orbit 42',
        }),
      ).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    }
    expect((await failLogin(auth, 'ada@example.com', PASSWORD)).code).toBe('ACCOUNT_LOCKED');
  });
});
