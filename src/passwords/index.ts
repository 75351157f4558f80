import { AuthError } from '../errors.js';
import { bcryptHasher } from './hasher.js';
import { normalizePassword } from './policy.js';

export const MIN_BCRYPT_COST = 10;
export const DEFAULT_BCRYPT_COST = 10;

/**
 * Options of {@link hashPassword}.
 *
 * @example
 * ```ts
 * const options: HashPasswordOptions = { cost: 12 };
 * const hash = await hashPassword('correct horse battery', options);
 * ```
 */
export interface HashPasswordOptions {
  /** bcrypt cost factor, 10 to 31. @default 10 */
  cost?: number;
}

/**
 * Hashes a password with bcrypt (`$2b$`) after NFKC normalisation. Refuses a password over 72
 * UTF-8 bytes and a cost below 10 instead of truncating or weakening silently.
 *
 * @example
 * ```ts
 * import { hashPassword } from 'gatehouse';
 * const hash = await hashPassword('correct horse battery', { cost: 12 });
 * ```
 */
export async function hashPassword(
  password: string,
  options: HashPasswordOptions = {},
): Promise<string> {
  const cost = options.cost ?? DEFAULT_BCRYPT_COST;
  if (!Number.isInteger(cost) || cost < MIN_BCRYPT_COST || cost > 31) {
    throw new AuthError(
      'INVALID_CONFIG',
      `Invalid cost: bcrypt cost must be an integer from ${MIN_BCRYPT_COST} to 31 (got ${String(cost)}).`,
    );
  }
  return bcryptHasher.hash(normalizePassword(password), cost);
}

/**
 * Checks a password against a bcrypt hash (`$2a$`, `$2b$`, `$2y$`), after NFKC normalisation.
 * Returns false, never throws, for a wrong password, a malformed hash or a password over 72
 * bytes (which bcrypt would otherwise truncate and might accept).
 *
 * @example
 * ```ts
 * import { verifyPassword } from 'gatehouse';
 * if (await verifyPassword(input, user.passwordHash)) { ... }
 * ```
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  let normalized: string;
  try {
    normalized = normalizePassword(password);
  } catch {
    return false;
  }
  return bcryptHasher.verify(normalized, hash);
}
