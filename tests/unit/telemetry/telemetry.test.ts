import { readFileSync } from 'node:fs';
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import {
  type AuthError,
  type AuthOptions,
  type MailMessage,
  MemoryMailOutbox,
  type PasswordHasher,
  seedPolicy,
} from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';
import { MAX_LABELS, METRIC, SCOPE } from '../../../src/telemetry/otel.js';
import { verificationRejectReason } from '../../../src/telemetry/outcomes.js';
import { tokenRejected } from '../../../src/tokens/access-token.js';
import { makeAuth, PASSWORD, registerUser } from '../../helpers/auth.js';
import { CountingHasher } from '../../helpers/fakes.js';
import { challengeOf, codeNow, enrolledUser, makeMfaAuth } from '../mfa/flow-helpers.js';
import { type OtelHarness, otelHarness } from './otel-harness.js';

const MINUTE = 60_000;
const PUBLIC_URL = 'https://app.example.com';

/** A gatehouse recording into a fresh in-memory SDK. */
function instrumented(options: AuthOptions = {}) {
  const otel = otelHarness();
  const made = makeAuth({
    telemetry: { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider },
    ...options,
  });
  return { ...made, otel };
}

/** Runs fn inside a recording `request` span (an app that traces its requests), then ends it. */
function inRequestSpan<T>(otel: OtelHarness, fn: () => Promise<T>): Promise<T> {
  return otel.tracerProvider.getTracer('app').startActiveSpan('request', async (span) => {
    try {
      return await fn();
    } finally {
      span.end();
    }
  });
}

async function rejection(promise: Promise<unknown>): Promise<AuthError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: AuthError) => err,
  );
}

function spansNamed(otel: OtelHarness, name: string): ReadableSpan[] {
  return otel.spans().filter((span) => span.name === name);
}

function childrenOf(otel: OtelHarness, parent: ReadableSpan): ReadableSpan[] {
  const id = parent.spanContext().spanId;
  return otel.spans().filter((span) => span.parentSpanContext?.spanId === id);
}

/** Lets pending promise callbacks and immediates run. */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

function tamperSignature(token: string): string {
  const i = token.lastIndexOf('.') + 3;
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
}

describe('telemetry: the instruments and their scope', () => {
  it('records under the Meter "gatehouse" with the version of package.json', async () => {
    const { auth, otel } = instrumented();
    await registerUser(auth);
    await auth.login({ email: 'ada@example.com', password: PASSWORD });
    const version = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
    expect(await otel.scopes()).toContainEqual({ name: SCOPE, version });
  });

  it('the instance holds an enabled Telemetry, reachable by internalsOf(auth).telemetry', () => {
    const { auth } = instrumented();
    expect(internalsOf(auth).telemetry.enabled).toBe(true);
    expect(Object.isFrozen(internalsOf(auth).telemetry)).toBe(true);
  });
});

