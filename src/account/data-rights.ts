// The data rights of a user: the export of everything gatehouse holds about them, and erasure.
// Erasure runs in an order that a retry can finish: the account is disabled first (no new
// session, no new token can start while it runs), every step is idempotent, and the user row
// goes last, so a failure midway leaves an account that `eraseUser` finds and finishes.
import { createHmac, hkdfSync } from 'node:crypto';
import type { AuditEmitter, RequestContext } from '../audit/emitter.js';
import type { AuditEvent } from '../audit/events.js';
import { AuthError } from '../errors.js';
import type { RateLimiter } from '../ratelimit/limiter.js';
import type { Clock } from '../runtime.js';
import type {
  AttemptStore,
  AuditLogStore,
  LockoutRule,
  MailOutboxStore,
  OneTimeTokenPurpose,
  OneTimeTokenStore,
  PublicUser,
  SessionRecord,
  TokenStore,
  UserRecord,
  UserStore,
} from '../stores/types.js';

/**
 * One session in a {@link UserDataExport}: the device it was started from and its times (ISO
 * 8601), never a token or a hash.
 *
 * @example
 * ```ts
 * const session: ExportedSession = {
 *   id: '3f0c…', createdAt: '2030-01-01T09:00:00.000Z', lastUsedAt: '2030-01-02T18:30:00.000Z',
 *   expiresAt: '2030-04-01T09:00:00.000Z', ip: '203.0.113.7', userAgent: 'Mozilla/5.0 …',
 *   label: 'Work laptop', current: false,
 * };
 * ```
 */
export interface ExportedSession {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
  label: string | null;
  /** Always false in an export (it is not made from a session). */
  current: boolean;
}

/**
 * The MFA part of a {@link UserDataExport}, filled by the MFA module when it is configured:
 * whether a second factor is enrolled, since when, and how many recovery codes are left. Never
 * the secret or a code.
 *
 * @example
 * ```ts
 * const mfa: MfaDataExport = { enrolled: true, enrolledAt: '2030-01-01T09:00:00.000Z', recoveryCodesLeft: 8 };
 * ```
 */
export interface MfaDataExport {
  enrolled: boolean;
  enrolledAt: string | null;
  recoveryCodesLeft: number;
}

/**
 * Everything gatehouse holds about a user, as `auth.exportUser` returns it: plain JSON (times as
 * ISO 8601 strings), versioned by `schemaVersion`. It never carries a password hash, a token, a
 * token hash or a secret.
 *
 * @example
 * ```ts
 * const data: UserDataExport = await auth.exportUser(userId);
 * res.setHeader('content-disposition', 'attachment; filename="my-data.json"');
 * res.json(data);
 * ```
 */
export interface UserDataExport {
  /** The version of this shape: 1. A field's meaning never changes within a version. */
  schemaVersion: 1;
  /** When the export was made (ISO 8601). */
  exportedAt: string;
  user: {
    id: string;
    email: string;
    name: string;
    role: string;
    emailVerified: boolean;
    isActive: boolean;
    createdAt: string;
    updatedAt: string;
    lastLoginAt: string | null;
    /** The current or last ban (null: never banned, or the ban was lifted). */
    ban: { reason: string | null; since: string; until: string | null } | null;
  };
  /** The sessions that have not ended (not revoked, not expired), newest first. */
  sessions: ExportedSession[];
  /**
   * The user's audit events, newest first, at most `account.dataExport.auditEventLimit`, without
   * `metadata.emailHash`; null when no `stores.auditLog` is configured (gatehouse then keeps no
   * event it can read back).
   */
  auditEvents: AuditEvent[] | null;
  /**
   * The lockout counter of the user's email (login and password confirmations), or null when
   * the store holds none. `failedAttempts` counts the current window only.
   */
  lockout: { failedAttempts: number; lockedUntil: string | null; lockouts: number } | null;
  /** Password-reset and verification links that still work (their purpose and times only). */
  pendingTokens: { purpose: OneTimeTokenPurpose; createdAt: string; expiresAt: string }[];
  /** The second factor, when MFA is configured. */
  mfa?: MfaDataExport;
  /** What `account.dataExport.extend` returned for the user (`{}` without it). */
  app: Record<string, unknown>;
}

