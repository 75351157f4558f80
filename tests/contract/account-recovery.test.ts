// The account-recovery routes over real HTTP on both adapters: password reset by mail, email
// verification, the authenticated resend and the enumeration-safe registration. Mails go to a
// recording mailer (the user's Mailer function is the interface); links are read from them.
import { afterEach, describe, expect, it } from 'vitest';
import { createAuthHttp } from '../../src/http/index.js';
import type { AuthOptions, MailMessage } from '../../src/index.js';
import { adapters, type RunningApp } from './apps.js';
import { Browser, ORIGIN } from './browser.js';
import { call, expectContractError, logIn, PASSWORD, signUp } from './client.js';
import { linkTokenOf, recordingMail } from './mail-recorder.js';

const NEW_PASSWORD = 'a brand new passphrase';
const FORGOT_BODY = {
  success: true,
  message: 'If an account exists for that email, we sent a link to reset the password.',
};
const SIGN_UP_BODY = {
  success: true,
  message: 'Check your email to finish creating your account.',
};
const RELAXED = { login: '1000/min', register: '1000/min', forgot: '1000/min' } as const;

/**
 * A response with every header but Date (which differs by the clock, not by the request). Every
 * call sends the same X-Request-Id, which is echoed: a made id would differ per request by design.
 */
async function fullCall(app: RunningApp, path: string, json: unknown) {
  const response = await fetch(app.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'enumeration-probe' },
    body: JSON.stringify(json),
  });
  const headers = [...response.headers].filter(([name]) => name !== 'date');
  return { status: response.status, headers, body: await response.text() };
}

