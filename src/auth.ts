import type { AccountContext } from './account/account-context.js';
import { AccountMail } from './account/account-mail.js';
import {
  Administration,
  type AdminUserView,
  type BanUserInput,
  type ListUsersOptions,
  type UserListResult,
} from './account/administration.js';
import { BackgroundTasks, describeError } from './account/background-tasks.js';
import {
  DataRights,
  type MfaDataExport as MfaStatus,
  type UserDataExport,
  type UserErasure,
} from './account/data-rights.js';
import { EmailVerification } from './account/email-verification.js';
import { PasswordReset } from './account/password-reset.js';
import {
  createSessionManager,
  deviceLabelOf,
  type SessionInfo,
  sessionDeviceOf,
} from './account/sessions.js';
import { SignUp } from './account/sign-up.js';
import { AuditEmitter, type RequestContext } from './audit/emitter.js';
import { type AuthOptions, resolveAuthOptions } from './config.js';
import { normalizeEmail } from './credentials/email.js';
import { lockoutKeyHasher, resolveIdentifierKey } from './credentials/identifier-key.js';
import {
  CredentialService,
  type LoginInput,
  type RegisterInput,
  requireName,
  toPublicUser,
} from './credentials/service.js';
import { AuthError } from './errors.js';
import { registerInternals } from './internal/handle.js';
import { createInstrumentedMailWorker, type MailFlushResult } from './mail/worker.js';
import { createSecretBox } from './mfa/secret-box.js';
import {
  type EnrollWithChallengeInput,
  eraseMfaData,
  type MfaRecoveryCodes,
  MfaService,
  mfaLockoutKeyHasher,
  type SecondFactorInput,
  type SecondFactorMethod,
  type TotpEnrollment,
} from './mfa/service.js';
import { bcryptHasher } from './passwords/hasher.js';
import { HashQueue, queuedHasher } from './passwords/queue.js';
import { accessDeniedMetadata } from './policy/access-denied.js';
import type { Policy, PolicyModelOf, UntypedPolicy } from './policy/policy.js';
import type { CheckedResource, Permission, PolicyPrincipal } from './policy/types.js';
import { type RateLimitedRoute, RateLimiter } from './ratelimit/limiter.js';
import { cryptoRandom, silentLogger, systemClock } from './runtime.js';
import { MemoryAttemptStore } from './stores/memory-attempt-store.js';
import { MemoryMailOutbox } from './stores/memory-mail-outbox.js';
import { MemoryMfaStore } from './stores/memory-mfa-store.js';
import { MemoryOneTimeTokenStore } from './stores/memory-one-time-token-store.js';
import { MemoryRateLimitStore } from './stores/memory-rate-limit-store.js';
import { MemoryTokenStore } from './stores/memory-token-store.js';
import { MemoryUserStore } from './stores/memory-user-store.js';
import type { PublicUser, UserRecord } from './stores/types.js';
import { createTelemetry } from './telemetry/create.js';
import { permissionLabel } from './telemetry/otel.js';
import { loginOutcomeOf } from './telemetry/outcomes.js';
import { instrumentStores } from './telemetry/stores.js';
import type { AccessPrincipal } from './tokens/access-token.js';
import type { JsonWebKeySet } from './tokens/keys.js';
import { createTokenService, type IssuedTokens } from './tokens/service.js';

/**
 * Creates an independent gatehouse instance. Options are validated at once: a wrong option
 * throws `AuthError('INVALID_CONFIG')` whose message names the option and the reason.
 * Stores default to bounded in-memory implementations.
 *
 * @example
 * ```ts
 * import { createAuth } from 'gatehouse';
 *
 * const auth = createAuth({ lockout: { maxAttempts: 5, duration: '1m', maxDuration: '1h' } });
 * await auth.register({ email: 'ada@example.com', password: 'correct horse battery', name: 'Ada' });
 * const { user } = await auth.login({ email: 'ada@example.com', password: 'correct horse battery' }, { ip: '203.0.113.7' });
 * ```
 */
