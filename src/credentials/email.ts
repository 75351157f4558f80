import { AuthError } from '../errors.js';

const MAX_EMAIL_LENGTH = 254;
// Pragmatic address check: one @, a local part without spaces or control characters, and a
// domain of dot-separated labels ending in a label of at least two letters.
const EMAIL =
  /^[^\s@\p{Cc}]{1,64}@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+[\p{L}]{2,63}$/u;

/**
 * Normalises an email address for storage and comparison: NFKC, trimmed, lower-cased.
 * Returns null when the result is not a plausible address.
 *
 * @example
 * ```ts
 * import { normalizeEmail } from 'gatehouse';
 * normalizeEmail('  Alice@Example.COM '); // 'alice@example.com'
 * normalizeEmail('not-an-email');         // null
 * ```
 */
export function normalizeEmail(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > MAX_EMAIL_LENGTH * 2) return null;
  const email = input.normalize('NFKC').trim().toLowerCase();
  if (email.length === 0 || email.length > MAX_EMAIL_LENGTH || !EMAIL.test(email)) return null;
  return email;
}

/** Like {@link normalizeEmail} but throws `VALIDATION_ERROR` for an invalid address. */
export function requireEmail(input: unknown): string {
  const email = normalizeEmail(input);
  if (email === null) {
    throw new AuthError('VALIDATION_ERROR', 'A valid email address is required.', {
      details: { field: 'email', reason: 'invalid' },
    });
  }
  return email;
}
