// The public API of `gatehouse`. Every name is listed; types go out with `export type`.

export type {
  AdminUserView,
  BanUserInput,
  ListUsersOptions,
  UserBan,
  UserListResult,
} from './account/administration.js';
export type {
  ExportedSession,
  MfaDataExport,
  UserDataExport,
  UserErasure,
} from './account/data-rights.js';
export type { SessionInfo } from './account/sessions.js';
export type { RequestContext } from './audit/emitter.js';
export type { AuditEvent, AuditEventName, AuditSink } from './audit/events.js';
export type { Auth, LoginResult } from './auth.js';
export { createAuth } from './auth.js';
export type { AuthOptions } from './config.js';
export { normalizeEmail } from './credentials/email.js';
export type { LoginInput, RegisterInput } from './credentials/service.js';
export { MAX_DURATION_MS, parseDuration } from './duration.js';
export type { AuthErrorCode, AuthErrorOptions } from './errors.js';
export { AuthError, ERROR_CODES, isAuthError } from './errors.js';
export type { AccessTokenSource } from './http/access-token-source.js';
export type { AuthenticateOptions, ResourceLoader } from './http/auth-routes.js';
export { clientErrorResponse, expectationFailedResponse } from './http/client-error.js';
export type { CookieModeOptions, CookieNames } from './http/cookie-mode.js';
export { cookieNames } from './http/cookie-mode.js';
export { CSRF_HEADER } from './http/csrf.js';
export type { OutageLogOptions } from './http/outage-log.js';
export { rateLimitKeyOfIp } from './http/request.js';
export type { ErrorBody } from './http/response.js';
export { isGuard, isPublic, markGuard, markPublic } from './http/route-marks.js';
export type { Mailer, MailMessage } from './mail/message.js';
export type { MailTemplate, MailTemplateData } from './mail/templates.js';
export { defaultMailTemplates, escapeHtml, renderMail } from './mail/templates.js';
export type {
  MailFlushResult,
  MailWorker,
  MailWorkerOptions,
  MailWorkerTimers,
} from './mail/worker.js';
export { createMailWorker } from './mail/worker.js';
export type { MfaEncryptionKey } from './mfa/secret-box.js';
export { generateMfaKey } from './mfa/secret-box.js';
export type {
  EnrollWithChallengeInput,
  MfaRecoveryCodes,
  SecondFactorInput,
  TotpEnrollment,
} from './mfa/service.js';
export type {
  AccountOptions,
  BreachedPasswordOptions,
  DataExportOptions,
  Duration,
  EmailVerificationOptions,
  LockoutOptions,
  MailOptions,
  MailPathOptions,
  MailRetryOptions,
  MailTemplateOptions,
  MfaOptions,
  PasswordOptions,
  PasswordResetOptions,
  RateLimitOption,
  RateLimitOptions,
  StoreOptions,
  TelemetryOptions,
} from './options.js';
export type {
  BreachedPasswordCheckOptions,
  BreachedPasswordCheckResult,
} from './passwords/breached.js';
export { checkBreachedPassword } from './passwords/breached.js';
export { isCommonPassword } from './passwords/common-passwords.js';
export type { PasswordHasher } from './passwords/hasher.js';
export { bcryptHasher } from './passwords/hasher.js';
export type { HashPasswordOptions } from './passwords/index.js';
export { hashPassword, verifyPassword } from './passwords/index.js';
export type {
  BreachedPasswordRule,
  PasswordCheck,
  PasswordCheckContext,
  PasswordRules,
} from './passwords/policy.js';
export { checkNewPassword, MAX_PASSWORD_BYTES, normalizePassword } from './passwords/policy.js';
export { isRepetitivePassword } from './passwords/repetitive.js';
export { accessDeniedMetadata } from './policy/access-denied.js';
export type { PolicyFilterSqlOptions } from './policy/filter.js';
export { matchesPolicyFilter, policyFilterToSql } from './policy/filter.js';
export type { Policy, PolicyModelOf } from './policy/policy.js';
export { definePolicy, resource } from './policy/policy.js';
export type { SeedOrderResource, SeedUserResource } from './policy/seed-policy.js';
export { seedPolicy } from './policy/seed-policy.js';
export type {
  ActionOf,
  CheckedResource,
  ConditionalRule,
  ConditionLiteral,
  FieldEquals,
  Permission,
  PolicyDecisionReason,
  PolicyDefinition,
  PolicyExplanation,
  PolicyFilter,
  PolicyPrincipal,
  PolicyRule,
  PolicyRuleReference,
  PrincipalField,
  PrincipalReference,
  ResourceDeclaration,
  ResourceModel,
  ResourceSpec,
  ResourceTypeOf,
  RoleDefinition,
  RulePermission,
  WhenCondition,
  WhereCondition,
} from './policy/types.js';
export type {
  RateLimitDecision,
  RateLimitedRoute,
  RateLimitRule,
  RateLimitRules,
} from './ratelimit/limiter.js';
export { parseRateLimit } from './ratelimit/limiter.js';
export type { Clock, Logger, RandomSource } from './runtime.js';
export type { MemoryAttemptStoreOptions } from './stores/memory-attempt-store.js';
export { MemoryAttemptStore } from './stores/memory-attempt-store.js';
export type { MemoryAuditLogOptions } from './stores/memory-audit-log.js';
export { MemoryAuditLog } from './stores/memory-audit-log.js';
export type { MemoryMailOutboxOptions, MemoryOutboxEntry } from './stores/memory-mail-outbox.js';
export { MemoryMailOutbox } from './stores/memory-mail-outbox.js';
export type { MemoryMfaStoreOptions } from './stores/memory-mfa-store.js';
export { MemoryMfaStore } from './stores/memory-mfa-store.js';
export type { MemoryOneTimeTokenStoreOptions } from './stores/memory-one-time-token-store.js';
export { MemoryOneTimeTokenStore } from './stores/memory-one-time-token-store.js';
export { MemoryRateLimitStore } from './stores/memory-rate-limit-store.js';
export type { MemoryTokenStoreOptions } from './stores/memory-token-store.js';
export { MemoryTokenStore } from './stores/memory-token-store.js';
export { MemoryUserStore } from './stores/memory-user-store.js';
export type {
  AttemptReservation,
  AttemptState,
  AttemptStore,
  AuditLogStore,
  LockoutRule,
  MailKind,
  MailOutboxStore,
  MfaFactorRecord,
  MfaFactorStatus,
  MfaStore,
  NewUser,
  OneTimeTokenPurpose,
  OneTimeTokenRecord,
  OneTimeTokenStore,
  OutboxMessage,
  PublicUser,
  RateLimitResult,
  RateLimitStore,
  RevocationEvent,
  RevocationListener,
  RevocationWatch,
  RotationResult,
  RotationRule,
  SessionRecord,
  TokenStore,
  UserListPage,
  UserListQuery,
  UserPatch,
  UserRecord,
  UserStore,
} from './stores/types.js';
export type { TelemetryMeterProvider, TelemetryTracerProvider } from './telemetry/types.js';
export type {
  AccessPrincipal,
  AccessTokenClaims,
  TokenRejection,
} from './tokens/access-token.js';
export type { JsonWebKeySet, PublicJwk, TokenAlgorithm, TokenKeyInput } from './tokens/keys.js';
export { TOKEN_ALGORITHMS } from './tokens/keys.js';
export type { TokenOptions } from './tokens/options.js';
export type {
  IssuedTokens,
  SessionDevice,
  StartedSession,
  TokenRequestContext,
  TokenUser,
} from './tokens/service.js';