describe('gatehouse.login.attempts and gatehouse.lockouts', () => {
  it('a successful login counts gatehouse.login.attempts{outcome=success}', async () => {
    const { auth, otel } = instrumented();
    await registerUser(auth);
    await auth.login({ email: 'ada@example.com', password: PASSWORD });
    expect(await otel.value(METRIC.loginAttempts, { outcome: 'success' })).toBe(1);
    expect(await otel.points(METRIC.loginAttempts)).toHaveLength(1);
  });

  it('a wrong password counts gatehouse.login.attempts{outcome=invalid_credentials}', async () => {
    const { auth, otel } = instrumented();
    await registerUser(auth);
    await rejection(auth.login({ email: 'ada@example.com', password: 'wrong-password!' }));
    await rejection(auth.login({ email: 'nobody@example.com', password: 'wrong-password!' }));
    expect(await otel.value(METRIC.loginAttempts, { outcome: 'invalid_credentials' })).toBe(2);
  });

  it('the failure that takes the lock counts gatehouse.lockouts once; a login while locked counts {outcome=locked}', async () => {
    const { auth, otel } = instrumented({ lockout: { maxAttempts: 3, duration: '1m' } });
    await registerUser(auth);
    for (let i = 0; i < 3; i++) {
      await rejection(auth.login({ email: 'ada@example.com', password: 'wrong-password!' }));
    }
    expect(await otel.value(METRIC.lockouts)).toBe(1);
    const locked = await rejection(auth.login({ email: 'ada@example.com', password: PASSWORD }));
    expect(locked.code).toBe('ACCOUNT_LOCKED');
    expect(await otel.value(METRIC.loginAttempts, { outcome: 'locked' })).toBe(1);
    expect(await otel.value(METRIC.loginAttempts, { outcome: 'invalid_credentials' })).toBe(3);
    expect(await otel.value(METRIC.lockouts)).toBe(1);
  });

  it('a login without a password counts gatehouse.login.attempts{outcome=validation_error}', async () => {
    const { auth, otel } = instrumented();
    await rejection(auth.login({ email: 'ada@example.com' } as never));
    expect(await otel.value(METRIC.loginAttempts, { outcome: 'validation_error' })).toBe(1);
  });

  it('the right password to an unverified account counts gatehouse.login.attempts{outcome=email_not_verified}', async () => {
    const { auth, otel } = instrumented({
      mail: { mailer: async () => {}, publicUrl: PUBLIC_URL },
      emailVerification: { required: true },
    });
    await registerUser(auth);
    const err = await rejection(auth.login({ email: 'ada@example.com', password: PASSWORD }));
    expect(err.code).toBe('EMAIL_NOT_VERIFIED');
    expect(await otel.value(METRIC.loginAttempts, { outcome: 'email_not_verified' })).toBe(1);
    await auth.close();
  });

  it('a sign-in with a second factor counts {outcome=mfa_required} at the password step, then {outcome=mfa_failed} for a wrong code and {outcome=success} for the right one', async () => {
    const otel = otelHarness();
    const made = makeMfaAuth({
      telemetry: { meterProvider: otel.meterProvider, tracerProvider: otel.tracerProvider },
    });
    const { secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    expect(await otel.value(METRIC.loginAttempts, { outcome: 'mfa_required' })).toBe(1);
    const wrong = codeNow(made, secret) === '000000' ? '111111' : '000000';
    const refused = await rejection(made.auth.completeMfa(challenge, { code: wrong }));
    expect(refused.code).toBe('MFA_INVALID_CODE');
    expect(await otel.value(METRIC.loginAttempts, { outcome: 'mfa_failed' })).toBe(1);
    await made.auth.completeMfa(challenge, { code: codeNow(made, secret) });
    expect(await otel.value(METRIC.loginAttempts, { outcome: 'success' })).toBe(1);
    expect(await otel.value(METRIC.loginAttempts, { outcome: 'server_error' })).toBe(0);
  });

  it('a password hasher that fails counts gatehouse.login.attempts{outcome=server_error}', async () => {
    const broken: PasswordHasher = {
      ...new CountingHasher(),
      hash: async (password, cost) => `$fake$${cost}$${password}`,
      verify: async () => {
        throw new Error('bcrypt thread pool gone');
      },
      costOf: () => 10,
      needsRehash: () => false,
    };
    const { auth, otel } = instrumented({ passwordHasher: broken });
    await registerUser(auth);
    await rejection(auth.login({ email: 'ada@example.com', password: PASSWORD }));
    expect(await otel.value(METRIC.loginAttempts, { outcome: 'server_error' })).toBe(1);
  });

  it('a login over the rate limit counts gatehouse.rate_limited{route=login} and gatehouse.login.attempts{outcome=rate_limited}', async () => {
    const { auth, otel } = instrumented({ rateLimits: { login: '2/min' } });
    await auth.enforceRateLimit('login', '203.0.113.9');
    await auth.enforceRateLimit('login', '203.0.113.9');
    const err = await rejection(auth.enforceRateLimit('login', '203.0.113.9'));
    expect(err.code).toBe('RATE_LIMITED');
    expect(await otel.value(METRIC.rateLimited, { route: 'login' })).toBe(1);
    expect(await otel.value(METRIC.loginAttempts, { outcome: 'rate_limited' })).toBe(1);
  });

  it('a refresh over the rate limit counts gatehouse.rate_limited{route=refresh} and gatehouse.refresh{outcome=rate_limited}', async () => {
    const { auth, otel } = instrumented({ rateLimits: { refresh: '1/min' } });
    await auth.enforceRateLimit('refresh', '203.0.113.9');
    await rejection(auth.enforceRateLimit('refresh', '203.0.113.9'));
    expect(await otel.value(METRIC.rateLimited, { route: 'refresh' })).toBe(1);
    expect(await otel.value(METRIC.refresh, { outcome: 'rate_limited' })).toBe(1);
  });

  it('a password-reset mail dropped by the per-email limit counts gatehouse.rate_limited{route=forgotEmail}', async () => {
    const { auth, otel } = instrumented({
      mail: { mailer: async () => {}, publicUrl: PUBLIC_URL },
      rateLimits: { forgotEmail: '1/min' },
    });
    await registerUser(auth);
    await auth.requestPasswordReset('ada@example.com');
    await auth.requestPasswordReset('ada@example.com');
    await auth.mail.flush();
    expect(await otel.value(METRIC.rateLimited, { route: 'forgotEmail' })).toBe(1);
    await auth.close();
  });
});

describe('gatehouse.token.verifications', () => {
  it('a first verify counts {result=cache_miss}, a repeated one {result=cache_hit}', async () => {
    const { auth, otel } = instrumented();
    await registerUser(auth);
    const { token } = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    await auth.verifyAccessToken(token);
    await auth.verifyAccessToken(token);
    await auth.verifyAccessToken(token);
    expect(await otel.value(METRIC.tokenVerifications, { result: 'cache_miss' })).toBe(1);
    expect(await otel.value(METRIC.tokenVerifications, { result: 'cache_hit' })).toBe(2);
  });

  it('an expired token counts {result=rejected, reason=expired}, from the cache as from a miss', async () => {
    const { auth, clock, otel } = instrumented();
    await registerUser(auth);
    const first = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    const second = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    await auth.verifyAccessToken(first.token); // cached
    clock.advance(60 * MINUTE);
    await rejection(auth.verifyAccessToken(first.token)); // a hit, then expired
    await rejection(auth.verifyAccessToken(second.token)); // a miss, expired
    expect(
      await otel.value(METRIC.tokenVerifications, { result: 'rejected', reason: 'expired' }),
    ).toBe(2);
  });

  it('a forged signature counts {result=rejected, reason=invalid_signature}', async () => {
    const { auth, otel } = instrumented();
    await registerUser(auth);
    const { token } = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    const err = await rejection(auth.verifyAccessToken(tamperSignature(token)));
    expect(err.code).toBe('TOKEN_INVALID');
    expect(
      await otel.value(METRIC.tokenVerifications, {
        result: 'rejected',
        reason: 'invalid_signature',
      }),
    ).toBe(1);
  });

  it('a token of a logged-out session counts {result=rejected, reason=revoked}', async () => {
    const { auth, otel } = instrumented();
    const user = await registerUser(auth);
    const { token } = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    const principal = await auth.verifyAccessToken(token);
    await auth.logout(principal.sessionId, {});
    await rejection(auth.verifyAccessToken(token));
    expect(principal.userId).toBe(user.id);
    expect(
      await otel.value(METRIC.tokenVerifications, { result: 'rejected', reason: 'revoked' }),
    ).toBe(1);
  });

  it('garbage in place of a token counts {result=rejected, reason=malformed}', async () => {
    const { auth, otel } = instrumented();
    await rejection(auth.verifyAccessToken('garbage'));
    await rejection(auth.verifyAccessToken('a.b'));
    expect(
      await otel.value(METRIC.tokenVerifications, { result: 'rejected', reason: 'malformed' }),
    ).toBe(2);
  });

  it('every TokenRejection folds into the documented reasons', async () => {
    const documented = readFileSync('docs/observability.md', 'utf8');
    const reasons = [
      'not_a_string',
      'too_large',
      'malformed',
      'non_canonical_signature',
      'bad_header',
      'alg_none',
      'header_not_allowed',
      'unknown_kid',
      'alg_mismatch',
      'wrong_typ',
      'bad_signature',
      'bad_claims',
      'wrong_iss',
      'wrong_aud',
      'not_yet_valid',
      'issued_in_future',
      'expired',
      'too_old',
      'lifetime_too_long',
      'session_ended',
      'user_inactive',
    ] as const;
    for (const reason of reasons) {
      const folded = verificationRejectReason(tokenRejected(reason));
      expect(documented, `${reason} -> ${folded}`).toContain(`\`${folded}\``);
      expect(folded).not.toBe('unavailable');
    }
    expect(verificationRejectReason(new Error('connection refused'))).toBe('unavailable');
  });
});

describe('gatehouse.refresh', () => {
  it('a refresh counts gatehouse.refresh{outcome=success}', async () => {
    const { auth, otel } = instrumented();
    await registerUser(auth);
    const { refreshToken } = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    await auth.refresh(refreshToken);
    expect(await otel.value(METRIC.refresh, { outcome: 'success' })).toBe(1);
  });

  it('presenting a rotated refresh token again counts gatehouse.refresh{outcome=reuse_detected}', async () => {
    const { auth, otel } = instrumented();
    await registerUser(auth);
    const { refreshToken } = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    await auth.refresh(refreshToken);
    await rejection(auth.refresh(refreshToken));
    expect(await otel.value(METRIC.refresh, { outcome: 'reuse_detected' })).toBe(1);
    expect(await otel.value(METRIC.refresh, { outcome: 'success' })).toBe(1);
  });

  it('an unknown refresh token counts gatehouse.refresh{outcome=invalid}', async () => {
    const { auth, otel } = instrumented();
    await rejection(auth.refresh('x'.repeat(43)));
    await rejection(auth.refresh('not a token'));
    expect(await otel.value(METRIC.refresh, { outcome: 'invalid' })).toBe(2);
  });

  it('a refresh after the session idled out counts gatehouse.refresh{outcome=expired}', async () => {
    const { auth, clock, otel } = instrumented({ tokens: { refreshIdleTtl: '1h' } });
    await registerUser(auth);
    const { refreshToken } = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    clock.advance(2 * 60 * MINUTE);
    await rejection(auth.refresh(refreshToken));
    expect(await otel.value(METRIC.refresh, { outcome: 'expired' })).toBe(1);
  });

  it('a refresh for a disabled user counts gatehouse.refresh{outcome=user_inactive}', async () => {
    const { auth, otel } = instrumented();
    const user = await registerUser(auth);
    const { refreshToken } = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    // Disabling revokes the sessions; a user store flag flipped directly leaves them alive.
    await internalsOf(auth).stores.users.update(user.id, { isActive: false });
    await rejection(auth.refresh(refreshToken));
    expect(await otel.value(METRIC.refresh, { outcome: 'user_inactive' })).toBe(1);
  });
});

describe('gatehouse.authz.decisions', () => {
  const admin = { userId: 'u-admin', role: 'admin' };
  const user = { userId: 'u-1', role: 'user' };

  it('an allowed authorize counts {decision=allow, permission}', async () => {
    const { auth, otel } = instrumented({ policy: seedPolicy });
    auth.authorize(admin, 'users:delete');
    expect(
      await otel.value(METRIC.authzDecisions, { decision: 'allow', permission: 'users:delete' }),
    ).toBe(1);
  });

  it('a denied authorize counts {decision=deny, permission} and makes a gatehouse.authorize span with error status', async () => {
    const { auth, otel } = instrumented({ policy: seedPolicy });
    expect(() => auth.authorize(user, 'users:delete')).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN' }),
    );
    expect(
      await otel.value(METRIC.authzDecisions, { decision: 'deny', permission: 'users:delete' }),
    ).toBe(1);
    const [span] = spansNamed(otel, 'gatehouse.authorize');
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes).toEqual({
      'gatehouse.authz.permission': 'users:delete',
      'error.type': 'FORBIDDEN',
    });
  });

  it('an allowed authorize adds no span', () => {
    const { auth, otel } = instrumented({ policy: seedPolicy });
    auth.authorize(admin, 'users:read', { id: 'u-2' });
    expect(otel.spans()).toEqual([]);
  });

  it('can() answering true counts an allow; answering false counts nothing (the refusal is authorize’s)', async () => {
    const { auth, otel } = instrumented({ policy: seedPolicy });
    expect(auth.can(user, 'orders:create')).toBe(true);
    expect(auth.can(user, 'users:delete')).toBe(false);
    expect(await otel.points(METRIC.authzDecisions)).toEqual([
      { attributes: { decision: 'allow', permission: 'orders:create' }, value: 1 },
    ]);
  });

  it('more than 256 distinct permission labels fold into permission=other (no unbounded series)', async () => {
    const { auth, otel } = instrumented();
    const { telemetry } = internalsOf(auth);
    for (let i = 0; i < 300; i++) telemetry.authzDecision('allow', `p${i}`);
    telemetry.authzDecision('allow', 'p0');
    expect(await otel.value(METRIC.authzDecisions, { decision: 'allow', permission: 'p0' })).toBe(
      2,
    );
    expect(
      await otel.value(METRIC.authzDecisions, { decision: 'allow', permission: 'other' }),
    ).toBe(300 - MAX_LABELS);
  });

  it('a permission the policy does not declare is recorded as unknown (an attacker-chosen string is no label)', async () => {
    const { auth, otel } = instrumented({ policy: seedPolicy });
    const authorize = auth.authorize as (p: unknown, permission: string) => void;
    for (let i = 0; i < 5; i++) {
      expect(() => authorize(user, `users:delete;${i}@evil.example`)).toThrow();
    }
    expect(await otel.points(METRIC.authzDecisions)).toEqual([
      { attributes: { decision: 'deny', permission: 'unknown' }, value: 5 },
    ]);
  });
});

