import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeEmail } from '../../../src/index.js';
import { makeAuth, PASSWORD } from '../../helpers/auth.js';

describe('register', () => {
  it('creates a user with the default role and returns it without the hash', async () => {
    const { auth } = makeAuth();
    const user = await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    expect(user).toEqual({
      id: expect.any(String),
      email: 'ada@example.com',
      name: 'Ada',
      role: 'user',
      emailVerified: false,
    });
    expect(Object.keys(user)).not.toContain('passwordHash');
  });

  it('uses the configured default role', async () => {
    const { auth } = makeAuth({ defaultRole: 'member' });
    const user = await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    expect(user.role).toBe('member');
  });

  it('trims and lower-cases the email', async () => {
    const { auth } = makeAuth();
    const user = await auth.register({
      email: '  Ada@EXAMPLE.com  ',
      password: PASSWORD,
      name: 'Ada',
    });
    expect(user.email).toBe('ada@example.com');
  });

  it('refuses a duplicate email in another case with EMAIL_TAKEN', async () => {
    const { auth } = makeAuth();
    await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    await expect(
      auth.register({ email: 'ADA@example.COM', password: PASSWORD, name: 'Ada 2' }),
    ).rejects.toMatchObject({ code: 'EMAIL_TAKEN', status: 409 });
  });

  it.each([
    '',
    'plainaddress',
    'a@b',
    '@example.com',
    'a b@example.com',
    'a@exa mple.com',
    `${'a'.repeat(250)}@example.com`,
  ])('refuses the invalid email %j with VALIDATION_ERROR', async (email) => {
    const { auth } = makeAuth();
    await expect(auth.register({ email, password: PASSWORD, name: 'A' })).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { field: 'email' },
    });
  });

  it('applies the password policy', async () => {
    const { auth } = makeAuth({ passwords: { minLength: 20 } });
    await expect(
      auth.register({ email: 'ada@example.com', password: 'mauve lantern orbit', name: 'Ada' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { field: 'password', reason: 'too_short' },
    });
  });

  it('lets the check hook refuse a password, given the email and name', async () => {
    const { auth } = makeAuth({
      passwords: {
        check: (pw, ctx) => (ctx.name && pw.includes(ctx.name) ? 'contains your name' : null),
      },
    });
    await expect(
      auth.register({ email: 'ada@example.com', password: 'hello-Ada-hello', name: 'Ada' }),
    ).rejects.toMatchObject({ message: 'Password refused: contains your name' });
  });

  it.each([undefined, '', '   ', 'x'.repeat(101), 'bad\u0000name', 42])(
    'refuses the name %j',
    async (name) => {
      const { auth } = makeAuth();
      await expect(
        auth.register({ email: 'ada@example.com', password: PASSWORD, name: name as string }),
      ).rejects.toMatchObject({ code: 'VALIDATION_ERROR', details: { field: 'name' } });
    },
  );
});

describe('password change', () => {
  it('checks the current password, rehashes, and the old password stops working', async () => {
    const { auth } = makeAuth();
    const user = await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    await auth.changePassword(user.id, {
      currentPassword: PASSWORD,
      newPassword: 'a whole new secret',
    });
    await expect(
      auth.login({ email: 'ada@example.com', password: PASSWORD }),
    ).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
    await expect(
      auth.login({ email: 'ada@example.com', password: 'a whole new secret' }),
    ).resolves.toBeTruthy();
  });

  it('refuses a wrong current password with INVALID_CREDENTIALS', async () => {
    const { auth } = makeAuth();
    const user = await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    await expect(
      auth.changePassword(user.id, {
        currentPassword: 'not the password',
        newPassword: 'a whole new secret',
      }),
    ).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it('applies the password policy to the new password', async () => {
    const { auth } = makeAuth();
    const user = await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    await expect(
      auth.changePassword(user.id, { currentPassword: PASSWORD, newPassword: 'short' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_ERROR', details: { field: 'password' } });
    await expect(
      auth.changePassword(user.id, { currentPassword: PASSWORD, newPassword: 'y'.repeat(73) }),
    ).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });
});

describe('user management', () => {
  it('gets, renames, re-roles and deletes a user; unknown ids are NOT_FOUND', async () => {
    const { auth } = makeAuth();
    const user = await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    expect(await auth.getUser(user.id)).toEqual(user);
    expect((await auth.updateUser(user.id, { name: 'Countess' })).name).toBe('Countess');
    expect((await auth.setRole(user.id, 'admin')).role).toBe('admin');
    expect(await auth.findUserByEmail('ADA@example.com')).toMatchObject({ id: user.id });
    await auth.deleteUser(user.id);
    await expect(auth.getUser(user.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(auth.deleteUser(user.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(auth.updateUser(user.id, { name: 'x' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(auth.setRole(user.id, 'user')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(auth.disableUser(user.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await auth.findUserByEmail('ada@example.com')).toBeNull();
  });
});

describe('email normalisation properties', () => {
  const local = fc.stringMatching(/^[a-zA-Z0-9._%+-]{1,20}$/);
  const domain = fc.stringMatching(/^[a-zA-Z0-9]{1,10}\.[a-zA-Z]{2,6}$/);
  const spaces = fc.stringMatching(/^[ \t\n]{0,3}$/);

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (input) => {
        const once = normalizeEmail(input);
        return once === null || normalizeEmail(once) === once;
      }),
    );
  });

  it('ignores case and surrounding whitespace of a valid address', () => {
    fc.assert(
      fc.property(local, domain, spaces, spaces, (l, d, before, after) => {
        const email = `${l}@${d}`;
        const expected = email.toLowerCase();
        return (
          normalizeEmail(`${before}${email.toUpperCase()}${after}`) === expected &&
          normalizeEmail(email) === expected
        );
      }),
    );
  });

  it('never returns whitespace at the ends, upper case, or a string without exactly one @', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (input) => {
        const out = normalizeEmail(input);
        return (
          out === null ||
          (out === out.trim() && out === out.toLowerCase() && out.split('@').length === 2)
        );
      }),
    );
  });
});
