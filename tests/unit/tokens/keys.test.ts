import { createSecretKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/errors.js';
import { createKeySet, type TokenKeyInput } from '../../../src/tokens/keys.js';
import { resolveTokenOptions } from '../../../src/tokens/options.js';
import { decodeParts, HMAC_SECRET, reasonOf, refusal, tokenSetup } from './fixtures.js';

const ed25519 = generateKeyPairSync('ed25519');
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });

function refusedKey(alg: TokenKeyInput['alg'], key: unknown): string {
  try {
    createKeySet([{ kid: 'k1', alg, key }]);
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).code).toBe('INVALID_CONFIG');
    return (err as AuthError).message;
  }
  throw new Error('the key was accepted');
}

describe('key validation at construction', () => {
  it('refuses an HS256 secret of 31 bytes', () => {
    expect(refusedKey('HS256', 'x'.repeat(31))).toBe(
      'Invalid token keys: keys.0.key: is too short (31 bytes): HS256 needs a secret of at least 32 bytes',
    );
  });

  it('refuses an HS256 Uint8Array secret of 16 bytes', () => {
    expect(refusedKey('HS256', new Uint8Array(16))).toMatch(/too short \(16 bytes\)/);
  });

  it('counts an HS256 string secret in UTF-8 bytes', () => {
    // 16 two-byte characters: 32 bytes.
    expect(() => createKeySet([{ kid: 'k1', alg: 'HS256', key: 'é'.repeat(16) }])).not.toThrow();
  });

  it('accepts a secret KeyObject of 32 bytes', () => {
    const key = createSecretKey(new Uint8Array(32).fill(1));
    expect(() => createKeySet([{ kid: 'k1', alg: 'HS256', key }])).not.toThrow();
  });

  for (const [what, value] of [
    ['undefined', undefined],
    ['null', null],
    ['an empty string', ''],
    ['false', false],
    ['0', 0],
  ] as const) {
    it(`refuses a missing secret (${what})`, () => {
      expect(refusedKey('HS256', value)).toMatch(/keys\.0\.key: is missing: HS256 needs a secret/);
    });
    it(`refuses a missing EdDSA key (${what})`, () => {
      expect(refusedKey('EdDSA', value)).toMatch(
        /keys\.0\.key: is missing: EdDSA needs a KeyObject/,
      );
    });
  }

  it('refuses a PEM string for an asymmetric algorithm', () => {
    const pem = ed25519.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(refusedKey('EdDSA', pem)).toMatch(
      /is a string, which is not a key for EdDSA: pass a KeyObject \(e\.g\. crypto\.createPrivateKey\(pem\)\)/,
    );
  });

  it('refuses a public key PEM as an HS256 secret', () => {
    const pem = rsa2048.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(refusedKey('HS256', pem)).toMatch(/is a PEM key, not an HS256 secret/);
  });

  it('refuses a plain object for an asymmetric algorithm', () => {
    expect(refusedKey('RS256', {})).toMatch(/is not a key \(got a plain object\)/);
  });

  it('refuses a JWK object (an object, not a key)', () => {
    const jwk = ed25519.privateKey.export({ format: 'jwk' });
    expect(refusedKey('EdDSA', jwk)).toMatch(/is not a key \(got a plain object\).*format: 'jwk'/);
  });

  it('refuses an object as an HS256 secret', () => {
    expect(refusedKey('HS256', { secret: HMAC_SECRET })).toMatch(
      /is not a key \(got a plain object\)/,
    );
  });

  it('refuses bytes for an asymmetric algorithm', () => {
    expect(refusedKey('ES256', new Uint8Array(64))).toMatch(/is not a key \(got a Uint8Array\)/);
  });

  it('refuses a 1024-bit RSA key', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(refusedKey('RS256', weak.privateKey)).toMatch(
      /is a 1024-bit RSA key: RS256 needs at least 2048 bits/,
    );
  });

  it('refuses a key of another algorithm (Ed25519 for ES256, P-384 for ES256, RSA for EdDSA)', () => {
    expect(refusedKey('ES256', ed25519.privateKey)).toMatch(/ES256 needs a P-256 EC key/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    expect(refusedKey('ES256', p384.privateKey)).toMatch(/is a ec secp384r1 key/);
    expect(refusedKey('EdDSA', rsa2048.privateKey)).toMatch(/EdDSA needs an Ed25519 key/);
  });

  it('refuses a private key as an HS256 secret and a secret as an RS256 key', () => {
    expect(refusedKey('HS256', ed25519.privateKey)).toMatch(
      /is a private key: HS256 needs a secret/,
    );
    const secret = createSecretKey(new Uint8Array(32));
    expect(refusedKey('RS256', secret)).toMatch(
      /is a secret key: RS256 needs a private or public key/,
    );
  });

  it('refuses a duplicated kid', () => {
    expect(() =>
      createKeySet([
        { kid: 'k1', alg: 'HS256', key: HMAC_SECRET },
        { kid: 'k1', alg: 'EdDSA', key: ed25519.privateKey },
      ]),
    ).toThrow('keys.1.kid: "k1" is used twice');
  });

  it('refuses a kid with characters outside A-Z a-z 0-9 . _ ~ -', () => {
    expect(() => createKeySet([{ kid: '../k', alg: 'HS256', key: HMAC_SECRET }])).toThrow(
      'keys.0.kid: must be 1 to 128 characters',
    );
  });

  it('refuses a set where no key can sign', () => {
    expect(() => createKeySet([{ kid: 'old', alg: 'EdDSA', key: ed25519.publicKey }])).toThrow(
      /no key can sign/,
    );
  });

  it('refuses a signingKid that is unknown or a public key', () => {
    const keys: TokenKeyInput[] = [
      { kid: 'new', alg: 'EdDSA', key: ed25519.privateKey },
      { kid: 'old', alg: 'EdDSA', key: generateKeyPairSync('ed25519').publicKey },
    ];
    expect(() => createKeySet(keys, 'nope')).toThrow(/signingKid "nope" is not a configured kid/);
    expect(() => createKeySet(keys, 'old')).toThrow(/signingKid "old" is a public key/);
  });

  it('names the option in createAuth-style validation', () => {
    expect(() =>
      resolveTokenOptions({ keys: [{ kid: 'k1', alg: 'HS256', key: 'short' }] }),
    ).toThrow(
      'Invalid token options: tokens.keys.0.key: is too short (5 bytes): HS256 needs a secret of at least 32 bytes',
    );
  });

  it('refuses an unknown algorithm', () => {
    expect(() =>
      resolveTokenOptions({ keys: [{ kid: 'k1', alg: 'HS384' as 'HS256', key: HMAC_SECRET }] }),
    ).toThrow(/tokens\.keys\.0\.alg: must be one of HS256, EdDSA, ES256, RS256/);
  });
});

