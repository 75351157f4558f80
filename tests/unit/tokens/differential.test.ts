/**
 * Differential tests: the synchronous node:crypto verifier (`AccessTokenCodec.verifySync`) and
 * jose (`compactVerify` through WebCrypto, the verifier gatehouse used before, with the same key
 * and `algorithms: [alg]`) must agree on accept/reject for every token of a large fuzzed set of
 * valid and tampered tokens, for every supported algorithm.
 *
 * The reference is jose for the signature, plus gatehouse's own policy restated here
 * independently (structure, canonical base64url, header allow-list, typ, kid → alg pinning,
 * claims), since jose alone accepts headers and encodings that gatehouse refuses on purpose.
 */
import {
  createHmac,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  randomBytes,
  webcrypto,
} from 'node:crypto';
import fc from 'fast-check';
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AccessTokenCodec, type TokenRejection } from '../../../src/tokens/access-token.js';
import { createKeySet, type TokenAlgorithm, type TokenKeyInput } from '../../../src/tokens/keys.js';
import { HMAC_SECRET, keyPairs, reasonOf, START } from './fixtures.js';

type CryptoKey = webcrypto.CryptoKey;

const ISSUER = 'https://issuer.example';
const AUDIENCE = 'api';
const TTL_MS = 900_000;
const NOW = START + 500; // not on a second boundary: the ms/s conversions are exercised
const NOW_S = Math.floor(NOW / 1000);
const TYP = 'at+jwt';
/** Runs per property; 16 properties per algorithm give well over 2 000 cases each. */
const RUNS = 140;

const ALGS = ['HS256', 'EdDSA', 'ES256', 'RS256'] as const satisfies readonly TokenAlgorithm[];

// --- keys -------------------------------------------------------------------------------------

interface SigningKey {
  kid: string;
  alg: TokenAlgorithm;
  /** The key that signs (secret or private). */
  sign: KeyObject;
}

const pairs = keyPairs();
const second = {
  ed25519: generateKeyPairSync('ed25519'),
  p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
};
/** Keys of each algorithm that are NOT in the key set: an attacker's. */
const attacker: Record<TokenAlgorithm, KeyObject> = {
  HS256: createSecretKey(randomBytes(32)),
  EdDSA: generateKeyPairSync('ed25519').privateKey,
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
};

/** Two configured keys per algorithm (the second one verification-only for the asymmetric ones). */
const configured: Record<TokenAlgorithm, [SigningKey, SigningKey]> = {
  HS256: [
    { kid: 'hs-1', alg: 'HS256', sign: createSecretKey(Buffer.from(HMAC_SECRET)) },
    { kid: 'hs-2', alg: 'HS256', sign: createSecretKey(randomBytes(48)) },
  ],
  EdDSA: [
    { kid: 'ed-1', alg: 'EdDSA', sign: pairs.ed25519.privateKey },
    { kid: 'ed-2', alg: 'EdDSA', sign: second.ed25519.privateKey },
  ],
  ES256: [
    { kid: 'es-1', alg: 'ES256', sign: pairs.p256.privateKey },
    { kid: 'es-2', alg: 'ES256', sign: second.p256.privateKey },
  ],
  RS256: [
    { kid: 'rs-1', alg: 'RS256', sign: pairs.rsa.privateKey },
    { kid: 'rs-2', alg: 'RS256', sign: second.rsa.privateKey },
  ],
};
const allKeys = ALGS.flatMap((alg) => configured[alg]);

function verificationKey(key: SigningKey): KeyObject {
  return key.sign.type === 'private' ? createPublicKey(key.sign) : key.sign;
}

const inputs: TokenKeyInput[] = allKeys.map((key, index) => ({
  kid: key.kid,
  alg: key.alg,
  // The second asymmetric key of each algorithm is configured by its public half only.
  key: index % 2 === 1 && key.alg !== 'HS256' ? verificationKey(key) : key.sign,
}));
const codec = new AccessTokenCodec({
  keys: createKeySet(inputs),
  issuer: ISSUER,
  audience: AUDIENCE,
  toleranceMs: 0,
  maxLifetimeMs: TTL_MS,
});

