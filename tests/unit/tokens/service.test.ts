import { describe, expect, it } from 'vitest';
import { MemoryTokenStore } from '../../../src/stores/memory-token-store.js';
import type { TokenStore } from '../../../src/stores/types.js';
import { hashRefreshToken } from '../../../src/tokens/refresh-token.js';
import { decodeParts, reasonOf, refusal, START, tokenSetup } from './fixtures.js';

const DAY = 86_400_000;

describe('issuing tokens at login', () => {
  it('issues an access token with sub, email, role, sid, jti, iat, exp, iss and aud', async () => {
    const { service, user } = tokenSetup();
    const { token, sessionId } = await service.startSession(user);
    const { claims } = decodeParts(token);
    expect(claims).toEqual({
      sub: 'user-1',
      email: 'ada@example.com',
      role: 'user',
      sid: sessionId,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      iat: START / 1000,
      exp: START / 1000 + 900,
      iss: 'gatehouse',
      aud: 'gatehouse',
    });
  });

  it('writes typ "at+jwt", the alg and the signing kid in the header', async () => {
    const { service, user } = tokenSetup();
    const { token } = await service.startSession(user);
    expect(decodeParts(token).header).toEqual({ alg: 'HS256', kid: 'hs-1', typ: 'at+jwt' });
  });

  it('gives each token a distinct jti', async () => {
    const { service, user } = tokenSetup();
    const a = await service.startSession(user);
    const b = await service.startSession(user);
    expect(decodeParts(a.token).claims['jti']).not.toBe(decodeParts(b.token).claims['jti']);
  });

  it('has an access lifetime of 15 minutes by default (expiresIn in seconds)', async () => {
    const { service, user } = tokenSetup();
    expect((await service.startSession(user)).expiresIn).toBe(900);
  });

  it('takes a configured access lifetime', async () => {
    const { service, user } = tokenSetup({
      accessTtl: '5m',
      issuer: 'https://id.example',
      audience: 'api',
    });
    const { token, expiresIn } = await service.startSession(user);
    expect(expiresIn).toBe(300);
    expect(decodeParts(token).claims).toMatchObject({ iss: 'https://id.example', aud: 'api' });
    await expect(service.verifyAccessToken(token)).resolves.toMatchObject({ userId: 'user-1' });
  });

  it('never lets an access token outlive its session', async () => {
    const { service, user } = tokenSetup({ accessTtl: '1h', refreshAbsoluteTtl: '10m' });
    const { token, expiresIn } = await service.startSession(user);
    expect(expiresIn).toBe(600);
    expect(decodeParts(token).claims['exp']).toBe(START / 1000 + 600);
  });

  it('issues an opaque refresh token of 256 random bits, stored only as its SHA-256', async () => {
    const { service, store, user } = tokenSetup();
    const { refreshToken, sessionId } = await service.startSession(user);
    expect(refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(refreshToken, 'base64url')).toHaveLength(32);
    // The store knows the hash (it rotates it) ...
    const rotated = await store.rotate(hashRefreshToken(refreshToken), 'next', {
      now: START,
      idleMs: DAY,
    });
    expect(rotated).toMatchObject({ status: 'rotated', session: { id: sessionId } });
    // ... and nothing under the token in clear.
    const clear = await store.rotate(refreshToken, 'other', { now: START, idleMs: DAY });
    expect(clear).toEqual({ status: 'unknown' });
  });

  it('verifies its own token into a typed principal', async () => {
    const { service, user } = tokenSetup();
    const { token, sessionId } = await service.startSession(user);
    const principal = await service.verifyAccessToken(token);
    expect(principal).toMatchObject({
      userId: 'user-1',
      email: 'ada@example.com',
      role: 'user',
      sessionId,
      claims: { sub: 'user-1', sid: sessionId },
    });
    expect(Object.isFrozen(principal)).toBe(true);
    expect(Object.isFrozen(principal.claims)).toBe(true);
  });
});