export function createAuth<P extends Policy = Policy>(
  options: AuthOptions & { policy?: P } = {},
): Auth<P> {
  const config = resolveAuthOptions(options);
  const clock = config.clock ?? systemClock;
  const random = config.random ?? cryptoRandom;
  const logger = config.logger ?? silentLogger;
  // The shared no-op when off: then nothing below is wrapped and every call site costs nothing.
  const telemetry = createTelemetry(config.telemetry, logger);
  // The memory defaults share one outbox, so that a token and its mail are stored in one step.
  const rawOutbox = config.stores.outbox ?? new MemoryMailOutbox({ logger, maxPending: 10_000 });
  // With telemetry on, every store call is timed, counted and traced (src/telemetry/stores.ts).
  const instrumented = instrumentStores(telemetry, {
    users: config.stores.users ?? new MemoryUserStore({ now: () => clock.now() }),
    attempts: config.stores.attempts ?? new MemoryAttemptStore(),
    rate_limits: config.stores.rateLimits ?? new MemoryRateLimitStore(),
    tokens: config.stores.tokens ?? new MemoryTokenStore(),
    one_time_tokens:
      config.stores.oneTimeTokens ??
      new MemoryOneTimeTokenStore(
        rawOutbox instanceof MemoryMailOutbox ? { outbox: rawOutbox } : {},
      ),
    mail_outbox: rawOutbox,
    mfa: config.stores.mfa ?? new MemoryMfaStore(),
    ...(config.stores.auditLog ? { audit_log: config.stores.auditLog } : {}),
  });
  const users = instrumented.users;
  const attempts = instrumented.attempts;
  const rateLimits = instrumented.rate_limits;
  const identifierKey = resolveIdentifierKey({
    identifierKey: config.identifierKey,
    auditEmailKey: config.auditEmailKey,
    sharedAttemptStore:
      config.stores.attempts !== undefined &&
      !(config.stores.attempts instanceof MemoryAttemptStore),
    production: process.env['NODE_ENV'] === 'production',
    random,
    logger,
  });
  const audit = new AuditEmitter({
    sink: config.audit,
    log: instrumented.audit_log,
    logAsGiven: config.stores.auditLog,
    clock,
    logger,
    emailKey: identifierKey,
  });
  const rateLimiter = new RateLimiter({
    store: rateLimits,
    clock,
    rules: config.rateLimits,
    audit,
    telemetry,
  });
  // Every bcrypt hash and verify (logins, the dummy check of unknown emails, registrations,
  // resets) waits in one bounded FIFO queue, so a login flood cannot take the whole thread pool.
  const hashQueue = new HashQueue({
    concurrency: config.passwords.hashConcurrency,
    limit: config.passwords.hashQueueLimit,
    clock,
  });
  const hasher = queuedHasher(config.passwordHasher ?? bcryptHasher, hashQueue, telemetry);
  telemetry.observeQueueLength(() => hashQueue.waiting);
  const passwordRules = {
    minLength: config.passwords.minLength,
    minLengthWithMfa: config.passwords.minLengthWithMfa,
    check: config.passwords.check,
    productName: config.passwords.productName,
    breached: config.passwords.breached,
    logger,
  };
  const lockoutKey = lockoutKeyHasher(identifierKey);
  const mfaStore = instrumented.mfa;
  const mfaLockoutKey = mfaLockoutKeyHasher(identifierKey);
  // The TOTP second factor (src/mfa/), when `mfa` is configured; built below, once the
  // credentials and tokens it finishes logins with exist.
  let mfa: MfaService | null = null;
  const hasSecondFactor = config.mfa
    ? (userId: string) => (mfa as MfaService).hasActiveFactor(userId)
    : undefined;

  const credentials = new CredentialService({
    users,
    attempts,
    hasher,
    cost: config.passwords.cost,
    rules: passwordRules,
    lockout: {
      maxAttempts: config.lockout.maxAttempts,
      windowMs: config.lockout.window,
      lockMs: config.lockout.duration,
      backoffFactor: config.lockout.backoffFactor,
      maxLockMs: config.lockout.maxDuration,
    },
    lockoutKey,
    defaultRole: config.defaultRole,
    requireVerifiedEmail: config.emailVerification.required,
    clock,
    logger,
    audit,
    telemetry,
    ...(config.mfa
      ? {
          secondFactor: (user: UserRecord) => (mfa as MfaService).requireSecondFactor(user),
          hasSecondFactor,
        }
      : {}),
  });
  // Computed ahead so the first unknown-email login is no slower than the others.
  credentials.dummyHash().catch((err: unknown) => {
    logger.error('could not prepare the dummy hash', { error: String(err) });
  });
  const tokenStore = instrumented.tokens;
  const tokens = createTokenService({
    options: config.tokens,
    store: tokenStore,
    users,
    clock,
    random,
    audit,
    logger,
    telemetry,
  });
  const sessionManager = createSessionManager({
    store: tokenStore,
    tokens,
    clock,
    audit,
    idleMs: config.tokens.refreshIdleTtl,
  });

  // Account recovery and email verification (src/account/).
  const outbox = instrumented.mail_outbox;
  const oneTimeTokens = instrumented.one_time_tokens;
  // Read at collection time only, on the store itself: a scrape makes no store span.
  telemetry.observeOutboxPending(() => rawOutbox.pending());
  const mailWorker = config.mail
    ? createInstrumentedMailWorker(
        {
          store: outbox,
          mailer: config.mail.mailer,
          clock,
          logger,
          audit,
          retry: {
            maxAttempts: config.mail.retry.maxAttempts,
            initialDelayMs: config.mail.retry.initialDelay,
            maxDelayMs: config.mail.retry.maxDelay,
          },
          pollIntervalMs: config.mail.pollInterval,
        },
        telemetry,
      )
    : null;
  const backgroundTasks = new BackgroundTasks(logger);
  const account: AccountContext = {
    users,
    oneTimeTokens,
    outbox,
    mail:
      config.mail && mailWorker
        ? {
            compose: new AccountMail(config.mail, config.passwords.productName ?? 'gatehouse'),
            worker: mailWorker,
          }
        : null,
    tasks: backgroundTasks,
    rateLimiter,
    audit,
    clock,
    random,
    logger,
  };
  const emailVerification = new EmailVerification(account, config.emailVerification.tokenTtl);
  const passwordReset = new PasswordReset(account, {
    ttlMs: config.passwordReset.tokenTtl,
    hasher,
    cost: config.passwords.cost,
    rules: passwordRules,
    attempts,
    lockoutKey,
    revokeSessions: (userId, context) =>
      tokens.revokeUserSessions(userId, 'password_reset', { context }),
    ...(hasSecondFactor ? { hasSecondFactor } : {}),
  });
  const administration = new Administration({
    users,
    audit,
    clock,
    revokeSessions: (userId, context) => tokens.revokeUserSessions(userId, 'banned', { context }),
  });
  const signUp = new SignUp(account, {
    register: (input, context) => credentials.register(input, context),
    verification: emailVerification,
  });
  // Export and erasure (src/account/data-rights.ts); parts with data of their own (MFA) register
  // a hook with `dataRights.register(...)`.
  const dataRights = new DataRights({
    users,
    tokens: tokenStore,
    oneTimeTokens,
    outbox,
    attempts,
    auditLog: instrumented.audit_log,
    rateLimiter,
    audit,
    clock,
    identifierKey,
    lockoutKey,
    lockout: {
      maxAttempts: config.lockout.maxAttempts,
      windowMs: config.lockout.window,
      lockMs: config.lockout.duration,
      backoffFactor: config.lockout.backoffFactor,
      maxLockMs: config.lockout.maxDuration,
    },
    verifyPassword: (user, password, context) =>
      credentials.confirmPassword(user, password, context),
    revokeSessions: (userId, context) =>
      tokens.revokeUserSessions(userId, 'user_erased', { context }),
    options: config.account.dataExport,
  });
  if (config.mfa) {
    mfa = new MfaService({
      users,
      store: mfaStore,
      attempts,
      oneTimeTokens,
      // A bad key fails here, at start, with INVALID_CONFIG naming mfa.encryptionKeys.
      box: createSecretBox(config.mfa.encryptionKeys),
      issuer:
        config.mfa.issuer ?? config.passwords.productName?.replaceAll(':', ' ') ?? 'gatehouse',
      requireForRoles: config.mfa.requireForRoles,
      challengeTtlMs: config.mfa.challengeTtl,
      lockout: {
        maxAttempts: config.mfa.lockout.maxAttempts,
        windowMs: config.mfa.lockout.window,
        lockMs: config.mfa.lockout.duration,
        backoffFactor: config.mfa.lockout.backoffFactor,
        maxLockMs: config.mfa.lockout.maxDuration,
      },
      lockoutKey: mfaLockoutKey,
      minPasswordLength: config.passwords.minLength,
      verifyPassword: (user, password, context) =>
        credentials.confirmPassword(user, password, context),
      revokeOtherSessions: (userId, exceptSessionId, context) =>
        tokens.revokeUserSessions(userId, 'mfa_disabled', {
          ...(exceptSessionId === undefined ? {} : { exceptSessionId }),
          context,
        }),
      clock,
      random,
      logger,
      audit,
    });
  }
  // The MFA data of a user in its export, and erased with it (with or without `mfa` now: a
  // factor stored while it was on goes too).
  dataRights.register({
    name: 'mfa',
    exportOf: async (user) => (mfa ? mfa.exportOf(user.id) : null),
    erase: (user) =>
      eraseMfaData(
        { store: mfaStore, attempts, oneTimeTokens, lockoutKey: mfaLockoutKey },
        user.id,
      ),
  });
  mailWorker?.start();
  let closing: Promise<void> | undefined;

  // Checks are typed by the configured policy's resources and actions.
  type Model = PolicyModelOf<P>;
  type Check = Permission<Model>;
  const policy = config.policy as UntypedPolicy | undefined;
  // The `permission` attribute takes the policy's own permissions only (a bounded set).
  const declaredPermissions: ReadonlySet<string> = new Set<string>(
    telemetry.enabled ? ((config.policy as Policy | undefined)?.permissions ?? []) : [],
  );
  function requirePolicy(): UntypedPolicy {
    if (policy) return policy;
    throw new AuthError(
      'INVALID_CONFIG',
      'No authorization policy: pass createAuth({ policy: definePolicy(...) }) to use can(), authorize(), explain() or filter().',
    );
  }

  /** Emits ACCESS_DENIED and throws FORBIDDEN. */
  function deny(
    engine: UntypedPolicy,
    principal: PolicyPrincipal | null | undefined,
    permission: string,
    resource: unknown,
    context: RequestContext,
  ): never {
    audit.emit({
      event: 'ACCESS_DENIED',
      status: 'failure',
      userId: typeof principal?.userId === 'string' ? principal.userId : undefined,
      context,
      metadata: accessDeniedMetadata(
        engine.explain(principal, permission, resource as Parameters<UntypedPolicy['explain']>[2]),
      ),
    });
    throw new AuthError('FORBIDDEN');
  }

  /** `auth.login`, counted by outcome (`gatehouse.login.attempts`). */
  async function login(input: LoginInput, context: RequestContext): Promise<LoginResult> {
    try {
      // A bad label is refused before any work (it counts toward nothing).
      const label = deviceLabelOf(input?.deviceLabel);
      // A full queue sheds the login before the lockout counter and the stores are touched.
      hashQueue.admit();
      const user = await credentials.verifyLogin(input, context);
      const session = await tokens.startSession(user, sessionDeviceOf(context, label));
      telemetry.loginAttempt('success');
      return {
        token: session.token,
        refreshToken: session.refreshToken,
        expiresIn: session.expiresIn,
        user: toPublicUser(user),
      };
    } catch (err) {
      telemetry.loginAttempt(loginOutcomeOf(err));
      throw err;
    }
  }

  function requireMfa(): MfaService {
    if (mfa) return mfa;
    throw new AuthError(
      'INVALID_CONFIG',
      'Two-factor authentication is not configured: pass createAuth({ mfa: { encryptionKeys: [{ id, key }] } }).',
    );
  }

  /** A login finished by its second factor: LOGIN_SUCCEEDED, then the session. */
  async function finishLogin(
    user: UserRecord,
    method: SecondFactorMethod,
    label: string | null,
    context: RequestContext,
  ): Promise<LoginResult> {
    const current = await credentials.completeLogin(user, method, context);
    const session = await tokens.startSession(current, sessionDeviceOf(context, label));
    return {
      token: session.token,
      refreshToken: session.refreshToken,
      expiresIn: session.expiresIn,
      user: toPublicUser(current),
    };
  }

  /** `auth.register`: the account, then its verification mail when `mail` is configured. */
  async function register(input: RegisterInput, context: RequestContext): Promise<PublicUser> {
    const user = await credentials.register(input, context);
    if (account.mail) {
      try {
        await emailVerification.send(user, context);
      } catch (err) {
        // The account exists: its owner can ask for a new link (requestEmailVerification).
        logger.error('could not send the verification mail at registration', {
          userId: user.id,
          ...describeError(err),
        });
      }
    }
    return user;
  }

  function found<T>(user: T | null): T {
    if (!user) throw new AuthError('NOT_FOUND', 'User not found.');
    return user;
  }

  async function requireUser(userId: string): Promise<PublicUser> {
    return toPublicUser(found(typeof userId === 'string' ? await users.findById(userId) : null));
  }

  const auth: Auth<P> = {
    policy: config.policy as P | undefined,

    /**
     * Whether `principal` may do `permission` (to `resource` when given); see `Policy.can`.
     * A conditional grant checked without a resource answers false. No audit event.
     */
    can: ((principal, permission, resource) => {
      const allowed = requirePolicy().can(principal, permission, resource);
      // An allow is a decision; a false answer of can() is a question, not a refusal (the
      // refusal is authorize()'s, which the adapters' guards call once can() said no).
      if (allowed && telemetry.enabled) {
        telemetry.authzDecision('allow', permissionLabel(permission, declaredPermissions));
      }
      return allowed;
    }) as UntypedPolicy['can'] as P['can'],

    /**
     * Like `can`, but throws `AuthError('FORBIDDEN')` when denied, after emitting an
     * `ACCESS_DENIED` audit event whose metadata says which rule or reason decided
     * (permission, role, reason, rule), never the resource's data.
     */
    // A function of `P`'s model, which the conditional AuthorizeOf<P> cannot see through here.
    authorize: (<C extends Check>(
      principal: PolicyPrincipal | null | undefined,
      permission: C,
      resource?: CheckedResource<Model, C>,
      context: RequestContext = {},
    ): void => {
      const engine = requirePolicy();
      const allowed = engine.can(principal, permission, resource);
      if (!telemetry.enabled) {
        if (!allowed) deny(engine, principal, permission, resource, context);
        return;
      }
      const label = permissionLabel(permission, declaredPermissions);
      telemetry.authzDecision(allowed ? 'allow' : 'deny', label);
      if (allowed) return;
      telemetry.within('gatehouse.authorize', { 'gatehouse.authz.permission': label }, () =>
        deny(engine, principal, permission, resource, context),
      );
    }) as AuthorizeOf<P>,

    /** Whether `principal` may do `permission` to at least some instance; see `Policy.canSome`. */
    canSome: ((principal, permission) =>
      requirePolicy().canSome(principal, permission)) as UntypedPolicy['canSome'] as P['canSome'],

    /** The decision with the rule and role that made it, or why nothing matched. */
    explain: ((principal, permission, resource) =>
      requirePolicy().explain(
        principal,
        permission,
        resource,
      )) as UntypedPolicy['explain'] as P['explain'],

    /** The policy's conditions for `permission` as data for a store's query; see `Policy.filter`. */
    filter: ((principal, permission) =>
      requirePolicy().filter(principal, permission)) as UntypedPolicy['filter'] as P['filter'],

    /**
     * Registers a user with the default role. Throws VALIDATION_ERROR (bad email, name or
     * password) or EMAIL_TAKEN. The result never carries the hash.
     */
    register(input: RegisterInput, context: RequestContext = {}): Promise<PublicUser> {
      return telemetry.span(SPAN.register, NO_ATTRIBUTES, () => register(input, context));
    },

    /**
     * The enumeration-safe registration (the register route when `emailVerification.required`):
     * resolves the same way, after the same work, whether the email is new or taken. A new email
     * gets an account and a verification mail; the owner of a taken one gets a notice ("someone
     * tried to create an account with your address") and nothing is created. VALIDATION_ERROR for
     * bad input (it reveals nothing about existence); INVALID_CONFIG without `mail`.
     *
     * @example
     * ```ts
     * await auth.signUp({ email, password, name }, { ip: req.ip });
     * res.status(202).json({ success: true, message: 'Check your email to finish creating your account.' });
     * ```
     */
    signUp(input: RegisterInput, context: RequestContext = {}): Promise<void> {
      return signUp.signUp(input, context);
    },

    /**
     * Asks for a password-reset link. Always resolves the same way, after the same work, whether
     * the account exists, is disabled or is locked; the link (valid `passwordReset.tokenTtl`) and
     * its mail are made off the request path, for an active account only. Over
     * `rateLimits.forgotEmail` it resolves just the same and sends nothing. VALIDATION_ERROR only
     * for a non-string or over-long input; INVALID_CONFIG without `mail`.
     *
     * @example
     * ```ts
     * await auth.requestPasswordReset(req.body.email, { ip: req.ip });
     * res.status(202).json({ success: true, message: 'If an account exists for that email, we sent a link to reset the password.' });
     * ```
     */
    requestPasswordReset(email: string, context: RequestContext = {}): Promise<void> {
      return telemetry.span(SPAN.passwordResetRequest, NO_ATTRIBUTES, () =>
        passwordReset.request(email, context),
      );
    },

    /**
     * Sets a new password with a reset link's token: checks the password policy (VALIDATION_ERROR,
     * the link stays usable), replaces the hash, ends every session, clears the lockout, marks the
     * email verified. LINK_INVALID for an unknown, used, superseded or expired token alike.
     *
     * @example
     * ```ts
     * await auth.resetPassword({ token: req.body.token, password: req.body.password }, { ip: req.ip });
     * ```
     */
    resetPassword(
      input: { token: string; password: string },
      context: RequestContext = {},
    ): Promise<void> {
      return telemetry.span(SPAN.passwordReset, NO_ATTRIBUTES, () =>
        passwordReset.reset(input, context),
      );
    },

    /**
     * Sends a new verification link to an authenticated user (RATE_LIMITED past
     * `rateLimits.resendVerification`); resolves without a mail when the email is already
     * verified. INVALID_CONFIG without `mail`.
     *
     * @example
     * ```ts
     * await auth.requestEmailVerification(req.auth.userId, { ip: req.ip });
     * res.status(202).json({ success: true });
     * ```
     */
    requestEmailVerification(userId: string, context: RequestContext = {}): Promise<void> {
      return emailVerification.request(userId, context);
    },

    /**
     * Consumes a verification link's token and marks the email verified; returns the user.
     * LINK_INVALID for an unknown, used, superseded or expired token.
     *
     * @example
     * ```ts
     * const user = await auth.verifyEmail(req.body.token, { ip: req.ip });
     * res.json({ success: true, user });
     * ```
     */
    verifyEmail(token: string, context: RequestContext = {}): Promise<PublicUser> {
      return emailVerification.verify(token, context);
    },

    mail: Object.freeze({
      /**
       * Waits for the background work of earlier requests (reset links being issued), then
       * delivers everything due now. For tests and shutdown.
       *
       * @example
       * ```ts
       * await auth.requestPasswordReset('ada@example.com');
       * await auth.mail.flush(); // the mailer has been called
       * ```
       */
      async flush(): Promise<MailFlushResult> {
        await backgroundTasks.idle();
        return mailWorker ? mailWorker.flush() : { delivered: 0, failed: 0 };
      },
      /**
       * How many messages wait for delivery.
       *
       * @example
       * ```ts
       * metrics.gauge('mail_pending', await auth.mail.pending());
       * ```
       */
      pending(): Promise<number> {
        return outbox.pending();
      },
    }),

    /**
     * Stops the mail worker after waiting for the background work of earlier requests and the
     * deliveries in flight, and closes the token store's revocation watch (the Postgres store's
     * LISTEN connection goes back to its pool). Idempotent; call it at shutdown.
     *
     * @example
     * ```ts
     * process.on('SIGTERM', async () => { await auth.close(); server.close(); });
     * ```
     */
    close(): Promise<void> {
      closing ??= (async () => {
        await backgroundTasks.idle();
        await mailWorker?.close();
        await tokens.close();
        telemetry.close();
      })();
      return closing;
    },

    /**
     * Verifies email and password. Throws INVALID_CREDENTIALS (unknown email, wrong password,
     * disabled account alike), ACCOUNT_LOCKED (with `retryAfter`) or VALIDATION_ERROR.
     */
    login(input: LoginInput, context: RequestContext = {}): Promise<LoginResult> {
      return telemetry.span(SPAN.login, LOGIN_ATTRIBUTES, () => login(input, context));
    },

    /**
     * Rotates a refresh token: returns a new `{ token, refreshToken, expiresIn }` and uses the
     * presented one up. The user is reloaded (a new role applies). Throws TOKEN_INVALID for an
     * unknown, revoked or reused token (reuse revokes the whole session and emits
     * TOKEN_REUSE_DETECTED) or a disabled/deleted user; TOKEN_EXPIRED for an ended session.
     */
    refresh(refreshToken: string, context: RequestContext = {}): Promise<IssuedTokens> {
      return telemetry.span(SPAN.refresh, REFRESH_ATTRIBUTES, () =>
        tokens.refresh(refreshToken, context),
      );
    },

    /**
     * Verifies an access token: returns `{ userId, email, role, sessionId, claims }` or throws
     * TOKEN_EXPIRED / TOKEN_INVALID (bad token, or its session ended). Cached: a repeated token
     * skips the signature check, never the expiry or revocation check.
     */
    verifyAccessToken: tokens.verifyAccessToken,

    /** Ends one session: its refresh token and its access tokens stop working. Idempotent. */
    logout(sessionId: string, context: RequestContext = {}): Promise<void> {
      return telemetry.span(SPAN.logout, NO_ATTRIBUTES, () => tokens.logout(sessionId, context));
    },

    /**
     * Ends the session a refresh token belongs to, without an access token (a client whose
     * access token expired can still sign out). Returns that session's id, or null when it had
     * already ended. TOKEN_INVALID for an unknown or malformed token; an already rotated one is
     * treated as reuse (the family is revoked, TOKEN_REUSE_DETECTED) and the call succeeds.
     *
     * @example
     * ```ts
     * await auth.logoutWithRefreshToken(refreshToken, { ip: req.ip });
     * ```
     */
    logoutWithRefreshToken(
      refreshToken: string,
      context: RequestContext = {},
    ): Promise<string | null> {
      return telemetry.span(SPAN.logout, REFRESH_ATTRIBUTES, () =>
        tokens.logoutWithRefreshToken(refreshToken, context),
      );
    },

    /** Ends every session of a user; returns how many were active. */
    logoutAll(userId: string, context: RequestContext = {}): Promise<number> {
      return telemetry.span(SPAN.logoutAll, NO_ATTRIBUTES, () => tokens.logoutAll(userId, context));
    },

    /** The public JWKS (`/.well-known/jwks.json`): asymmetric keys only, never a secret. */
    jwks: tokens.jwks,

    /**
     * Counts one request of `route` for `key` against the configured `rateLimits`; throws
     * RATE_LIMITED (with `retryAfter`) past the limit and emits RATE_LIMITED. For your own routes
     * that call `login`, `register` or `requestPasswordReset` directly.
     */
    async enforceRateLimit(
      route: RateLimitedRoute,
      key: string,
      context: RequestContext = {},
    ): Promise<void> {
      await rateLimiter.enforce(route, key, context);
    },

    /** Deletes ended sessions (revoked or expired before `olderThan`, default now). */
    pruneSessions: tokens.pruneSessions,

    listSessions: sessionManager.listSessions,
    revokeSession: sessionManager.revokeSession,
    revokeOtherSessions: sessionManager.revokeOtherSessions,

    /** Changes a user's password after checking the current one. */
    async changePassword(
      userId: string,
      input: { currentPassword: string; newPassword: string },
      context: RequestContext & { sessionId?: string } = {},
    ): Promise<void> {
      await credentials.changePassword(userId, input, context);
      // The session that changed the password (when given) stays; every other one ends.
      await tokens.revokeUserSessions(userId, 'password_changed', {
        ...(context.sessionId === undefined ? {} : { exceptSessionId: context.sessionId }),
        context,
      });
    },

    async startTotpEnrollment(
      userId: string,
      _context: RequestContext = {},
    ): Promise<TotpEnrollment> {
      return requireMfa().startEnrollment(userId);
    },

    async confirmTotp(
      userId: string,
      code: string,
      context: RequestContext = {},
    ): Promise<MfaRecoveryCodes> {
      return requireMfa().confirmEnrollment(userId, code, context);
    },

    async completeMfa(
      challenge: string,
      input: SecondFactorInput & { deviceLabel?: string | undefined },
      context: RequestContext = {},
    ): Promise<LoginResult> {
      // The code step of a login counts as an attempt of its own (the password step counted
      // `mfa_required`): success, mfa_failed, locked, validation_error...
      try {
        const service = requireMfa();
        const label = deviceLabelOf(input?.deviceLabel);
        const { user, method } = await service.complete(challenge, input, context);
        const result = await finishLogin(user, method, label, context);
        telemetry.loginAttempt('success');
        return result;
      } catch (err) {
        telemetry.loginAttempt(loginOutcomeOf(err));
        throw err;
      }
    },

    async enrollWithChallenge(
      challenge: string,
      input: EnrollWithChallengeInput,
      context: RequestContext = {},
    ): Promise<TotpEnrollment & { recoveryCodes: string[]; login: LoginResult }> {
      // One implementation of the two overloads of `Auth.enrollWithChallenge` (by `input.step`).
      const done = await requireMfa().enrollWithChallenge(challenge, input, context);
      if (!('recoveryCodes' in done)) return done as never;
      const login = await finishLogin(done.user, 'totp', null, context);
      return { recoveryCodes: done.recoveryCodes, login } as never;
    },

    async regenerateRecoveryCodes(
      userId: string,
      input: { code: string },
      context: RequestContext = {},
    ): Promise<MfaRecoveryCodes> {
      return requireMfa().regenerateRecoveryCodes(userId, input, context);
    },

    async disableTotp(
      userId: string,
      input: { password: string } & SecondFactorInput,
      context: RequestContext & { sessionId?: string } = {},
    ): Promise<void> {
      return requireMfa().disable(userId, input, context);
    },

    async mfaStatus(userId: string): Promise<MfaStatus> {
      return requireMfa().exportOf(userId);
    },

    /** Returns a user without its hash; NOT_FOUND when there is none. */
    getUser: requireUser,

    /** Finds a user by email (normalised); null when there is none. */
    async findUserByEmail(email: string): Promise<PublicUser | null> {
      const normalized = normalizeEmail(email);
      const user = normalized ? await users.findByEmail(normalized) : null;
      return user ? toPublicUser(user) : null;
    },

    /**
     * Updates a user's display name. Emits `USER_UPDATED` (metadata: the names of the fields
     * that changed, never their values; `actorId` when given) when something changed.
     */
    async updateUser(
      userId: string,
      patch: { name?: unknown },
      context: RequestContext & { actorId?: string } = {},
    ): Promise<PublicUser> {
      const name = requireName(patch?.name);
      const before = found(typeof userId === 'string' ? await users.findById(userId) : null);
      const after = found(await users.update(userId, { name }));
      const fields = before.name === after.name ? [] : ['name'];
      if (fields.length > 0) {
        audit.emit({
          event: 'USER_UPDATED',
          status: 'success',
          userId,
          context,
          metadata: {
            fields,
            ...(context.actorId === undefined ? {} : { actorId: context.actorId }),
          },
        });
      }
      return toPublicUser(after);
    },

    /**
     * Sets a user's role. VALIDATION_ERROR (`details: { field: 'role', reason: 'unknown_role' }`)
     * when a policy is configured and does not declare the role. When the role changes, emits
     * `ROLE_CHANGED` (metadata `oldRole`, `newRole`, `actorId` when given) and ends every
     * session of the user (reason `role_changed`), so a demoted admin's tokens stop working at
     * once; pass `revokeSessions: false` to keep them (their tokens then carry the old role until
     * they expire). Setting the role a user already has changes nothing and emits nothing.
     */
    async setRole(
      userId: string,
      role: string,
      options: RequestContext & { actorId?: string; revokeSessions?: boolean } = {},
    ): Promise<PublicUser> {
      if (typeof role !== 'string' || role.length === 0) {
        throw new AuthError('VALIDATION_ERROR', 'Role must be a non-empty string.', {
          details: { field: 'role', reason: 'invalid' },
        });
      }
      const declared = config.policy as Policy | undefined;
      if (declared && !declared.hasRole(role)) {
        throw new AuthError(
          'VALIDATION_ERROR',
          `Role '${role}' is not declared in the policy (declared: ${declared.roles.join(', ')}).`,
          { details: { field: 'role', reason: 'unknown_role' } },
        );
      }
      const before = found(typeof userId === 'string' ? await users.findById(userId) : null);
      if (before.role === role) return toPublicUser(before);
      const after = found(await users.update(userId, { role }));
      const context = {
        ip: options.ip,
        userAgent: options.userAgent,
        requestId: options.requestId,
      };
      audit.emit({
        event: 'ROLE_CHANGED',
        status: 'success',
        userId,
        context,
        metadata: {
          oldRole: before.role,
          newRole: role,
          ...(options.actorId === undefined ? {} : { actorId: options.actorId }),
        },
      });
      if (options.revokeSessions !== false) {
        await tokens.revokeUserSessions(userId, 'role_changed', { context });
      }
      return toPublicUser(after);
    },

    /** Bans a user (login refused like a wrong password) and ends every session at once. */
    banUser(
      userId: string,
      input: BanUserInput,
      context: RequestContext & { actorId?: string } = {},
    ): Promise<AdminUserView> {
      return administration.ban(userId, input, context);
    },

    /** Lifts a user's ban; emits USER_UNBANNED when there was one. */
    unbanUser(
      userId: string,
      context: RequestContext & { actorId?: string } = {},
    ): Promise<AdminUserView> {
      return administration.unban(userId, context);
    },

    /** One page of users for an administrator, ascending by email. */
    listUsers(options: ListUsersOptions = {}): Promise<UserListResult> {
      return administration.list(options);
    },

    /** Disables a user: login fails as INVALID_CREDENTIALS from now on. */
    async disableUser(userId: string, context: RequestContext = {}): Promise<void> {
      found(await users.update(userId, { isActive: false }));
      audit.emit({ event: 'USER_DISABLED', status: 'success', userId, context });
      await tokens.revokeUserSessions(userId, 'user_disabled', { context });
    },

    /** Deletes a user. */
    async deleteUser(
      userId: string,
      context: RequestContext & { actorId?: string } = {},
    ): Promise<void> {
      await dataRights.eraseUser(userId, context);
    },

    exportUser: (userId) => dataRights.exportUser(userId),
    eraseUser: (userId, context) => dataRights.eraseUser(userId, context),
    deleteOwnAccount: (userId, input, context) =>
      dataRights.deleteOwnAccount(userId, input, context),
  };
  // What the HTTP layer reaches behind the instance (src/internal/handle.ts), never public.
  registerInternals(auth, {
    config,
    stores: {
      users,
      attempts,
      rateLimits,
      tokens: tokenStore,
      oneTimeTokens,
      outbox,
      mfa: instrumented.mfa,
    },
    clock,
    audit,
    rateLimiter,
    telemetry,
    verifyAccessToken: tokens.verifyAccessTokenFast,
    verifyCachedAccessToken: tokens.verifyCachedAccessToken,
    verifyCachedBearer: tokens.verifyCachedBearer,
  });
  // Printing an instance shows its policy's roles, never an option (keys, secrets).
  const roles = (config.policy as Policy | undefined)?.roles;
  const summary = (): { type: 'gatehouse.Auth'; roles: string[] | null } => ({
    type: 'gatehouse.Auth',
    roles: roles ? [...roles] : null,
  });
  Object.defineProperties(auth, {
    toJSON: { value: summary },
    [Symbol.for('nodejs.util.inspect.custom')]: {
      value: () => `Auth { roles: ${roles ? `[${roles.join(', ')}]` : 'none (no policy)'} }`,
    },
  });
  return Object.freeze(auth);
}

