// Recovery codes: ten single-use codes shown once at enrolment, stored only as keyed hashes.
// Alphabet: Crockford's base32 in lower case (no i, l, o, u), so a code read aloud or typed from
// paper survives the usual confusions: input is folded (o -> 0, i and l -> 1, case, dashes and
// spaces) before it is hashed.
import { createHmac, hkdfSync } from 'node:crypto';
import type { RandomSource } from '../runtime.js';
import { decodeBase32 } from './totp.js';

/** Codes generated per set. */
export const RECOVERY_CODE_COUNT = 10;
/** Symbols per code: 10 of 32, so 50 bits each. */
const SYMBOLS = 10;
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const NORMALISED = /^[0-9a-hjkmnp-tv-z]{10}$/;
/** Longer input cannot be a code, folded or not: refused before any work. */
const MAX_INPUT_LENGTH = 64;
// A key derived for one purpose is never used for another.
const HASH_KEY_INFO = 'gatehouse/mfa-recovery-code-key/v1';

/** `xxxx-xxxx-xx` from 10 symbols. */
function format(symbols: string): string {
  return `${symbols.slice(0, 4)}-${symbols.slice(4, 8)}-${symbols.slice(8)}`;
}

/**
 * `count` distinct codes `xxxx-xxxx-xx` from the injected randomness: each symbol is the low 5
 * bits of one random byte (256 is a multiple of 32, so every symbol is equally likely), 50 bits
 * per code. Throws a TypeError when the source returns fewer bytes than asked.
 */
export function generateRecoveryCodes(random: RandomSource, count = RECOVERY_CODE_COUNT): string[] {
  if (!Number.isInteger(count) || count < 1 || count > 100) {
    throw new TypeError('generateRecoveryCodes: count must be an integer from 1 to 100');
  }
  const codes = new Set<string>();
  // A repeat among 50-bit codes is astronomically unlikely; the bound only stops a broken source.
  for (let round = 0; codes.size < count; round++) {
    if (round >= count * 4) throw new TypeError('the random source keeps repeating itself');
    const bytes = random.bytes(SYMBOLS);
    if (bytes.byteLength < SYMBOLS) {
      throw new TypeError(`the random source returned ${bytes.byteLength} bytes, not ${SYMBOLS}`);
    }
    let symbols = '';
    for (let i = 0; i < SYMBOLS; i++) symbols += ALPHABET[(bytes[i] as number) & 31];
    codes.add(format(symbols));
  }
  return [...codes];
}

/**
 * The canonical form of a typed code (10 symbols, no separators), or null when it cannot be
 * one: case folded, spaces and dashes removed, `o` read as `0`, `i` and `l` as `1`.
 */
export function normaliseRecoveryCode(input: string): string | null {
  if (typeof input !== 'string' || input.length > MAX_INPUT_LENGTH) return null;
  const folded = input
    .toLowerCase()
    .replace(/[\s-]+/g, '')
    .replace(/o/g, '0')
    .replace(/[il]/g, '1');
  return NORMALISED.test(folded) ? folded : null;
}

/**
 * The stored form of a recovery code: base64url HMAC-SHA256 over the user id and the normalised
 * code, under a key derived (HKDF-SHA256, its own label) from the user's TOTP secret. So a
 * database leak alone cannot test guesses offline (the secret is encrypted with
 * `mfa.encryptionKeys`), a hash copied to another user matches nothing, and rotating the
 * encryption keys changes nothing. Null when `code` is not a well-formed code (the caller
 * answers as for a wrong one). Throws a TypeError for a secret that is not base32.
 */
export function hashRecoveryCode(secret: string, userId: string, code: string): string | null {
  const normalised = normaliseRecoveryCode(code);
  if (normalised === null) return null;
  const key = Buffer.from(
    hkdfSync('sha256', decodeBase32(secret), new Uint8Array(0), HASH_KEY_INFO, 32),
  );
  return createHmac('sha256', key)
    .update(`${userId}\u0000${normalised}`, 'utf8')
    .digest('base64url');
}
