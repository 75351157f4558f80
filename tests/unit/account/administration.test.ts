import { describe, expect, it } from 'vitest';
import {
  type AuditEvent,
  AuthError,
  createAuth,
  MemoryUserStore,
  type UserPatch,
  type UserRecord,
} from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';
import { collectingLogger, makeAuth, PASSWORD, registerUser } from '../../helpers/auth.js';
import { ManualClock } from '../../helpers/fakes.js';
import { mailsTo, makeMailAuth, tokenIn } from './account-auth.js';

const DAY = 86_400_000;
const NEW_PASSWORD = 'a brand new passphrase';

async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  return promise.then(
    () => {
      throw new Error('the call unexpectedly succeeded');
    },
    (err: unknown) => {
      if (!(err instanceof AuthError)) throw err;
      return err;
    },
  );
}

const named = (events: AuditEvent[], name: AuditEvent['event']) =>
  events.filter((e) => e.event === name);

describe('banUser: sessions', () => {
  it('a ban ends every session at once: access and refresh tokens of both devices stop working', async () => {
    const { auth, events } = makeAuth();
    const user = await registerUser(auth);
    const laptop = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    const phone = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    // Verified once, so that the verified-token cache holds them: the ban must beat the cache.
    await auth.verifyAccessToken(laptop.token);
    await auth.verifyAccessToken(phone.token);

    await auth.banUser(user.id, { reason: 'Spam' }, { actorId: 'admin-1' });

    for (const session of [laptop, phone]) {
      expect((await refusal(auth.verifyAccessToken(session.token))).code).toBe('TOKEN_INVALID');
      expect((await refusal(auth.refresh(session.refreshToken))).code).toBe('TOKEN_INVALID');
    }
    const revoked = named(events, 'SESSIONS_REVOKED');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({ userId: user.id, metadata: { reason: 'banned', count: 2 } });
  });

  it('a login racing a ban: a session created after the ban ended the others cannot refresh (refused, revoked with reason user_banned)', async () => {
    const { auth, clock, events } = makeAuth();
    const user = await registerUser(auth);
    // The login passed its password check before the ban landed and created its session after
    // banUser had ended every session: the stored ban is all that is left to stop it.
    const late = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    await internalsOf(auth).stores.users.update(user.id, {
      bannedAt: new Date(clock.now()),
      banReason: 'Spam',
      bannedUntil: null,
    });
    expect((await refusal(auth.refresh(late.refreshToken))).code).toBe('TOKEN_INVALID');
    const revoked = named(events, 'SESSIONS_REVOKED');
    expect(revoked.at(-1)).toMatchObject({ userId: user.id, metadata: { reason: 'user_banned' } });
    // The session is over: its access token is refused from now on too.
    expect((await refusal(auth.verifyAccessToken(late.token))).code).toBe('TOKEN_INVALID');
  });

  it('a refused ban (bad input) changes nothing: the sessions live on and login still works', async () => {
    const { auth, clock, events } = makeAuth();
    const user = await registerUser(auth);
    const session = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    await refusal(auth.banUser(user.id, { reason: '' }));
    await refusal(auth.banUser(user.id, { reason: 'x', until: new Date(clock.now() - 1) }));
    await expect(auth.verifyAccessToken(session.token)).resolves.toMatchObject({
      userId: user.id,
    });
    await expect(
      auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).resolves.toBeDefined();
    expect(named(events, 'USER_BANNED')).toHaveLength(0);
    expect(named(events, 'SESSIONS_REVOKED')).toHaveLength(0);
  });
});

