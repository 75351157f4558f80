// The options of createAuth as hand-written interfaces, so that an editor shows each field's
// documentation, default and bounds on hover from the published .d.ts. The zod schemas next to
// each part (config.ts, passwords/options.ts, ...) validate them at run time;
// tests/unit/config/options.test-d.ts fails to compile when an interface and its schema disagree
// (a field added, removed or retyped on one side only).
import type { AuditSink } from './audit/events.js';
import type { Mailer } from './mail/message.js';
import type { MailTemplate } from './mail/templates.js';
import type { MfaEncryptionKey } from './mfa/secret-box.js';
import type { PasswordHasher } from './passwords/hasher.js';
import type { PasswordCheck } from './passwords/policy.js';
import type { Policy } from './policy/policy.js';
import type { Clock, Logger, RandomSource } from './runtime.js';
import type {
  AttemptStore,
  AuditLogStore,
  MailOutboxStore,
  MfaStore,
  OneTimeTokenStore,
  PublicUser,
  RateLimitStore,
  TokenStore,
  UserStore,
} from './stores/types.js';
import type { TelemetryMeterProvider, TelemetryTracerProvider } from './telemetry/types.js';
import type { TokenKeyInput } from './tokens/keys.js';

/**
 * A duration: a number of seconds (`900`, `0.25`), or a number followed by a unit, one of `ms`,
 * `s`, `m`, `h`, `d` (`'250ms'`, `'90s'`, `'15m'`, `'12h'`, `'30d'`). Never more than 366 days
 * (`MAX_DURATION_MS`); each option states its own bounds, and a value outside them makes
 * `createAuth` throw `INVALID_CONFIG` naming the option. A string read from the environment is
 * a plain `string`: check it first (`parseDuration(value) !== null`) or pass it through
 * `as Duration` and let `createAuth` validate it.
 *
 * @example
 * ```ts
 * import { createAuth, type Duration } from 'gatehouse';
 *
 * const accessTtl: Duration = '15m'; // or 900 (seconds)
 * createAuth({ tokens: { accessTtl } });
 * ```
 */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

/**
 * One rate limit of `rateLimits`: `false` (off), a rate `'<limit>/<period>'` such as `'5/min'`,
 * `'100/hour'` or `'10/15m'` (see `parseRateLimit`), or `{ limit, window }`. The limit is 1 to
 * 1 000 000, the window 1 s to 7 days.
 *
 * @example
 * ```ts
 * const login: RateLimitOption = { limit: 10, window: '1m' };
 * createAuth({ rateLimits: { login, register: '3/hour', refresh: false } });
 * ```
 */
export type RateLimitOption =
  | false
  | string
  | {
      /** Requests allowed per window, 1 to 1 000 000. */
      limit: number;
      /** The fixed window, 1 s to 7 days. */
      window: Duration;
    };

/**
 * `passwords.breached`: refuse passwords found in Have I Been Pwned (k-anonymity range query,
 * only 5 hex characters of the SHA-1 leave the process). See docs/passwords.md.
 *
 * @example
 * ```ts
 * createAuth({ passwords: { breached: { onUnavailable: 'allow', timeout: '2s' } } });
 * ```
 */
export interface BreachedPasswordOptions {
  /**
   * What to do when the service cannot be reached in time: `'allow'` accepts the password,
   * `'refuse'` refuses the change until it can be checked. Required: there is no safe default.
   */
  onUnavailable: 'allow' | 'refuse';
  /**
   * The range API's base URL: https without credentials, query or fragment (plain http only for
   * 127.0.0.1 or localhost, a local mirror or a test double).
   * @default 'https://api.pwnedpasswords.com'
   */
  baseUrl?: string;
  /**
   * How long to wait for the service, 10 ms to 30 s; then `onUnavailable` decides.
   * @default '2s'
   */
  timeout?: Duration;
  /**
   * How many times a password must appear in breaches to be refused, 1 to 1 000 000 000.
   * @default 1
   */
  minCount?: number;
}

