import { z } from 'zod';
import { durationSchema } from '../duration.js';
import type { Mailer } from '../mail/message.js';
import type { MailTemplate } from '../mail/templates.js';
import type { MailKind, PublicUser } from '../stores/types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The hosts a plain-http `publicUrl` may name even when NODE_ENV=production. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Why `value` cannot be the base of the links in mails, or null when it can. */
export function publicUrlProblem(value: string, production: boolean): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be an absolute http(s) URL such as "https://app.example.com" (got ${JSON.stringify(value.slice(0, 60))})`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return `must be an http(s) URL (got the scheme ${JSON.stringify(url.protocol)})`;
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (url.search || url.hash || value.includes('?') || value.includes('#')) {
    return 'must not carry a query or a fragment: it is the base the link paths are appended to';
  }
  if (production && url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    return 'must be https when NODE_ENV=production (plain http only for localhost or 127.0.0.1): the links carry one-time tokens';
  }
  return null;
}

/** The base URL without a trailing slash, so that `${base}${path}` never has two. */
export function linkBase(publicUrl: string): string {
  const url = new URL(publicUrl);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

const pathSchema = (fallback: string) =>
  z
    .string()
    .regex(
      /^\/(?!\/)[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/,
      'must be a path starting with one "/" (no query, fragment or spaces), e.g. "/reset-password"',
    )
    .max(200)
    .default(fallback);

const fn = <T>(what: string) =>
  z.custom<T>((value) => typeof value === 'function', { message: `must be ${what}` });

const templateSchema = fn<MailTemplate>('a function (data) => { subject, text, html }');

/** The `mail` options of createAuth. */
export const mailOptionsSchema = z
  .object({
    mailer: fn<Mailer>('a function (message) => Promise<void> (required when `mail` is given)'),
    publicUrl: z
      .string({ error: 'is required: the absolute URL the links in mails start with' })
      .superRefine((value, ctx) => {
        const problem = publicUrlProblem(value, process.env['NODE_ENV'] === 'production');
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    paths: z
      .object({
        resetPassword: pathSchema('/reset-password'),
        verifyEmail: pathSchema('/verify-email'),
        forgotPassword: pathSchema('/forgot-password'),
      })
      .strict()
      .prefault({}),
    templates: z
      .object({
        password_reset: templateSchema.optional(),
        email_verification: templateSchema.optional(),
        registration_notice: templateSchema.optional(),
      } satisfies Record<MailKind, unknown>)
      .strict()
      .prefault({}),
    productName: z.string().trim().min(1).max(100).optional(),
    retry: z
      .object({
        maxAttempts: z.number().int().min(1).max(50).default(8),
        initialDelay: durationSchema({ minMs: 100, maxMs: 10 * MINUTE }).prefault(1),
        maxDelay: durationSchema({ minMs: 1000, maxMs: DAY }).prefault(60),
      })
      .strict()
      .prefault({})
      .superRefine((retry, ctx) => {
        if (retry.maxDelay < retry.initialDelay) {
          ctx.addIssue({
            code: 'custom',
            path: ['maxDelay'],
            message: 'must not be shorter than mail.retry.initialDelay',
          });
        }
      }),
    pollInterval: durationSchema({ minMs: 100, maxMs: 10 * MINUTE }).prefault(1),
  })
  .strict();

/** The `passwordReset` options of createAuth. */
export const passwordResetSchema = z
  .object({
    /** How long a reset link works. */
    tokenTtl: durationSchema({ minMs: MINUTE, maxMs: DAY }).prefault('30m'),
  })
  .strict();

/** The `emailVerification` options of createAuth. */
export const emailVerificationSchema = z
  .object({
    /** How long a verification link works. */
    tokenTtl: durationSchema({ minMs: MINUTE, maxMs: 7 * DAY }).prefault('24h'),
    /** Refuse logins (EMAIL_NOT_VERIFIED) and make registration enumeration-safe. */
    required: z.boolean().default(false),
  })
  .strict();

/** The resolved `mail` options (durations in ms). */
export type ResolvedMailOptions = z.output<typeof mailOptionsSchema>;

/** The `account` options of createAuth: the data export and erasure hooks of the app. */
export const accountOptionsSchema = z
  .object({
    dataExport: z
      .object({
        /** Adds the app's own data about a user to `auth.exportUser` (its `app` field). */
        extend: fn<
          (user: PublicUser) => Promise<Record<string, unknown>> | Record<string, unknown>
        >('a function (user) => object or Promise<object>').optional(),
        /** Erases the app's own data about a user; `auth.eraseUser` runs it first. */
        erase: fn<(user: PublicUser) => Promise<void> | void>(
          'a function (user) => Promise<void>',
        ).optional(),
        /** The most audit events an export holds (newest first). */
        auditEventLimit: z.number().int().min(1).max(10_000).default(1000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The resolved `account` options. */
export type ResolvedAccountOptions = z.output<typeof accountOptionsSchema>;
