import type { AuditEvent } from '../audit/events.js';

/**
 * The storage contracts of gatehouse. Each operation states its atomicity: an implementation
 * must provide it with a single statement, a transaction or a lock, never a read followed by
 * a separate write. `gatehouse/testing` checks every rule here against any implementation.
 */

/**
 * A stored user, as a {@link UserStore} returns it. `passwordHash` never leaves the core:
 * public results use {@link PublicUser}.
 *
 * @example
 * ```ts
 * const record: UserRecord = {
 *   id: 'b3f1…', email: 'ada@example.com', name: 'Ada', role: 'user',
 *   passwordHash: '$2b$10$…', isActive: true, lastLoginAt: null,
 *   createdAt: new Date(), updatedAt: new Date(),
 *   bannedAt: null, bannedUntil: null, banReason: null,
 * };
 * ```
 */
export interface UserRecord {
  id: string;
  /** Normalised (trimmed, lower-cased) email, unique. */
  email: string;
  name: string;
  role: string;
  passwordHash: string;
  isActive: boolean;
  /**
   * Whether the owner proved control of `email` (a verification or password-reset link).
   * False at registration. Stores written before this field existed may omit it: the core reads
   * a missing value as false.
   */
  emailVerified?: boolean;
  lastLoginAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  // The three ban fields are optional so that a custom store (and a record built by hand)
  // written before they existed keeps compiling; the built-in stores always fill them, the
  // core reads an absent one as null, and `auth.banUser` refuses to run on a store that does
  // not keep them (INVALID_CONFIG) rather than pretend the ban holds.
  /**
   * When the current ban was decided, or null: not banned. The account is banned while
   * `bannedAt !== null && (bannedUntil === null || bannedUntil > now)`.
   */
  bannedAt?: Date | null;
  /** When the ban ends by itself; null with `bannedAt` set: a permanent ban. */
  bannedUntil?: Date | null;
  /** Why the account was banned (1 to 500 characters, for administrators), or null. */
  banReason?: string | null;
}

/**
 * A user as gatehouse returns it to callers (and the contract's `user` object): never a hash.
 *
 * @example
 * ```ts
 * const user: PublicUser = await auth.getUser(req.auth.userId);
 * res.json({ success: true, user }); // { id, email, name, role, emailVerified }
 * ```
 */
export interface PublicUser {
  id: string;
  email: string;
  name: string;
  role: string;
  /** Whether the owner proved control of `email` (false when the store does not say). */
  emailVerified: boolean;
}

/**
 * Fields of a new user, as the core hands them to {@link UserStore.create}: the email already
 * normalised, the password already hashed.
 *
 * @example
 * ```ts
 * await users.create({ email: 'ada@example.com', name: 'Ada', role: 'user', passwordHash });
 * ```
 */
export interface NewUser {
  email: string;
  name: string;
  role: string;
  passwordHash: string;
}

/**
 * Fields that can be changed on a user; omitted fields stay as they are.
 *
 * @example
 * ```ts
 * await users.update(id, { isActive: false } satisfies UserPatch);
 * ```
 */
export interface UserPatch {
  name?: string;
  role?: string;
  isActive?: boolean;
  emailVerified?: boolean;
  passwordHash?: string;
  lastLoginAt?: Date;
  /** Sets or (null) clears the ban; the core always writes the three ban fields together. */
  bannedAt?: Date | null;
  bannedUntil?: Date | null;
  banReason?: string | null;
}

/**
 * Persists users.
 *
 * @example
 * ```ts
 * import { MemoryUserStore } from 'gatehouse';
 * const users: UserStore = new MemoryUserStore();
 * ```
 */
export interface UserStore {
  /** Returns the user with this normalised email, or null. */
  findByEmail(email: string): Promise<UserRecord | null>;
  /** Returns the user with this id, or null (also for an id that is not well-formed). */
  findById(id: string): Promise<UserRecord | null>;
  /**
   * Creates a user and returns it with its generated id and timestamps.
   * Atomicity: of concurrent creates with the same email exactly one succeeds; every other
   * rejects with `AuthError('EMAIL_TAKEN')` (a unique constraint, not a prior lookup).
   */
  create(user: NewUser): Promise<UserRecord>;
  /**
   * Applies a patch and returns the updated user, or null when no such user exists.
   * Atomicity: a single update; `updatedAt` is set by the store.
   */
  update(id: string, patch: UserPatch): Promise<UserRecord | null>;
  /**
   * Replaces the password hash only if the stored one still equals `expectedHash`
   * (compare-and-set, so a rehash-on-login cannot overwrite a concurrent password change).
   * Returns whether the hash was replaced.
   */
  replacePasswordHash(id: string, expectedHash: string, newHash: string): Promise<boolean>;
  /** Deletes a user; returns whether one existed. */
  delete(id: string): Promise<boolean>;
  /**
   * One page of users for an administrator, in ascending order of `email` compared by code
   * point (the order of UTF-8 bytes; PostgreSQL: `lower(email) COLLATE "C"`), read with keyset
   * pagination: never an offset, so a page deep in a large table costs what the first one does.
   *
   * - `cursor`: absent for the first page; otherwise the `nextCursor` of the previous page (the
   *   email of its last user, in clear: the core makes it opaque for its callers and checks what
   *   they send back). The page holds the users whose email is greater than it.
   * - `limit`: 1 to 100 (the core checks it); the page holds at most that many users.
   * - `query`: absent, or a normalised (lower-cased) prefix: only users whose email starts with
   *   it, compared case-insensitively. The name is not searched (it cannot share the email's
   *   index).
   * - `nextCursor`: the email of the page's last user when more users follow it, else null.
   *
   * Consistency: a user that exists for the whole walk appears exactly once; one created or
   * deleted during it may or may not appear. A plain read.
   */
  listUsers(query: UserListQuery): Promise<UserListPage>;
}

