// Export and erasure of a user's data (src/account/data-rights.ts), on the memory stores.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DataRights } from '../../../src/account/data-rights.js';
import { AuditEmitter } from '../../../src/audit/emitter.js';
import { lockoutKeyHasher, secretBytes } from '../../../src/credentials/identifier-key.js';
import {
  type AuthOptions,
  MemoryAttemptStore,
  MemoryAuditLog,
  MemoryMailOutbox,
  MemoryOneTimeTokenStore,
  MemoryRateLimitStore,
  MemoryTokenStore,
  MemoryUserStore,
} from '../../../src/index.js';
import { RateLimiter } from '../../../src/ratelimit/limiter.js';
import { silentLogger } from '../../../src/runtime.js';
import { PASSWORD, registerUser } from '../../helpers/auth.js';
import { ManualClock } from '../../helpers/fakes.js';
import { makeMailAuth, tokenIn } from './account-auth.js';

const KEY = 'test-audit-key-0123456789';
const EMAIL = 'ada@example.com';

/** Every store held by the test, so that it can look into each after an erasure. */
function stores() {
  const outbox = new MemoryMailOutbox();
  return {
    users: new MemoryUserStore(),
    tokens: new MemoryTokenStore(),
    attempts: new MemoryAttemptStore(),
    rateLimits: new MemoryRateLimitStore(),
    outbox,
    oneTimeTokens: new MemoryOneTimeTokenStore({ outbox }),
    auditLog: new MemoryAuditLog(),
  };
}

type Stores = ReturnType<typeof stores>;

function setup(options: AuthOptions = {}, held: Stores = stores()) {
  const made = makeMailAuth({ stores: held, ...options });
  const lockoutKey = lockoutKeyHasher(secretBytes(KEY));
  const emailHash = (email: string) =>
    new AuditEmitter({
      sink: undefined,
      clock: made.clock,
      logger: silentLogger,
      emailKey: secretBytes(KEY),
    }).hashEmail(email);
  return { ...made, stores: held, lockoutKey, emailHash };
}

/** A user with two sessions, a failed login, a pending reset link and verification link, mails. */
async function populated(options: AuthOptions = {}, held?: Stores) {
  const made = setup(options, held);
  const { auth, clock } = made;
  const user = await registerUser(auth);
  await auth.mail.flush();
  const phone = await auth.login({ email: EMAIL, password: PASSWORD }, { ip: '203.0.113.7' });
  const laptop = await auth.login({ email: EMAIL, password: PASSWORD }, { ip: '203.0.113.8' });
  await expect(auth.login({ email: EMAIL, password: 'wrong password!' })).rejects.toMatchObject({
    code: 'INVALID_CREDENTIALS',
  });
  clock.advance(1_000);
  await auth.requestPasswordReset(EMAIL);
  await auth.mail.flush();
  await auth.requestEmailVerification(user.id);
  await auth.mail.flush();
  const links = made.sent.map(tokenIn);
  return { ...made, user, phone, laptop, links };
}

const sha256 = (value: string, encoding: 'hex' | 'base64url') =>
  createHash('sha256').update(value, 'utf8').digest(encoding);