/** The spans of the core flows (docs/observability.md, "Traces"). */
const SPAN = {
  login: 'gatehouse.login',
  register: 'gatehouse.register',
  refresh: 'gatehouse.refresh',
  logout: 'gatehouse.logout',
  logoutAll: 'gatehouse.logout_all',
  passwordReset: 'gatehouse.password_reset',
  passwordResetRequest: 'gatehouse.password_reset.request',
} as const;
const NO_ATTRIBUTES = Object.freeze({});
const LOGIN_ATTRIBUTES = Object.freeze({ 'gatehouse.auth.method': 'password' });
const REFRESH_ATTRIBUTES = Object.freeze({ 'gatehouse.token.type': 'refresh' });

/** `Auth.authorize`: `Policy.can`'s parameters plus the request context, throwing when denied. */
type AuthorizeOf<P> =
  P extends Policy<infer M, string>
    ? <C extends Permission<M>>(
        principal: PolicyPrincipal | null | undefined,
        permission: C,
        resource?: CheckedResource<M, C>,
        context?: RequestContext,
      ) => void
    : never;

/**
 * What `login` resolves to: the access and refresh tokens and the user (never its hash).
 *
 * @example
 * ```ts
 * const { token, refreshToken, expiresIn, user }: LoginResult = await auth.login({ email, password });
 * ```
 */