/**
 * What {@link UserStore.listUsers} is asked for.
 *
 * @example
 * ```ts
 * const query: UserListQuery = { limit: 50, query: 'ada', cursor: 'ada.byron@example.com' };
 * const { users, nextCursor } = await store.listUsers(query);
 * ```
 */
export interface UserListQuery {
  /** The previous page's `nextCursor` (the email of its last user); absent: the first page. */
  cursor?: string;
  /** Most users on the page, 1 to 100. */
  limit: number;
  /** A lower-cased prefix of the email; absent: every user. */
  query?: string;
}

/**
 * One page of {@link UserStore.listUsers}.
 *
 * @example
 * ```ts
 * let page: UserListPage = await store.listUsers({ limit: 100 });
 * while (page.nextCursor !== null) page = await store.listUsers({ limit: 100, cursor: page.nextCursor });
 * ```
 */
export interface UserListPage {
  users: UserRecord[];
  /** The email of the last user when more follow, else null. */
  nextCursor: string | null;
}

/**
 * The lockout rule applied by an {@link AttemptStore}; all durations in milliseconds. The core
 * builds it from `createAuth({ lockout })` and the clock on every call.
 *
 * @example
 * ```ts
 * const rule: LockoutRule = {
 *   now: Date.now(), maxAttempts: 5, windowMs: 15 * 60_000,
 *   lockMs: 60_000, backoffFactor: 2, maxLockMs: 3_600_000,
 * };
 * const reservation = await attempts.reserve('login:6yQv1N0uTgx3...', rule);
 * ```
 */
export interface LockoutRule {
  /** The current time (ms since epoch), from the injected clock. */
  now: number;
  /** Failures allowed within the window before the identifier locks. */
  maxAttempts: number;
  /** Failures older than this (counted from the first failure of the window) are forgotten. */
  windowMs: number;
  /** Duration of the first lockout. */
  lockMs: number;
  /** Each further lockout without a success in between multiplies the duration by this (1 = off). */
  backoffFactor: number;
  /** Upper bound of a lockout's duration (never below `lockMs`: createAuth refuses that). */
  maxLockMs: number;
}

/**
 * The outcome of {@link AttemptStore.reserve}. A refusal says whether this very call took the
 * lock (`lockedNow: true`, exactly one caller per lock) or found the key already locked.
 *
 * @example
 * ```ts
 * const reservation: AttemptReservation = await attempts.reserve(key, rule);
 * if (!reservation.allowed) {
 *   if (reservation.lockedNow) audit.emit({ event: 'ACCOUNT_LOCKED', status: 'failure' });
 *   throw new AuthError('ACCOUNT_LOCKED', undefined, {
 *     retryAfter: Math.ceil((reservation.lockedUntil - rule.now) / 1000),
 *   });
 * }
 * ```
 */
export type AttemptReservation =
  | { allowed: true; attempts: number }
  | { allowed: false; lockedUntil: number; lockedNow: boolean };

/**
 * Lockout counters per login identifier. The core passes keys of the form
 * `login:<base64url HMAC-SHA256>` (a keyed hash of the normalised identifier, see the
 * `identifierKey` option), never the text someone typed, so a store holds no email addresses.
 *
 * Lifecycle: `reserve` before the password check, then `reset` on success or `recordFailure`
 * on failure. A reservation counts as a failure until it is reset, so concurrent attempts can
 * never get more than `maxAttempts` password checks between two lockouts.
 *
 * State per key: a counter and its window start, the end of the current lock (if any) and the
 * number of lockouts since the last `reset` (which drives the backoff). One counting window
 * produces at most one lock: the lock is taken either by the reservation that exceeds
 * `maxAttempts` or by the failure that brings the counter to `maxAttempts`, and **exactly one
 * call is told it took the lock** (`reserve` with `lockedNow: true`, or `recordFailure`
 * returning the lock's end), however many callers race on the key, from however many
 * processes. The core emits one `ACCOUNT_LOCKED` audit event per lock from that answer.
 *
 * @example
 * ```ts
 * import { createAuth, MemoryAttemptStore } from 'gatehouse';
 * const attempts: AttemptStore = new MemoryAttemptStore();
 * const auth = createAuth({ stores: { attempts } });
 * ```
 */