const SUBTLE = {
  EdDSA: { name: 'Ed25519' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
} as const;

/** The reference: jose's verification keys, pre-imported into WebCrypto, by kid. */
const joseKeys = new Map<string, { alg: TokenAlgorithm; key: CryptoKey }>();
/** jose's signing keys, to mint valid tokens with jose too. */
const joseSigners = new Map<string, CryptoKey>();

beforeAll(async () => {
  for (const key of allKeys) {
    if (key.alg === 'HS256') {
      const raw = key.sign.export();
      const hmac = await webcrypto.subtle.importKey(
        'raw',
        raw,
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['sign', 'verify'],
      );
      joseKeys.set(key.kid, { alg: key.alg, key: hmac });
      joseSigners.set(key.kid, hmac);
      continue;
    }
    const params = SUBTLE[key.alg];
    const publicJwk = verificationKey(key).export({ format: 'jwk' });
    joseKeys.set(key.kid, {
      alg: key.alg,
      key: await webcrypto.subtle.importKey('jwk', publicJwk, params, false, ['verify']),
    });
    joseSigners.set(
      key.kid,
      await webcrypto.subtle.importKey('jwk', key.sign.export({ format: 'jwk' }), params, false, [
        'sign',
      ]),
    );
  }
});

// --- token building -----------------------------------------------------------------------------

const b64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');

/** Signs `signingInput` with node:crypto as algorithm `alg` (any key, any header: attacks). */
function rawSign(alg: TokenAlgorithm, key: KeyObject | Uint8Array | string, input: string): Buffer {
  const data = Buffer.from(input, 'utf8');
  if (alg === 'HS256')
    return createHmac('sha256', key as KeyObject)
      .update(data)
      .digest();
  if (alg === 'EdDSA') return nodeSign(null, data, key as KeyObject);
  if (alg === 'ES256') {
    return nodeSign('sha256', data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
  }
  return nodeSign('sha256', data, key as KeyObject);
}

/** A header given as an object (JSON-encoded) or as its exact JSON text. */
type Header = object | string;
const headerText = (header: Header) =>
  typeof header === 'string' ? header : JSON.stringify(header);

function forge(
  alg: TokenAlgorithm,
  key: KeyObject | Uint8Array | string,
  header: Header,
  payload: string | Uint8Array,
): string {
  const input = `${b64(headerText(header))}.${b64(payload)}`;
  return `${input}.${b64(rawSign(alg, key, input))}`;
}

function goodHeader(key: SigningKey): { alg: string; kid: string; typ: string } {
  return { alg: key.alg, kid: key.kid, typ: TYP };
}

/** Valid claims at NOW, with random (often unicode) strings and random times within the rules. */
const validClaims = fc
  .record({
    sub: fc.string({ minLength: 1, maxLength: 20, unit: 'binary' }),
    email: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 20, unit: 'grapheme' })),
    role: fc.oneof(fc.constantFrom('user', 'admin', 'rôle-ünïcødé-🎉'), fc.string()),
    sid: fc.uuid(),
    jti: fc.string({ minLength: 1, maxLength: 24, unit: 'grapheme-ascii' }),
    age: fc.integer({ min: 0, max: 890 }),
    extra: fc.integer({ min: 1, max: 900 }),
    aud: fc.constantFrom<unknown>(AUDIENCE, [AUDIENCE], ['other', AUDIENCE]),
    more: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), {
      maxKeys: 3,
    }),
  })
  .filter(({ age, extra }) => age < extra)
  .map(({ age, extra, more, ...claims }) => {
    const iat = NOW_S - age;
    return { ...more, ...claims, iat, exp: iat + extra, iss: ISSUER };
  });

// --- the reference verifier --------------------------------------------------------------------

const ALLOWED_HEADER = ['alg', 'kid', 'typ'];
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

type Outcome =
  | { accepted: true; claims: unknown }
  | { accepted: false; stage: 'policy' | 'signature' | 'claims' };

function claimsProblem(claims: unknown): boolean {
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return true;
  const c = claims as Record<string, unknown>;
  const nonEmpty = (v: unknown) => typeof v === 'string' && v !== '';
  const date = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!nonEmpty(c['sub']) || !nonEmpty(c['sid']) || !nonEmpty(c['jti'])) return true;
  if (typeof c['email'] !== 'string' || typeof c['role'] !== 'string') return true;
  const { iat, exp, nbf, aud } = c;
  if (!date(iat) || !date(exp) || (nbf !== undefined && !date(nbf))) return true;
  if (c['iss'] !== ISSUER) return true;
  if (aud !== AUDIENCE && !(Array.isArray(aud) && aud.includes(AUDIENCE))) return true;
  if (nbf !== undefined && nbf * 1000 > NOW) return true;
  if (iat * 1000 > NOW || NOW >= exp * 1000) return true;
  return NOW >= iat * 1000 + TTL_MS || (exp - iat) * 1000 > TTL_MS;
}