export interface LoginResult extends IssuedTokens {
  /** The signed-in user, without its password hash. */
  readonly user: PublicUser;
}

/**
 * A gatehouse instance, as returned by {@link createAuth}; `P` is the type of its policy, which
 * types the permissions of `can`, `authorize`, `explain` and `filter`. The instance is frozen;
 * `JSON.stringify` and `util.inspect` of it show the policy's roles, never an option.
 *
 * @example
 * ```ts
 * import { type Auth, createAuth, seedPolicy } from 'gatehouse';
 *
 * export const auth: Auth<typeof seedPolicy> = createAuth({ policy: seedPolicy });
 * ```
 */
export interface Auth<P extends Policy = Policy> {
  /** The authorization policy (`options.policy`), or undefined when none was given. */
  readonly policy: P | undefined;

  // The checks are typed as the policy's own methods (their permissions and resources follow
  // from `P`), which also keeps an `Auth<typeof policy>` assignable to `Auth`.

  /**
   * Whether `principal` may do `permission` (to `resource` when given); see `Policy.can`.
   * A conditional grant checked without a resource answers false. No audit event.
   * INVALID_CONFIG without a policy.
   */
  readonly can: P['can'];

  /**
   * Like `can`, but throws `AuthError('FORBIDDEN')` when denied, after emitting an
   * `ACCESS_DENIED` audit event whose metadata says which rule or reason decided
   * (permission, role, reason, rule), never the resource's data.
   */
  readonly authorize: AuthorizeOf<P>;