describe('passwords and mail', () => {
  it('a registration and a login record gatehouse.password.hash.duration{operation=hash|verify} in seconds', async () => {
    const { auth, otel } = instrumented();
    await registerUser(auth);
    await auth.login({ email: 'ada@example.com', password: PASSWORD });
    const points = await otel.points(METRIC.passwordHashDuration);
    const hash = points.find((p) => p.attributes['operation'] === 'hash');
    const verify = points.find((p) => p.attributes['operation'] === 'verify');
    // Hashes: createAuth's dummy hash (for unknown emails) and the registration's.
    expect(hash?.value).toBe(2);
    expect(verify?.value).toBe(1);
    // The fake hasher takes microseconds, not milliseconds: the unit is seconds.
    expect(verify?.sum).toBeGreaterThanOrEqual(0);
    expect(verify?.sum).toBeLessThan(1);
    const metric = (await otel.metrics()).get(METRIC.passwordHashDuration);
    expect(metric?.descriptor.unit).toBe('s');
  });

  it('the bcrypt queue length gauge reads the operations waiting for a slot', async () => {
    const releases: (() => void)[] = [];
    const inner = new CountingHasher();
    const gated: PasswordHasher = {
      hash: (password, cost) =>
        new Promise((resolve) => releases.push(() => resolve(inner.hash(password, cost)))),
      verify: (password, stored) => inner.verify(password, stored),
      costOf: (stored) => inner.costOf(stored),
      needsRehash: (stored, cost) => inner.needsRehash(stored, cost),
    };
    const { auth, otel } = instrumented({
      passwordHasher: gated,
      passwords: { hashConcurrency: 1 },
    });
    // createAuth's dummy hash holds the one slot; the three registrations' hashes wait.
    const registrations = ['a', 'b', 'c'].map((name) =>
      registerUser(auth, `${name}@example.com`).catch(() => undefined),
    );
    for (let i = 0; i < 50 && (await otel.value(METRIC.passwordHashQueueLength)) < 3; i++) {
      await settle();
    }
    expect(releases).toHaveLength(1);
    expect(await otel.value(METRIC.passwordHashQueueLength)).toBe(3);
    while (releases.length > 0 || (await otel.value(METRIC.passwordHashQueueLength)) > 0) {
      releases.shift()?.();
      await settle();
    }
    await Promise.all(registrations);
    expect(await otel.value(METRIC.passwordHashQueueLength)).toBe(0);
  });

  it('gatehouse.mail.outbox.pending reads the outbox at collection time', async () => {
    const outbox = new MemoryMailOutbox();
    const { otel } = instrumented({ stores: { outbox } });
    expect(await otel.value(METRIC.mailOutboxPending)).toBe(0);
    await outbox.enqueue({
      id: '00000000-0000-4000-8000-000000000001',
      kind: 'password_reset',
      to: 'ada@example.com',
      subject: 'Reset',
      text: 'text',
      html: '<p>html</p>',
      attempts: 0,
      nextAttemptAt: 0,
      createdAt: 0,
      expiresAt: null,
    });
    expect(await otel.value(METRIC.mailOutboxPending)).toBe(1);
  });

  it('a delivered mail counts gatehouse.mail.deliveries{outcome=sent}', async () => {
    const sent: MailMessage[] = [];
    const { auth, otel } = instrumented({
      mail: { mailer: async (m) => void sent.push(m), publicUrl: PUBLIC_URL },
    });
    await registerUser(auth); // a verification mail
    await auth.mail.flush();
    expect(sent).toHaveLength(1);
    expect(await otel.value(METRIC.mailDeliveries, { outcome: 'sent' })).toBe(1);
    await auth.close();
  });

  it('a mailer failure counts gatehouse.mail.deliveries{outcome=retry}, and {outcome=failed} once given up', async () => {
    const failing = async () => {
      throw new Error('SMTP 421 try later');
    };
    const retrying = instrumented({
      mail: { mailer: failing, publicUrl: PUBLIC_URL, retry: { maxAttempts: 3 } },
    });
    await registerUser(retrying.auth);
    await retrying.auth.mail.flush();
    expect(await retrying.otel.value(METRIC.mailDeliveries, { outcome: 'retry' })).toBe(1);
    expect(await retrying.otel.value(METRIC.mailDeliveries, { outcome: 'failed' })).toBe(0);
    await retrying.auth.close();

    const givingUp = instrumented({
      mail: { mailer: failing, publicUrl: PUBLIC_URL, retry: { maxAttempts: 1 } },
    });
    await registerUser(givingUp.auth);
    await givingUp.auth.mail.flush();
    expect(await givingUp.otel.value(METRIC.mailDeliveries, { outcome: 'failed' })).toBe(1);
    expect(await givingUp.otel.value(METRIC.mailDeliveries, { outcome: 'retry' })).toBe(0);
    await givingUp.auth.close();
  });

  it('auth.close() stops the gauges reading a closed instance', async () => {
    let reads = 0;
    const outbox = new MemoryMailOutbox();
    const counted = Object.assign(Object.create(outbox) as MemoryMailOutbox, {
      pending: () => {
        reads += 1;
        return outbox.pending();
      },
    });
    const { auth, otel } = instrumented({ stores: { outbox: counted } });
    await otel.metrics();
    expect(reads).toBe(1);
    await auth.close();
    await otel.metrics();
    expect(reads).toBe(1);
  });
});

