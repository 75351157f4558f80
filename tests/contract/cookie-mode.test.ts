import { afterEach, describe, expect, it } from 'vitest';
import {
  AuthError,
  MemoryTokenStore,
  type RotationResult,
  type RotationRule,
  type SessionRecord,
} from '../../src/index.js';
import { adapters, type RunningApp } from './apps.js';
import { Browser, ORIGIN } from './browser.js';
import { type ContractResponse, call, expectContractError, PASSWORD } from './client.js';

const RELAXED = { login: '1000/min', register: '1000/min', refresh: '1000/min' } as const;

function cookieLine(response: ContractResponse, name: string): string {
  const line = response.cookies.find((c) => c.startsWith(`${name}=`));
  expect(line, `Set-Cookie ${name}`).toBeDefined();
  return line!;
}

describe.each(adapters)('cookie mode on $name', (adapter) => {
  let app: RunningApp;
  afterEach(() => app?.close());
  async function start(cookies: Record<string, unknown> = {}) {
    app = await adapter.start({
      authOptions: { rateLimits: RELAXED, cookies: { trustedOrigins: [ORIGIN], ...cookies } },
    });
    return new Browser(app);
  }

  it('issues a CSRF token with an HttpOnly __Host- binding cookie on GET /csrf', async () => {
    const browser = await start();
    const response = await browser.send('/api/auth/csrf');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true, csrfToken: expect.any(String) });
    expect(cookieLine(response, '__Host-gatehouse-csrf')).toMatch(
      /^__Host-gatehouse-csrf=[\w-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict$/,
    );
  });

  it('gives the same token again on GET /csrf while the binding cookie lives', async () => {
    const browser = await start();
    const first = await browser.send('/api/auth/csrf');
    const second = await browser.send('/api/auth/csrf');
    expect(second.body).toEqual(first.body);
    expect(second.cookies).toEqual([]);
  });

  it('accepts, on an instance sharing csrfSecret, a token issued by another instance', async () => {
    const secret = 'a shared csrf secret of 32+ characters';
    const first = await start({ csrfSecret: secret });
    await first.send('/api/auth/csrf');
    const other = await adapter.start({
      authOptions: {
        rateLimits: RELAXED,
        cookies: { trustedOrigins: [ORIGIN], csrfSecret: secret },
      },
    });
    try {
      const browser = new Browser(other);
      browser.csrfToken = first.csrfToken;
      for (const [name, cookie] of first.jar) browser.jar.set(name, cookie);
      const response = await browser.send('/api/auth/register', {
        json: { email: 'ada@example.com', password: PASSWORD, name: 'Ada' },
      });
      expect(response.status).toBe(201);
    } finally {
      await other.close();
    }
  });

  it('attack: refuses a token signed by an instance with another key', async () => {
    const first = await start();
    await first.send('/api/auth/csrf');
    const other = await adapter.start({
      authOptions: { rateLimits: RELAXED, cookies: { trustedOrigins: [ORIGIN] } },
    });
    try {
      const browser = new Browser(other);
      browser.csrfToken = first.csrfToken;
      for (const [name, cookie] of first.jar) browser.jar.set(name, cookie);
      const response = await browser.send('/api/auth/register', {
        json: { email: 'ada@example.com', password: PASSWORD, name: 'Ada' },
      });
      expectContractError(response, 403, 'CSRF_REJECTED');
    } finally {
      await other.close();
    }
  });

  it('logs in with tokens in cookies: __Host- access cookie (Lax) and a Strict refresh cookie on the refresh path', async () => {
    const browser = await start();
    const response = await browser.signUp();
    expect(response.body).toEqual({
      success: true,
      expiresIn: 900,
      user: expect.objectContaining({ email: 'ada@example.com' }),
      csrfToken: expect.any(String),
    });
    expect(response.headers['cache-control']).toBe('no-store');
    expect(cookieLine(response, '__Host-gatehouse-access')).toMatch(
      /^__Host-gatehouse-access=[\w.-]+; Path=\/; Max-Age=900; Secure; HttpOnly; SameSite=Lax$/,
    );
    expect(cookieLine(response, '__Secure-gatehouse-refresh')).toMatch(
      /^__Secure-gatehouse-refresh=[\w-]+\.[\w-]{43}; Path=\/api\/auth\/refresh; Max-Age=\d+; Secure; HttpOnly; SameSite=Strict$/,
    );
    for (const line of response.cookies) expect(line).not.toMatch(/domain=/i);
  });

  it('authenticates a GET with the access cookie alone', async () => {
    const browser = await start();
    await browser.signUp();
    const me = await browser.send('/api/auth/me', { withToken: false, origin: null });
    expect(me.status).toBe(200);
  });

  it('attack: login CSRF without a token is refused with 403 CSRF_REJECTED and audited', async () => {
    const browser = await start();
    await browser.send('/api/auth/csrf');
    const response = await browser.send('/api/auth/login', {
      json: { email: 'ada@example.com', password: PASSWORD },
      withToken: false,
    });
    expectContractError(response, 403, 'CSRF_REJECTED');
    expect(app.events.find((e) => e.event === 'CSRF_REJECTED')?.metadata).toMatchObject({
      reason: 'missing_token',
    });
  });

  it.each([
    ['an untrusted Origin', { origin: 'https://evil.example' }],
    ['Origin: null', { origin: 'null' }],
    ['a sibling subdomain Origin', { origin: 'https://evil.app.example.com' }],
    [
      'Sec-Fetch-Site: cross-site without Origin',
      { origin: null, headers: { 'sec-fetch-site': 'cross-site' } },
    ],
    [
      'Sec-Fetch-Site: same-site without Origin',
      { origin: null, headers: { 'sec-fetch-site': 'same-site' } },
    ],
    ['neither Origin nor Sec-Fetch-Site', { origin: null }],
  ])('attack: a login with a valid token but %s is refused with 403', async (_what, options) => {
    const browser = await start();
    await browser.signUp();
    const response = await browser.send('/api/auth/login', {
      json: { email: 'ada@example.com', password: PASSWORD },
      ...options,
    });
    expectContractError(response, 403, 'CSRF_REJECTED');
  });

  it('accepts Sec-Fetch-Site: same-origin in place of a missing Origin', async () => {
    const browser = await start();
    await browser.send('/api/auth/csrf');
    await browser.send('/api/auth/register', {
      json: { email: 'ada@example.com', password: PASSWORD, name: 'Ada' },
    });
    const response = await browser.send('/api/auth/login', {
      json: { email: 'ada@example.com', password: PASSWORD },
      origin: null,
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(response.status).toBe(200);
  });

  it('attack: SameSite alone does not count: a cookie-authenticated POST without the token is refused', async () => {
    const browser = await start();
    await browser.signUp();
    const forged = await browser.send('/api/orders', { json: { total: '1.00' }, withToken: false });
    expectContractError(forged, 403, 'CSRF_REJECTED');
    const genuine = await browser.send('/api/orders', { json: { total: '1.00' } });
    expect(genuine.status).toBe(201);
  });

  it("attack: another session's CSRF token is refused", async () => {
    const victim = await start();
    await victim.signUp();
    const attacker = new Browser(app);
    await attacker.signUp('mallory@example.com');
    victim.csrfToken = attacker.csrfToken;
    expectContractError(
      await victim.send('/api/orders', { json: { total: '1' } }),
      403,
      'CSRF_REJECTED',
    );
  });

  it('attack: a token obtained before login stops working after login (the binding is replaced)', async () => {
    const browser = await start();
    await browser.send('/api/auth/csrf');
    const preLogin = browser.csrfToken;
    await browser.send('/api/auth/register', {
      json: { email: 'ada@example.com', password: PASSWORD, name: 'Ada' },
    });
    await browser.send('/api/auth/login', {
      json: { email: 'ada@example.com', password: PASSWORD },
    });
    expect(browser.csrfToken).not.toBe(preLogin);
    browser.csrfToken = preLogin;
    expectContractError(
      await browser.send('/api/orders', { json: { total: '1' } }),
      403,
      'CSRF_REJECTED',
    );
  });

  it('refreshes from the refresh cookie: new cookies, no token in the body', async () => {
    const browser = await start();
    await browser.signUp();
    const oldRefresh = browser.jar.get('__Secure-gatehouse-refresh')!.value;
    const response = await browser.send('/api/auth/refresh', { method: 'POST' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ success: true, expiresIn: 900, csrfToken: browser.csrfToken });
    expect(response.headers['cache-control']).toBe('no-store');
    expect(browser.jar.get('__Secure-gatehouse-refresh')!.value).not.toBe(oldRefresh);
    expect((await browser.send('/api/auth/me')).status).toBe(200);
  });

  it('a database outage right after a cookie-mode refresh rotated cannot end the session: 200, no store read after the rotation', async () => {
    // Once it has rotated, the store fails every session read, as a database that died just
    // after the rotation's commit would.
    class FailingAfterRotate extends MemoryTokenStore {
      down = false;
      override async rotate(a: string, b: string, rule: RotationRule): Promise<RotationResult> {
        const result = await super.rotate(a, b, rule);
        this.down = true;
        return result;
      }
      override async getSession(id: string): Promise<SessionRecord | null> {
        if (this.down) throw new AuthError('SERVER_ERROR', undefined, { status: 503 });
        return super.getSession(id);
      }
    }
    const store = new FailingAfterRotate();
    app = await adapter.start({
      authOptions: {
        rateLimits: RELAXED,
        cookies: { trustedOrigins: [ORIGIN] },
        stores: { tokens: store },
        tokens: { revocationCacheTtl: 0 },
      },
    });
    const browser = new Browser(app);
    await browser.signUp();
    const response = await browser.send('/api/auth/refresh', { method: 'POST' });
    expect(response.status).toBe(200);
    store.down = false; // the database is back
    expect((await browser.send('/api/auth/me')).status).toBe(200);
  });

  it('attack: a cross-site refresh without the token is refused and rotates nothing', async () => {
    const browser = await start();
    await browser.signUp();
    const refresh = browser.jar.get('__Secure-gatehouse-refresh')!.value;
    const forged = await browser.send('/api/auth/refresh', { method: 'POST', withToken: false });
    expectContractError(forged, 403, 'CSRF_REJECTED');
    expect((await browser.send('/api/auth/refresh', { method: 'POST' })).status).toBe(200);
    expect(browser.jar.get('__Secure-gatehouse-refresh')!.value).not.toBe(refresh);
  });

  it('clears the cookies when the refresh cookie is refused', async () => {
    const browser = await start();
    await browser.signUp();
    browser.jar.set('__Secure-gatehouse-refresh', {
      value: 'x'.repeat(43),
      path: '/api/auth/refresh',
    });
    const response = await browser.send('/api/auth/refresh', { method: 'POST' });
    expectContractError(response, 401, 'TOKEN_INVALID');
    expect(cookieLine(response, '__Host-gatehouse-access')).toContain('Max-Age=0');
  });

  it('answers a refresh without a refresh cookie with 401 UNAUTHENTICATED', async () => {
    const browser = await start();
    await browser.signUp();
    browser.jar.delete('__Secure-gatehouse-refresh');
    expectContractError(
      await browser.send('/api/auth/refresh', { method: 'POST' }),
      401,
      'UNAUTHENTICATED',
    );
  });

  it('logs out: the session ends and all three cookies are cleared', async () => {
    const browser = await start();
    await browser.signUp();
    const access = browser.jar.get('__Host-gatehouse-access')!.value;
    const response = await browser.send('/api/auth/logout', { method: 'POST' });
    expect(response.status).toBe(200);
    for (const name of [
      '__Host-gatehouse-access',
      '__Secure-gatehouse-refresh',
      '__Host-gatehouse-csrf',
    ]) {
      expect(cookieLine(response, name)).toMatch(
        /Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT/,
      );
    }
    expect(cookieLine(response, '__Secure-gatehouse-refresh')).toContain('Path=/api/auth/refresh');
    expect(browser.jar.size).toBe(0);
    const replay = await call(app, '/api/auth/me', {
      headers: { cookie: `__Host-gatehouse-access=${access}` },
    });
    expectContractError(replay, 401, 'TOKEN_INVALID');
  });

  it('attack: a cross-site logout without the token is refused and the session continues', async () => {
    const browser = await start();
    await browser.signUp();
    expectContractError(
      await browser.send('/api/auth/logout', { method: 'POST', withToken: false }),
      403,
      'CSRF_REJECTED',
    );
    expect((await browser.send('/api/auth/me')).status).toBe(200);
  });

  it('needs no CSRF token for a request authenticated by an Authorization header', async () => {
    const browser = await start();
    await browser.signUp();
    const token = browser.jar.get('__Host-gatehouse-access')!.value;
    const response = await call(app, '/api/orders', { token, json: { total: '1' } });
    expect(response.status).toBe(201);
  });

  it('drops Secure and the name prefixes with insecureDevelopment (plain http on localhost)', async () => {
    const browser = await start({ insecureDevelopment: true });
    const response = await browser.signUp();
    expect(cookieLine(response, 'gatehouse-access')).toMatch(
      /^gatehouse-access=[\w.-]+; Path=\/; Max-Age=900; HttpOnly; SameSite=Lax$/,
    );
    expect(cookieLine(response, 'gatehouse-refresh')).not.toContain('Secure');
    expect((await browser.send('/api/auth/me')).status).toBe(200);
  });

  describe('CSRF tokens bound to the session', () => {
    const BINDING = '__Host-gatehouse-csrf';
    const REFRESH = '__Secure-gatehouse-refresh';

    /** Plants another browser's binding cookie and token into `victim`, as cookie injection would. */
    function plant(victim: Browser, from: Browser) {
      victim.jar.set(BINDING, from.jar.get(BINDING)!);
      victim.csrfToken = from.csrfToken;
    }

    it("CSRF token fixation: a binding+token pair planted from the attacker's own session is refused on the victim's session", async () => {
      const victim = await start();
      await victim.signUp();
      const attacker = new Browser(app);
      await attacker.signUp('mallory@example.com');
      plant(victim, attacker);
      const refresh = victim.jar.get(REFRESH)!.value;

      const order = await victim.send('/api/orders', { json: { total: '1' } });
      expectContractError(order, 403, 'CSRF_REJECTED');
      expect(app.events.filter((e) => e.event === 'CSRF_REJECTED').at(-1)?.metadata).toMatchObject({
        reason: 'bad_token',
      });
      expectContractError(
        await victim.send('/api/auth/logout', { method: 'POST' }),
        403,
        'CSRF_REJECTED',
      );
      expectContractError(
        await victim.send('/api/auth/refresh', { method: 'POST' }),
        403,
        'CSRF_REJECTED',
      );
      // Nothing happened: the session lives and its refresh token was not rotated.
      expect(victim.jar.get(REFRESH)!.value).toBe(refresh);
      expect((await victim.send('/api/auth/me')).status).toBe(200);
      expect(app.events.filter((e) => e.event === 'LOGOUT')).toEqual([]);
    });

    it("CSRF token fixation: a pre-login pair planted from the attacker's browser is refused after login", async () => {
      const victim = await start();
      await victim.signUp();
      const attacker = new Browser(app);
      await attacker.send('/api/auth/csrf');
      plant(victim, attacker);
      expectContractError(
        await victim.send('/api/orders', { json: { total: '1' } }),
        403,
        'CSRF_REJECTED',
      );
    });

    it('a pre-login token does not work after login, even with its own binding cookie put back', async () => {
      const browser = await start();
      await browser.send('/api/auth/csrf');
      const preLogin = { cookie: browser.jar.get(BINDING)!, token: browser.csrfToken };
      await browser.send('/api/auth/register', {
        json: { email: 'ada@example.com', password: PASSWORD, name: 'Ada' },
      });
      await browser.logIn();
      browser.jar.set(BINDING, preLogin.cookie);
      browser.csrfToken = preLogin.token;
      expectContractError(
        await browser.send('/api/orders', { json: { total: '1' } }),
        403,
        'CSRF_REJECTED',
      );
    });

    it('GET /csrf on a logged-in session returns the session-bound token login gave', async () => {
      const browser = await start();
      const login = await browser.signUp();
      const again = await browser.send('/api/auth/csrf');
      expect(again.body).toEqual({
        success: true,
        csrfToken: (login.body as { csrfToken: string }).csrfToken,
      });
      expect((await browser.send('/api/orders', { json: { total: '1' } })).status).toBe(201);
    });

    it('GET /csrf after the access cookie expired still gives the session token, so refresh works', async () => {
      const browser = await start();
      await browser.signUp();
      browser.jar.delete('__Host-gatehouse-access');
      browser.csrfToken = undefined;
      await browser.send('/api/auth/csrf');
      expect((await browser.send('/api/auth/refresh', { method: 'POST' })).status).toBe(200);
      expect((await browser.send('/api/orders', { json: { total: '1' } })).status).toBe(201);
    });

    it("GET /csrf replaces a binding planted from another session with one of the caller's session", async () => {
      const victim = await start();
      await victim.signUp();
      const attacker = new Browser(app);
      await attacker.signUp('mallory@example.com');
      plant(victim, attacker);
      const response = await victim.send('/api/auth/csrf');
      expect(cookieLine(response, BINDING)).not.toContain(attacker.jar.get(BINDING)!.value);
      expect((await victim.send('/api/orders', { json: { total: '1' } })).status).toBe(201);
    });

    it('a page still holding its session token can log in again', async () => {
      const browser = await start();
      await browser.signUp();
      expect((await browser.send('/api/auth/refresh', { method: 'POST' })).status).toBe(200);
      const again = await browser.send('/api/auth/login', {
        json: { email: 'ada@example.com', password: PASSWORD },
      });
      expect(again.status).toBe(200);
    });

    it("attack: a refresh cookie rewritten to name the attacker's session (to match a planted pair) is refused with 401", async () => {
      const victim = await start();
      await victim.signUp();
      const attacker = new Browser(app);
      await attacker.signUp('mallory@example.com');
      plant(victim, attacker);
      const attackerSession = attacker.jar.get(REFRESH)!.value.split('.')[0];
      const victimToken = victim.jar.get(REFRESH)!.value.split('.')[1];
      victim.jar.set(REFRESH, {
        value: `${attackerSession}.${victimToken}`,
        path: '/api/auth/refresh',
      });
      const response = await victim.send('/api/auth/refresh', { method: 'POST' });
      expectContractError(response, 401, 'TOKEN_INVALID');
      expect(cookieLine(response, REFRESH)).toContain('Max-Age=0');
    });

    it('refuses a refresh cookie without its session id (the format before session binding) with 401', async () => {
      const browser = await start();
      await browser.signUp();
      const bare = browser.jar.get(REFRESH)!.value.split('.')[1]!;
      browser.jar.set(REFRESH, { value: bare, path: '/api/auth/refresh' });
      expectContractError(
        await browser.send('/api/auth/refresh', { method: 'POST' }),
        401,
        'TOKEN_INVALID',
      );
    });
  });
});