  /** Whether `principal` may do `permission` to at least some instance; see `Policy.canSome`. */
  readonly canSome: P['canSome'];

  /** The decision with the rule and role that made it, or why nothing matched. */
  readonly explain: P['explain'];

  /** The policy's conditions for `permission` as data for a store's query; see `Policy.filter`. */
  readonly filter: P['filter'];

  /**
   * Registers a user with the default role. Throws VALIDATION_ERROR (bad email, name or
   * password) or EMAIL_TAKEN. The result never carries the hash. With `mail`, a verification
   * mail is sent.
   */
  register(input: RegisterInput, context?: RequestContext): Promise<PublicUser>;

  /**
   * The enumeration-safe registration (the register route when `emailVerification.required`):
   * resolves the same way whether the email is new or taken. VALIDATION_ERROR for bad input;
   * INVALID_CONFIG without `mail`.
   */
  signUp(input: RegisterInput, context?: RequestContext): Promise<void>;

  /**
   * Verifies email and password and starts a session. Throws INVALID_CREDENTIALS (unknown
   * email, wrong password, disabled account alike), ACCOUNT_LOCKED (with `retryAfter`),
   * EMAIL_NOT_VERIFIED or VALIDATION_ERROR; SERVER_ERROR with status 503 and `retryAfter` when
   * `passwords.hashQueueLimit` checks are already waiting. With `mfa`, after the correct password
   * and every other check: MFA_REQUIRED (401) for an account with an active second factor, or
   * MFA_ENROLLMENT_REQUIRED (403) for a role of `mfa.requireForRoles` without one, each with
   * `details: { challenge, expiresIn }` and no session (see `completeMfa`, `enrollWithChallenge`).
   */
  login(input: LoginInput, context?: RequestContext): Promise<LoginResult>;

