// POST {prefix}/account/delete {password} over real HTTP on both adapters: the signed-in user
// erases their own account after entering the password again.
import { afterEach, describe, expect, it } from 'vitest';
import { cookieNames } from '../../src/http/cookie-mode.js';
import { adapters, type RunningApp } from './apps.js';
import { Browser, ORIGIN } from './browser.js';
import { call, expectContractError, logIn, PASSWORD, signUp } from './client.js';

const RELAXED = { login: '1000/min', register: '1000/min', refresh: '1000/min' } as const;
const NAMES = cookieNames(false);
const PATH = '/api/auth/account/delete';

describe.each(adapters)('account deletion on $name', (adapter) => {
  let app: RunningApp;
  afterEach(() => app?.close());

  it('the right password erases the account: 200, every session ends, the email can no longer log in', async () => {
    app = await adapter.start({ authOptions: { rateLimits: RELAXED } });
    const first = await signUp(app);
    const second = await logIn(app);
    const response = await call(app, PATH, { token: first.token, json: { password: PASSWORD } });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true });

    for (const session of [first, second]) {
      expectContractError(
        await call(app, '/api/auth/me', { token: session.token }),
        401,
        'TOKEN_INVALID',
      );
      expectContractError(
        await call(app, '/api/auth/refresh', { json: { refreshToken: session.refreshToken } }),
        401,
        'TOKEN_INVALID',
      );
    }
    expectContractError(
      await call(app, '/api/auth/login', {
        json: { email: 'ada@example.com', password: PASSWORD },
      }),
      401,
      'INVALID_CREDENTIALS',
    );
    expect(app.events.map((e) => e.event)).toContain('USER_ERASED');
  });

  it('a stolen access token without the password cannot delete the account (401 INVALID_CREDENTIALS, counted toward the lockout, then 403 ACCOUNT_LOCKED)', async () => {
    app = await adapter.start({
      authOptions: { rateLimits: RELAXED, lockout: { maxAttempts: 3 } },
    });
    const { token, user } = await signUp(app);
    for (let i = 0; i < 3; i++) {
      expectContractError(
        await call(app, PATH, { token, json: { password: `guess number ${i}` } }),
        401,
        'INVALID_CREDENTIALS',
      );
    }
    const locked = await call(app, PATH, { token, json: { password: PASSWORD } });
    expectContractError(locked, 403, 'ACCOUNT_LOCKED');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await app.auth.getUser(user.id)).email).toBe('ada@example.com');
  });

  it('without a token is 401 UNAUTHENTICATED; a missing or non-string password is 400 VALIDATION_ERROR', async () => {
    app = await adapter.start({ authOptions: { rateLimits: RELAXED } });
    const { token } = await signUp(app);
    expectContractError(
      await call(app, PATH, { json: { password: PASSWORD } }),
      401,
      'UNAUTHENTICATED',
    );
    expectContractError(await call(app, PATH, { token, json: {} }), 400, 'VALIDATION_ERROR');
    expectContractError(
      await call(app, PATH, { token, json: { password: 42 } }),
      400,
      'VALIDATION_ERROR',
    );
    expectContractError(
      await call(app, PATH, { token, json: { password: 'x'.repeat(5000) } }),
      400,
      'VALIDATION_ERROR',
    );
    expect((await call(app, '/api/auth/me', { token })).status).toBe(200);
  });

  it('cookie mode: the deletion is CSRF-checked (403 without the token) and clears the session cookies', async () => {
    app = await adapter.start({
      authOptions: { rateLimits: RELAXED, cookies: { trustedOrigins: [ORIGIN] } },
    });
    const browser = new Browser(app);
    await browser.signUp();
    const forged = await browser.send(PATH, { json: { password: PASSWORD }, withToken: false });
    expect(forged.status).toBe(403);
    expect((await browser.send('/api/auth/me')).status).toBe(200);

    const deleted = await browser.send(PATH, { json: { password: PASSWORD } });
    expect(deleted.status).toBe(200);
    for (const name of [NAMES.access, NAMES.refresh, NAMES.csrf]) {
      expect(deleted.cookies.find((c) => c.startsWith(`${name}=`))).toMatch(/Max-Age=0/);
    }
    expect(browser.jar.has(NAMES.access)).toBe(false);
  });
});