describe('token options', () => {
  it('refuses a clock tolerance above 60 s', () => {
    expect(() => resolveTokenOptions({ clockTolerance: '61s' })).toThrow(
      /tokens\.clockTolerance: must be at most 60s/,
    );
  });

  it('refuses a revocation cache TTL above 60 s (never unbounded)', () => {
    expect(() => resolveTokenOptions({ revocationCacheTtl: '2m' })).toThrow(
      /tokens\.revocationCacheTtl: must be at most 60s/,
    );
  });

  it('has the documented defaults', () => {
    expect(resolveTokenOptions({})).toEqual({
      issuer: 'gatehouse',
      audience: 'gatehouse',
      accessTtl: 900_000,
      refreshIdleTtl: 30 * 86_400_000,
      refreshAbsoluteTtl: 90 * 86_400_000,
      clockTolerance: 30_000,
      verifiedCacheSize: 10_000,
      // Unset: the token service takes 30 s for a store with a revocation watch, 0 without one.
      revocationCacheTtl: undefined,
      // The refresh reuse grace is off unless asked for.
      reuseGrace: 0,
    });
  });

  it('refuses an unknown option', () => {
    expect(() => resolveTokenOptions({ secret: 'x' } as never)).toThrow(/Unrecognized key/);
  });
});

