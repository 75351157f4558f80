import { AuthError } from '../errors.js';

/**
 * bcrypt reads at most this many bytes of a password; gatehouse refuses longer ones (after NFKC
 * normalisation, counted in UTF-8 bytes) instead of truncating them.
 *
 * @example
 * ```ts
 * import { MAX_PASSWORD_BYTES } from 'gatehouse';
 * const fits = new TextEncoder().encode(password.normalize('NFKC')).length <= MAX_PASSWORD_BYTES;
 * ```
 */
export const MAX_PASSWORD_BYTES = 72;

/**
 * Inputs longer than this many UTF-16 units are refused before normalisation: NFKC can shrink
 * text by at most a small factor, so such a password can never fit in 72 bytes, and refusing it
 * early keeps a 1 MiB password from costing any work.
 */
const MAX_RAW_LENGTH = 1024;

const encoder = new TextEncoder();

/**
 * Context given to a {@link PasswordCheck}: the account's email and name when known, so a check
 * can refuse a password that contains them.
 *
 * @example
 * ```ts
 * const check = (password: string, { email }: PasswordCheckContext) =>
 *   email && password.toLowerCase().includes(email.split('@')[0]!) ? 'contains your email' : null;
 * ```
 */
export interface PasswordCheckContext {
  email?: string;
  name?: string;
}

/**
 * A hook that can refuse a password (blocklist, breached-password check). Return a reason to
 * refuse it, or null/undefined to accept it.
 *
 * @example
 * ```ts
 * const check: PasswordCheck = (pw) => (pw.toLowerCase().includes('password') ? 'too common' : null);
 * ```
 */
export type PasswordCheck = (
  password: string,
  context: PasswordCheckContext,
) => string | null | undefined | Promise<string | null | undefined>;

/**
 * The password rules applied at registration and on a password change (`passwords.minLength`
 * and `passwords.check` of `createAuth`).
 *
 * @example
 * ```ts
 * const rules: PasswordRules = { minLength: 10, check: (pw) => (blocklist.has(pw) ? 'too common' : null) };
 * await checkNewPassword(input, rules);
 * ```
 */
export interface PasswordRules {
  /** Minimum length in code points (after NFKC). */
  minLength: number;
  check?: PasswordCheck | undefined;
}

function invalid(message: string, reason: string): AuthError {
  return new AuthError('VALIDATION_ERROR', message, { details: { field: 'password', reason } });
}

/**
 * Normalises a password (NFKC) and checks that bcrypt will read all of it: at most 72 UTF-8
 * bytes. Throws `VALIDATION_ERROR` instead of ever truncating silently.
 *
 * @example
 * ```ts
 * import { normalizePassword } from 'gatehouse';
 * normalizePassword('ｐａｓｓ'); // 'pass' (full-width letters fold under NFKC)
 * ```
 */
export function normalizePassword(password: unknown): string {
  if (typeof password !== 'string' || password.length === 0) {
    throw invalid('Password is required.', 'required');
  }
  if (password.length > MAX_RAW_LENGTH) {
    throw invalid(`Password must be at most ${MAX_PASSWORD_BYTES} bytes long.`, 'too_long');
  }
  const normalized = password.normalize('NFKC');
  if (encoder.encode(normalized).length > MAX_PASSWORD_BYTES) {
    throw invalid(
      `Password must be at most ${MAX_PASSWORD_BYTES} bytes long (UTF-8); longer passwords would be silently truncated by bcrypt.`,
      'too_long',
    );
  }
  return normalized;
}

/** Counts code points, not UTF-16 units: an emoji is one character. */
export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * Applies the password rules to a new password and returns its normalised form.
 * Throws `VALIDATION_ERROR` with the reason.
 *
 * @example
 * ```ts
 * import { checkNewPassword } from 'gatehouse';
 * await checkNewPassword('correct horse battery', { minLength: 8 }); // 'correct horse battery'
 * ```
 */
export async function checkNewPassword(
  password: unknown,
  rules: PasswordRules,
  context: PasswordCheckContext = {},
): Promise<string> {
  const normalized = normalizePassword(password);
  if (codePointLength(normalized) < rules.minLength) {
    throw invalid(`Password must be at least ${rules.minLength} characters long.`, 'too_short');
  }
  if (rules.check) {
    const reason = await rules.check(normalized, context);
    if (typeof reason === 'string' && reason.length > 0) {
      throw invalid(`Password refused: ${reason}`, 'refused');
    }
  }
  return normalized;
}
