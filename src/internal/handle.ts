import type { AuditEmitter } from '../audit/emitter.js';
import type { ResolvedAuthOptions } from '../config.js';
import { AuthError } from '../errors.js';
import type { RateLimiter } from '../ratelimit/limiter.js';
import type { Clock } from '../runtime.js';
import type {
  AttemptStore,
  MailOutboxStore,
  MfaStore,
  OneTimeTokenStore,
  RateLimitStore,
  TokenStore,
  UserStore,
} from '../stores/types.js';
import type { Telemetry } from '../telemetry/telemetry.js';
import type { AccessPrincipal } from '../tokens/access-token.js';

/** The stores an instance uses (the configured ones or the memory defaults). */
export interface AuthStores {
  readonly users: UserStore;
  readonly attempts: AttemptStore;
  readonly rateLimits: RateLimitStore;
  readonly tokens: TokenStore;
  readonly oneTimeTokens: OneTimeTokenStore;
  readonly outbox: MailOutboxStore;
  readonly mfa: MfaStore;
}

/**
 * What the HTTP layer and the tests reach behind an `Auth` instance; not part of the public API
 * (not exported from any entry point).
 */
export interface AuthInternals {
  /** The resolved, validated options. */
  readonly config: ResolvedAuthOptions;
  readonly stores: AuthStores;
  readonly clock: Clock;
  /** The audit emitter (adapters emit RATE_LIMITED / CSRF_REJECTED through it). */
  readonly audit: AuditEmitter;
  /** The per-IP rate limiter of the adapters' routes (`rateLimits`). */
  readonly rateLimiter: RateLimiter;
  /**
   * The instance's metrics and spans (src/telemetry/): the shared frozen no-op when telemetry is
   * off, so a call costs nothing; check `telemetry.enabled` before building anything for it.
   */
  readonly telemetry: Telemetry;
  /**
   * `auth.verifyAccessToken` for the adapters' hot path: the principal itself (no promise) on a
   * cache hit whose session state is known synchronously, a promise otherwise; throws or
   * rejects with the same errors.
   */
  readonly verifyAccessToken: (token: string) => AccessPrincipal | Promise<AccessPrincipal>;
  /**
   * The cache-hit half of `verifyAccessToken`: undefined (nothing checked) when this exact token
   * string is not in the verified-token cache; else its verdict, as `verifyAccessToken`'s. A
   * cached token once passed the signature check: it holds only base64url characters and dots.
   */
  readonly verifyCachedAccessToken: (
    token: string,
  ) => AccessPrincipal | Promise<AccessPrincipal> | undefined;
  /**
   * `verifyCachedAccessToken` for a whole `Authorization` header value that starts with
   * `Bearer ` (one space), compared with the cached entry as it is (the HTTP hot path).
   */
  readonly verifyCachedBearer: (
    authorization: string,
  ) => AccessPrincipal | Promise<AccessPrincipal> | undefined;
}

const internals = new WeakMap<object, AuthInternals>();

/** Attaches the internals to an instance; called once by `createAuth`. */
export function registerInternals(auth: object, handle: AuthInternals): void {
  internals.set(auth, Object.freeze({ ...handle, stores: Object.freeze({ ...handle.stores }) }));
}

/**
 * The internals of an instance made by `createAuth`; INVALID_CONFIG for anything else (an object
 * that only looks like one).
 */
export function internalsOf(auth: object): AuthInternals {
  const handle = internals.get(auth);
  if (!handle) {
    throw new AuthError(
      'INVALID_CONFIG',
      'Not a gatehouse instance: pass the object returned by createAuth().',
    );
  }
  return handle;
}