export interface AttemptStore {
  /**
   * Reserves one attempt. Atomically (one step for concurrent callers on the same key):
   * - if the key is locked (`lockedUntil > now`): returns
   *   `{ allowed: false, lockedUntil, lockedNow: false }`;
   * - if a lock has ended or the window (`windowStart + windowMs <= now`) has passed: the
   *   counter restarts at 0 with `windowStart = now` and no lock (the lockout count is kept);
   * - increments the counter; if it now exceeds `maxAttempts`, locks the key for
   *   `min(maxLockMs, lockMs * backoffFactor ** lockouts)`, increments `lockouts` and returns
   *   `{ allowed: false, lockedUntil, lockedNow: true }`; otherwise returns
   *   `{ allowed: true, attempts }`.
   *
   * Of any number of concurrent calls on one key, at most one gets `lockedNow: true` per lock.
   */
  reserve(key: string, rule: LockoutRule): Promise<AttemptReservation>;
  /**
   * Records that the reserved attempt failed. Atomically: if the key has not been locked in
   * its current window (no lock since the counter last restarted) and the counter has reached
   * `maxAttempts`, locks it as `reserve` would and returns the lock's end. In every other case
   * (below the threshold, already locked, a lock that has already ended, an unknown key)
   * returns null and changes nothing.
   *
   * Returning a time means "this call took the lock": of any number of concurrent calls on one
   * key, only the one that locked it gets a time, and never one when a `reserve` took the lock.
   */
  recordFailure(key: string, rule: LockoutRule): Promise<number | null>;
  /** Forgets the key entirely (counter, lock and lockout count) after a successful login. */
  reset(key: string): Promise<void>;
  /**
   * Reads a key's state without changing it (the data export; an operator's question "is this
   * account locked?"), or null when the store holds nothing for the key. A plain read: no
   * counter restarts, no lock is taken. Normalised so that every store answers alike:
   * `lockedUntil` is the end of a lock still running at `now`, else null; `attempts` and
   * `windowStart` are those of the counting window the store holds, `attempts` 0 once a lock has
   * been taken in it (a lock replaces the count: the counter restarts after it). Whether that
   * window is still open depends on the rule's `windowMs`, which the caller knows.
   */
  inspect(key: string, now: number): Promise<AttemptState | null>;
}

/**
 * What {@link AttemptStore.inspect} reads of one key; times in ms since the epoch.
 *
 * @example
 * ```ts
 * const state: AttemptState | null = await attempts.inspect(key, Date.now());
 * if (state?.lockedUntil != null) console.log('locked until', new Date(state.lockedUntil));
 * ```
 */
export interface AttemptState {
  /** Attempts counted in the stored window (0 when that window ended in a lock). */
  attempts: number;
  /** Start of the stored counting window. */
  windowStart: number;
  /** End of the lock running at `now`, or null. */
  lockedUntil: number | null;
  /** Lockouts since the last successful login (drives the progressive lock). */
  lockouts: number;
}

/**
 * One refresh token's family (a login session); times in ms since the epoch.
 *
 * @example
 * ```ts
 * const session: SessionRecord | null = await tokens.getSession(principal.sessionId);
 * if (session?.revokedAt != null) console.log('ended:', session.revokedReason);
 * ```
 */
export interface SessionRecord {
  /** The family / session id, carried as `sid` in access tokens. */
  id: string;
  userId: string;
  createdAt: number;
  /** Absolute end of the family, ms since epoch. */
  expiresAt: number;
  /**
   * Last use, ms since epoch: creation, then every successful rotation and every
   * {@link TokenStore.touchSession} (an authenticated request of the session, written at most
   * once a minute). The idle rule (`refreshIdleTtl`) counts from it, so any use keeps a
   * session alive, not only a refresh.
   */
  lastUsedAt: number;
  /** Set when the family was revoked (logout, reuse, password change...). */
  revokedAt: number | null;
  revokedReason: string | null;
  // The three device fields are optional so that a custom store (and a record built by hand)
  // written before they existed keeps compiling; the built-in stores always fill them, and
  // the core reads an absent one as null.
  /** The client's IP at sign-in (as the adapter resolved it), or null when unknown. */
  ip?: string | null;
  /** The client's `User-Agent` at sign-in, at most 512 characters, or null. */
  userAgent?: string | null;
  /** The device label given at login (`deviceLabel`, 1–100 printable characters), or null. */
  label?: string | null;
}

/**
 * The outcome of {@link TokenStore.rotate}.
 *
 * @example
 * ```ts
 * const result: RotationResult = await tokens.rotate(oldHash, newHash, { now, idleMs });
 * if (result.status === 'reused') console.warn('refresh token reuse in', result.session.id);
 * ```
 */
export type RotationResult =
  | {
      status: 'rotated';
      session: SessionRecord;
      /**
       * True when the presented token was the immediate predecessor of the current one,
       * accepted once inside `reuseGraceMs` (see {@link TokenStore.rotate}); absent or false
       * for an ordinary rotation.
       */
      graced?: boolean;
    }
  | { status: 'reused'; session: SessionRecord }
  | { status: 'revoked'; session: SessionRecord }
  | { status: 'expired'; session: SessionRecord }
  | { status: 'unknown' };

