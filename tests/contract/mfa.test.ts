// The TOTP second factor over real HTTP on both adapters: enrolment, the code step of a login
// (MFA_REQUIRED with a challenge, then /mfa/verify), recovery codes, disabling, the enrolment
// challenge of `requireForRoles`, the factor's lockout, and cookie mode (session cookies and
// CSRF on the code step). Codes are computed from the secret the enroll route returns, at the
// app's injected clock; the clock moves 30 s between two uses of a code (one code, one step).
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthOptions } from '../../src/index.js';
import { totpCodeAt } from '../../src/mfa/totp.js';
import { adapters, type RunningApp } from './apps.js';
import { Browser, ORIGIN } from './browser.js';
import {
  type ContractResponse,
  call,
  expectContractError,
  logIn,
  PASSWORD,
  signUp,
} from './client.js';

const RELAXED = { login: '1000/min', register: '1000/min', refresh: '1000/min' } as const;
const MFA = { encryptionKeys: [{ id: 'k1', key: Buffer.alloc(32, 7).toString('base64url') }] };
const STEP = 30_000;

type Tokens = Awaited<ReturnType<typeof logIn>>;

/** A login answer that asks for the second step: its challenge. */
function challengeOf(response: ContractResponse, status: number, code: string): string {
  expect(response.status).toBe(status);
  const body = response.body as Record<string, unknown>;
  expect(body).toEqual({
    success: false,
    error: expect.any(String),
    code,
    challenge: expect.stringMatching(/^[\w-]{43}$/),
    expiresIn: 300,
  });
  // No session of any kind: neither tokens nor cookies.
  expect(response.cookies.filter((c) => !c.startsWith('__Host-gatehouse-csrf'))).toEqual([]);
  return body['challenge'] as string;
}

/** A code of a bad value that is surely not the current one (the code of 10 steps ago). */
function staleCode(app: RunningApp, secret: string): string {
  const current = totpCodeAt(secret, app.clock.now());
  for (let back = 10; ; back++) {
    const old = totpCodeAt(secret, app.clock.now() - back * STEP);
    if (old !== current && old !== totpCodeAt(secret, app.clock.now() + STEP)) return old;
  }
}

