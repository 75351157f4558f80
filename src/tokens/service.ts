import { LRUCache } from 'lru-cache';
import { isBanned } from '../account/ban.js';
import type { AuditEventName } from '../audit/events.js';
import { AuthError } from '../errors.js';
import { type Clock, type Logger, type RandomSource, silentLogger } from '../runtime.js';
import type { SessionRecord, TokenStore, UserStore } from '../stores/types.js';
import { refreshOutcomeOf, verificationRejectReason } from '../telemetry/outcomes.js';
import { noopTelemetry, type Telemetry } from '../telemetry/telemetry.js';
import {
  type AccessPrincipal,
  AccessTokenCodec,
  type AccessTokenSubject,
  tokenRejected,
  type VerifiedAccessToken,
} from './access-token.js';
import { createKeySet, type JsonWebKeySet, type TokenKeyInput } from './keys.js';
import type { ResolvedTokenOptions } from './options.js';
import {
  createRefreshToken,
  hashRefreshToken,
  isRefreshTokenShape,
  randomId,
  randomUuid,
} from './refresh-token.js';
import { SessionStateReader } from './session-state.js';

type SessionState = ReturnType<SessionStateReader['get']>;

/**
 * A verified-token cache entry: the exact token, kept as the `Authorization` header that carries
 * it (`Bearer <token>`, one flat string), and what its verification gave.
 */
interface CachedToken {
  bearer: string;
  verified: VerifiedAccessToken;
}

/** The form of a token as a cached entry keeps it, and as the HTTP hot path compares it. */
const BEARER_PREFIX = 'Bearer ';

/**
 * The verified-token cache's key for a token, or for the `Bearer <token>` header carrying it (the
 * same key: it reads the end only): a number mixed from the last six characters.
 * It only picks the entry; the entry's whole token is compared on every lookup, so a collision
 * is a miss, never a wrong hit. No string is built or hashed, and no `lastIndexOf` runs: on a
 * header string fresh from the parser, those cost more than the rest of a cache hit.
 */
function cacheKeyOf(token: string): number {
  const end = token.length;
  let key = 0;
  for (let i = end > 6 ? end - 6 : 0; i < end; i++) key = (key * 31 + token.charCodeAt(i)) | 0;
  // 30 bits: a small integer for V8 (no heap number), whatever the characters.
  return key & 0x3fffffff;
}

/**
 * The `Bearer <token>` header form of a token, as a flat string: compared against a header
 * string (flat too), equality is a plain memory compare, where a sliced or concatenated string
 * would go through the runtime. Built once per cached token (on a miss).
 */
function bearerOf(token: string): string {
  return Buffer.from(BEARER_PREFIX + token, 'latin1').toString('latin1');
}