/**
 * The `passwords` options: hashing cost and what a new password must satisfy.
 *
 * @example
 * ```ts
 * createAuth({ passwords: { cost: 12, minLength: 16, productName: 'Acme Shop' } });
 * ```
 */
export interface PasswordOptions {
  /**
   * bcrypt cost (work factor, log2 rounds), 10 to 31. Each step doubles the time of a login:
   * measure before raising. Hashes of a lower cost are upgraded at the next login.
   * @default 10
   */
  cost?: number;
  /**
   * The shortest password accepted, 15 to 72 (bcrypt reads 72 bytes). NIST SP 800-63B-4: 15 when
   * the password is the only factor; below 15 is refused (INVALID_CONFIG): for accounts with a
   * second factor use `minLengthWithMfa`.
   * @default 15
   */
  minLength?: number;
  /**
   * The shortest new password (password change or reset) of an account with an active second
   * factor (`mfa`), 8 to `minLength`. Registration always uses `minLength` (no factor yet);
   * turning the factor off is refused while the password is shorter than `minLength`.
   * @default minLength
   */
  minLengthWithMfa?: number;
  /**
   * An extra check of your own: return a reason (shown to the user) to refuse, or null.
   * @default none
   */
  check?: PasswordCheck;
  /**
   * The service's name, 1 to 100 characters: passwords containing it (or one of its words of 4+
   * characters) are refused.
   * @default none
   */
  productName?: string;
  /**
   * Refuse passwords found in known breaches (Have I Been Pwned).
   * @default off
   */
  breached?: BreachedPasswordOptions;
  /**
   * The most password hashes and checks (bcrypt) that run at once, 1 to 1024. bcrypt runs on the
   * libuv thread pool (`UV_THREADPOOL_SIZE`, 4 threads by default), which fs, dns, zlib and
   * WebCrypto share: the rest wait in arrival order, so a login flood cannot take every pool
   * thread and every core. Unknown emails wait in the same queue (no timing difference). One
   * queue per `createAuth` instance, around any `passwordHasher`. See docs/configuration.md,
   * "Sizing the bcrypt queue".
   * @default max(1, min(UV_THREADPOOL_SIZE or 4, CPU count) - 1): 1 on a 2-core machine, 3 on 4+ cores
   */
  hashConcurrency?: number;
  /**
   * How many password checks may wait for a slot, 0 to 100000. One more is refused at once:
   * `login` fails with SERVER_ERROR, status 503 and `retryAfter` (the seconds the queue needs to
   * drain), before the account's lockout counter is touched. 0 refuses whenever every slot is busy.
   * @default 200
   */
  hashQueueLimit?: number;
}

/**
 * The `lockout` options: per-account lock after repeated wrong passwords. The lock is
 * progressive: `duration`, multiplied by `backoffFactor` at each further lock without a success
 * in between, at most `maxDuration`.
 *
 * @example
 * ```ts
 * createAuth({ lockout: { maxAttempts: 5, window: '15m', duration: '1m', maxDuration: '1h' } });
 * ```
 */
export interface LockoutOptions {
  /**
   * Wrong passwords within `window` that lock the account, 1 to 1000.
   * @default 5
   */
  maxAttempts?: number;
  /**
   * The window over which failures are counted, 1 s to 24 h.
   * @default '15m'
   */
  window?: Duration;
  /**
   * The first lock's length, 1 s to 24 h.
   * @default '1m'
   */
  duration?: Duration;
  /**
   * Each further lock is this many times longer, 1 to 10 (1: a flat lock).
   * @default 2
   */
  backoffFactor?: number;
  /**
   * The longest lock, 1 s to 24 h, and not shorter than `duration` (refused, not clamped).
   * @default '1h', or `duration` when that is longer
   */
  maxDuration?: Duration;
}

