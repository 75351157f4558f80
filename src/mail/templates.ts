import type { MailKind } from '../stores/types.js';

/**
 * What a {@link MailTemplate} gets to write one mail. `link` is absolute (built from the
 * configured public URL): the one-time link for `password_reset` and `email_verification`, the
 * forgot-password page for `registration_notice`. `name` and `to` come from users: a template
 * must escape them in HTML (the default templates do).
 *
 * @example
 * ```ts
 * const data: MailTemplateData = {
 *   kind: 'password_reset', to: 'ada@example.com', name: 'Ada',
 *   link: 'https://app.example.com/reset-password?token=…', expiresInMinutes: 30,
 *   productName: 'Acme',
 * };
 * const { subject, text, html } = defaultMailTemplates.password_reset(data);
 * ```
 */
export interface MailTemplateData {
  kind: MailKind;
  /** The recipient's address. */
  to: string;
  /** The account's display name, when there is an account (null otherwise). */
  name: string | null;
  /** The absolute link the mail is about. */
  link: string | null;
  /** How long the link works, in minutes (null: the link does not expire). */
  expiresInMinutes: number | null;
  productName: string;
}

/**
 * Writes one kind of mail: a subject and the same content as plain text and HTML. Override the
 * defaults per kind with `createAuth({ mail: { templates } })`. Escape every interpolated value in
 * the HTML part ({@link escapeHtml}): names come from users.
 *
 * @example
 * ```ts
 * const password_reset: MailTemplate = ({ link, expiresInMinutes, productName }) => ({
 *   subject: `${productName}: choose a new password`,
 *   text: `Open ${link} within ${expiresInMinutes} minutes.`,
 *   html: `<p><a href="${escapeHtml(link ?? '')}">Choose a new password</a></p>`,
 * });
 * createAuth({ mail: { mailer, publicUrl, templates: { password_reset } } });
 * ```
 */
export type MailTemplate = (data: MailTemplateData) => {
  subject: string;
  text: string;
  html: string;
};

/**
 * Escapes text for HTML content and quoted attribute values (`&`, `<`, `>`, `"`, `'`).
 *
 * @example
 * ```ts
 * escapeHtml('<script>alert(1)</script>'); // '&lt;script&gt;alert(1)&lt;/script&gt;'
 * ```
 */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** "30 minutes", "1 hour", "24 hours", "2 days", "90 minutes". */
function lifetime(minutes: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (minutes > 1440 && minutes % 1440 === 0) return plural(minutes / 1440, 'day');
  if (minutes >= 60 && minutes % 60 === 0) return plural(minutes / 60, 'hour');
  return plural(minutes, 'minute');
}

function greeting(name: string | null): string {
  return name ? `Hello ${name},` : 'Hello,';
}

interface Layout {
  data: MailTemplateData;
  subject: string;
  /** Paragraphs before the link (plain text; escaped for HTML). */
  intro: string[];
  button: string;
  /** Paragraphs after the link. */
  outro: string[];
}

