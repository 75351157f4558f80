import { LRUCache } from 'lru-cache';
import { type Clock, type Logger, silentLogger } from '../runtime.js';
import type {
  RevocationEvent,
  RevocationWatch,
  SessionRecord,
  TokenStore,
} from '../stores/types.js';

/** Sessions whose state one process may cache. */
export const REVOCATION_CACHE_MAX_ENTRIES = 10_000;

/**
 * The revocation cache TTL when `tokens.revocationCacheTtl` is not set and the token store has
 * a revocation watch (`TokenStore.watchRevocations`): states are cached only while the watch is
 * live, so this bounds what a lost notification could cost, not the normal delay.
 */
export const WATCHED_REVOCATION_CACHE_TTL_MS = 30_000;

interface CachedSession {
  session: SessionRecord | null;
  /** The clock time up to which this state may be served (stored at + ttl). */
  until: number;
}

/**
 * Reads a session's revocation state for the verify path, from a per-process cache when that
 * is safe:
 * - `ttlMs` 0: every read goes to the store.
 * - a store with a revocation watch (`watchRevocations`): while the watch is live, a state is
 *   cached for at most `ttlMs` and dropped as soon as a revocation event names it (or its user,
 *   or `all`). While the watch is down, every read goes to the store (never a stale state
 *   served silently): one warning when it goes down, one info line when it is back.
 * - a store without a watch and `ttlMs` > 0: a state may be reused for at most `ttlMs`; only
 *   revocations made through this process drop it at once.
 * A hit is returned synchronously (not a promise), checked against the caller's `now` when it
 * passes one (the verify path's own clock reading: one clock read per request, not two).
 * `ttlMs` undefined takes the default rule:
 * {@link WATCHED_REVOCATION_CACHE_TTL_MS} with a watch, 0 without. The watch is opened at the
 * first read and closed by {@link SessionStateReader.close}.
 *
 * @example
 * ```ts
 * const sessions = new SessionStateReader({ store, clock, ttlMs: undefined, logger });
 * const state = sessions.get(principal.sessionId);
 * const session = state instanceof Promise ? await state : state;
 * await sessions.close(); // at shutdown
 * ```
 */
export class SessionStateReader {
  readonly #store: TokenStore;
  readonly #clock: Clock;
  readonly #ttl: number;
  readonly #logger: Logger;
  readonly #cache: LRUCache<string, CachedSession> | null;
  /** Whether the cache depends on the store's watch (a store with `watchRevocations`). */
  readonly #watched: boolean;
  #watch: RevocationWatch | null = null;
  #live = false;
  #closed = false;
  #warnedDown = false;
  /** Bumped by every event: a read that started before an event is not cached. */
  #epoch = 0;

  constructor({
    store,
    clock,
    ttlMs,
    logger = silentLogger,
  }: {
    store: TokenStore;
    clock: Clock;
    ttlMs: number | undefined;
    logger?: Logger;
  }) {
    this.#store = store;
    this.#clock = clock;
    this.#logger = logger;
    const watchable = typeof store.watchRevocations === 'function';
    const ttl = ttlMs ?? (watchable ? WATCHED_REVOCATION_CACHE_TTL_MS : 0);
    this.#ttl = ttl;
    this.#watched = watchable && ttl > 0;
    // The TTL is kept in the entry (checked against the injected clock, or the caller's reading
    // of it), not by lru-cache: its TTL would read the clock a second time on every hit.
    this.#cache =
      ttl > 0 ? new LRUCache<string, CachedSession>({ max: REVOCATION_CACHE_MAX_ENTRIES }) : null;
  }

  /** Whether a cached state may be served now (for tests and metrics). */
  get caching(): boolean {
    if (this.#cache === null || this.#closed) return false;
    return this.#watched ? this.#live : true;
  }

  /**
   * The session's state: synchronously from the cache when it may be trusted, otherwise a
   * promise of the store's answer. `now`: the injected clock's current time when the caller
   * has just read it (a cached state is served while `now` <= the time it was cached + TTL).
   */
  get(sessionId: string, now?: number): Promise<SessionRecord | null> | SessionRecord | null {
    const cache = this.#cache;
    if (cache === null) return this.#store.getSession(sessionId);
    if (this.#watched) {
      if (this.#watch === null) this.#openWatch();
      if (!this.#live) return this.#store.getSession(sessionId);
    } else if (this.#closed) {
      return this.#store.getSession(sessionId);
    }
    const cached = cache.get(sessionId);
    if (cached !== undefined) {
      if ((now ?? this.#clock.now()) <= cached.until) return cached.session;
      cache.delete(sessionId);
    }
    const epoch = this.#epoch;
    return this.#store.getSession(sessionId).then((session) => {
      // An event (or a change of the watch) while the read ran may concern this very state.
      if (this.#epoch === epoch && this.caching) {
        cache.set(sessionId, { session, until: this.#clock.now() + this.#ttl });
      }
      return session;
    });
  }

  /** Drops the cached state of one session (after this process revoked it). */
  forgetSession(sessionId: string): void {
    this.#epoch++;
    this.#cache?.delete(sessionId);
  }

  /** Drops the cached state of every session of a user (after this process revoked them). */
  forgetUser(userId: string): void {
    this.#epoch++;
    const cache = this.#cache;
    if (cache === null) return;
    const ids: string[] = [];
    for (const [id, entry] of cache.entries()) {
      if (entry.session?.userId === userId) ids.push(id);
    }
    for (const id of ids) cache.delete(id);
  }

  /** Closes the store's watch (if opened) and stops caching. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#live = false;
    this.#epoch++;
    this.#cache?.clear();
    const watch = this.#watch;
    if (watch !== null) await watch.close();
  }

  #openWatch(): void {
    if (this.#closed) return;
    const watch = this.#store.watchRevocations!({
      onRevoked: (event) => this.#onRevoked(event),
      onLiveChange: (live) => this.#onLiveChange(live),
    });
    this.#watch = watch;
    if (watch.live && !this.#closed) this.#live = true;
  }

  #onRevoked(event: RevocationEvent): void {
    this.#epoch++;
    if (event.kind === 'session') this.#cache?.delete(event.sessionId);
    else if (event.kind === 'user') this.forgetUser(event.userId);
    else this.#cache?.clear();
  }

  #onLiveChange(live: boolean): void {
    this.#epoch++;
    if (this.#closed) return;
    if (!live) {
      this.#live = false;
      this.#cache?.clear();
      if (!this.#warnedDown) {
        this.#warnedDown = true;
        this.#logger.warn(
          'revocation watch is down: reading session state from the token store on every request until it is back',
        );
      }
      return;
    }
    this.#live = true;
    if (this.#warnedDown) {
      this.#warnedDown = false;
      this.#logger.info('revocation watch is back: caching session state again');
    }
  }
}