/**
 * The `tokens` options: signing keys, lifetimes and caches of access and refresh tokens. See
 * docs/tokens.md.
 *
 * @example
 * ```ts
 * const tokens: TokenOptions = {
 *   keys: [{ kid: 'k1', alg: 'HS256', key: process.env.JWT_SECRET }],
 *   accessTtl: '10m',
 * };
 * createAuth({ tokens });
 * ```
 */
export interface TokenOptions {
  /**
   * The key set: the signing key plus older keys kept for verification; at least one, each
   * `kid` once. Without keys an ephemeral HS256 secret is generated (with a warning): tokens
   * then do not survive a restart and are not shared between instances.
   * @default an ephemeral HS256 key
   */
  keys?: TokenKeyInput[];
  /**
   * The kid of the signing key; must name a key of `keys` that can sign.
   * @default the first key that can sign
   */
  signingKid?: string;
  /**
   * `iss` of issued tokens, required on verification (non-empty).
   * @default 'gatehouse'
   */
  issuer?: string;
  /**
   * `aud` of issued tokens, required on verification (non-empty).
   * @default 'gatehouse'
   */
  audience?: string;
  /**
   * Lifetime of an access token, 1 s to 24 h. A revoked session's access tokens are refused at
   * once (revocation is checked on every verify), so this bounds only stateless use.
   * @default '15m'
   */
  accessTtl?: Duration;
  /**
   * A session unused (not refreshed) for this long ends, 1 s to 366 d.
   * @default '30d'
   */
  refreshIdleTtl?: Duration;
  /**
   * A session ends this long after login however often it is refreshed, 1 s to 366 d.
   * @default '90d'
   */
  refreshAbsoluteTtl?: Duration;
  /**
   * Clock skew tolerated on `exp`, `nbf` and `iat`, 0 to 60 s.
   * @default '30s'
   */
  clockTolerance?: Duration;
  /**
   * Entries of the verified-token cache (keyed by the exact token string), 0 to 10 000 000; 0
   * switches it off. A hit skips the signature check only: expiry and revocation are checked
   * every time.
   * @default 10000
   */
  verifiedCacheSize?: number;
  /**
   * The longest a session's revocation state may be cached in this process, 0 to 60 s. With a
   * token store that announces revocations (`watchRevocations`: the memory and Postgres stores)
   * a state is cached only while that watch is live and dropped as soon as any instance revokes
   * the session; while the watch is down every verify reads the store. With a store without a
   * watch, a revocation made by another instance is seen within this bound (revocations made by
   * this instance at once). 0 reads the store on every verify.
   * @default '30s' for a store with a revocation watch, 0 for a store without one
   */
  revocationCacheTtl?: Duration;
  /**
   * Refresh reuse grace: for this long after a rotation, the refresh token it used up may be
   * presented **once** more (the client lost the response and retries) and gets the family's
   * next pair instead of revoking the family. Only the immediate predecessor of the current
   * token, only once per rotation; anything else is reuse as without it. At most 60 s
   * (INVALID_CONFIG above). See docs/tokens.md.
   * @default 0 (off)
   */
  reuseGrace?: Duration;
}

/**
 * The `rateLimits` options: per-IP limits of the HTTP routes, and the core's per-email and
 * per-user limits of recovery mails. Each is a {@link RateLimitOption}; `false` switches one off.
 *
 * @example
 * ```ts
 * createAuth({ rateLimits: { login: '10/min', register: { limit: 3, window: '1h' }, refresh: false } });
 * ```
 */
export interface RateLimitOptions {
  /**
   * `POST /login` per client IP.
   * @default '5/min'
   */
  login?: RateLimitOption;
  /**
   * `POST /register` per client IP.
   * @default '5/min'
   */
  register?: RateLimitOption;
  /**
   * `POST /refresh` per client IP.
   * @default '30/min'
   */
  refresh?: RateLimitOption;
  /**
   * `POST /password/forgot` per client IP.
   * @default '5/min'
   */
  forgot?: RateLimitOption;
  /**
   * Password-reset mails per email address (keyed by a keyed hash of the address).
   * @default '3/15m'
   */
  forgotEmail?: RateLimitOption;
  /**
   * Verification mails resent per user.
   * @default '3/15m'
   */
  resendVerification?: RateLimitOption;
}

