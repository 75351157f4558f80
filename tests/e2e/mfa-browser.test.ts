import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MFA_ISSUER, mfaQrCodeOf } from '../../examples/common/mfa.js';
import { totpCodeAt, totpStepAt, totpUri } from '../../src/mfa/totp.js';
import { type RunningExample, startExample } from './example-process.js';

// In-page expressions are strings: this project's types have no DOM lib.
// The two-factor pages of both examples in a real headless Chromium: enrol on the dashboard
// (the key read off the page, the QR code checked against the URI), sign out, sign in with the
// code step, then with a recovery code (once), and turn the factor off. The example runs on the
// real clock: codes are computed for the current 30 s step, or the next one when the current
// step was used already (the server accepts ±1 step and never the same step twice).
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser && process.env.CI) {
  throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run must install the chromium package`);
}

const PASSWORD = 'lantern quarry bicycle';

describe.skipIf(!hasBrowser).each(['express-api', 'fastify-api'] as const)(
  'two-factor sign-in pages in Chromium (%s)',
  (example) => {
    let app: RunningExample;
    let browser: Browser;
    let page: Page;
    const email = `mfa-${example}-${Date.now()}@example.com`;
    let secret = '';
    let recoveryCodes: string[] = [];
    let lastStep = -1;

    /** A code the server has not accepted yet: this step's, or the next step's. */
    function nextCode(): string {
      const step = Math.max(totpStepAt(Date.now()), lastStep + 1);
      lastStep = step;
      return totpCodeAt(secret, step * 30_000);
    }

    // Its own DATA_DIR (embedded database, development keys), kept across a restart.
    const dataDir = mkdtempSync(join(tmpdir(), `gatehouse-mfa-${example}-`));
    const env = { AUTH_LOGIN_RATE_LIMIT: '100/min' };

    beforeAll(async () => {
      app = await startExample(example, env, { dataDir });
      const registered = await fetch(`${app.url}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: PASSWORD, name: 'Mfa User' }),
      });
      expect(registered.status).toBe(201);
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
      rmSync(dataDir, { recursive: true, force: true });
    });

    async function signIn() {
      await page.goto(`${app.url}/`);
      await page.fill('#email', email);
      await page.fill('#password', PASSWORD);
      await page.click('#submit');
    }

    async function logOut() {
      await page.click('#logout');
      await page.waitForURL(`${app.url}/`);
    }

    it('enrols on the dashboard: a QR code of the otpauth URI and the key as text; the first code turns it on and shows 10 recovery codes once', async () => {
      await signIn();
      await page.waitForURL(`${app.url}/dashboard.html`);
      await page.locator('#mfa-start').waitFor({ state: 'visible' });
      expect(await page.textContent('#mfa-state')).toContain('off');
      await page.click('#mfa-start');
      await page.locator('#mfa-enroll-form').waitFor({ state: 'visible' });
      secret = (await page.textContent('#mfa-secret'))!.trim();
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      // The QR code drawn on the page is the one of this key's URI, computed by the app itself.
      const uri = totpUri({ issuer: MFA_ISSUER, account: email, secret });
      await page.waitForFunction('document.querySelector("#mfa-qr path") !== null');
      expect(await page.getAttribute('#mfa-qr path', 'd')).toBe(mfaQrCodeOf({ uri }).path);

      await page.fill('#mfa-confirm-code', nextCode());
      await page.click('#mfa-confirm');
      await page.locator('#mfa-codes-box').waitFor({ state: 'visible' });
      recoveryCodes = await page.locator('#mfa-codes li').allTextContents();
      expect(recoveryCodes).toHaveLength(10);
      // The key is gone from the page once the factor is on.
      expect(await page.textContent('#mfa-secret')).toBe('');
      await page.click('#mfa-codes-done');
      await page.locator('#mfa-manage').waitFor({ state: 'visible' });
      // Shown once: neither on the page any more nor after a reload.
      expect(await page.locator('#mfa-codes li').count()).toBe(0);
      await page.reload();
      await page.locator('#mfa-manage').waitFor({ state: 'visible' });
      expect(await page.textContent('#mfa-state')).toContain('on');
      expect(await page.locator('#mfa-codes li').count()).toBe(0);
    });

    it('signs out, and the password alone no longer signs in: the code step asks for the code, and a wrong one is refused', async () => {
      await logOut();
      await signIn();
      await page.locator('#mfa-form').waitFor({ state: 'visible' });
      expect(await page.isHidden('#login-form')).toBe(true);
      expect(page.url()).toBe(`${app.url}/`);
      expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe(
        'mfa-code',
      );
      // Not signed in yet: the dashboard sends the browser back.
      const probe = await page.context().request.get(`${app.url}/app/api/auth/me`);
      expect(probe.status()).toBe(401);
      // A wrong code: the seed-style message, the form stays.
      await page.fill('#mfa-code', totpCodeAt(secret, Date.now() - 10 * 30_000));
      await page.click('#mfa-submit');
      await page.locator('#mfa-error').waitFor({ state: 'visible' });
      expect(await page.textContent('#mfa-error')).toContain('code is not right');
      expect(await page.getAttribute('#mfa-code', 'aria-invalid')).toBe('true');
    });

    it('the right code finishes the sign-in on the dashboard', async () => {
      await page.fill('#mfa-code', nextCode());
      await page.click('#mfa-submit');
      await page.waitForURL(`${app.url}/dashboard.html`);
      await page.locator('#user-name', { hasText: 'Mfa User' }).waitFor();
    });

    it('a recovery code signs in once; the same code a second time is refused', async () => {
      await logOut();
      await signIn();
      await page.locator('#mfa-form').waitFor({ state: 'visible' });
      await page.click('#mfa-use-recovery');
      expect(await page.textContent('#mfa-code-label')).toBe('Recovery code');
      await page.fill('#mfa-code', recoveryCodes[0]!);
      await page.click('#mfa-submit');
      await page.waitForURL(`${app.url}/dashboard.html`);
      await page.locator('#user-name', { hasText: 'Mfa User' }).waitFor();

      await logOut();
      await signIn();
      await page.locator('#mfa-form').waitFor({ state: 'visible' });
      await page.click('#mfa-use-recovery');
      await page.fill('#mfa-code', recoveryCodes[0]!);
      await page.click('#mfa-submit');
      await page.locator('#mfa-error').waitFor({ state: 'visible' });
      expect(await page.textContent('#mfa-error')).toContain('already used');
      expect(page.url()).toBe(`${app.url}/`);
      // Another code of the set still works.
      await page.fill('#mfa-code', recoveryCodes[1]!);
      await page.click('#mfa-submit');
      await page.waitForURL(`${app.url}/dashboard.html`);
    });

    it('the factor survives a restart of the app: still asked for, and a recovery code (hashed with the decrypted secret) still works', async () => {
      await app.stop();
      app = await startExample(example, env, { dataDir });
      // Cookies are per host, not per port: a fresh browser, not this session carried over.
      await page.context().clearCookies();
      await signIn();
      await page.locator('#mfa-form').waitFor({ state: 'visible' });
      await page.click('#mfa-use-recovery');
      await page.fill('#mfa-code', recoveryCodes[2]!);
      await page.click('#mfa-submit');
      await page.waitForURL(`${app.url}/dashboard.html`);
    }, 90_000);

    it('turns the factor off with the password and a recovery code; the next sign-in needs the password only', async () => {
      await page.locator('#mfa-manage').waitFor({ state: 'visible' });
      await page.fill('#mfa-disable-password', PASSWORD);
      await page.fill('#mfa-disable-code', recoveryCodes[3]!);
      await page.click('#mfa-disable');
      await page.locator('#mfa-start').waitFor({ state: 'visible' });
      expect(await page.textContent('#mfa-state')).toContain('off');
      await logOut();
      await signIn();
      await page.waitForURL(`${app.url}/dashboard.html`);
    });
  },
);

