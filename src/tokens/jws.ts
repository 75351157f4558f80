import {
  createHmac,
  createPublicKey,
  verify as cryptoVerify,
  type KeyObject,
  timingSafeEqual,
} from 'node:crypto';
import type { TokenAlgorithm } from './keys.js';

/**
 * Checks a JWS signature synchronously: `signingInput` is the exact `header.payload` characters
 * of the token (ASCII), `signature` the decoded signature bytes. Never throws.
 *
 * @example
 * ```ts
 * const check = signatureVerifier('HS256', createSecretKey(secret));
 * check(`${header}.${payload}`, Buffer.from(signature, 'base64url')); // true or false
 * ```
 */
export type SignatureVerifier = (signingInput: string, signature: Uint8Array) => boolean;

/** The ES256 signature size: r and s of P-256, 32 bytes each (JWS: IEEE P1363, not DER). */
const ES256_SIGNATURE_BYTES = 64;
/** The Ed25519 signature size (RFC 8032). */
const ED25519_SIGNATURE_BYTES = 64;
/** The HMAC-SHA256 output size. */
const HS256_SIGNATURE_BYTES = 32;

const ES256_KEY = { dsaEncoding: 'ieee-p1363' } as const;

/**
 * Builds the synchronous node:crypto verifier of one key, bound to its one algorithm. `key` is the
 * key as validated by the key set: a secret `KeyObject` for HS256, a private or public one for the
 * others (a private key is reduced to its public half here, once).
 *
 * The signature length is checked before any cryptography: exactly 32 bytes for HS256, 64 for
 * EdDSA and ES256 (raw `r || s`: a DER-encoded ECDSA signature is refused, as jose refuses it),
 * the modulus size for RS256.
 *
 * @example
 * ```ts
 * const check = signatureVerifier('EdDSA', publicKey);
 * const [h, p, s] = token.split('.');
 * check(`${h}.${p}`, Buffer.from(s, 'base64url'));
 * ```
 */
export function signatureVerifier(alg: TokenAlgorithm, key: KeyObject): SignatureVerifier {
  if (alg === 'HS256') {
    if (key.type !== 'secret') throw new TypeError('HS256 needs a secret KeyObject');
    return (signingInput, signature) => {
      if (signature.length !== HS256_SIGNATURE_BYTES) return false;
      const expected = createHmac('sha256', key).update(signingInput, 'latin1').digest();
      return timingSafeEqual(expected, signature);
    };
  }
  if (key.type === 'secret') throw new TypeError(`${alg} needs an asymmetric KeyObject`);
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (alg === 'EdDSA') {
    return (signingInput, signature) =>
      signature.length === ED25519_SIGNATURE_BYTES &&
      safeVerify(null, signingInput, publicKey, signature);
  }
  if (alg === 'ES256') {
    const esKey = { key: publicKey, ...ES256_KEY };
    return (signingInput, signature) =>
      signature.length === ES256_SIGNATURE_BYTES &&
      safeVerify('sha256', signingInput, esKey, signature);
  }
  const modulusBytes = Math.ceil((publicKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  return (signingInput, signature) =>
    signature.length === modulusBytes && safeVerify('sha256', signingInput, publicKey, signature);
}

function safeVerify(
  hash: 'sha256' | null,
  signingInput: string,
  key: KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' },
  signature: Uint8Array,
): boolean {
  try {
    return cryptoVerify(hash, Buffer.from(signingInput, 'latin1'), key, signature);
  } catch {
    return false;
  }
}
