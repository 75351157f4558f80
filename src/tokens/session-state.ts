import { LRUCache } from 'lru-cache';
import type { Clock } from '../runtime.js';
import type { SessionRecord, TokenStore } from '../stores/types.js';

/** Sessions whose state one process may cache when a revocation cache TTL is set. */
export const REVOCATION_CACHE_MAX_ENTRIES = 10_000;

interface CachedSession {
  session: SessionRecord | null;
}

/**
 * Reads a session's revocation state for the verify path. With `ttlMs` 0 every read goes to the
 * store, so a revocation is seen by the next verify. With `ttlMs` > 0 (for stores shared by
 * several instances) a state may be reused for at most `ttlMs`, measured on the injected clock;
 * revocations made through this process drop the cached state at once.
 *
 * @example
 * ```ts
 * const sessions = new SessionStateReader({ store, clock, ttlMs: 5_000 });
 * const session = await sessions.get(principal.sessionId);
 * ```
 */
export class SessionStateReader {
  readonly #store: TokenStore;
  readonly #cache: LRUCache<string, CachedSession> | null;

  constructor({ store, clock, ttlMs }: { store: TokenStore; clock: Clock; ttlMs: number }) {
    this.#store = store;
    this.#cache =
      ttlMs > 0
        ? new LRUCache<string, CachedSession>({
            max: REVOCATION_CACHE_MAX_ENTRIES,
            ttl: ttlMs,
            // Read the injected clock on every check (the default caches it for 1 ms of real time).
            ttlResolution: 0,
            perf: { now: () => clock.now() },
          })
        : null;
  }

  /** The session's state, from the store or (when enabled) from a cached read within the TTL. */
  get(sessionId: string): Promise<SessionRecord | null> | SessionRecord | null {
    const cache = this.#cache;
    if (cache === null) return this.#store.getSession(sessionId);
    const cached = cache.get(sessionId);
    if (cached !== undefined) return cached.session;
    return this.#store.getSession(sessionId).then((session) => {
      cache.set(sessionId, { session });
      return session;
    });
  }

  /** Drops the cached state of one session (after this process revoked it). */
  forgetSession(sessionId: string): void {
    this.#cache?.delete(sessionId);
  }

  /** Drops the cached state of every session of a user (after this process revoked them). */
  forgetUser(userId: string): void {
    const cache = this.#cache;
    if (cache === null) return;
    const ids: string[] = [];
    for (const [id, entry] of cache.entries()) {
      if (entry.session?.userId === userId) ids.push(id);
    }
    for (const id of ids) cache.delete(id);
  }
}