describe('refresh rotation', () => {
  it('rotates: returns a new refresh token and a new access token', async () => {
    const { service, user, clock } = tokenSetup();
    const first = await service.startSession(user);
    clock.advance(60_000);
    const next = await service.refresh(first.refreshToken);
    expect(next.refreshToken).not.toBe(first.refreshToken);
    expect(next.token).not.toBe(first.token);
    expect(next.expiresIn).toBe(900);
    const principal = await service.verifyAccessToken(next.token);
    expect(principal.sessionId).toBe(first.sessionId);
  });

  it('the new refresh token rotates in turn', async () => {
    const { service, user } = tokenSetup();
    const first = await service.startSession(user);
    const second = await service.refresh(first.refreshToken);
    await expect(service.refresh(second.refreshToken)).resolves.toHaveProperty('token');
  });

  it('emits TOKEN_REFRESHED with the session id and never a token', async () => {
    const { service, user, events } = tokenSetup();
    const first = await service.startSession(user);
    const next = await service.refresh(first.refreshToken, { ip: '203.0.113.7' });
    expect(events).toEqual([
      {
        event: 'TOKEN_REFRESHED',
        status: 'success',
        userId: 'user-1',
        context: { ip: '203.0.113.7' },
        metadata: { sessionId: first.sessionId },
      },
    ]);
    const serialized = JSON.stringify(events);
    for (const secret of [first.refreshToken, next.refreshToken, first.token, next.token]) {
      expect(serialized).not.toContain(secret);
    }
  });

  it('reloads the user: a changed role is in the refreshed access token', async () => {
    const { service, user, users } = tokenSetup();
    const first = await service.startSession(user);
    users.set('user-1', { ...user, role: 'admin' });
    const next = await service.refresh(first.refreshToken);
    expect((await service.verifyAccessToken(next.token)).role).toBe('admin');
  });

  it('refuses a disabled user and revokes the family', async () => {
    const { service, user, users, events } = tokenSetup();
    const first = await service.startSession(user);
    users.set('user-1', { ...user, isActive: false });
    const err = await refusal(service.refresh(first.refreshToken));
    expect(err.code).toBe('TOKEN_INVALID');
    expect(reasonOf(err)).toBe('user_inactive');
    expect(reasonOf(await refusal(service.verifyAccessToken(first.token)))).toBe('session_ended');
    expect(events.at(-1)).toMatchObject({
      event: 'SESSIONS_REVOKED',
      metadata: { reason: 'user_disabled', count: 1 },
    });
  });

  it('refuses a deleted user and revokes the family', async () => {
    const { service, user, users, store } = tokenSetup();
    const first = await service.startSession(user);
    users.delete('user-1');
    expect((await refusal(service.refresh(first.refreshToken))).code).toBe('TOKEN_INVALID');
    expect((await store.getSession(first.sessionId))?.revokedReason).toBe('user_deleted');
  });

  it('refuses an unknown refresh token', async () => {
    const { service } = tokenSetup();
    const err = await refusal(service.refresh('A'.repeat(43)));
    expect(err.code).toBe('TOKEN_INVALID');
    expect(reasonOf(err)).toBe('refresh_unknown');
  });

  for (const [what, value] of [
    ['a number', 42],
    ['an empty string', ''],
    ['a too long token', 'A'.repeat(44)],
    ['a token with padding', `${'A'.repeat(42)}=`],
  ] as const) {
    it(`refuses ${what} as a refresh token`, async () => {
      const { service } = tokenSetup();
      expect(reasonOf(await refusal(service.refresh(value)))).toBe('refresh_malformed');
    });
  }
});

describe('refresh reuse detection', () => {
  it('refuses an already rotated refresh token', async () => {
    const { service, user } = tokenSetup();
    const first = await service.startSession(user);
    await service.refresh(first.refreshToken);
    const err = await refusal(service.refresh(first.refreshToken));
    expect(err.code).toBe('TOKEN_INVALID');
    expect(reasonOf(err)).toBe('refresh_reused');
  });

  it('revokes the whole family: the legitimate holder’s next refresh fails too', async () => {
    const { service, user } = tokenSetup();
    const first = await service.startSession(user);
    const legit = await service.refresh(first.refreshToken);
    await refusal(service.refresh(first.refreshToken)); // the thief replays the stolen token
    const err = await refusal(service.refresh(legit.refreshToken));
    expect(reasonOf(err)).toBe('refresh_revoked');
  });

  it('revokes the family’s access tokens', async () => {
    const { service, user } = tokenSetup();
    const first = await service.startSession(user);
    const legit = await service.refresh(first.refreshToken);
    await service.verifyAccessToken(legit.token);
    await refusal(service.refresh(first.refreshToken));
    expect(reasonOf(await refusal(service.verifyAccessToken(legit.token)))).toBe('session_ended');
  });

  it('emits TOKEN_REUSE_DETECTED as a failure with the user and session ids', async () => {
    const { service, user, events } = tokenSetup();
    const first = await service.startSession(user);
    await service.refresh(first.refreshToken);
    await refusal(service.refresh(first.refreshToken, { ip: '198.51.100.4', userAgent: 'curl' }));
    expect(events.at(-1)).toEqual({
      event: 'TOKEN_REUSE_DETECTED',
      status: 'failure',
      userId: 'user-1',
      context: { ip: '198.51.100.4', userAgent: 'curl' },
      metadata: { sessionId: first.sessionId },
    });
  });

  it('leaves the user’s other sessions alone', async () => {
    const { service, user } = tokenSetup();
    const stolen = await service.startSession(user);
    const other = await service.startSession(user);
    await service.refresh(stolen.refreshToken);
    await refusal(service.refresh(stolen.refreshToken));
    await expect(service.refresh(other.refreshToken)).resolves.toHaveProperty('token');
  });

  it('of 20 concurrent refreshes with the same token exactly one succeeds', async () => {
    const { service, user } = tokenSetup();
    const { refreshToken } = await service.startSession(user);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => service.refresh(refreshToken)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'TOKEN_INVALID' });
    }
  });
});

