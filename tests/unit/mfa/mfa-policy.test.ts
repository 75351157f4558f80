import { describe, expect, it } from 'vitest';
import {
  type AuditEvent,
  generateMfaKey,
  MemoryMfaStore,
  type MfaStore,
  seedPolicy,
} from '../../../src/index.js';
import { PASSWORD, registerUser } from '../../helpers/auth.js';
import { configError } from '../../helpers/config-errors.js';
import {
  challengeOf,
  codeNow,
  enrolledUser,
  failure,
  makeMfaAuth,
  STEP_MS,
} from './flow-helpers.js';

const KEYS = [{ id: 'k1', key: generateMfaKey() }];
const SHORT = 'mauve lantern'; // 13 code points: below 15, above 8

/** A MemoryMfaStore that counts every call made to it. */
function countingMfaStore(): { store: MfaStore; calls: string[] } {
  const inner = new MemoryMfaStore();
  const calls: string[] = [];
  const store = new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(name));
        return value.apply(target, args);
      };
    },
  });
  return { store, calls };
}

/** An audit event without what names the account (who it is, not what happened). */
function shapeOf(event: AuditEvent | undefined) {
  if (!event) return undefined;
  const { userId: _user, metadata, timestamp: _at, ...rest } = event;
  const { emailHash: _hash, ...meta } = metadata;
  return { ...rest, metadata: meta };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

describe('password length rules (NIST SP 800-63B-4)', () => {
  it('passwords.minLength below 15 is INVALID_CONFIG whose message points to passwords.minLengthWithMfa', () => {
    expect(configError({ passwords: { minLength: 12 } })).toMatch(
      /passwords\.minLength: must be at least 15: .*passwords\.minLengthWithMfa/,
    );
  });

  it('passwords.minLengthWithMfa below 8, above minLength, or without the mfa option is INVALID_CONFIG naming it', () => {
    expect(
      configError({ passwords: { minLengthWithMfa: 7 }, mfa: { encryptionKeys: KEYS } }),
    ).toMatch(/passwords\.minLengthWithMfa: must be at least 8/);
    expect(
      configError({ passwords: { minLengthWithMfa: 16 }, mfa: { encryptionKeys: KEYS } }),
    ).toMatch(/passwords\.minLengthWithMfa: must not be greater than passwords\.minLength/);
    expect(configError({ passwords: { minLengthWithMfa: 8 } })).toMatch(
      /passwords\.minLengthWithMfa: needs the mfa option/,
    );
  });

  it('registration always needs minLength, even with minLengthWithMfa 8 (no factor yet)', async () => {
    const made = makeMfaAuth({ passwords: { minLengthWithMfa: 8 } });
    const err = await failure(registerUser(made.auth, 'ada@example.com', SHORT));
    expect(err.details).toEqual({ field: 'password', reason: 'too_short' });
  });

  it('a password change needs minLength without a factor and only minLengthWithMfa with an active one', async () => {
    const made = makeMfaAuth({ passwords: { minLengthWithMfa: 8 } });
    const bob = await registerUser(made.auth, 'bob@example.com');
    const plain = await failure(
      made.auth.changePassword(bob.id, { currentPassword: PASSWORD, newPassword: SHORT }),
    );
    expect(plain.details).toEqual({ field: 'password', reason: 'too_short' });
    const { user } = await enrolledUser(made);
    await made.auth.changePassword(user.id, { currentPassword: PASSWORD, newPassword: SHORT });
    // The short password then works, with the second factor.
    await challengeOf(made, 'ada@example.com', SHORT);
  });

  it('a pending (unconfirmed) factor does not allow the shorter password', async () => {
    const made = makeMfaAuth({ passwords: { minLengthWithMfa: 8 } });
    const user = await registerUser(made.auth);
    await made.auth.startTotpEnrollment(user.id);
    const err = await failure(
      made.auth.changePassword(user.id, { currentPassword: PASSWORD, newPassword: SHORT }),
    );
    expect(err.details).toEqual({ field: 'password', reason: 'too_short' });
  });

  it('a password reset of an account with an active factor needs only minLengthWithMfa', async () => {
    const sent: { text: string }[] = [];
    const made = makeMfaAuth({
      passwords: { minLengthWithMfa: 8 },
      mail: { mailer: async (m) => void sent.push(m), publicUrl: 'https://app.example.com' },
    });
    await enrolledUser(made);
    await made.auth.requestPasswordReset('ada@example.com');
    await made.auth.mail.flush();
    const token = /[?&]token=([A-Za-z0-9_-]+)/.exec(sent.at(-1)?.text ?? '')?.[1];
    await made.auth.resetPassword({ token: token as string, password: SHORT });
    await challengeOf(made, 'ada@example.com', SHORT);
  });

  it('turning the factor off is refused while the password is shorter than minLength (too_short_without_mfa), and the factor stays', async () => {
    const made = makeMfaAuth({ passwords: { minLengthWithMfa: 8 } });
    const { user, secret } = await enrolledUser(made);
    await made.auth.changePassword(user.id, { currentPassword: PASSWORD, newPassword: SHORT });
    const err = await failure(
      made.auth.disableTotp(user.id, { password: SHORT, code: codeNow(made, secret) }),
    );
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.details).toEqual({ field: 'password', reason: 'too_short_without_mfa' });
    expect(await made.auth.mfaStatus(user.id)).toMatchObject({ enrolled: true });
  });
});

