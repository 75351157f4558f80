import { describe, expect, it } from 'vitest';
import { PASSWORD, registerUser } from '../../helpers/auth.js';
import { mailsTo, makeMailAuth, tokenIn } from './account-auth.js';

const required = { emailVerification: { required: true } } as const;

describe('enumeration-safe sign-up', () => {
  it('enumeration-safe sign-up: a new and a taken email resolve identically after the same bcrypt work', async () => {
    const made = makeMailAuth(required);
    await registerUser(made.auth, 'ada@example.com');
    const before = made.hasher.hashCalls;
    const fresh = await made.auth.signUp({
      email: 'new@example.com',
      password: 'another good passphrase',
      name: 'New',
    });
    const afterFresh = made.hasher.hashCalls;
    const taken = await made.auth.signUp({
      email: 'ada@example.com',
      password: 'another good passphrase',
      name: 'Mallory',
    });
    expect(fresh).toBeUndefined();
    expect(taken).toBeUndefined();
    // One password hash each, at the configured cost: the same work.
    expect(afterFresh - before).toBe(1);
    expect(made.hasher.hashCalls - afterFresh).toBe(1);
  });

  it('sign-up on a taken email creates nothing and sends the owner a notice instead', async () => {
    const made = makeMailAuth(required);
    const owner = await registerUser(made.auth, 'ada@example.com');
    await made.auth.signUp(
      { email: ' ADA@example.com ', password: 'mallory chose this one', name: 'Eve' },
      { ip: '198.51.100.4' },
    );
    await made.auth.mail.flush();
    const notices = mailsTo(made.sent, 'ada@example.com', 'registration_notice');
    expect(notices).toHaveLength(1);
    expect(notices[0]!.text).toContain('https://app.example.com/forgot-password');
    // Nothing was created or changed: same account, same name, the owner's password still works.
    expect(await made.auth.findUserByEmail('ada@example.com')).toEqual(owner);
    await made.auth.verifyEmail(
      tokenIn(mailsTo(made.sent, 'ada@example.com', 'email_verification')[0]),
    );
    await expect(
      made.auth.login({ email: 'ada@example.com', password: 'mallory chose this one' }),
    ).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(
      made.auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).resolves.toMatchObject({ user: { id: owner.id } });
    expect(made.events.find((e) => e.event === 'REGISTRATION_ON_EXISTING_EMAIL')).toMatchObject({
      userId: owner.id,
      ip: '198.51.100.4',
    });
    expect(made.events.filter((e) => e.event === 'USER_REGISTERED')).toHaveLength(1);
  });

  it('sign-up with a new email creates the account, unverified, and sends its verification link', async () => {
    const made = makeMailAuth(required);
    await made.auth.signUp({ email: 'new@example.com', password: PASSWORD, name: 'New' });
    const user = await made.auth.findUserByEmail('new@example.com');
    expect(user).toMatchObject({ name: 'New', emailVerified: false });
    await expect(
      made.auth.login({ email: 'new@example.com', password: PASSWORD }),
    ).rejects.toMatchObject({ code: 'EMAIL_NOT_VERIFIED' });
    await made.auth.mail.flush();
    const token = tokenIn(mailsTo(made.sent, 'new@example.com', 'email_verification')[0]);
    await made.auth.verifyEmail(token);
    await expect(
      made.auth.login({ email: 'new@example.com', password: PASSWORD }),
    ).resolves.toMatchObject({ user: { emailVerified: true } });
  });

  it('notice flooding: repeated sign-ups on a taken email send at most 3 notices per 15 minutes, silently', async () => {
    const made = makeMailAuth(required);
    await registerUser(made.auth, 'ada@example.com');
    for (let i = 0; i < 6; i++) {
      await expect(
        made.auth.signUp({
          email: 'ada@example.com',
          password: 'mallory chose this one',
          name: 'M',
        }),
      ).resolves.toBeUndefined();
    }
    await made.auth.mail.flush();
    expect(mailsTo(made.sent, 'ada@example.com', 'registration_notice')).toHaveLength(3);
  });

  it('bad input is VALIDATION_ERROR whether or not the email is taken (it reveals nothing)', async () => {
    const made = makeMailAuth(required);
    await registerUser(made.auth, 'ada@example.com');
    for (const email of ['ada@example.com', 'new@example.com']) {
      await expect(made.auth.signUp({ email, password: 'short', name: 'A' })).rejects.toMatchObject(
        { code: 'VALIDATION_ERROR', details: { field: 'password' } },
      );
      await expect(made.auth.signUp({ email, password: PASSWORD, name: '' })).rejects.toMatchObject(
        { code: 'VALIDATION_ERROR', details: { field: 'name' } },
      );
    }
  });

  it('the notice goes to no disabled account', async () => {
    const made = makeMailAuth(required);
    const owner = await registerUser(made.auth, 'ada@example.com');
    await made.auth.disableUser(owner.id);
    await made.auth.signUp({ email: 'ada@example.com', password: PASSWORD, name: 'M' });
    await made.auth.mail.flush();
    expect(mailsTo(made.sent, 'ada@example.com', 'registration_notice')).toHaveLength(0);
  });
});
