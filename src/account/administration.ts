import type { AuditEmitter, RequestContext } from '../audit/emitter.js';
import { toPublicUser } from '../credentials/service.js';
import { AuthError } from '../errors.js';
import type { Clock } from '../runtime.js';
import type { PublicUser, UserRecord, UserStore } from '../stores/types.js';
import { isBanned } from './ban.js';

/** The longest ban reason, in characters. */
export const MAX_BAN_REASON_LENGTH = 500;
/** The page size of `listUsers` when none is given, and the largest one allowed. */
export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 100;
/** The longest search prefix (an email is at most 255 characters). */
const MAX_QUERY_LENGTH = 255;
/** The longest cursor accepted: the base64url of a 1 KiB email is far below it. */
const MAX_CURSOR_LENGTH = 2048;

/**
 * A ban in force, as an administrator sees it; times as ISO 8601 strings.
 *
 * @example
 * ```ts
 * const ban: UserBan = { reason: 'Spam', since: '2030-01-01T12:00:00.000Z', until: null }; // permanent
 * ```
 */
export interface UserBan {
  /** The reason given to `banUser`. */
  reason: string;
  /** When the ban was decided. */
  since: string;
  /** When it ends by itself, or null: permanent (until `unbanUser`). */
  until: string | null;
}

/**
 * A user as an administrator sees it (`listUsers`, `banUser`, `unbanUser`): the public user plus
 * the account's state; times as ISO 8601 strings, never a hash.
 *
 * @example
 * ```ts
 * const { users }: { users: AdminUserView[] } = await auth.listUsers({ limit: 20 });
 * for (const u of users) console.log(u.email, u.isActive, u.ban?.reason ?? 'not banned');
 * ```
 */
export interface AdminUserView extends PublicUser {
  /** False once `disableUser` was called. */
  isActive: boolean;
  createdAt: string;
  /** The last successful login, or null. */
  lastLoginAt: string | null;
  /** The ban in force now, or null (never banned, unbanned, or a ban that has ended). */
  ban: UserBan | null;
}

/**
 * What `banUser` is given.
 *
 * @example
 * ```ts
 * const input: BanUserInput = { reason: 'Chargeback fraud', until: new Date(Date.now() + 7 * 86_400_000) };
 * await auth.banUser(userId, input, { actorId: req.auth.userId });
 * ```
 */
export interface BanUserInput {
  /** Why, for administrators: 1 to 500 characters (trimmed), no control characters but tab and newline. */
  reason: string;
  /** When the ban ends by itself: a valid Date in the future. Absent or null: permanent. */
  until?: Date | null;
}

/**
 * What `listUsers` is asked for.
 *
 * @example
 * ```ts
 * const options: ListUsersOptions = { limit: 20, query: 'ada', cursor: req.query.cursor };
 * const { users, nextCursor } = await auth.listUsers(options);
 * ```
 */
export interface ListUsersOptions {
  /** The `nextCursor` of the previous page; absent: the first page. */
  cursor?: string;
  /** Users per page, an integer from 1 to 100. @default 50 */
  limit?: number;
  /** Only users whose email starts with this (case-insensitive; the name is not searched). */
  query?: string;
}

/**
 * One page of `listUsers`, in ascending order of email.
 *
 * @example
 * ```ts
 * let page: UserListResult = await auth.listUsers();
 * while (page.nextCursor !== null) page = await auth.listUsers({ cursor: page.nextCursor });
 * ```
 */
export interface UserListResult {
  users: AdminUserView[];
  /** An opaque string to ask for the next page with, or null: this was the last one. */
  nextCursor: string | null;
}

/** What administration needs from createAuth. */
export interface AdministrationOptions {
  users: UserStore;
  audit: AuditEmitter;
  clock: Clock;
  /** Ends every session of the user (reason `banned`; emits SESSIONS_REVOKED). */
  revokeSessions: (userId: string, context: RequestContext) => Promise<number>;
}

