import { afterEach, describe, expect, it } from 'vitest';
import { type AppSetup, adapters, type RunningApp } from './apps.js';
import { call, expectContractError, logIn, PASSWORD, signUp } from './client.js';

const RELAXED: AppSetup = {
  authOptions: { rateLimits: { login: '1000/min', register: '1000/min', refresh: '1000/min' } },
};

describe.each(adapters)('auth routes over HTTP on $name', (adapter) => {
  let app: RunningApp;
  afterEach(() => app?.close());
  async function start(setup: AppSetup = RELAXED) {
    app = await adapter.start(setup);
    return app;
  }

  it('registers a user: 201 with the public user and no hash', async () => {
    await start();
    const response = await call(app, '/api/auth/register', {
      json: { email: 'Ada@Example.com', password: PASSWORD, name: 'Ada Lovelace' },
    });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      success: true,
      user: {
        id: expect.any(String),
        email: 'ada@example.com',
        name: 'Ada Lovelace',
        role: 'user',
        emailVerified: false,
      },
    });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('refuses a second registration of the same email with 409 EMAIL_TAKEN', async () => {
    await start();
    await signUp(app);
    const response = await call(app, '/api/auth/register', {
      json: { email: 'ADA@example.com', password: PASSWORD, name: 'Other' },
    });
    expectContractError(response, 409, 'EMAIL_TAKEN');
  });

  it('logs in: 200 with token, refresh token, lifetime and user, never cached', async () => {
    await start();
    await signUp(app);
    const response = await call(app, '/api/auth/login', {
      json: { email: 'ada@example.com', password: PASSWORD },
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      success: true,
      token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      refreshToken: expect.any(String),
      expiresIn: 900,
      user: expect.objectContaining({ email: 'ada@example.com' }),
    });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('answers a wrong password with 401 INVALID_CREDENTIALS and a Bearer challenge', async () => {
    await start();
    await signUp(app);
    const response = await call(app, '/api/auth/login', {
      json: { email: 'ada@example.com', password: 'wrong password!' },
    });
    expectContractError(response, 401, 'INVALID_CREDENTIALS');
    expect(response.headers['www-authenticate']).toBe('Bearer');
  });

  it('answers an unknown email exactly like a wrong password', async () => {
    await start();
    await signUp(app);
    const unknown = await call(app, '/api/auth/login', {
      json: { email: 'nobody@example.com', password: 'wrong password!' },
    });
    const wrong = await call(app, '/api/auth/login', {
      json: { email: 'ada@example.com', password: 'wrong password!' },
    });
    expect(unknown).toEqual(wrong);
  });

  it('locks the account after repeated failures: 403 ACCOUNT_LOCKED with Retry-After', async () => {
    await start();
    await signUp(app);
    for (let i = 0; i < 5; i++) {
      await call(app, '/api/auth/login', {
        json: { email: 'ada@example.com', password: 'nope-nope' },
      });
    }
    const response = await call(app, '/api/auth/login', {
      json: { email: 'ada@example.com', password: PASSWORD },
    });
    expectContractError(response, 403, 'ACCOUNT_LOCKED');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('returns the caller on GET /me with a valid token', async () => {
    await start();
    const { token, user } = await signUp(app);
    const response = await call(app, '/api/auth/me', { token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true, user });
  });

  it('answers GET /me without credentials with 401 UNAUTHENTICATED and WWW-Authenticate: Bearer', async () => {
    await start();
    const response = await call(app, '/api/auth/me');
    expectContractError(response, 401, 'UNAUTHENTICATED');
    expect(response.headers['www-authenticate']).toBe('Bearer');
  });

  it('answers a forged token with 401 TOKEN_INVALID and error="invalid_token"', async () => {
    await start();
    const { token } = await signUp(app);
    const [header, payload] = token.split('.');
    const response = await call(app, '/api/auth/me', { token: `${header}.${payload}.AAAA` });
    expectContractError(response, 401, 'TOKEN_INVALID');
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('answers an expired token with 401 TOKEN_EXPIRED and error="invalid_token"', async () => {
    await start();
    const { token } = await signUp(app);
    app.clock.advance(16 * 60_000);
    const response = await call(app, '/api/auth/me', { token });
    expectContractError(response, 401, 'TOKEN_EXPIRED');
    expect(response.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
  });

  it('rotates a refresh token: new pair, no-store; the used one is then refused', async () => {
    await start();
    const { refreshToken } = await signUp(app);
    const rotated = await call(app, '/api/auth/refresh', { json: { refreshToken } });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({
      success: true,
      token: expect.any(String),
      refreshToken: expect.any(String),
      expiresIn: 900,
    });
    expect(rotated.headers['cache-control']).toBe('no-store');
    const reused = await call(app, '/api/auth/refresh', { json: { refreshToken } });
    expectContractError(reused, 401, 'TOKEN_INVALID');
    expect(reused.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('ends the session on logout: its access and refresh tokens stop working', async () => {
    await start();
    const { token, refreshToken } = await signUp(app);
    const response = await call(app, '/api/auth/logout', { token, json: { refreshToken } });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true });
    expectContractError(await call(app, '/api/auth/me', { token }), 401, 'TOKEN_INVALID');
    expectContractError(
      await call(app, '/api/auth/refresh', { json: { refreshToken } }),
      401,
      'TOKEN_INVALID',
    );
  });

  it('logout with an expired access token and the refresh token ends the session', async () => {
    await start();
    const { token, refreshToken } = await signUp(app);
    app.clock.advance(16 * 60_000); // past the 15-minute access token
    expectContractError(await call(app, '/api/auth/me', { token }), 401, 'TOKEN_EXPIRED');
    const response = await call(app, '/api/auth/logout', { token, json: { refreshToken } });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true });
    expectContractError(
      await call(app, '/api/auth/refresh', { json: { refreshToken } }),
      401,
      'TOKEN_INVALID',
    );
    expect(app.events.filter((e) => e.event === 'LOGOUT')).toHaveLength(1);
  });

  it('logout with the refresh token alone (no access token) ends that session and no other', async () => {
    await start();
    const first = await signUp(app);
    const second = await logIn(app);
    const other = await signUp(app, 'grace@example.com');
    const response = await call(app, '/api/auth/logout', {
      json: { refreshToken: first.refreshToken },
    });
    expect(response.status).toBe(200);
    expectContractError(
      await call(app, '/api/auth/me', { token: first.token }),
      401,
      'TOKEN_INVALID',
    );
    // The same user's other session and another user's session go on.
    expect((await call(app, '/api/auth/me', { token: second.token })).status).toBe(200);
    expect((await call(app, '/api/auth/me', { token: other.token })).status).toBe(200);
    const refreshed = await call(app, '/api/auth/refresh', {
      json: { refreshToken: second.refreshToken },
    });
    expect(refreshed.status).toBe(200);
  });

  it('logout with an unknown, malformed or access-token-shaped refresh token and no access token is 401 and ends nothing', async () => {
    await start();
    const { token, refreshToken } = await signUp(app);
    const unknown = `${refreshToken.slice(0, -2)}${refreshToken.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const presented of [unknown, 'not-a-token', token]) {
      const response = await call(app, '/api/auth/logout', { json: { refreshToken: presented } });
      expectContractError(response, 401, 'TOKEN_INVALID');
    }
    expectContractError(await call(app, '/api/auth/logout', { json: {} }), 401, 'UNAUTHENTICATED');
    expect((await call(app, '/api/auth/me', { token })).status).toBe(200);
    expect((await call(app, '/api/auth/refresh', { json: { refreshToken } })).status).toBe(200);
  });

  it("logout with a valid access token and a stale refresh token still ends the caller's session", async () => {
    await start();
    const { token } = await signUp(app);
    const stale = 'A'.repeat(43);
    const response = await call(app, '/api/auth/logout', { token, json: { refreshToken: stale } });
    expect(response.status).toBe(200);
    expectContractError(await call(app, '/api/auth/me', { token }), 401, 'TOKEN_INVALID');
  });

  it('logout with an already rotated refresh token is reuse: the whole family ends and TOKEN_REUSE_DETECTED is recorded', async () => {
    await start();
    const { refreshToken: used } = await signUp(app);
    const rotated = await call(app, '/api/auth/refresh', { json: { refreshToken: used } });
    const { token, refreshToken: current } = rotated.body as {
      token: string;
      refreshToken: string;
    };
    const response = await call(app, '/api/auth/logout', { json: { refreshToken: used } });
    expect(response.status).toBe(200);
    expectContractError(await call(app, '/api/auth/me', { token }), 401, 'TOKEN_INVALID');
    expectContractError(
      await call(app, '/api/auth/refresh', { json: { refreshToken: current } }),
      401,
      'TOKEN_INVALID',
    );
    expect(app.events.map((e) => e.event)).toContain('TOKEN_REUSE_DETECTED');
  });

  it('logout twice with the same refresh token is idempotent: 200, and no reuse alarm', async () => {
    await start();
    const { refreshToken } = await signUp(app);
    for (let i = 0; i < 2; i++) {
      const response = await call(app, '/api/auth/logout', { json: { refreshToken } });
      expect(response.status).toBe(200);
    }
    expect(app.events.map((e) => e.event)).not.toContain('TOKEN_REUSE_DETECTED');
    expect(app.events.filter((e) => e.event === 'LOGOUT')).toHaveLength(1);
  });

  it('ends every session of the user on logout-all', async () => {
    await start();
    const first = await signUp(app);
    const second = await logIn(app);
    const response = await call(app, '/api/auth/logout-all', {
      token: second.token,
      method: 'POST',
    });
    expect(response.status).toBe(200);
    expectContractError(
      await call(app, '/api/auth/me', { token: first.token }),
      401,
      'TOKEN_INVALID',
    );
    expectContractError(
      await call(app, '/api/auth/me', { token: second.token }),
      401,
      'TOKEN_INVALID',
    );
  });

  it('changes the password: this session stays, other sessions end, the new password works', async () => {
    await start();
    const other = await signUp(app);
    const current = await logIn(app);
    const response = await call(app, '/api/auth/password', {
      method: 'PUT',
      token: current.token,
      json: { currentPassword: PASSWORD, newPassword: 'a new long passphrase' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true });
    expect((await call(app, '/api/auth/me', { token: current.token })).status).toBe(200);
    expectContractError(
      await call(app, '/api/auth/me', { token: other.token }),
      401,
      'TOKEN_INVALID',
    );
    await logIn(app, 'ada@example.com', 'a new long passphrase');
  });

  it('refuses a password change with a wrong current password', async () => {
    await start();
    const { token } = await signUp(app);
    const response = await call(app, '/api/auth/password', {
      method: 'PUT',
      token,
      json: { currentPassword: 'not the password', newPassword: 'a new long passphrase' },
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.body).toMatchObject({ success: false });
  });

  it('publishes the JWKS, empty for the default HS256 key, cacheable', async () => {
    await start();
    const response = await call(app, '/.well-known/jwks.json');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ keys: [] });
    expect(response.headers['cache-control']).toBe('public, max-age=300');
  });

  it('lets a user read their own record through authorize() with a resource loader', async () => {
    await start();
    const { token, user } = await signUp(app);
    const response = await call(app, `/api/users/${user.id}`, { token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true, user });
  });

  it("answers a user reading another user's record with 403 FORBIDDEN", async () => {
    await start();
    const other = await signUp(app, 'grace@example.com');
    const { token } = await signUp(app);
    expectContractError(
      await call(app, `/api/users/${other.user.id}`, { token }),
      403,
      'FORBIDDEN',
    );
  });

  it('answers a user probing a missing id with 403, like an existing one (no enumeration)', async () => {
    await start();
    const { token } = await signUp(app);
    const response = await call(app, '/api/users/00000000-0000-4000-8000-000000000000', { token });
    expectContractError(response, 403, 'FORBIDDEN');
  });

  it('answers an admin asking for a missing user with 404 NOT_FOUND', async () => {
    await start();
    const { user } = await signUp(app);
    await app.auth.setRole(user.id, 'admin');
    const { token } = await logIn(app);
    const response = await call(app, '/api/users/00000000-0000-4000-8000-000000000000', { token });
    expectContractError(response, 404, 'NOT_FOUND');
  });

  it('records an ACCESS_DENIED audit event when authorize() refuses', async () => {
    await start();
    const other = await signUp(app, 'grace@example.com');
    const { token } = await signUp(app);
    await call(app, `/api/users/${other.user.id}`, { token });
    expect(app.events.map((e) => e.event)).toContain('ACCESS_DENIED');
  });

  it('lets anonymous requests through authenticate({ optional: true }) and still reads a token', async () => {
    await start();
    const anonymous = await call(app, '/api/whoami');
    expect(anonymous.body).toEqual({ success: true, userId: null });
    const { token, user } = await signUp(app);
    expect((await call(app, '/api/whoami', { token })).body).toEqual({
      success: true,
      userId: user.id,
    });
  });

  it('refuses a bad token even on an optional route', async () => {
    await start();
    expectContractError(
      await call(app, '/api/whoami', { token: 'abc.def.ghi' }),
      401,
      'TOKEN_INVALID',
    );
  });

  it('answers an exception inside a route with the generic 500 and logs it, leaking nothing', async () => {
    const logged: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (message: string, data?: Record<string, unknown>) => {
        logged.push(`${message} ${JSON.stringify(data)}`);
      },
    };
    await start({ authOptions: { logger } });
    const response = await call(app, '/api/boom');
    expectContractError(response, 500, 'SERVER_ERROR');
    expect(JSON.stringify(response.body)).not.toContain('secret');
    expect(logged.join('\n')).toContain('postgres://secret@db');
  });

  it('answers an unknown route with the contract NOT_FOUND body', async () => {
    await start();
    expectContractError(await call(app, '/api/nowhere'), 404, 'NOT_FOUND');
  });
});
