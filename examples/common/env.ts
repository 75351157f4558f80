import { type Duration, parseDuration, parseRateLimit, seedPolicy } from 'gatehouse';
import { z } from 'zod';
import { DEFAULT_TIMEOUTS } from './http-server.js';
import { parseMfaKey } from './mfa.js';

/** A duration from 1 s to `max` (what the gatehouse option it feeds accepts), e.g. "15m". */
const duration = (name: string, fallback: string, max: '24h' | '366d') =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === null || ms < 1000 || ms > parseDuration(max)!) {
        ctx.addIssue({
          code: 'custom',
          message: `must be a duration from 1s to ${max}, such as "15m", "12h" or "30d"`,
        });
        return z.NEVER;
      }
      // Checked just above: the text is a duration gatehouse accepts.
      return { text: text as Duration, ms };
    })
    .describe(name);

const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .default(String(fallback))
    .refine((v) => /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max, {
      message: `must be a whole number from ${min} to ${max}`,
    })
    .transform(Number);

const rate = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const rule = parseRateLimit(text);
      if (rule === null || rule.windowMs < 1000 || rule.windowMs > 7 * 86_400_000) {
        ctx.addIssue({
          code: 'custom',
          message:
            'must look like "5/min", "100/hour" or "2/s" (units s, sec, m, min, h, hour, d, day and their plurals; a window of at most 7 days)',
        });
        return z.NEVER;
      }
      return { text, ...rule };
    });

/** A timeout of the HTTP server, in milliseconds: a duration from 100 ms to 1 h. */
const serverTimeout = (fallbackMs: number) =>
  z
    .string()
    .default(`${fallbackMs}ms`)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === null || ms < 100 || ms > 3_600_000) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a duration from "100ms" to "1h", such as "10s"',
        });
        return z.NEVER;
      }
      return ms;
    });

function parseUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

function isSmtpUrl(value: string): boolean {
  const url = parseUrl(value);
  return url !== null && (url.protocol === 'smtp:' || url.protocol === 'smtps:') && !!url.hostname;
}

function isBaseUrl(value: string): boolean {
  const url = parseUrl(value);
  return (
    url !== null &&
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    !url.username &&
    !url.password &&
    !value.includes('?') &&
    !value.includes('#')
  );
}

function isProductionBaseUrl(value: string): boolean {
  const url = parseUrl(value);
  return (
    url?.protocol === 'https:' ||
    (url !== null && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname))
  );
}

