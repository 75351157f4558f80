import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { internalsOf } from '../../../src/internal/handle.js';
import { MemoryTokenStore } from '../../../src/stores/memory-token-store.js';
import { MemoryUserStore } from '../../../src/stores/memory-user-store.js';
import { makeAuth, PASSWORD, registerUser } from '../../helpers/auth.js';
import { decodeParts, HMAC_SECRET, reasonOf, refusal } from './fixtures.js';

const tokens = { keys: [{ kid: 'hs-1', alg: 'HS256' as const, key: HMAC_SECRET }] };

async function loggedIn(options: Parameters<typeof makeAuth>[0] = {}) {
  const setup = makeAuth({ tokens, ...options });
  const user = await registerUser(setup.auth);
  const login = await setup.auth.login({ email: 'ada@example.com', password: PASSWORD });
  return { ...setup, user, login };
}

describe('createAuth tokens', () => {
  it('login returns { token, refreshToken, expiresIn, user }', async () => {
    const { login, user } = await loggedIn();
    expect(login).toEqual({
      token: expect.any(String),
      refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expiresIn: 900,
      user,
    });
  });

  it('verifyAccessToken returns the logged-in user’s principal', async () => {
    const { auth, login, user } = await loggedIn();
    const principal = await auth.verifyAccessToken(login.token);
    expect(principal).toMatchObject({ userId: user.id, email: user.email, role: user.role });
  });

  it('takes its options under `tokens`', async () => {
    const { login } = await loggedIn({ tokens: { ...tokens, accessTtl: '2m', issuer: 'me' } });
    expect(login.expiresIn).toBe(120);
    expect(decodeParts(login.token).claims['iss']).toBe('me');
  });

  it('refuses a bad token option at createAuth, naming it', () => {
    expect(() =>
      makeAuth({ tokens: { keys: [{ kid: 'k', alg: 'HS256', key: 'short' }] } }),
    ).toThrow(/tokens\.keys\.0\.key: is too short \(5 bytes\)/);
  });

  it('refresh rotates and reloads the user’s role', async () => {
    const { auth, login, user } = await loggedIn();
    await auth.setRole(user.id, 'admin', { revokeSessions: false });
    const next = await auth.refresh(login.refreshToken);
    expect((await auth.verifyAccessToken(next.token)).role).toBe('admin');
    expect((await refusal(auth.refresh(login.refreshToken))).code).toBe('TOKEN_INVALID');
  });

  it('logout(sessionId) ends that session', async () => {
    const { auth, login } = await loggedIn();
    const { sessionId } = await auth.verifyAccessToken(login.token);
    await auth.logout(sessionId);
    expect((await refusal(auth.verifyAccessToken(login.token))).code).toBe('TOKEN_INVALID');
    expect((await refusal(auth.refresh(login.refreshToken))).code).toBe('TOKEN_INVALID');
  });

  it('logoutAll(userId) ends every session of the user', async () => {
    const { auth, login, user } = await loggedIn();
    const second = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    expect(await auth.logoutAll(user.id)).toBe(2);
    for (const { token } of [login, second]) {
      expect((await refusal(auth.verifyAccessToken(token))).code).toBe('TOKEN_INVALID');
    }
  });

  it('a password change ends the other sessions and keeps the one that made it', async () => {
    const { auth, login, user, events } = await loggedIn();
    const other = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    const { sessionId } = await auth.verifyAccessToken(login.token);
    await auth.changePassword(
      user.id,
      { currentPassword: PASSWORD, newPassword: 'a brand new secret' },
      { sessionId },
    );
    await expect(auth.verifyAccessToken(login.token)).resolves.toHaveProperty('userId', user.id);
    expect((await refusal(auth.verifyAccessToken(other.token))).code).toBe('TOKEN_INVALID');
    expect((await refusal(auth.refresh(other.refreshToken))).code).toBe('TOKEN_INVALID');
    expect(events.at(-1)).toMatchObject({
      event: 'SESSIONS_REVOKED',
      status: 'success',
      userId: user.id,
      metadata: { reason: 'password_changed', count: 1 },
    });
  });

  it('a password change without a session id ends every session', async () => {
    const { auth, login, user } = await loggedIn();
    await auth.changePassword(user.id, {
      currentPassword: PASSWORD,
      newPassword: 'a brand new secret',
    });
    expect((await refusal(auth.verifyAccessToken(login.token))).code).toBe('TOKEN_INVALID');
  });

  it('disableUser ends every session of the user', async () => {
    const { auth, login, user } = await loggedIn();
    await auth.disableUser(user.id);
    expect((await refusal(auth.verifyAccessToken(login.token))).code).toBe('TOKEN_INVALID');
    expect((await refusal(auth.refresh(login.refreshToken))).code).toBe('TOKEN_INVALID');
  });

  it('refresh finding the user disabled in the store refuses and revokes the family', async () => {
    const users = new MemoryUserStore();
    const { auth, login, user } = await loggedIn({ stores: { users } });
    await users.update(user.id, { isActive: false }); // e.g. by another service
    const err = await refusal(auth.refresh(login.refreshToken));
    expect(err.code).toBe('TOKEN_INVALID');
    expect(reasonOf(err)).toBe('user_inactive');
    expect(reasonOf(await refusal(auth.verifyAccessToken(login.token)))).toBe('session_ended');
  });

  it('deleteUser ends every session of the user', async () => {
    const { auth, login, user } = await loggedIn();
    await auth.deleteUser(user.id);
    expect((await refusal(auth.verifyAccessToken(login.token))).code).toBe('TOKEN_INVALID');
  });

  it('uses the configured token store', async () => {
    const store = new MemoryTokenStore();
    const { auth, login } = await loggedIn({ stores: { tokens: store } });
    const { sessionId } = await auth.verifyAccessToken(login.token);
    expect(await store.getSession(sessionId)).toMatchObject({ revokedAt: null });
    expect(internalsOf(auth).stores.tokens).toBe(store);
  });

  it('jwks() returns the public keys of the asymmetric keys only', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const { auth } = makeAuth({
      tokens: { keys: [{ kid: 'ed-1', alg: 'EdDSA', key: privateKey }, ...tokens.keys] },
    });
    expect(auth.jwks()).toEqual({
      keys: [
        {
          kty: 'OKP',
          crv: 'Ed25519',
          x: expect.any(String),
          kid: 'ed-1',
          alg: 'EdDSA',
          use: 'sig',
        },
      ],
    });
  });
});
