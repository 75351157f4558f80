import { describe, expect, it } from 'vitest';
import { type AuthOptions, isAuthError } from '../../../src/index.js';
import { makeAuth, PASSWORD, registerUser } from '../../helpers/auth.js';
import { configError } from '../../helpers/config-errors.js';

const SECOND = 1000;

async function setup(options: AuthOptions = { tokens: { reuseGrace: '10s' } }) {
  const made = makeAuth(options);
  await registerUser(made.auth);
  const login = await made.auth.login({ email: 'ada@example.com', password: PASSWORD });
  return { ...made, login };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isAuthError(err)) return err.code;
    throw err;
  }
  return 'OK';
}

describe('tokens.reuseGrace (refresh reuse grace)', () => {
  it('is off by default: the token just used up, presented again at once, is reuse (family revoked)', async () => {
    const { auth, login, events } = await setup({});
    const next = await auth.refresh(login.refreshToken);
    expect(await codeOf(auth.refresh(login.refreshToken))).toBe('TOKEN_INVALID');
    expect(await codeOf(auth.refresh(next.refreshToken))).toBe('TOKEN_INVALID');
    expect(events.some((e) => e.event === 'TOKEN_REUSE_DETECTED')).toBe(true);
  });

  it('a client that lost the refresh response retries with the same token inside the window and gets a working pair', async () => {
    const { auth, login, clock, events } = await setup();
    // The response of this refresh is lost: the client still holds login.refreshToken.
    await auth.refresh(login.refreshToken);
    clock.advance(3 * SECOND);
    const retried = await auth.refresh(login.refreshToken);
    await expect(auth.verifyAccessToken(retried.token)).resolves.toBeDefined();
    const after = await auth.refresh(retried.refreshToken);
    await expect(auth.verifyAccessToken(after.token)).resolves.toBeDefined();
    const refreshed = events.filter((e) => e.event === 'TOKEN_REFRESHED');
    expect(refreshed.map((e) => e.metadata['graced'])).toEqual([undefined, true, undefined]);
    expect(events.some((e) => e.event === 'TOKEN_REUSE_DETECTED')).toBe(false);
  });

  it('attack: the lost response\u2019s token, used by a thief after the graced retry, revokes the family', async () => {
    const { auth, login, clock } = await setup();
    const lost = await auth.refresh(login.refreshToken);
    clock.advance(SECOND);
    const retried = await auth.refresh(login.refreshToken);
    expect(await codeOf(auth.refresh(lost.refreshToken))).toBe('TOKEN_INVALID');
    expect(await codeOf(auth.refresh(retried.refreshToken))).toBe('TOKEN_INVALID');
    expect(await codeOf(auth.verifyAccessToken(retried.token))).toBe('TOKEN_INVALID');
  });

  it('attack: a second replay of the same token inside the window revokes the family', async () => {
    const { auth, login, clock, events } = await setup();
    await auth.refresh(login.refreshToken);
    const retried = await auth.refresh(login.refreshToken);
    clock.advance(SECOND);
    expect(await codeOf(auth.refresh(login.refreshToken))).toBe('TOKEN_INVALID');
    expect(await codeOf(auth.verifyAccessToken(retried.token))).toBe('TOKEN_INVALID');
    expect(events.filter((e) => e.event === 'TOKEN_REUSE_DETECTED')).toHaveLength(1);
  });

  it('attack: the token replayed 1 ms after the window revokes the family, as without grace', async () => {
    const { auth, login, clock } = await setup();
    const next = await auth.refresh(login.refreshToken);
    clock.advance(10 * SECOND + 1);
    expect(await codeOf(auth.refresh(login.refreshToken))).toBe('TOKEN_INVALID');
    expect(await codeOf(auth.refresh(next.refreshToken))).toBe('TOKEN_INVALID');
  });

  it('accepts the retry at exactly the end of the window', async () => {
    const { auth, login, clock } = await setup();
    await auth.refresh(login.refreshToken);
    clock.advance(10 * SECOND);
    expect(await codeOf(auth.refresh(login.refreshToken))).toBe('OK');
  });

  it('attack: a token older than the immediate predecessor is reuse, even inside the window', async () => {
    const { auth, login } = await setup();
    const second = await auth.refresh(login.refreshToken);
    const third = await auth.refresh(second.refreshToken);
    expect(await codeOf(auth.refresh(login.refreshToken))).toBe('TOKEN_INVALID');
    expect(await codeOf(auth.refresh(third.refreshToken))).toBe('TOKEN_INVALID');
  });

  it('of 10 concurrent retries of the predecessor inside the window, exactly one gets a pair and the family ends revoked', async () => {
    const { auth, login } = await setup();
    await auth.refresh(login.refreshToken);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => codeOf(auth.refresh(login.refreshToken))),
    );
    expect(results.filter((r) => r === 'OK')).toHaveLength(1);
    expect(results.filter((r) => r === 'TOKEN_INVALID')).toHaveLength(9);
  });

  it.each([
    ['61s', /tokens\.reuseGrace: must be at most 60s/],
    ['-1s', /tokens\.reuseGrace/],
    ['soon', /tokens\.reuseGrace/],
  ])('refuses reuseGrace %s with INVALID_CONFIG naming the option', (value, message) => {
    expect(configError({ tokens: { reuseGrace: value } })).toMatch(message);
  });

  it('accepts 60 s, the longest grace', () => {
    expect(() => makeAuth({ tokens: { reuseGrace: '60s' } })).not.toThrow();
  });
});
