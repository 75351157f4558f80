import { createHmac, hkdfSync } from 'node:crypto';
import { AuthError } from '../errors.js';
import type { Logger, RandomSource } from '../runtime.js';

// The label of the lockout subkey: a key derived for one purpose is never used for another.
const LOCKOUT_KEY_INFO = 'gatehouse/lockout-counter-key/v1';

/** The bytes of an `identifierKey` / `auditEmailKey` option (a string is taken as UTF-8). */
export function secretBytes(key: string | Uint8Array): Uint8Array {
  return typeof key === 'string' ? new TextEncoder().encode(key) : key;
}

/**
 * The lockout counter key of a normalised login identifier:
 * `login:` + base64url(HMAC-SHA256(k, identifier)), where k is derived from the identifier key
 * with HKDF-SHA256 under its own label. A store thus holds neither the typed text nor anything
 * that can be checked against a guessed address without the key; the same key on every
 * instance gives the same counter key, which is what makes a shared store's lockout shared.
 */
export function lockoutKeyHasher(identifierKey: Uint8Array): (identifier: string) => string {
  const subkey = Buffer.from(
    hkdfSync('sha256', identifierKey, new Uint8Array(0), LOCKOUT_KEY_INFO, 32),
  );
  return (identifier) =>
    `login:${createHmac('sha256', subkey).update(identifier, 'utf8').digest('base64url')}`;
}

/**
 * The identifier key of an instance: `identifierKey` (or its deprecated alias `auditEmailKey`)
 * when given, otherwise 32 random bytes. A random key is fine for a memory store, whose counters
 * live in this instance anyway; with a shared store every instance must hash an identifier to
 * the same counter key, so in production a missing key is a configuration error, and elsewhere
 * a warning.
 */
export function resolveIdentifierKey(options: {
  identifierKey: string | Uint8Array | undefined;
  auditEmailKey: string | Uint8Array | undefined;
  sharedAttemptStore: boolean;
  production: boolean;
  random: RandomSource;
  logger: Logger;
}): Uint8Array {
  const given = options.identifierKey ?? options.auditEmailKey;
  if (given !== undefined) return secretBytes(given);
  if (options.sharedAttemptStore) {
    const why =
      'lockout counters in a shared store (stores.attempts) are keyed hashes of the login identifier, so every instance must use the same identifierKey; a random key per instance would give each its own counters and split the lockout';
    if (options.production) {
      throw new AuthError(
        'INVALID_CONFIG',
        `Invalid createAuth options: identifierKey is required when NODE_ENV=production and stores.attempts is not a MemoryAttemptStore: ${why}. Set identifierKey to the same secret (at least 16 bytes) on every instance.`,
      );
    }
    options.logger.warn(
      `no identifierKey: using a random key for this instance only; ${why}. Set identifierKey (required when NODE_ENV=production).`,
    );
  }
  return options.random.bytes(32);
}
