// Encryption at rest of the TOTP secrets: AES-256-GCM under a keyring. The first key seals,
// any key of the ring opens (by the id written in the sealed value), so keys rotate without a
// migration: put the new key first, keep the old ones until every secret was re-sealed.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AuthError } from '../errors.js';

/**
 * One key of `mfa.encryptionKeys`: an id (letters, digits, `_`, `-`; at most 64) written into
 * every value it seals, and 32 bytes of key, as 64 hex characters, base64 / base64url (43 or 44
 * characters) or a `Uint8Array`. {@link generateMfaKey} makes one.
 *
 * @example
 * ```ts
 * const key: MfaEncryptionKey = { id: '2026-01', key: process.env.MFA_KEY! };
 * createAuth({ mfa: { encryptionKeys: [key] } });
 * ```
 */
export interface MfaEncryptionKey {
  id: string;
  key: string | Uint8Array;
}

/** Seals and opens secrets bound to one user id (internal: the MFA flow holds one). */
export interface SecretBox {
  /** `v1.<keyId>.<iv>.<ciphertext+tag>` (base64url parts), sealed with the first key. */
  seal(userId: string, plaintext: string): string;
  /**
   * The plaintext, and whether it was sealed with a key other than the first (`stale`: seal it
   * again and store it, so the old key can retire). Throws `AuthError('INVALID_CONFIG')` when
   * the key id is not in the ring, `AuthError('SERVER_ERROR')` when the value is malformed,
   * altered, or sealed for another user id. Both are server faults, never the user's.
   */
  open(userId: string, sealed: string): { plaintext: string; stale: boolean };
  /** The id of the key that seals. */
  readonly currentKeyId: string;
}

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;
const BASE64URL_PART = /^[A-Za-z0-9_-]+$/;
const OPTION = 'mfa.encryptionKeys';

function invalidRing(message: string): AuthError {
  return new AuthError('INVALID_CONFIG', `Invalid createAuth options: ${OPTION}${message}`, {
    details: { option: OPTION },
  });
}

function keyBytes(key: unknown, index: number): Buffer {
  const where = `[${index}].key`;
  if (key instanceof Uint8Array) {
    if (key.byteLength !== KEY_BYTES) {
      throw invalidRing(`${where} must be ${KEY_BYTES} bytes (got ${key.byteLength})`);
    }
    return Buffer.from(key);
  }
  if (typeof key === 'string') {
    if (HEX_KEY.test(key)) return Buffer.from(key, 'hex');
    if (BASE64_KEY.test(key)) {
      const bytes = Buffer.from(key.replace(/\+/g, '-').replace(/\//g, '_'), 'base64url');
      if (bytes.byteLength === KEY_BYTES) return bytes;
    }
    throw invalidRing(
      `${where} must be ${KEY_BYTES} bytes: 64 hex characters or base64 of 32 bytes (generateMfaKey() makes one)`,
    );
  }
  throw invalidRing(`${where} must be a string or a Uint8Array`);
}

/** The additional data of a seal: the format, the key id and the user id are authenticated. */
function additionalData(keyId: string, userId: string): Buffer {
  return Buffer.from(`gatehouse/mfa-secret/${VERSION}\u0000${keyId}\u0000${userId}`, 'utf8');
}

function unreadable(reason: string): AuthError {
  return new AuthError('SERVER_ERROR', `the stored MFA secret ${reason}`);
}

/**
 * Validates a keyring and returns the box that seals with its first key and opens with any.
 * Throws `AuthError('INVALID_CONFIG')` naming `mfa.encryptionKeys` for an empty ring, a bad or
 * duplicate id, or a key that is not 32 bytes. Nonces are 12 bytes from `crypto.randomBytes`
 * (never the injected randomness: a repeated GCM nonce would leak the key stream).
 */
export function createSecretBox(keys: readonly MfaEncryptionKey[]): SecretBox {
  if (!Array.isArray(keys) || keys.length === 0) {
    throw invalidRing(' must hold at least one key ({ id, key })');
  }
  const ring = new Map<string, Buffer>();
  keys.forEach((entry, index) => {
    const id = (entry as Partial<MfaEncryptionKey> | null)?.id;
    if (typeof id !== 'string' || !KEY_ID.test(id)) {
      throw invalidRing(`[${index}].id must be 1–64 letters, digits, _ or -`);
    }
    if (ring.has(id)) throw invalidRing(`[${index}].id "${id}" is used twice`);
    ring.set(id, keyBytes(entry.key, index));
  });
  const [currentKeyId, currentKey] = ring.entries().next().value as [string, Buffer];

  return {
    currentKeyId,
    seal(userId, plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', currentKey, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(additionalData(currentKeyId, userId));
      const body = Buffer.concat([
        cipher.update(plaintext, 'utf8'),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return `${VERSION}.${currentKeyId}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(userId, sealed) {
      const parts = typeof sealed === 'string' ? sealed.split('.') : [];
      if (parts.length !== 4 || parts[0] !== VERSION) {
        throw unreadable(`is not a sealed value of format ${VERSION}.<keyId>.<iv>.<ciphertext>`);
      }
      const [, keyId, ivText, bodyText] = parts as [string, string, string, string];
      const key = ring.get(keyId);
      if (key === undefined) {
        throw new AuthError(
          'INVALID_CONFIG',
          `the stored MFA secret was sealed with key "${keyId}", which ${OPTION} does not hold (it holds ${[
            ...ring.keys(),
          ]
            .map((id) => `"${id}"`)
            .join(', ')}): put that key back in the ring, after the current one`,
          { details: { option: OPTION, keyId } },
        );
      }
      if (!BASE64URL_PART.test(ivText) || !BASE64URL_PART.test(bodyText)) {
        throw unreadable('has a part that is not base64url');
      }
      const iv = Buffer.from(ivText, 'base64url');
      const body = Buffer.from(bodyText, 'base64url');
      if (iv.byteLength !== IV_BYTES || body.byteLength < TAG_BYTES) {
        throw unreadable('has a nonce or ciphertext of the wrong length');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(additionalData(keyId, userId));
        decipher.setAuthTag(body.subarray(body.byteLength - TAG_BYTES));
        const plaintext = Buffer.concat([
          decipher.update(body.subarray(0, body.byteLength - TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
        return { plaintext, stale: keyId !== currentKeyId };
      } catch (cause) {
        throw new AuthError(
          'SERVER_ERROR',
          `the stored MFA secret does not decrypt with key "${keyId}" for this user: it was altered, or copied from another user's row`,
          { cause },
        );
      }
    },
  };
}

/**
 * A new key for `mfa.encryptionKeys`: 32 random bytes as base64url (43 characters). Generate it
 * once, keep it in your secret manager, and give every instance the same ring.
 *
 * @example
 * ```ts
 * import { generateMfaKey } from 'gatehouse';
 * console.log(`MFA_KEY=${generateMfaKey()}`); // once, then: { id: '2026-01', key: process.env.MFA_KEY }
 * ```
 */
export function generateMfaKey(): string {
  return randomBytes(KEY_BYTES).toString('base64url');
}
