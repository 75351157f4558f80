import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningExample, startExample } from './example-process.js';
import { type ReceivedMail, type SmtpInbox, startSmtpInbox } from './smtp-inbox.js';

// Both example apps, each a child process sending its mails with nodemailer to a real SMTP
// server on 127.0.0.1, driven through their pages in a real headless Chromium. In-page
// expressions are strings: this project's types have no DOM lib.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser && process.env.CI) {
  throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run must install the chromium package`);
}

const DEMO = { email: 'user@example.com', password: 'velvet otter tangerine', name: 'Demo User' };
const NEW_PASSWORD = 'copper kettle meridian sunrise';
const MAIL_FROM = 'Recovery Test <no-reply@recovery.test>';

describe.skipIf(!hasBrowser).each(['express-api', 'fastify-api'] as const)(
  'account recovery in Chromium (%s, SMTP)',
  (name) => {
    let inbox: SmtpInbox;
    let app: RunningExample;
    let browser: Browser;
    let page: Page;

    beforeAll(async () => {
      inbox = await startSmtpInbox();
      app = await startExample(name, {
        SMTP_URL: inbox.url,
        // The embedded database, seeded with the demo account, even when DATABASE_URL is set.
        DATABASE_URL: '',
        MAIL_FROM,
        // Verification required: the seeded demo account still logs in (it is marked verified).
        AUTH_REQUIRE_VERIFIED_EMAIL: 'true',
        AUTH_LOGIN_RATE_LIMIT: '100/min',
        AUTH_REGISTER_RATE_LIMIT: '100/min',
      });
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
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await app?.stop();
      await inbox?.close();
    });

    const mailTo = (to: string, path: string) => (mail: ReceivedMail) =>
      mail.envelopeTo.includes(to) && mail.link?.startsWith(`${app.url}${path}?token=`) === true;

    async function signIn(target: Page, email: string, password: string) {
      await target.goto(`${app.url}/`);
      await target.fill('#email', email);
      await target.fill('#password', password);
      await target.click('#submit');
    }

    it('starts with no mail: the seeded demo accounts get no verification mail', () => {
      expect(inbox.mails).toEqual([]);
    });

    it('"Forgot password?" on the login page → the reset mail over SMTP → a new password → signed in with it', async () => {
      await page.goto(`${app.url}/`);
      await page.click('#forgot-link');
      await page.waitForURL(`${app.url}/forgot-password`);
      await page.fill('#email', DEMO.email);
      await page.click('#submit');
      const success = page.locator('#form-success');
      await success.waitFor({ state: 'visible' });
      expect(await success.textContent()).toBe(
        'If an account exists for that email, we sent a link to reset the password.',
      );

      const mail = await inbox.waitFor(mailTo(DEMO.email, '/reset-password'));
      expect(mail.headers['from']).toBe(MAIL_FROM);
      expect(mail.html).toContain('/reset-password?token=');
      await page.goto(mail.link!);
      // The token leaves the address bar (and the history) as soon as the page has it.
      await page.waitForURL(`${app.url}/reset-password`);
      await page.fill('#password', NEW_PASSWORD);
      await page.fill('#confirm', NEW_PASSWORD);
      await page.click('#submit');
      await page.locator('#form-success').waitFor({ state: 'visible' });
      expect(await page.textContent('#form-success')).toBe(
        'Your password has been changed. Sign in with your new password.',
      );
      await page.click('#sign-in-link');
      await page.waitForURL(`${app.url}/`);

      await signIn(page, DEMO.email, DEMO.password);
      await page.locator('#form-error').waitFor({ state: 'visible' });
      expect(await page.textContent('#form-error')).toBe(
        'Invalid email or password. Please try again.',
      );
      await signIn(page, DEMO.email, NEW_PASSWORD);
      await page.waitForURL(`${app.url}/dashboard.html`);
      await page.locator('#user-name', { hasText: DEMO.name }).waitFor();

      // The link worked once: opened again, it is refused with the one answer for bad links.
      const again = await (await browser.newContext()).newPage();
      await again.goto(mail.link!);
      await again.fill('#password', 'another long enough passphrase');
      await again.fill('#confirm', 'another long enough passphrase');
      await again.click('#submit');
      await again.locator('#form-error').waitFor({ state: 'visible' });
      expect(await again.textContent('#form-error')).toBe(
        'This link is invalid or has expired. Please request a new one.',
      );
      await again.context().close();
    });

    it('a reset page shows a weak password’s reason and a mismatch inline, and the link stays usable', async () => {
      const context = await browser.newContext();
      const tab = await context.newPage();
      const before = inbox.mails.length;
      await tab.goto(`${app.url}/forgot-password`);
      await tab.fill('#email', DEMO.email);
      await tab.click('#submit');
      await tab.locator('#form-success').waitFor({ state: 'visible' });
      const mail = await inbox.waitFor(
        (m) => inbox.mails.indexOf(m) >= before && mailTo(DEMO.email, '/reset-password')(m),
      );
      await tab.goto(mail.link!);
      await tab.fill('#password', 'one long passphrase here');
      await tab.fill('#confirm', 'another long passphrase');
      await tab.click('#submit');
      await tab.locator('#form-error').waitFor({ state: 'visible' });
      expect(await tab.textContent('#form-error')).toBe('The two passwords do not match.');

      await tab.fill('#password', 'short');
      await tab.fill('#confirm', 'short');
      await tab.click('#submit');
      // The policy's reason, from the server (the strict CSP forbids in-page string evaluation).
      await expect
        .poll(() => tab.textContent('#form-error'), { timeout: 10_000 })
        .toMatch(/15 characters/);
      expect(await tab.getAttribute('#password', 'aria-invalid')).toBe('true');
      expect(await tab.isEnabled('#submit')).toBe(true);

      // Still the same link: a valid password now goes through.
      await tab.fill('#password', 'walnut harbour telescope');
      await tab.fill('#confirm', 'walnut harbour telescope');
      await tab.click('#submit');
      await tab.locator('#form-success').waitFor({ state: 'visible' });
      await context.close();
    });

    it('sign-up form (verification required) → "check your email" → refused until verified → the verification mail → verified → signed in', async () => {
      const email = `browser-${Date.now()}@example.com`;
      const password = 'lilac comet harbour seven';
      const context = await browser.newContext();
      const tab = await context.newPage();
      await tab.goto(`${app.url}/`);
      await tab.fill('#signup-name', 'Browser Newcomer');
      await tab.fill('#signup-email', email);
      await tab.fill('#signup-password', password);
      await tab.click('#signup-submit');
      await tab.locator('#signup-success').waitFor({ state: 'visible' });
      expect(await tab.textContent('#signup-success')).toBe(
        'Check your email to finish creating your account.',
      );

      await signIn(tab, email, password);
      await tab.locator('#form-error').waitFor({ state: 'visible' });
      expect(await tab.textContent('#form-error')).toMatch(/^Please verify your email address/);

      const mail = await inbox.waitFor(mailTo(email, '/verify-email'));
      await tab.goto(mail.link!);
      await tab.waitForURL(`${app.url}/verify-email`);
      await tab.click('#submit');
      await tab.locator('#form-success').waitFor({ state: 'visible' });
      expect(await tab.textContent('#form-success')).toBe(
        'Your email address is verified. You can sign in now.',
      );
      await tab.click('#sign-in-link');
      await signIn(tab, email, password);
      await tab.waitForURL(`${app.url}/dashboard.html`);
      await tab.locator('#user-name', { hasText: 'Browser Newcomer' }).waitFor();
      await context.close();
    });

    it('sign-up with a taken email shows the same message, creates nothing, and mails the owner a notice (no enumeration)', async () => {
      const context = await browser.newContext();
      const tab = await context.newPage();
      await tab.goto(`${app.url}/`);
      await tab.fill('#signup-name', 'Someone Else');
      await tab.fill('#signup-email', DEMO.email);
      await tab.fill('#signup-password', 'an attacker chosen passphrase');
      await tab.click('#signup-submit');
      await tab.locator('#signup-success').waitFor({ state: 'visible' });
      expect(await tab.textContent('#signup-success')).toBe(
        'Check your email to finish creating your account.',
      );
      const notice = await inbox.waitFor(
        (m) => m.envelopeTo.includes(DEMO.email) && m.link === `${app.url}/forgot-password`,
      );
      expect(notice.text).not.toContain('token=');
      // Nothing was created or changed: the attacker's password does not open the account.
      await signIn(tab, DEMO.email, 'an attacker chosen passphrase');
      await tab.locator('#form-error').waitFor({ state: 'visible' });
      expect(await tab.textContent('#form-error')).toBe(
        'Invalid email or password. Please try again.',
      );
      await context.close();
    });
  },
);