/** jose for the signature, gatehouse's documented policy restated for everything else. */
async function reference(token: string): Promise<Outcome> {
  const policy = { accepted: false, stage: 'policy' } as const;
  if (token.length > 8192) return policy;
  const segments = token.split('.');
  if (segments.length !== 3 || segments.some((s) => s === '')) return policy;
  if (segments.some((s) => !BASE64URL.test(s) || s.length % 4 === 1)) return policy;
  const signature = segments[2]!;
  if (Buffer.from(signature, 'base64url').toString('base64url') !== signature) return policy;
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token) as Record<string, unknown>;
  } catch {
    return policy;
  }
  const { alg, kid, typ } = header;
  if (typeof alg !== 'string' || alg.toLowerCase() === 'none') return policy;
  if (Object.keys(header).some((name) => !ALLOWED_HEADER.includes(name))) return policy;
  if (typeof typ !== 'string' || !['at+jwt', 'application/at+jwt'].includes(typ.toLowerCase())) {
    return policy;
  }
  const key = typeof kid === 'string' ? joseKeys.get(kid) : undefined;
  if (!key || key.alg !== alg) return policy;
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(token, key.key, { algorithms: [key.alg] }));
  } catch {
    return { accepted: false, stage: 'signature' };
  }
  let claims: unknown;
  try {
    claims = JSON.parse(strictUtf8.decode(payload));
  } catch {
    return { accepted: false, stage: 'claims' };
  }
  return claimsProblem(claims) ? { accepted: false, stage: 'claims' } : { accepted: true, claims };
}

const POLICY_REASONS: TokenRejection[] = [
  'too_large',
  'malformed',
  'non_canonical_signature',
  'bad_header',
  'alg_none',
  'header_not_allowed',
  'unknown_kid',
  'alg_mismatch',
  'wrong_typ',
];
const CLAIM_REASONS: TokenRejection[] = [
  'bad_claims',
  'wrong_iss',
  'wrong_aud',
  'not_yet_valid',
  'issued_in_future',
  'expired',
  'too_old',
  'lifetime_too_long',
];

const cases: Record<TokenAlgorithm, number> = { HS256: 0, EdDSA: 0, ES256: 0, RS256: 0 };

/**
 * Verifies `token` with both and asserts they agree (and agree with `expected` when given): the
 * same verdict, the same claims when accepted, and a reason of the same stage when refused.
 */
async function agree(alg: TokenAlgorithm, token: string, expected?: 'accepted' | 'refused') {
  cases[alg]++;
  const oracle = await reference(token);
  let ours: { accepted: true; claims: unknown } | { accepted: false; reason: string | undefined };
  try {
    ours = { accepted: true, claims: codec.verifySync(token, NOW).principal.claims };
  } catch (err) {
    ours = { accepted: false, reason: reasonOf(err) };
  }
  expect(ours.accepted, `verdicts differ for ${JSON.stringify(token)}`).toBe(oracle.accepted);
  if (expected) expect(oracle.accepted, `expected ${expected}`).toBe(expected === 'accepted');
  if (ours.accepted && oracle.accepted) {
    expect(ours.claims).toEqual(oracle.claims);
  } else if (!ours.accepted && !oracle.accepted) {
    if (oracle.stage === 'signature') expect(ours.reason).toBe('bad_signature');
    else if (oracle.stage === 'claims') expect(CLAIM_REASONS).toContain(ours.reason);
    else expect(POLICY_REASONS).toContain(ours.reason);
  }
}

const property = <T>(arb: fc.Arbitrary<T>, check: (value: T) => Promise<void>) =>
  fc.assert(fc.asyncProperty(arb, check), { numRuns: RUNS });

/** A token signed with the right key over random valid claims, and its parts. */
function validToken(key: SigningKey, claims: unknown) {
  const token = forge(key.alg, key.sign, goodHeader(key), JSON.stringify(claims));
  const [h, p, s] = token.split('.') as [string, string, string];
  return { token, h, p, s, sig: Buffer.from(s, 'base64url') };
}

// --- the properties -------------------------------------------------------------------------------