/**
 * Parameters of a rotation; times in ms since the epoch, durations in ms.
 *
 * @example
 * ```ts
 * const rule: RotationRule = { now: Date.now(), idleMs: 30 * 86_400_000 };
 * ```
 */
export interface RotationRule {
  now: number;
  /** A family idle for longer than this (since `lastUsedAt`) is expired. */
  idleMs: number;
  /**
   * The refresh reuse grace (`tokens.reuseGrace`): how long after a rotation the token it used
   * up may be presented once more and still rotate the family's current token (a client that
   * lost the response retries). 0 or absent: off, any used token is reuse.
   */
  reuseGraceMs?: number;
}

/**
 * One revocation, as every instance sharing a {@link TokenStore} hears it through
 * {@link TokenStore.watchRevocations}: one session ended, every session of a user ended (some
 * may have been spared, e.g. the caller's own on a password change: re-read them), or `all`:
 * events may have been missed (the channel was (re)connected), so forget every cached state.
 * Carries ids only, never a token or a reason.
 *
 * @example
 * ```ts
 * const onRevoked = (event: RevocationEvent) => {
 *   if (event.kind === 'session') cache.delete(event.sessionId);
 *   else if (event.kind === 'user') dropUser(event.userId);
 *   else cache.clear();
 * };
 * ```
 */
export type RevocationEvent =
  | { kind: 'session'; sessionId: string }
  | { kind: 'user'; userId: string }
  | { kind: 'all' };

/**
 * What {@link TokenStore.watchRevocations} calls: `onRevoked` for each revocation, and
 * `onLiveChange` when the guarantee of delivery is lost (`false`) or restored (`true`).
 * Listeners must not throw (a throw is swallowed by the store) and should return quickly.
 *
 * @example
 * ```ts
 * const listener: RevocationListener = {
 *   onRevoked: (event) => console.log('revoked', event.kind),
 *   onLiveChange: (live) => console.log(live ? 'watch is live' : 'watch is down'),
 * };
 * const watch = tokens.watchRevocations?.(listener);
 * ```
 */
export interface RevocationListener {
  onRevoked(event: RevocationEvent): void;
  onLiveChange(live: boolean): void;
}

/**
 * A subscription made by {@link TokenStore.watchRevocations}.
 *
 * @example
 * ```ts
 * const watch: RevocationWatch = store.watchRevocations!({ onRevoked, onLiveChange });
 * if (!watch.live) console.log('not live yet: read the store on every request');
 * await watch.close(); // at shutdown: no further call, the connection (if any) released
 * ```
 */
export interface RevocationWatch {
  /**
   * True while every revocation committed anywhere (this process and every other instance)
   * is guaranteed to be delivered to the listener. While false, a cached state may be stale:
   * read the store.
   */
  readonly live: boolean;
  /** Stops delivery and releases what the watch holds (a connection). Idempotent. */
  close(): Promise<void>;
}

/**
 * Refresh-token families and session revocation. Refresh tokens are stored only as
 * SHA-256 hashes (hex); a store never sees a token in clear.
 *
 * @example
 * ```ts
 * import { createAuth, MemoryTokenStore } from 'gatehouse';
 * const tokens: TokenStore = new MemoryTokenStore();
 * const auth = createAuth({ stores: { tokens } });
 * ```
 */
