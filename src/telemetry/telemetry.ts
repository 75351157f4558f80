// The internal telemetry interface of gatehouse: what the core and the adapters call. One per auth
// instance (reachable by `internalsOf(auth).telemetry`); the frozen no-op below when telemetry is
// off, so an instrumented call site costs one property read and an empty call.

/** `gatehouse.login.attempts {outcome}`: how a login attempt ended. */
export type LoginOutcome =
  | 'success'
  | 'invalid_credentials'
  | 'locked'
  | 'rate_limited'
  | 'validation_error'
  | 'email_not_verified'
  | 'mfa_required'
  | 'mfa_enrollment_required'
  | 'mfa_failed'
  | 'server_error';

/** `gatehouse.refresh {outcome}`: how a refresh-token exchange ended. */
export type RefreshOutcome =
  | 'success'
  | 'reuse_detected'
  | 'expired'
  | 'revoked'
  | 'invalid'
  | 'user_inactive'
  | 'rate_limited'
  | 'server_error';

/** `gatehouse.token.verifications {result}`. */
export type TokenVerificationResult = 'cache_hit' | 'cache_miss' | 'rejected';

/**
 * `gatehouse.token.verifications {reason}` of a rejection: the documented, small set the
 * `TokenRejection` reasons fold into (`verificationRejectReason` in ./outcomes.ts).
 */
export type VerificationRejectReason =
  | 'expired'
  | 'invalid_signature'
  | 'unknown_key'
  | 'forbidden_header'
  | 'malformed'
  | 'invalid_claims'
  | 'revoked'
  | 'unavailable';

/** `gatehouse.mail.deliveries {outcome}`. */
export type MailDeliveryOutcome = 'sent' | 'retry' | 'failed';

/** Span and metric attributes: low cardinality only, never an email, id, token, IP or path. */
export type TelemetryAttributes = Readonly<Record<string, string | number | boolean>>;

/** What the core and the adapters call. One per auth instance; reachable by internalsOf(auth).telemetry. */
export interface Telemetry {
  /** False when off (option false, API not installed, or no provider): callers may skip work. */
  readonly enabled: boolean;
  /** `gatehouse.login.attempts {outcome}`. */
  loginAttempt(outcome: LoginOutcome): void;
  /** `gatehouse.lockouts`: an account (identifier) just became locked. */
  lockout(): void;
  /** `gatehouse.rate_limited {route}`: `route` is a route name (`login`, `forgot`…), never a raw path. */
  rateLimited(route: string): void;
  /** `gatehouse.token.verifications {result, reason?}`; `reason` only with `rejected`. */
  tokenVerification(result: TokenVerificationResult, reason?: VerificationRejectReason): void;
  /** `gatehouse.refresh {outcome}`. */
  refresh(outcome: RefreshOutcome): void;
  /**
   * `gatehouse.authz.decisions {decision, permission}`; a deny also records a
   * `gatehouse.authorize` span. `permission` is the policy's permission name (a bounded set).
   */
  authzDecision(decision: 'allow' | 'deny', permission: string): void;
  /** `gatehouse.password.hash.duration {operation}` in seconds. */
  passwordHashDuration(seconds: number, operation: 'hash' | 'verify'): void;
  /** `gatehouse.mail.deliveries {outcome}`. */
  mailDelivery(outcome: MailDeliveryOutcome): void;
  /** Observable gauge `gatehouse.password.hash.queue_length`: `read` is called at collection time only. */
  observeQueueLength(read: () => number): void;
  /**
   * Observable gauge `gatehouse.mail.outbox.pending`: `read` is called at collection time only
   * (a promise is awaited by a batch refresh before the next collection; see ./otel.ts).
   */
  observeOutboxPending(read: () => number | Promise<number>): void;
  /**
   * Runs a store call, recording `gatehouse.store.duration {store, operation}`,
   * `gatehouse.store.errors {store, operation}` and a child span (L2's ./stores.ts).
   */
  storeCall<T>(store: string, operation: string, call: () => Promise<T>): Promise<T>;
  /** Runs fn in a span (active context, error status on throw); no span when off. */
  span<T>(name: string, attributes: TelemetryAttributes, fn: () => Promise<T>): Promise<T>;
  /**
   * `span` for a function that may answer synchronously: the span ends when `fn` returns, or when
   * the promise it returns settles; a synchronous answer stays synchronous. No span when off.
   */
  within<T>(name: string, attributes: TelemetryAttributes, fn: () => T): T;
  /**
   * `within`, but the span is made only inside an active span that is recording (a request the
   * application traces): no root span of its own. For spans of the hot path (`gatehouse.verify`).
   */
  withinTrace<T>(name: string, attributes: TelemetryAttributes, fn: () => T): T;
  /** Removes the gauge callbacks (`auth.close()`): a closed instance is no longer read. */
  close(): void;
}

function nothing(): void {}

/** The one shared no-op: every instance with telemetry off holds this very object. */
export const noopTelemetry: Telemetry = Object.freeze({
  enabled: false,
  loginAttempt: nothing,
  lockout: nothing,
  rateLimited: nothing,
  tokenVerification: nothing,
  refresh: nothing,
  authzDecision: nothing,
  passwordHashDuration: nothing,
  mailDelivery: nothing,
  observeQueueLength: nothing,
  observeOutboxPending: nothing,
  storeCall: <T>(_store: string, _operation: string, call: () => Promise<T>): Promise<T> => call(),
  span: <T>(_name: string, _attributes: TelemetryAttributes, fn: () => Promise<T>): Promise<T> =>
    fn(),
  within: <T>(_name: string, _attributes: TelemetryAttributes, fn: () => T): T => fn(),
  withinTrace: <T>(_name: string, _attributes: TelemetryAttributes, fn: () => T): T => fn(),
  close: nothing,
});