/** The audit context of an operation: the request's, never the actor (that goes to metadata). */
function requestContext(context: RequestContext): RequestContext {
  return { ip: context.ip, userAgent: context.userAgent, requestId: context.requestId };
}

function invalid(field: string, message: string): AuthError {
  return new AuthError('VALIDATION_ERROR', message, { details: { field, reason: 'invalid' } });
}

function notFound(): AuthError {
  return new AuthError('NOT_FOUND', 'User not found.');
}

function iso(date: Date | null | undefined): string | null {
  return date == null ? null : date.toISOString();
}

/** The administrator's view of a user at `now`. */
export function toAdminUserView(user: UserRecord, now: number): AdminUserView {
  return {
    ...toPublicUser(user),
    isActive: user.isActive,
    createdAt: user.createdAt.toISOString(),
    lastLoginAt: iso(user.lastLoginAt),
    ban:
      isBanned(user, now) && user.bannedAt != null
        ? {
            reason: user.banReason ?? '',
            since: user.bannedAt.toISOString(),
            until: iso(user.bannedUntil),
          }
        : null,
  };
}

function requireReason(input: unknown): string {
  const reason = typeof input === 'string' ? input.trim() : '';
  if (
    reason.length === 0 ||
    reason.length > MAX_BAN_REASON_LENGTH ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    /[\u0000-\u0008\u000b-\u001f\u007f]|\p{Cs}/u.test(reason)
  ) {
    throw invalid(
      'reason',
      `A ban reason is required: 1 to ${MAX_BAN_REASON_LENGTH} characters, no control characters.`,
    );
  }
  return reason;
}

function requireUntil(input: unknown, now: number): Date | null {
  if (input === undefined || input === null) return null;
  if (!(input instanceof Date) || Number.isNaN(input.getTime()) || input.getTime() <= now) {
    throw invalid('until', 'The end of a ban must be a valid date in the future.');
  }
  return new Date(input.getTime());
}

function requireLimit(input: unknown): number {
  if (input === undefined) return DEFAULT_LIST_LIMIT;
  if (
    typeof input !== 'number' ||
    !Number.isInteger(input) ||
    input < 1 ||
    input > MAX_LIST_LIMIT
  ) {
    throw invalid('limit', `The page size must be an integer from 1 to ${MAX_LIST_LIMIT}.`);
  }
  return input;
}

/** The search prefix, normalised like an email; undefined for none (absent or blank). */
function requireQuery(input: unknown): string | undefined {
  if (input === undefined) return undefined;
  const query = typeof input === 'string' ? input.normalize('NFKC').trim().toLowerCase() : null;
  if (
    query === null ||
    query.length > MAX_QUERY_LENGTH ||
    // A lone surrogate (\p{Cs} in a u regex) is no character: PostgreSQL refuses it.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    /[\u0000-\u001f\u007f]|\p{Cs}/u.test(query)
  ) {
    throw invalid('query', `The search must be text of at most ${MAX_QUERY_LENGTH} characters.`);
  }
  return query === '' ? undefined : query;
}

/** The cursor handed to callers: the base64url of the store's cursor (the last email). */
function encodeCursor(storeCursor: string): string {
  return Buffer.from(storeCursor, 'utf8').toString('base64url');
}

/**
 * The store's cursor inside a caller's one. Anything this module did not make is refused with
 * VALIDATION_ERROR before the store is asked: not base64url, not the canonical encoding of
 * well-formed UTF-8, empty, or holding a control character.
 */
function decodeCursor(input: unknown): string | undefined {
  if (input === undefined) return undefined;
  const refuse = () => invalid('cursor', 'The cursor is invalid: start again from the first page.');
  if (
    typeof input !== 'string' ||
    input.length > MAX_CURSOR_LENGTH ||
    !/^[A-Za-z0-9_-]+$/.test(input)
  ) {
    throw refuse();
  }
  const decoded = Buffer.from(input, 'base64url').toString('utf8');
  if (
    decoded.length === 0 ||
    encodeCursor(decoded) !== input ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    /[\u0000-\u001f\u007f]|\p{Cs}/u.test(decoded)
  ) {
    throw refuse();
  }
  return decoded;
}