const OTHER_ALGS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS512',
  'PS256',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'ES256K',
];
const EXTRA_PARAMS = [
  'jwk',
  'jku',
  'x5u',
  'x5c',
  'x5t',
  'x5t#S256',
  'crit',
  'cty',
  'b64',
  'enc',
  'zip',
  'nonce',
  'url',
  'foo',
];
const TYPS = [
  'at+jwt',
  'AT+JWT',
  'application/at+jwt',
  'Application/AT+jwt',
  'JWT',
  'jwt',
  'application/jwt',
  '',
  ' at+jwt',
  'at+jwt ',
];

/** Header variants: alg none, other algs, extra params, swapped kids, typ variants, spacing. */
function headerVariants(key: SigningKey): fc.Arbitrary<Header> {
  const base = goodHeader(key);
  const kids = [...allKeys.map((k) => k.kid), 'nope', '', '../../dev/null', '__proto__'];
  return fc.oneof(
    fc.constantFrom<Header>(
      { typ: TYP, kid: key.kid, alg: key.alg },
      JSON.stringify(base, null, 2),
      ` ${JSON.stringify(base)}\n`,
      `{"alg":"${key.alg}","kid":"${key.kid}","typ":"${TYP}","__proto__":{}}`,
      `{"alg":"none","kid":"${key.kid}","typ":"${TYP}","alg":"${key.alg}"}`,
      `{"alg":"${key.alg}","kid":"${key.kid}","typ":"${TYP}","alg":"none"}`,
      { kid: key.kid, typ: TYP },
      { alg: key.alg, typ: TYP },
      { alg: key.alg, kid: key.kid },
      [base],
      'null',
      '"at+jwt"',
    ),
    fc.constantFrom('none', 'None', 'NONE', 'nOnE').map((alg) => ({ ...base, alg })),
    fc.constantFrom(...OTHER_ALGS).map((alg) => ({ ...base, alg })),
    fc
      .tuple(fc.constantFrom(...EXTRA_PARAMS), fc.jsonValue({ maxDepth: 1 }))
      .map(([name, value]) => ({ ...base, [name]: value })),
    fc.constantFrom(...kids).map((kid) => ({ ...base, kid })),
    fc.constantFrom<unknown>(1, null, [key.kid], { id: key.kid }).map((kid) => ({ ...base, kid })),
    fc.constantFrom(...TYPS).map((typ) => ({ ...base, typ })),
  );
}

/** Secrets an attacker derives from a public key, for HS256 algorithm confusion. */
function publicKeyAsSecrets(key: SigningKey): (string | Uint8Array)[] {
  const publicKey = verificationKey(key);
  const jwk = publicKey.export({ format: 'jwk' });
  return [
    publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicKey.export({ format: 'der', type: 'spki' }),
    JSON.stringify(jwk),
    JSON.stringify({ ...jwk, kid: key.kid, alg: key.alg }),
    Buffer.from(String(jwk.x ?? jwk.n), 'base64url'),
  ];
}

const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const ED25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

const bigOf = (bytes: Uint8Array) => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
function bytesOf(value: bigint, size: number): Buffer {
  return Buffer.from(value.toString(16).padStart(size * 2, '0'), 'hex');
}

