import { randomUUID } from 'node:crypto';
import { renderMail } from '../mail/templates.js';
import type { MailKind, OutboxMessage } from '../stores/types.js';
import { linkBase, type ResolvedMailOptions } from './options.js';

/** The account a mail is about: its address and display name. */
export interface MailRecipient {
  email: string;
  name: string;
}

/**
 * Builds the outbox messages of the account flows from the `mail` options: the link from
 * `publicUrl` and the kind's path, the content from the templates (rendered when enqueued).
 */
export class AccountMail {
  readonly #base: string;
  readonly #options: ResolvedMailOptions;
  readonly #productName: string;

  constructor(options: ResolvedMailOptions, productName: string) {
    this.#options = options;
    this.#base = linkBase(options.publicUrl);
    this.#productName = options.productName ?? productName;
  }

  /** A mail carrying a one-time link that works until `expiresAt`. */
  tokenMessage(
    kind: 'password_reset' | 'email_verification',
    to: MailRecipient,
    token: string,
    times: { now: number; expiresAt: number },
  ): OutboxMessage {
    const path =
      kind === 'password_reset'
        ? this.#options.paths.resetPassword
        : this.#options.paths.verifyEmail;
    const link = `${this.#base}${path}?token=${encodeURIComponent(token)}`;
    const minutes = Math.max(1, Math.round((times.expiresAt - times.now) / 60_000));
    // Not worth delivering once the link inside has expired.
    return this.#message(kind, to, link, minutes, times.now, times.expiresAt);
  }

  /** "Someone tried to create an account with your address": links to the forgot-password page. */
  registrationNotice(to: MailRecipient, now: number): OutboxMessage {
    const link = `${this.#base}${this.#options.paths.forgotPassword}`;
    return this.#message('registration_notice', to, link, null, now, null);
  }

  #message(
    kind: MailKind,
    to: MailRecipient,
    link: string,
    expiresInMinutes: number | null,
    now: number,
    expiresAt: number | null,
  ): OutboxMessage {
    const content = renderMail(
      kind,
      { kind, to: to.email, name: to.name, link, expiresInMinutes, productName: this.#productName },
      this.#options.templates,
    );
    return {
      id: randomUUID(),
      kind,
      to: to.email,
      ...content,
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
      expiresAt,
    };
  }
}
