import { isBanned } from '../account/ban.js';
import type { AuditEmitter, RequestContext } from '../audit/emitter.js';
import { AuthError } from '../errors.js';
import type { PasswordHasher } from '../passwords/hasher.js';
import { checkNewPassword, normalizePassword, type PasswordRules } from '../passwords/policy.js';
import type { Clock, Logger } from '../runtime.js';
import type {
  AttemptStore,
  LockoutRule,
  PublicUser,
  UserRecord,
  UserStore,
} from '../stores/types.js';
import { noopTelemetry, type Telemetry } from '../telemetry/telemetry.js';
import { normalizeEmail, requireEmail } from './email.js';

/**
 * The fields of a registration. The email is normalised (trimmed, lower-cased, NFKC), the name
 * trimmed (1 to 100 characters), the password checked against the password rules.
 *
 * @example
 * ```ts
 * const input: RegisterInput = { email: 'ada@example.com', password: 'correct horse battery', name: 'Ada' };
 * const user = await auth.register(input);
 * ```
 */
export interface RegisterInput {
  email: string;
  password: string;
  name: string;
}

/**
 * The fields of a login.
 *
 * @example
 * ```ts
 * const input: LoginInput = { email: 'ada@example.com', password: 'correct horse battery' };
 * const { token, refreshToken, user } = await auth.login(input, { ip: req.ip });
 * ```
 */
export interface LoginInput {
  email: string;
  password: string;
  /**
   * A name for the new session in the sessions list ("Work laptop"): 1–100 printable
   * characters (VALIDATION_ERROR otherwise, before the password is checked). @default none
   */
  deviceLabel?: string | undefined;
}

export interface CredentialServiceOptions {
  users: UserStore;
  attempts: AttemptStore;
  hasher: PasswordHasher;
  cost: number;
  rules: PasswordRules;
  lockout: Omit<LockoutRule, 'now'>;
  /** The AttemptStore key of a normalised identifier: a keyed hash, never the text itself. */
  lockoutKey: (identifier: string) => string;
  defaultRole: string;
  /**
   * `emailVerification.required`: a login with the correct password to an account whose email
   * is not verified fails with EMAIL_NOT_VERIFIED.
   */
  requireVerifiedEmail?: boolean;
  clock: Clock;
  logger: Logger;
  audit: AuditEmitter;
  /** Counts each lock taken (`gatehouse.lockouts`). @default off */
  telemetry?: Telemetry;
  /**
   * The login's second step (`mfa`), run after the correct password and every other check:
   * throws MFA_REQUIRED / MFA_ENROLLMENT_REQUIRED (with a challenge) or returns. @default none
   */
  secondFactor?: (user: UserRecord) => Promise<void>;
  /**
   * Whether the user has an active second factor: a new password then needs only
   * `rules.minLengthWithMfa`. @default none (never)
   */
  hasSecondFactor?: (userId: string) => Promise<boolean>;
}

const MAX_NAME_LENGTH = 100;

/** Strips the hash: the only shape of a user that leaves the core. */
export function toPublicUser(user: UserRecord): PublicUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    emailVerified: user.emailVerified === true,
  };
}

/** Validates a display name: a string, trimmed, 1 to 100 characters, no control characters. */
export function requireName(input: unknown): string {
  const name = typeof input === 'string' ? input.normalize('NFKC').trim() : '';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (name.length === 0 || name.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new AuthError(
      'VALIDATION_ERROR',
      `Name is required and must be at most ${MAX_NAME_LENGTH} characters.`,
      { details: { field: 'name', reason: 'invalid' } },
    );
  }
  return name;
}

/**
 * Registration, enumeration-safe login with atomic lockout, and password change over a
 * UserStore and an AttemptStore.
 */
export class CredentialService {
  readonly #o: CredentialServiceOptions;
  #dummyHash: Promise<string> | undefined;

  constructor(options: CredentialServiceOptions) {
    this.#o = options;
  }