for (const alg of ALGS) {
  const [key, sibling] = configured[alg];

  describe(`${alg}: verifySync and jose agree`, () => {
    it('valid tokens signed by jose (CompactSign) with random, unicode claims are accepted by both', async () => {
      await property(validClaims, async (claims) => {
        const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
          .setProtectedHeader(goodHeader(key))
          .sign(joseSigners.get(key.kid)!);
        await agree(alg, token, 'accepted');
      });
    });

    it('valid tokens signed with node:crypto over random claims are accepted by both, and their claims are equal', async () => {
      await property(validClaims, async (claims) => {
        await agree(alg, validToken(key, claims).token, 'accepted');
      });
    });

    it('claims outside the rules, signed with the right key (expired, not yet valid, issued in the future, too old, lifetime too long, wrong iss or aud, missing or mistyped, not an object, invalid UTF-8): both agree', async () => {
      const mutation = fc.oneof(
        fc.constantFrom<[string, unknown]>(
          ['exp', NOW_S],
          ['exp', NOW_S - 1],
          ['exp', NOW_S + 1],
          ['nbf', NOW_S + 1],
          ['nbf', NOW_S],
          ['iat', NOW_S + 1],
          ['iat', NOW_S - 900],
          ['iat', NOW_S - 899],
          ['exp', NOW_S + 100_000],
          ['iss', 'https://evil.example'],
          ['iss', undefined],
          ['aud', 'other'],
          ['aud', ['other']],
          ['aud', undefined],
          ['sub', ''],
          ['sub', 42],
          ['sid', undefined],
          ['jti', null],
          ['email', undefined],
          ['role', 1],
          ['exp', '9999999999'],
          ['iat', Number.MAX_VALUE],
          ['nbf', 'now'],
        ),
        fc.tuple(
          fc.constantFrom('sub', 'email', 'role', 'sid', 'jti', 'iat', 'exp', 'nbf', 'iss', 'aud'),
          fc.jsonValue({ maxDepth: 1 }),
        ),
      );
      const payload = fc.oneof(
        { weight: 6, arbitrary: fc.tuple(validClaims, mutation) },
        {
          weight: 1,
          arbitrary: fc.constantFrom<Uint8Array | string>(
            '[1,2]',
            'null',
            '"claims"',
            '{',
            '',
            Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), // {"\xff\xfe":1}
            Buffer.from('{"sub":"\ud800"}', 'utf8'),
          ),
        },
      );
      await property(payload, async (value) => {
        let body: string | Uint8Array;
        if (Array.isArray(value)) {
          const [claims, [name, claim]] = value as [Record<string, unknown>, [string, unknown]];
          body = JSON.stringify({ ...claims, [name]: claim });
        } else body = value as string | Uint8Array;
        await agree(alg, forge(alg, key.sign, goodHeader(key), body));
      });
    });

    it('flipped signature bits are refused by both', async () => {
      const flips = fc.array(fc.nat(), { minLength: 1, maxLength: 3 });
      await property(fc.tuple(validClaims, flips), async ([claims, bits]) => {
        const { h, p, sig } = validToken(key, claims);
        const forged = Buffer.from(sig);
        for (const bit of new Set(bits.map((b) => b % (sig.length * 8)))) {
          forged[bit >> 3]! ^= 1 << (bit & 7);
        }
        await agree(alg, `${h}.${p}.${b64(forged)}`, 'refused');
      });
    });

    it('truncated or extended signatures (bytes cut, appended, or a leading zero byte stripped) are refused by both', async () => {
      const change = fc.oneof(
        fc.integer({ min: 1, max: 40 }).map((n) => (s: Buffer) => s.subarray(0, -n)),
        fc.integer({ min: 1, max: 40 }).map((n) => (s: Buffer) => s.subarray(n)),
        fc.uint8Array({ minLength: 1, maxLength: 40 }).map((extra) => (s: Buffer) => {
          return Buffer.concat([s, extra]);
        }),
        fc.constant((s: Buffer) => Buffer.concat([Buffer.alloc(1), s])),
        fc.constant((s: Buffer) => Buffer.concat([s, s])),
      );
      await property(fc.tuple(validClaims, change), async ([claims, apply]) => {
        const { h, p, sig } = validToken(key, claims);
        const forged = apply(sig);
        if (forged.length === 0) return;
        await agree(alg, `${h}.${p}.${b64(forged)}`, 'refused');
      });
    });

    it('signatures of random bytes of any length (including all zeros and the exact size) are refused by both', async () => {
      const size = alg === 'RS256' ? 256 : alg === 'HS256' ? 32 : 64;
      const sig = fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.uint8Array({ minLength: size, maxLength: size }),
        fc.constant(new Uint8Array(size)),
        fc.constant(new Uint8Array(size).fill(0xff)),
      );
      await property(fc.tuple(validClaims, sig), async ([claims, bytes]) => {
        const { h, p } = validToken(key, claims);
        await agree(alg, `${h}.${p}.${b64(bytes)}`, 'refused');
      });
    });

    it('non-canonical base64url (a sibling last character, padding, whitespace, + or /, stray or unicode characters in any segment) is refused by both', async () => {
      const stray = fc.constantFrom(
        '=',
        '==',
        ' ',
        '\n',
        '\t',
        '+',
        '/',
        '%',
        '\u0000',
        'é',
        '🎉',
        '\u200b',
        '\ufeff',
      );
      const mutation = fc.oneof(
        fc.constant('sibling' as const),
        fc.tuple(fc.constantFrom(0, 1, 2), fc.nat(), stray),
      );
      await property(fc.tuple(validClaims, mutation), async ([claims, how]) => {
        const { h, p, s } = validToken(key, claims);
        const parts = [h, p, s];
        if (how === 'sibling') {
          const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
          const last = s.at(-1)!;
          parts[2] = s.slice(0, -1) + alphabet[alphabet.indexOf(last) ^ 1];
        } else {
          const [segment, at, text] = how;
          const value = parts[segment]!;
          const position = at % (value.length + 1);
          parts[segment] = value.slice(0, position) + text + value.slice(position);
        }
        await agree(alg, parts.join('.'), 'refused');
      });
    });

    it('a payload changed without re-signing (a claim altered, added or removed) is refused by both', async () => {
      const change = fc.constantFrom<(c: Record<string, unknown>) => void>(
        (c) => {
          c['role'] = `${c['role']}-admin`;
        },
        (c) => {
          c['sub'] = `${c['sub']}-else`;
        },
        (c) => {
          c['exp'] = (c['exp'] as number) + 3600;
        },
        (c) => {
          c['is-admin-claim'] = true;
        },
        (c) => {
          delete c['jti'];
        },
      );
      await property(fc.tuple(validClaims, change), async ([claims, apply]) => {
        const { h, s } = validToken(key, claims);
        const changed: Record<string, unknown> = { ...claims };
        apply(changed);
        await agree(alg, `${h}.${b64(JSON.stringify(changed))}.${s}`, 'refused');
      });
    });

    it('a header re-encoded without re-signing (alg none, another alg, extra params, kid swapped, typ changed, spacing) is refused by both', async () => {
      await property(fc.tuple(validClaims, headerVariants(key)), async ([claims, header]) => {
        const { p, s } = validToken(key, claims);
        const forgedHeader = b64(headerText(header));
        fc.pre(forgedHeader !== b64(JSON.stringify(goodHeader(key))));
        await agree(alg, `${forgedHeader}.${p}.${s}`, 'refused');
      });
    });

    it('a header changed AND re-signed with the right key (alg none, another alg, extra params like jwk/jku/crit/b64, kid swapped, typ variants, reordered or spaced JSON): both agree', async () => {
      await property(fc.tuple(validClaims, headerVariants(key)), async ([claims, header]) => {
        await agree(alg, forge(alg, key.sign, header, JSON.stringify(claims)));
      });
    });

    it('alg none, with an empty signature or with one, is refused by both', async () => {
      const none = fc.constantFrom('none', 'None', 'NONE', 'nOnE');
      await property(fc.tuple(validClaims, none, fc.boolean()), async ([claims, algName, sig]) => {
        const input = `${b64(JSON.stringify({ alg: algName, kid: key.kid, typ: TYP }))}.${b64(JSON.stringify(claims))}`;
        const signature = sig ? b64(rawSign(alg, key.sign, input)) : '';
        await agree(alg, `${input}.${signature}`, 'refused');
      });
    });

    it('a signature of another key (an attacker’s key of the same algorithm) is refused by both', async () => {
      await property(validClaims, async (claims) => {
        const token = forge(alg, attacker[alg], goodHeader(key), JSON.stringify(claims));
        await agree(alg, token, 'refused');
      });
    });

    it('kid swapped: a token signed by one configured key under the kid of another is refused by both', async () => {
      const swap = fc.constantFrom(
        [key, sibling] as const,
        [sibling, key] as const,
        ...allKeys.filter((k) => k.alg !== alg).map((other) => [key, other] as const),
      );
      await property(fc.tuple(validClaims, swap), async ([claims, [signer, named]]) => {
        // Signed by `signer`'s key with its algorithm, but naming `named`'s kid (and, for keys
        // of another algorithm, either algorithm in the header).
        const token = forge(
          signer.alg,
          signer.sign,
          { alg: signer.alg, kid: named.kid, typ: TYP },
          JSON.stringify(claims),
        );
        await agree(alg, token, 'refused');
      });
    });

    if (alg === 'HS256') {
      it('algorithm confusion: an asymmetric header (RS256, ES256, EdDSA) on the HS256 kid, signed with the HMAC secret, is refused by both', async () => {
        const asymmetric = fc.constantFrom('RS256', 'ES256', 'EdDSA', 'PS256', 'ES384');
        await property(fc.tuple(validClaims, asymmetric), async ([claims, name]) => {
          const token = forge(
            'HS256',
            key.sign,
            { alg: name, kid: key.kid, typ: TYP },
            JSON.stringify(claims),
          );
          await agree(alg, token, 'refused');
        });
      });
    } else {
      it(`algorithm confusion: an HS256 token signed with the ${alg} public key as the HMAC secret (PEM, DER, JWK, raw) is refused by both`, async () => {
        const secrets = publicKeyAsSecrets(key);
        const which = fc.integer({ min: 0, max: secrets.length - 1 });
        await property(fc.tuple(validClaims, which), async ([claims, index]) => {
          const token = forge(
            'HS256',
            secrets[index]!,
            { alg: 'HS256', kid: key.kid, typ: TYP },
            JSON.stringify(claims),
          );
          await agree(alg, token, 'refused');
        });
      });
    }

    it('empty segments, extra segments and missing dots are refused by both', async () => {
      const shape = fc.constantFrom<(h: string, p: string, s: string) => string>(
        (h, p) => `${h}.${p}.`,
        (h, _p, s) => `${h}..${s}`,
        (_h, p, s) => `.${p}.${s}`,
        () => '..',
        (h, p, s) => `${h}.${p}.${s}.`,
        (h, p, s) => `${h}.${p}.${s}.${s}`,
        (h, p, s) => `${h}.${p}.${s}.${p}.${s}`,
        (h, p, s) => `${h}.${p}${s}`,
        (h, p, s) => `${h}${p}${s}`,
        (h, p, s) => `.${h}.${p}.${s}`,
        (h, p, s) => `${h}.${p}..${s}`,
      );
      await property(fc.tuple(validClaims, shape), async ([claims, build]) => {
        const { h, p, s } = validToken(key, claims);
        await agree(alg, build(h, p, s), 'refused');
      });
    });

    it('arbitrary and unicode strings, oversized tokens and random three-part strings are refused by both', async () => {
      const segment = fc.string({ unit: fc.constantFrom(...'AZaz09-_'.split('')), maxLength: 60 });
      const garbage = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.string({ unit: 'grapheme', maxLength: 100 }),
        fc.tuple(segment, segment, segment).map((parts) => parts.join('.')),
        fc.constant(`${'a'.repeat(8190)}.b.c`),
        fc.constant(`${'a'.repeat(4000)}.${'b'.repeat(4000)}.${'c'.repeat(192)}`),
      );
      await property(garbage, async (token) => {
        await agree(alg, token, 'refused');
      });
    });

    if (alg === 'ES256') {
      it('ES256 signatures in DER form (ASN.1, as OpenSSL emits them) are refused by both', async () => {
        await property(validClaims, async (claims) => {
          const input = `${b64(JSON.stringify(goodHeader(key)))}.${b64(JSON.stringify(claims))}`;
          const der = nodeSign('sha256', Buffer.from(input), { key: key.sign, dsaEncoding: 'der' });
          await agree(alg, `${input}.${b64(der)}`, 'refused');
        });
      });

      it('ECDSA malleability: (r, n − s) verifies for both (a property of ECDSA jose shares; tokens are bound to their session, not their string)', async () => {
        await property(validClaims, async (claims) => {
          const { h, p, sig } = validToken(key, claims);
          const s = bigOf(sig.subarray(32));
          const flipped = Buffer.concat([sig.subarray(0, 32), bytesOf(P256_ORDER - s, 32)]);
          await agree(alg, `${h}.${p}.${b64(flipped)}`, 'accepted');
        });
      });

      it('ES256 with r or s out of range (0, or at least the curve order) is refused by both', async () => {
        const bad = fc.constantFrom(0n, P256_ORDER, P256_ORDER + 1n, 2n ** 256n - 1n);
        await property(fc.tuple(validClaims, bad, fc.boolean()), async ([claims, value, inR]) => {
          const { h, p, sig } = validToken(key, claims);
          const r = inR ? bytesOf(value, 32) : sig.subarray(0, 32);
          const s = inR ? sig.subarray(32) : bytesOf(value, 32);
          await agree(alg, `${h}.${p}.${b64(Buffer.concat([r, s]))}`, 'refused');
        });
      });
    }

    if (alg === 'EdDSA') {
      it('Ed25519 with a non-canonical S (S + L, malleated) is refused by both', async () => {
        await property(validClaims, async (claims) => {
          const { h, p, sig } = validToken(key, claims);
          // S is little-endian in the second half of the signature.
          const s = bigOf(Buffer.from(sig.subarray(32)).reverse()) + ED25519_ORDER;
          fc.pre(s < 2n ** 256n);
          const malleated = Buffer.concat([sig.subarray(0, 32), bytesOf(s, 32).reverse()]);
          await agree(alg, `${h}.${p}.${b64(malleated)}`, 'refused');
        });
      });
    }

    if (alg === 'RS256') {
      it('RS256 with a signature at or above the modulus is refused by both', async () => {
        const jwk = verificationKey(key).export({ format: 'jwk' });
        const n = bigOf(Buffer.from(String(jwk.n), 'base64url'));
        const offset = fc.bigInt({ min: 0n, max: 2n ** 64n });
        await property(fc.tuple(validClaims, offset), async ([claims, extra]) => {
          const { h, p } = validToken(key, claims);
          const value = n + extra;
          fc.pre(value < 2n ** 2048n);
          await agree(alg, `${h}.${p}.${b64(bytesOf(value, 256))}`, 'refused');
        });
      });
    }
  });
}

