import type { RequestContext } from '../audit/emitter.js';
import { normalizeEmail } from '../credentials/email.js';
import { AuthError } from '../errors.js';
import type { PasswordHasher } from '../passwords/hasher.js';
import { checkNewPassword, type PasswordRules } from '../passwords/policy.js';
import type { AttemptStore, UserRecord } from '../stores/types.js';
import { type AccountContext, requireMail } from './account-context.js';
import { newOneTimeToken, presentedTokenHash } from './one-time-token.js';

/** The longest text accepted as an email in a reset request (anything longer is malformed). */
const MAX_EMAIL_INPUT_LENGTH = 1024;

/** What a password reset needs besides the account context. */
export interface PasswordResetOptions {
  ttlMs: number;
  hasher: PasswordHasher;
  cost: number;
  rules: PasswordRules;
  attempts: AttemptStore;
  /** The lockout counter key of a normalised email: the same keyed key login uses. */
  lockoutKey: (identifier: string) => string;
  /** Ends every session of the user (and emits SESSIONS_REVOKED). */
  revokeSessions: (userId: string, context: RequestContext) => Promise<number>;
  /** Whether the user has an active second factor (then `rules.minLengthWithMfa` applies). */
  hasSecondFactor?: (userId: string) => Promise<boolean>;
}

/**
 * Password reset by mail. The request answers the same way after the same work whether or not
 * an account exists (is disabled, is locked): the token and its mail are made off the request
 * path. The reset consumes the token in one store operation, which decides every race.
 */
export class PasswordReset {
  readonly #c: AccountContext;
  readonly #o: PasswordResetOptions;

  constructor(context: AccountContext, options: PasswordResetOptions) {
    this.#c = context;
    this.#o = options;
  }

  /**
   * The request path, identical for every input: normalise, count against the per-email limit,
   * look the account up, audit, and hand the rest to a background task (which, for an active
   * account only, issues the token and enqueues its mail). Over the per-email limit it resolves
   * exactly like success and nothing is sent.
   */
  async request(input: unknown, context: RequestContext = {}): Promise<void> {
    if (typeof input !== 'string' || input.length > MAX_EMAIL_INPUT_LENGTH) {
      throw new AuthError('VALIDATION_ERROR', 'An email address is required.', {
        details: { field: 'email', reason: 'invalid' },
      });
    }
    requireMail(this.#c, 'Password reset');
    // A malformed address goes the same way as an unknown one.
    const email = normalizeEmail(input) ?? input.normalize('NFKC').trim().toLowerCase();
    const emailHash = this.#c.audit.hashEmail(email);
    const limit = await this.#c.rateLimiter.check('forgotEmail', emailHash);
    if (!limit.allowed) {
      this.#c.audit.emit({
        event: 'RATE_LIMITED',
        status: 'failure',
        email,
        context,
        metadata: { route: 'forgotEmail' },
      });
      return;
    }
    const user = await this.#c.users.findByEmail(email);
    this.#c.audit.emit({
      event: 'PASSWORD_RESET_REQUESTED',
      status: 'success',
      userId: user?.id,
      email,
      context,
    });
    // Scheduled for every input, so that the request path is the same for all of them.
    this.#c.tasks.run('password reset mail', () => this.#issue(user, email));
  }

  /**
   * Off the request path, and the same work for every input: a token, its hash and a rendered
   * mail, then one store call. Only an active account (a locked one included: it can always
   * recover) gets its token stored and its mail enqueued; for anyone else the token is looked up
   * and thrown away. The mail goes out at the worker's next poll rather than at once, so a
   * request for an existing account does not set off a delivery right behind its response,
   * which back-to-back requests could time.
   */
  async #issue(user: UserRecord | null, email: string): Promise<void> {
    const mail = requireMail(this.#c, 'Password reset');
    const { token, tokenHash } = newOneTimeToken(this.#c.random);
    const now = this.#c.clock.now();
    const expiresAt = now + this.#o.ttlMs;
    const real = user !== null && user.isActive;
    const recipient = real ? user : { email, name: email.split('@')[0] ?? email };
    const message = mail.compose.tokenMessage('password_reset', recipient, token, {
      now,
      expiresAt,
    });
    if (!real) {
      await this.#c.oneTimeTokens.find(tokenHash, 'password_reset', now);
      return;
    }
    await this.#c.oneTimeTokens.issue(
      { tokenHash, userId: user.id, purpose: 'password_reset', createdAt: now, expiresAt },
      message,
    );
  }

  /**
   * Sets a new password with a reset link. LINK_INVALID, one and the same answer, for an unknown,
   * used, superseded or expired token or an account that is gone or disabled; VALIDATION_ERROR
   * (the link stays usable) for a password the policy refuses.
   */
  async reset(input: { token: unknown; password: unknown }, context: RequestContext = {}) {
    const tokenHash = presentedTokenHash(input?.token);
    const now = this.#c.clock.now();
    const found = tokenHash
      ? await this.#c.oneTimeTokens.find(tokenHash, 'password_reset', now)
      : null;
    if (!found || tokenHash === null) throw new AuthError('LINK_INVALID');
    const user = await this.#c.users.findById(found.userId);
    if (!user || !user.isActive) throw new AuthError('LINK_INVALID');
    const password = await checkNewPassword(input.password, this.#o.rules, {
      email: user.email,
      name: user.name,
      hasSecondFactor: (await this.#o.hasSecondFactor?.(user.id)) === true,
    });
    // Hashed before the link is burnt: a failure here leaves the link usable.
    const passwordHash = await this.#o.hasher.hash(password, this.#o.cost);
    const consumed = await this.#c.oneTimeTokens.consume(
      tokenHash,
      'password_reset',
      this.#c.clock.now(),
    );
    if (!consumed) throw new AuthError('LINK_INVALID');
    const updated = await this.#c.users.update(user.id, { passwordHash, emailVerified: true });
    if (!updated) throw new AuthError('LINK_INVALID');
    await this.#o.revokeSessions(user.id, context);
    await this.#c.oneTimeTokens.revokeUserTokens(user.id, 'password_reset');
    // A locked-out user can always recover: the reset clears the login counter of the account.
    await this.#o.attempts.reset(this.#o.lockoutKey(user.email));
    this.#c.audit.emit({
      event: 'PASSWORD_RESET',
      status: 'success',
      userId: user.id,
      email: user.email,
      context,
    });
  }
}
