// Sessions per device: what a user sees of their own sessions, and ending one or the others.
// Every rule lives here; the token service only revokes, and the routes only translate.
import type { AuditEmitter, RequestContext } from '../audit/emitter.js';
import { AuthError, withoutStack } from '../errors.js';
import type { Clock } from '../runtime.js';
import type { SessionRecord, TokenStore } from '../stores/types.js';
import type { SessionDevice, TokenService } from '../tokens/service.js';

/** The longest device label accepted at login, in characters (code points). */
export const MAX_DEVICE_LABEL_LENGTH = 100;

/** The longest user agent a session records; a longer one is cut. */
export const MAX_SESSION_USER_AGENT_LENGTH = 512;

/**
 * One session as its owner sees it in the sessions list: times as ISO strings, the client's IP
 * and user agent at sign-in, the label given at login, and whether it is the caller's own.
 *
 * @example
 * ```ts
 * const sessions: SessionInfo[] = await auth.listSessions(userId, { currentSessionId });
 * for (const s of sessions) console.log(s.label ?? s.userAgent, s.lastUsedAt, s.current ? '(this device)' : '');
 * ```
 */
export interface SessionInfo {
  /** The session id (the access token's `sid`): what `revokeSession` takes. */
  id: string;
  /** Sign-in time (ISO 8601). */
  createdAt: string;
  /** Last use (ISO 8601): a refresh, or an authenticated request (written at most once a minute). */
  lastUsedAt: string;
  /** When the session ends at the latest, however often it is used (ISO 8601). */
  expiresAt: string;
  /** The client's IP at sign-in, or null when unknown. */
  ip: string | null;
  /** The client's `User-Agent` at sign-in (at most 512 characters), or null. */
  userAgent: string | null;
  /** The label given at login (`deviceLabel`), or null. */
  label: string | null;
  /** True for the session named as the caller's own (`currentSessionId`). */
  current: boolean;
}

// Control, format (bidi overrides, zero-width), surrogate, private-use and unassigned code
// points, and line/paragraph separators: a label is shown to its owner, never a spoofing tool.
const UNPRINTABLE = /[\p{C}\p{Zl}\p{Zp}]/u;

/**
 * The device label of a login: undefined or null gives null; otherwise a string of 1–100
 * printable characters (NFC, surrounding spaces trimmed), else VALIDATION_ERROR with
 * `details: { field: 'deviceLabel' }`.
 *
 * @example
 * ```ts
 * deviceLabelOf('  Work laptop '); // 'Work laptop'
 * deviceLabelOf(undefined); // null
 * deviceLabelOf('a\u202Eb'); // throws VALIDATION_ERROR (a bidi override is not printable)
 * ```
 */
export function deviceLabelOf(input: unknown): string | null {
  if (input === undefined || input === null) return null;
  const invalid = (reason: string, message: string) =>
    new AuthError('VALIDATION_ERROR', message, { details: { field: 'deviceLabel', reason } });
  if (typeof input !== 'string') {
    throw invalid('invalid', 'deviceLabel must be a string.');
  }
  // Bounded before any normalisation work.
  if (input.length > MAX_DEVICE_LABEL_LENGTH * 4) {
    throw invalid('too_long', `deviceLabel is at most ${MAX_DEVICE_LABEL_LENGTH} characters.`);
  }
  const label = input.normalize('NFC').trim();
  if (label.length === 0) throw invalid('required', 'deviceLabel must not be empty.');
  if (UNPRINTABLE.test(label)) throw invalid('invalid', 'deviceLabel must be printable text.');
  let count = 0;
  for (const _ of label) count++;
  if (count > MAX_DEVICE_LABEL_LENGTH) {
    throw invalid('too_long', `deviceLabel is at most ${MAX_DEVICE_LABEL_LENGTH} characters.`);
  }
  return label;
}

/**
 * What a new session records of the request that signed in: its IP (null for none or
 * `'unknown'`), its user agent cut to 512 characters (null for none) and the label.
 *
 * @example
 * ```ts
 * sessionDeviceOf({ ip: '203.0.113.7', userAgent: 'curl/8' }, 'CI'); // { ip: '203.0.113.7', userAgent: 'curl/8', label: 'CI' }
 * ```
 */
export function sessionDeviceOf(context: RequestContext, label: string | null): SessionDevice {
  const ip = typeof context.ip === 'string' && context.ip !== 'unknown' ? context.ip : null;
  const agent = typeof context.userAgent === 'string' ? context.userAgent : '';
  return {
    ip: ip === null ? null : ip.slice(0, 64),
    userAgent: agent.length > 0 ? agent.slice(0, MAX_SESSION_USER_AGENT_LENGTH) : null,
    label,
  };
}