describe('algorithms', () => {
  const cases: [string, TokenKeyInput][] = [
    ['HS256', { kid: 'k', alg: 'HS256', key: HMAC_SECRET }],
    ['EdDSA', { kid: 'k', alg: 'EdDSA', key: ed25519.privateKey }],
    ['ES256', { kid: 'k', alg: 'ES256', key: p256.privateKey }],
    ['RS256', { kid: 'k', alg: 'RS256', key: rsa2048.privateKey }],
  ];
  for (const [alg, key] of cases) {
    it(`signs and verifies with ${alg}`, async () => {
      const { service, user } = tokenSetup({}, { keys: [key] });
      const { token } = await service.startSession(user);
      expect(decodeParts(token).header).toEqual({ alg, kid: 'k', typ: 'at+jwt' });
      await expect(service.verifyAccessToken(token)).resolves.toMatchObject({ userId: 'user-1' });
    });
  }

  it('accepts a non-extractable WebCrypto CryptoKey', async () => {
    const pair = (await webcrypto.subtle.generateKey({ name: 'Ed25519' }, false, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const { service, user } = tokenSetup(
      {},
      { keys: [{ kid: 'wc', alg: 'EdDSA', key: pair.privateKey }] },
    );
    const { token } = await service.startSession(user);
    await expect(service.verifyAccessToken(token)).resolves.toMatchObject({ userId: 'user-1' });
  });
});

describe('key rotation and JWKS', () => {
  it('keeps verifying tokens of the previous key until that key is removed', async () => {
    const before = tokenSetup({}, { keys: [{ kid: 'k1', alg: 'EdDSA', key: ed25519.privateKey }] });
    const { token } = await before.service.startSession(before.user);
    const next = generateKeyPairSync('ed25519');

    // Rotated: k2 signs, k1 stays as a verification-only public key.
    const { createTokenService } = await import('../../../src/tokens/service.js');
    const rotated = (keys: TokenKeyInput[]) =>
      createTokenService({
        options: resolveTokenOptions({ keys, clockTolerance: 0 }),
        store: before.store,
        users: { findById: async () => before.user },
        clock: before.clock,
        random: { bytes: (n) => new Uint8Array(n).map(() => Math.floor(Math.random() * 256)) },
        audit: { emit() {} },
      });
    const during = rotated([
      { kid: 'k2', alg: 'EdDSA', key: next.privateKey },
      { kid: 'k1', alg: 'EdDSA', key: ed25519.publicKey },
    ]);
    await expect(during.verifyAccessToken(token)).resolves.toMatchObject({ userId: 'user-1' });
    const fresh = await during.signAccessToken(before.user, 'sid');
    expect(decodeParts(fresh.token).header['kid']).toBe('k2');

    // Removed: k1 is gone, its tokens fail.
    const after = rotated([{ kid: 'k2', alg: 'EdDSA', key: next.privateKey }]);
    expect(reasonOf(await refusal(after.verifyAccessToken(token)))).toBe('unknown_kid');
  });

  it('publishes the signing key first, then the verification keys, public members only', () => {
    const next = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keys = createKeySet([
      { kid: 'old', alg: 'EdDSA', key: ed25519.publicKey },
      { kid: 'hs', alg: 'HS256', key: HMAC_SECRET },
      { kid: 'new', alg: 'ES256', key: next.privateKey },
      { kid: 'rsa', alg: 'RS256', key: rsa2048.privateKey },
    ]);
    expect(keys.signing.kid).toBe('hs');
    const jwks = keys.jwks;
    expect(jwks.keys.map((k) => k.kid)).toEqual(['old', 'new', 'rsa']);
    const [ed, ec, rs] = jwks.keys;
    expect(Object.keys(ed!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    expect(Object.keys(ec!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(Object.keys(rs!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(JSON.stringify(jwks)).not.toContain(Buffer.from(HMAC_SECRET).toString('base64url'));
  });

  it('orders the JWKS with signingKid first', () => {
    const keys = createKeySet(
      [
        { kid: 'a', alg: 'EdDSA', key: ed25519.privateKey },
        { kid: 'b', alg: 'ES256', key: p256.privateKey },
      ],
      'b',
    );
    expect(keys.jwks.keys.map((k) => k.kid)).toEqual(['b', 'a']);
  });

  it('publishes an empty JWKS for an HS256-only set', () => {
    expect(createKeySet([{ kid: 'k', alg: 'HS256', key: HMAC_SECRET }]).jwks).toEqual({ keys: [] });
  });
});
