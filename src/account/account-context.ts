import type { AuditEmitter } from '../audit/emitter.js';
import { AuthError } from '../errors.js';
import type { MailWorker } from '../mail/worker.js';
import type { RateLimiter } from '../ratelimit/limiter.js';
import type { Clock, Logger, RandomSource } from '../runtime.js';
import type { MailOutboxStore, OneTimeTokenStore, UserStore } from '../stores/types.js';
import type { AccountMail } from './account-mail.js';
import type { BackgroundTasks } from './background-tasks.js';

/** What every account flow works with; createAuth builds one. */
export interface AccountContext {
  users: UserStore;
  oneTimeTokens: OneTimeTokenStore;
  outbox: MailOutboxStore;
  /** Null when `mail` is not configured. */
  mail: { compose: AccountMail; worker: MailWorker } | null;
  tasks: BackgroundTasks;
  rateLimiter: RateLimiter;
  audit: AuditEmitter;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
}

/** The mail side of the context, or INVALID_CONFIG when `mail` is not configured. */
export function requireMail(
  context: AccountContext,
  what: string,
): { compose: AccountMail; worker: MailWorker } {
  if (context.mail) return context.mail;
  throw new AuthError(
    'INVALID_CONFIG',
    `${what} sends a mail: configure createAuth({ mail: { mailer, publicUrl } }).`,
  );
}