  /**
   * Rotates a refresh token: returns a new `{ token, refreshToken, expiresIn }` and uses the
   * presented one up. TOKEN_INVALID for an unknown, revoked or reused token (reuse revokes the
   * whole session) or a disabled/deleted user; TOKEN_EXPIRED for an ended session.
   */
  refresh(refreshToken: string, context?: RequestContext): Promise<IssuedTokens>;

  /**
   * Verifies an access token: returns `{ userId, email, role, sessionId, claims }` or throws
   * TOKEN_EXPIRED / TOKEN_INVALID (bad token, or its session ended).
   */
  verifyAccessToken(token: string): Promise<AccessPrincipal>;

  /** Ends one session: its refresh token and its access tokens stop working. Idempotent. */
  logout(sessionId: string, context?: RequestContext): Promise<void>;

  /** Ends every session of a user; returns how many were active. */
  logoutAll(userId: string, context?: RequestContext): Promise<number>;

  /**
   * Ends the session a refresh token belongs to, without an access token. Returns that
   * session's id, or null when it had already ended. TOKEN_INVALID for an unknown token.
   */
  logoutWithRefreshToken(refreshToken: string, context?: RequestContext): Promise<string | null>;

  /** The public JWKS (`/.well-known/jwks.json`): asymmetric keys only, never a secret. */
  jwks(): JsonWebKeySet;

  /**
   * Counts one request of `route` for `key` (an IP through `rateLimitKeyOfIp`, or any key of
   * yours) against `rateLimits`; throws RATE_LIMITED with `retryAfter` past the limit. The
   * adapters' routes do this already; call it from your own routes that call `login`,
   * `register` or `requestPasswordReset` directly.
   *
   * @example
   * ```ts
   * await auth.enforceRateLimit('login', rateLimitKeyOfIp(req.ip ?? 'unknown'), { ip: req.ip });
   * const session = await auth.login(req.body, { ip: req.ip });
   * ```
   */
  enforceRateLimit(route: RateLimitedRoute, key: string, context?: RequestContext): Promise<void>;

  /** Deletes ended sessions (revoked or expired before `olderThan`, default now). */
  pruneSessions(olderThan?: number): Promise<number>;

  /**
   * The user's active sessions (one per signed-in device), newest first: `{ id, createdAt,
   * lastUsedAt, expiresAt, ip, userAgent, label, current }` with ISO times; revoked, expired
   * and idle ones left out. `current` marks `options.currentSessionId` (the caller's
   * `principal.sessionId`).
   *
   * @example
   * ```ts
   * const sessions = await auth.listSessions(principal.userId, { currentSessionId: principal.sessionId });
   * ```
   */
  listSessions(
    userId: string,
    options?: { currentSessionId?: string | undefined },
  ): Promise<SessionInfo[]>;