/**
 * What `auth.eraseUser` did: how many items of each kind it deleted, and the pseudonym that
 * replaced the user id in the audit log (and in the `USER_ERASED` event).
 *
 * @example
 * ```ts
 * const { pseudonym, deleted }: UserErasure = await auth.eraseUser(userId, { actorId: admin.id });
 * console.log(`erased as ${pseudonym}: ${deleted.sessions} sessions, ${deleted.auditEvents} events pseudonymised`);
 * ```
 */
export interface UserErasure {
  /** `erased:` and a keyed hash of the user id (stable for one `identifierKey`). */
  pseudonym: string;
  deleted: {
    sessions: number;
    oneTimeTokens: number;
    mails: number;
    /** Audit events pseudonymised (0 without `stores.auditLog`). */
    auditEvents: number;
  };
}

/**
 * A part of gatehouse that keeps data of its own about a user (the MFA module: its factor,
 * recovery codes and lockout bucket) registers one of these, so that `exportUser` shows it and
 * `eraseUser` deletes it. Internal: not exported from the package.
 */
export interface UserDataHook {
  /** Its key in the export (e.g. `'mfa'`); one hook per name. */
  readonly name: 'mfa';
  /** What it holds about the user for the export (never a secret), or null: nothing. */
  exportOf?(user: UserRecord): Promise<MfaDataExport | null>;
  /**
   * Deletes everything it holds about the user. Idempotent: a retried erasure runs it again
   * (after a failure later on), and a second run finds nothing left.
   */
  erase(user: UserRecord): Promise<void>;
}

/** What the data-rights module needs from createAuth. */
export interface DataRightsOptions {
  users: UserStore;
  tokens: TokenStore;
  oneTimeTokens: OneTimeTokenStore;
  outbox: MailOutboxStore;
  attempts: AttemptStore;
  auditLog: AuditLogStore | undefined;
  rateLimiter: RateLimiter;
  audit: AuditEmitter;
  clock: Clock;
  /** The `identifierKey` bytes: the pseudonym is a keyed hash of the user id under a subkey. */
  identifierKey: Uint8Array;
  /** The lockout counter key of a normalised email (the one login uses). */
  lockoutKey: (email: string) => string;
  lockout: Omit<LockoutRule, 'now'>;
  /**
   * Checks a known user's password in the login's lockout (CredentialService.confirmPassword):
   * INVALID_CREDENTIALS or ACCOUNT_LOCKED.
   */
  verifyPassword: (user: UserRecord, password: string, context: RequestContext) => Promise<unknown>;
  /** Ends every session of the user (watchers hear it; emits SESSIONS_REVOKED). */
  revokeSessions: (userId: string, context: RequestContext) => Promise<number>;
  /** `account.dataExport`. */
  options: {
    extend?:
      | ((user: PublicUser) => Promise<Record<string, unknown>> | Record<string, unknown>)
      | undefined;
    erase?: ((user: PublicUser) => Promise<void> | void) | undefined;
    auditEventLimit: number;
  };
}

// The label of the pseudonym subkey: a key derived for one purpose is never used for another.
const PSEUDONYM_KEY_INFO = 'gatehouse/erased-user-pseudonym/v1';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (date: Date | null | undefined) => (date ? date.toISOString() : null);

/** The device fields S adds to SessionRecord, read as null when a store does not keep them. */
type DeviceFields = { ip?: string | null; userAgent?: string | null; label?: string | null };

function toPublicUser(user: UserRecord): PublicUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    emailVerified: user.emailVerified === true,
  };
}

function notFound(): AuthError {
  return new AuthError('NOT_FOUND', 'User not found.');
}

/**
 * Export and erasure of a user's data (`auth.exportUser`, `auth.eraseUser`,
 * `auth.deleteOwnAccount`), with the registry of the parts that keep data of their own.
 */
export class DataRights {
  readonly #o: DataRightsOptions;
  readonly #hooks = new Map<string, UserDataHook>();
  readonly #pseudonymKey: Buffer;

