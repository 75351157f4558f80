import { describe, expect, it } from 'vitest';
import {
  AuthError,
  createAuth,
  generateMfaKey,
  MemoryMfaStore,
  MemoryUserStore,
} from '../../../src/index.js';
import { decodeBase32, totpStepAt } from '../../../src/mfa/totp.js';
import { makeAuth, PASSWORD, registerUser } from '../../helpers/auth.js';
import {
  challengeOf,
  codeNow,
  enrolledUser,
  failure,
  makeMfaAuth,
  mfaBucketOf,
  STEP_MS,
} from './flow-helpers.js';

const MINUTE = 60_000;

describe('TOTP enrolment', () => {
  it('startTotpEnrollment returns a 160-bit base32 secret and an otpauth URI naming the issuer and the email; login stays password-only while pending', async () => {
    const made = makeMfaAuth({}, { issuer: 'Acme Shop' });
    const user = await registerUser(made.auth);
    const { secret, uri } = await made.auth.startTotpEnrollment(user.id);
    expect(decodeBase32(secret).byteLength).toBeGreaterThanOrEqual(20);
    expect(uri).toBe(
      `otpauth://totp/Acme%20Shop:ada%40example.com?secret=${secret}&issuer=Acme%20Shop&algorithm=SHA1&digits=6&period=30`,
    );
    const factor = await made.stores.mfa.getFactor(user.id);
    expect(factor?.status).toBe('pending');
    // Stored encrypted: the record does not carry the secret.
    expect(JSON.stringify(factor)).not.toContain(secret);
    const result = await made.auth.login({ email: 'ada@example.com', password: PASSWORD });
    expect(result.token).toEqual(expect.any(String));
  });

  it('confirmTotp with a wrong code is MFA_INVALID_CODE (401) and the factor stays pending', async () => {
    const made = makeMfaAuth();
    const user = await registerUser(made.auth);
    const { secret } = await made.auth.startTotpEnrollment(user.id);
    const right = codeNow(made, secret);
    const wrong = right === '000000' ? '000001' : '000000';
    const err = await failure(made.auth.confirmTotp(user.id, wrong));
    expect(err.code).toBe('MFA_INVALID_CODE');
    expect(err.status).toBe(401);
    expect((await made.stores.mfa.getFactor(user.id))?.status).toBe('pending');
    expect(made.events.filter((e) => e.event === 'MFA_FAILED').at(-1)?.metadata).toMatchObject({
      reason: 'invalid_code',
      flow: 'enroll',
    });
  });

  it('confirmTotp activates the factor with a valid code, returns 10 distinct recovery codes and emits MFA_ENROLLED without any secret', async () => {
    const made = makeMfaAuth();
    const { user, secret, recoveryCodes } = await enrolledUser(made);
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect((await made.stores.mfa.getFactor(user.id))?.status).toBe('active');
    const enrolled = made.events.find((e) => e.event === 'MFA_ENROLLED');
    expect(enrolled).toMatchObject({ userId: user.id, status: 'success' });
    const everything = JSON.stringify(made.events);
    expect(everything).not.toContain(secret);
    for (const code of recoveryCodes) expect(everything).not.toContain(code);
  });

  it('startTotpEnrollment with an active factor is MFA_ALREADY_ENROLLED (409): the secret is never handed out again', async () => {
    const made = makeMfaAuth();
    const { user } = await enrolledUser(made);
    const err = await failure(made.auth.startTotpEnrollment(user.id));
    expect(err.code).toBe('MFA_ALREADY_ENROLLED');
    expect(err.status).toBe(409);
  });

  it('confirming with a code of the first secret after a restarted enrolment does not activate the new secret', async () => {
    const made = makeMfaAuth();
    const user = await registerUser(made.auth);
    const first = await made.auth.startTotpEnrollment(user.id);
    const second = await made.auth.startTotpEnrollment(user.id);
    expect(second.secret).not.toBe(first.secret);
    const err = await failure(made.auth.confirmTotp(user.id, codeNow(made, first.secret)));
    expect(err.code).toBe('MFA_INVALID_CODE');
    await made.auth.confirmTotp(user.id, codeNow(made, second.secret));
    expect((await made.stores.mfa.getFactor(user.id))?.status).toBe('active');
  });

  it('the MFA methods answer INVALID_CONFIG without the mfa option', async () => {
    const { auth } = makeAuth();
    const user = await registerUser(auth);
    const err = await failure(auth.startTotpEnrollment(user.id));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain('mfa');
  });
});