/** What {@link createSessionManager} works with; createAuth builds it. */
export interface SessionManagerDependencies {
  store: Pick<TokenStore, 'listSessions' | 'getSession'>;
  tokens: Pick<TokenService, 'endSession' | 'revokeUserSessions'>;
  clock: Clock;
  audit: AuditEmitter;
  /** `tokens.refreshIdleTtl`: a session unused for longer has ended and is not listed. */
  idleMs: number;
}

function notFound(): AuthError {
  return withoutStack(() => new AuthError('NOT_FOUND', 'Session not found.'));
}

function requireId(value: unknown, field: string): string {
  if (typeof value === 'string' && value.length > 0 && value.length <= 1024) return value;
  throw new AuthError('VALIDATION_ERROR', `${field} must be a non-empty string.`, {
    details: { field, reason: 'invalid' },
  });
}

/**
 * The sessions of a user as the user sees and manages them (behind `auth.listSessions`,
 * `auth.revokeSession` and `auth.revokeOtherSessions`).
 *
 * @example
 * ```ts
 * const manager = createSessionManager({ store, tokens, clock, audit, idleMs: 30 * 86_400_000 });
 * const list = await manager.listSessions('u1', { currentSessionId: principal.sessionId });
 * ```
 */
export function createSessionManager(deps: SessionManagerDependencies) {
  const { store, tokens, clock, audit, idleMs } = deps;

  /** Active at `now`: not revoked, not past its absolute end, not idle past the idle rule. */
  function active(session: SessionRecord, now: number): boolean {
    return (
      session.revokedAt === null && now < session.expiresAt && now - session.lastUsedAt <= idleMs
    );
  }

  function infoOf(session: SessionRecord, currentSessionId: string | undefined): SessionInfo {
    return {
      id: session.id,
      createdAt: new Date(session.createdAt).toISOString(),
      lastUsedAt: new Date(session.lastUsedAt).toISOString(),
      expiresAt: new Date(session.expiresAt).toISOString(),
      ip: session.ip ?? null,
      userAgent: session.userAgent ?? null,
      label: session.label ?? null,
      current: session.id === currentSessionId,
    };
  }

  return {
    /** The user's active sessions, newest first; `current` marks `currentSessionId`. */
    async listSessions(
      userId: string,
      options: { currentSessionId?: string | undefined } = {},
    ): Promise<SessionInfo[]> {
      requireId(userId, 'userId');
      const now = clock.now();
      const found = await store.listSessions(userId);
      return found
        .filter((session) => session.userId === userId && active(session, now))
        .sort((a, b) => b.createdAt - a.createdAt)
        .map((session) => infoOf(session, options.currentSessionId));
    },

    /**
     * Ends one of the user's own sessions. A session of another user, an unknown id and an
     * ended session are the same NOT_FOUND. Emits SESSION_REVOKED.
     */
    async revokeSession(
      userId: string,
      sessionId: string,
      context: RequestContext = {},
    ): Promise<void> {
      requireId(userId, 'userId');
      if (typeof sessionId !== 'string' || sessionId.length === 0 || sessionId.length > 1024) {
        throw notFound();
      }
      const session = await store.getSession(sessionId);
      if (session === null || session.userId !== userId || !active(session, clock.now())) {
        throw notFound();
      }
      await tokens.endSession(sessionId, 'revoked_by_user');
      audit.emit({
        event: 'SESSION_REVOKED',
        status: 'success',
        userId,
        context,
        metadata: { sessionId },
      });
    },

    /**
     * Ends every session of the user but `currentSessionId`; returns how many it ended. Emits
     * SESSIONS_REVOKED (`metadata.reason: 'revoke_others'`) when that is not 0.
     */
    async revokeOtherSessions(
      userId: string,
      currentSessionId: string,
      context: RequestContext = {},
    ): Promise<number> {
      requireId(userId, 'userId');
      requireId(currentSessionId, 'currentSessionId');
      return tokens.revokeUserSessions(userId, 'revoke_others', {
        exceptSessionId: currentSessionId,
        context,
      });
    },
  };
}

/**
 * The session manager returned by {@link createSessionManager}.
 *
 * @example
 * ```ts
 * const manager: SessionManager = createSessionManager(deps);
 * ```
 */
export type SessionManager = ReturnType<typeof createSessionManager>;
