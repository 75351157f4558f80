import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../examples/common/env.js';
import { createLogger } from '../../../examples/common/logger.js';
import { createExampleMailer } from '../../../examples/common/mailer.js';
import { envError } from '../../helpers/config-errors.js';

const PRODUCTION = {
  NODE_ENV: 'production',
  JWT_SECRET: 'a-production-secret-of-more-than-32-bytes',
  AUTH_IDENTIFIER_KEY: 'an-identifier-key-of-more-than-32-bytes',
  MFA_KEY: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=',
};

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger('debug', (line) => lines.push(JSON.parse(line))) };
}

describe('example mail configuration (SMTP_URL, MAIL_FROM, PUBLIC_URL, AUTH_REQUIRE_VERIFIED_EMAIL)', () => {
  it('defaults: mails to the log, the documented From, verification not required', () => {
    const config = loadConfig({});
    expect(config.SMTP_URL).toBeUndefined();
    expect(config.PUBLIC_URL).toBeUndefined();
    expect(config.MAIL_FROM).toBe('gatehouse example <no-reply@localhost>');
    expect(config.AUTH_REQUIRE_VERIFIED_EMAIL).toBe(false);
    expect(loadConfig({ AUTH_REQUIRE_VERIFIED_EMAIL: 'true' }).AUTH_REQUIRE_VERIFIED_EMAIL).toBe(
      true,
    );
  });

  it.each([
    [{ SMTP_URL: 'http://mail.example.com' }, /SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL/],
    [{ PUBLIC_URL: 'app.example.com' }, /PUBLIC_URL: must be an absolute http\(s\) URL/],
    [{ PUBLIC_URL: 'https://app.example.com/?next=x' }, /PUBLIC_URL: must be an absolute/],
    [{ AUTH_REQUIRE_VERIFIED_EMAIL: 'yes' }, /AUTH_REQUIRE_VERIFIED_EMAIL:/],
  ])('names the variable of a bad value: %j', (env, message) => {
    expect(envError(env)).toMatch(message);
  });

  it('MAIL_FROM with a line break is refused (mail header injection)', () => {
    expect(envError({ MAIL_FROM: 'a@example.com\r\nBcc: victim@example.com' })).toMatch(
      /MAIL_FROM: must be one address/,
    );
  });

  it('an SMTP_URL carrying a password never appears in a config error', () => {
    const message = envError({ SMTP_URL: 'ftp://mailer:hunter2-smtp-pass@mail.example.com' });
    expect(message).toMatch(/SMTP_URL:/);
    expect(message).not.toContain('hunter2-smtp-pass');
  });

  it('production without SMTP_URL or PUBLIC_URL refuses to start (reset links would go to the production log)', () => {
    const message = envError(PRODUCTION);
    expect(message).toMatch(/SMTP_URL: is required when NODE_ENV=production/);
    expect(message).toMatch(/PUBLIC_URL: is required when NODE_ENV=production/);
  });

  it('production refuses a plain-http PUBLIC_URL (the links carry one-time tokens), except localhost', () => {
    const smtp = { SMTP_URL: 'smtps://mailer:pw@mail.example.com' };
    expect(envError({ ...PRODUCTION, ...smtp, PUBLIC_URL: 'http://app.example.com' })).toMatch(
      /PUBLIC_URL: must be https when NODE_ENV=production/,
    );
    expect(
      loadConfig({ ...PRODUCTION, ...smtp, PUBLIC_URL: 'https://app.example.com' }).PUBLIC_URL,
    ).toBe('https://app.example.com');
    expect(
      loadConfig({ ...PRODUCTION, ...smtp, PUBLIC_URL: 'http://localhost:3000' }).PUBLIC_URL,
    ).toBe('http://localhost:3000');
  });

  it('the log mailer refuses to run in production even if the environment check were bypassed', () => {
    const config = { ...loadConfig({}), NODE_ENV: 'production' as const };
    expect(() => createExampleMailer(config, capture().logger)).toThrow(/SMTP_URL is required/);
  });

  it('the SMTP start-up log line names host and port, never the SMTP credentials', () => {
    const { lines, logger } = capture();
    const mailer = createExampleMailer(
      loadConfig({ SMTP_URL: 'smtps://mailer:hunter2-smtp-pass@mail.example.com' }),
      logger,
    );
    mailer.close();
    expect(mailer.transport).toBe('smtp');
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'mail: SMTP', host: 'mail.example.com', port: 465 }),
    );
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });

  it('the development log mailer writes kind, recipient and link, never the mail body', async () => {
    const { lines, logger } = capture();
    const mailer = createExampleMailer(loadConfig({}), logger);
    expect(mailer.transport).toBe('log');
    const link = 'http://127.0.0.1:3000/reset-password?token=abc_DEF-123';
    await mailer.mailer({
      kind: 'password_reset',
      to: 'ada@example.com',
      subject: 'Reset your password',
      text: `Hello Ada,\n\nOpen ${link} within 30 minutes.\n`,
      html: `<p>Secret body <a href="${link}">reset</a></p>`,
    });
    const line = lines.find((l) => l.msg === 'mail (not sent: no SMTP_URL)');
    expect(line).toMatchObject({ kind: 'password_reset', to: 'ada@example.com', link });
    expect(JSON.stringify(lines)).not.toContain('Secret body');
  });
});
