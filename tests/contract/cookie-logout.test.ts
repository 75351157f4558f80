import { afterEach, describe, expect, it } from 'vitest';
import { cookieNames } from '../../src/http/cookie-mode.js';
import { adapters, type RunningApp } from './apps.js';
import {
  type CallOptions,
  type ContractResponse,
  call,
  expectContractError,
  PASSWORD,
} from './client.js';

// Cookie mode: the refresh cookie is scoped to {prefix}/refresh, so a browser never sends it to
// /logout. A browser whose access cookie expired (the browser drops it at its Max-Age) must still
// be able to sign out: POST {prefix}/refresh/logout ends the session named by the refresh cookie.

const ORIGIN = 'https://app.example.com';
const RELAXED = { login: '1000/min', register: '1000/min', refresh: '1000/min' } as const;
const NAMES = cookieNames(false);

/** A minimal browser: a cookie jar honouring Path and Max-Age, and a page on ORIGIN. */
class Browser {
  readonly jar = new Map<string, { value: string; path: string }>();
  csrfToken: string | undefined;
  constructor(readonly app: RunningApp) {}

  async send(
    path: string,
    options: CallOptions & { origin?: string | null; withToken?: boolean } = {},
  ): Promise<ContractResponse> {
    const cookies = [...this.jar]
      .filter(([, c]) => path.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`);
    const headers: Record<string, string> = { ...options.headers };
    if (cookies.length) headers['cookie'] = cookies.join('; ');
    if (options.origin !== null) headers['origin'] = options.origin ?? ORIGIN;
    if (options.withToken !== false && this.csrfToken) headers['x-csrf-token'] = this.csrfToken;
    const response = await call(this.app, path, { ...options, headers });
    for (const line of response.cookies) {
      const [pair = '', ...attributes] = line.split('; ');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const pathAttr = attributes.find((a) => a.startsWith('Path='))?.slice(5) ?? '/';
      if (attributes.includes('Max-Age=0')) this.jar.delete(name);
      else this.jar.set(name, { value: pair.slice(eq + 1), path: pathAttr });
    }
    const body = response.body as { csrfToken?: string };
    if (typeof body?.csrfToken === 'string') this.csrfToken = body.csrfToken;
    return response;
  }

  async signUp(email = 'ada@example.com') {
    await this.send('/api/auth/csrf');
    const registered = await this.send('/api/auth/register', {
      json: { email, password: PASSWORD, name: 'Ada Lovelace' },
    });
    expect(registered.status).toBe(201);
    return this.logIn(email);
  }

  async logIn(email = 'ada@example.com') {
    if (!this.csrfToken) await this.send('/api/auth/csrf');
    const response = await this.send('/api/auth/login', { json: { email, password: PASSWORD } });
    expect(response.status).toBe(200);
    return response;
  }
}

describe.each(adapters)('logout with the refresh cookie alone on $name', (adapter) => {
  let app: RunningApp;
  afterEach(() => app?.close());
  async function signedIn() {
    app = await adapter.start({
      authOptions: { rateLimits: RELAXED, cookies: { trustedOrigins: [ORIGIN] } },
    });
    const browser = new Browser(app);
    await browser.signUp();
    expect(browser.jar.has(NAMES.access)).toBe(true);
    expect(browser.jar.get(NAMES.refresh)?.path).toBe('/api/auth/refresh');
    // The access cookie's Max-Age has passed: the browser no longer sends it.
    browser.jar.delete(NAMES.access);
    return browser;
  }

  it('a browser whose access cookie expired logs out with the refresh cookie: the session ends and the cookies are cleared', async () => {
    const browser = await signedIn();
    const refreshCookie = browser.jar.get(NAMES.refresh)!;
    const binding = browser.jar.get(NAMES.csrf)!;
    const token = browser.csrfToken;
    // /logout needs the access cookie, and the refresh cookie is not sent there.
    expectContractError(
      await browser.send('/api/auth/logout', { json: {} }),
      401,
      'UNAUTHENTICATED',
    );

    const out = await browser.send('/api/auth/refresh/logout', { json: {} });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ success: true });
    for (const name of [NAMES.access, NAMES.refresh, NAMES.csrf]) {
      expect(out.cookies.find((c) => c.startsWith(`${name}=`))).toMatch(/Max-Age=0/);
    }
    expect(browser.jar.has(NAMES.refresh)).toBe(false);

    // The session has ended: the old refresh cookie, with its CSRF binding and token put back,
    // no longer refreshes.
    browser.jar.set(NAMES.refresh, refreshCookie);
    browser.jar.set(NAMES.csrf, binding);
    browser.csrfToken = token;
    const refreshed = await browser.send('/api/auth/refresh', { json: {} });
    expect(refreshed.status).toBe(401);
    expect((refreshed.body as { code: string }).code).toMatch(/^TOKEN_/);
  });

  it('without the CSRF token the refresh-cookie logout is refused (403)', async () => {
    const browser = await signedIn();
    const refused = await browser.send('/api/auth/refresh/logout', { json: {}, withToken: false });
    expect(refused.status).toBe(403);
    expect(refused.cookies).toEqual([]);
    // From another site with the token the page never had: refused too.
    const crossSite = await browser.send('/api/auth/refresh/logout', {
      json: {},
      withToken: false,
      origin: 'https://evil.example',
    });
    expect(crossSite.status).toBe(403);
    // The session is intact: the refresh cookie still refreshes.
    const refreshed = await browser.send('/api/auth/refresh', { json: {} });
    expect(refreshed.status).toBe(200);
  });

  it('without a refresh cookie the refresh-cookie logout answers 401 UNAUTHENTICATED', async () => {
    const browser = await signedIn();
    browser.jar.delete(NAMES.refresh);
    expectContractError(
      await browser.send('/api/auth/refresh/logout', { json: {} }),
      401,
      'UNAUTHENTICATED',
    );
  });
});
