import { afterEach, describe, expect, it } from 'vitest';
import { cookieNames } from '../../src/http/cookie-mode.js';
import { adapters, type RunningApp } from './apps.js';
import { Browser, ORIGIN } from './browser.js';
import { expectContractError } from './client.js';

// Cookie mode: the refresh cookie is scoped to {prefix}/refresh, so a browser never sends it to
// /logout. A browser whose access cookie expired (the browser drops it at its Max-Age) must still
// be able to sign out: POST {prefix}/refresh/logout ends the session named by the refresh cookie.

const RELAXED = { login: '1000/min', register: '1000/min', refresh: '1000/min' } as const;
const NAMES = cookieNames(false);

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
