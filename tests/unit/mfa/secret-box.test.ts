import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/errors.js';
import { generateMfaKey } from '../../../src/index.js';
import { createSecretBox, type MfaEncryptionKey } from '../../../src/mfa/secret-box.js';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const OLD: MfaEncryptionKey = { id: '2025-01', key: randomBytes(32).toString('hex') };
const NEW: MfaEncryptionKey = { id: '2026-01', key: generateMfaKey() };

function errorOf(fn: () => unknown): AuthError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    return err as AuthError;
  }
  throw new Error('expected a throw');
}

/** Flips one bit of the base64url part `index` of a sealed value. */
function flipBit(sealed: string, index: 2 | 3, byte = 0): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index] as string, 'base64url');
  bytes[byte] = (bytes[byte] as number) ^ 1;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('secret box (AES-256-GCM, AAD = user id)', () => {
  it('seals to v1.<keyId>.<iv>.<ciphertext+tag> and opens back, with a fresh nonce each time', () => {
    const box = createSecretBox([NEW]);
    const a = box.seal('user-1', SECRET);
    const b = box.seal('user-1', SECRET);
    expect(a).toMatch(/^v1\.2026-01\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain(SECRET);
    expect(box.open('user-1', a)).toEqual({ plaintext: SECRET, stale: false });
    expect(box.open('user-1', b).plaintext).toBe(SECRET);
  });

  it('tampered ciphertext is refused (SERVER_ERROR), never decrypted to something else', () => {
    const box = createSecretBox([NEW]);
    const sealed = box.seal('user-1', SECRET);
    for (const altered of [flipBit(sealed, 3), flipBit(sealed, 3, 25), flipBit(sealed, 2)]) {
      const err = errorOf(() => box.open('user-1', altered));
      expect(err.code).toBe('SERVER_ERROR');
      expect(err.message).toMatch(/altered|copied/);
    }
  });

  it("a secret copied into another user's row does not decrypt (AAD binds the user id)", () => {
    const box = createSecretBox([NEW]);
    const victims = box.seal('victim', SECRET);
    const err = errorOf(() => box.open('attacker', victims));
    expect(err.code).toBe('SERVER_ERROR');
    expect(err.message).toMatch(/another user/);
  });

  it('a sealed value relabelled with another key id of the ring is refused (the key id is authenticated)', () => {
    const box = createSecretBox([NEW, { id: 'twin', key: NEW.key }]);
    const sealed = box.seal('user-1', SECRET);
    const relabelled = sealed.replace('v1.2026-01.', 'v1.twin.');
    expect(errorOf(() => box.open('user-1', relabelled)).code).toBe('SERVER_ERROR');
  });

  it('an unknown key id is a clear INVALID_CONFIG error naming the id and mfa.encryptionKeys', () => {
    const sealed = createSecretBox([OLD]).seal('user-1', SECRET);
    const err = errorOf(() => createSecretBox([NEW]).open('user-1', sealed));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain('"2025-01"');
    expect(err.message).toContain('mfa.encryptionKeys');
    expect(err.message).toContain('"2026-01"');
  });

  it('malformed stored values (truncated, other version, junk) are SERVER_ERROR, not a crash', () => {
    const box = createSecretBox([NEW]);
    const sealed = box.seal('user-1', SECRET);
    for (const junk of [
      '',
      'plaintext-secret',
      sealed.replace(/^v1\./, 'v2.'),
      sealed.split('.').slice(0, 3).join('.'),
      `${sealed}.extra`,
      sealed.replace(/\.[^.]+$/, '.AAAA'),
      sealed.replace(/\.([^.]+)\.([^.]+)$/, '.!!!!.$2'),
      null as unknown as string,
    ]) {
      expect(errorOf(() => box.open('user-1', junk)).code, String(junk)).toBe('SERVER_ERROR');
    }
  });

  describe('key rotation', () => {
    it('after rotation the old key still decrypts (stale), the new key encrypts', () => {
      const before = createSecretBox([OLD]);
      const sealedOld = before.seal('user-1', SECRET);
      const after = createSecretBox([NEW, OLD]);
      expect(after.currentKeyId).toBe('2026-01');
      expect(after.open('user-1', sealedOld)).toEqual({ plaintext: SECRET, stale: true });
      const resealed = after.seal('user-1', SECRET);
      expect(resealed.startsWith('v1.2026-01.')).toBe(true);
      expect(after.open('user-1', resealed)).toEqual({ plaintext: SECRET, stale: false });
      // Once re-sealed, the old key can leave the ring.
      expect(createSecretBox([NEW]).open('user-1', resealed).plaintext).toBe(SECRET);
    });

    it('a value sealed under the new key is unreadable by an instance that has only the old key (deploy the ring before the order change)', () => {
      const sealed = createSecretBox([NEW, OLD]).seal('user-1', SECRET);
      expect(errorOf(() => createSecretBox([OLD]).open('user-1', sealed)).code).toBe(
        'INVALID_CONFIG',
      );
      expect(createSecretBox([OLD, NEW]).open('user-1', sealed)).toEqual({
        plaintext: SECRET,
        stale: true,
      });
    });
  });

  describe('keyring validation (INVALID_CONFIG naming mfa.encryptionKeys)', () => {
    it('accepts hex, base64, base64url and 32-byte Uint8Array keys', () => {
      const raw = randomBytes(32);
      for (const key of [
        raw.toString('hex'),
        raw.toString('base64'),
        raw.toString('base64').replace(/=$/, ''),
        raw.toString('base64url'),
        new Uint8Array(raw),
      ]) {
        const box = createSecretBox([{ id: 'k', key }]);
        const other = createSecretBox([{ id: 'k', key: raw }]);
        expect(other.open('u', box.seal('u', SECRET)).plaintext).toBe(SECRET);
      }
    });

    it.each([
      ['an empty ring', [], /at least one key/],
      ['a 16-byte key', [{ id: 'k', key: randomBytes(16) }], /\[0\]\.key must be 32 bytes/],
      ['a short hex key', [{ id: 'k', key: 'ab'.repeat(31) }], /\[0\]\.key must be 32 bytes/],
      ['a passphrase', [{ id: 'k', key: 'correct horse battery staple' }], /\[0\]\.key/],
      ['a number', [{ id: 'k', key: 42 }], /\[0\]\.key must be a string or a Uint8Array/],
      ['an id with a dot', [{ id: 'a.b', key: generateMfaKey() }], /\[0\]\.id/],
      ['an empty id', [{ id: '', key: generateMfaKey() }], /\[0\]\.id/],
      [
        'a duplicate id',
        [
          { id: 'k', key: generateMfaKey() },
          { id: 'k', key: generateMfaKey() },
        ],
        /\[1\]\.id "k" is used twice/,
      ],
    ])('refuses %s', (_, keys, message) => {
      const err = errorOf(() => createSecretBox(keys as MfaEncryptionKey[]));
      expect(err.code).toBe('INVALID_CONFIG');
      expect(err.message).toContain('mfa.encryptionKeys');
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain('correct horse'); // a key never appears in a message
    });
  });

  it('generateMfaKey gives 32 random bytes as base64url, different each time', () => {
    const a = generateMfaKey();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(generateMfaKey()).not.toBe(a);
  });
});