describe('spans', () => {
  it('a login makes one gatehouse.login span with its store calls as children', async () => {
    const { auth, otel } = instrumented();
    await registerUser(auth);
    await auth.login({ email: 'ada@example.com', password: PASSWORD });
    const [login, ...others] = spansNamed(otel, 'gatehouse.login');
    expect(others).toEqual([]);
    expect(login?.status.code).toBe(SpanStatusCode.UNSET);
    expect(login?.attributes).toEqual({ 'gatehouse.auth.method': 'password' });
    const children = childrenOf(otel, login!).map((span) => span.name);
    expect(children).toEqual(
      expect.arrayContaining([
        'gatehouse.store attempts.reserve',
        'gatehouse.store users.findByEmail',
        'gatehouse.store tokens.createSession',
      ]),
    );
  });

  it('a failed login ends its span with error status and error.type, never the message', async () => {
    const { auth, otel } = instrumented();
    await rejection(auth.login({ email: 'nobody@example.com', password: 'wrong-password!' }));
    const [login] = spansNamed(otel, 'gatehouse.login');
    expect(login?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'INVALID_CREDENTIALS' });
    expect(login?.attributes['error.type']).toBe('INVALID_CREDENTIALS');
    expect(login?.events).toEqual([]);
  });

  it('register, refresh, logout and password reset each make their span', async () => {
    const { auth, otel } = instrumented({
      mail: { mailer: async () => {}, publicUrl: PUBLIC_URL },
    });
    await registerUser(auth);
    const { refreshToken } = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    const next = await auth.refresh(refreshToken);
    await auth.logoutWithRefreshToken(next.refreshToken);
    await auth.requestPasswordReset('ada@example.com');
    await rejection(
      auth.resetPassword({ token: 'x'.repeat(43), password: 'another long password' }),
    );
    await auth.close();
    const names = otel.spans().map((span) => span.name);
    for (const name of [
      'gatehouse.register',
      'gatehouse.login',
      'gatehouse.refresh',
      'gatehouse.logout',
      'gatehouse.password_reset.request',
      'gatehouse.password_reset',
    ]) {
      expect(names, name).toContain(name);
    }
    const [reset] = spansNamed(otel, 'gatehouse.password_reset');
    expect(reset?.status.code).toBe(SpanStatusCode.ERROR);
    expect(reset?.attributes['error.type']).toBe('LINK_INVALID');
  });

  it('a verify that misses the cache makes one gatehouse.verify span; a cache hit adds no span', async () => {
    const { auth, otel } = instrumented();
    await registerUser(auth);
    const { token } = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    await inRequestSpan(otel, () => auth.verifyAccessToken(token));
    const [request] = spansNamed(otel, 'request');
    const [verify, ...others] = spansNamed(otel, 'gatehouse.verify');
    expect(others).toEqual([]);
    expect(verify?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    const afterMiss = otel.spans().length;
    for (let i = 0; i < 5; i++) await inRequestSpan(otel, () => auth.verifyAccessToken(token));
    expect(spansNamed(otel, 'gatehouse.verify')).toHaveLength(1);
    expect(otel.spans().length).toBe(afterMiss + 5); // the five request spans only
    expect(await otel.value(METRIC.tokenVerifications, { result: 'cache_hit' })).toBe(5);
  });

  it('a cache miss outside any traced request makes no span (no root trace per miss)', async () => {
    const { auth, otel } = instrumented();
    await registerUser(auth);
    const { token } = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    const before = otel.spans().length;
    await auth.verifyAccessToken(token);
    await rejection(auth.verifyAccessToken('garbage'));
    expect(spansNamed(otel, 'gatehouse.verify')).toEqual([]);
    // (The session read of a miss is a store call: its span is ./stores.ts's business.)
    const added = otel
      .spans()
      .slice(before)
      .map((span) => span.name);
    expect(added.filter((name) => !name.startsWith('gatehouse.store '))).toEqual([]);
    // Still counted: the counters do not depend on tracing.
    expect(await otel.value(METRIC.tokenVerifications, { result: 'cache_miss' })).toBe(1);
    expect(
      await otel.value(METRIC.tokenVerifications, { result: 'rejected', reason: 'malformed' }),
    ).toBe(1);
  });

  it('the cache-hit path of the HTTP layer stays synchronous with telemetry on', async () => {
    const { auth } = instrumented();
    await registerUser(auth);
    const { token } = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    await auth.verifyAccessToken(token);
    const { verifyCachedAccessToken } = internalsOf(auth);
    const hit = verifyCachedAccessToken(token);
    expect(hit).not.toBeInstanceOf(Promise);
    expect(hit).toMatchObject({ email: 'ada@example.com' });
  });

  it('a rejected verify ends its span with error status', async () => {
    const { auth, otel } = instrumented();
    await inRequestSpan(otel, () => rejection(auth.verifyAccessToken('not.a.jwt')));
    const [verify] = spansNamed(otel, 'gatehouse.verify');
    expect(verify?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'TOKEN_INVALID' });
  });
});