/**
 * The `cookies` option: when present the auth routes carry tokens in cookies instead of JSON
 * bodies, and every cookie-authenticated state-changing request must pass the CSRF defence (a
 * trusted `Origin` and a session-bound `X-CSRF-Token`). See docs/cookies-csrf.md.
 *
 * @example
 * ```ts
 * const cookies: CookieModeOptions = { trustedOrigins: ['https://app.example.com'] };
 * createAuth({ cookies });
 * ```
 */
export interface CookieModeOptions {
  /**
   * Origins (`scheme://host[:port]`, no path) allowed to make cookie-authenticated
   * state-changing requests; at least one. Required.
   */
  trustedOrigins: string[];
  /**
   * Drops the `Secure` attribute and the `__Host-` / `__Secure-` name prefixes so that a
   * development app works over plain http on localhost. Refused when `NODE_ENV=production`.
   * @default false
   */
  insecureDevelopment?: boolean;
  /**
   * The key that signs CSRF tokens: at least 32 characters or 32 bytes. Give the same key to
   * every instance behind a load balancer.
   * @default a random key per instance
   */
  csrfSecret?: string | Uint8Array;
}

/**
 * `mail.paths`: the paths of your pages that the links in mails open (appended to
 * `mail.publicUrl`). Each starts with one `/`, has no query, fragment or space, at most 200
 * characters.
 *
 * @example
 * ```ts
 * const paths: MailPathOptions = { resetPassword: '/account/reset' };
 * ```
 */
export interface MailPathOptions {
  /** The page that reads `?token=` and calls `POST /password/reset`. @default '/reset-password' */
  resetPassword?: string;
  /** The page that reads `?token=` and calls `POST /email/verify`. @default '/verify-email' */
  verifyEmail?: string;
  /** The page where a password reset is requested. @default '/forgot-password' */
  forgotPassword?: string;
}

/**
 * `mail.templates`: your own renderers, per kind of mail, replacing the built-in ones.
 *
 * @example
 * ```ts
 * const templates: MailTemplateOptions = {
 *   password_reset: (data) => ({ subject: 'Reset', text: data.link ?? '', html: '' }),
 * };
 * ```
 */
export interface MailTemplateOptions {
  /** Renders the password-reset mail (its link opens `paths.resetPassword`). @default the built-in password-reset mail */
  password_reset?: MailTemplate;
  /** Renders the email-verification mail (its link opens `paths.verifyEmail`). @default the built-in verification mail */
  email_verification?: MailTemplate;
  /** Sent when someone registers with an address that has an account. @default the built-in notice */
  registration_notice?: MailTemplate;
}

/**
 * `mail.retry`: how a failed delivery is retried (exponential backoff).
 *
 * @example
 * ```ts
 * const retry: MailRetryOptions = { maxAttempts: 5, initialDelay: '5s', maxDelay: '10m' };
 * ```
 */
export interface MailRetryOptions {
  /** Attempts before the message is given up, 1 to 50. @default 8 */
  maxAttempts?: number;
  /** The delay before the first retry, 100 ms to 10 min. @default '1s' */
  initialDelay?: Duration;
  /** The longest delay between retries, 1 s to 24 h, not shorter than `initialDelay`. @default '60s' */
  maxDelay?: Duration;
}

/**
 * The `mail` options: how password-reset and verification mails are sent, through an outbox
 * and a retrying worker. Absent: the recovery routes are not mounted. See
 * docs/account-recovery.md.
 *
 * @example
 * ```ts
 * const mail: MailOptions = {
 *   mailer: async (message) => console.log(message.to, message.subject),
 *   publicUrl: 'https://app.example.com',
 * };
 * createAuth({ mail });
 * ```
 */
