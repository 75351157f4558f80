import { describe, expect, it } from 'vitest';
import type { AuthError } from '../../../src/index.js';
import { PASSWORD } from '../../helpers/auth.js';
import {
  challengeOf,
  codeNow,
  enrolledUser,
  failure,
  type MfaAuth,
  makeMfaAuth,
  mfaBucketOf,
  STEP_MS,
} from './flow-helpers.js';

const MINUTE = 60_000;

/** A code that is not the current one (nor of the neighbouring steps). */
function wrongCode(made: MfaAuth, secret: string): string {
  const near = [-STEP_MS, 0, STEP_MS].map((offset) => codeNow(made, secret, offset));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!near.includes(candidate)) return candidate;
  }
}

describe('the MFA lockout (brute force of the second factor)', () => {
  it('brute force of the code: the fifth wrong code locks the factor (MFA_LOCKED 403 with retryAfter), MFA_LOCKED is audited once and the challenge ends', async () => {
    const made = makeMfaAuth();
    const { user, secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const err = await failure(
        made.auth.completeMfa(challenge, { code: wrongCode(made, secret) }),
      );
      codes.push(err.code);
      if (i === 4) {
        expect(err.status).toBe(403);
        expect(err.retryAfter).toBe(60);
      }
    }
    expect(codes).toEqual([
      'MFA_INVALID_CODE',
      'MFA_INVALID_CODE',
      'MFA_INVALID_CODE',
      'MFA_INVALID_CODE',
      'MFA_LOCKED',
    ]);
    expect(made.events.filter((e) => e.event === 'MFA_LOCKED')).toHaveLength(1);
    expect(made.events.find((e) => e.event === 'MFA_LOCKED')).toMatchObject({ userId: user.id });
    // The challenge of the locked login is gone: a new login is needed after the lock.
    const ended = await failure(made.auth.completeMfa(challenge, { code: codeNow(made, secret) }));
    expect(ended.code).toBe('MFA_CHALLENGE_INVALID');
  });

  it('while locked even the right code is refused with MFA_LOCKED, and after the lock it works', async () => {
    const made = makeMfaAuth();
    const { secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    for (let i = 0; i < 5; i++) {
      await failure(made.auth.completeMfa(challenge, { code: wrongCode(made, secret) }));
    }
    const locked = await failure(
      made.auth.completeMfa(await challengeOf(made), { code: codeNow(made, secret) }),
    );
    expect(locked.code).toBe('MFA_LOCKED');
    expect(locked.retryAfter).toBeGreaterThan(0);
    made.clock.advance(MINUTE);
    const result = await made.auth.completeMfa(await challengeOf(made), {
      code: codeNow(made, secret),
    });
    expect(result.token).toEqual(expect.any(String));
  });

  it('the lock is progressive: the second lock without a success in between lasts twice as long', async () => {
    const made = makeMfaAuth();
    const { secret } = await enrolledUser(made);
    const lockOnce = async () => {
      let last: AuthError | undefined;
      const challenge = await challengeOf(made);
      for (let i = 0; i < 5; i++) {
        last = await failure(made.auth.completeMfa(challenge, { code: wrongCode(made, secret) }));
      }
      return last as AuthError;
    };
    expect((await lockOnce()).retryAfter).toBe(60);
    made.clock.advance(MINUTE);
    expect((await lockOnce()).retryAfter).toBe(120);
  });

  it('a correct password does not clear the MFA bucket (logging in again cannot reset the guesses)', async () => {
    const made = makeMfaAuth();
    const { user, secret } = await enrolledUser(made);
    for (let i = 0; i < 4; i++) {
      // A fresh login (correct password: the password counter resets) before each guess.
      await failure(
        made.auth.completeMfa(await challengeOf(made), { code: wrongCode(made, secret) }),
      );
    }
    expect((await mfaBucketOf(made, user.id))?.attempts).toBe(4);
    const fifth = await failure(
      made.auth.completeMfa(await challengeOf(made), { code: wrongCode(made, secret) }),
    );
    expect(fifth.code).toBe('MFA_LOCKED');
  });

  it('the MFA bucket is its own: wrong codes never lock the password login, wrong passwords never lock the factor', async () => {
    const made = makeMfaAuth();
    const { secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    for (let i = 0; i < 5; i++) {
      await failure(made.auth.completeMfa(challenge, { code: wrongCode(made, secret) }));
    }
    // The password still gets its answer (MFA_REQUIRED), not ACCOUNT_LOCKED.
    await challengeOf(made);
    made.clock.advance(MINUTE);
    for (let i = 0; i < 4; i++) {
      await failure(made.auth.login({ email: 'ada@example.com', password: 'wrong password!!' }));
    }
    await made.auth.completeMfa(await challengeOf(made), { code: codeNow(made, secret) });
  });

  it('a successful code empties the bucket', async () => {
    const made = makeMfaAuth();
    const { user, secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    for (let i = 0; i < 3; i++) {
      await failure(made.auth.completeMfa(challenge, { code: wrongCode(made, secret) }));
    }
    await made.auth.completeMfa(challenge, { code: codeNow(made, secret) });
    expect(await mfaBucketOf(made, user.id)).toBeNull();
  });

  it('wrong recovery codes count in the same bucket', async () => {
    const made = makeMfaAuth();
    const { secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    for (let i = 0; i < 4; i++) {
      await failure(made.auth.completeMfa(challenge, { recoveryCode: `aaaa-bbbb-${i}${i}` }));
    }
    const err = await failure(made.auth.completeMfa(challenge, { code: wrongCode(made, secret) }));
    expect(err.code).toBe('MFA_LOCKED');
  });

  it('wrong codes at enrolment confirmation count in the same bucket', async () => {
    const made = makeMfaAuth();
    const user = await made.auth.register({
      email: 'ada@example.com',
      password: PASSWORD,
      name: 'Ada',
    });
    const { secret } = await made.auth.startTotpEnrollment(user.id);
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) {
      codes.push((await failure(made.auth.confirmTotp(user.id, wrongCode(made, secret)))).code);
    }
    expect(codes.slice(4)).toEqual(['MFA_LOCKED', 'MFA_LOCKED']);
    const locked = await failure(made.auth.confirmTotp(user.id, codeNow(made, secret)));
    expect(locked.code).toBe('MFA_LOCKED');
  });

  it('concurrent guessing: 30 wrong codes at once are never more than maxAttempts checks', async () => {
    const made = makeMfaAuth();
    const { secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        made.auth.completeMfa(challenge, { code: String(100000 + i) }),
      ),
    );
    const codes = outcomes.map((o) => ((o as PromiseRejectedResult).reason as AuthError).code);
    expect(codes.filter((c) => c === 'MFA_INVALID_CODE').length).toBeLessThanOrEqual(5);
    expect(codes.filter((c) => c === 'MFA_LOCKED').length).toBeGreaterThanOrEqual(25);
    void secret;
  });

  it('mfa.lockout sets the threshold: with maxAttempts 2 the second wrong code locks', async () => {
    const made = makeMfaAuth({}, { lockout: { maxAttempts: 2, duration: '5m' } });
    const { secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    await failure(made.auth.completeMfa(challenge, { code: wrongCode(made, secret) }));
    const err = await failure(made.auth.completeMfa(challenge, { code: wrongCode(made, secret) }));
    expect(err.code).toBe('MFA_LOCKED');
    expect(err.retryAfter).toBe(300);
  });

  it('disableTotp and regenerateRecoveryCodes are refused while the factor is locked', async () => {
    const made = makeMfaAuth();
    const { user, secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    for (let i = 0; i < 5; i++) {
      await failure(made.auth.completeMfa(challenge, { code: wrongCode(made, secret) }));
    }
    const regenerate = await failure(
      made.auth.regenerateRecoveryCodes(user.id, { code: codeNow(made, secret) }),
    );
    const disable = await failure(
      made.auth.disableTotp(user.id, { password: PASSWORD, code: codeNow(made, secret) }),
    );
    expect([regenerate.code, disable.code]).toEqual(['MFA_LOCKED', 'MFA_LOCKED']);
    expect(await made.auth.mfaStatus(user.id)).toMatchObject({ enrolled: true });
  });
});