/**
 * Bans, unbans and the user listing of an administrator. A ban is three fields of the user
 * (`bannedAt`, `bannedUntil`, `banReason`) written in one store update; login reads them
 * (CredentialService), so a ban needs no other table and ends by itself at `bannedUntil`.
 */
export class Administration {
  readonly #o: AdministrationOptions;

  constructor(options: AdministrationOptions) {
    this.#o = options;
  }

  /**
   * Bans a user: stores the ban, emits USER_BANNED, then ends every session at once. Banning a
   * banned user replaces the ban (a new `since`, reason and end). A store that does not keep the
   * ban fields cannot enforce it: the sessions still end, then INVALID_CONFIG says so.
   */
  async ban(
    userId: string,
    input: BanUserInput,
    context: RequestContext & { actorId?: string } = {},
  ): Promise<AdminUserView> {
    const now = this.#o.clock.now();
    const reason = requireReason(input?.reason);
    const until = requireUntil(input?.until, now);
    if (typeof userId !== 'string') throw notFound();
    const request = requestContext(context);
    const banned = await this.#o.users.update(userId, {
      bannedAt: new Date(now),
      bannedUntil: until,
      banReason: reason,
    });
    if (!banned) throw notFound();
    if (banned.bannedAt == null) {
      await this.#o.revokeSessions(userId, request);
      throw new AuthError(
        'INVALID_CONFIG',
        'The user store did not keep the ban (bannedAt, bannedUntil, banReason): implement them in your UserStore (docs/custom-stores.md). The sessions were ended; the user can still log in.',
      );
    }
    this.#o.audit.emit({
      event: 'USER_BANNED',
      status: 'success',
      userId,
      context: request,
      metadata: {
        ...(context.actorId === undefined ? {} : { actorId: context.actorId }),
        reason,
        until: iso(until),
      },
    });
    await this.#o.revokeSessions(userId, request);
    return toAdminUserView(banned, now);
  }

  /**
   * Lifts a user's ban (an ended one too: its fields are cleared) and emits USER_UNBANNED. A user
   * with no ban recorded is left as is, without an event. NOT_FOUND for an unknown user.
   */
  async unban(
    userId: string,
    context: RequestContext & { actorId?: string } = {},
  ): Promise<AdminUserView> {
    if (typeof userId !== 'string') throw notFound();
    const before = await this.#o.users.findById(userId);
    if (!before) throw notFound();
    if (before.bannedAt == null) return toAdminUserView(before, this.#o.clock.now());
    const after = await this.#o.users.update(userId, {
      bannedAt: null,
      bannedUntil: null,
      banReason: null,
    });
    if (!after) throw notFound();
    const now = this.#o.clock.now();
    this.#o.audit.emit({
      event: 'USER_UNBANNED',
      status: 'success',
      userId,
      context: requestContext(context),
      metadata: {
        ...(context.actorId === undefined ? {} : { actorId: context.actorId }),
        // Whether the ban was still in force (false: it had ended by itself).
        wasInForce: isBanned(before, now),
      },
    });
    return toAdminUserView(after, now);
  }

  /** One page of users, ascending by email (keyset pagination; see UserStore.listUsers). */
  async list(options: ListUsersOptions = {}): Promise<UserListResult> {
    const limit = requireLimit(options?.limit);
    const query = requireQuery(options?.query);
    const cursor = decodeCursor(options?.cursor);
    const page = await this.#o.users.listUsers({
      limit,
      ...(cursor === undefined ? {} : { cursor }),
      ...(query === undefined ? {} : { query }),
    });
    const now = this.#o.clock.now();
    return {
      users: page.users.slice(0, limit).map((user) => toAdminUserView(user, now)),
      nextCursor: page.nextCursor === null ? null : encodeCursor(page.nextCursor),
    };
  }
}
