import { describe, expect, it } from 'vitest';
import { ensureAccount } from '../../examples/common/seed.js';
import { type AuthError, seedPolicy } from '../../src/index.js';
import { makeAuth, PASSWORD } from '../helpers/auth.js';

async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (err) {
    return err as AuthError;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** An admin logged in on two devices, plus another user to act upon. */
async function admin(options: Parameters<typeof makeAuth>[0] = {}) {
  const made = makeAuth({ policy: seedPolicy, ...options });
  const { auth } = made;
  const user = await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
  const other = await auth.register({ email: 'bob@example.com', password: PASSWORD, name: 'Bob' });
  await auth.setRole(user.id, 'admin');
  const laptop = await auth.login({ email: 'ada@example.com', password: PASSWORD });
  const phone = await auth.login({ email: 'ada@example.com', password: PASSWORD });
  made.events.length = 0;
  return { ...made, user, other, laptop, phone };
}

describe('auth.setRole', () => {
  it("demoted admin's existing access token stops working at once after setRole", async () => {
    const { auth, user, other, laptop, phone } = await admin();
    const before = await auth.verifyAccessToken(laptop.token);
    expect(before.role).toBe('admin');
    expect(auth.can(before, 'users:delete', other)).toBe(true);

    await auth.setRole(user.id, 'user', { actorId: 'root' });

    for (const session of [laptop, phone]) {
      const err = await refusal(auth.verifyAccessToken(session.token));
      expect(err.code).toBe('TOKEN_INVALID');
      expect((err.cause as Error).message).toBe('session_ended');
      expect((await refusal(auth.refresh(session.refreshToken))).code).toBe('TOKEN_INVALID');
    }
    // Logging in again gives a token of the new role.
    const again = await auth.login({ email: 'ada@example.com', password: PASSWORD });
    const after = await auth.verifyAccessToken(again.token);
    expect(after.role).toBe('user');
    expect(auth.can(after, 'users:delete', other)).toBe(false);
  });

  it('emits ROLE_CHANGED exactly once with the old and new role and the actor, then SESSIONS_REVOKED (role_changed)', async () => {
    const { auth, user, events } = await admin();
    await auth.setRole(user.id, 'user', { actorId: 'root', ip: '203.0.113.7' });
    expect(events.map((e) => e.event)).toEqual(['ROLE_CHANGED', 'SESSIONS_REVOKED']);
    expect(events[0]).toMatchObject({
      event: 'ROLE_CHANGED',
      status: 'success',
      userId: user.id,
      ip: '203.0.113.7',
      metadata: { oldRole: 'admin', newRole: 'user', actorId: 'root' },
    });
    expect(events[1]?.metadata).toEqual({ reason: 'role_changed', count: 2 });
  });

  it('records no actorId when none is given', async () => {
    const { auth, user, events } = await admin();
    await auth.setRole(user.id, 'user');
    expect(events[0]?.metadata).toEqual({ oldRole: 'admin', newRole: 'user' });
  });

  it('setRole to an undefined role is refused (VALIDATION_ERROR unknown_role) and changes nothing', async () => {
    const { auth, user, laptop, events } = await admin();
    const err = await refusal(auth.setRole(user.id, 'superadmin'));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.details).toEqual({ field: 'role', reason: 'unknown_role' });
    expect(err.message).toContain('superadmin');
    expect((await auth.getUser(user.id)).role).toBe('admin');
    expect(events).toEqual([]);
    await expect(auth.verifyAccessToken(laptop.token)).resolves.toMatchObject({ role: 'admin' });
  });

  it.each([
    ['an empty role', ''],
    ['a non-string role', 42],
    ['a prototype key as role', '__proto__'],
  ])('setRole to %s is refused with VALIDATION_ERROR', async (_what, role) => {
    const { auth, user } = await admin();
    const err = await refusal(auth.setRole(user.id, role as string));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.details?.['field']).toBe('role');
    expect((await auth.getUser(user.id)).role).toBe('admin');
  });

  it('without a policy any non-empty role name is accepted', async () => {
    const { auth } = makeAuth();
    const user = await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'A' });
    expect((await auth.setRole(user.id, 'auditor')).role).toBe('auditor');
  });

  it('setting the role a user already has changes nothing: no event, no session ends', async () => {
    const { auth, user, laptop, events } = await admin();
    expect((await auth.setRole(user.id, 'admin')).role).toBe('admin');
    expect(events).toEqual([]);
    await expect(auth.verifyAccessToken(laptop.token)).resolves.toMatchObject({ role: 'admin' });
  });

  it('revokeSessions: false keeps the sessions; the new role arrives with the next refresh', async () => {
    const { auth, user, laptop, events } = await admin();
    await auth.setRole(user.id, 'user', { revokeSessions: false });
    expect(events.map((e) => e.event)).toEqual(['ROLE_CHANGED']);
    await expect(auth.verifyAccessToken(laptop.token)).resolves.toMatchObject({ role: 'admin' });
    const next = await auth.refresh(laptop.refreshToken);
    await expect(auth.verifyAccessToken(next.token)).resolves.toMatchObject({ role: 'user' });
  });

  it('the example seeding, run at every start, changes a role once and never ends sessions afterwards', async () => {
    const { auth, events } = makeAuth({ policy: seedPolicy });
    const account = { email: 'root@example.com', password: PASSWORD, name: 'Root', role: 'admin' };
    await ensureAccount(auth, account);
    const session = await auth.login({ email: account.email, password: PASSWORD });
    await ensureAccount(auth, account);
    await ensureAccount(auth, account);
    expect(events.filter((e) => e.event === 'ROLE_CHANGED')).toHaveLength(1);
    await expect(auth.verifyAccessToken(session.token)).resolves.toMatchObject({ role: 'admin' });
  });
});

describe('auth.updateUser', () => {
  it('emits USER_UPDATED exactly once with the changed field names, never their values', async () => {
    const { auth, user, events } = await admin();
    await auth.updateUser(user.id, { name: 'Countess of Lovelace' }, { actorId: user.id });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      event: 'USER_UPDATED',
      status: 'success',
      userId: user.id,
      metadata: { fields: ['name'], actorId: user.id },
    });
    expect(JSON.stringify(events[0])).not.toContain('Countess');
  });

  it('a rename to the same name emits nothing', async () => {
    const { auth, user, events } = await admin();
    await auth.updateUser(user.id, { name: 'Ada' });
    expect(events).toEqual([]);
  });

  it('a refused update emits nothing', async () => {
    const { auth, user, events } = await admin();
    await refusal(auth.updateUser(user.id, { name: '' }));
    await refusal(auth.updateUser('no-such-user', { name: 'X' }));
    expect(events).toEqual([]);
  });
});