describe('banUser: login of a banned account', () => {
  it('account enumeration via ban: the right password to a banned account is answered exactly like a wrong password and an unknown email', async () => {
    const { auth } = makeAuth();
    const banned = await registerUser(auth, 'ada@example.com');
    await registerUser(auth, 'bob@example.com');
    await auth.banUser(banned.id, { reason: 'Spam' });

    const bannedRight = await refusal(auth.login({ email: 'ada@example.com', password: PASSWORD }));
    const wrong = await refusal(
      auth.login({ email: 'bob@example.com', password: 'not the password!' }),
    );
    const unknown = await refusal(auth.login({ email: 'nobody@example.com', password: PASSWORD }));
    for (const err of [bannedRight, wrong, unknown]) {
      expect(err.toJSON()).toEqual(bannedRight.toJSON());
      expect(err.status).toBe(401);
      expect(err.retryAfter).toBeUndefined();
      expect(err.details).toBeUndefined();
    }
    expect(bannedRight.code).toBe('INVALID_CREDENTIALS');
  });

  it('timing enumeration via ban: a banned login runs exactly one password check, like a wrong password', async () => {
    const { auth, hasher } = makeAuth();
    const user = await registerUser(auth, 'ada@example.com');
    await auth.banUser(user.id, { reason: 'Spam' });
    const before = hasher.verifyCalls;
    await refusal(auth.login({ email: 'ada@example.com', password: PASSWORD }));
    expect(hasher.verifyCalls - before).toBe(1);
    await refusal(auth.login({ email: 'ada@example.com', password: 'not the password!' }));
    expect(hasher.verifyCalls - before).toBe(2);
  });

  it('timing enumeration via ban (real bcrypt): a banned login with the right password takes as long as a wrong password and an unknown email (medians within 20 %)', async () => {
    const clock = new ManualClock();
    const auth = createAuth({
      clock,
      passwords: { cost: 10 },
      lockout: { maxAttempts: 1000 },
      auditEmailKey: 'test-audit-key-0123456789',
      logger: collectingLogger(),
    });
    const banned = await auth.register({
      email: 'ada@example.com',
      password: PASSWORD,
      name: 'Ada',
    });
    await auth.register({ email: 'bob@example.com', password: PASSWORD, name: 'Bob' });
    await auth.banUser(banned.id, { reason: 'Spam' });
    const kinds = {
      banned: { email: 'ada@example.com', password: PASSWORD },
      wrong: { email: 'bob@example.com', password: 'not the password!' },
      unknown: { email: 'nobody@example.com', password: PASSWORD },
    } as const;
    const names = Object.keys(kinds) as (keyof typeof kinds)[];
    const median = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return sorted[sorted.length >> 1]!;
    };
    async function measure(samples: number) {
      const durations = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<
        keyof typeof kinds,
        number[]
      >;
      for (let round = 0; round < samples + 2; round++) {
        // Interleaved in a rotating order, so that the machine's load hits all kinds alike.
        for (let i = 0; i < names.length; i++) {
          const name = names[(round + i) % names.length]!;
          const started = performance.now();
          const err = await refusal(auth.login(kinds[name]));
          const elapsed = performance.now() - started;
          expect(err.code).toBe('INVALID_CREDENTIALS');
          if (round >= 2) durations[name].push(elapsed);
        }
      }
      return Object.fromEntries(names.map((n) => [n, median(durations[n])])) as Record<
        keyof typeof kinds,
        number
      >;
    }
    const spread = (m: Record<keyof typeof kinds, number>) =>
      Math.max(...names.map((n) => Math.abs(m[n] - m.wrong) / m.wrong));
    // A shared 2-core machine can disturb one run: up to three, the test holds if one is within
    // bounds. Skipping bcrypt for banned accounts (a fraction of a millisecond against 50 ms or
    // more) or running it twice fails all three.
    let medians = await measure(15);
    for (let attempt = 1; attempt < 3 && spread(medians) > 0.2; attempt++) {
      medians = await measure(15);
    }
    console.log('banned login medians (ms):', medians);
    for (const name of names) {
      expect(
        Math.abs(medians[name] - medians.wrong) / medians.wrong,
        `median of ${name}: ${medians[name].toFixed(2)} ms against ${medians.wrong.toFixed(2)} ms for a wrong password`,
      ).toBeLessThanOrEqual(0.2);
    }
    await auth.close();
  }, 120_000);

  it('brute force against a banned account counts toward the lockout like wrong passwords (then ACCOUNT_LOCKED)', async () => {
    const { auth, events } = makeAuth({ lockout: { maxAttempts: 3 } });
    const banned = await registerUser(auth, 'ada@example.com');
    const bob = await registerUser(auth, 'bob@example.com');
    await auth.banUser(banned.id, { reason: 'Spam' });
    const codes = async (email: string, password: string) => {
      const out: string[] = [];
      for (let i = 0; i < 4; i++) out.push((await refusal(auth.login({ email, password }))).code);
      return out;
    };
    const bannedCodes = await codes('ada@example.com', PASSWORD);
    const wrongCodes = await codes('bob@example.com', 'not the password!');
    expect(bannedCodes).toEqual(wrongCodes);
    expect(bannedCodes).toEqual([
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
      'INVALID_CREDENTIALS',
      'ACCOUNT_LOCKED',
    ]);
    expect(named(events, 'ACCOUNT_LOCKED').map((e) => e.userId)).toEqual([banned.id, bob.id]);
  });

  it("audits a banned account's login as LOGIN_FAILED with reason 'banned' and its user id, never LOGIN_SUCCEEDED", async () => {
    const { auth, events } = makeAuth();
    const user = await registerUser(auth);
    await auth.banUser(user.id, { reason: 'Spam' });
    await refusal(auth.login({ email: 'ada@example.com', password: PASSWORD }));
    await refusal(auth.login({ email: 'ada@example.com', password: 'not the password!' }));
    expect(named(events, 'LOGIN_FAILED').map((e) => [e.userId, e.metadata['reason']])).toEqual([
      [user.id, 'banned'],
      [user.id, 'wrong_password'],
    ]);
    expect(named(events, 'LOGIN_SUCCEEDED')).toHaveLength(0);
  });

  it('a temporary ban ends by itself at `until` (injected clock): refused one millisecond before, accepted at it', async () => {
    const { auth, clock } = makeAuth();
    const user = await registerUser(auth);
    const until = new Date(clock.now() + 7 * DAY);
    const view = await auth.banUser(user.id, { reason: 'Cooling off', until });
    expect(view.ban).toEqual({
      reason: 'Cooling off',
      since: new Date(clock.now()).toISOString(),
      until: until.toISOString(),
    });
    clock.time = until.getTime() - 1;
    await expect(
      auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    clock.time = until.getTime();
    await expect(
      auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).resolves.toMatchObject({ user: { id: user.id } });
    // The ended ban no longer shows in the admin view.
    const { users } = await auth.listUsers();
    expect(users[0]?.ban).toBeNull();
  });

  it('a permanent ban holds a century later, until unbanUser; then login works at once', async () => {
    const { auth, clock, events } = makeAuth();
    const user = await registerUser(auth);
    const view = await auth.banUser(user.id, { reason: 'Fraud' }, { actorId: 'admin-1' });
    expect(view.ban?.until).toBeNull();
    clock.advance(36_500 * DAY);
    await expect(
      auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    const lifted = await auth.unbanUser(user.id, { actorId: 'admin-2', ip: '203.0.113.9' });
    expect(lifted.ban).toBeNull();
    await expect(
      auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).resolves.toMatchObject({ user: { id: user.id } });
    const unbanned = named(events, 'USER_UNBANNED');
    expect(unbanned).toHaveLength(1);
    expect(unbanned[0]).toMatchObject({
      status: 'success',
      userId: user.id,
      ip: '203.0.113.9',
      metadata: { actorId: 'admin-2', wasInForce: true },
    });
  });

  it('password reset of a banned account works, but login stays refused until the ban ends', async () => {
    const made = makeMailAuth();
    const { auth, clock } = made;
    const user = await registerUser(auth, 'ada@example.com');
    await auth.banUser(user.id, { reason: 'Spam', until: new Date(clock.now() + DAY) });
    await auth.requestPasswordReset('ada@example.com');
    await auth.mail.flush();
    const token = tokenIn(mailsTo(made.sent, 'ada@example.com', 'password_reset').at(-1));
    await auth.resetPassword({ token, password: NEW_PASSWORD });
    await expect(
      auth.login({ email: 'ada@example.com', password: NEW_PASSWORD }),
    ).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    clock.advance(DAY);
    await expect(
      auth.login({ email: 'ada@example.com', password: NEW_PASSWORD }),
    ).resolves.toMatchObject({ user: { id: user.id } });
  });
});

describe('banUser and unbanUser: events, input, errors', () => {
  it('emits USER_BANNED with the actor, the reason and the end, and the request context', async () => {
    const { auth, clock, events } = makeAuth();
    const user = await registerUser(auth);
    const until = new Date(clock.now() + DAY);
    await auth.banUser(
      user.id,
      { reason: '  Chargeback fraud\non order 42  ', until },
      { actorId: 'admin-1', ip: '203.0.113.7', userAgent: 'curl/8', requestId: 'req-1' },
    );
    await auth.banUser(user.id, { reason: 'Permanent now' });
    const banned = named(events, 'USER_BANNED');
    expect(banned).toHaveLength(2);
    expect(banned[0]).toMatchObject({
      status: 'success',
      userId: user.id,
      ip: '203.0.113.7',
      userAgent: 'curl/8',
      requestId: 'req-1',
      metadata: {
        actorId: 'admin-1',
        reason: 'Chargeback fraud\non order 42',
        until: until.toISOString(),
      },
    });
    // No actor given: no actorId; a ban without an end: until null. The ban was replaced.
    expect(banned[1]?.metadata).toEqual({ reason: 'Permanent now', until: null });
    const { users } = await auth.listUsers();
    expect(users[0]?.ban).toMatchObject({ reason: 'Permanent now', until: null });
  });

  it('refuses a bad reason or end with VALIDATION_ERROR naming the field', async () => {
    const { auth, clock } = makeAuth();
    const user = await registerUser(auth);
    const now = clock.now();
    const cases: [unknown, string][] = [
      [{ reason: '' }, 'reason'],
      [{ reason: '   ' }, 'reason'],
      [{ reason: 'x'.repeat(501) }, 'reason'],
      [{ reason: 'null\u0000byte' }, 'reason'],
      [{ reason: 'escape\u001b[31m' }, 'reason'],
      [{ reason: 'lone \ud800 surrogate' }, 'reason'],
      [{ reason: 42 }, 'reason'],
      [{}, 'reason'],
      [null, 'reason'],
      [{ reason: 'ok', until: new Date(now) }, 'until'],
      [{ reason: 'ok', until: new Date(now - DAY) }, 'until'],
      [{ reason: 'ok', until: new Date(Number.NaN) }, 'until'],
      [{ reason: 'ok', until: '2999-01-01T00:00:00Z' }, 'until'],
      [{ reason: 'ok', until: now + DAY }, 'until'],
    ];
    for (const [input, field] of cases) {
      const err = await refusal(auth.banUser(user.id, input as never));
      expect(err.code, JSON.stringify(input)).toBe('VALIDATION_ERROR');
      expect(err.details, JSON.stringify(input)).toMatchObject({ field });
    }
    // 500 characters is the limit, included.
    await expect(auth.banUser(user.id, { reason: 'x'.repeat(500) })).resolves.toBeDefined();
  });

  it('answers NOT_FOUND for an unknown, malformed or non-string user id', async () => {
    const { auth } = makeAuth();
    for (const id of ['00000000-0000-4000-8000-000000000000', "1' OR '1'='1", 42, undefined]) {
      expect((await refusal(auth.banUser(id as never, { reason: 'Spam' }))).code).toBe('NOT_FOUND');
      expect((await refusal(auth.unbanUser(id as never))).code).toBe('NOT_FOUND');
    }
  });

  it('unbanning a user who has no ban changes nothing and emits nothing', async () => {
    const { auth, events } = makeAuth();
    const user = await registerUser(auth);
    const view = await auth.unbanUser(user.id, { actorId: 'admin-1' });
    expect(view.ban).toBeNull();
    expect(named(events, 'USER_UNBANNED')).toHaveLength(0);
  });

  it('a user store that drops the ban fields: banUser fails with INVALID_CONFIG instead of pretending the ban holds, and still ends the sessions', async () => {
    // A custom store written before bans: its update ignores the fields it does not know.
    class PreBanUserStore extends MemoryUserStore {
      override update(id: string, patch: UserPatch): Promise<UserRecord | null> {
        const { bannedAt: _a, bannedUntil: _u, banReason: _r, ...known } = patch;
        return super.update(id, known);
      }
    }
    const { auth, events } = makeAuth({ stores: { users: new PreBanUserStore() } });
    const user = await registerUser(auth);
    const session = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    const err = await refusal(auth.banUser(user.id, { reason: 'Spam' }));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toMatch(/did not keep the ban/);
    expect(named(events, 'USER_BANNED')).toHaveLength(0);
    expect((await refusal(auth.refresh(session.refreshToken))).code).toBe('TOKEN_INVALID');
  });
});

describe('listUsers', () => {
  async function withUsers(count: number) {
    const made = makeAuth();
    // Registered in a scrambled order; the listing sorts by email.
    for (let i = 0; i < count; i++) {
      const n = (i * 7) % count;
      await registerUser(made.auth, `user${String(n).padStart(3, '0')}@example.com`);
    }
    return made;
  }

  it('walks every user exactly once in email order with the opaque cursor (default page 50)', async () => {
    const { auth } = await withUsers(120);
    const seen: string[] = [];
    const sizes: number[] = [];
    let page = await auth.listUsers();
    for (;;) {
      sizes.push(page.users.length);
      seen.push(...page.users.map((u) => u.email));
      if (page.nextCursor === null) break;
      // Opaque: base64url, not the email in clear.
      expect(page.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(page.nextCursor).not.toContain('@');
      page = await auth.listUsers({ cursor: page.nextCursor });
    }
    expect(sizes).toEqual([50, 50, 20]);
    expect(seen).toEqual(
      Array.from({ length: 120 }, (_, i) => `user${String(i).padStart(3, '0')}@example.com`),
    );
  });

  it('returns AdminUserView: public fields, state and ban, never a hash', async () => {
    const { auth, clock } = makeAuth();
    const user = await registerUser(auth);
    await auth.login({ email: 'ada@example.com', password: PASSWORD });
    await auth.banUser(user.id, { reason: 'Spam' });
    const { users, nextCursor } = await auth.listUsers({ limit: 10 });
    expect(nextCursor).toBeNull();
    expect(users).toEqual([
      {
        id: user.id,
        email: 'ada@example.com',
        name: 'Ada Lovelace',
        role: 'user',
        emailVerified: false,
        isActive: true,
        createdAt: new Date(clock.now()).toISOString(),
        lastLoginAt: new Date(clock.now()).toISOString(),
        ban: { reason: 'Spam', since: new Date(clock.now()).toISOString(), until: null },
      },
    ]);
    expect(JSON.stringify(users)).not.toMatch(/\$fake\$|passwordHash/);
  });

  it('searches a case-insensitive prefix of the email (normalised like an email), paginating within it', async () => {
    const { auth } = makeAuth();
    for (const email of ['ada@example.com', 'adam@example.com', 'bob@example.com', 'ad@x.org']) {
      await registerUser(auth, email);
    }
    const emails = async (options: Parameters<typeof auth.listUsers>[0]) =>
      (await auth.listUsers(options)).users.map((u) => u.email);
    expect(await emails({ query: '  ADA' })).toEqual(['ada@example.com', 'adam@example.com']);
    // NFKC: a fullwidth "ａｄ" is "ad".
    expect(await emails({ query: '\uff41\uff44' })).toEqual([
      'ad@x.org',
      'ada@example.com',
      'adam@example.com',
    ]);
    expect(await emails({ query: '' })).toHaveLength(4);
    const first = await auth.listUsers({ query: 'ad', limit: 2 });
    expect(first.users.map((u) => u.email)).toEqual(['ad@x.org', 'ada@example.com']);
    expect(await emails({ query: 'ad', limit: 2, cursor: first.nextCursor! })).toEqual([
      'adam@example.com',
    ]);
  });

  it('refuses a limit outside 1..100 or not an integer with VALIDATION_ERROR (an unbounded page)', async () => {
    const { auth } = await withUsers(3);
    for (const limit of [0, -1, 101, 1e9, 2.5, Number.NaN, Number.POSITIVE_INFINITY, '10', null]) {
      const err = await refusal(auth.listUsers({ limit: limit as never }));
      expect(err.code, String(limit)).toBe('VALIDATION_ERROR');
      expect(err.details).toMatchObject({ field: 'limit' });
    }
    expect((await auth.listUsers({ limit: 100 })).users).toHaveLength(3);
    expect((await auth.listUsers({ limit: 1 })).users).toHaveLength(1);
  });

  it('malformed or forged cursors are VALIDATION_ERROR before the store is asked', async () => {
    const asked: unknown[] = [];
    class CountingStore extends MemoryUserStore {
      override listUsers(query: Parameters<MemoryUserStore['listUsers']>[0]) {
        asked.push(query);
        return super.listUsers(query);
      }
    }
    const { auth } = makeAuth({ stores: { users: new CountingStore() } });
    await registerUser(auth);
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
    const text = (value: string) => b64(Buffer.from(value, 'utf8'));
    const forged: unknown[] = [
      '',
      'not base64!',
      "' OR 1=1 --",
      'YWRh==', // "ada" with padding: not the encoding listUsers makes
      'YWR', // "ad" with spare bits set: not canonical
      b64(Uint8Array.from([0xff, 0xfe, 0x41])), // not UTF-8
      text('a\u0000b@example.com'), // a NUL, which PostgreSQL would refuse
      text('\u001b[2J'),
      'A'.repeat(5000),
      42,
      null,
      {},
    ];
    for (const cursor of forged) {
      const before = asked.length;
      const err = await refusal(auth.listUsers({ cursor: cursor as never }));
      expect(err.code, String(cursor)).toBe('VALIDATION_ERROR');
      expect(err.details).toMatchObject({ field: 'cursor' });
      expect(asked.length, String(cursor)).toBe(before);
    }
    // A well-formed cursor names a position, whoever made it: the page after "ada".
    const after = await auth.listUsers({ cursor: text('ada') });
    expect(after.users.map((u) => u.email)).toEqual(['ada@example.com']);
    expect(asked.at(-1)).toEqual({ limit: 50, cursor: 'ada' });
  });

  it('refuses a query that is not text of at most 255 characters, or holds control characters', async () => {
    const { auth } = makeAuth();
    for (const query of ['x'.repeat(256), 'a\u0000', 'a\nb', 'lone \udfff', 42, null]) {
      const err = await refusal(auth.listUsers({ query: query as never }));
      expect(err.code, JSON.stringify(query)).toBe('VALIDATION_ERROR');
      expect(err.details).toMatchObject({ field: 'query' });
    }
  });

  it('passes only the normalised options to the store and caps what it returns at the limit', async () => {
    const seen: unknown[] = [];
    class GreedyStore extends MemoryUserStore {
      override async listUsers(query: Parameters<MemoryUserStore['listUsers']>[0]) {
        seen.push(query);
        // A store that ignores the limit must not make the page unbounded.
        const all = await super.listUsers({ ...query, limit: 100 });
        return { users: all.users, nextCursor: null };
      }
    }
    const { auth } = makeAuth({ stores: { users: new GreedyStore() } });
    for (const name of ['a', 'b', 'c']) await registerUser(auth, `${name}@example.com`);
    const page = await auth.listUsers({ limit: 2, query: ' A' });
    expect(seen).toEqual([{ limit: 2, query: 'a' }]);
    expect(page.users.length).toBeLessThanOrEqual(2);
  });
});
