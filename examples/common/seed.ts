import type { Auth, AuthError, PublicUser } from 'gatehouse';
import { ConfigError } from './env.js';
import type { JsonLogger } from './logger.js';

/** The demo accounts seeded into the embedded database, printed at start. */
export const DEMO_ACCOUNTS = [
  {
    email: 'user@example.com',
    password: 'velvet otter tangerine',
    name: 'Demo User',
    role: 'user',
  },
  {
    email: 'admin@example.com',
    password: 'granite lantern orbit',
    name: 'Demo Admin',
    role: 'admin',
  },
] as const;

/**
 * Creates an account, or finds the existing one; then gives it the role. Idempotent: running it
 * at every start changes nothing the second time.
 */
export async function ensureAccount(
  auth: Auth,
  account: { email: string; password: string; name: string; role: string },
): Promise<{ created: boolean; promoted: boolean; user: PublicUser }> {
  let user = await auth.findUserByEmail(account.email);
  let created = false;
  if (!user) {
    try {
      user = await auth.register(account);
      created = true;
    } catch (err) {
      if ((err as AuthError).code !== 'EMAIL_TAKEN') throw err;
      user = await auth.findUserByEmail(account.email);
    }
  }
  if (!user) throw new Error(`could not create ${account.email}`);
  const promoted = user.role !== account.role;
  if (promoted) await auth.setRole(user.id, account.role);
  return { created, promoted, user };
}

export async function seed(
  auth: Auth,
  options: { demo: boolean; admin?: { email: string; password: string } | undefined },
  logger: JsonLogger,
  hooks: {
    /** Marks an account the operator configured as verified (no verification mail for it). */
    markVerified?: (userId: string) => Promise<void>;
  } = {},
): Promise<void> {
  const verified = async (user: PublicUser) => {
    if (hooks.markVerified && user.emailVerified !== true) await hooks.markVerified(user.id);
  };
  if (options.demo) {
    for (const account of DEMO_ACCOUNTS) await verified((await ensureAccount(auth, account)).user);
  }
  if (options.admin) {
    const { created, promoted, user } = await ensureAccount(auth, {
      ...options.admin,
      name: 'Administrator',
      role: 'admin',
    }).catch((err: unknown) => {
      // A refused ADMIN_PASSWORD is a configuration error: say which variable and why.
      if ((err as AuthError).code !== 'VALIDATION_ERROR') throw err;
      throw new ConfigError(
        `Invalid configuration:\n  ${(err as AuthError).details?.['field'] === 'password' ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL'}: ${(err as Error).message}`,
      );
    });
    await verified(user);
    logger.info('admin account ready', { created, promoted });
  }
}
