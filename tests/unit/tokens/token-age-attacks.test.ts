import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { decodeParts, HMAC_SECRET, reasonOf, refusal, tokenSetup } from './fixtures.js';

const TTL_S = 15 * 60;
const TOLERANCE_S = 30;
const YEAR_S = 365 * 86_400;

/**
 * A genuine session, plus a way to mint tokens for it with any `iat`/`exp`, signed with the
 * instance's real key: what an attacker holding a leaked key, or a misconfigured issuer, makes.
 */
async function session(options: Parameters<typeof tokenSetup>[0] = {}) {
  const ed25519 = generateKeyPairSync('ed25519');
  const setup = tokenSetup(
    { accessTtl: '15m', clockTolerance: '30s', ...options },
    {
      keys: [
        { kid: 'hs-1', alg: 'HS256', key: HMAC_SECRET },
        { kid: 'ed-1', alg: 'EdDSA', key: ed25519.privateKey },
      ],
    },
  );
  const { token, sessionId } = await setup.service.startSession(setup.user);
  const claims = decodeParts(token).claims;
  const nowS = Math.floor(setup.clock.now() / 1000);
  async function mint(
    { iat, exp }: { iat: number; exp: number },
    alg: 'HS256' | 'EdDSA' = 'HS256',
  ) {
    const { sub, email, role, sid, jti, iss, aud } = claims as Record<string, string>;
    return new SignJWT({ email, role, sid })
      .setProtectedHeader({ alg, kid: alg === 'HS256' ? 'hs-1' : 'ed-1', typ: 'at+jwt' })
      .setSubject(sub!)
      .setJti(jti!)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setIssuer(iss!)
      .setAudience(aud!)
      .sign(alg === 'HS256' ? new TextEncoder().encode(HMAC_SECRET) : ed25519.privateKey);
  }
  return { ...setup, token, sessionId, claims, nowS, mint };
}

async function expectInvalid(verify: Promise<unknown>, reason: string) {
  const err = await refusal(verify);
  expect(err.code).toBe('TOKEN_INVALID');
  expect(reasonOf(err)).toBe(reason);
}

describe('access token age attacks', () => {
  for (const alg of ['HS256', 'EdDSA'] as const) {
    it(`a token signed with the real ${alg} key whose exp is one year ahead is TOKEN_INVALID (lifetime_too_long)`, async () => {
      const { service, nowS, mint } = await session();
      const forged = await mint({ iat: nowS, exp: nowS + YEAR_S }, alg);
      await expectInvalid(service.verifyAccessToken(forged), 'lifetime_too_long');
    });
  }

  it('a token with iat 2×TTL in the past and exp in the future is refused (too_old)', async () => {
    const { service, nowS, mint } = await session();
    const forged = await mint({ iat: nowS - 2 * TTL_S, exp: nowS + 60 });
    await expectInvalid(service.verifyAccessToken(forged), 'too_old');
  });

  it('a token whose exp - iat is the access TTL plus 1 s is refused (lifetime_too_long)', async () => {
    const { service, nowS, mint } = await session();
    const forged = await mint({ iat: nowS, exp: nowS + TTL_S + 1 });
    await expectInvalid(service.verifyAccessToken(forged), 'lifetime_too_long');
  });

  it('the lifetime gets no clock tolerance: exp - iat = TTL + tolerance is refused', async () => {
    const { service, nowS, mint } = await session();
    const forged = await mint({ iat: nowS, exp: nowS + TTL_S + TOLERANCE_S });
    await expectInvalid(service.verifyAccessToken(forged), 'lifetime_too_long');
  });

  it('a token whose exp - iat is exactly the access TTL is accepted', async () => {
    const { service, nowS, mint } = await session();
    const token = await mint({ iat: nowS, exp: nowS + TTL_S });
    await expect(service.verifyAccessToken(token)).resolves.toMatchObject({ userId: 'user-1' });
  });

  it('a normal token passes 1 ms before iat + TTL + tolerance and is refused at it', async () => {
    const { service, clock, token, claims } = await session({ verifiedCacheSize: 0 });
    const iatMs = (claims['iat'] as number) * 1000;
    expect(claims['exp']).toBe((claims['iat'] as number) + TTL_S);
    clock.set(iatMs + (TTL_S + TOLERANCE_S) * 1000 - 1);
    await expect(service.verifyAccessToken(token)).resolves.toMatchObject({ userId: 'user-1' });
    clock.set(iatMs + (TTL_S + TOLERANCE_S) * 1000);
    expect((await refusal(service.verifyAccessToken(token))).code).toBe('TOKEN_EXPIRED');
  });

  it('a token from an issuer whose clock runs ahead by less than the tolerance is accepted', async () => {
    const { service, nowS, mint } = await session();
    const token = await mint({ iat: nowS + 20, exp: nowS + 20 + TTL_S });
    await expect(service.verifyAccessToken(token)).resolves.toMatchObject({ userId: 'user-1' });
  });

  it('a cached token is refused at iat + TTL + tolerance on a hit, exactly like a miss', async () => {
    const { service, clock, token, claims } = await session();
    await service.verifyAccessToken(token); // now in the verified-token cache
    const limit = ((claims['iat'] as number) + TTL_S + TOLERANCE_S) * 1000;
    clock.set(limit - 1);
    await expect(service.verifyAccessToken(token)).resolves.toMatchObject({ userId: 'user-1' });
    clock.set(limit);
    expect((await refusal(service.verifyAccessToken(token))).code).toBe('TOKEN_EXPIRED');
  });

  it('a year-long token is refused on every presentation (never enters the verified-token cache)', async () => {
    const { service, nowS, mint } = await session();
    const forged = await mint({ iat: nowS, exp: nowS + YEAR_S });
    await expectInvalid(service.verifyAccessToken(forged), 'lifetime_too_long');
    await expectInvalid(service.verifyAccessToken(forged), 'lifetime_too_long');
  });

  it('a token minted by an instance with a longer accessTtl is refused where the TTL is shorter', async () => {
    const long = await session({ accessTtl: '1h' });
    const { token } = await long.service.startSession(long.user);
    // Same key, same store: only the TTL differs.
    const short = tokenSetup(
      { accessTtl: '15m', clockTolerance: '30s' },
      { keys: [{ kid: 'hs-1', alg: 'HS256', key: HMAC_SECRET }] },
    );
    const shortService = short.service;
    await expectInvalid(shortService.verifyAccessToken(token), 'lifetime_too_long');
  });
});
