import {
  createPublicKey,
  createSecretKey,
  type JsonWebKey,
  KeyObject,
  webcrypto,
} from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;

import { AuthError } from '../errors.js';
import { type SignatureVerifier, signatureVerifier } from './jws.js';

/**
 * The signing algorithms gatehouse accepts; each key is bound to exactly one of them.
 *
 * @example
 * ```ts
 * import { TOKEN_ALGORITHMS } from 'gatehouse';
 * const alg = process.env.JWT_ALGORITHM ?? 'HS256';
 * if (!TOKEN_ALGORITHMS.includes(alg as TokenAlgorithm)) throw new Error(`JWT_ALGORITHM: ${alg}`);
 * ```
 */
export const TOKEN_ALGORITHMS = ['HS256', 'EdDSA', 'ES256', 'RS256'] as const;

/**
 * One of {@link TOKEN_ALGORITHMS}: `'HS256' | 'EdDSA' | 'ES256' | 'RS256'`.
 *
 * @example
 * ```ts
 * const alg: TokenAlgorithm = 'EdDSA';
 * ```
 */
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

/** The shortest HS256 secret accepted, in bytes (256 bits, the size of the HMAC output). */
export const MIN_HMAC_SECRET_BYTES = 32;

/** The smallest RSA modulus accepted for RS256, in bits. */
export const MIN_RSA_MODULUS_BITS = 2048;

/**
 * A key of the token key set, as configured.
 *
 * - `HS256`: `key` is a secret of at least 32 bytes: a string (UTF-8), a `Uint8Array`, a secret
 *   `KeyObject` or an HMAC `CryptoKey`.
 * - `EdDSA` (Ed25519), `ES256` (P-256), `RS256` (RSA, at least 2048 bits): `key` is a
 *   `KeyObject` or `CryptoKey`. A private key signs and verifies; a public key only verifies (an
 *   older key kept so that tokens it signed stay valid). Strings are refused: convert a PEM
 *   with `crypto.createPrivateKey(pem)` so that a key can never be mistaken for an HMAC secret.
 *
 * The type of one entry of `tokens.keys`: annotate a key list declared apart from `createAuth`
 * with it, so `alg` stays one of the algorithms instead of widening to `string` (no cast needed).
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from 'node:crypto';
 * import { createAuth, type TokenKeyInput } from 'gatehouse';
 *
 * const { privateKey } = generateKeyPairSync('ed25519');
 * const keys: TokenKeyInput[] = [{ kid: '2025-01', alg: 'EdDSA', key: privateKey }];
 * const auth = createAuth({ tokens: { keys } });
 * ```
 */
export interface TokenKeyInput {
  /** The key id written in the `kid` header; unique within the set. */
  kid: string;
  /** The one algorithm this key signs or verifies with (pinned: a token of another is refused). */
  alg: TokenAlgorithm;
  /** The secret or key object that `alg` takes (listed above), checked when createAuth runs. */
  key: unknown;
}

/**
 * A key of a {@link KeySet}, imported once at construction: as a node:crypto `KeyObject` for
 * verification (synchronous, no WebCrypto), and for WebCrypto only when it signs (jose signs).
 *
 * @example
 * ```ts
 * const key: TokenKey = keySet.signing;
 * key.verifySignature(`${header}.${payload}`, Buffer.from(signature, 'base64url')); // boolean
 * await key.ready; // the WebCrypto signing key is imported
 * key.canSign; // true
 * ```
 */
export interface TokenKey {
  readonly kid: string;
  readonly alg: TokenAlgorithm;
  /** Whether this key can sign (a secret or a private key). */
  readonly canSign: boolean;
  /** Checks a signature over `header.payload` with this key and its one algorithm, synchronously. */
  readonly verifySignature: SignatureVerifier;
  /** The imported signing key (null for a verification-only key), once ready. */
  signKey: CryptoKey | null | undefined;
  /** Settles when the signing key is imported. */
  readonly ready: Promise<void>;
}

/**
 * A public JSON Web Key as published in the JWKS: only public members (`kty`, `crv`, `x`, `y`,
 * `n`, `e`) with `kid`, `alg` and `use: 'sig'`.
 *
 * @example
 * ```ts
 * const jwk: PublicJwk = auth.jwks().keys[0]!; // { kty: 'OKP', crv: 'Ed25519', x: '…', kid, alg: 'EdDSA', use: 'sig' }
 * ```
 */