export interface TokenStore {
  /** Creates a session with its first refresh-token hash. */
  createSession(session: SessionRecord, tokenHash: string): Promise<void>;
  /**
   * Rotates a refresh token. Atomically (exactly one of concurrent callers presenting the same
   * hash gets `rotated`):
   * - unknown hash: `unknown`;
   * - the family is revoked: `revoked`;
   * - the hash was already rotated: revokes the family with reason `reuse` and returns `reused`;
   * - the family has reached `expiresAt` or is idle past `idleMs` (`now >= expiresAt` or
   *   `now - lastUsedAt > idleMs`): `expired`, and nothing changes;
   * - otherwise marks the hash used, stores `newHash` as the family's current token, sets
   *   `lastUsedAt = now` and returns `rotated`. This starts a new *step* of the family: its
   *   grace (below) is unused again, and the presented hash becomes the current token's
   *   immediate predecessor.
   * Reuse grace (`rule.reuseGraceMs > 0`): a used hash that is the **immediate predecessor** of
   * the family's current token, presented while the grace of the current step is unused and
   * `now - rotatedAt <= reuseGraceMs` (`rotatedAt`: when the current step began), on a family
   * neither revoked nor expired, is not reuse: atomically the step's grace is marked used, the
   * current token becomes used, `newHash` becomes current, `lastUsedAt = now`, and the result is
   * `{ status: 'rotated', session, graced: true }`. The step does not change: its predecessor
   * presented again, or the token the graced rotation used up, is reuse. Any older hash, a
   * second use of the grace, or a presentation outside the window is reuse as above. Of
   * concurrent callers presenting the predecessor inside the window, exactly one is graced and
   * the others get `reused` (which revokes the family).
   * Every result but `unknown` carries a snapshot of the session after the operation.
   */
  rotate(oldHash: string, newHash: string, rule: RotationRule): Promise<RotationResult>;
  /** Returns a snapshot of the session (changing it changes nothing stored), or null. */
  getSession(sessionId: string): Promise<SessionRecord | null>;
  /**
   * Optional: the session whose family holds `tokenHash`, as its current token or as one
   * already rotated, or null. Non-null exactly when `rotate(tokenHash, …)` would not answer
   * `unknown` at the same moment (a never-stored, pruned or forgotten hash is null). A plain
   * read: it changes nothing (no `lastUsedAt`, no reuse detection) and returns a snapshot of
   * the session as committed, revoked or expired ones included.
   *
   * Consistency: it sees every `createSession`, `rotate` and `prune` that completed before it,
   * and takes no lock, so the session may change before a `rotate` that follows: `rotate` stays
   * the judge (revoked, reused, expired, unknown).
   *
   * Why it exists: with it, `refresh` reads everything it needs (the session's user) before it
   * rotates, so the rotation is its last database step: a failure before it (the database
   * going away) changes nothing, and the client's retry with the same refresh token works.
   * Without it, `refresh` rotates first and reads the user after; a failure between the two
   * leaves the token used, and the client's retry is taken for reuse (its family revoked).
   *
   * @example
   * ```ts
   * const hash = createHash('sha256').update(refreshToken, 'utf8').digest('hex');
   * const session = await tokens.findSessionByTokenHash?.(hash); // undefined: no lookup
   * if (session === null) console.log('never issued, or its family was pruned');
   * ```
   */
  findSessionByTokenHash?(tokenHash: string): Promise<SessionRecord | null>;
  /**
   * Revokes one session (idempotent; keeps the first revocation's time and reason; an unknown
   * id is a no-op).
   */
  revokeSession(sessionId: string, reason: string, now: number): Promise<void>;
  /**
   * Revokes every not-yet-revoked session of a user except `exceptSessionId`; returns how many
   * it revoked (already revoked sessions keep their first time and reason and are not counted).
   * Atomicity: a single update.
   */
  revokeUserSessions(
    userId: string,
    reason: string,
    now: number,
    exceptSessionId?: string,
  ): Promise<number>;
  /**
   * Deletes sessions that ended before `olderThan` (`revokedAt < olderThan` or
   * `expiresAt < olderThan`), with their token hashes; returns the count.
   */
  prune(olderThan: number): Promise<number>;
  /**
   * Every session of the user that is not revoked, newest first (`createdAt` descending),
   * expired ones included (the core leaves them out by its clock). Snapshots.
   *
   * @example
   * ```ts
   * const sessions = await tokens.listSessions('u1'); // [{ id, ip, userAgent, label, ... }]
   * ```
   */
  listSessions(userId: string): Promise<SessionRecord[]>;
  /**
   * Records a use of the session: sets `lastUsedAt = now` only if the session exists, is not
   * revoked and `lastUsedAt <= now - minIntervalMs`; otherwise changes nothing. Atomicity: one
   * conditional update, so instances touching at once write at most once per interval.
   *
   * @example
   * ```ts
   * await tokens.touchSession(principal.sessionId, Date.now(), 60_000);
   * ```
   */
  touchSession(sessionId: string, now: number, minIntervalMs: number): Promise<void>;
  /**
   * Deletes every session of the user, revoked or not, with all their token hashes (erasure:
   * the core revokes them first, so watchers hear it); returns how many sessions. Their tokens
   * are then `unknown`.
   *
   * @example
   * ```ts
   * await tokens.revokeUserSessions('u1', 'user_erased', Date.now());
   * const deleted = await tokens.deleteUserSessions('u1');
   * ```
   */
  deleteUserSessions(userId: string): Promise<number>;
  /**
   * Optional: delivers every revocation made through any instance sharing this store, so that a
   * process may cache session states and still honour a revocation made elsewhere at once.
   * Contract, for a store that implements it:
   * - every `revokeSession` that ends a session emits `{ kind: 'session', sessionId }`;
   *   revoking an already revoked or unknown session changes nothing and need not emit;
   * - every `revokeUserSessions` that ends at least one session emits `{ kind: 'user', userId }`;
   * - a `rotate` that detects reuse (and revokes the family) emits `{ kind: 'session' }`;
   * - an event is emitted only once the revocation is durable (after commit: a revocation rolled
   *   back notifies nobody) and before any reader could see it missing, from the listener's view;
   * - `live` is true only while delivery is guaranteed. When the channel drops it turns false
   *   (`onLiveChange(false)`); when it is back the store emits `{ kind: 'all' }` first, then
   *   turns live (`onLiveChange(true)`);
   * - several watches may be open at once; after `close()` a watch delivers nothing.
   * A store without it is read on every verify (unless `tokens.revocationCacheTtl` is set).
   *
   * @example
   * ```ts
   * const watch = tokens.watchRevocations?.({
   *   onRevoked: (event) => cache.forget(event),
   *   onLiveChange: (live) => (cacheEnabled = live),
   * });
   * process.on('SIGTERM', () => watch?.close());
   * ```
   */
  watchRevocations?(listener: RevocationListener): RevocationWatch;
}

