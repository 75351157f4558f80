import { parseDuration, parseRateLimit } from 'gatehouse';
import { z } from 'zod';

const duration = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => parseDuration(v) !== null, {
      message: `must be a duration such as "15m", "12h" or "30d"`,
    })
    .transform((v) => ({ text: v, ms: parseDuration(v)! }))
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
      if (rule === null || rule.limit < 1) {
        ctx.addIssue({ code: 'custom', message: 'must look like "5/min", "100/hour" or "2/s"' });
        return z.NEVER;
      }
      return { text, ...rule };
    });

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
    DATA_DIR: z.string().min(1).default('.data'),
    JWT_ALGORITHM: z.enum(['HS256', 'EdDSA', 'ES256', 'RS256']).default('HS256'),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    JWT_PRIVATE_KEY: z
      .string()
      .refine((v) => v.includes('-----BEGIN') && v.includes('PRIVATE KEY-----'), {
        message: 'must be a PEM private key (-----BEGIN ... PRIVATE KEY-----)',
      })
      .optional(),
    JWT_EXPIRES_IN: duration('JWT_EXPIRES_IN', '15m'),
    REFRESH_EXPIRES_IN: duration('REFRESH_EXPIRES_IN', '30d'),
    BCRYPT_COST: integer(10, 10, 16),
    AUTH_LOGIN_RATE_LIMIT: rate('5/min'),
    AUTH_REGISTER_RATE_LIMIT: rate('5/min'),
    AUTH_LOCKOUT_THRESHOLD: integer(5, 1, 100),
    AUTH_LOCKOUT_DURATION: duration('AUTH_LOCKOUT_DURATION', '30m'),
    ADMIN_EMAIL: z.string().email('must be an email address').optional(),
    ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    /** Cookie mode without the Secure attribute, for plain http on localhost; refused in production. */
    INSECURE_COOKIES: z
      .enum(['true', 'false', '1', '0'])
      .optional()
      .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1')),
    /** Origins trusted by the CSRF check of the login page (comma-separated). */
    TRUSTED_ORIGINS: z.string().optional(),
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
      if (env.INSECURE_COOKIES) {
        ctx.addIssue({
          code: 'custom',
          path: ['INSECURE_COOKIES'],
          message: 'cannot be enabled when NODE_ENV=production',
        });
      }
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
  'ADMIN_EMAIL',
  'ADMIN_PASSWORD',
  'LOG_LEVEL',
  'INSECURE_COOKIES',
  'TRUSTED_ORIGINS',
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
  return /SECRET|PASSWORD|PRIVATE_KEY|DATABASE_URL/.test(name) ? '[redacted]' : value;
}
