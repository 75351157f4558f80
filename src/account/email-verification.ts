import type { RequestContext } from '../audit/emitter.js';
import { toPublicUser } from '../credentials/service.js';
import { AuthError } from '../errors.js';
import type { PublicUser } from '../stores/types.js';
import { type AccountContext, requireMail } from './account-context.js';
import type { MailRecipient } from './account-mail.js';
import { newOneTimeToken, presentedTokenHash } from './one-time-token.js';

/**
 * Email verification: a link (one-time token, `emailVerification.tokenTtl`) sent at registration
 * and on request, and its consumption.
 */
export class EmailVerification {
  readonly #c: AccountContext;
  readonly #ttlMs: number;

  constructor(context: AccountContext, ttlMs: number) {
    this.#c = context;
    this.#ttlMs = ttlMs;
  }

  /**
   * Issues a verification token and enqueues its mail in one store step (every earlier link of
   * the account stops working), then wakes the worker.
   */
  async send(user: MailRecipient & { id: string }, context: RequestContext = {}): Promise<void> {
    const mail = requireMail(this.#c, 'Email verification');
    const { token, tokenHash } = newOneTimeToken(this.#c.random);
    const now = this.#c.clock.now();
    const expiresAt = now + this.#ttlMs;
    const message = mail.compose.tokenMessage('email_verification', user, token, {
      now,
      expiresAt,
    });
    await this.#c.oneTimeTokens.issue(
      { tokenHash, userId: user.id, purpose: 'email_verification', createdAt: now, expiresAt },
      message,
    );
    mail.worker.notify();
    this.#c.audit.emit({
      event: 'EMAIL_VERIFICATION_SENT',
      status: 'success',
      userId: user.id,
      context,
      metadata: { expiresAt: new Date(expiresAt).toISOString() },
    });
  }

  /**
   * The authenticated resend: RATE_LIMITED past `rateLimits.resendVerification` (per user);
   * nothing to do for a verified address; otherwise a new link.
   */
  async request(userId: string, context: RequestContext = {}): Promise<void> {
    requireMail(this.#c, 'Email verification');
    if (typeof userId !== 'string' || userId.length === 0) throw new AuthError('UNAUTHENTICATED');
    await this.#c.rateLimiter.enforce('resendVerification', userId, context);
    const user = await this.#c.users.findById(userId);
    if (!user || !user.isActive) throw new AuthError('UNAUTHENTICATED');
    if (user.emailVerified === true) return;
    await this.send(user, context);
  }

  /** Consumes a verification link and marks the address verified; LINK_INVALID otherwise. */
  async verify(token: unknown, context: RequestContext = {}): Promise<PublicUser> {
    const tokenHash = presentedTokenHash(token);
    const record = tokenHash
      ? await this.#c.oneTimeTokens.consume(tokenHash, 'email_verification', this.#c.clock.now())
      : null;
    if (!record) throw new AuthError('LINK_INVALID');
    const user = await this.#c.users.findById(record.userId);
    if (!user || !user.isActive) throw new AuthError('LINK_INVALID');
    const updated = await this.#c.users.update(user.id, { emailVerified: true });
    if (!updated) throw new AuthError('LINK_INVALID');
    this.#c.audit.emit({
      event: 'EMAIL_VERIFIED',
      status: 'success',
      userId: user.id,
      email: user.email,
      context,
    });
    return toPublicUser(updated);
  }
}