describe('the login path interoperates', () => {
  it('tokens from AccessTokenCodec.sign (jose, every algorithm) verify with jose and with verifySync', async () => {
    for (const alg of ALGS) {
      const [key] = configured[alg];
      const signer = new AccessTokenCodec({
        keys: createKeySet([{ kid: key.kid, alg, key: key.sign }]),
        issuer: ISSUER,
        audience: AUDIENCE,
        toleranceMs: 0,
        maxLifetimeMs: TTL_MS,
      });
      for (let i = 0; i < 25; i++) {
        const { token } = await signer.sign(
          { userId: `user-${i}`, email: `u${i}@example.com`, role: 'user', sessionId: `s-${i}` },
          { now: NOW - i * 1000, ttlMs: TTL_MS, jti: `jti-${i}` },
        );
        await agree(alg, token, 'accepted');
      }
    }
  });
});

describe('no WebCrypto on the verify path', () => {
  const subtle = globalThis.crypto.subtle;
  const spies: ReturnType<typeof vi.spyOn>[] = [];
  afterAll(() => {
    for (const spy of spies) spy.mockRestore();
  });

  it('verifySync of every algorithm calls no crypto.subtle method (verify, importKey, digest, sign) and returns no promise', async () => {
    const methods = ['verify', 'importKey', 'digest', 'sign', 'exportKey'] as const;
    for (const name of methods) spies.push(vi.spyOn(subtle, name));
    const calls = () => spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
    const tokens = ALGS.map((alg) => {
      const [key] = configured[alg];
      const claims = { sub: 'u', email: 'e', role: 'r', sid: 's', jti: 'j', aud: AUDIENCE };
      return forge(
        alg,
        key.sign,
        goodHeader(key),
        JSON.stringify({ ...claims, iss: ISSUER, iat: NOW_S, exp: NOW_S + 60 }),
      );
    });
    // A key set built now: its keys are imported for verification with node:crypto, at
    // construction (the signing keys also go to WebCrypto there, for jose's signing only).
    const fresh = new AccessTokenCodec({
      keys: createKeySet(inputs),
      issuer: ISSUER,
      audience: AUDIENCE,
      toleranceMs: 0,
      maxLifetimeMs: TTL_MS,
    });
    // The spies do see WebCrypto: jose's verification goes through crypto.subtle.verify.
    expect(webcrypto.subtle).toBe(subtle);
    await compactVerify(tokens[0]!, joseKeys.get('hs-1')!.key, { algorithms: ['HS256'] });
    expect(spies[0]!.mock.calls.length).toBe(1);
    for (const spy of spies) spy.mockClear();

    for (const token of tokens) {
      for (const verifier of [codec, fresh]) {
        const result = verifier.verifySync(token, NOW);
        expect(result).not.toBeInstanceOf(Promise);
        expect(result.principal.userId).toBe('u');
        const tampered = `${token.slice(0, token.lastIndexOf('.'))}.${b64(Buffer.alloc(64))}`;
        expect(() => verifier.verifySync(tampered, NOW)).toThrow();
      }
    }
    expect(calls()).toBe(0);
  });
});

describe('coverage of the differential run', () => {
  it('ran at least 2 000 differential cases per algorithm', () => {
    for (const alg of ALGS) expect(cases[alg], alg).toBeGreaterThanOrEqual(2000);
  });
});