describe.skipIf(!hasBrowser)('enrolment required for a role, at sign-in, in Chromium', () => {
  let app: RunningExample;
  let browser: Browser;
  let page: Page;
  const admin = { email: 'admin@example.com', password: 'granite lantern orbit' };

  beforeAll(async () => {
    app = await startExample('express-api', {
      AUTH_LOGIN_RATE_LIMIT: '100/min',
      AUTH_MFA_REQUIRED_ROLES: 'admin',
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await (await browser.newContext()).newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('the seeded admin without a factor is led through the enrolment (QR code, key, first code), sees the recovery codes once, then reaches the dashboard; the next sign-in asks for a code', async () => {
    await page.goto(`${app.url}/`);
    await page.fill('#email', admin.email);
    await page.fill('#password', admin.password);
    await page.click('#submit');
    await page.locator('#mfa-enrol-step').waitFor({ state: 'visible' });
    // Not signed in before the factor is on.
    expect((await page.context().request.get(`${app.url}/app/api/auth/me`)).status()).toBe(401);
    const secret = (await page.textContent('#mfa-enrol-secret'))!.trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = totpUri({ issuer: MFA_ISSUER, account: admin.email, secret });
    await page.waitForFunction('document.querySelector("#mfa-enrol-qr path") !== null');
    expect(await page.getAttribute('#mfa-enrol-qr path', 'd')).toBe(mfaQrCodeOf({ uri }).path);
    const step = totpStepAt(Date.now());
    await page.fill('#mfa-enrol-code', totpCodeAt(secret, step * 30_000));
    await page.click('#mfa-enrol-submit');
    await page.locator('#mfa-enrol-codes-box').waitFor({ state: 'visible' });
    expect(await page.locator('#mfa-enrol-codes li').count()).toBe(10);
    expect(await page.textContent('#mfa-enrol-secret')).toBe('');
    await page.click('#mfa-enrol-continue');
    await page.waitForURL(`${app.url}/dashboard.html`);
    await page.locator('#user-name', { hasText: 'Demo Admin' }).waitFor();
    // A role that requires the factor cannot turn it off (refused before any check).
    await page.locator('#mfa-manage').waitFor({ state: 'visible' });
    await page.fill('#mfa-disable-password', admin.password);
    await page.fill('#mfa-disable-code', '000000');
    await page.click('#mfa-disable');
    await page.locator('#mfa-error').waitFor({ state: 'visible' });
    expect(await page.textContent('#mfa-error')).toContain('cannot be turned off');
    expect(await page.isVisible('#mfa-manage')).toBe(true);

    await page.click('#logout');
    await page.waitForURL(`${app.url}/`);
    await page.fill('#email', admin.email);
    await page.fill('#password', admin.password);
    await page.click('#submit');
    await page.locator('#mfa-form').waitFor({ state: 'visible' });
    await page.fill('#mfa-code', totpCodeAt(secret, (step + 1) * 30_000));
    await page.click('#mfa-submit');
    await page.waitForURL(`${app.url}/dashboard.html`);
  }, 60_000);
});
