import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningExample, request, startExample } from './example-process.js';

// Each example runs as a child process on its own free port (embedded PGlite in a temporary
// folder; with DATABASE_URL, the real PostgreSQL server) and is driven over HTTP.
const ADMIN = {
  email: `admin-${randomUUID().slice(0, 8)}@example.com`,
  password: 'e2e-admin-password',
};
const PASSWORD = 'e2e user password';

describe.each(['express-api', 'fastify-api'] as const)('example %s', (name) => {
  let app: RunningExample;
  const url = (path: string) => `${app.url}${path}`;
  const email = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;

  async function register(label: string) {
    const address = email(label);
    const res = await request(url('/api/auth/register'), {
      body: { email: address, password: PASSWORD, name: `User ${label}` },
    });
    expect(res.status).toBe(201);
    return { ...res.body.user, password: PASSWORD } as {
      id: string;
      email: string;
      password: string;
    };
  }

  async function login(address: string, password = PASSWORD) {
    const res = await request(url('/api/auth/login'), { body: { email: address, password } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as {
      token: string;
      refreshToken: string;
      expiresIn: number;
      user: { id: string };
    };
  }

  beforeAll(async () => {
    app = await startExample(name, {
      JWT_ALGORITHM: 'EdDSA',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      AUTH_LOGIN_RATE_LIMIT: '40/min',
      AUTH_REGISTER_RATE_LIMIT: '100/min',
      AUTH_LOCKOUT_THRESHOLD: '5',
    });
  }, 90_000);

  afterAll(async () => {
    await app?.stop();
    // On a real server the rate-limit buckets are shared, as they should be between instances:
    // clear what the rate-limit test spent so the next example starts with a fresh budget.
    if (process.env.DATABASE_URL) {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await client.connect();
      await client.query('DELETE FROM rate_limits');
      await client.end();
    }
  });

  it('registers, refuses a duplicate email and a bad body', async () => {
    const user = await register('reg');
    expect(user).toEqual({
      id: expect.any(String),
      email: user.email,
      name: 'User reg',
      role: 'user',
      emailVerified: false,
      password: PASSWORD,
    });
    const dup = await request(url('/api/auth/register'), {
      body: { email: user.email.toUpperCase(), password: PASSWORD, name: 'Dup' },
    });
    expect(dup).toMatchObject({ status: 409, body: { success: false, code: 'EMAIL_TAKEN' } });
    const bad = await request(url('/api/auth/register'), { body: { email: 'nope', password: 1 } });
    expect(bad).toMatchObject({ status: 400, body: { success: false, code: 'VALIDATION_ERROR' } });
  });

  it('logs in and answers /me with the user, never a hash', async () => {
    const user = await register('me');
    const session = await login(user.email);
    expect(session).toMatchObject({
      token: expect.any(String),
      refreshToken: expect.any(String),
      expiresIn: 900,
    });
    const me = await request(url('/api/auth/me'), { token: session.token });
    expect(me.status).toBe(200);
    expect(me.body.user).toEqual({
      id: user.id,
      email: user.email,
      name: 'User me',
      role: 'user',
      emailVerified: false,
    });
    expect(JSON.stringify(me.body)).not.toMatch(/\$2[aby]\$/);
  });

  it('answers 401 with WWW-Authenticate: Bearer without a token', async () => {
    const res = await request(url('/api/auth/me'));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(res.body).toMatchObject({ success: false, code: 'UNAUTHENTICATED' });
  });

  it('refreshes, and a reused rotated refresh token revokes the family', async () => {
    const user = await register('refresh');
    const first = await login(user.email);
    const second = await request(url('/api/auth/refresh'), {
      body: { refreshToken: first.refreshToken },
    });
    expect(second.status).toBe(200);
    expect(second.headers.get('cache-control')).toBe('no-store');
    const reuse = await request(url('/api/auth/refresh'), {
      body: { refreshToken: first.refreshToken },
    });
    expect(reuse).toMatchObject({ status: 401, body: { code: 'TOKEN_INVALID' } });
    const legit = await request(url('/api/auth/refresh'), {
      body: { refreshToken: second.body.refreshToken },
    });
    expect(legit.status).toBe(401);
    expect((await request(url('/api/auth/me'), { token: second.body.token })).status).toBe(401);
  });

  it('logs out one session: its access and refresh tokens stop working, others keep going', async () => {
    const user = await register('logout');
    const a = await login(user.email);
    const b = await login(user.email);
    const out = await request(url('/api/auth/logout'), {
      token: a.token,
      body: { refreshToken: a.refreshToken },
    });
    expect(out).toMatchObject({ status: 200, body: { success: true } });
    expect((await request(url('/api/auth/me'), { token: a.token })).status).toBe(401);
    expect(
      (await request(url('/api/auth/refresh'), { body: { refreshToken: a.refreshToken } })).status,
    ).toBe(401);
    expect((await request(url('/api/auth/me'), { token: b.token })).status).toBe(200);
  });

  it('logs out every session with logout-all', async () => {
    const user = await register('logoutall');
    const a = await login(user.email);
    const b = await login(user.email);
    expect(
      (await request(url('/api/auth/logout-all'), { token: a.token, method: 'POST' })).status,
    ).toBe(200);
    expect((await request(url('/api/auth/me'), { token: a.token })).status).toBe(401);
    expect((await request(url('/api/auth/me'), { token: b.token })).status).toBe(401);
    expect(
      (await request(url('/api/auth/refresh'), { body: { refreshToken: b.refreshToken } })).status,
    ).toBe(401);
  });

  it('changes the password: other sessions end, this one stays, the old password stops working', async () => {
    const user = await register('pw');
    const a = await login(user.email);
    const b = await login(user.email);
    const res = await request(url('/api/auth/password'), {
      method: 'PUT',
      token: a.token,
      body: { currentPassword: PASSWORD, newPassword: 'a brand new password' },
    });
    expect(res.status).toBe(200);
    expect((await request(url('/api/auth/me'), { token: a.token })).status).toBe(200);
    expect((await request(url('/api/auth/me'), { token: b.token })).status).toBe(401);
    const old = await request(url('/api/auth/login'), {
      body: { email: user.email, password: PASSWORD },
    });
    expect(old).toMatchObject({ status: 401, body: { code: 'INVALID_CREDENTIALS' } });
    await login(user.email, 'a brand new password');
  });

  it('lets a user read and rename only their own record, and ignores other fields', async () => {
    const alice = await register('alice');
    const bob = await register('bob');
    const { token } = await login(alice.email);
    expect((await request(url(`/api/users/${alice.id}`), { token })).status).toBe(200);
    const other = await request(url(`/api/users/${bob.id}`), { token });
    expect(other).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    const renamed = await request(url(`/api/users/${alice.id}`), {
      method: 'PUT',
      token,
      body: { name: 'Alice Renamed', role: 'admin', email: 'evil@example.com' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.user).toEqual({
      id: alice.id,
      email: alice.email,
      name: 'Alice Renamed',
      role: 'user',
      emailVerified: false,
    });
    const renameOther = await request(url(`/api/users/${bob.id}`), {
      method: 'PUT',
      token,
      body: { name: 'x' },
    });
    expect(renameOther.status).toBe(403);
    const del = await request(url(`/api/users/${bob.id}`), { method: 'DELETE', token });
    expect(del.status).toBe(403);
  });

  it('lets the admin read any user and delete one, whose sessions then end', async () => {
    const victim = await register('victim');
    const victimSession = await login(victim.email);
    const admin = await login(ADMIN.email, ADMIN.password);
    const read = await request(url(`/api/users/${victim.id}`), { token: admin.token });
    expect(read).toMatchObject({ status: 200, body: { user: { id: victim.id } } });
    const del = await request(url(`/api/users/${victim.id}`), {
      method: 'DELETE',
      token: admin.token,
    });
    expect(del).toMatchObject({ status: 200, body: { success: true } });
    expect((await request(url('/api/auth/me'), { token: victimSession.token })).status).toBe(401);
    expect((await request(url(`/api/users/${victim.id}`), { token: admin.token })).status).toBe(
      404,
    );
  });

  it('creates orders with decimal totals and lists only the caller’s own', async () => {
    const carol = await register('carol');
    const dave = await register('dave');
    const c = await login(carol.email);
    const d = await login(dave.email);
    const created = await request(url('/api/orders'), { token: c.token, body: { total: '19.90' } });
    expect(created.status).toBe(201);
    expect(created.body.order).toMatchObject({
      userId: carol.id,
      total: '19.90',
      status: 'pending',
    });
    await request(url('/api/orders'), { token: d.token, body: { total: '5.00' } });
    const bad = await request(url('/api/orders'), { token: c.token, body: { total: 19.9 } });
    expect(bad).toMatchObject({ status: 400, body: { code: 'VALIDATION_ERROR' } });
    const list = await request(url('/api/orders'), { token: c.token });
    expect(list.status).toBe(200);
    expect(list.body.orders.map((o: { userId: string }) => o.userId)).toEqual([carol.id]);
    expect((await request(url('/api/orders'), { body: { total: '1.00' } })).status).toBe(401);
  });

  it('locks an account after 5 failures, refusing even the right password with Retry-After', async () => {
    const erin = await register('erin');
    for (let i = 0; i < 5; i++) {
      const res = await request(url('/api/auth/login'), {
        body: { email: erin.email, password: `wrong ${i}` },
      });
      expect(res.body.code).toBe('INVALID_CREDENTIALS');
    }
    const locked = await request(url('/api/auth/login'), {
      body: { email: erin.email, password: PASSWORD },
    });
    expect(locked).toMatchObject({ status: 403, body: { success: false, code: 'ACCOUNT_LOCKED' } });
    // The first lock lasts AUTH_LOCKOUT_DURATION's default, 1 minute (it doubles on each further lock).
    const retryAfter = Number(locked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('verifies an access token against the served JWKS', async () => {
    const user = await register('jwks');
    const { token } = await login(user.email);
    const jwks = await request(url('/.well-known/jwks.json'));
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys).toHaveLength(1);
    expect(JSON.stringify(jwks.body)).not.toMatch(/"d"/);
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks.body), {
      issuer: 'gatehouse-example',
      audience: 'gatehouse-example',
    });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: user.id, email: user.email, role: 'user' });
  });

  it('rate-limits logins per IP with 429 and Retry-After (run last: it spends the budget)', async () => {
    let limited: Awaited<ReturnType<typeof request>> | undefined;
    for (let i = 0; i < 45 && !limited; i++) {
      const res = await request(url('/api/auth/login'), {
        body: { email: 'nobody@example.com', password: 'whatever pw' },
      });
      if (res.status === 429) limited = res;
    }
    expect(limited).toBeDefined();
    expect(limited!.body).toMatchObject({ success: false, code: 'RATE_LIMITED' });
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('writes JSON log lines per request and security event, never a password or token', async () => {
    const logs = app.logs();
    expect(logs.some((l) => l.msg === 'request' && l.path === '/api/auth/login')).toBe(true);
    expect(logs.some((l) => l.event === 'LOGIN_FAILED')).toBe(true);
    const text = app.output();
    for (const secret of [PASSWORD, ADMIN.password, 'a brand new password']) {
      expect(text).not.toContain(secret);
    }
    // No JWT (header.payload): the random tokens of logged development links may hold "eyJ".
    expect(text).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });

  it('shuts down cleanly on SIGTERM', async () => {
    expect(await app.stop()).toBe(0);
  });
});