export interface PublicJwk {
  kty: string;
  kid: string;
  alg: TokenAlgorithm;
  use: 'sig';
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

/**
 * The JWKS document: the public keys of the asymmetric keys of the set, signing key first
 * (never a secret: an HS256-only set gives `{ keys: [] }`).
 *
 * @example
 * ```ts
 * app.get('/.well-known/jwks.json', (req, res) => res.json(auth.jwks() satisfies JsonWebKeySet));
 * ```
 */
export interface JsonWebKeySet {
  keys: PublicJwk[];
}

/**
 * The configured keys: one signing key plus older verification keys, looked up by `kid`.
 *
 * @example
 * ```ts
 * const keys: KeySet = createKeySet([{ kid: 'k1', alg: 'HS256', key: process.env.JWT_SECRET }]);
 * keys.byKid('k1')?.alg; // 'HS256'
 * keys.byKid('../etc/passwd'); // undefined: only configured keys are ever returned
 * ```
 */
export interface KeySet {
  readonly signing: TokenKey;
  /** Looks a key up by `kid`; only configured keys can ever be returned. */
  byKid(kid: string): TokenKey | undefined;
  readonly jwks: JsonWebKeySet;
  /** Settles when every key is imported. */
  readonly ready: Promise<void>;
}

const PEM_PATTERN = /-----BEGIN [A-Z ]+-----/;
const KID_PATTERN = /^[A-Za-z0-9._~-]{1,128}$/;

function isKeyObject(value: unknown): value is KeyObject {
  return value instanceof KeyObject;
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'CryptoKey'
  );
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'a Uint8Array';
  if (typeof value === 'object') return 'a plain object';
  return `a ${typeof value}`;
}

/**
 * Converts a configured key to a `KeyObject`, or returns the reason it is refused. Shared by the
 * options schema (so the startup error names the option) and {@link createKeySet}.
 *
 * @example
 * ```ts
 * toKeyObject('HS256', 'short'); // 'is too short (5 bytes): HS256 needs a secret of at least 32 bytes'
 * ```
 */
export function toKeyObject(alg: TokenAlgorithm, key: unknown): KeyObject | string {
  if (!key) {
    return alg === 'HS256'
      ? `is missing: HS256 needs a secret of at least ${MIN_HMAC_SECRET_BYTES} random bytes`
      : `is missing: ${alg} needs a KeyObject or CryptoKey`;
  }
  let keyObject: KeyObject;
  if (isKeyObject(key)) keyObject = key;
  else if (isCryptoKey(key)) keyObject = KeyObject.from(key);
  else if (alg === 'HS256' && typeof key === 'string') {
    if (PEM_PATTERN.test(key)) {
      return 'is a PEM key, not an HS256 secret: an asymmetric key must be configured with its own algorithm';
    }
    keyObject = createSecretKey(Buffer.from(key, 'utf8'));
  } else if (alg === 'HS256' && key instanceof Uint8Array) {
    keyObject = createSecretKey(key);
  } else if (alg === 'HS256') {
    return `is not a key (got ${describeValue(key)}): HS256 needs a string or Uint8Array secret of at least ${MIN_HMAC_SECRET_BYTES} bytes`;
  } else if (typeof key === 'string') {
    return `is a string, which is not a key for ${alg}: pass a KeyObject (e.g. crypto.createPrivateKey(pem)) or a CryptoKey`;
  } else {
    return `is not a key (got ${describeValue(key)}): ${alg} needs a KeyObject or CryptoKey (convert a JWK with crypto.createPrivateKey({ key: jwk, format: 'jwk' }))`;
  }
  return checkKeyObject(alg, keyObject) ?? keyObject;
}

function checkKeyObject(alg: TokenAlgorithm, key: KeyObject): string | null {
  if (alg === 'HS256') {
    if (key.type !== 'secret') return `is a ${key.type} key: HS256 needs a secret`;
    const size = key.symmetricKeySize ?? 0;
    return size < MIN_HMAC_SECRET_BYTES
      ? `is too short (${size} bytes): HS256 needs a secret of at least ${MIN_HMAC_SECRET_BYTES} bytes`
      : null;
  }
  if (key.type === 'secret') return `is a secret key: ${alg} needs a private or public key`;
  const type = key.asymmetricKeyType;
  if (alg === 'EdDSA') {
    return type === 'ed25519' ? null : `is a ${type} key: EdDSA needs an Ed25519 key`;
  }
  if (alg === 'ES256') {
    return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
      ? null
      : `is a ${type}${type === 'ec' ? ` ${key.asymmetricKeyDetails?.namedCurve}` : ''} key: ES256 needs a P-256 EC key`;
  }
  if (type !== 'rsa') return `is a ${type} key: RS256 needs an RSA key`;
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  return bits < MIN_RSA_MODULUS_BITS
    ? `is a ${bits}-bit RSA key: RS256 needs at least ${MIN_RSA_MODULUS_BITS} bits`
    : null;
}

/**
 * Returns why a configured key id is refused, or null.
 *
 * @example
 * ```ts
 * checkKid('2025-06'); // null
 * checkKid('../k');    // 'must be 1 to 128 characters of A-Z a-z 0-9 . _ ~ -'
 * ```
 */
export function checkKid(kid: unknown): string | null {
  if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
    return 'must be 1 to 128 characters of A-Z a-z 0-9 . _ ~ -';
  }
  return null;
}