describe.each(adapters)('account recovery on $name', (adapter) => {
  let app: RunningApp;
  let messages: MailMessage[];
  afterEach(() => app?.close());

  async function start(authOptions: AuthOptions = {}) {
    const recorder = recordingMail();
    messages = recorder.messages;
    app = await adapter.start({
      authOptions: { rateLimits: RELAXED, mail: recorder.mail, ...authOptions },
    });
    return app;
  }

  describe('password reset', () => {
    it('resets a forgotten password over HTTP: forgot → mailed link → reset; the old password and the old access token stop working, the new password logs in', async () => {
      await start();
      const { token: oldAccess } = await signUp(app);

      const forgot = await call(app, '/api/auth/password/forgot', {
        json: { email: 'ada@example.com' },
      });
      expect(forgot.status).toBe(202);
      expect(forgot.body).toEqual(FORGOT_BODY);
      await app.auth.mail.flush();
      const token = linkTokenOf(messages, 'password_reset', 'ada@example.com');

      const reset = await call(app, '/api/auth/password/reset', {
        json: { token, password: NEW_PASSWORD },
      });
      expect(reset.status).toBe(200);
      expect(reset.body).toEqual({ success: true });

      expectContractError(
        await call(app, '/api/auth/login', {
          json: { email: 'ada@example.com', password: PASSWORD },
        }),
        401,
        'INVALID_CREDENTIALS',
      );
      expect((await logIn(app, 'ada@example.com', NEW_PASSWORD)).user.email).toBe(
        'ada@example.com',
      );
      expect((await call(app, '/api/auth/me', { token: oldAccess })).status).toBe(401);
    });

    it('replay: a reset link works once; the second use gets 400 LINK_INVALID and the password stays', async () => {
      await start();
      await signUp(app);
      await call(app, '/api/auth/password/forgot', { json: { email: 'ada@example.com' } });
      await app.auth.mail.flush();
      const token = linkTokenOf(messages, 'password_reset', 'ada@example.com');
      const json = { token, password: NEW_PASSWORD };
      expect((await call(app, '/api/auth/password/reset', { json })).status).toBe(200);
      expectContractError(
        await call(app, '/api/auth/password/reset', {
          json: { token, password: 'the attacker passphrase' },
        }),
        400,
        'LINK_INVALID',
      );
      await logIn(app, 'ada@example.com', NEW_PASSWORD);
    });

    it('account enumeration: forgot answers an existing, a locked-out, an unknown and a malformed email with the same status, headers (but Date) and body', async () => {
      await start();
      await signUp(app);
      await signUp(app, 'locked@example.com');
      for (let i = 0; i < 6; i++) {
        await call(app, '/api/auth/login', {
          json: { email: 'locked@example.com', password: 'not the password' },
        });
      }
      expectContractError(
        await call(app, '/api/auth/login', {
          json: { email: 'locked@example.com', password: PASSWORD },
        }),
        403,
        'ACCOUNT_LOCKED',
      );
      const emails = [
        'ada@example.com',
        'locked@example.com',
        'nobody@example.com',
        'not an email',
        '',
      ];
      const answers = [];
      for (const email of emails) {
        answers.push(await fullCall(app, '/api/auth/password/forgot', { email }));
      }
      expect(answers[0]!.status).toBe(202);
      expect(JSON.parse(answers[0]!.body)).toEqual(FORGOT_BODY);
      for (const answer of answers.slice(1)) expect(answer).toEqual(answers[0]);
      // Only the accounts were mailed; the locked-out one too (it can always recover).
      await app.auth.mail.flush();
      expect(messages.filter((m) => m.kind === 'password_reset').map((m) => m.to)).toEqual([
        'ada@example.com',
        'locked@example.com',
      ]);
    });

    it('flood: the 6th forgot request in a minute from one IP gets 429 RATE_LIMITED with Retry-After, before any reset is requested', async () => {
      await start({ rateLimits: { ...RELAXED, forgot: '5/min' } });
      for (let i = 0; i < 5; i++) {
        const response = await call(app, '/api/auth/password/forgot', {
          json: { email: `someone${i}@example.com` },
        });
        expect(response.status).toBe(202);
      }
      const limited = await call(app, '/api/auth/password/forgot', {
        json: { email: 'someone5@example.com' },
      });
      expectContractError(limited, 429, 'RATE_LIMITED');
      expect(limited.headers['retry-after']).toBe('60');
      expect(app.events.filter((e) => e.event === 'PASSWORD_RESET_REQUESTED')).toHaveLength(5);
      expect(app.events.find((e) => e.event === 'RATE_LIMITED')?.metadata).toMatchObject({
        route: 'forgot',
      });
      // Refused before the body is read: malformed JSON over the limit is 429, not 400.
      expectContractError(
        await call(app, '/api/auth/password/forgot', {
          raw: '{',
          headers: { 'content-type': 'application/json' },
        }),
        429,
        'RATE_LIMITED',
      );
    });

    it('forged, empty and garbage reset tokens get 400 LINK_INVALID with the contract body', async () => {
      await start();
      await signUp(app);
      const forged = Buffer.alloc(32, 7).toString('base64url');
      for (const token of [forged, '', 'x', 'a'.repeat(512), '../../etc/passwd']) {
        expectContractError(
          await call(app, '/api/auth/password/reset', { json: { token, password: NEW_PASSWORD } }),
          400,
          'LINK_INVALID',
        );
      }
      await logIn(app);
    });

    it('bad input to reset (a number as token, no password, a 513-character token) gets 400 VALIDATION_ERROR naming the field', async () => {
      await start();
      const cases: [unknown, string][] = [
        [{ token: 42, password: NEW_PASSWORD }, 'token'],
        [{ token: 'abc' }, 'password'],
        [{ token: 'a'.repeat(513), password: NEW_PASSWORD }, 'token'],
      ];
      for (const [json, field] of cases) {
        const response = await call(app, '/api/auth/password/reset', { json });
        expectContractError(response, 400, 'VALIDATION_ERROR');
        expect((response.body as { error: string }).error).toContain(field);
      }
      expectContractError(
        await call(app, '/api/auth/password/forgot', { json: { email: ['ada@example.com'] } }),
        400,
        'VALIDATION_ERROR',
      );
    });

    it('a new password the policy refuses gets 400 VALIDATION_ERROR, and the link still works', async () => {
      await start();
      await signUp(app);
      await call(app, '/api/auth/password/forgot', { json: { email: 'ada@example.com' } });
      await app.auth.mail.flush();
      const token = linkTokenOf(messages, 'password_reset', 'ada@example.com');
      expectContractError(
        await call(app, '/api/auth/password/reset', { json: { token, password: 'short' } }),
        400,
        'VALIDATION_ERROR',
      );
      const reset = await call(app, '/api/auth/password/reset', {
        json: { token, password: NEW_PASSWORD },
      });
      expect(reset.status).toBe(200);
    });
  });

  describe('email verification', () => {
    it('verifies an email over HTTP with the link mailed at registration: 200 {success, user} with emailVerified, once', async () => {
      await start();
      const { token: access } = await signUp(app);
      expect(
        ((await call(app, '/api/auth/me', { token: access })).body as { user: object }).user,
      ).toMatchObject({ emailVerified: false });
      await app.auth.mail.flush();
      const token = linkTokenOf(messages, 'email_verification', 'ada@example.com');

      const verified = await call(app, '/api/auth/email/verify', { json: { token } });
      expect(verified.status).toBe(200);
      expect(verified.body).toEqual({
        success: true,
        user: {
          id: expect.any(String),
          email: 'ada@example.com',
          name: 'Ada Lovelace',
          role: 'user',
          emailVerified: true,
        },
      });
      expect(
        ((await call(app, '/api/auth/me', { token: access })).body as { user: object }).user,
      ).toMatchObject({ emailVerified: true });
      expectContractError(
        await call(app, '/api/auth/email/verify', { json: { token } }),
        400,
        'LINK_INVALID',
      );
    });

    it('a reset link does not verify an email, nor a verification link reset a password (400 LINK_INVALID)', async () => {
      await start();
      await signUp(app);
      await call(app, '/api/auth/password/forgot', { json: { email: 'ada@example.com' } });
      await app.auth.mail.flush();
      const resetToken = linkTokenOf(messages, 'password_reset', 'ada@example.com');
      const verifyToken = linkTokenOf(messages, 'email_verification', 'ada@example.com');
      expectContractError(
        await call(app, '/api/auth/email/verify', { json: { token: resetToken } }),
        400,
        'LINK_INVALID',
      );
      expectContractError(
        await call(app, '/api/auth/password/reset', {
          json: { token: verifyToken, password: NEW_PASSWORD },
        }),
        400,
        'LINK_INVALID',
      );
    });

    it('resend without credentials is refused with 401 UNAUTHENTICATED and sends nothing', async () => {
      await start();
      const response = await call(app, '/api/auth/email/resend', { method: 'POST' });
      expectContractError(response, 401, 'UNAUTHENTICATED');
      expect(response.headers['www-authenticate']).toBe('Bearer');
      await app.auth.mail.flush();
      expect(messages).toEqual([]);
    });

    it('resend mails a new link (202); the 4th in 15 minutes gets 429 RATE_LIMITED with Retry-After', async () => {
      await start();
      const { token } = await signUp(app);
      for (let i = 0; i < 3; i++) {
        const response = await call(app, '/api/auth/email/resend', { method: 'POST', token });
        expect(response.status).toBe(202);
        expect(response.body).toEqual({ success: true });
      }
      const limited = await call(app, '/api/auth/email/resend', { method: 'POST', token });
      expectContractError(limited, 429, 'RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      await app.auth.mail.flush();
      // The registration mail and three resends; only the newest link works.
      const mailed = messages.filter((m) => m.kind === 'email_verification');
      expect(mailed).toHaveLength(4);
      const newest = linkTokenOf(messages, 'email_verification', 'ada@example.com');
      expect((await call(app, '/api/auth/email/verify', { json: { token: newest } })).status).toBe(
        200,
      );
    });
  });

  describe('registration with verification required', () => {
    it('account enumeration: a new and a taken email get the same 202 (status, headers but Date, body); the owner of the taken one gets a notice, not a second account', async () => {
      await start({ emailVerification: { required: true } });
      const first = await fullCall(app, '/api/auth/register', {
        email: 'ada@example.com',
        password: PASSWORD,
        name: 'Ada Lovelace',
      });
      const taken = await fullCall(app, '/api/auth/register', {
        email: 'ada@example.com',
        password: 'the attacker passphrase',
        name: 'Mallory',
      });
      expect(first.status).toBe(202);
      expect(JSON.parse(first.body)).toEqual(SIGN_UP_BODY);
      expect(taken).toEqual(first);

      await app.auth.mail.flush();
      expect(messages.map((m) => [m.kind, m.to])).toEqual([
        ['email_verification', 'ada@example.com'],
        ['registration_notice', 'ada@example.com'],
      ]);
      expectContractError(
        await call(app, '/api/auth/login', {
          json: { email: 'ada@example.com', password: 'the attacker passphrase' },
        }),
        401,
        'INVALID_CREDENTIALS',
      );
    });

    it('login answers 403 EMAIL_NOT_VERIFIED after the right password until the mailed link is followed, then 200', async () => {
      await start({ emailVerification: { required: true } });
      await call(app, '/api/auth/register', {
        json: { email: 'ada@example.com', password: PASSWORD, name: 'Ada Lovelace' },
      });
      expectContractError(
        await call(app, '/api/auth/login', {
          json: { email: 'ada@example.com', password: PASSWORD },
        }),
        403,
        'EMAIL_NOT_VERIFIED',
      );
      await app.auth.mail.flush();
      const token = linkTokenOf(messages, 'email_verification', 'ada@example.com');
      expect((await call(app, '/api/auth/email/verify', { json: { token } })).status).toBe(200);
      await logIn(app);
    });

    it('bad input to register still gets 400 VALIDATION_ERROR (it reveals nothing about the email)', async () => {
      await start({ emailVerification: { required: true } });
      expectContractError(
        await call(app, '/api/auth/register', {
          json: { email: 'ada@example.com', password: 'short', name: 'Ada' },
        }),
        400,
        'VALIDATION_ERROR',
      );
    });
  });

  describe('cookie mode', () => {
    async function startCookies() {
      await start({ cookies: { trustedOrigins: [ORIGIN] } });
      return new Browser(app);
    }

    it('attack: a cross-site forgot request without the CSRF token is refused with 403 CSRF_REJECTED and requests nothing; with the pre-login token it gets 202', async () => {
      const browser = await startCookies();
      await browser.signUp();
      const anonymous = new Browser(app);
      await anonymous.send('/api/auth/csrf');
      const json = { email: 'ada@example.com' };
      expectContractError(
        await anonymous.send('/api/auth/password/forgot', { json, withToken: false }),
        403,
        'CSRF_REJECTED',
      );
      expectContractError(
        await anonymous.send('/api/auth/password/forgot', {
          json,
          origin: 'https://evil.example',
        }),
        403,
        'CSRF_REJECTED',
      );
      expect(app.events.filter((e) => e.event === 'PASSWORD_RESET_REQUESTED')).toEqual([]);
      const accepted = await anonymous.send('/api/auth/password/forgot', { json });
      expect(accepted.status).toBe(202);
      expect(accepted.body).toEqual(FORGOT_BODY);
      expect(accepted.cookies).toEqual([]);
    });

    it('attack: reset and verify without the CSRF token are refused with 403 CSRF_REJECTED and consume nothing; with the pre-login token they work', async () => {
      const browser = await startCookies();
      await browser.signUp();
      await app.auth.mail.flush();
      const verifyToken = linkTokenOf(messages, 'email_verification', 'ada@example.com');
      const page = new Browser(app);
      await page.send('/api/auth/csrf');
      await page.send('/api/auth/password/forgot', { json: { email: 'ada@example.com' } });
      await app.auth.mail.flush();
      const resetToken = linkTokenOf(messages, 'password_reset', 'ada@example.com');

      const reset = { json: { token: resetToken, password: NEW_PASSWORD } };
      const verify = { json: { token: verifyToken } };
      expectContractError(
        await page.send('/api/auth/password/reset', { ...reset, withToken: false }),
        403,
        'CSRF_REJECTED',
      );
      expectContractError(
        await page.send('/api/auth/email/verify', { ...verify, withToken: false }),
        403,
        'CSRF_REJECTED',
      );
      expect((await page.send('/api/auth/password/reset', reset)).status).toBe(200);
      expect((await page.send('/api/auth/email/verify', verify)).status).toBe(200);
    });

    it('attack: resend with a pre-login CSRF token (its binding cookie put back) is refused with 403; the session-bound token gets 202', async () => {
      const browser = await startCookies();
      await browser.send('/api/auth/csrf');
      const preLogin = { cookie: browser.jar.get(browser.bindingName)!, token: browser.csrfToken };
      await browser.signUp();
      const sessionBound = {
        cookie: browser.jar.get(browser.bindingName)!,
        token: browser.csrfToken,
      };
      browser.jar.set(browser.bindingName, preLogin.cookie);
      browser.csrfToken = preLogin.token;
      expectContractError(
        await browser.send('/api/auth/email/resend', { method: 'POST' }),
        403,
        'CSRF_REJECTED',
      );
      browser.jar.set(browser.bindingName, sessionBound.cookie);
      browser.csrfToken = sessionBound.token;
      expectContractError(
        await browser.send('/api/auth/email/resend', { method: 'POST', withToken: false }),
        403,
        'CSRF_REJECTED',
      );
      const accepted = await browser.send('/api/auth/email/resend', { method: 'POST' });
      expect(accepted.status).toBe(202);
      expect(app.events.filter((e) => e.event === 'EMAIL_VERIFICATION_SENT')).toHaveLength(2);
    });

    it('registration with verification required answers 202 without setting any cookie', async () => {
      await start({
        cookies: { trustedOrigins: [ORIGIN] },
        emailVerification: { required: true },
      });
      const browser = new Browser(app);
      await browser.send('/api/auth/csrf');
      const response = await browser.send('/api/auth/register', {
        json: { email: 'ada@example.com', password: PASSWORD, name: 'Ada Lovelace' },
      });
      expect(response.status).toBe(202);
      expect(response.body).toEqual(SIGN_UP_BODY);
      expect(response.cookies).toEqual([]);
    });
  });

  describe('mounting', () => {
    it('forgot, reset and verify are public, resend is guarded', async () => {
      await start();
      const marks = Object.fromEntries(
        createAuthHttp(app.auth).routes.map((route) => [
          `${route.method} ${route.path}`,
          route.public,
        ]),
      );
      expect(marks).toMatchObject({
        'POST /api/auth/password/forgot': true,
        'POST /api/auth/password/reset': true,
        'POST /api/auth/email/verify': true,
        'POST /api/auth/email/resend': false,
      });
    });

    it('without the mail option the recovery routes are not mounted (404 NOT_FOUND), and register keeps 201/409', async () => {
      app = await adapter.start({ authOptions: { rateLimits: RELAXED } });
      for (const path of ['password/forgot', 'password/reset', 'email/verify', 'email/resend']) {
        expectContractError(
          await call(app, `/api/auth/${path}`, { json: { email: 'a@example.com', token: 'x' } }),
          404,
          'NOT_FOUND',
        );
      }
      const json = { email: 'ada@example.com', password: PASSWORD, name: 'Ada' };
      expect((await call(app, '/api/auth/register', { json })).status).toBe(201);
      expectContractError(await call(app, '/api/auth/register', { json }), 409, 'EMAIL_TAKEN');
    });
  });
});
