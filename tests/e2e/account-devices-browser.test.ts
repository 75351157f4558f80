import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNTS } from '../../examples/common/seed.js';
import { type RunningExample, request, startExample } from './example-process.js';

// The dashboard's devices and account actions (issue 17) in a real headless Chromium, on both
// example apps (they serve the same pages; the cookie-mode routes are mounted differently): two
// browsers signed in as one user, one signs the other out; sign out other devices; download my
// data; delete my account. Without the browser the suite is skipped locally, and fails in CI.
// In-page expressions are strings: this project's types have no DOM lib.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser && process.env.CI) {
  throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run must install the chromium package`);
}
const PASSWORD = 'browser device user password';

describe.skipIf(!hasBrowser).each(['express-api', 'fastify-api'] as const)(
  'dashboard devices and account in Chromium (%s)',
  (name) => {
    let app: RunningExample;
    let browser: Browser;
    const contexts: BrowserContext[] = [];

    beforeAll(async () => {
      // The embedded database with the demo accounts, even when DATABASE_URL is set.
      app = await startExample(name, {
        DATABASE_URL: '',
        AUTH_LOGIN_RATE_LIMIT: '100/min',
        AUTH_REGISTER_RATE_LIMIT: '100/min',
      });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
        ],
      });
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await app?.stop();
    });

    /** A new browser (its own cookie jar) announcing `userAgent`. */
    async function device(userAgent: string): Promise<Page> {
      const context = await browser.newContext({ userAgent, acceptDownloads: true });
      contexts.push(context);
      return context.newPage();
    }

    async function signIn(page: Page, email: string, password: string): Promise<void> {
      await page.goto(`${app.url}/`);
      await page.fill('#email', email);
      await page.fill('#password', password);
      await page.click('#submit');
      await page.waitForURL(`${app.url}/dashboard.html`);
      await page.locator('#devices li').first().waitFor();
    }

    async function newUser(label: string): Promise<{ id: string; email: string }> {
      const email = `${label}-${randomUUID().slice(0, 8)}@example.com`;
      const res = await request(`${app.url}/api/auth/register`, {
        body: { email, password: PASSWORD, name: `Browser ${label}` },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.user;
    }

    /** The device list as shown: name, whether marked current, whether it has a sign-out button. */
    async function listed(page: Page) {
      const items = page.locator('#devices li');
      const out: { name: string; current: boolean; signOut: boolean }[] = [];
      for (let i = 0; i < (await items.count()); i++) {
        const item = items.nth(i);
        out.push({
          name: (await item.locator('.device-name').textContent()) ?? '',
          current: (await item.locator('.device-current').count()) === 1,
          signOut: (await item.locator('button.sign-out-device').count()) === 1,
        });
      }
      return out;
    }

    it('two browsers of the demo user: the dashboard lists both devices with this one marked, signs the other out, and the other’s next API call is refused and its page returns to login', async () => {
      const demo = DEMO_ACCOUNTS[0];
      const laptop = await device('GatehouseLaptop/1.0');
      const phone = await device('GatehousePhone/2.0');
      await signIn(laptop, demo.email, demo.password);
      await signIn(phone, demo.email, demo.password);
      await laptop.reload();
      await laptop.locator('#devices li').nth(1).waitFor();
      expect(await listed(laptop)).toEqual(
        expect.arrayContaining([
          { name: 'GatehouseLaptop/1.0', current: true, signOut: false },
          { name: 'GatehousePhone/2.0', current: false, signOut: true },
        ]),
      );
      expect(await listed(laptop)).toHaveLength(2);

      const revoked = laptop.waitForResponse(
        (r) => r.request().method() === 'DELETE' && r.url().includes('/app/api/auth/sessions/'),
      );
      await laptop
        .locator('#devices li', { hasText: 'GatehousePhone/2.0' })
        .getByRole('button', { name: /Sign out/ })
        .click();
      expect((await revoked).status()).toBe(200);
      await laptop.locator('#devices-status', { hasText: 'That device is signed out.' }).waitFor();
      await expect
        .poll(() => listed(laptop))
        .toEqual([{ name: 'GatehouseLaptop/1.0', current: true, signOut: false }]);

      // The phone's page is still open: its next call is refused and it goes back to login.
      const refused = phone.waitForResponse((r) => r.url().endsWith('/sessions/revoke-others'));
      await phone.click('#revoke-others');
      expect((await refused).status()).toBe(401);
      await phone.waitForURL(`${app.url}/`);
      expect(await phone.isVisible('#login-form')).toBe(true);
      await phone.goto(`${app.url}/dashboard.html`);
      await phone.waitForURL(`${app.url}/`);
      // The laptop is still signed in.
      await laptop.reload();
      await laptop.locator('#user-email', { hasText: demo.email }).waitFor();
    }, 60_000);

    it('“Sign out other devices” ends every other session and keeps this one', async () => {
      const user = await newUser('others');
      const here = await device('GatehouseDesk/1.0');
      const tablet = await device('GatehouseTablet/1.0');
      const tv = await device('GatehouseTV/1.0');
      for (const page of [tablet, tv, here]) await signIn(page, user.email, PASSWORD);
      await here.locator('#devices li').nth(2).waitFor();
      await here.click('#revoke-others');
      await here.locator('#devices-status', { hasText: 'Signed out 2 other devices.' }).waitFor();
      await expect
        .poll(() => listed(here))
        .toEqual([{ name: 'GatehouseDesk/1.0', current: true, signOut: false }]);
      expect(await here.isDisabled('#revoke-others')).toBe(true);
      for (const page of [tablet, tv]) {
        await page.reload();
        await page.waitForURL(`${app.url}/`);
      }
      await here.reload();
      await here.locator('#user-email', { hasText: user.email }).waitFor();
    }, 60_000);

    it('a device whose user agent holds HTML is listed as text (stored XSS through the User-Agent header)', async () => {
      const user = await newUser('xss-ua');
      const payload = `<img src=x onerror="document.title='pwned'">`;
      const attacker = await device(payload);
      const victim = await device('GatehouseVictim/1.0');
      await signIn(attacker, user.email, PASSWORD);
      await signIn(victim, user.email, PASSWORD);
      await victim.locator('#devices li').nth(1).waitFor();
      expect((await listed(victim)).map((d) => d.name)).toContain(payload);
      expect(await victim.locator('#devices img').count()).toBe(0);
      expect(await victim.title()).not.toBe('pwned');
    }, 60_000);

    it('“Download my data” saves a JSON file of the user’s own data with their orders and no hash; another user’s export is refused (403)', async () => {
      const user = await newUser('download');
      const other = await newUser('download-other');
      const session = await request(`${app.url}/api/auth/login`, {
        body: { email: user.email, password: PASSWORD },
      });
      const order = await request(`${app.url}/api/orders`, {
        token: session.body.token,
        body: { total: '12.34' },
      });
      expect(order.status).toBe(201);
      const page = await device('GatehouseExport/1.0');
      await signIn(page, user.email, PASSWORD);
      const download = page.waitForEvent('download');
      await page.click('#export-link');
      const file = await (await download).path();
      const text = readFileSync(file, 'utf8');
      const body = JSON.parse(text) as {
        export: { user: { id: string; email: string }; app: { orders: { total: string }[] } };
      };
      expect(body.export.user).toMatchObject({ id: user.id, email: user.email });
      expect(body.export.app.orders.map((o) => o.total)).toEqual(['12.34']);
      expect(text).not.toMatch(/\$2[aby]\$/);
      expect(text).not.toContain(session.body.refreshToken);

      // The page's cookie session cannot read another user's data by changing the id (IDOR).
      const status = await page.evaluate(
        `fetch('/app/api/users/${other.id}/export').then((r) => r.status)`,
      );
      expect(status).toBe(403);
    }, 60_000);

    it('“Delete my account”: a wrong password keeps the account; the right one erases it and returns to login, where the password no longer works', async () => {
      const user = await newUser('delete');
      const page = await device('GatehouseDelete/1.0');
      await signIn(page, user.email, PASSWORD);
      await page.click('#delete-account');
      await page.fill('#delete-password', 'not my password at all');
      await page.click('#delete-confirm');
      await page.locator('#delete-error', { hasText: 'That password is not right' }).waitFor();
      expect(page.url()).toBe(`${app.url}/dashboard.html`);
      expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe(
        'delete-password',
      );

      const erased = page.waitForResponse((r) => r.url().endsWith('/app/api/auth/account/delete'));
      await page.fill('#delete-password', PASSWORD);
      await page.click('#delete-confirm');
      expect((await erased).status()).toBe(200);
      await page.waitForURL(`${app.url}/`);
      const cookies = await page.context().cookies();
      expect(cookies.filter((c) => /access|refresh/.test(c.name))).toEqual([]);
      await page.fill('#email', user.email);
      await page.fill('#password', PASSWORD);
      await page.click('#submit');
      await page
        .locator('#form-error', { hasText: 'Invalid email or password. Please try again.' })
        .waitFor();
    }, 60_000);
  },
);