describe('exportUser', () => {
  it('the export JSON contains no password hash, token or token hash (every stored value scanned)', async () => {
    const {
      auth,
      stores: held,
      user,
      phone,
      laptop,
      links,
    } = await populated({
      account: { dataExport: { extend: (u) => ({ orders: [{ owner: u.id, total: '9.99' }] }) } },
    });
    const record = await held.users.findById(user.id);
    const secrets = [
      record!.passwordHash,
      ...[phone, laptop].flatMap((s) => [s.token, s.refreshToken]),
      ...[phone, laptop].flatMap((s) => [
        sha256(s.refreshToken, 'hex'),
        sha256(s.refreshToken, 'base64url'),
      ]),
      ...links,
      ...links.map((link) => sha256(link, 'base64url')),
      ...(await held.oneTimeTokens.listUserTokens(user.id, Date.UTC(2031, 0, 1) - 1e12)).map(
        (t) => t.tokenHash,
      ),
    ];
    expect(links.length).toBeGreaterThanOrEqual(2);
    const data = await auth.exportUser(user.id);
    const json = JSON.stringify(data);
    for (const secret of secrets) expect(json).not.toContain(secret);
    // No field named like a secret either (keys only: "method": "password" is a value; the
    // list of pending links is the one key with "token" in its name).
    const keys = [...json.matchAll(/"([^"]*)":/g)].map((m) => m[1]!);
    expect(keys.filter((k) => /hash|token|secret|password/i.test(k))).toEqual(['pendingTokens']);

    expect(data.schemaVersion).toBe(1);
    expect(data.user).toMatchObject({ id: user.id, email: EMAIL, isActive: true, ban: null });
    expect(data.sessions.map((s) => s.ip).sort()).toEqual(['203.0.113.7', '203.0.113.8']);
    expect(data.pendingTokens.map((t) => t.purpose).sort()).toEqual([
      'email_verification',
      'password_reset',
    ]);
    expect(data.lockout).toMatchObject({ failedAttempts: 1, lockedUntil: null, lockouts: 0 });
    expect(data.auditEvents?.map((e) => e.event)).toContain('LOGIN_SUCCEEDED');
    expect(data.app).toEqual({ orders: [{ owner: user.id, total: '9.99' }] });
  });

  it('without stores.auditLog the export says auditEvents: null (nothing it can read back)', async () => {
    const held = stores();
    const { auditLog: _none, ...withoutLog } = held;
    const { auth } = setup({ stores: withoutLog });
    const user = await registerUser(auth);
    const data = await auth.exportUser(user.id);
    expect(data.auditEvents).toBeNull();
    expect(data.lockout).toBeNull();
    expect(data.app).toEqual({});
  });

  it('an unknown user id (or a non-string) is NOT_FOUND', async () => {
    const { auth } = setup();
    await expect(auth.exportUser('no-such-user')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(auth.exportUser(42 as unknown as string)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('eraseUser', () => {
  it('after erasure nothing keyed by the user remains in any store', async () => {
    const { auth, stores: held, user, phone, laptop, lockoutKey, clock } = await populated();
    const sessionIds = (await held.tokens.listSessions(user.id)).map((s) => s.id);
    expect(sessionIds).toHaveLength(2);
    expect(await held.outbox.deleteForRecipient('nobody@example.com')).toBe(0);

    const result = await auth.eraseUser(user.id, { actorId: 'admin-1' });
    // The registration's verification link (superseded), the reset link, the resent link.
    expect(result.deleted).toMatchObject({ sessions: 2, oneTimeTokens: 3 });
    expect(result.deleted.mails).toBeGreaterThanOrEqual(2);

    expect(await held.users.findById(user.id)).toBeNull();
    expect(await held.users.findByEmail(EMAIL)).toBeNull();
    expect(await held.tokens.listSessions(user.id)).toEqual([]);
    for (const id of sessionIds) expect(await held.tokens.getSession(id)).toBeNull();
    for (const session of [phone, laptop]) {
      await expect(auth.refresh(session.refreshToken)).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
      });
      await expect(auth.verifyAccessToken(session.token)).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
      });
    }
    expect(await held.oneTimeTokens.deleteUserTokens(user.id)).toBe(0);
    expect(await held.oneTimeTokens.listUserTokens(user.id, clock.now())).toEqual([]);
    expect(await held.outbox.deleteForRecipient(EMAIL)).toBe(0);
    expect(await held.attempts.inspect(lockoutKey(EMAIL), clock.now())).toBeNull();
    expect(await held.auditLog.listForUser(user.id, { limit: 1000 })).toEqual([]);
  });

  it('audit events are pseudonymised: no event keeps the user id or the email hash; USER_ERASED names the pseudonym and the actor', async () => {
    const { auth, stores: held, user, emailHash } = await populated();
    // A failed login while locked names no user, only the address's hash.
    for (let i = 0; i < 6; i++) {
      await auth.login({ email: EMAIL, password: 'wrong password!' }).catch(() => undefined);
    }
    const { pseudonym } = await auth.eraseUser(user.id, { actorId: 'admin-1' });
    expect(pseudonym).toMatch(/^erased:[A-Za-z0-9_-]{43}$/);
    expect(pseudonym).not.toContain(user.id);

    const all = await held.auditLog.listForUser(pseudonym, { limit: 1000 });
    expect(all.length).toBeGreaterThan(5);
    const logged = JSON.stringify(held.auditLog.events());
    expect(logged).not.toContain(user.id);
    expect(logged).not.toContain(emailHash(EMAIL));
    const erased = all.find((e) => e.event === 'USER_ERASED');
    expect(erased).toMatchObject({ userId: pseudonym, metadata: { actorId: 'admin-1' } });
  });

  it('the pseudonym is stable for one identifierKey and differs for another user', async () => {
    const { auth } = setup();
    const ada = await registerUser(auth);
    const bob = await registerUser(auth, 'bob@example.com');
    const first = await auth.eraseUser(ada.id);
    const second = await auth.eraseUser(bob.id);
    expect(first.pseudonym).not.toBe(second.pseudonym);
  });

  it.each([
    ['tokens', 'deleteUserSessions'],
    ['oneTimeTokens', 'deleteUserTokens'],
    ['outbox', 'deleteForRecipient'],
    ['attempts', 'reset'],
    ['auditLog', 'pseudonymiseUser'],
    ['users', 'delete'],
  ] as const)(
    'an erasure that fails midway (%s.%s throws once) can be retried to completion',
    async (store, method) => {
      const held = stores();
      const target = held[store] as unknown as Record<string, (...args: unknown[]) => unknown>;
      const original = target[method]!.bind(target);
      let failures = 0;
      target[method] = (...args: unknown[]) => {
        if (failures === 0 && !(store === 'attempts' && args[0] !== lockoutKeyOfAda)) {
          failures += 1;
          throw new Error(`${store}.${method} is down`);
        }
        return original(...args);
      };
      const lockoutKeyOfAda = lockoutKeyHasher(secretBytes(KEY))(EMAIL);
      failures = 1; // no failure while the account is being populated
      const { auth, user, phone } = await populated({}, held);
      failures = 0;

      await expect(auth.eraseUser(user.id)).rejects.toThrow(/is down/);
      // Midway: the account is disabled and no session works, whatever step failed.
      await expect(auth.login({ email: EMAIL, password: PASSWORD })).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      });
      await expect(auth.refresh(phone.refreshToken)).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
      });

      await auth.eraseUser(user.id);
      expect(await held.users.findById(user.id)).toBeNull();
      expect(await held.tokens.listSessions(user.id)).toEqual([]);
      expect(await held.oneTimeTokens.deleteUserTokens(user.id)).toBe(0);
      expect(await held.outbox.deleteForRecipient(EMAIL)).toBe(0);
      expect(await held.auditLog.listForUser(user.id, { limit: 1000 })).toEqual([]);
      await expect(auth.eraseUser(user.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    },
  );

  it('the user row goes last: every other store is emptied before users.delete runs', async () => {
    const held = stores();
    const calls: string[] = [];
    for (const [name, method] of [
      ['users', 'update'],
      ['users', 'delete'],
      ['tokens', 'revokeUserSessions'],
      ['tokens', 'deleteUserSessions'],
      ['oneTimeTokens', 'deleteUserTokens'],
      ['outbox', 'deleteForRecipient'],
      ['attempts', 'reset'],
      ['auditLog', 'pseudonymiseUser'],
    ] as const) {
      const target = held[name] as unknown as Record<string, (...args: unknown[]) => unknown>;
      const original = target[method]!.bind(target);
      target[method] = (...args: unknown[]) => {
        calls.push(`${name}.${method}`);
        return original(...args);
      };
    }
    const { auth, user } = await populated({}, held);
    calls.length = 0;
    await auth.eraseUser(user.id);
    expect(calls[0]).toBe('users.update'); // disabled first
    expect(calls.at(-1)).toBe('users.delete');
    expect(calls.indexOf('tokens.revokeUserSessions')).toBeLessThan(
      calls.indexOf('tokens.deleteUserSessions'),
    );
    for (const step of [
      'tokens.deleteUserSessions',
      'oneTimeTokens.deleteUserTokens',
      'outbox.deleteForRecipient',
      'attempts.reset',
      'auditLog.pseudonymiseUser',
    ]) {
      expect(calls).toContain(step);
    }
  });

  it('an audit log slower than the erasure still ends with no event naming the user (erasure waits for pending writes)', async () => {
    const held = stores();
    const log = held.auditLog;
    const write = log.write.bind(log);
    // Every write lands a few turns of the event loop late.
    log.write = async (event) => {
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      return write(event);
    };
    const { auth, user } = await populated({}, held);
    await auth.eraseUser(user.id);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(JSON.stringify(log.events())).not.toContain(user.id);
  });

  it("the app's erase hook runs first with the user; a throwing hook stops the erasure, the account stays disabled, a retry finishes", async () => {
    const seen: string[] = [];
    let fail = true;
    const {
      auth,
      stores: held,
      user,
    } = await populated({
      account: {
        dataExport: {
          erase: async (u) => {
            seen.push(`${u.id}:${u.email}`);
            if (fail) throw new Error('orders database is down');
          },
        },
      },
    });
    await expect(auth.eraseUser(user.id)).rejects.toThrow('orders database is down');
    expect((await held.users.findById(user.id))?.isActive).toBe(false);
    expect(await held.tokens.listSessions(user.id)).toHaveLength(2); // nothing deleted yet
    fail = false;
    await auth.eraseUser(user.id);
    expect(seen).toEqual([`${user.id}:${EMAIL}`, `${user.id}:${EMAIL}`]);
    expect(await held.users.findById(user.id)).toBeNull();
  });

  it('an unknown user is NOT_FOUND and changes nothing', async () => {
    const { auth, events } = setup();
    await expect(auth.eraseUser('no-such-user')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(events.filter((e) => e.event === 'USER_ERASED')).toEqual([]);
  });

  it('deleteUser (kept for compatibility) now erases', async () => {
    const { auth, stores: held, user, events } = await populated();
    await auth.deleteUser(user.id);
    expect(await held.tokens.listSessions(user.id)).toEqual([]);
    expect(await held.outbox.deleteForRecipient(EMAIL)).toBe(0);
    expect(events.map((e) => e.event)).toContain('USER_ERASED');
    await expect(auth.deleteUser(user.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('stores.auditLog', () => {
  it('every audit event is written to it, besides the audit sink', async () => {
    const { auth, stores: held, events } = setup();
    const user = await registerUser(auth);
    await auth.login({ email: EMAIL, password: PASSWORD });
    const logged = (await held.auditLog.listForUser(user.id, { limit: 10 })).map((e) => e.event);
    expect(logged).toEqual(['LOGIN_SUCCEEDED', 'EMAIL_VERIFICATION_SENT', 'USER_REGISTERED']);
    expect(events.map((e) => e.event)).toEqual([...logged].reverse());
  });

  it('a log given both as stores.auditLog and as the audit sink (its .sink) gets each event once', async () => {
    const log = Object.assign(new MemoryAuditLog(), {
      sink: (event: Parameters<MemoryAuditLog['write']>[0]) => log.write(event),
    });
    const { auth } = setup({ audit: log.sink, stores: { ...stores(), auditLog: log } });
    const user = await registerUser(auth);
    expect(await log.listForUser(user.id, { limit: 10 })).toHaveLength(2);
  });

  it('a failing audit log never fails the request: the error is logged', async () => {
    const held = stores();
    held.auditLog.write = async () => {
      throw new Error('audit table is gone');
    };
    const { auth, logs } = setup({}, held);
    await registerUser(auth);
    await new Promise((resolve) => setImmediate(resolve));
    expect(logs.some((l) => l.message === 'audit log store failed')).toBe(true);
  });
});

describe('deleteOwnAccount', () => {
  it('a wrong password is INVALID_CREDENTIALS, erases nothing, and counts toward the lockout (stolen access token cannot guess)', async () => {
    const { auth, stores: held, user } = await populated({ lockout: { maxAttempts: 3 } });
    for (let i = 0; i < 2; i++) {
      await expect(
        auth.deleteOwnAccount(user.id, { password: 'not the password' }),
      ).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    }
    // The failed login of `populated` + two wrong confirmations: the account is now locked.
    await expect(auth.deleteOwnAccount(user.id, { password: PASSWORD })).rejects.toMatchObject({
      code: 'ACCOUNT_LOCKED',
    });
    expect(await held.users.findById(user.id)).not.toBeNull();
  });

  it('the right password erases the account; the event does not name the user', async () => {
    const { auth, stores: held, user, events } = await populated();
    const result = await auth.deleteOwnAccount(user.id, { password: PASSWORD });
    expect(await held.users.findById(user.id)).toBeNull();
    const erased = events.find((e) => e.event === 'USER_ERASED');
    expect(erased).toMatchObject({ userId: result.pseudonym, metadata: { self: true } });
    expect(JSON.stringify(erased)).not.toContain(user.id);
  });

  it('a missing password is VALIDATION_ERROR; an account already gone is UNAUTHENTICATED', async () => {
    const { auth, user } = await populated();
    await expect(
      auth.deleteOwnAccount(user.id, { password: undefined as unknown as string }),
    ).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await auth.eraseUser(user.id);
    await expect(auth.deleteOwnAccount(user.id, { password: PASSWORD })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });
});

describe('the user data hooks (the MFA module registers one)', () => {
  function dataRights() {
    const held = stores();
    const clock = new ManualClock();
    const audit = new AuditEmitter({
      sink: undefined,
      log: held.auditLog,
      clock,
      logger: silentLogger,
      emailKey: secretBytes(KEY),
    });
    const rights = new DataRights({
      ...held,
      rateLimiter: new RateLimiter({ store: held.rateLimits, clock, rules: {} }),
      audit,
      clock,
      identifierKey: secretBytes(KEY),
      lockoutKey: lockoutKeyHasher(secretBytes(KEY)),
      lockout: {
        maxAttempts: 5,
        windowMs: 60_000,
        lockMs: 60_000,
        backoffFactor: 2,
        maxLockMs: 3_600_000,
      },
      verifyPassword: async () => undefined,
      revokeSessions: (userId) =>
        held.tokens.revokeUserSessions(userId, 'user_erased', clock.now()),
      options: { auditEventLimit: 100 },
    });
    return { rights, held };
  }

  it("a registered hook's data appears in the export and is erased with the user (retried after a failure)", async () => {
    const { rights, held } = dataRights();
    const user = await held.users.create({
      email: EMAIL,
      name: 'Ada',
      role: 'user',
      passwordHash: 'x',
    });
    const factors = new Set([user.id]);
    let down = true;
    rights.register({
      name: 'mfa',
      exportOf: async (u) => ({
        enrolled: factors.has(u.id),
        enrolledAt: '2030-01-01T00:00:00.000Z',
        recoveryCodesLeft: 9,
      }),
      erase: async (u) => {
        if (down) throw new Error('mfa store down');
        factors.delete(u.id);
      },
    });
    expect((await rights.exportUser(user.id)).mfa).toEqual({
      enrolled: true,
      enrolledAt: '2030-01-01T00:00:00.000Z',
      recoveryCodesLeft: 9,
    });
    await expect(rights.eraseUser(user.id)).rejects.toThrow('mfa store down');
    expect(await held.users.findById(user.id)).not.toBeNull();
    down = false;
    await rights.eraseUser(user.id);
    expect(factors.size).toBe(0);
    expect(() => rights.register({ name: 'mfa', erase: async () => undefined })).toThrow(/mfa/);
  });
});