/** The environment variables of the example apps, validated at start. */
export const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: integer(3000, 0, 65535),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATABASE_URL: z
      .string()
      .refine((v) => /^postgres(ql)?:\/\//.test(v), {
        message: 'must be a postgres:// or postgresql:// URL',
      })
      .optional(),
    /** Lockout and rate-limit counters in Redis (gatehouse/redis); the rest stays in the database. */
    REDIS_URL: z
      .string()
      .refine((v) => /^rediss?:\/\/[^/?#]/.test(v), {
        message: 'must be a redis:// or rediss:// URL, such as "redis://127.0.0.1:6379"',
      })
      .optional(),
    DATA_DIR: z.string().min(1).default('.data'),
    JWT_ALGORITHM: z.enum(['HS256', 'EdDSA', 'ES256', 'RS256']).default('HS256'),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    JWT_PRIVATE_KEY: z
      .string()
      .refine((v) => v.includes('-----BEGIN') && v.includes('PRIVATE KEY-----'), {
        message: 'must be a PEM private key (-----BEGIN ... PRIVATE KEY-----)',
      })
      .optional(),
    JWT_EXPIRES_IN: duration('JWT_EXPIRES_IN', '15m', '24h'),
    REFRESH_EXPIRES_IN: duration('REFRESH_EXPIRES_IN', '30d', '366d'),
    BCRYPT_COST: integer(10, 10, 16),
    AUTH_LOGIN_RATE_LIMIT: rate('5/min'),
    AUTH_REGISTER_RATE_LIMIT: rate('5/min'),
    AUTH_LOCKOUT_THRESHOLD: integer(5, 1, 100),
    // The first lock; each further lock of one identifier doubles, at most 1 h (gatehouse's default).
    AUTH_LOCKOUT_DURATION: duration('AUTH_LOCKOUT_DURATION', '1m', '24h'),
    /** Keys the hashes of login identifiers (lockout counters, audit); same on every instance. */
    AUTH_IDENTIFIER_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Encrypts TOTP secrets at rest: 32 bytes, base64 or hex (docs/mfa.md, "Key rotation"). */
    MFA_KEY: z
      .string()
      .refine((v) => parseMfaKey(v) !== null, {
        message: 'must be 32 bytes as base64 (44 characters) or hex (64 characters)',
      })
      .optional(),
    /** Roles that must use two-factor sign-in (comma-separated; `mfa.requireForRoles`). */
    AUTH_MFA_REQUIRED_ROLES: z
      .string()
      .refine(
        (v) =>
          v
            .split(',')
            .every((role) => (seedPolicy.roles as readonly string[]).includes(role.trim())),
        {
          message: `must be comma-separated roles of the policy (${seedPolicy.roles.join(', ')})`,
        },
      )
      .optional()
      .transform((v) => v?.split(',').map((role) => role.trim()) ?? []),
    /** Older MFA keys, comma-separated: they still decrypt, MFA_KEY encrypts (key rotation). */
    MFA_PREVIOUS_KEYS: z
      .string()
      .refine((v) => v.split(',').every((key) => parseMfaKey(key) !== null), {
        message: 'must be comma-separated keys of 32 bytes, each base64 or hex',
      })
      .optional(),
    ADMIN_EMAIL: z.string().email('must be an email address').optional(),
    // The full password policy (common, repetitive, context words) runs when the admin is seeded.
    ADMIN_PASSWORD: z
      .string()
      .min(15, 'must be at least 15 characters (the password policy)')
      .optional(),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    /** Cookie mode without the Secure attribute, for plain http on localhost; refused in production. */
    INSECURE_COOKIES: z
      .enum(['true', 'false', '1', '0'])
      .optional()
      .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1')),
    /** Origins trusted by the CSRF check of the login page (comma-separated). */
    TRUSTED_ORIGINS: z.string().optional(),
    /** Slow clients: see examples/common/http-server.ts and docs/configuration.md. */
    HTTP_HEADERS_TIMEOUT: serverTimeout(DEFAULT_TIMEOUTS.headersTimeout),
    HTTP_REQUEST_TIMEOUT: serverTimeout(DEFAULT_TIMEOUTS.requestTimeout),
    HTTP_KEEP_ALIVE_TIMEOUT: serverTimeout(DEFAULT_TIMEOUTS.keepAliveTimeout),
    /** Where reset and verification mails go (nodemailer). Unset outside production: to the log. */
    SMTP_URL: z
      .string()
      .refine(isSmtpUrl, {
        message:
          'must be an smtp:// or smtps:// URL such as "smtp://user:password@mail.example.com:587"',
      })
      .optional(),
    /** The From of those mails. */
    MAIL_FROM: z
      .string()
      .max(200)
      .refine((v) => !/[\r\n]/.test(v) && /@/.test(v), {
        message: 'must be one address, such as "Acme <no-reply@acme.example>" (no line breaks)',
      })
      .default('gatehouse example <no-reply@localhost>'),
    /** The base of the links in mails: the address users open the pages at. */
    PUBLIC_URL: z
      .string()
      .refine(isBaseUrl, {
        message:
          'must be an absolute http(s) URL without credentials, query or fragment, such as "https://app.example.com"',
      })
      .optional(),
    /** Refuse logins until the email is verified, and make registration enumeration-safe. */
    AUTH_REQUIRE_VERIFIED_EMAIL: z
      .enum(['true', 'false', '1', '0'])
      .default('false')
      .transform((v) => v === 'true' || v === '1'),
    /**
     * OpenTelemetry metrics (gatehouse's and the HTTP server's) exposed for Prometheus at
     * `/metrics` on the app's own port: see docs/observability.md ("Prometheus").
     */
    METRICS: z
      .enum(['true', 'false', '1', '0'])
      .default('false')
      .transform((v) => v === 'true' || v === '1'),
  })
  .transform((env) => ({
    ...env,
    // Plain http on localhost needs cookies without Secure; on by default outside production.
    INSECURE_COOKIES: env.INSECURE_COOKIES ?? env.NODE_ENV !== 'production',
  }))
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production') {
      if (env.JWT_ALGORITHM === 'HS256' && !env.JWT_SECRET) {
        ctx.addIssue({
          code: 'custom',
          path: ['JWT_SECRET'],
          message: 'is required when NODE_ENV=production with JWT_ALGORITHM=HS256',
        });
      }
      if (env.JWT_ALGORITHM !== 'HS256' && !env.JWT_PRIVATE_KEY) {
        ctx.addIssue({
          code: 'custom',
          path: ['JWT_PRIVATE_KEY'],
          message: `is required when NODE_ENV=production with JWT_ALGORITHM=${env.JWT_ALGORITHM}`,
        });
      }
      if (!env.AUTH_IDENTIFIER_KEY) {
        ctx.addIssue({
          code: 'custom',
          path: ['AUTH_IDENTIFIER_KEY'],
          message:
            'is required when NODE_ENV=production (every instance must hash login identifiers with the same key)',
        });
      }
      if (!env.MFA_KEY) {
        ctx.addIssue({
          code: 'custom',
          path: ['MFA_KEY'],
          message:
            'is required when NODE_ENV=production (it encrypts the TOTP secrets; every instance needs the same key)',
        });
      }
      if (env.INSECURE_COOKIES) {
        ctx.addIssue({
          code: 'custom',
          path: ['INSECURE_COOKIES'],
          message: 'cannot be enabled when NODE_ENV=production',
        });
      }
      if (!env.SMTP_URL) {
        ctx.addIssue({
          code: 'custom',
          path: ['SMTP_URL'],
          message:
            'is required when NODE_ENV=production (reset and verification links are mailed; only development writes them to the log)',
        });
      }
      if (!env.PUBLIC_URL) {
        ctx.addIssue({
          code: 'custom',
          path: ['PUBLIC_URL'],
          message:
            'is required when NODE_ENV=production (the https address users open the links in mails at)',
        });
      } else if (!isProductionBaseUrl(env.PUBLIC_URL)) {
        ctx.addIssue({
          code: 'custom',
          path: ['PUBLIC_URL'],
          message:
            'must be https when NODE_ENV=production (plain http only for localhost): the links carry one-time tokens',
        });
      }
    }
    if (env.HTTP_HEADERS_TIMEOUT > env.HTTP_REQUEST_TIMEOUT) {
      ctx.addIssue({
        code: 'custom',
        path: ['HTTP_HEADERS_TIMEOUT'],
        message: 'must not be longer than HTTP_REQUEST_TIMEOUT',
      });
    }
    if ((env.ADMIN_EMAIL === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.ADMIN_EMAIL === undefined ? 'ADMIN_EMAIL' : 'ADMIN_PASSWORD'],
        message: 'must be set together with the other of ADMIN_EMAIL and ADMIN_PASSWORD',
      });
    }
  });

