import type { MailKind } from '../stores/types.js';

/**
 * One mail as a {@link Mailer} receives it: rendered, addressed, ready to send.
 *
 * @example
 * ```ts
 * const message: MailMessage = {
 *   kind: 'password_reset', to: 'ada@example.com', subject: 'Reset your password',
 *   text: 'Open https://app.example.com/reset-password?token=…', html: '<p>…</p>',
 * };
 * ```
 */
export interface MailMessage {
  kind: MailKind;
  /** The recipient's normalised email address. */
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Your delivery function (nodemailer, an HTTP mail API...). gatehouse calls it from the mail
 * worker, off the request path. It must reject (or throw) when the mail was not accepted: the
 * worker then retries with backoff. Delivery is at-least-once, so a mail can on rare occasions
 * arrive twice (a crash between sending and recording the delivery).
 *
 * @example
 * ```ts
 * import nodemailer from 'nodemailer';
 * const transport = nodemailer.createTransport(process.env.SMTP_URL);
 * const mailer: Mailer = async ({ to, subject, text, html }) => {
 *   await transport.sendMail({ from: 'no-reply@example.com', to, subject, text, html });
 * };
 * createAuth({ mail: { mailer, publicUrl: 'https://app.example.com' } });
 * ```
 */
export type Mailer = (message: MailMessage) => Promise<void>;