  /**
   * Ends one of the user's own sessions (signs that device out): its refresh token and access
   * tokens stop working. NOT_FOUND for another user's session, an unknown id or a session
   * already ended, alike. Emits SESSION_REVOKED.
   *
   * @example
   * ```ts
   * await auth.revokeSession(principal.userId, req.params.id, { ip: req.ip });
   * ```
   */
  revokeSession(userId: string, sessionId: string, context?: RequestContext): Promise<void>;

  /**
   * Ends every session of the user except `currentSessionId` ("sign out other devices");
   * returns how many ended. Emits SESSIONS_REVOKED (`metadata.reason: 'revoke_others'`) when
   * that is not 0.
   *
   * @example
   * ```ts
   * const revoked = await auth.revokeOtherSessions(principal.userId, principal.sessionId);
   * ```
   */
  revokeOtherSessions(
    userId: string,
    currentSessionId: string,
    context?: RequestContext,
  ): Promise<number>;

  /**
   * Changes a user's password after checking the current one; every other session of the
   * user ends (the one given as `context.sessionId` stays).
   */
  changePassword(
    userId: string,
    input: { currentPassword: string; newPassword: string },
    context?: RequestContext & { sessionId?: string },
  ): Promise<void>;

  /**
   * Starts TOTP enrolment for a signed-in user: a new secret (160 bits) stored encrypted as a
   * pending factor, returned once with its `otpauth://` URI (show it as a QR code). A second
   * call replaces the pending secret. MFA_ALREADY_ENROLLED (409) with an active factor;
   * UNAUTHENTICATED for an unknown or disabled user; INVALID_CONFIG without `mfa`.
   *
   * @example
   * ```ts
   * const { secret, uri } = await auth.startTotpEnrollment(principal.userId);
   * res.json({ success: true, secret, uri });
   * ```
   */
  startTotpEnrollment(userId: string, context?: RequestContext): Promise<TotpEnrollment>;

  /**
   * Activates the pending factor with its first valid code and returns 10 recovery codes, shown
   * this once (only keyed hashes are kept). Emits MFA_ENROLLED. MFA_INVALID_CODE (401, counted
   * in the MFA lockout), MFA_LOCKED (403, `retryAfter`), MFA_NOT_ENROLLED (409, no pending
   * factor), MFA_ALREADY_ENROLLED (409), VALIDATION_ERROR (`details.field: 'code'`).
   *
   * @example
   * ```ts
   * const { recoveryCodes } = await auth.confirmTotp(principal.userId, req.body.code, { ip: req.ip });
   * ```
   */
  confirmTotp(userId: string, code: string, context?: RequestContext): Promise<MfaRecoveryCodes>;

  /**
   * The second step of a login that answered MFA_REQUIRED: the challenge from its
   * `details.challenge` and a code from the app (or a recovery code) issue the tokens, like
   * `login`. The challenge is single-use and lasts `mfa.challengeTtl`; a wrong code leaves it
   * usable (MFA_INVALID_CODE, 401, counted in the account's MFA lockout) until the lockout
   * locks (MFA_LOCKED, 403, `retryAfter`; the challenge then ends). A code already used (the
   * same or an earlier 30 s step) is refused as a wrong one. MFA_CHALLENGE_INVALID (401) for an
   * unknown, used, superseded or expired challenge alike. A recovery code emits
   * RECOVERY_CODE_USED (`metadata.remaining`).
   *
   * @example
   * ```ts
   * try {
   *   return await auth.login({ email, password });
   * } catch (err) {
   *   if (!(err instanceof AuthError) || err.code !== 'MFA_REQUIRED') throw err;
   *   const challenge = err.details?.challenge as string;
   *   return auth.completeMfa(challenge, { code: await askForCode() }, { ip });
   * }
   * ```
   */
  completeMfa(
    challenge: string,
    input: SecondFactorInput & { deviceLabel?: string | undefined },
    context?: RequestContext,
  ): Promise<LoginResult>;

  /**
   * Enrolment of a user whose role must use a second factor (`mfa.requireForRoles`) and whose
   * login answered MFA_ENROLLMENT_REQUIRED (403) with `details.challenge`: `{ step: 'start' }`
   * returns the secret and URI (as `startTotpEnrollment`), `{ step: 'confirm', code }` activates
   * the factor (as `confirmTotp`) and finishes the login: the recovery codes and the tokens.
   * The challenge allows nothing else. MFA_CHALLENGE_INVALID (401) for an unknown or expired
   * challenge; the errors of `confirmTotp` otherwise.
   *
   * @example
   * ```ts
   * const { uri } = await auth.enrollWithChallenge(challenge, { step: 'start' });
   * const { recoveryCodes, login } = await auth.enrollWithChallenge(challenge, { step: 'confirm', code });
   * ```
   */
  enrollWithChallenge(
    challenge: string,
    input: { step: 'start' },
    context?: RequestContext,
  ): Promise<TotpEnrollment>;
  enrollWithChallenge(
    challenge: string,
    input: { step: 'confirm'; code: string },
    context?: RequestContext,
  ): Promise<{ recoveryCodes: string[]; login: LoginResult }>;

  /**
   * Replaces the recovery codes (the old set stops working at once) for a valid code from the
   * app; returns the new ones, shown this once. Emits RECOVERY_CODES_REGENERATED.
   * MFA_INVALID_CODE, MFA_LOCKED, MFA_NOT_ENROLLED (409).
   *
   * @example
   * ```ts
   * const { recoveryCodes } = await auth.regenerateRecoveryCodes(principal.userId, { code: req.body.code });
   * ```
   */
  regenerateRecoveryCodes(
    userId: string,
    input: { code: string },
    context?: RequestContext,
  ): Promise<MfaRecoveryCodes>;

  /**
   * Turns the second factor off: needs the password (INVALID_CREDENTIALS, counted in the
   * password lockout) and a code or recovery code (MFA_INVALID_CODE, counted in the MFA
   * lockout). Deletes the factor and its recovery codes, emits MFA_DISABLED and ends every
   * other session (`context.sessionId` stays). FORBIDDEN (`details.reason:
   * 'mfa_required_for_role'`) for a role of `mfa.requireForRoles`; VALIDATION_ERROR
   * (`details.reason: 'too_short_without_mfa'`) while the password is shorter than
   * `passwords.minLength`; MFA_NOT_ENROLLED (409) without an active factor.
   *
   * @example
   * ```ts
   * await auth.disableTotp(principal.userId, { password, code }, { ip: req.ip, sessionId: principal.sessionId });
   * ```
   */
  disableTotp(
    userId: string,
    input: { password: string } & SecondFactorInput,
    context?: RequestContext & { sessionId?: string },
  ): Promise<void>;

  /**
   * Whether the user has an active second factor, since when, and how many recovery codes are
   * left (never the secret or a code). INVALID_CONFIG without `mfa`.
   *
   * @example
   * ```ts
   * const { enrolled, recoveryCodesLeft } = await auth.mfaStatus(principal.userId);
   * ```
   */
  mfaStatus(userId: string): Promise<MfaStatus>;

  /** Returns a user without its hash; NOT_FOUND when there is none. */
  getUser(userId: string): Promise<PublicUser>;