describe('no PII in any attribute', () => {
  it('logins, failures, a lockout, refreshes, a reuse and authorizations with distinctive emails, ids and IPs leave none of them in a metric or span attribute', async () => {
    const email = 'zq.canary+7f3a@pii-probe.example';
    const otherEmail = 'xv.unknown+91bd@pii-probe.example';
    const ip = '198.51.100.77';
    const userAgent = 'CanaryAgent/9.9 (pii-probe)';
    const context = { ip, userAgent };
    const { auth, otel, clock } = instrumented({
      policy: seedPolicy,
      lockout: { maxAttempts: 2, duration: '1m' },
      mail: { mailer: async () => {}, publicUrl: PUBLIC_URL },
    });
    const user = await auth.register(
      { email, password: PASSWORD, name: 'Zebulon Canary' },
      context,
    );
    const session = await auth.login({ email, password: PASSWORD }, context);
    const principal = await auth.verifyAccessToken(session.token);
    await auth.verifyAccessToken(session.token);
    auth.authorize(principal, 'users:read', { id: user.id }, context);
    expect(() =>
      auth.authorize(principal, 'users:read', { id: 'u-someone-else' }, context),
    ).toThrow();
    const rotated = await auth.refresh(session.refreshToken, context);
    await rejection(auth.refresh(session.refreshToken, context)); // reuse
    await rejection(auth.login({ email: otherEmail, password: 'wrong-password!' }, context));
    await rejection(auth.login({ email, password: 'wrong-password!' }, context));
    await rejection(auth.login({ email, password: 'wrong-password!' }, context)); // locks
    await rejection(auth.login({ email, password: PASSWORD }, context)); // locked
    await auth.requestPasswordReset(email, context);
    await auth.mail.flush();
    clock.advance(60 * MINUTE);
    await rejection(auth.verifyAccessToken(rotated.token));
    await auth.close();

    const secrets = [
      email,
      otherEmail,
      'zq.canary',
      'xv.unknown',
      'pii-probe',
      user.id,
      principal.sessionId,
      ip,
      userAgent,
      'Zebulon',
      PASSWORD,
      session.token,
      session.refreshToken,
      rotated.refreshToken,
    ];
    const recorded: unknown[] = [];
    for (const metric of (await otel.metrics()).values()) {
      for (const point of metric.dataPoints) recorded.push(point.attributes);
    }
    for (const span of otel.spans()) {
      recorded.push(span.name, span.attributes, span.status, span.events, span.links);
    }
    expect(otel.spans().length).toBeGreaterThan(10);
    expect(recorded.length).toBeGreaterThan(20);
    const text = JSON.stringify(recorded);
    for (const secret of secrets) expect(text, secret).not.toContain(secret);
    // And no attribute value looks like an email, an IP address or a UUID.
    expect(text).not.toMatch(/[\w.+-]+@[\w-]+\.[\w.]+/);
    expect(text).not.toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i);
  });
});

