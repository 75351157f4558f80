import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuthError } from '../../../src/index.js';
import { PASSWORD, registerUser } from '../../helpers/auth.js';
import { mailsTo, makeMailAuth, PUBLIC_URL, recordingTokenStore, tokenIn } from './account-auth.js';

const NEW_PASSWORD = 'a brand new passphrase';

async function caught(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (err) {
    return err as AuthError;
  }
  throw new Error('expected a rejection');
}

/** Requests a reset for `email`, waits for the background issue and delivery, returns the token. */
async function resetTokenFor(made: ReturnType<typeof makeMailAuth>, email: string) {
  await made.auth.requestPasswordReset(email);
  await made.auth.mail.flush();
  return tokenIn(mailsTo(made.sent, email, 'password_reset').at(-1));
}

describe('password reset: the request', () => {
  it('password reset enumeration: existing, unknown, disabled and locked accounts get the same answer', async () => {
    const made = makeMailAuth({ lockout: { maxAttempts: 2 } });
    const { auth } = made;
    await registerUser(auth, 'ada@example.com');
    const disabled = await registerUser(auth, 'bob@example.com');
    await auth.disableUser(disabled.id);
    await registerUser(auth, 'cy@example.com');
    for (let i = 0; i < 3; i++) {
      await auth.login({ email: 'cy@example.com', password: 'wrong wrong wrong' }).catch(() => {});
    }
    await expect(auth.login({ email: 'cy@example.com', password: PASSWORD })).rejects.toMatchObject(
      { code: 'ACCOUNT_LOCKED' },
    );

    const answers = await Promise.allSettled(
      ['ada@example.com', 'nobody@example.com', 'bob@example.com', 'cy@example.com'].map((e) =>
        auth.requestPasswordReset(e, { ip: '203.0.113.7' }),
      ),
    );
    // One and the same answer: every request resolves, with nothing.
    expect(answers).toEqual(answers.map(() => ({ status: 'fulfilled', value: undefined })));
    await auth.mail.flush();
    // Behind the answer: the active account and the locked one get a link; nobody else does.
    const resets = made.sent.filter((m) => m.kind === 'password_reset');
    expect(resets.map((m) => m.to).sort()).toEqual(['ada@example.com', 'cy@example.com']);
  });

  it('the reset response never waits for mail delivery (a mailer that never resolves)', async () => {
    let mailerCalls = 0;
    const made = makeMailAuth({}, () => {
      mailerCalls++;
      return new Promise<void>(() => {});
    });
    await registerUser(made.auth, 'ada@example.com');
    const started = performance.now();
    await made.auth.requestPasswordReset('ada@example.com');
    expect(performance.now() - started).toBeLessThan(1000);
    // The link was issued and handed to the hanging mailer after the request had returned.
    expect(mailerCalls).toBe(0);
    await expect.poll(() => mailerCalls, { timeout: 5000 }).toBe(1);
  });

  it('a reset link is {publicUrl}/reset-password?token=… with 256 bits of the injected randomness, and the store holds only its SHA-256', async () => {
    const tokens = recordingTokenStore();
    const made = makeMailAuth({ stores: { oneTimeTokens: tokens.store, outbox: tokens.outbox } });
    const user = await registerUser(made.auth, 'ada@example.com');
    const token = await resetTokenFor(made, 'ada@example.com');

    const mail = mailsTo(made.sent, 'ada@example.com', 'password_reset')[0]!;
    expect(mail.text).toContain(`${PUBLIC_URL}/reset-password?token=${token}`);
    const bytes = Buffer.from(token, 'base64url');
    expect(bytes.length).toBe(32);
    expect(made.random.handedOut.some((b) => Buffer.from(b).equals(bytes))).toBe(true);

    const issued = tokens.issued.filter((i) => i.record.purpose === 'password_reset');
    expect(issued).toHaveLength(1);
    const { record } = issued[0]!;
    expect(record).toMatchObject({ userId: user.id, purpose: 'password_reset' });
    expect(record.tokenHash).toBe(createHash('sha256').update(token).digest('base64url'));
    expect(JSON.stringify(record)).not.toContain(token);
    // The default lifetime: 30 minutes.
    expect(record.expiresAt - record.createdAt).toBe(30 * 60_000);
  });

  it('per-email limit: past 3 requests in 15 minutes the answer is exactly like success and nothing more is sent', async () => {
    const made = makeMailAuth();
    await registerUser(made.auth, 'ada@example.com');
    const answers = [];
    for (let i = 0; i < 6; i++)
      answers.push(await made.auth.requestPasswordReset('ada@example.com'));
    expect(answers).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    await made.auth.mail.flush();
    expect(mailsTo(made.sent, 'ada@example.com', 'password_reset')).toHaveLength(3);
    expect(made.events.filter((e) => e.event === 'RATE_LIMITED')).toHaveLength(3);

    // Another address is not affected, and the window ends.
    await registerUser(made.auth, 'bob@example.com');
    await made.auth.requestPasswordReset('bob@example.com');
    made.clock.advance(15 * 60_000);
    await made.auth.requestPasswordReset('ada@example.com');
    await made.auth.mail.flush();
    expect(mailsTo(made.sent, 'bob@example.com', 'password_reset')).toHaveLength(1);
    expect(mailsTo(made.sent, 'ada@example.com', 'password_reset')).toHaveLength(4);
  });

  it('a non-string or over-long email is VALIDATION_ERROR; a malformed address answers like an unknown one', async () => {
    const { auth } = makeMailAuth();
    await expect(auth.requestPasswordReset(42 as never)).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });
    await expect(auth.requestPasswordReset('a'.repeat(2000))).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
    });
    await expect(auth.requestPasswordReset('not an address')).resolves.toBeUndefined();
  });

  it('PASSWORD_RESET_REQUESTED carries the email only as a keyed hash', async () => {
    const made = makeMailAuth();
    const user = await registerUser(made.auth, 'ada@example.com');
    await made.auth.requestPasswordReset('Ada@Example.com', { ip: '203.0.113.7' });
    await made.auth.requestPasswordReset('nobody@example.com');
    const requested = made.events.filter((e) => e.event === 'PASSWORD_RESET_REQUESTED');
    expect(requested).toHaveLength(2);
    expect(requested[0]).toMatchObject({ userId: user.id, ip: '203.0.113.7' });
    expect(requested[0]!.metadata['emailHash']).toMatch(/^[0-9a-f]{32}$/);
    expect(requested[1]!.userId).toBeUndefined();
    for (const event of requested) {
      expect(JSON.stringify(event).toLowerCase()).not.toContain('example.com');
    }
  });

  it('a store failure while issuing a link is logged with its cause, never thrown at the requester', async () => {
    const errors: { message: string; data?: Record<string, unknown> }[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (message: string, data?: Record<string, unknown>) => errors.push({ message, data }),
    };
    const tokens = recordingTokenStore();
    tokens.store.issue = async () => {
      throw new Error('could not issue', { cause: new Error('connection reset') });
    };
    const made = makeMailAuth({
      logger,
      stores: { oneTimeTokens: tokens.store, outbox: tokens.outbox },
    });
    await registerUser(made.auth, 'ada@example.com');
    await expect(made.auth.requestPasswordReset('ada@example.com')).resolves.toBeUndefined();
    await made.auth.mail.flush();
    expect(errors).toContainEqual({
      message: 'password reset mail failed',
      data: { error: 'could not issue', cause: 'connection reset' },
    });
  });

  it('without the mail option, a reset request is INVALID_CONFIG (nothing could deliver the link)', async () => {
    const made = makeMailAuth({ mail: undefined });
    await expect(made.auth.requestPasswordReset('ada@example.com')).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    });
  });
});

