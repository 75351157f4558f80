import { AuthError } from '../errors.js';
import type { Logger } from '../runtime.js';
import { checkBreachedPassword } from './breached.js';
import { isCommonPassword } from './common-passwords.js';
import { findContextWord } from './context-words.js';
import { isRepetitivePassword } from './repetitive.js';

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
  /**
   * Whether the account has an active second factor (a confirmed TOTP factor): then
   * `PasswordRules.minLengthWithMfa` is the minimum length instead of `minLength`.
   */
  hasSecondFactor?: boolean;
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
 * What happens to a new password in the breached-password check (`passwords.breached` of
 * `createAuth`, resolved: the timeout in milliseconds).
 *
 * @example
 * ```ts
 * const breached: BreachedPasswordRule = { onUnavailable: 'allow', timeout: 2000, minCount: 1 };
 * await checkNewPassword(input, { minLength: 15, breached, logger });
 * ```
 */
export interface BreachedPasswordRule {
  /** What to do when the service cannot be reached, times out or answers non-200 (logged as a warning either way). */
  onUnavailable: 'allow' | 'refuse';
  /** @default 'https://api.pwnedpasswords.com' */
  baseUrl?: string | undefined;
  /** Milliseconds. @default 2000 */
  timeout?: number | undefined;
  /** Refuse a password seen in at least this many breaches. @default 1 */
  minCount?: number | undefined;
}

/**
 * The password rules applied at registration and on a password change (the `passwords` options
 * of `createAuth`). Beyond the length, a new password is always refused when it is one of the
 * built-in common passwords (`common`), one repeated character or unit or a keyboard or digit
 * sequence (`repetitive`), or contains a context word (`context`): the account's email, its local
 * part, the name or `productName`, or one of their words, each only when at least 4 characters.
 *
 * @example
 * ```ts
 * const rules: PasswordRules = { minLength: 15, productName: 'Acme Billing' };
 * await checkNewPassword(input, rules, { email: 'ada@example.com', name: 'Ada Lovelace' });
 * ```
 */
export interface PasswordRules {
  /** Minimum length in code points (after NFKC). */
  minLength: number;
  /**
   * Minimum length in code points for an account with an active second factor
   * (`context.hasSecondFactor`); absent: `minLength`.
   */
  minLengthWithMfa?: number | undefined;
  check?: PasswordCheck | undefined;
  /** The service's name, refused inside passwords like the account's email and name. */
  productName?: string | undefined;
  /** The optional Have I Been Pwned check; absent: no network call. */
  breached?: BreachedPasswordRule | undefined;
  /** Receives a warning when the breached-password check is unavailable. */
  logger?: Logger | undefined;
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
 * Applies the password rules to a new password and returns its normalised form. Throws
 * `VALIDATION_ERROR` with `details.reason`: `required`, `too_long`, `too_short`, `common`,
 * `repetitive`, `context`, `refused` (the `check` hook) or `breached`; or `SERVER_ERROR` (503)
 * when the breached-password check is unavailable and `onUnavailable` is `'refuse'`.
 *
 * @example
 * ```ts
 * import { checkNewPassword } from 'gatehouse';
 * await checkNewPassword('mauve lantern orbit pickle', { minLength: 15 }); // 'mauve lantern orbit pickle'
 * ```
 */
export async function checkNewPassword(
  password: unknown,
  rules: PasswordRules,
  context: PasswordCheckContext = {},
): Promise<string> {
  const normalized = normalizePassword(password);
  const minLength =
    context.hasSecondFactor === true
      ? (rules.minLengthWithMfa ?? rules.minLength)
      : rules.minLength;
  if (codePointLength(normalized) < minLength) {
    throw invalid(`Password must be at least ${minLength} characters long.`, 'too_short');
  }
  if (isCommonPassword(normalized)) {
    throw invalid('Password is one of the most common passwords; choose another.', 'common');
  }
  if (isRepetitivePassword(normalized)) {
    throw invalid(
      'Password is a repeated character or pattern or a keyboard or number sequence; choose another.',
      'repetitive',
    );
  }
  const word = findContextWord(normalized, { ...context, productName: rules.productName });
  if (word !== undefined) {
    throw invalid(
      'Password must not contain your email address, your name or the name of this service.',
      'context',
    );
  }
  if (rules.check) {
    const reason = await rules.check(normalized, context);
    if (typeof reason === 'string' && reason.length > 0) {
      throw invalid(`Password refused: ${reason}`, 'refused');
    }
  }
  if (rules.breached) await checkBreached(normalized, rules.breached, rules.logger);
  return normalized;
}

async function checkBreached(
  password: string,
  rule: BreachedPasswordRule,
  logger: Logger | undefined,
): Promise<void> {
  const result = await checkBreachedPassword(password, {
    baseUrl: rule.baseUrl,
    timeoutMs: rule.timeout,
  });
  if (result.status === 'found' && result.count >= (rule.minCount ?? 1)) {
    throw invalid(
      'Password has appeared in a data breach (Have I Been Pwned); choose another.',
      'breached',
    );
  }
  if (result.status !== 'unavailable') return;
  const refuse = rule.onUnavailable === 'refuse';
  logger?.warn(
    `breached-password check unavailable: ${refuse ? 'refusing' : 'allowing'} the new password`,
    { reason: result.reason, onUnavailable: rule.onUnavailable },
  );
  if (refuse) {
    throw new AuthError(
      'SERVER_ERROR',
      'The password could not be checked against known breaches; please try again later.',
      { status: 503, details: { field: 'password', reason: 'breached_check_unavailable' } },
    );
  }
}