  constructor(options: DataRightsOptions) {
    this.#o = options;
    this.#pseudonymKey = Buffer.from(
      hkdfSync('sha256', options.identifierKey, new Uint8Array(0), PSEUDONYM_KEY_INFO, 32),
    );
  }

  /** Registers a part's data (the MFA module); a second hook of one name is a programming error. */
  register(hook: UserDataHook): void {
    if (this.#hooks.has(hook.name)) {
      throw new TypeError(`a user data hook named ${hook.name} is already registered`);
    }
    this.#hooks.set(hook.name, hook);
  }

  /** The pseudonym of an erased user: `erased:` + base64url HMAC-SHA256 of the id. */
  pseudonymOf(userId: string): string {
    return `erased:${createHmac('sha256', this.#pseudonymKey).update(userId, 'utf8').digest('base64url')}`;
  }

  async exportUser(userId: string): Promise<UserDataExport> {
    const user = await this.#find(userId);
    const now = this.#o.clock.now();
    const o = this.#o;
    const [sessions, auditEvents, lockout, pending, app] = await Promise.all([
      o.tokens.listSessions(user.id),
      o.auditLog ? o.auditLog.listForUser(user.id, { limit: o.options.auditEventLimit }) : null,
      o.attempts.inspect(o.lockoutKey(user.email), now),
      o.oneTimeTokens.listUserTokens(user.id, now),
      o.options.extend ? o.options.extend(toPublicUser(user)) : {},
    ]);
    const data: UserDataExport = {
      schemaVersion: 1,
      exportedAt: iso(now),
      user: {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        emailVerified: user.emailVerified === true,
        isActive: user.isActive,
        createdAt: user.createdAt.toISOString(),
        updatedAt: user.updatedAt.toISOString(),
        lastLoginAt: isoOrNull(user.lastLoginAt),
        ban: user.bannedAt
          ? {
              reason: user.banReason ?? null,
              since: user.bannedAt.toISOString(),
              until: isoOrNull(user.bannedUntil),
            }
          : null,
      },
      sessions: sessions
        .filter((s) => s.revokedAt === null && s.expiresAt > now)
        .sort((a, b) => b.createdAt - a.createdAt)
        .map(exportedSession),
      // The keyed hash of the user's own address is gatehouse's pseudonymous key, no data of theirs.
      auditEvents: auditEvents && auditEvents.map(withoutEmailHash),
      lockout: lockout && {
        failedAttempts:
          lockout.windowStart + o.lockout.windowMs > now && lockout.lockedUntil === null
            ? lockout.attempts
            : 0,
        lockedUntil: lockout.lockedUntil === null ? null : iso(lockout.lockedUntil),
        lockouts: lockout.lockouts,
      },
      pendingTokens: pending.map((token) => ({
        purpose: token.purpose,
        createdAt: iso(token.createdAt),
        expiresAt: iso(token.expiresAt),
      })),
      app: toJsonObject(app),
    };
    const mfa = this.#hooks.get('mfa');
    if (mfa?.exportOf) {
      const section = await mfa.exportOf(user);
      if (section) data.mfa = section;
    }
    return data;
  }

  /**
   * Erases a user and everything keyed by them; NOT_FOUND when there is no such user (an
   * erasure that completed, too). Each step is idempotent and the user row goes last, so after
   * a failure (a store down) calling it again finishes the work.
   */
  async eraseUser(
    userId: string,
    context: RequestContext & { actorId?: string } = {},
  ): Promise<UserErasure> {
    const o = this.#o;
    const found = await this.#find(userId);
    const requestContext: RequestContext = {
      ip: context.ip,
      userAgent: context.userAgent,
      requestId: context.requestId,
    };
    // Disabled first: from here no login, refresh or reset link of the account works, so nothing
    // new can be created while the steps below delete.
    const user = found.isActive
      ? ((await o.users.update(found.id, { isActive: false })) ?? found)
      : found;
    if (o.options.erase) await o.options.erase(toPublicUser(user));
    // Revoked before they are deleted, so that every instance's cache hears it.
    await o.revokeSessions(user.id, requestContext);
    const sessions = await o.tokens.deleteUserSessions(user.id);
    const oneTimeTokens = await o.oneTimeTokens.deleteUserTokens(user.id);
    const mails = await o.outbox.deleteForRecipient(user.email);
    await o.attempts.reset(o.lockoutKey(user.email));
    const emailHash = o.audit.hashEmail(user.email);
    await Promise.all([
      o.rateLimiter.reset('forgotEmail', emailHash),
      o.rateLimiter.reset('forgotEmail', `notice:${emailHash}`),
      o.rateLimiter.reset('resendVerification', user.id),
    ]);
    for (const hook of this.#hooks.values()) await hook.erase(user);
    const pseudonym = this.pseudonymOf(user.id);
    let auditEvents = 0;
    if (o.auditLog) {
      // Every event of the user emitted so far (the revocation's above included) is written
      // before the log is pseudonymised: none can land after it with the user id.
      await o.audit.settled();
      auditEvents = await o.auditLog.pseudonymiseUser(user.id, pseudonym, { emailHash });
    }
    if (!(await o.users.delete(user.id))) throw notFound();
    o.audit.emit({
      event: 'USER_ERASED',
      status: 'success',
      userId: pseudonym,
      context: requestContext,
      metadata: {
        sessions,
        oneTimeTokens,
        mails,
        auditEvents,
        // A user erasing their own account is not named: the event must not carry the id.
        ...(context.actorId === undefined
          ? {}
          : context.actorId === user.id
            ? { self: true }
            : { actorId: context.actorId }),
      },
    });
    return { pseudonym, deleted: { sessions, oneTimeTokens, mails, auditEvents } };
  }

  /**
   * The user's own deletion: the password is checked first (a wrong one is INVALID_CREDENTIALS
   * and counts toward the lockout of the account, as a wrong login would), then the account is
   * erased.
   */
  async deleteOwnAccount(
    userId: string,
    input: { password: unknown },
    context: RequestContext = {},
  ): Promise<UserErasure> {
    await this.confirmPassword(userId, input?.password, context);
    return this.eraseUser(userId, { ...context, actorId: userId });
  }

  /**
   * Checks the password of a signed-in user, counted in the login's lockout: ACCOUNT_LOCKED
   * (with `retryAfter`) while the account is locked, INVALID_CREDENTIALS for a wrong password.
   * An account that is gone or disabled is UNAUTHENTICATED (the caller's session is stale).
   */
  async confirmPassword(userId: string, password: unknown, context: RequestContext = {}) {
    const o = this.#o;
    if (typeof password !== 'string' || password.length === 0) {
      throw new AuthError('VALIDATION_ERROR', 'The password is required.', {
        details: { field: 'password', reason: 'required' },
      });
    }
    const user = typeof userId === 'string' ? await o.users.findById(userId) : null;
    if (!user || !user.isActive) throw new AuthError('UNAUTHENTICATED');
    // The login's check of a known user: the same lockout, events and timing.
    await o.verifyPassword(user, password, context);
  }

  async #find(userId: string): Promise<UserRecord> {
    const user = typeof userId === 'string' ? await this.#o.users.findById(userId) : null;
    if (!user) throw notFound();
    return user;
  }
}

function withoutEmailHash(event: AuditEvent): AuditEvent {
  const { emailHash: _keyed, ...metadata } = event.metadata;
  return { ...event, metadata };
}

function exportedSession(session: SessionRecord & DeviceFields): ExportedSession {
  return {
    id: session.id,
    createdAt: iso(session.createdAt),
    lastUsedAt: iso(session.lastUsedAt),
    expiresAt: iso(session.expiresAt),
    ip: session.ip ?? null,
    userAgent: session.userAgent ?? null,
    label: session.label ?? null,
    current: false,
  };
}

/**
 * The app's section as plain JSON: what `extend` returned must be an object, and goes through
 * JSON (dates become strings, functions vanish), so the export is what its client receives.
 */
function toJsonObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AuthError(
      'INVALID_CONFIG',
      'account.dataExport.extend must return an object (or a promise of one).',
    );
  }
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}