describe('session expiry', () => {
  it('ends a session unused for 30 days (idle expiry)', async () => {
    const { service, user, clock } = tokenSetup();
    const { refreshToken } = await service.startSession(user);
    clock.advance(30 * DAY + 1);
    const err = await refusal(service.refresh(refreshToken));
    expect(err.code).toBe('TOKEN_EXPIRED');
  });

  it('keeps a session refreshed within the idle window alive past 30 days', async () => {
    const { service, user, clock } = tokenSetup();
    let { refreshToken } = await service.startSession(user);
    for (let i = 0; i < 3; i++) {
      clock.advance(29 * DAY);
      ({ refreshToken } = await service.refresh(refreshToken));
    }
  });

  it('ends a session 90 days after login however often it is refreshed (absolute lifetime)', async () => {
    const { service, user, clock } = tokenSetup();
    let { refreshToken } = await service.startSession(user);
    for (let day = 20; day <= 80; day += 20) {
      clock.set(START + day * DAY);
      ({ refreshToken } = await service.refresh(refreshToken));
    }
    clock.set(START + 90 * DAY + 1);
    expect((await refusal(service.refresh(refreshToken))).code).toBe('TOKEN_EXPIRED');
  });

  it('takes configured idle and absolute lifetimes', async () => {
    const { service, user, clock } = tokenSetup({ refreshIdleTtl: '1h', refreshAbsoluteTtl: '2h' });
    const { refreshToken } = await service.startSession(user);
    clock.advance(3_600_001);
    expect((await refusal(service.refresh(refreshToken))).code).toBe('TOKEN_EXPIRED');
  });
});

describe('revocation', () => {
  it('logout ends the family: its refresh token is refused', async () => {
    const { service, user } = tokenSetup();
    const { refreshToken, sessionId } = await service.startSession(user);
    await service.logout(sessionId);
    expect(reasonOf(await refusal(service.refresh(refreshToken)))).toBe('refresh_revoked');
  });

  it('logout makes that session’s access tokens fail on the next verify', async () => {
    const { service, user } = tokenSetup();
    const { token, sessionId } = await service.startSession(user);
    await service.verifyAccessToken(token);
    await service.logout(sessionId);
    expect(reasonOf(await refusal(service.verifyAccessToken(token)))).toBe('session_ended');
  });

  it('logout leaves the user’s other sessions working', async () => {
    const { service, user } = tokenSetup();
    const a = await service.startSession(user);
    const b = await service.startSession(user);
    await service.logout(a.sessionId);
    await expect(service.verifyAccessToken(b.token)).resolves.toHaveProperty('userId');
  });

  it('logout emits LOGOUT with the session id', async () => {
    const { service, user, events } = tokenSetup();
    const { sessionId } = await service.startSession(user);
    await service.logout(sessionId, { ip: '203.0.113.7' });
    expect(events).toEqual([
      {
        event: 'LOGOUT',
        status: 'success',
        userId: 'user-1',
        context: { ip: '203.0.113.7' },
        metadata: { sessionId },
      },
    ]);
  });

  it('logout of an unknown session does nothing and emits nothing', async () => {
    const { service, events } = tokenSetup();
    await service.logout('00000000-0000-4000-8000-000000000000');
    expect(events).toEqual([]);
  });

  it('logoutAll ends every session of the user and returns the count', async () => {
    const { service, user, events } = tokenSetup();
    const sessions = [await service.startSession(user), await service.startSession(user)];
    expect(await service.logoutAll('user-1')).toBe(2);
    for (const s of sessions) {
      expect((await refusal(service.verifyAccessToken(s.token))).code).toBe('TOKEN_INVALID');
      expect((await refusal(service.refresh(s.refreshToken))).code).toBe('TOKEN_INVALID');
    }
    expect(events.at(-1)).toMatchObject({
      event: 'LOGOUT_ALL',
      userId: 'user-1',
      metadata: { count: 2 },
    });
  });

  it('a password change revokes the other sessions and keeps the current one', async () => {
    const { service, user, events } = tokenSetup();
    const current = await service.startSession(user);
    const other = await service.startSession(user);
    const count = await service.revokeUserSessions('user-1', 'password_changed', {
      exceptSessionId: current.sessionId,
    });
    expect(count).toBe(1);
    await expect(service.verifyAccessToken(current.token)).resolves.toHaveProperty('userId');
    expect((await refusal(service.verifyAccessToken(other.token))).code).toBe('TOKEN_INVALID');
    expect(events.at(-1)).toMatchObject({
      event: 'SESSIONS_REVOKED',
      metadata: { reason: 'password_changed', count: 1, exceptSessionId: current.sessionId },
    });
  });

  it('sees a revocation made by another instance on the same memory store at once', async () => {
    const { service, user, store } = tokenSetup();
    const { token, sessionId } = await service.startSession(user);
    await service.verifyAccessToken(token);
    await store.revokeSession(sessionId, 'logout', START); // another instance, same store
    expect((await refusal(service.verifyAccessToken(token))).code).toBe('TOKEN_INVALID');
  });

  it('pruneSessions deletes ended sessions', async () => {
    const { service, user, clock } = tokenSetup();
    const { sessionId } = await service.startSession(user);
    await service.logout(sessionId);
    clock.advance(1);
    expect(await service.pruneSessions()).toBe(1);
  });
});