describe.each(adapters)('MFA routes on $name', (adapter) => {
  let app: RunningApp;
  afterEach(() => app?.close());

  async function start(authOptions: AuthOptions = {}) {
    app = await adapter.start({ authOptions: { rateLimits: RELAXED, mfa: MFA, ...authOptions } });
    return app;
  }

  /** Enrols the bearer of `token`: returns the secret and the recovery codes. */
  async function enrol(token: string) {
    const started = await call(app, '/api/auth/mfa/totp/enroll', { token, json: {} });
    expect(started.status).toBe(200);
    const { secret, uri } = started.body as { secret: string; uri: string };
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    expect(new URL(uri).searchParams.get('secret')).toBe(secret);
    const confirmed = await call(app, '/api/auth/mfa/totp/confirm', {
      token,
      json: { code: totpCodeAt(secret, app.clock.now()) },
    });
    expect(confirmed.status).toBe(200);
    const { recoveryCodes } = confirmed.body as { recoveryCodes: string[] };
    // The next code is of a later step: the one just used cannot be used again.
    app.clock.advance(STEP);
    return { secret, recoveryCodes };
  }

  /** Registers, logs in and enrols ada; returns the secret, codes and the first tokens. */
  async function enrolledUser() {
    const tokens = await signUp(app);
    return { ...(await enrol(tokens.token)), tokens };
  }

  async function loginChallenge(email = 'ada@example.com') {
    const response = await call(app, '/api/auth/login', { json: { email, password: PASSWORD } });
    return challengeOf(response, 401, 'MFA_REQUIRED');
  }

  async function verify(json: Record<string, unknown>) {
    return call(app, '/api/auth/mfa/verify', { json });
  }

  it('enrols over HTTP: enroll gives a 160-bit base32 secret and its otpauth URI, confirm with a code from it gives 10 recovery codes, once', async () => {
    await start();
    const { token } = await signUp(app);
    const started = await call(app, '/api/auth/mfa/totp/enroll', { token, json: {} });
    expect(started.status).toBe(200);
    expect(started.headers['cache-control']).toBe('no-store');
    const { secret, uri } = started.body as { secret: string; uri: string };
    expect(Object.keys(started.body as object).sort()).toEqual(['secret', 'success', 'uri']);
    expect(uri).toContain('issuer=');
    const confirmed = await call(app, '/api/auth/mfa/totp/confirm', {
      token,
      json: { code: totpCodeAt(secret, app.clock.now()) },
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.headers['cache-control']).toBe('no-store');
    const { recoveryCodes } = confirmed.body as { recoveryCodes: string[] };
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    // The factor is on: a second enrolment is refused, the secret is never given again.
    expectContractError(
      await call(app, '/api/auth/mfa/totp/enroll', { token, json: {} }),
      409,
      'MFA_ALREADY_ENROLLED',
    );
    expect(app.events.map((e) => e.event)).toContain('MFA_ENROLLED');
  });

  it('GET /mfa tells the caller whether the factor is on and how many recovery codes are left, never the secret', async () => {
    await start();
    const { token } = await signUp(app);
    const before = await call(app, '/api/auth/mfa', { token });
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      success: true,
      enrolled: false,
      enrolledAt: null,
      recoveryCodesLeft: 0,
    });
    const { recoveryCodes } = await enrol(token);
    await verify({ challenge: await loginChallenge(), recoveryCode: recoveryCodes[0] });
    const after = await call(app, '/api/auth/mfa', { token });
    expect(after.body).toEqual({
      success: true,
      enrolled: true,
      enrolledAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      recoveryCodesLeft: 9,
    });
  });

  it('confirm with a wrong code is 401 MFA_INVALID_CODE and the factor stays off (login needs no code)', async () => {
    await start();
    const { token } = await signUp(app);
    const started = await call(app, '/api/auth/mfa/totp/enroll', { token, json: {} });
    const { secret } = started.body as { secret: string };
    expectContractError(
      await call(app, '/api/auth/mfa/totp/confirm', {
        token,
        json: { code: staleCode(app, secret) },
      }),
      401,
      'MFA_INVALID_CODE',
    );
    await logIn(app);
  });

  it('login of an enrolled account answers 401 MFA_REQUIRED with a challenge and no session; verify with the code issues tokens that work', async () => {
    await start();
    const { secret } = await enrolledUser();
    const challenge = await loginChallenge();
    const verified = await verify({ challenge, code: totpCodeAt(secret, app.clock.now()) });
    expect(verified.status).toBe(200);
    expect(verified.body).toEqual({
      success: true,
      token: expect.any(String),
      refreshToken: expect.any(String),
      expiresIn: 900,
      user: expect.objectContaining({ email: 'ada@example.com' }),
    });
    const { token, refreshToken } = verified.body as Tokens;
    expect((await call(app, '/api/auth/me', { token })).status).toBe(200);
    expect((await call(app, '/api/auth/refresh', { json: { refreshToken } })).status).toBe(200);
  });

  it('verify names the new session with the deviceLabel it is given (the login started none), and refuses a label of control characters with 400 before any code is checked', async () => {
    await start();
    const { secret, tokens } = await enrolledUser();
    expectContractError(
      await verify({
        challenge: await loginChallenge(),
        code: totpCodeAt(secret, app.clock.now()),
        deviceLabel: 'bad\u0007label',
      }),
      400,
      'VALIDATION_ERROR',
    );
    const verified = await verify({
      challenge: await loginChallenge(),
      code: totpCodeAt(secret, app.clock.now()),
      deviceLabel: 'Ada’s laptop',
    });
    expect(verified.status).toBe(200);
    const sessions = await app.auth.listSessions(tokens.user.id);
    expect(sessions.map((session) => session.label)).toContain('Ada’s laptop');
  });

  it('replay: a code accepted once is refused the second time, even with a new challenge (401 MFA_INVALID_CODE)', async () => {
    await start();
    const { secret } = await enrolledUser();
    const code = totpCodeAt(secret, app.clock.now());
    expect((await verify({ challenge: await loginChallenge(), code })).status).toBe(200);
    expectContractError(
      await verify({ challenge: await loginChallenge(), code }),
      401,
      'MFA_INVALID_CODE',
    );
  });

  it('concurrent replay: the same code sent five times at once signs in exactly once', async () => {
    await start();
    const { secret } = await enrolledUser();
    const challenges = [];
    for (let i = 0; i < 5; i++) challenges.push(await loginChallenge());
    const code = totpCodeAt(secret, app.clock.now());
    const answers = await Promise.all(challenges.map((challenge) => verify({ challenge, code })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401, 401, 401]);
  });

  it('clock skew: a code of the previous or the next 30 s step is accepted, one two steps away is not', async () => {
    await start();
    const { secret } = await enrolledUser();
    const now = app.clock.now();
    expectContractError(
      await verify({ challenge: await loginChallenge(), code: totpCodeAt(secret, now + 2 * STEP) }),
      401,
      'MFA_INVALID_CODE',
    );
    const next = await verify({
      challenge: await loginChallenge(),
      code: totpCodeAt(secret, now + STEP),
    });
    expect(next.status).toBe(200);
    app.clock.advance(3 * STEP);
    const previous = await verify({
      challenge: await loginChallenge(),
      code: totpCodeAt(secret, app.clock.now() - STEP),
    });
    expect(previous.status).toBe(200);
  });

  it('a challenge works once: after a successful verify it is 401 MFA_CHALLENGE_INVALID', async () => {
    await start();
    const { secret } = await enrolledUser();
    const challenge = await loginChallenge();
    expect((await verify({ challenge, code: totpCodeAt(secret, app.clock.now()) })).status).toBe(
      200,
    );
    app.clock.advance(STEP);
    expectContractError(
      await verify({ challenge, code: totpCodeAt(secret, app.clock.now()) }),
      401,
      'MFA_CHALLENGE_INVALID',
    );
  });

  it('a challenge expires after 5 minutes (injected clock): 401 MFA_CHALLENGE_INVALID with the right code', async () => {
    await start();
    const { secret } = await enrolledUser();
    const challenge = await loginChallenge();
    app.clock.advance(5 * 60_000 + 1);
    expectContractError(
      await verify({ challenge, code: totpCodeAt(secret, app.clock.now()) }),
      401,
      'MFA_CHALLENGE_INVALID',
    );
  });

  it('a forged or unknown challenge is 401 MFA_CHALLENGE_INVALID, whatever the code', async () => {
    await start();
    const { secret } = await enrolledUser();
    expectContractError(
      await verify({
        challenge: 'A'.repeat(43),
        code: totpCodeAt(secret, app.clock.now()),
      }),
      401,
      'MFA_CHALLENGE_INVALID',
    );
  });

  it('brute force of the code: the 5th wrong code locks the factor (403 MFA_LOCKED, Retry-After), the challenge dies, and the right code is refused until the lock ends', async () => {
    await start();
    const { secret } = await enrolledUser();
    const challenge = await loginChallenge();
    const wrong = staleCode(app, secret);
    for (let i = 0; i < 4; i++) {
      expectContractError(await verify({ challenge, code: wrong }), 401, 'MFA_INVALID_CODE');
    }
    const locked = await verify({ challenge, code: wrong });
    expectContractError(locked, 403, 'MFA_LOCKED');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(app.events.map((e) => e.event)).toContain('MFA_LOCKED');
    // A new challenge (the password is still right) does not unlock the factor.
    const fresh = await loginChallenge();
    expectContractError(
      await verify({ challenge: fresh, code: totpCodeAt(secret, app.clock.now()) }),
      403,
      'MFA_LOCKED',
    );
    // After the lock: the right code signs in.
    app.clock.advance(Number(locked.headers['retry-after']) * 1000 + STEP);
    const again = await verify({
      challenge: await loginChallenge(),
      code: totpCodeAt(secret, app.clock.now()),
    });
    expect(again.status).toBe(200);
  });

  it('account enumeration: a wrong password for an enrolled account gets the same status, headers and body as for an account without a factor', async () => {
    await start();
    await enrolledUser();
    await signUp(app, 'bob@example.com');
    const answer = async (email: string) => {
      const response = await fetch(`${app.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'enumeration-probe' },
        body: JSON.stringify({ email, password: 'not the password at all' }),
      });
      const headers = [...response.headers].filter(([name]) => name !== 'date');
      return { status: response.status, headers, body: await response.text() };
    };
    const enrolled = await answer('ada@example.com');
    expect(enrolled.status).toBe(401);
    expect(JSON.parse(enrolled.body).code).toBe('INVALID_CREDENTIALS');
    expect(enrolled).toEqual(await answer('bob@example.com'));
  });

  it('a recovery code signs in once (dashes, case and spaces forgiven); its second use is 401 MFA_INVALID_CODE', async () => {
    await start();
    const { recoveryCodes } = await enrolledUser();
    const typed = ` ${recoveryCodes[0]!.toUpperCase()} `;
    const first = await verify({ challenge: await loginChallenge(), recoveryCode: typed });
    expect(first.status).toBe(200);
    expect(app.events.find((e) => e.event === 'RECOVERY_CODE_USED')?.metadata).toMatchObject({
      remaining: 9,
    });
    expectContractError(
      await verify({ challenge: await loginChallenge(), recoveryCode: recoveryCodes[0] }),
      401,
      'MFA_INVALID_CODE',
    );
    expect(
      (await verify({ challenge: await loginChallenge(), recoveryCode: recoveryCodes[1] })).status,
    ).toBe(200);
  });

  it.each([
    ['neither code nor recoveryCode', {}],
    ['both code and recoveryCode', { code: '123456', recoveryCode: 'abcd-efgh-jk' }],
    ['a code that is not a string', { code: 123456 }],
    ['a code longer than 64 characters', { code: '1'.repeat(65) }],
  ])('verify with %s is 400 VALIDATION_ERROR before any check', async (_name, extra) => {
    await start();
    await enrolledUser();
    const challenge = await loginChallenge();
    expectContractError(await verify({ challenge, ...extra }), 400, 'VALIDATION_ERROR');
    // Counted nowhere: no MFA_FAILED event.
    expect(app.events.filter((e) => e.event === 'MFA_FAILED')).toEqual([]);
  });

  it('verify without a challenge, or with a body that is not JSON, is 400 VALIDATION_ERROR', async () => {
    await start();
    expectContractError(await verify({ code: '123456' }), 400, 'VALIDATION_ERROR');
    expectContractError(
      await call(app, '/api/auth/mfa/verify', {
        raw: 'challenge=x',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'VALIDATION_ERROR',
    );
  });

  it('flood: /mfa/verify shares the per-IP login limit; over it, 429 RATE_LIMITED with Retry-After before any code is checked', async () => {
    await start({ rateLimits: { ...RELAXED, login: '3/min' } });
    const { secret } = await enrolledUser(); // 1 login
    const challenge = await loginChallenge(); // 2
    expect((await verify({ challenge, code: totpCodeAt(secret, app.clock.now()) })).status).toBe(
      200,
    ); // 3
    const limited = await verify({ challenge: 'A'.repeat(43), code: '000000' });
    expectContractError(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('new recovery codes need a valid code; the old set stops working at once', async () => {
    await start();
    const { secret, recoveryCodes, tokens } = await enrolledUser();
    expectContractError(
      await call(app, '/api/auth/mfa/recovery-codes', {
        token: tokens.token,
        json: { code: staleCode(app, secret) },
      }),
      401,
      'MFA_INVALID_CODE',
    );
    const renewed = await call(app, '/api/auth/mfa/recovery-codes', {
      token: tokens.token,
      json: { code: totpCodeAt(secret, app.clock.now()) },
    });
    expect(renewed.status).toBe(200);
    const fresh = (renewed.body as { recoveryCodes: string[] }).recoveryCodes;
    expect(fresh).toHaveLength(10);
    expect(fresh).not.toContain(recoveryCodes[0]);
    expectContractError(
      await verify({ challenge: await loginChallenge(), recoveryCode: recoveryCodes[0] }),
      401,
      'MFA_INVALID_CODE',
    );
    expect(
      (await verify({ challenge: await loginChallenge(), recoveryCode: fresh[0] })).status,
    ).toBe(200);
  });

  it('disable needs the password and a code: a wrong password is 401 INVALID_CREDENTIALS, a missing code 400; with both the factor is gone, other sessions end, this one stays', async () => {
    await start();
    const { secret, tokens } = await enrolledUser();
    const other = await verify({
      challenge: await loginChallenge(),
      code: totpCodeAt(secret, app.clock.now()),
    });
    const otherToken = (other.body as Tokens).token;
    app.clock.advance(STEP);
    const disable = (json: unknown) =>
      call(app, '/api/auth/mfa/totp', { method: 'DELETE', token: tokens.token, json });
    expectContractError(
      await disable({ password: 'not the password', code: totpCodeAt(secret, app.clock.now()) }),
      401,
      'INVALID_CREDENTIALS',
    );
    expectContractError(await disable({ password: PASSWORD }), 400, 'VALIDATION_ERROR');
    const done = await disable({ password: PASSWORD, code: totpCodeAt(secret, app.clock.now()) });
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ success: true });
    expect(app.events.map((e) => e.event)).toContain('MFA_DISABLED');
    expect((await call(app, '/api/auth/me', { token: tokens.token })).status).toBe(200);
    expect((await call(app, '/api/auth/me', { token: otherToken })).status).toBe(401);
    // The next login needs no code.
    await logIn(app);
  });

  it('no credential: status, enroll, confirm, recovery-codes and disable all need an authenticated caller (401 UNAUTHENTICATED without one)', async () => {
    await start();
    for (const [method, path, json] of [
      ['GET', '/api/auth/mfa', undefined],
      ['POST', '/api/auth/mfa/totp/enroll', {}],
      ['POST', '/api/auth/mfa/totp/confirm', { code: '123456' }],
      ['POST', '/api/auth/mfa/recovery-codes', { code: '123456' }],
      ['DELETE', '/api/auth/mfa/totp', { password: PASSWORD, code: '123456' }],
    ] as const) {
      expectContractError(await call(app, path, { method, json }), 401, 'UNAUTHENTICATED');
    }
    // The caller is checked before the body: an anonymous request learns nothing from it.
    expectContractError(
      await call(app, '/api/auth/mfa/totp/confirm', { json: {} }),
      401,
      'UNAUTHENTICATED',
    );
    expectContractError(
      await call(app, '/api/auth/mfa/totp/enroll', {
        raw: '{not json',
        headers: { 'content-type': 'application/json' },
      }),
      401,
      'UNAUTHENTICATED',
    );
  });

  it('requireForRoles: login answers 403 MFA_ENROLLMENT_REQUIRED with a challenge; enrolling with it (enroll, then confirm) signs in and shows the recovery codes', async () => {
    await start({ mfa: { ...MFA, requireForRoles: ['user'] } });
    const registered = await call(app, '/api/auth/register', {
      json: { email: 'ada@example.com', password: PASSWORD, name: 'Ada' },
    });
    expect(registered.status).toBe(201);
    const login = await call(app, '/api/auth/login', {
      json: { email: 'ada@example.com', password: PASSWORD },
    });
    const challenge = challengeOf(login, 403, 'MFA_ENROLLMENT_REQUIRED');
    // The enrolment challenge is not a login challenge.
    expectContractError(await verify({ challenge, code: '123456' }), 401, 'MFA_CHALLENGE_INVALID');
    const started = await call(app, '/api/auth/mfa/totp/enroll', { json: { challenge } });
    expect(started.status).toBe(200);
    const { secret } = started.body as { secret: string };
    const confirmed = await call(app, '/api/auth/mfa/totp/confirm', {
      json: { challenge, code: totpCodeAt(secret, app.clock.now()) },
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toEqual({
      success: true,
      token: expect.any(String),
      refreshToken: expect.any(String),
      expiresIn: 900,
      user: expect.objectContaining({ email: 'ada@example.com' }),
      recoveryCodes: expect.any(Array),
    });
    const { token } = confirmed.body as Tokens;
    expect((await call(app, '/api/auth/me', { token })).status).toBe(200);
    // Used: the challenge cannot enrol again.
    expectContractError(
      await call(app, '/api/auth/mfa/totp/enroll', { json: { challenge } }),
      401,
      'MFA_CHALLENGE_INVALID',
    );
    // From now on the login asks for a code.
    app.clock.advance(STEP);
    await loginChallenge();
  });

  it('a login challenge cannot start an enrolment (401 MFA_CHALLENGE_INVALID)', async () => {
    await start();
    await enrolledUser();
    const challenge = await loginChallenge();
    expectContractError(
      await call(app, '/api/auth/mfa/totp/enroll', { json: { challenge } }),
      401,
      'MFA_CHALLENGE_INVALID',
    );
  });

  it('without the mfa option the MFA routes are not mounted (404 NOT_FOUND) and login is as before', async () => {
    app = await adapter.start({ authOptions: { rateLimits: RELAXED } });
    const { token } = await signUp(app);
    expectContractError(
      await call(app, '/api/auth/mfa/totp/enroll', { token, json: {} }),
      404,
      'NOT_FOUND',
    );
    expectContractError(
      await verify({ challenge: 'A'.repeat(43), code: '123456' }),
      404,
      'NOT_FOUND',
    );
  });

  describe('cookie mode', () => {
    async function startCookies() {
      await start({ cookies: { trustedOrigins: [ORIGIN] } });
      return new Browser(app);
    }

    /** Signs ada up in the browser and enrols her with the access cookie. */
    async function enrolInBrowser(browser: Browser) {
      await browser.signUp();
      const started = await browser.send('/api/auth/mfa/totp/enroll', { json: {} });
      expect(started.status).toBe(200);
      const { secret } = started.body as { secret: string };
      const confirmed = await browser.send('/api/auth/mfa/totp/confirm', {
        json: { code: totpCodeAt(secret, app.clock.now()) },
      });
      expect(confirmed.status).toBe(200);
      app.clock.advance(STEP);
      return secret;
    }

    it('verify sets the session cookies exactly as login does, with a CSRF token bound to the new session', async () => {
      const browser = await startCookies();
      const secret = await enrolInBrowser(browser);
      await browser.send('/api/auth/logout', { json: {} });
      expect(browser.jar.has('__Host-gatehouse-access')).toBe(false);
      await browser.send('/api/auth/csrf');
      const login = await browser.send('/api/auth/login', {
        json: { email: 'ada@example.com', password: PASSWORD },
      });
      const challenge = challengeOf(login, 401, 'MFA_REQUIRED');
      const verified = await browser.send('/api/auth/mfa/verify', {
        json: { challenge, code: totpCodeAt(secret, app.clock.now()) },
      });
      expect(verified.status).toBe(200);
      expect(verified.body).toEqual({
        success: true,
        expiresIn: 900,
        user: expect.objectContaining({ email: 'ada@example.com' }),
        csrfToken: expect.any(String),
      });
      const names = verified.cookies.map((line) => line.slice(0, line.indexOf('=')));
      expect(names.sort()).toEqual([
        '__Host-gatehouse-access',
        '__Host-gatehouse-csrf',
        '__Secure-gatehouse-refresh',
      ]);
      expect(verified.cookies.find((c) => c.startsWith('__Host-gatehouse-access='))).toMatch(
        /; Path=\/; Max-Age=900; Secure; HttpOnly; SameSite=Lax$/,
      );
      expect(verified.cookies.find((c) => c.startsWith('__Secure-gatehouse-refresh='))).toMatch(
        /^__Secure-gatehouse-refresh=[\w-]+\.[\w-]{43}; Path=\/api\/auth\/refresh; Max-Age=\d+; Secure; HttpOnly; SameSite=Strict$/,
      );
      // Signed in: a state-changing request with the new token works; refresh too.
      expect((await browser.send('/api/auth/me', { origin: null })).status).toBe(200);
      expect((await browser.send('/api/auth/refresh', { json: {} })).status).toBe(200);
      expect((await browser.send('/api/auth/logout', { json: {} })).status).toBe(200);
    });

    it('attack: a cross-site POST to /mfa/verify without the CSRF token is 403 CSRF_REJECTED and signs nobody in', async () => {
      const browser = await startCookies();
      const secret = await enrolInBrowser(browser);
      await browser.send('/api/auth/logout', { json: {} });
      await browser.send('/api/auth/csrf');
      const login = await browser.send('/api/auth/login', {
        json: { email: 'ada@example.com', password: PASSWORD },
      });
      const challenge = challengeOf(login, 401, 'MFA_REQUIRED');
      const forged = await browser.send('/api/auth/mfa/verify', {
        json: { challenge, code: totpCodeAt(secret, app.clock.now()) },
        withToken: false,
      });
      expectContractError(forged, 403, 'CSRF_REJECTED');
      expect(forged.cookies).toEqual([]);
      const evil = await browser.send('/api/auth/mfa/verify', {
        json: { challenge, code: totpCodeAt(secret, app.clock.now()) },
        origin: 'https://evil.example',
      });
      expectContractError(evil, 403, 'CSRF_REJECTED');
    });

    it('requireForRoles in cookie mode: enrolling with the challenge is CSRF-checked (403 without the token), and the confirmation sets the session cookies as login does', async () => {
      await start({
        cookies: { trustedOrigins: [ORIGIN] },
        mfa: { ...MFA, requireForRoles: ['user'] },
      });
      const browser = new Browser(app);
      await browser.send('/api/auth/csrf');
      const registered = await browser.send('/api/auth/register', {
        json: { email: 'ada@example.com', password: PASSWORD, name: 'Ada' },
      });
      expect(registered.status).toBe(201);
      const login = await browser.send('/api/auth/login', {
        json: { email: 'ada@example.com', password: PASSWORD },
      });
      const challenge = challengeOf(login, 403, 'MFA_ENROLLMENT_REQUIRED');
      expectContractError(
        await browser.send('/api/auth/mfa/totp/enroll', { json: { challenge }, withToken: false }),
        403,
        'CSRF_REJECTED',
      );
      const started = await browser.send('/api/auth/mfa/totp/enroll', { json: { challenge } });
      expect(started.status).toBe(200);
      const { secret } = started.body as { secret: string };
      const code = totpCodeAt(secret, app.clock.now());
      expectContractError(
        await browser.send('/api/auth/mfa/totp/confirm', {
          json: { challenge, code },
          origin: 'https://evil.example',
        }),
        403,
        'CSRF_REJECTED',
      );
      const confirmed = await browser.send('/api/auth/mfa/totp/confirm', {
        json: { challenge, code },
      });
      expect(confirmed.status).toBe(200);
      expect(confirmed.body).toEqual({
        success: true,
        expiresIn: 900,
        user: expect.objectContaining({ email: 'ada@example.com' }),
        csrfToken: expect.any(String),
        recoveryCodes: expect.any(Array),
      });
      const names = confirmed.cookies.map((line) => line.slice(0, line.indexOf('='))).sort();
      expect(names).toEqual([
        '__Host-gatehouse-access',
        '__Host-gatehouse-csrf',
        '__Secure-gatehouse-refresh',
      ]);
      expect((await browser.send('/api/auth/me', { origin: null })).status).toBe(200);
      const status = await browser.send('/api/auth/mfa', { origin: null });
      expect(status.body).toMatchObject({ enrolled: true, recoveryCodesLeft: 10 });
    });

    it('attack: enrolling or disabling with the access cookie but without the CSRF token is 403 CSRF_REJECTED', async () => {
      const browser = await startCookies();
      await browser.signUp();
      expectContractError(
        await browser.send('/api/auth/mfa/totp/enroll', { json: {}, withToken: false }),
        403,
        'CSRF_REJECTED',
      );
      expectContractError(
        await browser.send('/api/auth/mfa/totp', {
          method: 'DELETE',
          json: { password: PASSWORD, code: '123456' },
          withToken: false,
        }),
        403,
        'CSRF_REJECTED',
      );
    });
  });
});