/**
 * The result of one {@link RateLimitStore.hit}.
 *
 * @example
 * ```ts
 * const result: RateLimitResult = await store.hit('login:203.0.113.7', { now, windowMs: 60_000, limit: 5 });
 * if (!result.allowed) console.log('retry at', new Date(result.resetAt));
 * ```
 */
export interface RateLimitResult {
  allowed: boolean;
  /** Hits counted in the current window, including this one. */
  count: number;
  /** When the current window ends (ms since epoch). */
  resetAt: number;
}

/**
 * Fixed-window counters for rate limiting (keys are `<route>:<client ip>`).
 *
 * @example
 * ```ts
 * import { createAuth, MemoryRateLimitStore } from 'gatehouse';
 * const rateLimits: RateLimitStore = new MemoryRateLimitStore();
 * const auth = createAuth({ stores: { rateLimits } });
 * ```
 */
export interface RateLimitStore {
  /**
   * Counts one hit. Atomically: if the key's window has ended (or none exists) starts a new one
   * at `now` lasting `windowMs` with count 1; otherwise increments its count. The hit is
   * allowed when the count is at most `limit`.
   */
  hit(
    key: string,
    rule: { now: number; windowMs: number; limit: number },
  ): Promise<RateLimitResult>;
  /** Forgets a key. */
  reset(key: string): Promise<void>;
}

/**
 * What a one-time token proves: control of an account's mailbox, to reset its password or to
 * verify its email address; or (`mfa_challenge`) that a login passed the password and waits
 * for its second factor (or, for a role that requires one, for its enrolment). A store treats
 * every purpose alike (one live token per user and purpose).
 *
 * @example
 * ```ts
 * const purpose: OneTimeTokenPurpose = 'password_reset';
 * ```
 */
export type OneTimeTokenPurpose = 'password_reset' | 'email_verification' | 'mfa_challenge';

/**
 * A one-time token as a {@link OneTimeTokenStore} keeps it: only the SHA-256 of the token (the
 * token itself exists only in the mail that carries it); times in ms since the epoch.
 *
 * @example
 * ```ts
 * const record: OneTimeTokenRecord = {
 *   tokenHash: sha256Base64url(token), userId, purpose: 'password_reset',
 *   createdAt: now, expiresAt: now + 30 * 60_000,
 * };
 * ```
 */
export interface OneTimeTokenRecord {
  /** base64url SHA-256 of the token. */
  tokenHash: string;
  userId: string;
  purpose: OneTimeTokenPurpose;
  createdAt: number;
  expiresAt: number;
}

/**
 * One mail waiting in the outbox. `text` and `html` are rendered when the message is enqueued
 * (they may carry a one-time link: the store erases a message's content once it is delivered
 * or given up); times in ms since the epoch.
 *
 * @example
 * ```ts
 * const message: OutboxMessage = {
 *   id: 'c0ffee…', kind: 'password_reset', to: 'ada@example.com', subject: 'Reset your password',
 *   text: '…', html: '…', attempts: 0, nextAttemptAt: now, createdAt: now, expiresAt: now + 1_800_000,
 * };
 * ```
 */
export interface OutboxMessage {
  /** Unique id (a UUID), chosen by the core. */
  id: string;
  kind: MailKind;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Delivery attempts made so far. */
  attempts: number;
  /** Not claimed before this time (backoff). */
  nextAttemptAt: number;
  createdAt: number;
  /** Not worth delivering after this time (the link inside expired); null: no end. */
  expiresAt: number | null;
}

/**
 * The kinds of mail gatehouse sends.
 *
 * @example
 * ```ts
 * const kind: MailKind = 'email_verification';
 * ```
 */
export type MailKind = 'password_reset' | 'email_verification' | 'registration_notice';

/**
 * One-time tokens (password reset, email verification).
 *
 * @example
 * ```ts
 * import { MemoryOneTimeTokenStore } from 'gatehouse';
 * const oneTimeTokens: OneTimeTokenStore = new MemoryOneTimeTokenStore();
 * ```
 */