/** A shared store that cannot announce revocations (a custom store without watchRevocations). */
function storeWithoutWatch(): TokenStore {
  const inner = new MemoryTokenStore();
  return {
    createSession: (session, hash) => inner.createSession(session, hash),
    rotate: (oldHash, newHash, rule) => inner.rotate(oldHash, newHash, rule),
    getSession: (id) => inner.getSession(id),
    revokeSession: (id, reason, now) => inner.revokeSession(id, reason, now),
    revokeUserSessions: (userId, reason, now, except) =>
      inner.revokeUserSessions(userId, reason, now, except),
    prune: (olderThan) => inner.prune(olderThan),
    listSessions: (userId) => inner.listSessions(userId),
    touchSession: (id, now, interval) => inner.touchSession(id, now, interval),
    deleteUserSessions: (userId) => inner.deleteUserSessions(userId),
  };
}

describe('revocation cache for shared stores', () => {
  it('may keep accepting a session revoked elsewhere, for at most revocationCacheTtl', async () => {
    const { service, user, store, clock } = tokenSetup(
      { revocationCacheTtl: '5s' },
      { store: storeWithoutWatch() },
    );
    const { token, sessionId } = await service.startSession(user);
    await service.verifyAccessToken(token);
    await store.revokeSession(sessionId, 'logout', clock.now()); // another instance
    clock.advance(4_999);
    await expect(service.verifyAccessToken(token)).resolves.toHaveProperty('userId');
    clock.advance(2);
    expect((await refusal(service.verifyAccessToken(token))).code).toBe('TOKEN_INVALID');
  });

  it('applies a revocation made through this instance at once, despite the cache', async () => {
    const { service, user } = tokenSetup({ revocationCacheTtl: '60s' });
    const { token, sessionId } = await service.startSession(user);
    await service.verifyAccessToken(token);
    await service.logout(sessionId);
    expect((await refusal(service.verifyAccessToken(token))).code).toBe('TOKEN_INVALID');
  });

  it('applies logoutAll through this instance at once, despite the cache', async () => {
    const { service, user } = tokenSetup({ revocationCacheTtl: '60s' });
    const { token } = await service.startSession(user);
    await service.verifyAccessToken(token);
    await service.logoutAll('user-1');
    expect((await refusal(service.verifyAccessToken(token))).code).toBe('TOKEN_INVALID');
  });
});

describe('ephemeral key', () => {
  it('works without configured keys, warning that tokens will not survive a restart', async () => {
    const { createTokenService } = await import('../../../src/tokens/service.js');
    const { resolveTokenOptions } = await import('../../../src/tokens/options.js');
    const { MemoryTokenStore } = await import('../../../src/stores/memory-token-store.js');
    const { cryptoRandom } = await import('../../../src/runtime.js');
    const warnings: string[] = [];
    const service = createTokenService({
      options: resolveTokenOptions({}),
      store: new MemoryTokenStore(),
      users: { findById: async () => null },
      clock: { now: () => START },
      random: cryptoRandom,
      audit: { emit() {} },
      logger: { debug() {}, info() {}, error() {}, warn: (m) => void warnings.push(m) },
    });
    const { token } = await service.signAccessToken(
      { id: 'u', email: 'u@example.com', role: 'user' },
      'sid',
    );
    expect(decodeParts(token).header['alg']).toBe('HS256');
    expect(warnings).toEqual([expect.stringContaining('ephemeral')]);
    expect(service.jwks()).toEqual({ keys: [] });
  });
});
