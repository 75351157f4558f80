import { z } from 'zod';
import {
  accountOptionsSchema,
  emailVerificationSchema,
  mailOptionsSchema,
  passwordResetSchema,
} from './account/options.js';
import type { AuditSink } from './audit/events.js';
import { secretBytes } from './credentials/identifier-key.js';
import { lockoutSchema } from './credentials/lockout-options.js';
import { cookieModeSchema } from './http/cookie-mode.js';
import { mfaOptionsSchema } from './mfa/options.js';
import type { PasswordHasher } from './passwords/hasher.js';
import { passwordsSchema } from './passwords/options.js';
import type { Policy } from './policy/policy.js';
import { rateLimitsSchema } from './ratelimit/limiter.js';
import {
  type Clock,
  type Logger,
  type RandomSource,
  silentLogger,
  stderrLogger,
} from './runtime.js';
import { REQUIRED_STORE_METHODS } from './stores/methods.js';
import type {
  AttemptStore,
  AuditLogStore,
  MailOutboxStore,
  MfaStore,
  OneTimeTokenStore,
  RateLimitStore,
  TokenStore,
  UserStore,
} from './stores/types.js';
import { telemetrySchema } from './telemetry/options.js';
import { tokenOptionsSchema } from './tokens/options.js';
import { parseOptions } from './validation.js';

function implementing<T>(what: string, methods: readonly string[]) {
  return z.custom<T>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function'),
    { message: `must be ${what} with methods ${methods.join(', ')}` },
  );
}

const isLogger = (value: unknown): value is Logger =>
  typeof value === 'object' &&
  value !== null &&
  ['debug', 'info', 'warn', 'error'].every(
    (m) => typeof (value as Record<string, unknown>)[m] === 'function',
  );

const fn = <T>(what: string) =>
  z.custom<T>((value) => typeof value === 'function', { message: `must be ${what}` });

export const storesSchema = z
  .object({
    users: implementing<UserStore>('a UserStore', REQUIRED_STORE_METHODS.users).optional(),
    attempts: implementing<AttemptStore>(
      'an AttemptStore',
      REQUIRED_STORE_METHODS.attempts,
    ).optional(),
    tokens: implementing<TokenStore>('a TokenStore', REQUIRED_STORE_METHODS.tokens).optional(),
    rateLimits: implementing<RateLimitStore>(
      'a RateLimitStore',
      REQUIRED_STORE_METHODS.rateLimits,
    ).optional(),
    oneTimeTokens: implementing<OneTimeTokenStore>(
      'a OneTimeTokenStore',
      REQUIRED_STORE_METHODS.oneTimeTokens,
    ).optional(),
    outbox: implementing<MailOutboxStore>(
      'a MailOutboxStore',
      REQUIRED_STORE_METHODS.outbox,
    ).optional(),
    auditLog: implementing<AuditLogStore>(
      'an AuditLogStore',
      REQUIRED_STORE_METHODS.auditLog,
    ).optional(),
    mfa: implementing<MfaStore>('an MfaStore', REQUIRED_STORE_METHODS.mfa).optional(),
  })
  .strict();

const secretKeySchema = z.union([
  z.string().min(16, 'must be at least 16 characters'),
  // Any Uint8Array, a Node Buffer included (z.instanceof would narrow it to ArrayBuffer-backed).
  z
    .custom<Uint8Array>((value) => value instanceof Uint8Array, 'must be a string or a Uint8Array')
    .refine((key) => key.byteLength >= 16, 'must be at least 16 bytes'),
]);

const sameBytes = (a: string | Uint8Array, b: string | Uint8Array) =>
  Buffer.from(secretBytes(a)).equals(secretBytes(b));