export interface OneTimeTokenStore {
  /**
   * Issues a token, and enqueues the mail that carries it in the same step. Atomically (one
   * transaction or statement): every earlier unconsumed token of the same user and purpose stops
   * working (superseded), the new record is stored, and `mail` (when given) is added to the
   * outbox of the same store set; either all of it happens or none.
   */
  issue(record: OneTimeTokenRecord, mail?: OutboxMessage): Promise<void>;
  /**
   * Consumes a token. Atomically (exactly one of concurrent callers presenting the same hash gets
   * the record): returns the record and makes the token unusable, only if it exists, has this
   * purpose, was neither consumed nor superseded, and `expiresAt > now`; otherwise null (one and
   * the same answer for unknown, used, superseded and expired).
   */
  consume(
    tokenHash: string,
    purpose: OneTimeTokenPurpose,
    now: number,
  ): Promise<OneTimeTokenRecord | null>;
  /**
   * Looks a token up without consuming it: the record when it exists, has this purpose, was
   * neither consumed nor superseded and `expiresAt > now`; otherwise null. Lets the core check a
   * new password against the account before `consume` burns the link; `consume` still decides.
   */
  find(
    tokenHash: string,
    purpose: OneTimeTokenPurpose,
    now: number,
  ): Promise<OneTimeTokenRecord | null>;
  /** Makes every unconsumed token of a user (of one purpose, or all) unusable; returns how many. */
  revokeUserTokens(userId: string, purpose?: OneTimeTokenPurpose): Promise<number>;
  /**
   * The user's pending tokens: neither consumed nor superseded (nor revoked), `expiresAt > now`;
   * oldest first. Snapshots (changing one changes nothing stored). For the data export, which
   * shows their purpose and times and never the hash.
   */
  listUserTokens(userId: string, now: number): Promise<OneTimeTokenRecord[]>;
  /**
   * Deletes every token of the user, whatever its state (pending, consumed, superseded,
   * expired); returns how many. For erasure: afterwards the store holds nothing keyed by the
   * user. Atomicity: a single delete.
   */
  deleteUserTokens(userId: string): Promise<number>;
  /** Deletes tokens that expired, were consumed or superseded before `olderThan`; returns how many. */
  prune(olderThan: number): Promise<number>;
}

/**
 * The mail outbox: messages are delivered off the request path by a worker, with retries.
 * Delivery is at-least-once: a worker that dies after sending but before `markDelivered` leaves
 * the message to be sent again when its lease ends.
 *
 * @example
 * ```ts
 * import { MemoryMailOutbox } from 'gatehouse';
 * const outbox: MailOutboxStore = new MemoryMailOutbox();
 * ```
 */
export interface MailOutboxStore {
  /** Adds a message (its id is unique; enqueuing an existing id is a no-op). */
  enqueue(message: OutboxMessage): Promise<void>;
  /**
   * Claims up to `limit` messages that are due (`nextAttemptAt <= now`, not delivered, not given
   * up, not leased by another claim), oldest first, and leases them until `now + leaseMs`.
   * Atomically: concurrent claims (several instances) never return the same message while its
   * lease runs (PostgreSQL: `FOR UPDATE SKIP LOCKED`). A message whose `expiresAt <= now` is given
   * up instead of returned. Returned messages carry `attempts` already incremented by one.
   */
  claim(now: number, limit: number, leaseMs: number): Promise<OutboxMessage[]>;
  /** Marks a claimed message delivered and erases its content (subject, text, html). */
  markDelivered(id: string, now: number): Promise<void>;
  /**
   * Records a failed attempt: with `retryAt`, the message is due again at that time (and its
   * lease ends); with `retryAt: null` it is given up and its content erased. `error` is a short
   * description of the cause (never the message content).
   */
  markFailed(
    id: string,
    failure: { retryAt: number | null; error: string; now: number },
  ): Promise<void>;
  /** How many messages wait for delivery (not delivered, not given up). */
  pending(): Promise<number>;
  /** Deletes delivered and given-up messages older than `olderThan`; returns how many. */
  prune(olderThan: number): Promise<number>;
  /**
   * Deletes every message to `email` (pending, leased, delivered or given up), the address
   * compared case-insensitively after trimming; returns how many. For erasure: the outbox keeps
   * no user id, only the address. A message being delivered while it is deleted may still go out
   * once (delivery is at-least-once); its `markDelivered` then changes nothing.
   * Atomicity: a single delete.
   */
  deleteForRecipient(email: string): Promise<number>;
}

/**
 * A queryable audit log: every audit event, kept so that a user's own events can be exported
 * and pseudonymised when the user is erased. Optional (`stores.auditLog`): when given, createAuth
 * writes every event to it, besides the `audit` sink. `PostgresAuditLog` (gatehouse/postgres)
 * and {@link MemoryAuditLog} implement it.
 *
 * @example
 * ```ts
 * import { createAuth, MemoryAuditLog } from 'gatehouse';
 * const auditLog: AuditLogStore = new MemoryAuditLog({ maxEvents: 100_000 });
 * const auth = createAuth({ stores: { auditLog } });
 * ```
 */
export interface AuditLogStore {
  /** Stores one event (a snapshot: changing the object afterwards changes nothing stored). */
  write(event: AuditEvent): Promise<void>;
  /**
   * The events whose `userId` is `userId`, newest first (by `timestamp`, then by write order),
   * at most `limit`. Each event as written (a store without a column of its own for `requestId`
   * may return it in `metadata`).
   */
  listForUser(userId: string, options: { limit: number }): Promise<AuditEvent[]>;
  /**
   * Pseudonymises every event of the user: `userId` becomes `pseudonym` and `metadata.emailHash`
   * is removed; with `options.emailHash`, the events without a `userId` whose
   * `metadata.emailHash` is that value (a failed login of the address while it was locked) lose
   * it too. Returns how many events changed. Atomicity: a single update (running it again finds
   * nothing left to change and returns 0).
   */
  pseudonymiseUser(
    userId: string,
    pseudonym: string,
    options?: { emailHash?: string },
  ): Promise<number>;
  /** Deletes the events that occurred before `olderThan` (ms since the epoch); returns how many. */
  prune(olderThan: number): Promise<number>;
}