  /** Finds a user by email (normalised); null when there is none. */
  findUserByEmail(email: string): Promise<PublicUser | null>;

  /** Updates a user's display name; emits `USER_UPDATED` when something changed. */
  updateUser(
    userId: string,
    patch: { name?: unknown },
    context?: RequestContext & { actorId?: string },
  ): Promise<PublicUser>;

  /**
   * Sets a user's role (VALIDATION_ERROR for a role the policy does not declare); when it
   * changes, emits `ROLE_CHANGED` and ends every session of the user unless
   * `revokeSessions: false`.
   */
  setRole(
    userId: string,
    role: string,
    options?: RequestContext & { actorId?: string; revokeSessions?: boolean },
  ): Promise<PublicUser>;

  /**
   * Bans a user for `reason` (1 to 500 characters), until `until` (a Date in the future) or,
   * without it, until {@link Auth.unbanUser}. Every session ends at once (SESSIONS_REVOKED,
   * reason `banned`: refresh and access tokens stop working); login then fails exactly like a
   * wrong password (INVALID_CREDENTIALS after the same bcrypt check, counted toward the lockout;
   * audit LOGIN_FAILED with `metadata.reason: 'banned'`) until the ban ends. A password reset
   * still works, but login stays refused until the ban ends. Banning a banned user replaces the
   * ban. Emits USER_BANNED (metadata `actorId` when given, `reason`, `until`: ISO or null).
   * VALIDATION_ERROR (`details.field`: `reason` or `until`), NOT_FOUND for an unknown user,
   * INVALID_CONFIG when the user store does not keep the ban fields.
   *
   * @example
   * ```ts
   * const user = await auth.banUser(
   *   req.params.id,
   *   { reason: 'Chargeback fraud', until: new Date(Date.now() + 7 * 86_400_000) },
   *   { actorId: req.auth.userId, ip: req.ip },
   * );
   * res.json({ success: true, user }); // user.ban: { reason, since, until }
   * ```
   */
  banUser(
    userId: string,
    input: BanUserInput,
    context?: RequestContext & { actorId?: string },
  ): Promise<AdminUserView>;

  /**
   * Lifts a user's ban (one that has already ended too) and emits USER_UNBANNED (metadata
   * `actorId` when given, `wasInForce`); a user without a ban is returned unchanged, without an
   * event. NOT_FOUND for an unknown user. A lockout left by attempts made while banned runs out
   * on its own.
   *
   * @example
   * ```ts
   * const user = await auth.unbanUser(req.params.id, { actorId: req.auth.userId, ip: req.ip });
   * res.json({ success: true, user }); // user.ban === null
   * ```
   */
  unbanUser(
    userId: string,
    context?: RequestContext & { actorId?: string },
  ): Promise<AdminUserView>;

  /**
   * One page of users for an administrator, ascending by email, as {@link AdminUserView}s
   * (never a hash): `limit` 1 to 100 (default 50), `query` a case-insensitive prefix of the
   * email, `cursor` the previous page's `nextCursor` (opaque; null on the last page). Keyset
   * pagination: a user present for the whole walk appears exactly once, and a deep page costs
   * what the first one does. VALIDATION_ERROR (`details.field`: `limit`, `query` or `cursor`)
   * for a bad option or a cursor this instance did not make.
   *
   * @example
   * ```ts
   * const { users, nextCursor } = await auth.listUsers({
   *   limit: 20,
   *   query: typeof req.query.query === 'string' ? req.query.query : undefined,
   *   cursor: typeof req.query.cursor === 'string' ? req.query.cursor : undefined,
   * });
   * res.json({ success: true, users, nextCursor });
   * ```
   */
  listUsers(options?: ListUsersOptions): Promise<UserListResult>;

  /** Disables a user: login fails as INVALID_CREDENTIALS and every session ends. */
  disableUser(userId: string, context?: RequestContext): Promise<void>;

  /**
   * Deletes a user and everything keyed by them: the same as {@link Auth.eraseUser} (every
   * session ends; emits `USER_ERASED`). NOT_FOUND when there is no such user.
   */
  deleteUser(userId: string, context?: RequestContext & { actorId?: string }): Promise<void>;

  /**
   * Everything gatehouse holds about a user, as versioned JSON (`schemaVersion: 1`): profile,
   * active sessions, audit events (with `stores.auditLog`), lockout state, pending links, the
   * second factor's state, and the app's own data (`account.dataExport.extend`). Never a hash,
   * a token or a secret. NOT_FOUND when there is no such user.
   *
   * @example
   * ```ts
   * const data = await auth.exportUser(req.auth.userId);
   * res.json({ success: true, data });
   * ```
   */
  exportUser(userId: string): Promise<UserDataExport>;

  /**
   * Erases a user: disables the account, runs `account.dataExport.erase` (the app's data),
   * revokes then deletes every session, deletes one-time tokens, mails to the address, lockout
   * and rate-limit counters and MFA data, pseudonymises the user's audit events (with
   * `stores.auditLog`: the user id becomes `erased:<keyed hash>`, the email hash is removed),
   * deletes the user last, and emits `USER_ERASED` under the pseudonym (with
   * `metadata.actorId`). NOT_FOUND when there is no such user. A failure midway leaves the
   * account disabled: call it again to finish.
   *
   * @example
   * ```ts
   * const { pseudonym } = await auth.eraseUser(userId, { actorId: admin.userId, ip: req.ip });
   * ```
   */
  eraseUser(userId: string, context?: RequestContext & { actorId?: string }): Promise<UserErasure>;

  /**
   * The user's own account deletion: checks `password` (INVALID_CREDENTIALS when wrong,
   * counted toward the lockout like a wrong login; ACCOUNT_LOCKED while locked), then erases
   * the account as {@link Auth.eraseUser} does. UNAUTHENTICATED when the account is already
   * gone or disabled.
   *
   * @example
   * ```ts
   * await auth.deleteOwnAccount(req.auth.userId, { password: req.body.password }, { ip: req.ip });
   * ```
   */
  deleteOwnAccount(
    userId: string,
    input: { password: string },
    context?: RequestContext,
  ): Promise<UserErasure>;

  /**
   * Asks for a password-reset link; resolves the same way whether the account exists.
   * VALIDATION_ERROR only for a non-string or over-long input; INVALID_CONFIG without `mail`.
   */
  requestPasswordReset(email: string, context?: RequestContext): Promise<void>;

  /**
   * Sets a new password with a reset link's token; ends every session. LINK_INVALID for an
   * unknown, used, superseded or expired token alike.
   */
  resetPassword(
    input: { token: string; password: string },
    context?: RequestContext,
  ): Promise<void>;

  /** Sends a new verification link to a user (RATE_LIMITED past `rateLimits.resendVerification`). */
  requestEmailVerification(userId: string, context?: RequestContext): Promise<void>;

  /** Consumes a verification link's token and marks the email verified; LINK_INVALID otherwise. */
  verifyEmail(token: string, context?: RequestContext): Promise<PublicUser>;

  /** The mail outbox: wait for queued mail, count what waits. */
  readonly mail: {
    /** Waits for earlier background work, then delivers everything due now. */
    flush(): Promise<MailFlushResult>;
    /** How many messages wait for delivery. */
    pending(): Promise<number>;
  };

  /**
   * Stops the mail worker after the work in flight and closes the token store's revocation
   * watch. Idempotent; call it at shutdown.
   */
  close(): Promise<void>;
}
