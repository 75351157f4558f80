import { describe, expect, it } from 'vitest';
import {
  defaultMailTemplates,
  escapeHtml,
  type MailTemplateData,
  renderMail,
} from '../../../src/mail/templates.js';
import type { MailKind } from '../../../src/stores/types.js';

const KINDS: MailKind[] = ['password_reset', 'email_verification', 'registration_notice'];
const RESET_LINK = 'https://app.example.com/reset-password?token=abc123';

function data(kind: MailKind, overrides: Partial<MailTemplateData> = {}): MailTemplateData {
  const link =
    kind === 'password_reset'
      ? RESET_LINK
      : kind === 'email_verification'
        ? 'https://app.example.com/verify-email?token=def456'
        : 'https://app.example.com/forgot-password';
  const expiresInMinutes =
    kind === 'password_reset' ? 30 : kind === 'email_verification' ? 1440 : null;
  return {
    kind,
    to: 'ada@example.com',
    name: 'Ada',
    link,
    expiresInMinutes,
    productName: 'Acme',
    ...overrides,
  };
}

describe('default mail templates', () => {
  it.each(KINDS)('%s: a hostile name (<script>) is escaped in the HTML part', (kind) => {
    const hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>';
    const { html, text } = renderMail(kind, data(kind, { name: hostile }));
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(text).toContain(hostile); // plain text is not HTML: shown as typed
  });

  it.each(KINDS)('%s: a hostile product name and address are escaped in the HTML part', (kind) => {
    const { html } = renderMail(
      kind,
      data(kind, { productName: '<b>Acme</b>', to: '"><svg onload=alert(1)>@example.com' }),
    );
    expect(html).not.toMatch(/<b>Acme|<svg/);
  });

  it.each(KINDS)('%s: a link with quotes cannot break out of the href attribute', (kind) => {
    const link = `${data(kind).link}&x="><script>alert(1)</script>`;
    const { html } = renderMail(kind, data(kind, { link }));
    expect(html).not.toContain('"><script>');
    expect(html).toContain(`href="${escapeHtml(link)}"`);
  });

  it.each(KINDS)('%s: the absolute link is in the text and in the HTML href', (kind) => {
    const { text, html } = renderMail(kind, data(kind));
    const link = data(kind).link!;
    expect(text).toContain(link);
    expect(html).toContain(`href="${link}"`);
  });

  it('password reset: clear subject and the link lifetime (30 minutes)', () => {
    const { subject, text, html } = renderMail('password_reset', data('password_reset'));
    expect(subject).toBe('Reset your Acme password');
    expect(text).toContain('expires in 30 minutes');
    expect(html).toContain('expires in 30 minutes');
    expect(text).toContain('Hello Ada,');
  });

  it('email verification: clear subject and the link lifetime (24 hours)', () => {
    const { subject, text } = renderMail('email_verification', data('email_verification'));
    expect(subject).toBe('Verify your email address for Acme');
    expect(text).toContain('expires in 24 hours');
  });

  it('registration notice: says someone tried to register the address, and links to the forgot-password page', () => {
    const { subject, text, html } = renderMail('registration_notice', data('registration_notice'));
    expect(subject).toBe('Someone tried to sign up to Acme with your address');
    expect(text).toContain('Someone tried to create an account with your address');
    expect(text).toContain('If it was you, reset your password');
    expect(text).toContain('https://app.example.com/forgot-password');
    expect(html).toContain('href="https://app.example.com/forgot-password"');
    expect(text).not.toContain('expires');
  });

  it.each([
    [1, '1 minute'],
    [45, '45 minutes'],
    [60, '1 hour'],
    [90, '90 minutes'],
    [1440, '24 hours'],
    [2880, '2 days'],
    [10080, '7 days'],
  ])('states a lifetime of %i minutes as "%s"', (minutes, words) => {
    const { text } = renderMail(
      'password_reset',
      data('password_reset', { expiresInMinutes: minutes }),
    );
    expect(text).toContain(`expires in ${words}.`);
  });

  it('without a name the greeting stays neutral', () => {
    expect(renderMail('password_reset', data('password_reset', { name: null })).text).toMatch(
      /^Hello,\n/,
    );
  });
});

describe('renderMail', () => {
  it.each([
    '/reset-password?token=abc',
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'app.example.com/reset-password',
    'ftp://app.example.com/reset',
  ])('refuses a link that is not an absolute http(s) URL: %s', (link) => {
    expect(() => renderMail('password_reset', data('password_reset', { link }))).toThrow(
      /absolute http\(s\) URL/,
    );
  });

  it('uses an override for its kind and the default for the others', () => {
    const templates = {
      password_reset: (d: MailTemplateData) => ({
        subject: `${d.productName}: new password`,
        text: `go to ${d.link}`,
        html: `<p>${escapeHtml(d.link ?? '')}</p>`,
      }),
    };
    expect(renderMail('password_reset', data('password_reset'), templates)).toEqual({
      subject: 'Acme: new password',
      text: `go to ${RESET_LINK}`,
      html: `<p>${RESET_LINK}</p>`,
    });
    expect(renderMail('email_verification', data('email_verification'), templates)).toEqual(
      defaultMailTemplates.email_verification(data('email_verification')),
    );
  });

  it('a name with CR/LF in a custom subject cannot inject a mail header', () => {
    const templates = {
      password_reset: (d: MailTemplateData) => ({
        subject: `Hi ${d.name}`,
        text: 't',
        html: 'h',
      }),
    };
    const { subject } = renderMail(
      'password_reset',
      data('password_reset', { name: 'Ada\r\nBcc: victim@example.com' }),
      templates,
    );
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject).toBe('Hi Ada Bcc: victim@example.com');
  });

  it('a custom template that returns no strings is refused with a clear error', () => {
    const templates = {
      password_reset: () => ({ subject: 'x', text: 'y' }) as never,
    };
    expect(() => renderMail('password_reset', data('password_reset'), templates)).toThrow(
      /returned no string html/,
    );
  });

  it('escapeHtml escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});