describe('mfa options', () => {
  it.each([
    ['missing encryptionKeys', { mfa: {} }, /mfa\.encryptionKeys: is required/],
    [
      'an empty keyring',
      { mfa: { encryptionKeys: [] } },
      /mfa\.encryptionKeys: must hold at least one key/,
    ],
    [
      'a challengeTtl over 10 minutes',
      { mfa: { encryptionKeys: KEYS, challengeTtl: '11m' } },
      /mfa\.challengeTtl: must be at most 10m/,
    ],
    [
      'an issuer with a colon',
      { mfa: { encryptionKeys: KEYS, issuer: 'Acme: Shop' } },
      /mfa\.issuer: must not contain ":"/,
    ],
    ['an unknown option', { mfa: { encryptionKeys: KEYS, window: 2 } }, /mfa: Unrecognized key/],
    [
      'a role the policy does not declare',
      { policy: seedPolicy, mfa: { encryptionKeys: KEYS, requireForRoles: ['root'] } },
      /mfa\.requireForRoles: names the role 'root', which the policy does not declare/,
    ],
  ])('%s is INVALID_CONFIG naming the option', (_name, options, message) => {
    expect(configError(options)).toMatch(message);
  });
});

describe('requireForRoles: MFA_ENROLLMENT_REQUIRED', () => {
  async function admin() {
    const made = makeMfaAuth({ policy: seedPolicy }, { requireForRoles: ['admin'] });
    const user = await registerUser(made.auth);
    await made.auth.setRole(user.id, 'admin');
    return { made, user };
  }

  it('an admin without a factor gets MFA_ENROLLMENT_REQUIRED (403) with an enrolment challenge and no session', async () => {
    const { made, user } = await admin();
    const err = await failure(made.auth.login({ email: 'ada@example.com', password: PASSWORD }));
    expect(err.code).toBe('MFA_ENROLLMENT_REQUIRED');
    expect(err.status).toBe(403);
    expect(err.details).toEqual({ challenge: expect.any(String), expiresIn: 300 });
    expect(await made.auth.listSessions(user.id)).toEqual([]);
  });

  it('a user of another role logs in with the password alone', async () => {
    const made = makeMfaAuth({ policy: seedPolicy }, { requireForRoles: ['admin'] });
    await registerUser(made.auth);
    const result = await made.auth.login({ email: 'ada@example.com', password: PASSWORD });
    expect(result.token).toEqual(expect.any(String));
  });

  it('enrollWithChallenge start then confirm activates the factor and finishes the login with the tokens and the recovery codes', async () => {
    const { made, user } = await admin();
    const err = await failure(made.auth.login({ email: 'ada@example.com', password: PASSWORD }));
    const challenge = err.details?.['challenge'] as string;
    const { secret, uri } = await made.auth.enrollWithChallenge(challenge, { step: 'start' });
    expect(uri).toContain('otpauth://totp/');
    const { recoveryCodes, login } = await made.auth.enrollWithChallenge(challenge, {
      step: 'confirm',
      code: codeNow(made, secret),
    });
    expect(recoveryCodes).toHaveLength(10);
    expect((await made.auth.verifyAccessToken(login.token)).userId).toBe(user.id);
    expect(made.events.some((e) => e.event === 'MFA_ENROLLED')).toBe(true);
    // Used up; and the next login asks for the code.
    const again = await failure(made.auth.enrollWithChallenge(challenge, { step: 'start' }));
    expect(again.code).toBe('MFA_CHALLENGE_INVALID');
    made.clock.advance(STEP_MS);
    await made.auth.completeMfa(await challengeOf(made), { code: codeNow(made, secret) });
  });

  it('challenge confusion: an enrolment challenge cannot complete a login, and a login challenge cannot enrol', async () => {
    const { made } = await admin();
    const err = await failure(made.auth.login({ email: 'ada@example.com', password: PASSWORD }));
    const enrolment = err.details?.['challenge'] as string;
    const asLogin = await failure(made.auth.completeMfa(enrolment, { code: '123456' }));
    expect(asLogin.code).toBe('MFA_CHALLENGE_INVALID');

    const other = makeMfaAuth();
    await enrolledUser(other);
    const login = await challengeOf(other);
    const asEnrolment = await failure(other.auth.enrollWithChallenge(login, { step: 'start' }));
    expect(asEnrolment.code).toBe('MFA_CHALLENGE_INVALID');
  });

  it('an enrolment challenge expires with mfa.challengeTtl', async () => {
    const { made } = await admin();
    const err = await failure(made.auth.login({ email: 'ada@example.com', password: PASSWORD }));
    made.clock.advance(5 * 60_000);
    const late = await failure(
      made.auth.enrollWithChallenge(err.details?.['challenge'] as string, { step: 'start' }),
    );
    expect(late.code).toBe('MFA_CHALLENGE_INVALID');
  });

  it('an admin cannot turn the required factor off (FORBIDDEN)', async () => {
    const { made, user } = await admin();
    const { secret } = await made.auth.startTotpEnrollment(user.id);
    await made.auth.confirmTotp(user.id, codeNow(made, secret));
    made.clock.advance(STEP_MS);
    const err = await failure(
      made.auth.disableTotp(user.id, { password: PASSWORD, code: codeNow(made, secret) }),
    );
    expect(err.code).toBe('FORBIDDEN');
    expect(err.details).toEqual({ reason: 'mfa_required_for_role' });
  });
});

