import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNTS } from '../../examples/common/seed.js';
import { type RunningExample, startExample } from './example-process.js';

// The Express example's dashboard in a real headless Chromium: a browser whose access cookie
// expired (dropped by the browser) still signs out, through POST /refresh/logout with the refresh
// cookie alone. Without the browser the suite is skipped locally, and fails in CI.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser && process.env.CI) {
  throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run must install the chromium package`);
}

describe.skipIf(!hasBrowser)('dashboard logout in Chromium', () => {
  let app: RunningExample;
  let browser: Browser;

  beforeAll(async () => {
    // The embedded database with the demo account, even when DATABASE_URL is set.
    app = await startExample('express-api', { DATABASE_URL: '', AUTH_LOGIN_RATE_LIMIT: '100/min' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('a browser whose access cookie expired logs out from the dashboard: /logout answers 401, the refresh-cookie logout ends the session and clears the cookies', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const demo = DEMO_ACCOUNTS[0];
    await page.goto(`${app.url}/`);
    await page.fill('#email', demo.email);
    await page.fill('#password', demo.password);
    await page.click('#submit');
    await page.waitForURL(`${app.url}/dashboard.html`);
    await page.locator('#user-email', { hasText: demo.email }).waitFor();
    // The dashboard has finished its own calls (devices, second factor) before we read what the
    // browser holds: a call still in flight could rebind the CSRF cookie after we read it.
    await page.waitForLoadState('networkidle');

    const before = await context.cookies();
    const access = before.find((c) => c.name.includes('access'));
    const refresh = before.find((c) => c.name.includes('refresh'));
    expect(access).toBeDefined();
    const binding = before.find((c) => c.name.includes('csrf'));
    expect(refresh?.path).toBe('/app/api/auth/refresh');
    const token = await page.evaluate("sessionStorage.getItem('csrf')");
    expect(typeof token).toBe('string');
    // Its Max-Age has passed: the browser drops the access cookie.
    await context.clearCookies({ name: access!.name });

    const logout = page.waitForResponse((r) => r.url().endsWith('/app/api/auth/logout'));
    const fallback = page.waitForResponse((r) => r.url().endsWith('/app/api/auth/refresh/logout'));
    await page.click('#logout');
    expect((await logout).status()).toBe(401);
    expect((await fallback).status()).toBe(200);
    await page.waitForURL(`${app.url}/`);
    // The login page fetches a CSRF binding of its own as it loads: once that is done, the old
    // binding cookie put back below is not overwritten by its answer.
    await page.waitForLoadState('networkidle');
    const after = await context.cookies();
    expect(after.filter((c) => /access|refresh/.test(c.name))).toEqual([]);

    // The session has ended: its refresh cookie and CSRF binding and token, put back, no longer
    // refresh.
    await context.addCookies([refresh!, binding!]);
    const status = await page.evaluate(`(async () => {
      const res = await fetch('/app/api/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': ${JSON.stringify(token)} },
        body: '{}',
      });
      return res.status;
    })()`);
    expect(status).toBe(401);
    await context.close();
  }, 60_000);
});