const SUBTLE_PARAMS = {
  EdDSA: { name: 'Ed25519' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
} as const;

/** Imports the signing key for jose (WebCrypto); verification never goes through WebCrypto. */
async function importSigningKey(
  alg: TokenAlgorithm,
  keyObject: KeyObject,
  target: TokenKey,
): Promise<void> {
  if (keyObject.type === 'public') {
    target.signKey = null;
    return;
  }
  target.signKey =
    alg === 'HS256'
      ? await webcrypto.subtle.importKey(
          'raw',
          keyObject.export(),
          { name: 'HMAC', hash: 'SHA-256' },
          false,
          ['sign'],
        )
      : await webcrypto.subtle.importKey(
          'jwk',
          keyObject.export({ format: 'jwk' }),
          SUBTLE_PARAMS[alg],
          false,
          ['sign'],
        );
}

function toPublicJwk(kid: string, alg: TokenAlgorithm, keyObject: KeyObject): PublicJwk {
  const publicKey = keyObject.type === 'private' ? createPublicKey(keyObject) : keyObject;
  const jwk: JsonWebKey = publicKey.export({ format: 'jwk' });
  const out: PublicJwk = { kty: String(jwk.kty), kid, alg, use: 'sig' };
  // Copy only public members, by name, so a private member can never leak into the JWKS.
  for (const member of ['crv', 'x', 'y', 'n', 'e'] as const) {
    const value = jwk[member];
    if (typeof value === 'string') out[member] = value;
  }
  return out;
}

function invalidKey(index: number, message: string): AuthError {
  return new AuthError('INVALID_CONFIG', `Invalid token keys: keys.${index}.${message}`);
}

/**
 * Builds a key set from configured keys: validates each one (throws `INVALID_CONFIG` naming the
 * key and the reason), imports it once (a node:crypto verifier; a WebCrypto key for signing), and
 * prepares the public JWKS. The signing key is `signingKid`, or the first key that can sign.
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from 'node:crypto';
 * const current = generateKeyPairSync('ed25519').privateKey;
 * const previous = generateKeyPairSync('ed25519').publicKey;
 * const keys = createKeySet([
 *   { kid: '2025-02', alg: 'EdDSA', key: current },
 *   { kid: '2025-01', alg: 'EdDSA', key: previous },
 * ]);
 * keys.jwks; // { keys: [{ kty: 'OKP', crv: 'Ed25519', x, kid: '2025-02', alg: 'EdDSA', use: 'sig' }, ...] }
 * ```
 */
export function createKeySet(inputs: readonly TokenKeyInput[], signingKid?: string): KeySet {
  if (inputs.length === 0) {
    throw new AuthError('INVALID_CONFIG', 'Invalid token keys: at least one key is required');
  }
  const byKid = new Map<string, TokenKey>();
  const jwks: PublicJwk[] = [];
  inputs.forEach((input, index) => {
    const kidProblem = checkKid(input.kid);
    if (kidProblem) throw invalidKey(index, `kid: ${kidProblem}`);
    if (!TOKEN_ALGORITHMS.includes(input.alg)) {
      throw invalidKey(index, `alg: must be one of ${TOKEN_ALGORITHMS.join(', ')}`);
    }
    if (byKid.has(input.kid)) throw invalidKey(index, `kid: "${input.kid}" is used twice`);
    const keyObject = toKeyObject(input.alg, input.key);
    if (typeof keyObject === 'string') throw invalidKey(index, `key: ${keyObject}`);
    const entry: TokenKey = {
      kid: input.kid,
      alg: input.alg,
      canSign: keyObject.type !== 'public',
      verifySignature: signatureVerifier(input.alg, keyObject),
      signKey: undefined,
      ready: Promise.resolve(),
    };
    const ready = importSigningKey(input.alg, keyObject, entry);
    // A failed import surfaces when the key is used; never as an unhandled rejection.
    ready.catch(() => {});
    (entry as { ready: Promise<void> }).ready = ready;
    byKid.set(input.kid, entry);
    if (input.alg !== 'HS256') jwks.push(toPublicJwk(input.kid, input.alg, keyObject));
  });
  let signing: TokenKey | undefined;
  if (signingKid !== undefined) {
    signing = byKid.get(signingKid);
    if (!signing) {
      throw new AuthError(
        'INVALID_CONFIG',
        `Invalid token keys: signingKid "${signingKid}" is not a configured kid`,
      );
    }
    if (!signing.canSign) {
      throw new AuthError(
        'INVALID_CONFIG',
        `Invalid token keys: signingKid "${signingKid}" is a public key, which cannot sign`,
      );
    }
  } else {
    signing = [...byKid.values()].find((key) => key.canSign);
    if (!signing) {
      throw new AuthError(
        'INVALID_CONFIG',
        'Invalid token keys: no key can sign (every key is a public key); add a secret or private key',
      );
    }
  }
  const signingJwk = jwks.find((jwk) => jwk.kid === signing.kid);
  const ordered = signingJwk ? [signingJwk, ...jwks.filter((jwk) => jwk !== signingJwk)] : jwks;
  const document: JsonWebKeySet = deepFreeze({ keys: ordered });
  const all = [...byKid.values()];
  const ready = Promise.all(all.map((key) => key.ready)).then(() => undefined);
  ready.catch(() => {});
  return {
    signing,
    byKid: (kid) => byKid.get(kid),
    jwks: document,
    ready,
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