/** Whether a cached entry holds exactly `token`. */
function holds(cached: CachedToken, token: string): boolean {
  const bearer = cached.bearer;
  return bearer.length === BEARER_PREFIX.length + token.length && bearer.endsWith(token);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * What the caller knows about the request behind an operation (for audit events); the same
 * shape as `RequestContext`.
 *
 * @example
 * ```ts
 * await auth.refresh(refreshToken, { ip: req.ip, userAgent: req.headers['user-agent'] } satisfies TokenRequestContext);
 * ```
 */
export interface TokenRequestContext {
  ip?: string | undefined;
  userAgent?: string | undefined;
  /** The request's id (X-Request-Id), carried into log lines and audit events. */
  requestId?: string | undefined;
}

/**
 * Where the token service sends its audit events (gatehouse's own emitter fits; `createAuth`
 * wires it).
 *
 * @example
 * ```ts
 * const audit: TokenAuditEmitter = { emit: (input) => console.log(input.event, input.status) };
 * ```
 */
export interface TokenAuditEmitter {
  emit(input: {
    event: AuditEventName;
    status: 'success' | 'failure';
    userId?: string | undefined;
    context?: TokenRequestContext | undefined;
    metadata?: Record<string, unknown>;
  }): void;
}

/**
 * The user fields an access token carries.
 *
 * @example
 * ```ts
 * const user: TokenUser = { id: 'u1', email: 'ada@example.com', role: 'user' };
 * const { token } = await tokens.startSession(user);
 * ```
 */
export interface TokenUser {
  id: string;
  email: string;
  role: string;
}

/**
 * Tokens handed to a client: `expiresIn` is the access token's lifetime in seconds.
 *
 * @example
 * ```ts
 * const { token, refreshToken, expiresIn }: IssuedTokens = await auth.refresh(oldRefreshToken);
 * ```
 */
export interface IssuedTokens {
  token: string;
  refreshToken: string;
  expiresIn: number;
}

/**
 * The result of starting a session at login: the tokens plus the session (family) id.
 *
 * @example
 * ```ts
 * const { token, refreshToken, sessionId }: StartedSession = await tokens.startSession(user);
 * ```
 */
export interface StartedSession extends IssuedTokens {
  sessionId: string;
}

/**
 * What a new session records about the client that signed in (see `SessionRecord`).
 *
 * @example
 * ```ts
 * const device: SessionDevice = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 …', label: 'Work laptop' };
 * await tokens.startSession(user, device);
 * ```
 */
export interface SessionDevice {
  ip: string | null;
  userAgent: string | null;
  label: string | null;
}

/** A session's last use is written at most this often (per session, per process). */
export const SESSION_TOUCH_INTERVAL_MS = 60_000;

/**
 * Dependencies of {@link createTokenService}.
 *
 * @example
 * ```ts
 * import { randomBytes } from 'node:crypto';
 * const deps: TokenServiceDependencies = {
 *   options: resolveTokenOptions({ keys }),
 *   store: new MemoryTokenStore(),
 *   users: new MemoryUserStore(),
 *   clock: { now: () => Date.now() },
 *   random: { bytes: (n) => randomBytes(n) },
 *   audit: { emit: () => {} },
 * };
 * ```
 */
export interface TokenServiceDependencies {
  /** Validated options (`resolveTokenOptions`). */
  options: ResolvedTokenOptions;
  store: TokenStore;
  /** Reloaded on every refresh: a changed role is picked up, a disabled user is refused. */
  users: Pick<UserStore, 'findById'>;
  clock: Clock;
  random: RandomSource;
  audit: TokenAuditEmitter;
  logger?: Logger;
  /**
   * Counts verifications (`gatehouse.token.verifications`) and refreshes (`gatehouse.refresh`),
   * and traces a verification that missed the cache. @default off
   */
  telemetry?: Telemetry;
}

/** The attributes of the span of a verification that missed the cache. */
const VERIFY_SPAN_ATTRIBUTES = Object.freeze({ 'gatehouse.token.type': 'access' });

/**
 * The token half of gatehouse: access JWTs, refresh-token families with rotation and reuse
 * detection, revocation, and the cached verify path.
 *
 * @example
 * ```ts
 * import { randomBytes } from 'node:crypto';
 * // Internal: apps get this service through createAuth.
 * import { MemoryTokenStore, MemoryUserStore } from 'gatehouse';
 * import { resolveTokenOptions } from './options.js';
 * import { createTokenService } from './service.js';
 *
 * const users = new MemoryUserStore();
 * const tokens = createTokenService({
 *   options: resolveTokenOptions({ keys: [{ kid: 'k1', alg: 'HS256', key: process.env.JWT_SECRET }] }),
 *   store: new MemoryTokenStore(),
 *   users,
 *   clock: { now: () => Date.now() },
 *   random: { bytes: (n) => randomBytes(n) },
 *   audit: { emit: (event) => console.log(event) },
 * });
 * const { token, refreshToken } = await tokens.startSession(user);
 * const principal = await tokens.verifyAccessToken(token);
 * ```
 */
export function createTokenService(deps: TokenServiceDependencies) {
  const { options, store, users, clock, random, audit } = deps;
  const logger = deps.logger ?? silentLogger;
  const telemetry = deps.telemetry ?? noopTelemetry;
  // Read once: with telemetry off, the verify path only tests this boolean.
  const counting = telemetry.enabled;

  let keyInputs: TokenKeyInput[];
  if (options.keys) {
    keyInputs = options.keys as TokenKeyInput[];
  } else {
    if (process.env['NODE_ENV'] === 'production') {
      throw new AuthError(
        'INVALID_CONFIG',
        'Invalid createAuth options: tokens.keys is required when NODE_ENV=production (an ephemeral key would log everyone out at each restart and differ between instances).',
      );
    }
    logger.warn(
      'tokens.keys is not set: using an ephemeral HS256 key; tokens will not survive a restart or be shared between instances',
    );
    keyInputs = [{ kid: `ephemeral-${randomId(random, 6)}`, alg: 'HS256', key: random.bytes(32) }];
  }
  const keys = createKeySet(keyInputs, options.signingKid);
  const codec = new AccessTokenCodec({
    keys,
    issuer: options.issuer,
    audience: options.audience,
    toleranceMs: options.clockTolerance,
    maxLifetimeMs: options.accessTtl,
  });
  // Keyed by a number read from the token's end (see cacheKeyOf); the entry keeps the whole
  // token, compared on every lookup, so only that exact string ever hits.
  const verified =
    options.verifiedCacheSize > 0
      ? new LRUCache<number, CachedToken>({ max: options.verifiedCacheSize })
      : null;

  /** The verified entry of exactly `token`, or undefined. */
  function cachedEntry(token: string): VerifiedAccessToken | undefined {
    if (verified === null || typeof token !== 'string') return undefined;
    const cached = verified.get(cacheKeyOf(token));
    return cached !== undefined && holds(cached, token) ? cached.verified : undefined;
  }
  const sessions = new SessionStateReader({
    store,
    clock,
    ttlMs: options.revocationCacheTtl,
    logger,
  });

  // Last use: at most one write per session per SESSION_TOUCH_INTERVAL_MS in this process, off
  // the request (see maybeTouch). A failing write is logged once per outage.
  let touchFailing = false;
  function touch(session: SessionRecord, now: number): void {
    // The state this process reads (cached, or this request's own read) records the write, so
    // the next verifies of the session compare against it and write nothing for a minute.
    session.lastUsedAt = now;
    let written: Promise<void>;
    try {
      written = store.touchSession(session.id, now, SESSION_TOUCH_INTERVAL_MS);
    } catch (err) {
      written = Promise.reject(err);
    }
    written.then(
      () => {
        touchFailing = false;
      },
      (err: unknown) => {
        if (touchFailing) return;
        touchFailing = true;
        logger.warn('could not record a session use (lastUsedAt); requests go on', {
          sessionId: session.id,
          error: err instanceof Error ? err.message : String(err),
        });
      },
    );
  }

  /** One comparison on the verify path: a write only when the last use is a minute old. */
  function maybeTouch(session: SessionRecord, now: number): void {
    if (now - session.lastUsedAt >= SESSION_TOUCH_INTERVAL_MS) touch(session, now);
  }

  function refused(err: unknown, what: string): unknown {
    const reason = err instanceof Error && err.cause instanceof Error ? err.cause.message : 'error';
    logger.debug(`${what} refused`, { reason });
    return err;
  }

  /** `refused` for an access token, counted as a rejected verification. */
  function refusedAccess(err: unknown): unknown {
    if (counting) telemetry.tokenVerification('rejected', verificationRejectReason(err));
    return refused(err, 'access token');
  }

  /**
   * The verify path shared by `verifyAccessToken` and the HTTP layer: a cache hit is one LRU
   * lookup, the expiry check and the session's state, returned without a promise when the state
   * is known synchronously (see SessionStateReader). A miss verifies the signature synchronously;
   * only a store read makes it a promise. Throws (or rejects) TOKEN_EXPIRED / TOKEN_INVALID, or
   * the store's error; a cached entry that fails any check is dropped.
   */
  function verifyAccessTokenFast(token: string): AccessPrincipal | Promise<AccessPrincipal> {
    return verifyCachedAccessToken(token) ?? verifyUncached(token);
  }

  /**
   * The hit half of {@link verifyAccessTokenFast}: undefined when exactly this token is not in
   * the verified-token cache (nothing was checked then), else its verdict.
   */
  function verifyCachedAccessToken(
    token: string,
  ): AccessPrincipal | Promise<AccessPrincipal> | undefined {
    const cached = cachedEntry(token);
    if (cached === undefined) return undefined;
    return verifyCachedEntry(token, cached);
  }

  /**
   * {@link verifyCachedAccessToken} for an `Authorization` header value that starts with
   * `Bearer ` (one space): the header string is compared with the entry as it is, with no slice
   * of it built unless the entry fails a check.
   */
  function verifyCachedBearer(
    authorization: string,
  ): AccessPrincipal | Promise<AccessPrincipal> | undefined {
    if (verified === null) return undefined;
    const cached = verified.get(cacheKeyOf(authorization));
    if (cached === undefined || cached.bearer !== authorization) return undefined;
    return verifyCachedEntry(authorization.slice(BEARER_PREFIX.length), cached.verified);
  }

  function verifyCachedEntry(
    token: string,
    cached: VerifiedAccessToken,
  ): AccessPrincipal | Promise<AccessPrincipal> {
    const now = clock.now();
    if (now >= cached.acceptUntil) throw dropped(token, tokenRejected('expired'));
    return checkSession(token, cached, now, true);
  }

  /**
   * A verification that missed the cache: in a `gatehouse.verify` span when it runs inside a
   * traced (recording) span, never as a root span of its own.
   */
  function verifyUncached(token: string): AccessPrincipal | Promise<AccessPrincipal> {
    if (!counting) return verifyUncachedNow(token);
    return telemetry.withinTrace('gatehouse.verify', VERIFY_SPAN_ATTRIBUTES, () =>
      verifyUncachedNow(token),
    );
  }

  function verifyUncachedNow(token: string): AccessPrincipal | Promise<AccessPrincipal> {
    const now = clock.now();
    let entry: VerifiedAccessToken;
    try {
      entry = codec.verifySync(token, now);
    } catch (err) {
      throw refusedAccess(err);
    }
    return checkSession(token, entry, now, false);
  }

  /** The session half of a verify: synchronous when the session state is known synchronously. */
  function checkSession(
    token: string,
    entry: VerifiedAccessToken,
    now: number,
    hit: boolean,
  ): AccessPrincipal | Promise<AccessPrincipal> {
    let state: SessionState;
    try {
      state = sessions.get(entry.principal.sessionId, now);
    } catch (err) {
      throw hit ? dropped(token, err) : refusedAccess(err);
    }
    if (!isThenable(state)) return accepted(token, entry, state, now, hit);
    return Promise.resolve(state).then(
      (session) => accepted(token, entry, session, now, hit),
      (err: unknown) => {
        throw hit ? dropped(token, err) : refusedAccess(err);
      },
    );
  }

  /** The principal of `entry` when its session is active (cached on a miss); throws otherwise. */
  function accepted(
    token: string,
    entry: VerifiedAccessToken,
    session: SessionRecord | null,
    now: number,
    hit: boolean,
  ): AccessPrincipal {
    const principal = entry.principal;
    if (
      session === null ||
      session.revokedAt !== null ||
      session.userId !== principal.userId ||
      now >= session.expiresAt
    ) {
      const err = tokenRejected('session_ended');
      throw hit ? dropped(token, err) : refusedAccess(err);
    }
    maybeTouch(session, now);
    if (!hit) verified?.set(cacheKeyOf(token), { bearer: bearerOf(token), verified: entry });
    if (counting) telemetry.tokenVerification(hit ? 'cache_hit' : 'cache_miss');
    return principal;
  }

  /** Forgets a cached token that failed a check, and returns its (logged) refusal. */
  function dropped(token: string, err: unknown): unknown {
    const key = cacheKeyOf(token);
    const cached = verified?.peek(key);
    if (cached !== undefined && holds(cached, token)) verified!.delete(key);
    return refusedAccess(err);
  }

  function issueAccessToken(subject: AccessTokenSubject, now: number, expiresAt?: number) {
    return codec.sign(subject, {
      now,
      ttlMs: options.accessTtl,
      jti: randomId(random),
      ...(expiresAt === undefined ? {} : { expiresAt }),
    });
  }

  function subjectOf(user: TokenUser, sessionId: string): AccessTokenSubject {
    return { userId: user.id, email: user.email, role: user.role, sessionId };
  }

  return {
    /** The public JWKS of the asymmetric keys (never a secret); empty for an HS256-only set. */
    jwks(): JsonWebKeySet {
      return keys.jwks;
    },

    /** Settles when every key is imported (they are imported once, at construction). */
    ready(): Promise<void> {
      return keys.ready;
    },

    /**
     * Starts a session (a new refresh-token family) for a user who just logged in, and issues
     * its first access and refresh tokens.
     */
    async startSession(user: TokenUser, device?: SessionDevice): Promise<StartedSession> {
      const now = clock.now();
      const session: SessionRecord = {
        id: randomUuid(random),
        userId: user.id,
        createdAt: now,
        expiresAt: now + options.refreshAbsoluteTtl,
        lastUsedAt: now,
        revokedAt: null,
        revokedReason: null,
        ip: device?.ip ?? null,
        userAgent: device?.userAgent ?? null,
        label: device?.label ?? null,
      };
      const refreshToken = createRefreshToken(random);
      await store.createSession(session, hashRefreshToken(refreshToken));
      const { token, expiresIn } = await issueAccessToken(
        subjectOf(user, session.id),
        now,
        session.expiresAt,
      );
      return { token, refreshToken, expiresIn, sessionId: session.id };
    },

    /**
     * Rotates a refresh token: the presented one is used up and a new pair is issued. The user
     * is reloaded (a changed role is picked up). Throws TOKEN_INVALID for an unknown, revoked or
     * reused token (reuse revokes the whole family and emits TOKEN_REUSE_DETECTED) and for a
     * disabled or deleted user (the family is revoked); TOKEN_EXPIRED for an idle or too old
     * session.
     *
     * With a store that has `findSessionByTokenHash`, the rotation is the last database step:
     * the session and its user are read first, so a failure before the rotation (the database
     * going away: SERVER_ERROR) changes nothing and a retry with the same token works. Without
     * it the token is rotated first and the user read after (docs/tokens.md).
     */
    async refresh(refreshToken: unknown, context: TokenRequestContext = {}): Promise<IssuedTokens> {
      try {
        if (!isRefreshTokenShape(refreshToken)) throw tokenRejected('refresh_malformed');
        const presented = hashRefreshToken(refreshToken);
        // undefined: not read yet (a store without the lookup); null: no such user.
        let user: Awaited<ReturnType<UserStore['findById']>> | undefined;
        if (store.findSessionByTokenHash !== undefined) {
          const owner = await store.findSessionByTokenHash(presented);
          // The same refusal as rotate's `unknown` below.
          if (owner === null) throw tokenRejected('refresh_unknown');
          user = await users.findById(owner.userId);
        }
        const now = clock.now();
        const next = createRefreshToken(random);
        const result = await store.rotate(presented, hashRefreshToken(next), {
          now,
          idleMs: options.refreshIdleTtl,
          ...(options.reuseGrace > 0 ? { reuseGraceMs: options.reuseGrace } : {}),
        });
        switch (result.status) {
          case 'unknown':
            throw tokenRejected('refresh_unknown');
          case 'revoked':
            throw tokenRejected('refresh_revoked');
          case 'expired':
            throw tokenRejected('refresh_expired');
          case 'reused': {
            const { id: sessionId, userId } = result.session;
            sessions.forgetSession(sessionId);
            logger.warn('refresh token reuse detected; session revoked', {
              userId,
              sessionId,
              ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
            });
            audit.emit({
              event: 'TOKEN_REUSE_DETECTED',
              status: 'failure',
              userId,
              context,
              metadata: { sessionId },
            });
            throw tokenRejected('refresh_reused');
          }
        }
        const session = result.session;
        if (user === undefined) user = await users.findById(session.userId);
        // A ban that landed while this session's login was in flight ends the session here.
        if (!user || !user.isActive || isBanned(user, now)) {
          const reason = !user ? 'user_deleted' : user.isActive ? 'user_banned' : 'user_disabled';
          await store.revokeSession(session.id, reason, now);
          sessions.forgetSession(session.id);
          audit.emit({
            event: 'SESSIONS_REVOKED',
            status: 'success',
            userId: session.userId,
            context,
            metadata: { reason, count: 1, sessionId: session.id },
          });
          throw tokenRejected('user_inactive');
        }
        const { token, expiresIn } = await issueAccessToken(
          subjectOf(user, session.id),
          now,
          session.expiresAt,
        );
        // A graced refresh: the client presented the token it had just used up (a lost
        // response), once, inside `tokens.reuseGrace`.
        const graced = result.graced === true;
        audit.emit({
          event: 'TOKEN_REFRESHED',
          status: 'success',
          userId: user.id,
          context,
          metadata: graced ? { sessionId: session.id, graced } : { sessionId: session.id },
        });
        telemetry.refresh('success');
        return { token, refreshToken: next, expiresIn };
      } catch (err) {
        telemetry.refresh(refreshOutcomeOf(err));
        throw refused(err, 'refresh token');
      }
    },

    /**
     * Verifies an access token and returns its principal, or throws TOKEN_EXPIRED /
     * TOKEN_INVALID. A token found in the verified-token cache skips the signature check only:
     * its expiry (the earlier of `exp` and `iat` + `accessTtl`, plus the tolerance) and its
     * session's revocation are checked on every call.
     */
    async verifyAccessToken(token: string): Promise<AccessPrincipal> {
      return verifyAccessTokenFast(token);
    },

    /**
     * `verifyAccessToken` for the HTTP layer (reached through the internal handle, not public):
     * the principal itself, without a promise, on a cache hit whose session state is known
     * synchronously; a promise otherwise. Throws synchronously or rejects with the same errors.
     */
    verifyAccessTokenFast,

    /**
     * The cache-hit half of `verifyAccessTokenFast` (internal): undefined, having checked nothing,
     * when exactly this token is not in the verified-token cache; else the same verdict. A cached
     * token once passed the signature check, so it holds only base64url characters and dots.
     */
    verifyCachedAccessToken,

    /**
     * `verifyCachedAccessToken` for an `Authorization` header value starting with `Bearer `
     * (internal: the HTTP hot path), compared as it is.
     */
    verifyCachedBearer,

    /** Signs an access token for a session without touching the store (used by benchmarks). */
    signAccessToken(
      user: TokenUser,
      sessionId: string,
    ): Promise<{ token: string; expiresIn: number }> {
      return issueAccessToken(subjectOf(user, sessionId), clock.now());
    },

    /**
     * Ends one session: its refresh token is refused, and so are its access tokens from the next
     * verify on (within `revocationCacheTtl` on other instances). Idempotent.
     */
    async logout(sessionId: string, context: TokenRequestContext = {}): Promise<void> {
      if (typeof sessionId !== 'string' || sessionId.length === 0) return;
      const session = await store.getSession(sessionId);
      if (!session) return;
      await store.revokeSession(sessionId, 'logout', clock.now());
      sessions.forgetSession(sessionId);
      audit.emit({
        event: 'LOGOUT',
        status: 'success',
        userId: session.userId,
        context,
        metadata: { sessionId },
      });
    },

    /**
     * Ends the session of a refresh token, for a client whose access token has expired: the
     * refresh token is a bearer credential for its own session, so presenting it may end it.
     * Returns the ended session's id, or null when the family had already ended (idempotent).
     * Throws TOKEN_INVALID for a malformed or unknown token. A token that was already rotated
     * is reuse, as in `refresh()`: the whole family is revoked and TOKEN_REUSE_DETECTED emitted,
     * and the logout succeeds (that session has ended).
     */
    async logoutWithRefreshToken(
      refreshToken: unknown,
      context: TokenRequestContext = {},
    ): Promise<string | null> {
      try {
        if (!isRefreshTokenShape(refreshToken)) throw tokenRejected('refresh_malformed');
        const now = clock.now();
        // The TokenStore has no lookup by hash: rotating to a hash that nobody ever holds
        // consumes the presented token atomically and names its session, with every store
        // (custom ones too) as it is. The session is then revoked.
        const unheld = hashRefreshToken(createRefreshToken(random));
        const result = await store.rotate(hashRefreshToken(refreshToken), unheld, {
          now,
          idleMs: options.refreshIdleTtl,
        });
        if (result.status === 'unknown') throw tokenRejected('refresh_unknown');
        const { id: sessionId, userId } = result.session;
        if (result.status === 'revoked') return null;
        sessions.forgetSession(sessionId);
        if (result.status === 'reused') {
          logger.warn('refresh token reuse detected; session revoked', {
            userId,
            sessionId,
            ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
          });
          audit.emit({
            event: 'TOKEN_REUSE_DETECTED',
            status: 'failure',
            userId,
            context,
            metadata: { sessionId },
          });
          return sessionId;
        }
        // 'rotated' or 'expired' (an idle or too old session): either way it ends now.
        await store.revokeSession(sessionId, 'logout', now);
        audit.emit({
          event: 'LOGOUT',
          status: 'success',
          userId,
          context,
          metadata: { sessionId },
        });
        return sessionId;
      } catch (err) {
        throw refused(err, 'refresh token');
      }
    },

    /**
     * Revokes one session for `reason` and drops its cached state (no audit event: the caller
     * emits its own). Idempotent.
     */
    async endSession(sessionId: string, reason: string): Promise<void> {
      await store.revokeSession(sessionId, reason, clock.now());
      sessions.forgetSession(sessionId);
    },

    /** Ends every session of a user; returns how many were active. */
    async logoutAll(userId: string, context: TokenRequestContext = {}): Promise<number> {
      const count = await store.revokeUserSessions(userId, 'logout_all', clock.now());
      sessions.forgetUser(userId);
      audit.emit({ event: 'LOGOUT_ALL', status: 'success', userId, context, metadata: { count } });
      return count;
    },

    /**
     * Ends every session of a user but `exceptSessionId`, for a reason such as
     * `'password_changed'` or `'user_disabled'`; returns the count, and emits SESSIONS_REVOKED
     * when it is not 0.
     */
    async revokeUserSessions(
      userId: string,
      reason: string,
      {
        exceptSessionId,
        context = {},
      }: { exceptSessionId?: string; context?: TokenRequestContext } = {},
    ): Promise<number> {
      const count = await store.revokeUserSessions(userId, reason, clock.now(), exceptSessionId);
      sessions.forgetUser(userId);
      if (count === 0) return 0;
      audit.emit({
        event: 'SESSIONS_REVOKED',
        status: 'success',
        userId,
        context,
        metadata:
          exceptSessionId === undefined ? { reason, count } : { reason, count, exceptSessionId },
      });
      return count;
    },

    /** Deletes sessions that ended before `olderThan` (default: now); returns the count. */
    pruneSessions(olderThan: number = clock.now()): Promise<number> {
      return store.prune(olderThan);
    },

    /** Closes the token store's revocation watch (if one was opened). Idempotent. */
    close(): Promise<void> {
      return sessions.close();
    },
  };
}

/**
 * The token service, as returned by {@link createTokenService}. `createAuth` builds one and
 * exposes its methods (`verifyAccessToken`, `refresh`, `logout`, `jwks`...) on the auth object.
 *
 * @example
 * ```ts
 * const tokens: TokenService = createTokenService(deps);
 * await tokens.ready();
 * ```
 */
export type TokenService = ReturnType<typeof createTokenService>;
