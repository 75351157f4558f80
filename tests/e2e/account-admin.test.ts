import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningExample, request, startExample } from './example-process.js';

// The account and administration routes of both example apps (issue 17), each app a child
// process with its own DATA_DIR (or the real PostgreSQL server with DATABASE_URL), driven over
// HTTP: the admin lists, bans, unbans and re-roles users; a user exports their own data; the
// admin erases an account. Each decision goes through the seed policy (users:list, users:ban,
// users:role, users:export, users:delete).
const ADMIN = {
  email: `admin-${randomUUID().slice(0, 8)}@example.com`,
  password: 'e2e admin password for accounts',
};
const PASSWORD = 'e2e account user password';
const BCRYPT_HASH = /\$2[aby]\$\d\d\$/;
/** What the error message of a refused field says, where it does not name the field itself. */
const MESSAGE_OF: Record<string, RegExp> = {
  id: /own account/,
  limit: /limit|page size/i,
  until: /until|end of a ban/i,
};

interface Session {
  token: string;
  refreshToken: string;
  user: { id: string; email: string; role: string };
}

describe.each(['express-api', 'fastify-api'] as const)('account administration on %s', (name) => {
  let app: RunningExample;
  let dataDir: string;
  const run = randomUUID().slice(0, 8);
  const url = (path: string) => `${app.url}${path}`;
  const email = (label: string) => `acct-${run}-${label}@example.com`;
  let admin: Session;

  async function register(label: string) {
    const res = await request(url('/api/auth/register'), {
      body: { email: email(label), password: PASSWORD, name: `User ${label}` },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.user as { id: string; email: string };
  }

  async function login(address: string, password = PASSWORD): Promise<Session> {
    const res = await request(url('/api/auth/login'), { body: { email: address, password } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as Session;
  }

  /** A login's answer without what differs between any two calls (the request id). */
  async function loginAnswer(address: string, password: string) {
    const res = await request(url('/api/auth/login'), { body: { email: address, password } });
    return {
      status: res.status,
      body: res.body,
      wwwAuthenticate: res.headers.get('www-authenticate'),
    };
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), `gatehouse-accounts-${name}-`));
    app = await startExample(
      name,
      {
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        AUTH_LOGIN_RATE_LIMIT: '1000/min',
        AUTH_REGISTER_RATE_LIMIT: '1000/min',
      },
      { dataDir },
    );
    admin = await login(ADMIN.email, ADMIN.password);
  }, 90_000);

  afterAll(async () => {
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the admin lists users a page at a time: a cursor to the next page, null on the last, filtered by an email prefix, no hash', async () => {
    for (const label of ['list-a', 'list-b', 'list-c']) await register(label);
    const query = `acct-${run}-list-`;
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const params = new URLSearchParams({ limit: '2', query });
      if (cursor) params.set('cursor', cursor);
      const page = await request(url(`/api/admin/users?${params}`), { token: admin.token });
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      expect(page.body.success).toBe(true);
      expect(page.body.users.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.users.map((u: { email: string }) => u.email));
      expect(JSON.stringify(page.body)).not.toMatch(BCRYPT_HASH);
      expect(JSON.stringify(page.body)).not.toContain('passwordHash');
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    // Exactly the three, in email order, across two pages: none twice, none missed.
    expect(seen).toEqual([email('list-a'), email('list-b'), email('list-c')]);
    expect(pages).toBe(2);

    const first = await request(url(`/api/admin/users?limit=1&q=${email('list-b')}`), {
      token: admin.token,
    });
    expect(first.body.users).toEqual([
      expect.objectContaining({
        email: email('list-b'),
        role: 'user',
        isActive: true,
        createdAt: expect.any(String),
        ban: null,
      }),
    ]);
  });

  it('refuses a user listing, banning, unbanning or re-roling anyone, themselves included (403), and an anonymous caller (401)', async () => {
    const mallory = await register('mallory');
    const victim = await register('victim');
    const { token } = await login(mallory.email);
    const attempts = [
      { path: '/api/admin/users', method: 'GET' },
      { path: `/api/admin/users/${victim.id}/ban`, method: 'POST', body: { reason: 'x' } },
      { path: `/api/admin/users/${victim.id}/unban`, method: 'POST' },
      { path: `/api/admin/users/${mallory.id}/role`, method: 'PUT', body: { role: 'admin' } },
      { path: `/api/admin/users/${victim.id}/role`, method: 'PUT', body: { role: 'admin' } },
      { path: `/api/users/${victim.id}`, method: 'DELETE' },
    ];
    for (const attempt of attempts) {
      const res = await request(url(attempt.path), { ...attempt, token });
      expect({ ...attempt, status: res.status, code: res.body.code }).toMatchObject({
        status: 403,
        code: 'FORBIDDEN',
      });
      const anonymous = await request(url(attempt.path), attempt);
      expect({ ...attempt, status: anonymous.status }).toMatchObject({ status: 401 });
    }
    const me = await request(url('/api/auth/me'), { token });
    expect(me.body.user.role).toBe('user');
  });

  it('answers bad admin input with VALIDATION_ERROR naming the field (limit out of range, repeated cursor, empty reason, until not a date or past, unknown role), never a 500', async () => {
    const target = await register('badinput');
    const cases: { path: string; method: string; body?: unknown; field: string }[] = [
      { path: '/api/admin/users?limit=0', method: 'GET', field: 'limit' },
      { path: '/api/admin/users?limit=101', method: 'GET', field: 'limit' },
      { path: '/api/admin/users?limit=ten', method: 'GET', field: 'limit' },
      { path: '/api/admin/users?cursor=a&cursor=b', method: 'GET', field: 'cursor' },
      { path: '/api/admin/users?cursor=%00not-a-cursor', method: 'GET', field: 'cursor' },
      { path: `/api/admin/users/${target.id}/ban`, method: 'POST', body: {}, field: 'reason' },
      {
        path: `/api/admin/users/${target.id}/ban`,
        method: 'POST',
        body: { reason: '   ' },
        field: 'reason',
      },
      {
        path: `/api/admin/users/${target.id}/ban`,
        method: 'POST',
        body: { reason: 'r'.repeat(501) },
        field: 'reason',
      },
      {
        path: `/api/admin/users/${target.id}/ban`,
        method: 'POST',
        body: { reason: 'spam', until: 'next tuesday' },
        field: 'until',
      },
      {
        path: `/api/admin/users/${target.id}/ban`,
        method: 'POST',
        body: { reason: 'spam', until: '2001-01-01T00:00:00Z' },
        field: 'until',
      },
      {
        path: `/api/admin/users/${target.id}/ban`,
        method: 'POST',
        body: ['reason'],
        field: 'JSON object',
      },
      {
        path: `/api/admin/users/${target.id}/role`,
        method: 'PUT',
        body: { role: 'root' },
        field: 'role',
      },
      {
        path: `/api/admin/users/${target.id}/role`,
        method: 'PUT',
        body: { role: 7 },
        field: 'role',
      },
      {
        path: `/api/admin/users/${admin.user.id}/role`,
        method: 'PUT',
        body: { role: 'user' },
        field: 'id',
      },
      {
        path: `/api/admin/users/${admin.user.id}/ban`,
        method: 'POST',
        body: { reason: 'oops' },
        field: 'id',
      },
    ];
    for (const c of cases) {
      const res = await request(url(c.path), {
        method: c.method,
        body: c.body,
        token: admin.token,
      });
      expect({ case: c.path, body: c.body, status: res.status, answer: res.body }).toMatchObject({
        status: 400,
        answer: { success: false, code: 'VALIDATION_ERROR', error: expect.any(String) },
      });
      // The message names what is wrong (the field, or the refused self-action).
      expect(res.body.error).toMatch(MESSAGE_OF[c.field] ?? new RegExp(c.field, 'i'));
    }
    // Still an admin, not banned: the refused self-actions changed nothing.
    expect((await request(url('/api/auth/me'), { token: admin.token })).body.user.role).toBe(
      'admin',
    );
    const unknown = await request(url(`/api/admin/users/${randomUUID()}/ban`), {
      body: { reason: 'spam' },
      token: admin.token,
    });
    expect(unknown).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
  });

  it('a ban ends the user’s session at once and their login answers exactly like a wrong password; unban lets them in again', async () => {
    const banned = await register('banned');
    const other = await register('wrongpw');
    const session = await login(banned.email);
    const ban = await request(url(`/api/admin/users/${banned.id}/ban`), {
      body: { reason: 'Spamming other users' },
      token: admin.token,
    });
    expect(ban).toMatchObject({ status: 200, body: { success: true } });
    // The session ends at once: the access token and the refresh token are refused.
    expect((await request(url('/api/auth/me'), { token: session.token })).status).toBe(401);
    const refresh = await request(url('/api/auth/refresh'), {
      body: { refreshToken: session.refreshToken },
    });
    expect(refresh.status).toBe(401);
    // The right password of a banned account: the same answer as a wrong password elsewhere.
    const bannedLogin = await loginAnswer(banned.email, PASSWORD);
    const wrongPassword = await loginAnswer(other.email, 'not the right password');
    expect(bannedLogin.status).toBe(401);
    expect(bannedLogin).toEqual(wrongPassword);

    const listed = await request(
      url(`/api/admin/users?query=${encodeURIComponent(banned.email)}`),
      {
        token: admin.token,
      },
    );
    expect(listed.body.users[0].ban).toMatchObject({
      reason: 'Spamming other users',
      since: expect.any(String),
      until: null,
    });

    const unban = await request(url(`/api/admin/users/${banned.id}/unban`), {
      method: 'POST',
      token: admin.token,
    });
    expect(unban).toMatchObject({ status: 200, body: { success: true } });
    const back = await login(banned.email);
    expect((await request(url('/api/auth/me'), { token: back.token })).status).toBe(200);
    const audit = app
      .logs()
      .filter((l) => l.event === 'USER_BANNED' || l.event === 'USER_UNBANNED');
    expect(audit.filter((l) => l.userId === banned.id).map((l) => l.event)).toEqual([
      'USER_BANNED',
      'USER_UNBANNED',
    ]);
    expect(audit.every((l) => (l.metadata as { actorId?: string }).actorId === admin.user.id)).toBe(
      true,
    );
  });

  it('a ban with an end is listed with it', async () => {
    const user = await register('timed');
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const ban = await request(url(`/api/admin/users/${user.id}/ban`), {
      body: { reason: 'Cooling off', until },
      token: admin.token,
    });
    expect(ban.status, JSON.stringify(ban.body)).toBe(200);
    const listed = await request(url(`/api/admin/users?query=${encodeURIComponent(user.email)}`), {
      token: admin.token,
    });
    expect(listed.body.users[0].ban).toMatchObject({ reason: 'Cooling off' });
    expect(new Date(listed.body.users[0].ban.until).toISOString()).toBe(until);
  });

  it('a role change promotes the user: their old tokens stop working, the next login carries the role and its rights', async () => {
    const user = await register('promoted');
    const before = await login(user.email);
    const res = await request(url(`/api/admin/users/${user.id}/role`), {
      method: 'PUT',
      body: { role: 'admin' },
      token: admin.token,
    });
    expect(res).toMatchObject({ status: 200, body: { success: true, user: { role: 'admin' } } });
    expect((await request(url('/api/auth/me'), { token: before.token })).status).toBe(401);
    const after = await login(user.email);
    expect(after.user.role).toBe('admin');
    expect((await request(url('/api/admin/users?limit=1'), { token: after.token })).status).toBe(
      200,
    );
    const demote = await request(url(`/api/admin/users/${user.id}/role`), {
      method: 'PUT',
      body: { role: 'user' },
      token: admin.token,
    });
    expect(demote.body.user.role).toBe('user');
    expect((await request(url('/api/admin/users'), { token: after.token })).status).toBe(401);
  });

  it('a user exports their own data, orders included, with no hash or token; another user’s export is refused (403, IDOR)', async () => {
    const alice = await register('export-alice');
    const bob = await register('export-bob');
    const session = await login(alice.email);
    const order = await request(url('/api/orders'), {
      token: session.token,
      body: { total: '42.50' },
    });
    expect(order.status).toBe(201);
    const res = await request(url(`/api/users/${alice.id}/export`), { token: session.token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers.get('cache-control')).toContain('no-store');
    const data = res.body.export;
    expect(data).toMatchObject({
      schemaVersion: 1,
      exportedAt: expect.any(String),
      user: { id: alice.id, email: alice.email, name: 'User export-alice', role: 'user' },
      app: { orders: [expect.objectContaining({ id: order.body.order.id, total: '42.50' })] },
    });
    expect(data.sessions.length).toBeGreaterThanOrEqual(1);
    const text = JSON.stringify(res.body);
    expect(text).not.toMatch(BCRYPT_HASH);
    for (const secret of [session.token, session.refreshToken, PASSWORD]) {
      expect(text).not.toContain(secret);
    }

    const other = await request(url(`/api/users/${bob.id}/export`), { token: session.token });
    expect(other).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(JSON.stringify(other.body)).not.toContain(bob.email);
    const byAdmin = await request(url(`/api/users/${bob.id}/export`), { token: admin.token });
    expect(byAdmin).toMatchObject({ status: 200, body: { export: { user: { id: bob.id } } } });
    const missing = await request(url(`/api/users/${randomUUID()}/export`), {
      token: admin.token,
    });
    expect(missing.status).toBe(404);
  });

  it('the admin’s delete erases the account: its session ends, its login then fails exactly like an unknown user, its orders are gone', async () => {
    const erased = await register('erased');
    const session = await login(erased.email);
    const order = await request(url('/api/orders'), {
      token: session.token,
      body: { total: '7.00' },
    });
    expect(order.status).toBe(201);
    const del = await request(url(`/api/users/${erased.id}`), {
      method: 'DELETE',
      token: admin.token,
    });
    expect(del).toMatchObject({ status: 200, body: { success: true } });
    expect((await request(url('/api/auth/me'), { token: session.token })).status).toBe(401);
    const erasedLogin = await loginAnswer(erased.email, PASSWORD);
    const unknownLogin = await loginAnswer(email('never-registered'), PASSWORD);
    expect(erasedLogin.status).toBe(401);
    expect(erasedLogin).toEqual(unknownLogin);
    expect(
      (await request(url(`/api/users/${erased.id}/export`), { token: admin.token })).status,
    ).toBe(404);
    // The event carries the pseudonym, never the erased id, and names the admin.
    const event = app.logs().find((l) => l.event === 'USER_ERASED');
    expect(event?.userId).toMatch(/^erased:/);
    expect(event?.metadata).toMatchObject({ actorId: admin.user.id });
    expect(JSON.stringify(app.logs().filter((l) => l.event === 'USER_ERASED'))).not.toContain(
      erased.id,
    );
    erasedIds.push(erased.id);
  });

  // Read after the process has stopped (one process per PGlite directory).
  const erasedIds: string[] = [];

  it('after the erasure no order of the erased user is left in the database', async () => {
    expect(erasedIds).toHaveLength(1);
    expect(await app.stop()).toBe(0);
    const count = await countOrders(dataDir, erasedIds[0]!);
    expect(count).toBe(0);
  }, 60_000);
});

/** Orders of a user in the example's database: PostgreSQL with DATABASE_URL, else PGlite. */
async function countOrders(dataDir: string, userId: string): Promise<number> {
  const sql = 'SELECT count(*)::int AS n FROM orders WHERE user_id = $1';
  if (process.env.DATABASE_URL) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    try {
      return (await client.query<{ n: number }>(sql, [userId])).rows[0]!.n;
    } finally {
      await client.end();
    }
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const lite = new PGlite(join(dataDir, 'pglite'));
  try {
    return (await lite.query<{ n: number }>(sql, [userId])).rows[0]!.n;
  } finally {
    await lite.close();
  }
}