describe('the telemetry option', () => {
  it.each([
    [{ telemetry: true }, /telemetry: must be false or \{ meterProvider\?, tracerProvider\? \}/],
    [
      { telemetry: { meterProvider: {} } },
      /telemetry\.meterProvider: must be an OpenTelemetry MeterProvider/,
    ],
    [
      { telemetry: { tracerProvider: 'global' } },
      /telemetry\.tracerProvider: must be an OpenTelemetry TracerProvider/,
    ],
    [{ telemetry: { meterProvidr: {} } }, /telemetry: .*meterProvidr/],
  ])('a wrong telemetry option %j is INVALID_CONFIG naming it', (options, message) => {
    expect(() => makeAuth(options as AuthOptions)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(message) }),
    );
  });

  it('a meterProvider whose getMeter returns no Meter is INVALID_CONFIG naming telemetry.meterProvider', () => {
    expect(() => makeAuth({ telemetry: { meterProvider: { getMeter: () => ({}) } } })).toThrow(
      /telemetry\.meterProvider: getMeter\(\) must return an OpenTelemetry Meter/,
    );
  });

  it('only a tracerProvider: spans, and counters into nothing', async () => {
    const otel = otelHarness();
    const { auth } = makeAuth({ telemetry: { tracerProvider: otel.tracerProvider } });
    await registerUser(auth);
    await auth.login({ email: 'ada@example.com', password: PASSWORD });
    expect(spansNamed(otel, 'gatehouse.login')).toHaveLength(1);
    expect(await otel.metrics()).toEqual(new Map());
  });

  it('only a meterProvider: counters, and no span', async () => {
    const otel = otelHarness();
    const { auth } = makeAuth({ telemetry: { meterProvider: otel.meterProvider } });
    await registerUser(auth);
    await auth.login({ email: 'ada@example.com', password: PASSWORD });
    expect(await otel.value(METRIC.loginAttempts, { outcome: 'success' })).toBe(1);
    expect(otel.spans()).toEqual([]);
  });
});