function compose({ data, subject, intro, button, outro }: Layout): {
  subject: string;
  text: string;
  html: string;
} {
  const link = data.link ?? '';
  const text = [greeting(data.name), ...intro, link, ...outro, `— ${data.productName}`].join(
    '\n\n',
  );
  const paragraph = (line: string) => `<p>${escapeHtml(line)}</p>`;
  const href = escapeHtml(link);
  const html = [
    '<!doctype html>',
    '<html><body style="font-family: sans-serif; line-height: 1.5">',
    paragraph(greeting(data.name)),
    ...intro.map(paragraph),
    `<p><a href="${href}">${escapeHtml(button)}</a></p>`,
    `<p>If the button does not work, copy this address into your browser:<br>${href}</p>`,
    ...outro.map(paragraph),
    paragraph(`— ${data.productName}`),
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

function expiry(data: MailTemplateData): string {
  return data.expiresInMinutes === null
    ? 'The link works once.'
    : `The link works once and expires in ${lifetime(data.expiresInMinutes)}.`;
}

/**
 * The built-in templates: a password reset, an email verification and the notice sent to the
 * owner of an address someone tried to register again. Each has a clear subject, the link and
 * its lifetime, in plain text and HTML; every interpolated value is HTML-escaped in the HTML part.
 *
 * @example
 * ```ts
 * const mail = defaultMailTemplates.email_verification({
 *   kind: 'email_verification', to: 'ada@example.com', name: 'Ada',
 *   link: 'https://app.example.com/verify-email?token=…', expiresInMinutes: 1440, productName: 'Acme',
 * });
 * mail.subject; // 'Verify your email address for Acme'
 * ```
 */
export const defaultMailTemplates: Readonly<Record<MailKind, MailTemplate>> = Object.freeze({
  password_reset: (data: MailTemplateData) =>
    compose({
      data,
      subject: `Reset your ${data.productName} password`,
      intro: [
        `Someone (hopefully you) asked to reset the password of your ${data.productName} account (${data.to}). Open this link to choose a new password:`,
      ],
      button: 'Choose a new password',
      outro: [
        expiry(data),
        'If you did not ask for this, ignore this mail: your password stays as it is.',
      ],
    }),
  email_verification: (data: MailTemplateData) =>
    compose({
      data,
      subject: `Verify your email address for ${data.productName}`,
      intro: [
        `Please confirm that ${data.to} is your address for your ${data.productName} account by opening this link:`,
      ],
      button: 'Verify my email address',
      outro: [
        expiry(data),
        'If you did not create an account, ignore this mail: nothing happens without the link.',
      ],
    }),
  registration_notice: (data: MailTemplateData) =>
    compose({
      data,
      subject: `Someone tried to sign up to ${data.productName} with your address`,
      intro: [
        `Someone tried to create an account with your address (${data.to}). You already have a ${data.productName} account, so no new account was created.`,
        'If it was you, reset your password:',
      ],
      button: 'Reset my password',
      outro: ['If it was not you, ignore this mail: your account has not changed.'],
    }),
});

/**
 * Renders one mail with `templates[kind]` when given, else the default template of that kind.
 * Throws a TypeError when `data.link` is not an absolute http(s) URL (a relative or `javascript:`
 * link is a configuration bug, never sent), and turns line breaks in the subject into spaces (a
 * subject is a mail header).
 *
 * @example
 * ```ts
 * const { subject, text, html } = renderMail('password_reset', {
 *   kind: 'password_reset', to: 'ada@example.com', name: 'Ada',
 *   link: 'https://app.example.com/reset-password?token=…', expiresInMinutes: 30, productName: 'Acme',
 * });
 * ```
 */
export function renderMail(
  kind: MailKind,
  data: MailTemplateData,
  templates: Partial<Record<MailKind, MailTemplate>> = {},
): { subject: string; text: string; html: string } {
  if (data.link !== null && !isAbsoluteHttpUrl(data.link)) {
    throw new TypeError(`renderMail: the ${kind} link must be an absolute http(s) URL`);
  }
  const template = templates[kind] ?? defaultMailTemplates[kind];
  if (typeof template !== 'function') {
    throw new TypeError(`renderMail: no template for mail kind "${String(kind)}"`);
  }
  const rendered = template({ ...data, kind });
  for (const field of ['subject', 'text', 'html'] as const) {
    if (typeof rendered?.[field] !== 'string') {
      throw new TypeError(`renderMail: the ${kind} template returned no string ${field}`);
    }
  }
  return {
    subject: rendered.subject.replace(/[\r\n]+/g, ' ').trim(),
    text: rendered.text,
    html: rendered.html,
  };
}

function isAbsoluteHttpUrl(link: string): boolean {
  try {
    const url = new URL(link);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.host !== '';
  } catch {
    return false;
  }
}
