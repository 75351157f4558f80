import { afterEach, describe, expect, it } from 'vitest';
import { createAuth } from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';
import { configError } from '../../helpers/config-errors.js';

const mailer = async () => {};
const mail = (extra: Record<string, unknown> = {}) => ({
  mail: { mailer, publicUrl: 'https://app.example.com', ...extra },
});

describe('account recovery options', () => {
  const nodeEnv = process.env['NODE_ENV'];
  afterEach(() => {
    process.env['NODE_ENV'] = nodeEnv;
  });

  it('defaults: reset links 30 minutes, verification links 24 hours, not required, the rate limits', () => {
    const auth = createAuth(mail());
    expect(internalsOf(auth).config.passwordReset.tokenTtl).toBe(30 * 60_000);
    expect(internalsOf(auth).config.emailVerification).toEqual({
      tokenTtl: 24 * 3_600_000,
      required: false,
    });
    expect(internalsOf(auth).config.mail).toMatchObject({
      paths: {
        resetPassword: '/reset-password',
        verifyEmail: '/verify-email',
        forgotPassword: '/forgot-password',
      },
      retry: { maxAttempts: 8, initialDelay: 1000, maxDelay: 60_000 },
      pollInterval: 1000,
    });
    expect(internalsOf(auth).config.rateLimits).toMatchObject({
      forgot: { limit: 5, windowMs: 60_000 },
      forgotEmail: { limit: 3, windowMs: 15 * 60_000 },
      resendVerification: { limit: 3, windowMs: 15 * 60_000 },
    });
  });

  it.each([
    [{ passwordReset: { tokenTtl: '25h' } }, 'passwordReset.tokenTtl: must be at most 24h'],
    [{ passwordReset: { tokenTtl: '30s' } }, 'passwordReset.tokenTtl: must be at least 60s'],
    [{ passwordReset: { tokenTtl: Infinity } }, 'passwordReset.tokenTtl: must be'],
    [{ emailVerification: { tokenTtl: '8d' } }, 'emailVerification.tokenTtl: must be at most 7d'],
    [{ emailVerification: { tokenTtl: '10s' } }, 'emailVerification.tokenTtl: must be at least'],
    [{ ...mail({ retry: { maxAttempts: 0 } }) }, 'mail.retry.maxAttempts'],
    [{ ...mail({ retry: { maxAttempts: 51 } }) }, 'mail.retry.maxAttempts'],
    [{ ...mail({ retry: { initialDelay: '10s', maxDelay: '5s' } }) }, 'mail.retry.maxDelay'],
    [{ ...mail({ pollInterval: '1h' }) }, 'mail.pollInterval: must be at most'],
  ])(
    'an unbounded link or retry duration is refused, naming the option (%j)',
    (options, message) => {
      expect(configError(options)).toContain(message);
    },
  );

  it.each([
    ['app.example.com', 'must be an absolute http(s) URL'],
    ['/reset', 'must be an absolute http(s) URL'],
    ['ftp://app.example.com', 'must be an http(s) URL'],
    ['javascript:alert(1)', 'must be an http(s) URL'],
    ['https://app.example.com/?next=evil', 'must not carry a query or a fragment'],
    ['https://app.example.com/#x', 'must not carry a query or a fragment'],
    ['https://user:pw@app.example.com', 'must not carry credentials'],
  ])('a publicUrl that cannot prefix a link is refused (%s)', (publicUrl, message) => {
    expect(configError({ mail: { mailer, publicUrl } })).toContain(`mail.publicUrl: ${message}`);
  });

  it('links over plain http are refused when NODE_ENV=production, except to localhost and 127.0.0.1', () => {
    process.env['NODE_ENV'] = 'production';
    expect(configError({ mail: { mailer, publicUrl: 'http://app.example.com' } })).toContain(
      'mail.publicUrl: must be https when NODE_ENV=production',
    );
    const production = {
      tokens: { keys: [{ kid: 'k1', alg: 'HS256' as const, key: 'x'.repeat(32) }] },
    };
    for (const publicUrl of [
      'http://localhost:3000',
      'http://127.0.0.1:3000',
      'https://a.example',
    ]) {
      expect(() => createAuth({ ...production, mail: { mailer, publicUrl } })).not.toThrow();
    }
    process.env['NODE_ENV'] = 'development';
    expect(() =>
      createAuth({ mail: { mailer, publicUrl: 'http://app.example.com' } }),
    ).not.toThrow();
  });

  it('the mailer is required when mail is given, and must be a function', () => {
    expect(configError({ mail: { publicUrl: 'https://app.example.com' } })).toContain(
      'mail.mailer: must be a function',
    );
    expect(configError({ mail: { mailer: 'smtp://x', publicUrl: 'https://a.example' } })).toContain(
      'mail.mailer',
    );
    expect(configError({ mail: { mailer } })).toContain('mail.publicUrl: is required');
  });

  it('requiring verified emails without a mailer is refused (nobody could ever log in)', () => {
    expect(configError({ emailVerification: { required: true } })).toContain(
      'emailVerification.required: needs the mail option',
    );
  });

  it.each(['reset-password', '//evil.example/x', '/reset?x=1', '/a b'])(
    'a link path that is not a plain absolute path is refused (%s)',
    (path) => {
      expect(configError(mail({ paths: { resetPassword: path } }))).toContain(
        'mail.paths.resetPassword',
      );
    },
  );

  it('a template that is not a function, or for an unknown kind, is refused', () => {
    expect(configError(mail({ templates: { password_reset: 'Hello' } }))).toContain(
      'mail.templates.password_reset',
    );
    expect(configError(mail({ templates: { welcome: () => ({}) } }))).toContain('mail.templates');
  });

  it.each([
    [{ rateLimits: { forgotEmail: '0/15m' } }, 'rateLimits.forgotEmail'],
    [{ rateLimits: { resendVerification: '3/ms' } }, 'rateLimits.resendVerification'],
    [{ rateLimits: { forgot: { limit: 5 } } }, 'rateLimits.forgot'],
  ])('a bad account rate limit is refused naming it (%j)', (options, name) => {
    expect(configError(options)).toContain(name);
  });

  it('stores.oneTimeTokens and stores.outbox must implement their interfaces', () => {
    expect(configError({ stores: { oneTimeTokens: {} } })).toContain('stores.oneTimeTokens');
    expect(configError({ stores: { outbox: { enqueue() {} } } })).toContain('stores.outbox');
  });
});
