import { describe, expect, it } from 'vitest';
import { internalsOf } from '../../../src/internal/handle.js';
import { makeAuth, PASSWORD } from '../../helpers/auth.js';

const ctx = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 test' };

async function scenario() {
  const setup = makeAuth({ lockout: { maxAttempts: 2 } });
  const { auth } = setup;
  const user = await auth.register(
    { email: 'ada@example.com', password: PASSWORD, name: 'Ada' },
    ctx,
  );
  await auth.login({ email: 'ada@example.com', password: PASSWORD }, ctx);
  await auth.changePassword(
    user.id,
    { currentPassword: PASSWORD, newPassword: 'second secret pw' },
    ctx,
  );
  for (let i = 0; i < 3; i++) {
    await auth
      .login({ email: 'ada@example.com', password: `wrong-guess-${i}` }, ctx)
      .catch(() => {});
  }
  await auth.login({ email: 'ghost@example.com', password: 'ghost-password' }, ctx).catch(() => {});
  return { ...setup, user };
}

describe('audit events', () => {
  it('emits each event in the seed format with timestamp, event, status, userId, ip, userAgent and metadata', async () => {
    const { events, user, clock } = await scenario();
    expect(events.map((e) => e.event)).toEqual([
      'USER_REGISTERED',
      'LOGIN_SUCCEEDED',
      'PASSWORD_CHANGED',
      'SESSIONS_REVOKED',
      'LOGIN_FAILED',
      'LOGIN_FAILED',
      'ACCOUNT_LOCKED',
      'LOGIN_FAILED',
      'LOGIN_FAILED',
    ]);
    expect(events[1]).toEqual({
      timestamp: new Date(clock.now()).toISOString(),
      event: 'LOGIN_SUCCEEDED',
      status: 'success',
      userId: user.id,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      metadata: { method: 'password', emailHash: expect.stringMatching(/^[0-9a-f]{32}$/) },
    });
    expect(events[4]).toMatchObject({ status: 'failure', metadata: { reason: 'wrong_password' } });
    expect(events[7]).toMatchObject({ metadata: { reason: 'locked' } });
    expect(events[8]).toMatchObject({ metadata: { reason: 'unknown_user' } });
    expect(events[8]?.userId).toBeUndefined();
  });

  it('never carries a password, a hash or the email in clear (secret leak)', async () => {
    const { events } = await scenario();
    const text = JSON.stringify(events);
    for (const secret of [
      PASSWORD,
      'second secret pw',
      'wrong-guess-0',
      'ghost-password',
      '$fake$',
      'ada@example.com',
      'ghost@example.com',
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('hashes the email with the audit key: stable for one key, different for another', async () => {
    const a = makeAuth({ auditEmailKey: 'first-key-0123456789' });
    const b = makeAuth({ auditEmailKey: 'other-key-0123456789' });
    const hash = (x: typeof a) => internalsOf(x.auth).audit.hashEmail('ada@example.com');
    expect(hash(a)).toBe(hash(a));
    expect(hash(a)).not.toBe(hash(b));
  });

  it('keeps login working when the audit sink throws or rejects', async () => {
    for (const audit of [
      () => {
        throw new Error('sink down');
      },
      () => Promise.reject(new Error('sink down')),
    ]) {
      const errors: unknown[] = [];
      const logger = {
        debug() {},
        info() {},
        warn() {},
        error: (...args: unknown[]) => errors.push(args),
      };
      const { auth } = makeAuth({ audit, logger });
      await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
      await expect(
        auth.login({ email: 'ada@example.com', password: PASSWORD }),
      ).resolves.toBeTruthy();
      await new Promise((r) => setImmediate(r));
      expect(errors.length).toBeGreaterThan(0);
    }
  });
});