describe('enumeration: a wrong password for an enrolled account', () => {
  it('is byte-for-byte the ordinary INVALID_CREDENTIALS, with the same audit event and no MFA store call', async () => {
    const counting = countingMfaStore();
    const made = makeMfaAuth({ stores: { mfa: counting.store } });
    await enrolledUser(made, 'ada@example.com');
    await registerUser(made.auth, 'bob@example.com');
    const callsBefore = counting.calls.length;
    const eventsBefore = made.events.length;
    const enrolled = await failure(
      made.auth.login({ email: 'ada@example.com', password: 'wrong password!!' }),
    );
    const enrolledEvents = made.events.slice(eventsBefore);
    const plainBefore = made.events.length;
    const plain = await failure(
      made.auth.login({ email: 'bob@example.com', password: 'wrong password!!' }),
    );
    const plainEvents = made.events.slice(plainBefore);
    expect(JSON.stringify(enrolled.toJSON())).toBe(JSON.stringify(plain.toJSON()));
    expect([enrolled.code, enrolled.status, enrolled.message, enrolled.retryAfter]).toEqual([
      plain.code,
      plain.status,
      plain.message,
      plain.retryAfter,
    ]);
    expect(enrolled.details).toBeUndefined();
    expect(plain.details).toBeUndefined();
    expect(enrolledEvents.map(shapeOf)).toEqual(plainEvents.map(shapeOf));
    // The factor is never looked up before the password is right: nothing to time.
    expect(counting.calls.length).toBe(callsBefore);
  });

  it('locks after the same number of wrong passwords as any account (the lockout tells nothing either)', async () => {
    const made = makeMfaAuth();
    await enrolledUser(made, 'ada@example.com');
    await registerUser(made.auth, 'bob@example.com');
    const codes = async (email: string) => {
      const seen: string[] = [];
      for (let i = 0; i < 6; i++) {
        seen.push((await failure(made.auth.login({ email, password: 'wrong password!!' }))).code);
      }
      return seen;
    };
    expect(await codes('ada@example.com')).toEqual(await codes('bob@example.com'));
  });

  it('takes as long as for a plain account (medians within 10 %)', async () => {
    const made = makeMfaAuth({ lockout: { maxAttempts: 1000 } });
    await enrolledUser(made, 'ada@example.com');
    await registerUser(made.auth, 'bob@example.com');
    const kinds = { enrolled: 'ada@example.com', plain: 'bob@example.com' } as const;
    const names = Object.keys(kinds) as (keyof typeof kinds)[];
    const SAMPLES = 1500;
    const WARM_UP = 200;
    async function measure() {
      const durations: Record<keyof typeof kinds, number[]> = { enrolled: [], plain: [] };
      for (let round = 0; round < WARM_UP + SAMPLES; round++) {
        // Past the window now and then, so that the lockout never takes over.
        if (round % 500 === 0) made.clock.advance(60 * 60_000);
        for (let i = 0; i < names.length; i++) {
          const name = names[(round + i) % names.length]!;
          const started = performance.now();
          await made.auth
            .login({ email: kinds[name], password: 'wrong password!!' })
            .catch(() => {});
          const elapsed = performance.now() - started;
          if (round >= WARM_UP) durations[name].push(elapsed);
        }
      }
      return { enrolled: median(durations.enrolled), plain: median(durations.plain) };
    }
    const gap = (m: { enrolled: number; plain: number }) =>
      Math.abs(m.enrolled - m.plain) / m.plain;
    // A shared 2-core machine can disturb one run of microsecond timings: up to three runs.
    let medians = await measure();
    for (let attempt = 1; attempt < 3 && gap(medians) > 0.1; attempt++) medians = await measure();
    expect(gap(medians), JSON.stringify(medians)).toBeLessThanOrEqual(0.1);
    console.log('wrong-password login medians (ms):', medians);
  }, 120_000);
});
