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
  /** Last successful rotation (or creation), ms since epoch. */
  lastUsedAt: number;
  /** Set when the family was revoked (logout, reuse, password change...). */
  revokedAt: number | null;
  revokedReason: string | null;
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
  | { status: 'rotated'; session: SessionRecord }
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
   *   `lastUsedAt = now` and returns `rotated`.
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
 * verify its email address.
 *
 * @example
 * ```ts
 * const purpose: OneTimeTokenPurpose = 'password_reset';
 * ```
 */
export type OneTimeTokenPurpose = 'password_reset' | 'email_verification';

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
}
