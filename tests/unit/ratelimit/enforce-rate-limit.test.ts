import { describe, expect, it } from 'vitest';
import { rateLimitKeyOfIp } from '../../../src/http/request.js';
import { makeAuth, PASSWORD, registerUser } from '../../helpers/auth.js';

describe('auth.enforceRateLimit (your own login route)', () => {
  it('password spraying through an app route that calls auth.login: the 6th attempt from one IP is RATE_LIMITED before any password check', async () => {
    const { auth, hasher, events } = makeAuth();
    await registerUser(auth);
    const key = rateLimitKeyOfIp('203.0.113.7');
    const verifiesBefore = hasher.verifyCalls;
    for (let i = 0; i < 5; i++) {
      await auth.enforceRateLimit('login', key, { ip: '203.0.113.7' });
      await auth
        .login({ email: `victim${i}@example.com`, password: PASSWORD }, { ip: '203.0.113.7' })
        .catch(() => {});
    }
    const sixth = await auth.enforceRateLimit('login', key, { ip: '203.0.113.7' }).catch((e) => e);
    expect(sixth).toMatchObject({ code: 'RATE_LIMITED' });
    expect(sixth.retryAfter).toBeGreaterThan(0);
    expect(hasher.verifyCalls - verifiesBefore).toBe(5);
    expect(events.filter((e) => e.event === 'RATE_LIMITED')).toHaveLength(1);
    // Another client is not affected.
    await expect(
      auth.enforceRateLimit('login', rateLimitKeyOfIp('198.51.100.1')),
    ).resolves.toBeUndefined();
  });
});
