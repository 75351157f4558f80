import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/index.js';
import { type AppSetup, adapters, type RunningApp } from './apps.js';
import { Browser, ORIGIN } from './browser.js';
import { call, expectContractError, PASSWORD, signUp } from './client.js';

const RATE_LIMITS = { login: '1000/min', register: '1000/min', refresh: '1000/min' } as const;

interface Listed {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
  label: string | null;
  current: boolean;
}

/** Every character percent-encoded: only a framework that decodes params gives the id back. */
function encodedEverywhere(id: string): string {
  return [...Buffer.from(id, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

function sessionIdOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
  return payload.sid as string;
}

describe.each(adapters)('sessions routes on $name', (adapter) => {
  let app: RunningApp;
  const events: AuditEvent[] = [];
  afterEach(async () => {
    events.length = 0;
    await app?.close();
  });
  async function start(setup: AppSetup = {}) {
    app = await adapter.start({
      ...setup,
      authOptions: {
        rateLimits: RATE_LIMITS,
        audit: (event: AuditEvent) => {
          events.push(event);
        },
        ...setup.authOptions,
      },
    });
    return app;
  }

  async function logIn(
    email = 'ada@example.com',
    extra: { deviceLabel?: string; userAgent?: string } = {},
  ) {
    const response = await call(app, '/api/auth/login', {
      json: {
        email,
        password: PASSWORD,
        ...(extra.deviceLabel === undefined ? {} : { deviceLabel: extra.deviceLabel }),
      },
      headers: extra.userAgent === undefined ? {} : { 'user-agent': extra.userAgent },
    });
    expect(response.status).toBe(200);
    return response.body as { token: string; refreshToken: string };
  }

  async function list(token: string): Promise<Listed[]> {
    const response = await call(app, '/api/auth/sessions', { token });
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.body as { success: boolean; sessions: Listed[] };
    expect(body.success).toBe(true);
    return body.sessions;
  }

  it('route params and DELETE: DELETE /sessions/:id gets its percent-decoded :id and ends that session', async () => {
    await start();
    const first = await signUp(app);
    const second = await logIn();
    const firstId = sessionIdOf(first.token);
    const response = await call(app, `/api/auth/sessions/${encodedEverywhere(firstId)}`, {
      method: 'DELETE',
      token: second.token,
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true });
    // The named session ended (its access token is refused), the caller's lives on.
    expectContractError(
      await call(app, '/api/auth/me', { token: first.token }),
      401,
      'TOKEN_INVALID',
    );
    expect((await call(app, '/api/auth/me', { token: second.token })).status).toBe(200);
    const revoked = events.filter((e) => e.event === 'SESSION_REVOKED');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]!.metadata).toEqual({ sessionId: firstId });
  });

  it('GET /sessions lists each device (IP, user agent, label, times) newest first with the current one marked', async () => {
    await start();
    const first = await signUp(app);
    const second = await logIn('ada@example.com', {
      deviceLabel: 'Work laptop',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
    });
    const sessions = await list(second.token);
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toEqual({
      id: sessionIdOf(second.token),
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      lastUsedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      ip: '127.0.0.1',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
      label: 'Work laptop',
      current: true,
    });
    expect(sessions[1]).toMatchObject({
      id: sessionIdOf(first.token),
      label: null,
      current: false,
    });
    // Seen from the other device, the other one is current.
    const fromFirst = await list(first.token);
    expect(fromFirst.map((s) => s.current)).toEqual([false, true]);
  });

  it("attack: DELETE of another user's session id is 404 NOT_FOUND, the same answer as an unknown id, and the victim's session lives", async () => {
    await start();
    const victim = await signUp(app, 'victim@example.com');
    const attacker = await signUp(app, 'mallory@example.com');
    const victimSession = sessionIdOf(victim.token);
    const theirs = await call(app, `/api/auth/sessions/${victimSession}`, {
      method: 'DELETE',
      token: attacker.token,
    });
    const unknown = await call(app, '/api/auth/sessions/00000000-0000-4000-8000-000000000000', {
      method: 'DELETE',
      token: attacker.token,
    });
    expectContractError(theirs, 404, 'NOT_FOUND');
    expect(theirs.body).toEqual(unknown.body);
    expect((await call(app, '/api/auth/me', { token: victim.token })).status).toBe(200);
    expect(await list(victim.token)).toHaveLength(1);
    expect(events.some((e) => e.event === 'SESSION_REVOKED')).toBe(false);
  });

  it('POST /sessions/revoke-others ends every other session of the caller only: { success, revoked: n }', async () => {
    await start();
    const phone = await signUp(app);
    const tablet = await logIn();
    const laptop = await logIn();
    const stranger = await signUp(app, 'grace@example.com');
    const response = await call(app, '/api/auth/sessions/revoke-others', {
      method: 'POST',
      token: laptop.token,
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true, revoked: 2 });
    for (const ended of [phone, tablet]) {
      expect((await call(app, '/api/auth/me', { token: ended.token })).status).toBe(401);
      const refreshed = await call(app, '/api/auth/refresh', {
        json: { refreshToken: ended.refreshToken },
      });
      expectContractError(refreshed, 401, 'TOKEN_INVALID');
    }
    expect((await call(app, '/api/auth/me', { token: laptop.token })).status).toBe(200);
    expect((await call(app, '/api/auth/me', { token: stranger.token })).status).toBe(200);
    expect((await list(laptop.token)).map((s) => s.id)).toEqual([sessionIdOf(laptop.token)]);
    const revoked = events.filter((e) => e.event === 'SESSIONS_REVOKED');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]!.metadata).toMatchObject({ reason: 'revoke_others', count: 2 });
    // Nothing else to end: 0.
    const again = await call(app, '/api/auth/sessions/revoke-others', {
      method: 'POST',
      token: laptop.token,
    });
    expect(again.body).toEqual({ success: true, revoked: 0 });
  });

  it('refuses every sessions route without credentials (401 UNAUTHENTICATED)', async () => {
    await start();
    const { token } = await signUp(app);
    const id = sessionIdOf(token);
    expectContractError(await call(app, '/api/auth/sessions'), 401, 'UNAUTHENTICATED');
    expectContractError(
      await call(app, `/api/auth/sessions/${id}`, { method: 'DELETE' }),
      401,
      'UNAUTHENTICATED',
    );
    expectContractError(
      await call(app, '/api/auth/sessions/revoke-others', { method: 'POST' }),
      401,
      'UNAUTHENTICATED',
    );
    expect((await call(app, '/api/auth/me', { token })).status).toBe(200);
  });

  it('refuses a deviceLabel with a control or bidi character at login (400 VALIDATION_ERROR, no session made)', async () => {
    await start();
    await signUp(app);
    for (const deviceLabel of ['evil\u202Egnp.exe', 'line\nbreak', '', 'x'.repeat(101)]) {
      const response = await call(app, '/api/auth/login', {
        json: { email: 'ada@example.com', password: PASSWORD, deviceLabel },
      });
      expectContractError(response, 400, 'VALIDATION_ERROR');
    }
    const { token } = await logIn();
    expect(await list(token)).toHaveLength(2);
  });

  it('answers DELETE /sessions/ without an id with the contract 404', async () => {
    await start();
    const { token } = await signUp(app);
    const response = await call(app, '/api/auth/sessions/', { method: 'DELETE', token });
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ success: false, code: 'NOT_FOUND' });
  });

  it('refresh reuse grace: a client retrying a refresh whose response was lost gets 200 and a working pair (tokens.reuseGrace)', async () => {
    await start({ authOptions: { tokens: { reuseGrace: '30s' } } });
    const { refreshToken } = await signUp(app);
    const lost = await call(app, '/api/auth/refresh', { json: { refreshToken } });
    expect(lost.status).toBe(200);
    const retried = await call(app, '/api/auth/refresh', { json: { refreshToken } });
    expect(retried.status).toBe(200);
    const pair = retried.body as { token: string; refreshToken: string };
    expect((await call(app, '/api/auth/me', { token: pair.token })).status).toBe(200);
    // A second retry is reuse: the family ends, the graced pair with it.
    const again = await call(app, '/api/auth/refresh', { json: { refreshToken } });
    expectContractError(again, 401, 'TOKEN_INVALID');
    expect((await call(app, '/api/auth/me', { token: pair.token })).status).toBe(401);
  });

  describe('in cookie mode', () => {
    async function startCookies() {
      await start({ authOptions: { cookies: { trustedOrigins: [ORIGIN] } } });
      return new Browser(app);
    }

    it('attack: a cross-site DELETE /sessions/:id without the CSRF token is refused (403) and ends nothing', async () => {
      const browser = await startCookies();
      await browser.signUp();
      const other = new Browser(app);
      await other.logIn();
      const sessions = (await browser.send('/api/auth/sessions')).body as { sessions: Listed[] };
      const target = sessions.sessions.find((s) => !s.current)!;
      const forged = await browser.send(`/api/auth/sessions/${target.id}`, {
        method: 'DELETE',
        withToken: false,
        origin: 'https://evil.example',
      });
      expectContractError(forged, 403, 'CSRF_REJECTED');
      const noToken = await browser.send(`/api/auth/sessions/${target.id}`, {
        method: 'DELETE',
        withToken: false,
      });
      expectContractError(noToken, 403, 'CSRF_REJECTED');
      const after = (await browser.send('/api/auth/sessions')).body as { sessions: Listed[] };
      expect(after.sessions).toHaveLength(2);
      const forgedOthers = await browser.send('/api/auth/sessions/revoke-others', {
        method: 'POST',
        withToken: false,
      });
      expectContractError(forgedOthers, 403, 'CSRF_REJECTED');
      expect((await other.send('/api/auth/me')).status).toBe(200);
    });

    it('refresh reuse grace: a browser that lost the refresh response retries with its old refresh cookie and stays signed in', async () => {
      await start({
        authOptions: { cookies: { trustedOrigins: [ORIGIN] }, tokens: { reuseGrace: '30s' } },
      });
      const browser = new Browser(app);
      await browser.signUp();
      const refreshName = '__Secure-gatehouse-refresh';
      const before = browser.jar.get(refreshName);
      expect(before).toBeDefined();
      expect((await browser.send('/api/auth/refresh', { method: 'POST' })).status).toBe(200);
      // The response never reached the browser: its old cookie is back.
      browser.jar.set(refreshName, before!);
      const retried = await browser.send('/api/auth/refresh', { method: 'POST' });
      expect(retried.status).toBe(200);
      expect((await browser.send('/api/auth/me')).status).toBe(200);
    });

    it('signs another browser out with DELETE /sessions/:id, and its own session out with its cookies cleared', async () => {
      const browser = await startCookies();
      await browser.signUp();
      const other = new Browser(app);
      await other.logIn();
      const listed = (await browser.send('/api/auth/sessions')).body as { sessions: Listed[] };
      const otherId = listed.sessions.find((s) => !s.current)!.id;
      const ownId = listed.sessions.find((s) => s.current)!.id;
      const ended = await browser.send(`/api/auth/sessions/${otherId}`, { method: 'DELETE' });
      expect(ended.status).toBe(200);
      expect(ended.cookies).toEqual([]);
      expect((await other.send('/api/auth/me')).status).toBe(401);
      const own = await browser.send(`/api/auth/sessions/${ownId}`, { method: 'DELETE' });
      expect(own.status).toBe(200);
      expect(own.cookies.some((c) => c.startsWith('__Host-gatehouse-access=;'))).toBe(true);
      expect(browser.jar.has('__Host-gatehouse-access')).toBe(false);
      expect((await browser.send('/api/auth/me')).status).toBe(401);
    });
  });
});