describe('password reset: the link', () => {
  it('reset replaces the hash: the new password logs in, the old one no longer does', async () => {
    const made = makeMailAuth();
    await registerUser(made.auth, 'ada@example.com');
    const token = await resetTokenFor(made, 'ada@example.com');
    await made.auth.resetPassword({ token, password: NEW_PASSWORD });
    await expect(
      made.auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(
      made.auth.login({ email: 'ada@example.com', password: NEW_PASSWORD }),
    ).resolves.toMatchObject({ user: { email: 'ada@example.com' } });
  });

  it('a stolen session ends at the reset: an access token and a refresh token from before stop working', async () => {
    const made = makeMailAuth();
    await registerUser(made.auth, 'ada@example.com');
    const before = await made.auth.login({ email: 'ada@example.com', password: PASSWORD });
    await expect(made.auth.verifyAccessToken(before.token)).resolves.toBeDefined();
    const token = await resetTokenFor(made, 'ada@example.com');
    await made.auth.resetPassword({ token, password: NEW_PASSWORD });
    await expect(made.auth.verifyAccessToken(before.token)).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    await expect(made.auth.refresh(before.refreshToken)).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    expect(made.events.find((e) => e.event === 'SESSIONS_REVOKED')?.metadata).toMatchObject({
      reason: 'password_reset',
      count: 1,
    });
  });

  it('a locked-out user can always recover: the reset link arrives and the reset clears the lockout', async () => {
    const made = makeMailAuth({ lockout: { maxAttempts: 3, duration: '1h' } });
    await registerUser(made.auth, 'ada@example.com');
    for (let i = 0; i < 4; i++) {
      await made.auth
        .login({ email: 'ada@example.com', password: 'wrong wrong wrong' })
        .catch(() => {});
    }
    await expect(
      made.auth.login({ email: 'Ada@example.com', password: PASSWORD }),
    ).rejects.toMatchObject({ code: 'ACCOUNT_LOCKED' });
    const token = await resetTokenFor(made, 'ada@example.com');
    await made.auth.resetPassword({ token, password: NEW_PASSWORD });
    // At once, without waiting out the hour: the same keyed counter as login's was cleared.
    await expect(
      made.auth.login({ email: 'ADA@example.com', password: NEW_PASSWORD }),
    ).resolves.toMatchObject({ user: { email: 'ada@example.com' } });
  });

  it('a reset marks the email verified (the link proved control of the mailbox)', async () => {
    const made = makeMailAuth();
    const user = await registerUser(made.auth, 'ada@example.com');
    expect(user.emailVerified).toBe(false);
    const token = await resetTokenFor(made, 'ada@example.com');
    await made.auth.resetPassword({ token, password: NEW_PASSWORD });
    expect((await made.auth.getUser(user.id)).emailVerified).toBe(true);
  });

  it('a weak new password is refused with the reason, and the link stays usable', async () => {
    const made = makeMailAuth();
    await registerUser(made.auth, 'ada@example.com');
    const token = await resetTokenFor(made, 'ada@example.com');
    await expect(made.auth.resetPassword({ token, password: 'short' })).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { field: 'password', reason: 'too_short' },
    });
    await expect(
      made.auth.resetPassword({ token, password: 'ada@example.com-and-more' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_ERROR', details: { reason: 'context' } });
    await expect(
      made.auth.resetPassword({ token, password: NEW_PASSWORD }),
    ).resolves.toBeUndefined();
  });

  it('a newer reset request makes older links invalid', async () => {
    const made = makeMailAuth();
    await registerUser(made.auth, 'ada@example.com');
    const first = await resetTokenFor(made, 'ada@example.com');
    const second = await resetTokenFor(made, 'ada@example.com');
    expect(second).not.toBe(first);
    await expect(
      made.auth.resetPassword({ token: first, password: NEW_PASSWORD }),
    ).rejects.toMatchObject({ code: 'LINK_INVALID', status: 400 });
    await expect(
      made.auth.resetPassword({ token: second, password: NEW_PASSWORD }),
    ).resolves.toBeUndefined();
  });

  it('20 concurrent resets with one token: exactly one succeeds', async () => {
    const made = makeMailAuth();
    await registerUser(made.auth, 'ada@example.com');
    const token = await resetTokenFor(made, 'ada@example.com');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        made.auth.resetPassword({ token, password: `${NEW_PASSWORD} number ${i}` }),
      ),
    );
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    expect(fulfilled).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.map((r) => (r.reason as AuthError).code)).toEqual(
      Array(19).fill('LINK_INVALID'),
    );
    expect(made.events.filter((e) => e.event === 'PASSWORD_RESET')).toHaveLength(1);
    // The winner's password is the one in force.
    const winner = results.indexOf(fulfilled[0]!);
    await expect(
      made.auth.login({ email: 'ada@example.com', password: `${NEW_PASSWORD} number ${winner}` }),
    ).resolves.toBeDefined();
  });

  it('unknown, used, superseded and expired tokens get one and the same answer', async () => {
    const made = makeMailAuth();
    await registerUser(made.auth, 'ada@example.com');
    const used = await resetTokenFor(made, 'ada@example.com');
    await made.auth.resetPassword({ token: used, password: NEW_PASSWORD });
    made.clock.advance(15 * 60_000); // past the per-email window
    const superseded = await resetTokenFor(made, 'ada@example.com');
    const expired = await resetTokenFor(made, 'ada@example.com');
    made.clock.advance(30 * 60_000);
    const unknown = Buffer.alloc(32, 7).toString('base64url');

    const answers = await Promise.all(
      [unknown, used, superseded, expired, '', 'x'.repeat(10_000)].map((token) =>
        caught(made.auth.resetPassword({ token, password: `${NEW_PASSWORD} again` })),
      ),
    );
    for (const err of answers) {
      expect({ code: err.code, status: err.status, body: err.toJSON() }).toEqual({
        code: 'LINK_INVALID',
        status: 400,
        body: {
          success: false,
          code: 'LINK_INVALID',
          error: 'This link is invalid or has expired. Please request a new one.',
        },
      });
    }
  });

  it('a link of an account disabled since it was sent is LINK_INVALID', async () => {
    const made = makeMailAuth();
    const user = await registerUser(made.auth, 'ada@example.com');
    const token = await resetTokenFor(made, 'ada@example.com');
    await made.auth.disableUser(user.id);
    await expect(made.auth.resetPassword({ token, password: NEW_PASSWORD })).rejects.toMatchObject({
      code: 'LINK_INVALID',
    });
  });

  it('a verification link cannot reset a password (tokens are bound to their purpose)', async () => {
    const made = makeMailAuth();
    await registerUser(made.auth, 'ada@example.com');
    await made.auth.mail.flush();
    const verifyToken = tokenIn(mailsTo(made.sent, 'ada@example.com', 'email_verification')[0]);
    await expect(
      made.auth.resetPassword({ token: verifyToken, password: NEW_PASSWORD }),
    ).rejects.toMatchObject({ code: 'LINK_INVALID' });
  });

  it('emits PASSWORD_RESET with the email only as a keyed hash', async () => {
    const made = makeMailAuth();
    const user = await registerUser(made.auth, 'ada@example.com');
    const token = await resetTokenFor(made, 'ada@example.com');
    await made.auth.resetPassword({ token, password: NEW_PASSWORD }, { ip: '203.0.113.9' });
    const reset = made.events.find((e) => e.event === 'PASSWORD_RESET');
    expect(reset).toMatchObject({ status: 'success', userId: user.id, ip: '203.0.113.9' });
    expect(JSON.stringify(reset)).not.toContain('ada@example.com');
    expect(JSON.stringify(made.events)).not.toContain(token);
  });
});