export interface MailOptions {
  /** Sends one message; a rejection is retried per `retry`. Required. */
  mailer: Mailer;
  /**
   * The absolute http(s) URL the links in mails start with, without query or fragment; https
   * when `NODE_ENV=production` unless localhost. Required.
   */
  publicUrl: string;
  /** The paths of your reset, verify and forgot pages. @default see {@link MailPathOptions} */
  paths?: MailPathOptions;
  /** Your own renderers per kind of mail. @default the built-in templates */
  templates?: MailTemplateOptions;
  /** The name in the built-in mails, 1 to 100 characters. @default none */
  productName?: string;
  /** How failed deliveries are retried. @default see {@link MailRetryOptions} */
  retry?: MailRetryOptions;
  /** How often the worker looks for due messages, 100 ms to 10 min. @default '1s' */
  pollInterval?: Duration;
}

/**
 * The `passwordReset` options.
 *
 * @example
 * ```ts
 * createAuth({ mail, passwordReset: { tokenTtl: '1h' } });
 * ```
 */
export interface PasswordResetOptions {
  /** How long a reset link works, 1 min to 24 h. @default '30m' */
  tokenTtl?: Duration;
}

/**
 * The `emailVerification` options.
 *
 * @example
 * ```ts
 * createAuth({ mail, emailVerification: { required: true, tokenTtl: '48h' } });
 * ```
 */
export interface EmailVerificationOptions {
  /** How long a verification link works, 1 min to 7 d. @default '24h' */
  tokenTtl?: Duration;
  /**
   * Refuse logins of unverified accounts (EMAIL_NOT_VERIFIED) and make registration
   * enumeration-safe. Needs `mail` (refused without it).
   * @default false
   */
  required?: boolean;
}

/**
 * `account.dataExport`: the app's part of `auth.exportUser` and `auth.eraseUser`. See
 * docs/accounts.md.
 *
 * @example
 * ```ts
 * const dataExport: DataExportOptions = {
 *   extend: async (user) => ({ orders: await orders.listByOwner(user.id) }),
 *   erase: async (user) => { await orders.deleteByOwner(user.id); },
 * };
 * createAuth({ account: { dataExport } });
 * ```
 */
export interface DataExportOptions {
  /**
   * Returns the app's own data about the user (an object, made plain JSON), placed in the
   * export's `app` field. A throw fails the export.
   * @default none (`app` is `{}`)
   */
  extend?: (user: PublicUser) => Promise<Record<string, unknown>> | Record<string, unknown>;
  /**
   * Deletes the app's own data about the user. `eraseUser` calls it after disabling the account
   * and before deleting anything of gatehouse's; a throw stops the erasure (the account stays
   * disabled; call `eraseUser` again), so make it idempotent.
   * @default none
   */
  erase?: (user: PublicUser) => Promise<void> | void;
  /**
   * The most audit events an export holds (newest first), 1 to 10 000.
   * @default 1000
   */
  auditEventLimit?: number;
}

/**
 * The `account` options: what the app adds to a user's data export and erasure.
 *
 * @example
 * ```ts
 * createAuth({ account: { dataExport: { extend: (user) => ({ plan: plans.of(user.id) }) } } });
 * ```
 */
export interface AccountOptions {
  /** The app's part of the data export and of erasure. @default none */
  dataExport?: DataExportOptions;
}

/**
 * The `stores` option: where state lives. Each store left out is an in-memory one (one
 * process, lost on restart); `createPostgresStores(...).stores` from `gatehouse/postgres` gives
 * them all.
 *
 * @example
 * ```ts
 * const stores: StoreOptions = { users: new MemoryUserStore() };
 * createAuth({ stores });
 * ```
 */