describe('login with a second factor', () => {
  it('the correct password of an enrolled account answers MFA_REQUIRED (401) with a challenge and starts no session', async () => {
    const made = makeMfaAuth();
    const { user } = await enrolledUser(made);
    const err = await failure(made.auth.login({ email: 'ada@example.com', password: PASSWORD }));
    expect(err).toBeInstanceOf(AuthError);
    expect(err.code).toBe('MFA_REQUIRED');
    expect(err.status).toBe(401);
    expect(err.details).toEqual({ challenge: expect.any(String), expiresIn: 300 });
    expect(JSON.stringify(err)).not.toContain(err.details?.['challenge'] as string);
    expect(await made.auth.listSessions(user.id)).toEqual([]);
    expect(made.events.some((e) => e.event === 'LOGIN_SUCCEEDED')).toBe(false);
  });

  it('completeMfa with the code from the app issues the tokens and emits LOGIN_SUCCEEDED with method totp', async () => {
    const made = makeMfaAuth();
    const { user, secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    const result = await made.auth.completeMfa(challenge, { code: codeNow(made, secret) });
    expect(result.user.id).toBe(user.id);
    const principal = await made.auth.verifyAccessToken(result.token);
    expect(principal.userId).toBe(user.id);
    expect(made.events.filter((e) => e.event === 'LOGIN_SUCCEEDED').at(-1)?.metadata).toEqual(
      expect.objectContaining({ method: 'totp' }),
    );
  });

  it('a code typed with spaces ("123 456") is accepted', async () => {
    const made = makeMfaAuth();
    const { secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    const code = codeNow(made, secret);
    const result = await made.auth.completeMfa(challenge, {
      code: `${code.slice(0, 3)} ${code.slice(3)}`,
    });
    expect(result.token).toEqual(expect.any(String));
  });

  it('replay: the code that just signed in is refused on the next login like a wrong code', async () => {
    const made = makeMfaAuth();
    const { secret } = await enrolledUser(made);
    const code = codeNow(made, secret);
    await made.auth.completeMfa(await challengeOf(made), { code });
    const replayed = await failure(made.auth.completeMfa(await challengeOf(made), { code }));
    const wrong = await failure(
      made.auth.completeMfa(await challengeOf(made), {
        code: code === '000000' ? '000001' : '000000',
      }),
    );
    expect(replayed.code).toBe('MFA_INVALID_CODE');
    expect(replayed.toJSON()).toEqual(wrong.toJSON());
    expect(
      made.events.filter((e) => e.event === 'MFA_FAILED').map((e) => e.metadata['reason']),
    ).toEqual(['replayed_code', 'invalid_code']);
  });

  it('replay of an older step: after the code of the next step was used, the code of the current step is refused', async () => {
    const made = makeMfaAuth();
    const { secret } = await enrolledUser(made);
    await made.auth.completeMfa(await challengeOf(made), { code: codeNow(made, secret, STEP_MS) });
    const err = await failure(
      made.auth.completeMfa(await challengeOf(made), { code: codeNow(made, secret) }),
    );
    expect(err.code).toBe('MFA_INVALID_CODE');
  });

  it('concurrent replay: Promise.all of one code on one challenge signs in exactly once', async () => {
    const made = makeMfaAuth({}, { lockout: { maxAttempts: 20 } });
    const { secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    const code = codeNow(made, secret);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, () => made.auth.completeMfa(challenge, { code })),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const lost of outcomes.filter((o) => o.status === 'rejected')) {
      expect(['MFA_INVALID_CODE', 'MFA_CHALLENGE_INVALID']).toContain(
        ((lost as PromiseRejectedResult).reason as AuthError).code,
      );
    }
  });

  it('concurrent replay of one recovery code on one challenge signs in exactly once', async () => {
    const made = makeMfaAuth({}, { lockout: { maxAttempts: 20 } });
    const { recoveryCodes } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, () =>
        made.auth.completeMfa(challenge, { recoveryCode: recoveryCodes[0]! }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
  });

  it('the challenge is single-use: after a successful completeMfa it is MFA_CHALLENGE_INVALID, even with a fresh code', async () => {
    const made = makeMfaAuth();
    const { secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    await made.auth.completeMfa(challenge, { code: codeNow(made, secret) });
    made.clock.advance(STEP_MS);
    const err = await failure(made.auth.completeMfa(challenge, { code: codeNow(made, secret) }));
    expect(err.code).toBe('MFA_CHALLENGE_INVALID');
    expect(err.status).toBe(401);
  });

  it('the challenge expires after 5 minutes (injected clock): a valid code then is MFA_CHALLENGE_INVALID', async () => {
    const made = makeMfaAuth();
    const { secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    made.clock.advance(5 * MINUTE);
    const err = await failure(made.auth.completeMfa(challenge, { code: codeNow(made, secret) }));
    expect(err.code).toBe('MFA_CHALLENGE_INVALID');
  });

  it('mfa.challengeTtl sets the lifetime: with 1 minute, a challenge works at 59 s and not at 60 s', async () => {
    const made = makeMfaAuth({}, { challengeTtl: '1m' });
    const { secret } = await enrolledUser(made);
    const first = await challengeOf(made);
    made.clock.advance(59_000);
    await made.auth.completeMfa(first, { code: codeNow(made, secret) });
    made.clock.advance(STEP_MS);
    const second = await challengeOf(made);
    made.clock.advance(MINUTE);
    const err = await failure(made.auth.completeMfa(second, { code: codeNow(made, secret) }));
    expect(err.code).toBe('MFA_CHALLENGE_INVALID');
  });

  it('a wrong code leaves the challenge usable: the right code then signs in', async () => {
    const made = makeMfaAuth();
    const { secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    const code = codeNow(made, secret);
    const err = await failure(
      made.auth.completeMfa(challenge, { code: code === '999999' ? '999998' : '999999' }),
    );
    expect(err.code).toBe('MFA_INVALID_CODE');
    const result = await made.auth.completeMfa(challenge, { code });
    expect(result.token).toEqual(expect.any(String));
  });

  it('a newer login supersedes the earlier challenge', async () => {
    const made = makeMfaAuth();
    const { secret } = await enrolledUser(made);
    const first = await challengeOf(made);
    await challengeOf(made);
    const err = await failure(made.auth.completeMfa(first, { code: codeNow(made, secret) }));
    expect(err.code).toBe('MFA_CHALLENGE_INVALID');
  });

  it.each([
    ['a forged challenge', 'A'.repeat(43)],
    ['an empty challenge', ''],
    ['a non-string challenge', 42],
    ['a 10 kB challenge', 'x'.repeat(10_000)],
  ])('%s is MFA_CHALLENGE_INVALID, never a crash', async (_name, challenge) => {
    const made = makeMfaAuth();
    const { secret } = await enrolledUser(made);
    const err = await failure(
      made.auth.completeMfa(challenge as string, { code: codeNow(made, secret) }),
    );
    expect(err.code).toBe('MFA_CHALLENGE_INVALID');
  });

  it.each([
    ['no code at all', {}],
    ['both a code and a recovery code', { code: '123456', recoveryCode: 'abcd-efgh-jk' }],
    ['a numeric code', { code: 123456 }],
    ['a 1 kB code', { code: '1'.repeat(1000) }],
  ])('%s is VALIDATION_ERROR and counts toward nothing', async (_name, input) => {
    const made = makeMfaAuth();
    const { user, secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    const err = await failure(made.auth.completeMfa(challenge, input as { code: string }));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(await mfaBucketOf(made, user.id)).toBeNull();
    expect(made.events.some((e) => e.event === 'MFA_FAILED')).toBe(false);
    await made.auth.completeMfa(challenge, { code: codeNow(made, secret) });
  });

  it('clock skew: a code of the previous or the next 30 s step is accepted (injected clock)', async () => {
    const made = makeMfaAuth();
    const { secret } = await enrolledUser(made);
    made.clock.advance(2 * STEP_MS);
    // Behind by one step: the phone's clock is slow.
    await made.auth.completeMfa(await challengeOf(made), { code: codeNow(made, secret, -STEP_MS) });
    made.clock.advance(2 * STEP_MS);
    // Ahead by one step: the phone's clock is fast.
    await made.auth.completeMfa(await challengeOf(made), { code: codeNow(made, secret, STEP_MS) });
  });

  it('clock skew: a code two steps (60 s) away is refused', async () => {
    const made = makeMfaAuth();
    const { secret } = await enrolledUser(made);
    made.clock.advance(5 * STEP_MS);
    const behind = await failure(
      made.auth.completeMfa(await challengeOf(made), { code: codeNow(made, secret, -2 * STEP_MS) }),
    );
    const ahead = await failure(
      made.auth.completeMfa(await challengeOf(made), { code: codeNow(made, secret, 2 * STEP_MS) }),
    );
    expect([behind.code, ahead.code]).toEqual(['MFA_INVALID_CODE', 'MFA_INVALID_CODE']);
    expect(totpStepAt(made.clock.now())).toBeGreaterThan(0);
  });

  it('a user disabled after the password step cannot finish the login with a valid code', async () => {
    const made = makeMfaAuth();
    const { user, secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    await made.auth.disableUser(user.id);
    const err = await failure(made.auth.completeMfa(challenge, { code: codeNow(made, secret) }));
    expect(err.code).toBe('MFA_CHALLENGE_INVALID');
  });

  it('a user banned after the password step cannot finish the login with a valid code', async () => {
    const made = makeMfaAuth();
    const { user, secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    await made.auth.banUser(user.id, { reason: 'abuse' });
    const err = await failure(made.auth.completeMfa(challenge, { code: codeNow(made, secret) }));
    expect(err.code).toBe('MFA_CHALLENGE_INVALID');
  });

  it('completeMfa records the device label and IP of the session', async () => {
    const made = makeMfaAuth();
    const { user, secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    await made.auth.completeMfa(
      challenge,
      { code: codeNow(made, secret), deviceLabel: 'Work laptop' },
      { ip: '203.0.113.7' },
    );
    const [session] = await made.auth.listSessions(user.id);
    expect(session).toMatchObject({ label: 'Work laptop', ip: '203.0.113.7' });
  });
});

describe('recovery codes', () => {
  it('a recovery code signs in once and emits RECOVERY_CODE_USED with the number left; the same code again is refused', async () => {
    const made = makeMfaAuth();
    const { user, recoveryCodes } = await enrolledUser(made);
    const result = await made.auth.completeMfa(await challengeOf(made), {
      recoveryCode: recoveryCodes[3]!.toUpperCase(),
    });
    expect(result.user.id).toBe(user.id);
    expect(made.events.find((e) => e.event === 'RECOVERY_CODE_USED')).toMatchObject({
      userId: user.id,
      metadata: { remaining: 9 },
    });
    expect(made.events.filter((e) => e.event === 'LOGIN_SUCCEEDED').at(-1)?.metadata).toEqual(
      expect.objectContaining({ method: 'recovery_code' }),
    );
    const again = await failure(
      made.auth.completeMfa(await challengeOf(made), { recoveryCode: recoveryCodes[3]! }),
    );
    expect(again.code).toBe('MFA_INVALID_CODE');
  });

  it("another user's recovery code does not work", async () => {
    const made = makeMfaAuth();
    await enrolledUser(made);
    const bob = await enrolledUser(made, 'bob@example.com');
    const err = await failure(
      made.auth.completeMfa(await challengeOf(made), { recoveryCode: bob.recoveryCodes[0]! }),
    );
    expect(err.code).toBe('MFA_INVALID_CODE');
  });

  it('regenerateRecoveryCodes needs a valid code; the old set dies and the new one works', async () => {
    const made = makeMfaAuth();
    const { user, secret, recoveryCodes } = await enrolledUser(made);
    const wrong = await failure(made.auth.regenerateRecoveryCodes(user.id, { code: 'abcdef' }));
    expect(wrong.code).toBe('MFA_INVALID_CODE');
    const fresh = await made.auth.regenerateRecoveryCodes(user.id, { code: codeNow(made, secret) });
    expect(fresh.recoveryCodes).toHaveLength(10);
    expect(fresh.recoveryCodes.some((c) => recoveryCodes.includes(c))).toBe(false);
    expect(made.events.some((e) => e.event === 'RECOVERY_CODES_REGENERATED')).toBe(true);
    const old = await failure(
      made.auth.completeMfa(await challengeOf(made), { recoveryCode: recoveryCodes[0]! }),
    );
    expect(old.code).toBe('MFA_INVALID_CODE');
    await made.auth.completeMfa(await challengeOf(made), {
      recoveryCode: fresh.recoveryCodes[0]!,
    });
  });

  it('regenerateRecoveryCodes without an active factor is MFA_NOT_ENROLLED (409)', async () => {
    const made = makeMfaAuth();
    const user = await registerUser(made.auth);
    const err = await failure(made.auth.regenerateRecoveryCodes(user.id, { code: '123456' }));
    expect(err.code).toBe('MFA_NOT_ENROLLED');
    expect(err.status).toBe(409);
  });
});

describe('turning the factor off', () => {
  it('disableTotp with a wrong password is INVALID_CREDENTIALS and the factor stays', async () => {
    const made = makeMfaAuth();
    const { user, secret } = await enrolledUser(made);
    const err = await failure(
      made.auth.disableTotp(user.id, {
        password: 'not the password!',
        code: codeNow(made, secret),
      }),
    );
    expect(err.code).toBe('INVALID_CREDENTIALS');
    expect(await made.auth.mfaStatus(user.id)).toMatchObject({ enrolled: true });
  });

  it('disableTotp with the password but a wrong code is MFA_INVALID_CODE and the factor stays', async () => {
    const made = makeMfaAuth();
    const { user } = await enrolledUser(made);
    const err = await failure(
      made.auth.disableTotp(user.id, { password: PASSWORD, code: '000000x' }),
    );
    expect(err.code).toBe('MFA_INVALID_CODE');
    expect(await made.auth.mfaStatus(user.id)).toMatchObject({ enrolled: true });
  });

  it('disableTotp with both removes the factor, emits MFA_DISABLED, ends the other sessions and login is password-only again', async () => {
    const made = makeMfaAuth();
    const { user, secret } = await enrolledUser(made);
    const here = await made.auth.completeMfa(await challengeOf(made), {
      code: codeNow(made, secret),
    });
    made.clock.advance(STEP_MS);
    const elsewhere = await made.auth.completeMfa(await challengeOf(made), {
      code: codeNow(made, secret),
    });
    made.clock.advance(STEP_MS);
    const current = await made.auth.verifyAccessToken(here.token);
    await made.auth.disableTotp(
      user.id,
      { password: PASSWORD, code: codeNow(made, secret) },
      { sessionId: current.sessionId },
    );
    expect(made.events.find((e) => e.event === 'MFA_DISABLED')).toMatchObject({ userId: user.id });
    expect(await made.stores.mfa.getFactor(user.id)).toBeNull();
    expect(await made.stores.mfa.recoveryCodesLeft(user.id)).toBe(0);
    await expect(made.auth.verifyAccessToken(here.token)).resolves.toMatchObject({
      userId: user.id,
    });
    await expect(made.auth.verifyAccessToken(elsewhere.token)).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    const plain = await made.auth.login({ email: 'ada@example.com', password: PASSWORD });
    expect(plain.token).toEqual(expect.any(String));
  });

  it('disableTotp accepts a recovery code in place of a code (a lost phone)', async () => {
    const made = makeMfaAuth();
    const { user, recoveryCodes } = await enrolledUser(made);
    await made.auth.disableTotp(user.id, { password: PASSWORD, recoveryCode: recoveryCodes[0]! });
    expect(await made.auth.mfaStatus(user.id)).toEqual({
      enrolled: false,
      enrolledAt: null,
      recoveryCodesLeft: 0,
    });
  });
});

describe('storage, key rotation, export and erasure', () => {
  it('key rotation: a secret sealed with an older key still verifies and is re-encrypted with the first key at its next use', async () => {
    const stores = { users: new MemoryUserStore(), mfa: new MemoryMfaStore() };
    const oldKey = { id: 'old', key: generateMfaKey() };
    const before = makeMfaAuth({ stores }, { encryptionKeys: [oldKey] });
    const { user, secret } = await enrolledUser(before);
    expect((await stores.mfa.getFactor(user.id))?.secretCiphertext).toMatch(/^v1\.old\./);
    // The next deployment: a new key first, the old one kept for decryption.
    const after = makeMfaAuth(
      { stores },
      { encryptionKeys: [{ id: 'new', key: generateMfaKey() }, oldKey] },
    );
    after.clock.time = before.clock.time;
    const err = await failure(after.auth.login({ email: 'ada@example.com', password: PASSWORD }));
    await after.auth.completeMfa(err.details?.['challenge'] as string, {
      code: codeNow(after, secret),
    });
    expect((await stores.mfa.getFactor(user.id))?.secretCiphertext).toMatch(/^v1\.new\./);
    // And the old key alone can no longer open it: the rotation is complete for this user.
    after.clock.advance(STEP_MS);
    const again = await failure(after.auth.login({ email: 'ada@example.com', password: PASSWORD }));
    await after.auth.completeMfa(again.details?.['challenge'] as string, {
      code: codeNow(after, secret),
    });
  });

  it('exportUser shows whether a factor is enrolled, since when and the recovery codes left, never the secret or a code', async () => {
    const made = makeMfaAuth();
    const { user, secret, recoveryCodes } = await enrolledUser(made);
    const data = await made.auth.exportUser(user.id);
    expect(data.mfa).toEqual({
      enrolled: true,
      enrolledAt: new Date(made.clock.now() - STEP_MS).toISOString(),
      recoveryCodesLeft: 10,
    });
    const json = JSON.stringify(data);
    expect(json).not.toContain(secret);
    for (const code of recoveryCodes) expect(json).not.toContain(code);
  });

  it('eraseUser deletes the factor, the recovery codes, pending challenges and the MFA bucket', async () => {
    const made = makeMfaAuth();
    const { user, secret } = await enrolledUser(made);
    const challenge = await challengeOf(made);
    await failure(made.auth.completeMfa(challenge, { code: '000000x' }));
    await made.auth.eraseUser(user.id);
    expect(await made.stores.mfa.getFactor(user.id)).toBeNull();
    expect(await made.stores.mfa.recoveryCodesLeft(user.id)).toBe(0);
    expect(await made.stores.oneTimeTokens.listUserTokens(user.id, made.clock.now())).toEqual([]);
    const err = await failure(made.auth.completeMfa(challenge, { code: codeNow(made, secret) }));
    expect(err.code).toBe('MFA_CHALLENGE_INVALID');
  });

  it('a bad mfa.encryptionKeys key fails createAuth at start with INVALID_CONFIG naming the option', () => {
    expect(() => createAuth({ mfa: { encryptionKeys: [{ id: 'k1', key: 'too-short' }] } })).toThrow(
      /mfa\.encryptionKeys/,
    );
  });
});