// --- MFA (issue 18) ---

/**
 * Whether a TOTP factor is waiting for its first code (`pending`) or in use (`active`).
 *
 * @example
 * ```ts
 * const status: MfaFactorStatus = (await mfa.getFactor(userId))?.status ?? 'pending';
 * ```
 */
export type MfaFactorStatus = 'pending' | 'active';

/**
 * A user's TOTP factor as an {@link MfaStore} keeps it; times in ms since the epoch. The secret is
 * only ever stored sealed (AES-256-GCM, bound to the user id): `secretCiphertext` is opaque to
 * the store.
 *
 * @example
 * ```ts
 * const factor: MfaFactorRecord | null = await mfa.getFactor(userId);
 * if (factor?.status === 'active') console.log('enrolled on', new Date(factor.confirmedAt!));
 * ```
 */
export interface MfaFactorRecord {
  userId: string;
  /** The sealed secret (`v1.<keyId>.<iv>.<ciphertext>`), never the secret itself. */
  secretCiphertext: string;
  status: MfaFactorStatus;
  /** When this factor was saved (the start of the enrolment). */
  createdAt: number;
  /** When the first code confirmed it; null while pending. */
  confirmedAt: number | null;
  /** The TOTP step of the last accepted code (replays are refused); null while pending. */
  lastUsedStep: number | null;
}

/**
 * TOTP factors and recovery codes, one factor per user. Recovery codes are stored only as keyed
 * hashes and belong to the user's active factor: deleting the factor deletes them.
 *
 * Atomicity: every operation is one step for concurrent callers (a single statement, or a
 * synchronous step in memory), from any number of instances. The two that guard a login say
 * which caller wins: of concurrent `acceptStep` calls with one step, and of concurrent
 * `consumeRecoveryCode` calls with one hash, **exactly one** returns true.
 *
 * @example
 * ```ts
 * import { createAuth, MemoryMfaStore } from 'gatehouse';
 * const mfa: MfaStore = new MemoryMfaStore();
 * const auth = createAuth({ stores: { mfa } });
 * ```
 */
export interface MfaStore {
  /** The user's factor, pending or active, or null. A snapshot: changing it changes nothing. */
  getFactor(userId: string): Promise<MfaFactorRecord | null>;
  /**
   * Starts an enrolment. Atomically: when the user has no factor or a pending one, stores a
   * pending factor with this sealed secret (`createdAt = now`), replacing the pending one, and
   * returns true; when the user has an active factor, changes nothing and returns false.
   */
  savePendingFactor(userId: string, secretCiphertext: string, now: number): Promise<boolean>;
  /**
   * Confirms an enrolment. Atomically, only if the user's factor is pending (and, when
   * `expectedCiphertext` is given, its `secretCiphertext` still equals it): the factor becomes
   * active with `confirmedAt = now` and `lastUsedStep = step`, and the user's recovery codes are
   * replaced by `recoveryCodeHashes` (all unused); returns true. Otherwise changes nothing and
   * returns false. Of concurrent activations exactly one returns true.
   */
  activateFactor(
    userId: string,
    step: number,
    recoveryCodeHashes: readonly string[],
    now: number,
    expectedCiphertext?: string,
  ): Promise<boolean>;
  /**
   * Accepts a TOTP step once. Atomically: only if the factor is active and `step >
   * lastUsedStep`, sets `lastUsedStep = step` and returns true; otherwise false. Of concurrent
   * calls with one step (one code replayed at once) exactly one returns true, and a step at or
   * below the last accepted one never does.
   */
  acceptStep(userId: string, step: number): Promise<boolean>;
  /**
   * Uses a recovery code. Atomically: only if the factor is active and one of its codes has this
   * hash and is unused, marks that code used (at `now`) and returns true; otherwise false. Of
   * concurrent calls with one hash exactly one returns true.
   */
  consumeRecoveryCode(userId: string, codeHash: string, now: number): Promise<boolean>;
  /**
   * Replaces the recovery codes. Atomically: only if the factor is active, every earlier code
   * (used or not) stops working and `codeHashes` become the unused set; returns true. Without an
   * active factor changes nothing and returns false.
   */
  replaceRecoveryCodes(
    userId: string,
    codeHashes: readonly string[],
    now: number,
  ): Promise<boolean>;
  /** How many unused recovery codes the user's active factor has (0 without one). */
  recoveryCodesLeft(userId: string): Promise<number>;
  /** Deletes the user's factor (pending or active) with its recovery codes; returns whether one existed. */
  deleteFactor(userId: string): Promise<boolean>;
  /**
   * Replaces the sealed secret (re-encryption under a newer key; the secret itself is the same).
   * Atomically, only if the user has a factor (and, when `expectedCiphertext` is given, its
   * `secretCiphertext` still equals it, so a re-encryption never overwrites a newer enrolment);
   * returns whether it was replaced. Nothing else changes.
   */
  updateSecret(userId: string, ciphertext: string, expectedCiphertext?: string): Promise<boolean>;
}