export interface StoreOptions {
  /** Accounts. @default a MemoryUserStore */
  users?: UserStore;
  /** Failed-login counters of the lockout. @default a MemoryAttemptStore */
  attempts?: AttemptStore;
  /** Refresh sessions. @default a MemoryTokenStore */
  tokens?: TokenStore;
  /** Rate-limit counters. @default a MemoryRateLimitStore */
  rateLimits?: RateLimitStore;
  /** Password-reset and verification tokens. @default a MemoryOneTimeTokenStore */
  oneTimeTokens?: OneTimeTokenStore;
  /** Mails waiting for delivery. @default a MemoryMailOutbox */
  outbox?: MailOutboxStore;
  /**
   * A queryable audit log (`MemoryAuditLog`, `PostgresAuditLog`): every audit event is written
   * to it besides the `audit` sink, `auth.exportUser` reads the user's events from it and
   * `auth.eraseUser` pseudonymises them. Without it, an export has no events and erasure
   * cannot reach events already sent to the `audit` sink.
   * @default none
   */
  auditLog?: AuditLogStore;
  /**
   * TOTP factors and recovery codes (`MemoryMfaStore`, `PostgresMfaStore`). Use a shared store
   * when several instances serve the same users: the replay check of a code lives here.
   * @default a MemoryMfaStore
   */
  mfa?: MfaStore;
}

/**
 * The `telemetry` option: where gatehouse records its OpenTelemetry metrics and spans
 * (docs/observability.md lists them). Needs the optional peer dependency `@opentelemetry/api`;
 * without it telemetry is off, without an error. A provider left out is the global one of
 * `@opentelemetry/api` as registered when `createAuth` runs (a provider registered later is not
 * seen by that instance: register the SDK first); with neither given nor registered, telemetry
 * is off and costs nothing.
 *
 * @example
 * ```ts
 * import { MeterProvider } from '@opentelemetry/sdk-metrics';
 * import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
 *
 * const meterProvider = new MeterProvider({ readers: [new PrometheusExporter({ port: 9464 })] });
 * createAuth({ telemetry: { meterProvider } });
 * ```
 */
export interface TelemetryOptions {
  /**
   * Receives the metrics (Meter `gatehouse`).
   * @default the global MeterProvider of @opentelemetry/api (none registered: no metrics)
   */
  meterProvider?: TelemetryMeterProvider;
  /**
   * Receives the spans (Tracer `gatehouse`); nesting follows the active context, so register a
   * context manager (the Node SDK does).
   * @default the global TracerProvider of @opentelemetry/api (none registered: no spans)
   */
  tracerProvider?: TelemetryTracerProvider;
}

/**
 * The `mfa` option: a TOTP second factor (RFC 6238, SHA-1, 6 digits, 30 s) with recovery codes.
 * Absent: no second factor (the MFA methods answer INVALID_CONFIG and the MFA routes are not
 * mounted). See docs/mfa.md.
 *
 * @example
 * ```ts
 * createAuth({
 *   mfa: {
 *     issuer: 'Acme Shop',
 *     encryptionKeys: [{ id: '2030-01', key: process.env.MFA_KEY! }],
 *     requireForRoles: ['admin'],
 *   },
 * });
 * ```
 */
export interface MfaOptions {
  /**
   * The name authenticator apps show above the code, 1 to 100 characters, without `:`.
   * @default `passwords.productName`, else 'gatehouse'
   */
  issuer?: string;
  /**
   * Required: the keyring of the stored TOTP secrets, at least one key. The first encrypts;
   * every key decrypts (by id), and a secret sealed by an older key is re-encrypted with the
   * first at its next use: to rotate, put the new key first and keep the old ones.
   */
  encryptionKeys: MfaEncryptionKey[];
  /**
   * Roles that must use a second factor: their login answers MFA_ENROLLMENT_REQUIRED (403,
   * with an enrolment challenge) until they enrol, and they cannot turn it off. Each must be
   * declared by the policy when one is given.
   * @default [] (none)
   */
  requireForRoles?: string[];
  /**
   * How long the challenge of MFA_REQUIRED / MFA_ENROLLMENT_REQUIRED works, 30 s to 10 min.
   * @default '5m'
   */
  challengeTtl?: Duration;
  /**
   * The lockout of wrong codes, per account and apart from the password's (same rules: a
   * progressive lock after `maxAttempts` wrong codes).
   * @default the password lockout's defaults (5 codes per 15 min; 1 min, doubling, at most 1 h)
   */
  lockout?: LockoutOptions;
}

