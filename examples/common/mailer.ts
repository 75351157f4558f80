import type { Mailer, MailMessage } from 'gatehouse';
import nodemailer from 'nodemailer';
import type { ExampleConfig } from './env.js';
import type { JsonLogger } from './logger.js';

/**
 * The example's delivery of gatehouse's mails: nodemailer over SMTP_URL, or, without it outside
 * production, a line in the log with the link (so the reset and verification flows work out of
 * the box). gatehouse calls `mailer` from its outbox worker, off the request path: a rejection
 * makes the worker retry with backoff.
 */
export interface ExampleMailer {
  mailer: Mailer;
  /** 'smtp' or 'log', for the start-up log line and the printed next steps. */
  transport: 'smtp' | 'log';
  /** Closes the SMTP connections (after gatehouse's workers stopped). */
  close(): void;
}

// A dead or silent SMTP server fails the attempt in seconds, well within the worker's delivery
// timeout (30 s), so the message goes back to the outbox and is retried.
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

/** Where the SMTP URL points, without its credentials (safe to log). */
export function describeSmtpUrl(smtpUrl: string): { host: string; port: number; secure: boolean } {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  return { host: url.hostname, port: Number(url.port) || (secure ? 465 : 587), secure };
}

/** The first link of a mail's text part (gatehouse's templates put the one-time link there). */
export function linkOf(message: MailMessage): string | null {
  return /https?:\/\/\S+/.exec(message.text)?.[0] ?? null;
}

export function createExampleMailer(config: ExampleConfig, logger: JsonLogger): ExampleMailer {
  if (config.SMTP_URL) {
    const transport = nodemailer.createTransport({ url: config.SMTP_URL, ...SMTP_TIMEOUTS });
    logger.info('mail: SMTP', describeSmtpUrl(config.SMTP_URL));
    return {
      transport: 'smtp',
      mailer: async (message) => {
        await transport.sendMail({
          from: config.MAIL_FROM,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
        });
      },
      close: () => transport.close(),
    };
  }
  // The link in a log line is a live credential: acceptable on a developer's machine only.
  // (env.ts already refuses a production start without SMTP_URL; this is the second lock.)
  if (config.NODE_ENV === 'production') {
    throw new Error('SMTP_URL is required when NODE_ENV=production');
  }
  logger.info('mail: no SMTP_URL, mails are written to this log (development only)');
  return {
    transport: 'log',
    mailer: async (message) => {
      logger.info('mail (not sent: no SMTP_URL)', {
        kind: message.kind,
        to: message.to,
        link: linkOf(message),
      });
    },
    close: () => {},
  };
}