export type ExampleConfig = z.output<typeof envSchema>;

const ENV_NAMES = [
  'NODE_ENV',
  'PORT',
  'HOST',
  'DATABASE_URL',
  'REDIS_URL',
  'DATA_DIR',
  'JWT_ALGORITHM',
  'JWT_SECRET',
  'JWT_PRIVATE_KEY',
  'JWT_EXPIRES_IN',
  'REFRESH_EXPIRES_IN',
  'BCRYPT_COST',
  'AUTH_LOGIN_RATE_LIMIT',
  'AUTH_REGISTER_RATE_LIMIT',
  'AUTH_LOCKOUT_THRESHOLD',
  'AUTH_LOCKOUT_DURATION',
  'AUTH_IDENTIFIER_KEY',
  'MFA_KEY',
  'MFA_PREVIOUS_KEYS',
  'AUTH_MFA_REQUIRED_ROLES',
  'ADMIN_EMAIL',
  'ADMIN_PASSWORD',
  'LOG_LEVEL',
  'INSECURE_COOKIES',
  'TRUSTED_ORIGINS',
  'HTTP_HEADERS_TIMEOUT',
  'HTTP_REQUEST_TIMEOUT',
  'HTTP_KEEP_ALIVE_TIMEOUT',
  'SMTP_URL',
  'MAIL_FROM',
  'PUBLIC_URL',
  'AUTH_REQUIRE_VERIFIED_EMAIL',
  'METRICS',
] as const;

/** A bad environment variable: the message names it and says why. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads and validates the environment. Empty strings count as unset.
 * Throws {@link ConfigError} naming every wrong variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ExampleConfig {
  const input = Object.fromEntries(
    ENV_NAMES.flatMap((key) => {
      const value = env[key];
      return value === undefined || value === '' ? [] : [[key, value]];
    }),
  );
  const result = envSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const got = name in input ? ` (got ${JSON.stringify(redact(name, input[name]!))})` : '';
      return `  ${name}: ${issue.message}${got}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

function redact(name: string, value: string): string {
  return /SECRET|PASSWORD|_KEY|DATABASE_URL|REDIS_URL|SMTP_URL/.test(name) ? '[redacted]' : value;
}
