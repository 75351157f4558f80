import { describe, expect, it } from 'vitest';
import { PASSWORD, registerUser } from '../../helpers/auth.js';
import { mailsTo, makeMailAuth, PUBLIC_URL, tokenIn } from './account-auth.js';

const HOUR = 3_600_000;

async function verificationToken(made: ReturnType<typeof makeMailAuth>, email: string) {
  await made.auth.mail.flush();
  return tokenIn(mailsTo(made.sent, email, 'email_verification').at(-1));
}

describe('email verification', () => {
  it('registration with mail configured sends a verification link to {publicUrl}/verify-email, and the user starts unverified', async () => {
    const made = makeMailAuth();
    const user = await registerUser(made.auth, 'ada@example.com');
    expect(user).toMatchObject({ email: 'ada@example.com', emailVerified: false });
    const token = await verificationToken(made, 'ada@example.com');
    const mail = mailsTo(made.sent, 'ada@example.com', 'email_verification')[0]!;
    expect(mail.text).toContain(`${PUBLIC_URL}/verify-email?token=${token}`);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(made.events.find((e) => e.event === 'EMAIL_VERIFICATION_SENT')).toMatchObject({
      userId: user.id,
    });
  });

  it('without mail configured, registration sends nothing and still works', async () => {
    const made = makeMailAuth({ mail: undefined });
    await expect(registerUser(made.auth, 'ada@example.com')).resolves.toMatchObject({
      emailVerified: false,
    });
    expect(await made.auth.mail.pending()).toBe(0);
    expect(await made.auth.mail.flush()).toEqual({ delivered: 0, failed: 0 });
  });

  it('verifying marks the email verified, returns the user and emits EMAIL_VERIFIED', async () => {
    const made = makeMailAuth();
    const user = await registerUser(made.auth, 'ada@example.com');
    const token = await verificationToken(made, 'ada@example.com');
    await expect(made.auth.verifyEmail(token, { ip: '203.0.113.7' })).resolves.toEqual({
      ...user,
      emailVerified: true,
    });
    expect((await made.auth.getUser(user.id)).emailVerified).toBe(true);
    const event = made.events.find((e) => e.event === 'EMAIL_VERIFIED');
    expect(event).toMatchObject({ userId: user.id, ip: '203.0.113.7' });
    expect(JSON.stringify(event)).not.toContain('ada@example.com');
  });

  it('a verification link lasts 24 hours by default: valid just before, LINK_INVALID at the end', async () => {
    const made = makeMailAuth();
    await registerUser(made.auth, 'ada@example.com');
    await registerUser(made.auth, 'bob@example.com');
    const ada = await verificationToken(made, 'ada@example.com');
    const bob = await verificationToken(made, 'bob@example.com');
    made.clock.advance(24 * HOUR - 1);
    await expect(made.auth.verifyEmail(ada)).resolves.toMatchObject({ emailVerified: true });
    made.clock.advance(1);
    await expect(made.auth.verifyEmail(bob)).rejects.toMatchObject({ code: 'LINK_INVALID' });
  });

  it('bad verification tokens get LINK_INVALID: unknown, used, non-string, a password-reset token', async () => {
    const made = makeMailAuth();
    await registerUser(made.auth, 'ada@example.com');
    const token = await verificationToken(made, 'ada@example.com');
    await made.auth.verifyEmail(token);
    await made.auth.requestPasswordReset('ada@example.com');
    await made.auth.mail.flush();
    const resetToken = tokenIn(mailsTo(made.sent, 'ada@example.com', 'password_reset')[0]);
    for (const bad of [token, Buffer.alloc(32).toString('base64url'), '', 42, null, resetToken]) {
      await expect(made.auth.verifyEmail(bad as string)).rejects.toMatchObject({
        code: 'LINK_INVALID',
        status: 400,
      });
    }
  });

  it('a new verification link makes the previous one invalid', async () => {
    const made = makeMailAuth();
    const user = await registerUser(made.auth, 'ada@example.com');
    const first = await verificationToken(made, 'ada@example.com');
    await made.auth.requestEmailVerification(user.id);
    const second = await verificationToken(made, 'ada@example.com');
    await expect(made.auth.verifyEmail(first)).rejects.toMatchObject({ code: 'LINK_INVALID' });
    await expect(made.auth.verifyEmail(second)).resolves.toMatchObject({ emailVerified: true });
  });

  it('resend flooding: past 3 resends in 15 minutes a user gets RATE_LIMITED with retryAfter, other users are not affected', async () => {
    const made = makeMailAuth();
    const ada = await registerUser(made.auth, 'ada@example.com');
    const bob = await registerUser(made.auth, 'bob@example.com');
    for (let i = 0; i < 3; i++) await made.auth.requestEmailVerification(ada.id);
    const refused = made.auth.requestEmailVerification(ada.id);
    await expect(refused).rejects.toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    await refused.catch((err) => expect(err.retryAfter).toBeGreaterThan(0));
    await expect(made.auth.requestEmailVerification(bob.id)).resolves.toBeUndefined();
    await made.auth.mail.flush();
    // One at registration and three resends.
    expect(mailsTo(made.sent, 'ada@example.com', 'email_verification')).toHaveLength(4);
    made.clock.advance(15 * 60_000);
    await expect(made.auth.requestEmailVerification(ada.id)).resolves.toBeUndefined();
  });

  it('a resend for an already verified email sends nothing', async () => {
    const made = makeMailAuth();
    const user = await registerUser(made.auth, 'ada@example.com');
    await made.auth.verifyEmail(await verificationToken(made, 'ada@example.com'));
    await made.auth.requestEmailVerification(user.id);
    await made.auth.mail.flush();
    expect(mailsTo(made.sent, 'ada@example.com', 'email_verification')).toHaveLength(1);
  });

  it('a resend for a deleted account is UNAUTHENTICATED', async () => {
    const made = makeMailAuth();
    const user = await registerUser(made.auth, 'ada@example.com');
    await made.auth.deleteUser(user.id);
    await expect(made.auth.requestEmailVerification(user.id)).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('the verification lifetime is configurable (emailVerification.tokenTtl)', async () => {
    const made = makeMailAuth({ emailVerification: { tokenTtl: '1h' } });
    await registerUser(made.auth, 'ada@example.com');
    const token = await verificationToken(made, 'ada@example.com');
    made.clock.advance(HOUR);
    await expect(made.auth.verifyEmail(token)).rejects.toMatchObject({ code: 'LINK_INVALID' });
  });
});

describe('login with emailVerification.required', () => {
  it('login with an unverified email reveals nothing without the password: wrong password → INVALID_CREDENTIALS, right password → EMAIL_NOT_VERIFIED', async () => {
    const made = makeMailAuth({ emailVerification: { required: true } });
    const user = await registerUser(made.auth, 'ada@example.com');
    const wrong = made.auth.login({ email: 'ada@example.com', password: 'not the password!' });
    await expect(wrong).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS', status: 401 });
    const unknown = made.auth.login({ email: 'nobody@example.com', password: 'not the password!' });
    await expect(unknown).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS', status: 401 });
    const [wrongErr, unknownErr] = await Promise.all([
      wrong.catch((e) => e),
      unknown.catch((e) => e),
    ]);
    expect(wrongErr.toJSON()).toEqual(unknownErr.toJSON());

    await expect(
      made.auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).rejects.toMatchObject({ code: 'EMAIL_NOT_VERIFIED', status: 403 });
    expect(made.events.filter((e) => e.event === 'LOGIN_FAILED').at(-1)).toMatchObject({
      userId: user.id,
      metadata: { reason: 'email_not_verified' },
    });

    await made.auth.verifyEmail(await verificationToken(made, 'ada@example.com'));
    await expect(
      made.auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).resolves.toMatchObject({ user: { emailVerified: true } });
  });

  it('a correct password on an unverified account clears the lockout counter like any correct password', async () => {
    const made = makeMailAuth({
      emailVerification: { required: true },
      lockout: { maxAttempts: 3 },
    });
    await registerUser(made.auth, 'ada@example.com');
    for (let round = 0; round < 3; round++) {
      await made.auth
        .login({ email: 'ada@example.com', password: 'wrong wrong wrong' })
        .catch(() => {});
      await made.auth
        .login({ email: 'ada@example.com', password: 'wrong wrong wrong' })
        .catch(() => {});
      await expect(
        made.auth.login({ email: 'ada@example.com', password: PASSWORD }),
      ).rejects.toMatchObject({ code: 'EMAIL_NOT_VERIFIED' });
    }
  });

  it('without emailVerification.required an unverified account logs in', async () => {
    const made = makeMailAuth();
    await registerUser(made.auth, 'ada@example.com');
    await expect(
      made.auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).resolves.toMatchObject({ user: { emailVerified: false } });
  });
});