  /**
   * A hash of a random password with the configured cost, verified against when the account
   * does not exist so that an unknown email costs as much time as a wrong password.
   */
  dummyHash(): Promise<string> {
    this.#dummyHash ??= this.#o.hasher.hash(
      `dummy-${Math.random().toString(36)}-${this.#o.clock.now()}`,
      this.#o.cost,
    );
    return this.#dummyHash;
  }

  async register(input: RegisterInput, context: RequestContext = {}): Promise<PublicUser> {
    const email = requireEmail(input?.email);
    const name = requireName(input?.name);
    const password = await checkNewPassword(input?.password, this.#o.rules, { email, name });
    const passwordHash = await this.#o.hasher.hash(password, this.#o.cost);
    const user = await this.#o.users.create({
      email,
      name,
      role: this.#o.defaultRole,
      passwordHash,
    });
    this.#o.audit.emit({
      event: 'USER_REGISTERED',
      status: 'success',
      userId: user.id,
      email,
      context,
    });
    return toPublicUser(user);
  }

  /**
   * Verifies a login. Unknown email, wrong password, disabled and banned account all fail with
   * INVALID_CREDENTIALS after the same work (a bcrypt verify at the configured cost).
   */
  async verifyLogin(input: LoginInput, context: RequestContext = {}): Promise<UserRecord> {
    if (typeof input?.email !== 'string' || typeof input?.password !== 'string') {
      throw new AuthError('VALIDATION_ERROR', 'Email and password are required.', {
        details: { field: typeof input?.email !== 'string' ? 'email' : 'password' },
      });
    }
    const password = normalizePassword(input.password);
    // An address that cannot exist is still counted and checked like an unknown one, so the
    // response never depends on whether the identifier is well formed.
    const email = normalizeEmail(input.email) ?? input.email.normalize('NFKC').trim().toLowerCase();
    const key = this.#o.lockoutKey(email);

    await this.#reserve(key, email, context);

    const user = await this.#o.users.findByEmail(email);
    // Without an account the check runs against the dummy hash and its result is ignored.
    const checked = await this.#o.hasher.verify(
      password,
      user ? user.passwordHash : await this.dummyHash(),
    );
    const valid = user !== null && checked;

    // A banned account fails exactly like a wrong password: after the same bcrypt check, counted
    // toward the lockout, and before any later step (a second factor) could tell it apart.
    const banned = user !== null && isBanned(user, this.#o.clock.now());
    if (!user || !valid || !user.isActive || banned) {
      const reason = !user
        ? 'unknown_user'
        : !valid
          ? 'wrong_password'
          : !user.isActive
            ? 'disabled'
            : 'banned';
      await this.#fail(key, email, reason, user?.id, context);
      throw new AuthError('INVALID_CREDENTIALS');
    }

    await this.#o.attempts.reset(key);
    // Only after the correct password: without it, this answer would tell who has an account.
    if (this.#o.requireVerifiedEmail === true && user.emailVerified !== true) {
      this.#o.audit.emit({
        event: 'LOGIN_FAILED',
        status: 'failure',
        userId: user.id,
        email,
        context,
        metadata: { reason: 'email_not_verified' },
      });
      throw new AuthError('EMAIL_NOT_VERIFIED');
    }
    const current = await this.#rehashIfNeeded(user, password);
    // Last: a wrong password never reaches it, so an enrolled account fails like any other.
    if (this.#o.secondFactor) await this.#o.secondFactor(current);
    return this.completeLogin(current, 'password', context);
  }

  /**
   * The end of a successful login (after the password, or after its second factor): records
   * `lastLoginAt` and emits LOGIN_SUCCEEDED with `metadata.method`.
   */
  async completeLogin(
    user: UserRecord,
    method: 'password' | 'totp' | 'recovery_code',
    context: RequestContext = {},
  ): Promise<UserRecord> {
    const updated = await this.#o.users.update(user.id, {
      lastLoginAt: new Date(this.#o.clock.now()),
    });
    this.#o.audit.emit({
      event: 'LOGIN_SUCCEEDED',
      status: 'success',
      userId: user.id,
      email: user.email,
      context,
      metadata: { method },
    });
    return updated ?? user;
  }

  /**
   * Checks a signed-in user's password again (to turn off the second factor), counted against
   * the same lockout as logins. Returns the normalised password; INVALID_CREDENTIALS or
   * ACCOUNT_LOCKED otherwise.
   */
  async confirmPassword(
    user: UserRecord,
    password: unknown,
    context: RequestContext = {},
  ): Promise<string> {
    let normalized: string;
    try {
      normalized = normalizePassword(password);
    } catch {
      throw new AuthError('INVALID_CREDENTIALS', 'The password is incorrect.');
    }
    const key = this.#o.lockoutKey(user.email);
    await this.#reserve(key, user.email, context);
    if (!(await this.#o.hasher.verify(normalized, user.passwordHash))) {
      await this.#fail(key, user.email, 'wrong_password_confirmation', user.id, context);
      throw new AuthError('INVALID_CREDENTIALS', 'The password is incorrect.');
    }
    await this.#o.attempts.reset(key);
    return normalized;
  }

  /**
   * Changes a password after checking the current one (counted against the same lockout as
   * logins, so a stolen access token cannot be used to guess the password).
   */
  async changePassword(
    userId: string,
    input: { currentPassword: string; newPassword: string },
    context: RequestContext = {},
  ): Promise<UserRecord> {
    if (typeof input?.currentPassword !== 'string') {
      throw new AuthError('VALIDATION_ERROR', 'The current password is required.', {
        details: { field: 'currentPassword' },
      });
    }
    const user = await this.#o.users.findById(userId);
    if (!user || !user.isActive) throw new AuthError('UNAUTHENTICATED');
    const newPassword = await checkNewPassword(input.newPassword, this.#o.rules, {
      email: user.email,
      name: user.name,
      hasSecondFactor: (await this.#o.hasSecondFactor?.(user.id)) === true,
    });
    let current: string;
    try {
      current = normalizePassword(input.currentPassword);
    } catch {
      throw new AuthError('INVALID_CREDENTIALS', 'The current password is incorrect.');
    }
    const key = this.#o.lockoutKey(user.email);
    await this.#reserve(key, user.email, context);
    if (!(await this.#o.hasher.verify(current, user.passwordHash))) {
      await this.#fail(key, user.email, 'wrong_current_password', user.id, context);
      throw new AuthError('INVALID_CREDENTIALS', 'The current password is incorrect.');
    }
    await this.#o.attempts.reset(key);
    const newHash = await this.#o.hasher.hash(newPassword, this.#o.cost);
    const replaced = await this.#o.users.replacePasswordHash(user.id, user.passwordHash, newHash);
    if (!replaced) {
      throw new AuthError(
        'VALIDATION_ERROR',
        'The password was changed by another request; please try again.',
        { details: { field: 'currentPassword', reason: 'conflict' } },
      );
    }
    this.#o.audit.emit({ event: 'PASSWORD_CHANGED', status: 'success', userId: user.id, context });
    return { ...user, passwordHash: newHash };
  }

  #rule(): LockoutRule {
    return { ...this.#o.lockout, now: this.#o.clock.now() };
  }

  async #reserve(key: string, email: string, context: RequestContext): Promise<void> {
    const now = this.#o.clock.now();
    const reservation = await this.#o.attempts.reserve(key, { ...this.#o.lockout, now });
    if (!reservation.allowed) {
      const retryAfter = Math.max(1, Math.ceil((reservation.lockedUntil - now) / 1000));
      this.#o.audit.emit({
        event: 'LOGIN_FAILED',
        status: 'failure',
        email,
        context,
        metadata: { reason: 'locked', retryAfter },
      });
      // The store tells exactly one caller per lock that it took it: one event per lock.
      if (reservation.lockedNow) this.#locked(reservation.lockedUntil, email, undefined, context);
      throw new AuthError('ACCOUNT_LOCKED', undefined, { retryAfter });
    }
  }

  async #fail(
    key: string,
    email: string,
    reason: string,
    userId: string | undefined,
    context: RequestContext,
  ): Promise<void> {
    const lockedUntil = await this.#o.attempts.recordFailure(key, this.#rule());
    this.#o.audit.emit({
      event: 'LOGIN_FAILED',
      status: 'failure',
      userId,
      email,
      context,
      metadata: { reason },
    });
    // Non-null only for the failure that took the lock.
    if (lockedUntil !== null) this.#locked(lockedUntil, email, userId, context);
  }

  #locked(
    lockedUntil: number,
    email: string,
    userId: string | undefined,
    context: RequestContext,
  ): void {
    (this.#o.telemetry ?? noopTelemetry).lockout();
    this.#o.audit.emit({
      event: 'ACCOUNT_LOCKED',
      status: 'failure',
      userId,
      email,
      context,
      metadata: { lockedUntil: new Date(lockedUntil).toISOString() },
    });
  }

  async #rehashIfNeeded(user: UserRecord, password: string): Promise<UserRecord> {
    if (!this.#o.hasher.needsRehash(user.passwordHash, this.#o.cost)) return user;
    try {
      const newHash = await this.#o.hasher.hash(password, this.#o.cost);
      if (await this.#o.users.replacePasswordHash(user.id, user.passwordHash, newHash)) {
        return { ...user, passwordHash: newHash };
      }
    } catch (err) {
      this.#o.logger.warn('rehash on login failed', {
        userId: user.id,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    return user;
  }
}
