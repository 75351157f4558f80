import type { RequestContext } from '../audit/emitter.js';
import { normalizeEmail } from '../credentials/email.js';
import type { RegisterInput } from '../credentials/service.js';
import { isAuthError } from '../errors.js';
import type { PublicUser } from '../stores/types.js';
import { type AccountContext, requireMail } from './account-context.js';
import type { EmailVerification } from './email-verification.js';

/** What a sign-up needs besides the account context. */
export interface SignUpOptions {
  /**
   * Validates, hashes (always, before the store is asked) and creates the account; throws
   * EMAIL_TAKEN for a taken address after the same work.
   */
  register: (input: RegisterInput, context: RequestContext) => Promise<PublicUser>;
  verification: EmailVerification;
}

/**
 * The enumeration-safe registration: a new and a taken email resolve the same way after the same
 * work (validation, then one bcrypt hash). A new email gets an account and a verification mail;
 * the owner of a taken one gets a notice instead, and nothing is created. Both mails are made
 * off the request path.
 */
export class SignUp {
  readonly #c: AccountContext;
  readonly #o: SignUpOptions;

  constructor(context: AccountContext, options: SignUpOptions) {
    this.#c = context;
    this.#o = options;
  }

  async signUp(input: RegisterInput, context: RequestContext = {}): Promise<void> {
    requireMail(this.#c, 'Sign-up');
    let user: PublicUser;
    try {
      user = await this.#o.register(input, context);
    } catch (err) {
      if (!isAuthError(err) || err.code !== 'EMAIL_TAKEN') throw err;
      const email = (input as { email: string }).email;
      this.#c.tasks.run('registration notice', () => this.#notice(email, context));
      return;
    }
    this.#c.tasks.run('verification mail', () => this.#o.verification.send(user, context));
  }

  async #notice(typedEmail: string, context: RequestContext): Promise<void> {
    const mail = requireMail(this.#c, 'Sign-up');
    // The registration validated it: the same normalisation finds the owner.
    const email = normalizeEmail(typedEmail);
    const owner = email === null ? null : await this.#c.users.findByEmail(email);
    if (!owner) return;
    this.#c.audit.emit({
      event: 'REGISTRATION_ON_EXISTING_EMAIL',
      status: 'failure',
      userId: owner.id,
      email: owner.email,
      context,
    });
    if (!owner.isActive) return;
    // At most `rateLimits.forgotEmail` notices per address and window: a stranger cannot flood
    // an inbox by signing up with it again and again.
    const limit = await this.#c.rateLimiter.check(
      'forgotEmail',
      `notice:${this.#c.audit.hashEmail(owner.email)}`,
    );
    if (!limit.allowed) return;
    await this.#c.outbox.enqueue(mail.compose.registrationNotice(owner, this.#c.clock.now()));
    mail.worker.notify();
  }
}
