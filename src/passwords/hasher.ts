import { hash, parseOptions, verify } from '@node-rs/bcrypt';

/**
 * Computes and checks password hashes. gatehouse uses bcrypt through @node-rs/bcrypt; inject
 * another implementation to count or instrument password checks in tests.
 *
 * @example
 * ```ts
 * import { bcryptHasher, createAuth } from 'gatehouse';
 * let checks = 0;
 * const countingHasher = { ...bcryptHasher, verify: (pw, h) => (checks++, bcryptHasher.verify(pw, h)) };
 * const auth = createAuth({ passwordHasher: countingHasher });
 * ```
 */
export interface PasswordHasher {
  /** Hashes an already normalised and length-checked password with the given cost. */
  hash(password: string, cost: number): Promise<string>;
  /** Checks a password against a stored hash; false (never a throw) for a malformed hash. */
  verify(password: string, hash: string): Promise<boolean>;
  /** The cost a stored hash was made with, or null when it is not a bcrypt hash. */
  costOf(hash: string): number | null;
  /** Whether a stored hash should be replaced after a successful login (cost or version differ). */
  needsRehash(hash: string, cost: number): boolean;
}

const BCRYPT_HASH = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/**
 * The default {@link PasswordHasher}: bcrypt (`$2b$`) via @node-rs/bcrypt. Verifies `$2a$`,
 * `$2b$` and `$2y$` hashes made by other implementations.
 *
 * @example
 * ```ts
 * import { bcryptHasher } from 'gatehouse';
 * const stored = await bcryptHasher.hash('correct horse', 10);
 * await bcryptHasher.verify('correct horse', stored); // true
 * ```
 */
export const bcryptHasher: PasswordHasher = {
  hash: (password, cost) => hash(password, { cost, version: '2b' }),
  async verify(password, stored) {
    if (typeof stored !== 'string' || !BCRYPT_HASH.test(stored)) return false;
    try {
      return await verify(password, stored);
    } catch {
      return false;
    }
  },
  costOf(stored) {
    if (typeof stored !== 'string' || !BCRYPT_HASH.test(stored)) return null;
    try {
      return parseOptions(stored).cost;
    } catch {
      return null;
    }
  },
  needsRehash(stored, cost) {
    return bcryptHasher.costOf(stored) !== cost || !stored.startsWith('$2b$');
  },
};
