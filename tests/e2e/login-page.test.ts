import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type RunningExample, startExample } from './example-process.js';

// In-page expressions are strings: this project's types have no DOM lib.
// The Express example's login page in a real headless Chromium (Debian's package; .ci/run
// installs it). Without the browser the suite is skipped locally, and fails in CI.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser && process.env.CI) {
  throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run must install the chromium package`);
}

describe.skipIf(!hasBrowser)('login page in Chromium', () => {
  let app: RunningExample;
  let browser: Browser;
  let page: Page;
  let evil: Server;
  let evilUrl: string;

  beforeAll(async () => {
    app = await startExample('express-api', { AUTH_LOGIN_RATE_LIMIT: '100/min' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await (await browser.newContext()).newPage();
    // Another origin on this machine, as an attacker's page would be.
    const port = await freePort();
    evilUrl = `http://127.0.0.1:${port}`;
    evil = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><script>
        fetch(${JSON.stringify(`${app.url}/app/api/auth/logout`)}, {
          method: 'POST', credentials: 'include', mode: 'no-cors',
          headers: { 'content-type': 'text/plain' }, body: '{}'
        }).finally(() => { document.title = 'sent'; });
      </script>`);
    });
    await new Promise<void>((resolve) => evil.listen(port, '127.0.0.1', resolve));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => evil?.close(resolve));
    await app?.stop();
  });

  async function signIn(password: string) {
    await page.fill('#email', 'user@example.com');
    await page.fill('#password', password);
    await page.click('#submit');
  }

  it('shows the seed’s error for a wrong password, linked to the fields, and keeps focus in the form', async () => {
    await page.goto(`${app.url}/`);
    await expect(page.getByLabel('Email')).toBeDefined();
    await signIn('not the password');
    const error = page.locator('#form-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toBe('Invalid email or password. Please try again.');
    expect(await page.getAttribute('#email', 'aria-describedby')).toBe('form-error');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe(
      'password',
    );
    expect(await page.isEnabled('#submit')).toBe(true);
    expect(page.url()).toBe(`${app.url}/`);
  });

  it('disables the form while signing in', async () => {
    await page.goto(`${app.url}/`);
    await page.route('**/app/api/auth/login', async (route) => {
      await new Promise((r) => setTimeout(r, 300));
      await route.continue();
    });
    await signIn('not the password either');
    await page.waitForFunction('document.getElementById("submit").disabled === true');
    expect(await page.textContent('#submit-text')).toBe('Signing in...');
    expect(await page.isDisabled('#email')).toBe(true);
    await page.locator('#form-error').waitFor({ state: 'visible' });
    await page.unroute('**/app/api/auth/login');
  });

  it('reaches the dashboard with the right password and shows the user’s name', async () => {
    await page.goto(`${app.url}/`);
    await signIn('velvet otter tangerine');
    await page.waitForURL(`${app.url}/dashboard.html`);
    await page.locator('#user-name', { hasText: 'Demo User' }).waitFor();
    expect(await page.textContent('#user-name')).toBe('Demo User');
  });

  it('keeps the session cookies HttpOnly, out of reach of page scripts', async () => {
    const cookies = await page.context().cookies();
    const session = cookies.filter((c) => /access|refresh|csrf/.test(c.name));
    expect(session.length).toBeGreaterThanOrEqual(2);
    for (const cookie of session) expect(cookie.httpOnly, cookie.name).toBe(true);
    expect(await page.evaluate('document.cookie')).toBe('');
  });

  it('refuses a cross-origin POST carrying the session cookies (CSRF)', async () => {
    const before = app.logs().filter((l) => l.event === 'CSRF_REJECTED').length;
    const attacker = await page.context().newPage();
    await attacker.goto(evilUrl);
    await attacker.waitForFunction('document.title === "sent"');
    await attacker.close();
    await expect
      .poll(() => app.logs().filter((l) => l.event === 'CSRF_REJECTED').length)
      .toBeGreaterThan(before);
    // Still signed in: the forged logout did nothing.
    await page.reload();
    await page.locator('#user-name', { hasText: 'Demo User' }).waitFor();
  });

  it('renders a user name holding HTML as text and serves a strict CSP (stored XSS)', async () => {
    const payload = `<img src=x onerror="document.title='pwned'">`;
    const email = `xss-${Date.now()}@example.com`;
    const registered = await fetch(`${app.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'xss user password', name: payload }),
    });
    expect(registered.status).toBe(201);
    const context = await browser.newContext();
    const victim = await context.newPage();
    const response = await victim.goto(`${app.url}/`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await victim.fill('#email', email);
    await victim.fill('#password', 'xss user password');
    await victim.click('#submit');
    await victim.waitForURL(`${app.url}/dashboard.html`);
    await victim.locator('#user-name', { hasText: 'onerror' }).waitFor();
    expect(await victim.textContent('#user-name')).toBe(payload);
    expect(await victim.locator('#user-name img').count()).toBe(0);
    expect(await victim.title()).not.toBe('pwned');
    await context.close();
  });

  it('logs out and returns to the login page; the dashboard then sends you back', async () => {
    await page.click('#logout');
    await page.waitForURL(`${app.url}/`);
    await page.goto(`${app.url}/dashboard.html`);
    await page.waitForURL(`${app.url}/`);
    expect(await page.isVisible('#login-form')).toBe(true);
  });
});