/**
 * The options of `createAuth`; every one is optional. Each field shows its default and bounds on
 * hover; docs/configuration.md describes them. A wrong value makes `createAuth` throw
 * `INVALID_CONFIG` naming the option.
 *
 * @example
 * ```ts
 * const options: AuthOptions = {
 *   passwords: { cost: 12, minLength: 16 },
 *   lockout: { maxAttempts: 5, window: '15m', duration: '1m', maxDuration: '1h' },
 *   tokens: { keys: [{ kid: '2025-06', alg: 'HS256', key: process.env.JWT_SECRET }] },
 *   rateLimits: { login: '5/min' },
 * };
 * const auth = createAuth(options);
 * ```
 */
export interface AuthOptions {
  /** Where state lives. @default in-memory stores (one process, lost on restart) */
  stores?: StoreOptions;
  /** Hashing cost and password rules. @default see {@link PasswordOptions} */
  passwords?: PasswordOptions;
  /** Per-account lockout after wrong passwords. @default see {@link LockoutOptions} */
  lockout?: LockoutOptions;
  /** Access tokens, keys, refresh sessions and the verify cache; see docs/tokens.md. @default see {@link TokenOptions} */
  tokens?: TokenOptions;
  /** Per-IP limits of the routes, per-email reset mails and per-user resends. @default see {@link RateLimitOptions} */
  rateLimits?: RateLimitOptions;
  /** Cookie mode with its CSRF defence. @default absent: tokens travel in JSON bodies */
  cookies?: CookieModeOptions;
  /** The mailer and the links of password-reset and verification mails. @default absent: no recovery routes */
  mail?: MailOptions;
  /** Password-reset links. @default see {@link PasswordResetOptions} */
  passwordReset?: PasswordResetOptions;
  /** Email verification links, and whether a verified email is required to log in. @default see {@link EmailVerificationOptions} */
  emailVerification?: EmailVerificationOptions;
  /** The app's hooks of the data export and erasure. @default see {@link AccountOptions} */
  account?: AccountOptions;
  /** The role of a newly registered account (non-empty). @default 'user' */
  defaultRole?: string;
  /** Receives every audit event (login, lockout, token reuse...). @default none */
  audit?: AuditSink;
  /**
   * The secret behind every keyed hash of a login identifier: the lockout counter keys and the
   * audit `metadata.emailHash`; at least 16 characters or bytes. Give every instance sharing a
   * store the same key.
   * @default a random key per instance (counters not shared between instances)
   */
  identifierKey?: string | Uint8Array;
  /**
   * @deprecated Use `identifierKey`, which it is an alias of (refused when both differ).
   * @default none
   */
  auditEmailKey?: string | Uint8Array;
  /** Hashes and verifies passwords. @default bcrypt (@node-rs/bcrypt) at `passwords.cost` */
  passwordHasher?: PasswordHasher;
  /** The time source (inject one in tests). @default the system clock */
  clock?: Clock;
  /** The randomness source (inject one in tests). @default node:crypto */
  random?: RandomSource;
  /**
   * Where gatehouse logs; `false` logs nothing at all.
   * @default warnings and errors to stderr as JSON lines (`stderrLogger`)
   */
  logger?: Logger | false;
  /** The authorization policy behind `auth.can()` and friends, made by `definePolicy()`. @default none */
  policy?: Policy;
  /**
   * OpenTelemetry metrics and traces (docs/observability.md); `false` turns them off and never
   * loads `@opentelemetry/api`.
   * @default the global providers of @opentelemetry/api when it is installed and they are registered; else off
   */
  telemetry?: false | TelemetryOptions;
  /**
   * A TOTP second factor with recovery codes (docs/mfa.md).
   * @default absent: no second factor
   */
  mfa?: MfaOptions;
}