export const authOptionsSchema = z
  .object({
    stores: storesSchema.prefault({}),
    passwords: passwordsSchema.prefault({}),
    lockout: lockoutSchema.prefault({}),
    /** Access tokens, keys, refresh sessions and the verify cache; see docs/tokens.md. */
    tokens: tokenOptionsSchema.prefault({}),
    /** Per-IP limits of the routes, per-email reset mails and per-user resends; see docs/configuration.md. */
    rateLimits: rateLimitsSchema.prefault({}),
    /** Cookie mode with its CSRF defence (absent: tokens travel in JSON bodies); see docs/cookies-csrf.md. */
    cookies: cookieModeSchema.optional(),
    /** The mailer and the links of password-reset and verification mails; see docs/account-recovery.md. */
    mail: mailOptionsSchema.optional(),
    /** Password-reset links; see docs/account-recovery.md. */
    passwordReset: passwordResetSchema.prefault({}),
    /** Email verification links, and whether a verified email is required to log in. */
    emailVerification: emailVerificationSchema.prefault({}),
    /** The app's hooks of the data export and erasure; see docs/accounts.md. */
    account: accountOptionsSchema.prefault({}),
    defaultRole: z.string().min(1).default('user'),
    audit: fn<AuditSink>('a function (event) => void').optional(),
    /**
     * The secret behind every keyed hash of a login identifier: the lockout counter keys
     * (`login:` + HMAC) and the audit `metadata.emailHash`. Give every instance sharing a store
     * the same key; see docs/configuration.md.
     */
    identifierKey: secretKeySchema.optional(),
    /** @deprecated Use `identifierKey`, which it is an alias of. */
    auditEmailKey: secretKeySchema.optional(),
    passwordHasher: implementing<PasswordHasher>('a PasswordHasher', [
      'hash',
      'verify',
      'costOf',
      'needsRehash',
    ]).optional(),
    clock: implementing<Clock>('a Clock', ['now']).optional(),
    random: implementing<RandomSource>('a RandomSource', ['bytes']).optional(),
    /**
     * Where gatehouse logs. Unset: warnings and errors to stderr as JSON lines (`stderrLogger`);
     * `false`: nothing at all. See docs/configuration.md.
     */
    logger: z
      .custom<Logger | false>((value) => value === false || isLogger(value), {
        message: 'must be false or a Logger with methods debug, info, warn, error',
      })
      .optional()
      .transform((logger): Logger => (logger === false ? silentLogger : (logger ?? stderrLogger))),
    /** The authorization policy behind `auth.can()` and friends, made by `definePolicy()`. */
    policy: implementing<Policy>('a policy made by definePolicy()', [
      'can',
      'authorize',
      'canSome',
      'explain',
      'filter',
    ]).optional(),
    /** OpenTelemetry metrics and traces; `false`: off. See docs/observability.md. */
    telemetry: telemetrySchema.optional(),
    /** The TOTP second factor (absent: none); see docs/mfa.md. */
    mfa: mfaOptionsSchema.optional(),
  })
  .strict()
  .superRefine((options, ctx) => {
    if (options.emailVerification.required && options.mail === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['emailVerification', 'required'],
        message:
          'needs the mail option (createAuth({ mail: { mailer, publicUrl } })): without a mailer no account could ever verify its email and log in',
      });
    }
    if (
      options.mfa === undefined &&
      options.passwords.minLengthWithMfa < options.passwords.minLength
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['passwords', 'minLengthWithMfa'],
        message:
          'needs the mfa option (createAuth({ mfa: { encryptionKeys } })): without a second factor no account could ever use the shorter minimum',
      });
    }
    const declared = options.policy;
    for (const role of options.mfa?.requireForRoles ?? []) {
      if (declared && !declared.hasRole(role)) {
        ctx.addIssue({
          code: 'custom',
          path: ['mfa', 'requireForRoles'],
          message: `names the role '${role}', which the policy does not declare (declared: ${declared.roles.join(', ')})`,
        });
      }
    }
    const { identifierKey, auditEmailKey } = options;
    if (identifierKey && auditEmailKey && !sameBytes(identifierKey, auditEmailKey)) {
      ctx.addIssue({
        code: 'custom',
        path: ['auditEmailKey'],
        message:
          'is a deprecated alias of identifierKey and differs from it: give identifierKey alone',
      });
    }
  });

/** The options of `createAuth`: the hand-written interface, documented field by field, in options.ts. */
export type { AuthOptions } from './options.js';
/**
 * The options after validation and defaults (durations in milliseconds): what an instance runs
 * with. Not reachable on the instance; for adapter authors and tests of gatehouse itself.
 *
 * @example
 * ```ts
 * declare const config: ResolvedAuthOptions;
 * config.lockout.duration; // 60000 (the default first lock, 1 minute)
 * ```
 */
export type ResolvedAuthOptions = z.output<typeof authOptionsSchema>;

/** Validates createAuth's options; throws `INVALID_CONFIG` naming each wrong option. */
export function resolveAuthOptions(options: unknown): ResolvedAuthOptions {
  return parseOptions(authOptionsSchema, options ?? {}, 'createAuth options');
}
