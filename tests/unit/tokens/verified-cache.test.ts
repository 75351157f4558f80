import { describe, expect, it, vi } from 'vitest';
import { decodeParts, reasonOf, refusal, tokenSetup } from './fixtures.js';

// Counts signature checks (node:crypto, through each key's verifier): a cache hit must not
// reach them.
const signatureChecks = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../../src/tokens/jws.js', async (importOriginal) => {
  const jws = await importOriginal<typeof import('../../../src/tokens/jws.js')>();
  return {
    ...jws,
    signatureVerifier: (...args: Parameters<typeof jws.signatureVerifier>) => {
      const check = jws.signatureVerifier(...args);
      return (...input: Parameters<typeof check>) => {
        signatureChecks.count++;
        return check(...input);
      };
    },
  };
});

async function cached(options: Parameters<typeof tokenSetup>[0] = {}) {
  const setup = tokenSetup(options);
  const { token, sessionId } = await setup.service.startSession(setup.user);
  const exp = decodeParts(token).claims['exp'] as number;
  signatureChecks.count = 0;
  return { ...setup, token, sessionId, expMs: exp * 1000 };
}

describe('verified-token cache', () => {
  it('a hit skips the signature check', async () => {
    const { service, token } = await cached();
    await service.verifyAccessToken(token);
    await service.verifyAccessToken(token);
    await service.verifyAccessToken(token);
    expect(signatureChecks.count).toBe(1);
  });

  it('can be switched off (verifiedCacheSize 0): every verify checks the signature', async () => {
    const { service, token } = await cached({ verifiedCacheSize: 0 });
    await service.verifyAccessToken(token);
    await service.verifyAccessToken(token);
    expect(signatureChecks.count).toBe(2);
  });

  it('is bounded by verifiedCacheSize (least recently used evicted)', async () => {
    const { service, user, token } = await cached({ verifiedCacheSize: 1 });
    const { token: other } = await service.startSession(user);
    await service.verifyAccessToken(token);
    await service.verifyAccessToken(other);
    await service.verifyAccessToken(token);
    expect(signatureChecks.count).toBe(3);
  });

  it('a hit reads the clock once: the token expiry and the cached session state are judged at the same instant', async () => {
    const { service, token, clock } = await cached();
    await service.verifyAccessToken(token);
    const now = vi.spyOn(clock, 'now');
    const principal = service.verifyCachedAccessToken(token);
    expect(principal).not.toBeInstanceOf(Promise);
    expect(principal).toMatchObject({ userId: 'user-1' });
    expect(now).toHaveBeenCalledTimes(1);
    now.mockRestore();
  });

  it('a hit still refuses an expired token', async () => {
    const { service, token, clock, expMs } = await cached();
    await service.verifyAccessToken(token);
    clock.set(expMs);
    const err = await refusal(service.verifyAccessToken(token));
    expect(err.code).toBe('TOKEN_EXPIRED');
    expect(signatureChecks.count).toBe(1);
  });

  it('a hit applies the clock tolerance exactly like a miss', async () => {
    const hit = await cached({ clockTolerance: '30s' });
    await hit.service.verifyAccessToken(hit.token);
    const miss = await cached({ clockTolerance: '30s', verifiedCacheSize: 0 });
    for (const setup of [hit, miss]) {
      setup.clock.set(setup.expMs + 29_999);
      await expect(setup.service.verifyAccessToken(setup.token)).resolves.toHaveProperty('userId');
      setup.clock.set(setup.expMs + 30_000);
      expect((await refusal(setup.service.verifyAccessToken(setup.token))).code).toBe(
        'TOKEN_EXPIRED',
      );
    }
  });

  it('a hit still refuses a token whose session was revoked', async () => {
    const { service, token, sessionId } = await cached();
    await service.verifyAccessToken(token);
    await service.logout(sessionId);
    expect(reasonOf(await refusal(service.verifyAccessToken(token)))).toBe('session_ended');
    expect(signatureChecks.count).toBe(1);
  });

  it('a hit still refuses a token of a session revoked directly in the store', async () => {
    const { service, token, sessionId, store, clock } = await cached();
    await service.verifyAccessToken(token);
    await store.revokeSession(sessionId, 'reuse', clock.now());
    expect(reasonOf(await refusal(service.verifyAccessToken(token)))).toBe('session_ended');
  });

  it('is keyed by the exact token string: a different string is verified in full', async () => {
    const { service, token } = await cached();
    await service.verifyAccessToken(token);
    const [h, p] = token.split('.');
    const tampered = `${h}.${p}.${'A'.repeat(43)}`;
    expect(reasonOf(await refusal(service.verifyAccessToken(tampered)))).toBe('bad_signature');
    expect(signatureChecks.count).toBe(2);
  });

  it('does not cache a refused token', async () => {
    const { service, token, sessionId } = await cached();
    await service.logout(sessionId);
    await refusal(service.verifyAccessToken(token));
    await refusal(service.verifyAccessToken(token));
    expect(signatureChecks.count).toBe(2);
  });
});
