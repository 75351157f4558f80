import type {
  RevocationEvent,
  RevocationListener,
  RevocationWatch,
  RotationResult,
  RotationRule,
  SessionRecord,
  TokenStore,
} from './types.js';

/**
 * Options of {@link MemoryTokenStore}.
 *
 * @example
 * ```ts
 * const options: MemoryTokenStoreOptions = { maxSessions: 10_000, maxUsedTokens: 100_000 };
 * createAuth({ stores: { tokens: new MemoryTokenStore(options) } });
 * ```
 */
export interface MemoryTokenStoreOptions {
  /**
   * Sessions kept. Past this, the oldest session is dropped, which ends it (its refresh token
   * becomes unknown and its access tokens are refused).
   * @default 100000
   */
  maxSessions?: number;
  /**
   * Used (rotated) refresh-token hashes remembered for reuse detection, over all sessions.
   * Past this, the oldest are forgotten: presenting one is then refused as unknown, without
   * revoking its family.
   * @default 1000000
   */
  maxUsedTokens?: number;
}

interface StoredSession {
  record: SessionRecord;
  currentHash: string;
  /** The hash the current one replaced (the current step's immediate predecessor), or null. */
  previousHash: string | null;
  /** When the current step began (the last ordinary rotation), ms since the epoch. */
  rotatedAt: number;
  /** Whether the current step's reuse grace was used. */
  graceUsed: boolean;
}

function snapshot(record: SessionRecord): SessionRecord {
  return { ...record };
}

/**
 * The reference {@link TokenStore}: in process memory, bounded, for tests, development and
 * single-instance apps. Each operation runs synchronously inside its promise, so it is atomic.
 * Revocations are visible to the next `getSession` at once, and announced to every
 * {@link MemoryTokenStore.watchRevocations | watch} before the revoking call resolves (in process:
 * the watch is always live). Memory grows with use only (nothing is allocated up front).
 *
 * @example
 * ```ts
 * import { createAuth, MemoryTokenStore } from 'gatehouse';
 * const auth = createAuth({ stores: { tokens: new MemoryTokenStore({ maxSessions: 10_000 }) } });
 * ```
 */
export class MemoryTokenStore implements TokenStore {
  /** Session id -> session, in creation order (the first is the oldest). */
  readonly #sessions = new Map<string, StoredSession>();
  /** Current (not yet rotated) hash -> session id. */
  readonly #current = new Map<string, string>();
  /** Rotated hash -> session id, in rotation order. */
  readonly #used = new Map<string, string>();
  readonly #maxSessions: number;
  readonly #maxUsedTokens: number;
  readonly #listeners = new Set<RevocationListener>();

  constructor(options: MemoryTokenStoreOptions = {}) {
    const maxSessions = options.maxSessions ?? 100_000;
    const maxUsedTokens = options.maxUsedTokens ?? 1_000_000;
    for (const [name, value] of [
      ['maxSessions', maxSessions],
      ['maxUsedTokens', maxUsedTokens],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new TypeError(`MemoryTokenStore: ${name} must be a positive integer`);
      }
    }
    this.#maxSessions = maxSessions;
    this.#maxUsedTokens = maxUsedTokens;
  }

  async createSession(session: SessionRecord, tokenHash: string): Promise<void> {
    this.#deleteSession(session.id);
    this.#sessions.set(session.id, {
      record: {
        ...session,
        ip: session.ip ?? null,
        userAgent: session.userAgent ?? null,
        label: session.label ?? null,
      },
      currentHash: tokenHash,
      previousHash: null,
      rotatedAt: session.createdAt,
      graceUsed: false,
    });
    this.#current.set(tokenHash, session.id);
    if (this.#sessions.size > this.#maxSessions) {
      this.#deleteSession(this.#sessions.keys().next().value!);
    }
  }

  #deleteSession(sessionId: string): void {
    const stored = this.#sessions.get(sessionId);
    if (!stored) return;
    this.#sessions.delete(sessionId);
    if (this.#current.get(stored.currentHash) === sessionId)
      this.#current.delete(stored.currentHash);
  }

  async rotate(oldHash: string, newHash: string, rule: RotationRule): Promise<RotationResult> {
    const currentOf = this.#current.get(oldHash);
    if (currentOf !== undefined) {
      const stored = this.#sessions.get(currentOf);
      if (!stored) {
        this.#current.delete(oldHash);
        return { status: 'unknown' };
      }
      const session = stored.record;
      if (session.revokedAt !== null) return { status: 'revoked', session: snapshot(session) };
      if (rule.now >= session.expiresAt || rule.now - session.lastUsedAt > rule.idleMs) {
        return { status: 'expired', session: snapshot(session) };
      }
      this.#replaceCurrent(stored, newHash, rule.now);
      // A new step: the presented hash is the current one's immediate predecessor.
      stored.previousHash = oldHash;
      stored.rotatedAt = rule.now;
      stored.graceUsed = false;
      return { status: 'rotated', session: snapshot(session) };
    }
    const usedOf = this.#used.get(oldHash);
    const stored = usedOf === undefined ? undefined : this.#sessions.get(usedOf);
    if (!stored) return { status: 'unknown' };
    const session = stored.record;
    if (session.revokedAt !== null) return { status: 'revoked', session: snapshot(session) };
    const grace = rule.reuseGraceMs ?? 0;
    if (
      grace > 0 &&
      oldHash === stored.previousHash &&
      !stored.graceUsed &&
      rule.now - stored.rotatedAt <= grace
    ) {
      if (rule.now >= session.expiresAt || rule.now - session.lastUsedAt > rule.idleMs) {
        return { status: 'expired', session: snapshot(session) };
      }
      // The grace of this step is spent; the step (and its predecessor) stays.
      stored.graceUsed = true;
      this.#replaceCurrent(stored, newHash, rule.now);
      return { status: 'rotated', session: snapshot(session), graced: true };
    }
    session.revokedAt = rule.now;
    session.revokedReason = 'reuse';
    this.#emit({ kind: 'session', sessionId: session.id });
    return { status: 'reused', session: snapshot(session) };
  }

  /** The current hash becomes used and `newHash` current; `lastUsedAt = now`. */
  #replaceCurrent(stored: StoredSession, newHash: string, now: number): void {
    const sessionId = stored.record.id;
    this.#current.delete(stored.currentHash);
    this.#used.set(stored.currentHash, sessionId);
    if (this.#used.size > this.#maxUsedTokens) this.#used.delete(this.#used.keys().next().value!);
    this.#current.set(newHash, sessionId);
    stored.currentHash = newHash;
    stored.record.lastUsedAt = now;
  }

  async getSession(sessionId: string): Promise<SessionRecord | null> {
    const stored = this.#sessions.get(sessionId);
    return stored ? { ...stored.record } : null;
  }

  /**
   * The session of a current or remembered rotated hash (see
   * {@link TokenStore.findSessionByTokenHash}); null where `rotate` would answer `unknown`,
   * a used hash forgotten past `maxUsedTokens` included.
   */
  async findSessionByTokenHash(tokenHash: string): Promise<SessionRecord | null> {
    const sessionId = this.#current.get(tokenHash) ?? this.#used.get(tokenHash);
    const stored = sessionId === undefined ? undefined : this.#sessions.get(sessionId);
    return stored ? { ...stored.record } : null;
  }

  async revokeSession(sessionId: string, reason: string, now: number): Promise<void> {
    const session = this.#sessions.get(sessionId)?.record;
    if (session && session.revokedAt === null) {
      session.revokedAt = now;
      session.revokedReason = reason;
      this.#emit({ kind: 'session', sessionId });
    }
  }

  async revokeUserSessions(
    userId: string,
    reason: string,
    now: number,
    exceptSessionId?: string,
  ): Promise<number> {
    let count = 0;
    for (const { record } of this.#sessions.values()) {
      if (record.userId === userId && record.revokedAt === null && record.id !== exceptSessionId) {
        record.revokedAt = now;
        record.revokedReason = reason;
        count++;
      }
    }
    if (count > 0) this.#emit({ kind: 'user', userId });
    return count;
  }

  /**
   * Announces every revocation made through this store object (one process: the watch is always
   * live). A revocation that changes nothing (an unknown or already revoked session, a user
   * without active sessions) is not announced.
   *
   * @example
   * ```ts
   * const store = new MemoryTokenStore();
   * const watch = store.watchRevocations({
   *   onRevoked: (event) => console.log(event), // { kind: 'session', sessionId: '…' }
   *   onLiveChange: () => {},
   * });
   * await watch.close();
   * ```
   */
  watchRevocations(listener: RevocationListener): RevocationWatch {
    const listeners = this.#listeners;
    // A wrapper per watch, so one listener object watched twice is two subscriptions.
    const entry: RevocationListener = {
      onRevoked: (event) => listener.onRevoked(event),
      onLiveChange: (live) => listener.onLiveChange(live),
    };
    listeners.add(entry);
    let open = true;
    return {
      get live() {
        return open;
      },
      async close() {
        open = false;
        listeners.delete(entry);
      },
    };
  }

  #emit(event: RevocationEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener.onRevoked(event);
      } catch {
        // A listener's fault must not undo or fail the revocation that was just made.
      }
    }
  }

  async listSessions(userId: string): Promise<SessionRecord[]> {
    const found: SessionRecord[] = [];
    for (const { record } of this.#sessions.values()) {
      if (record.userId === userId && record.revokedAt === null) found.push(snapshot(record));
    }
    // Newest first; creation order breaks ties (the map keeps insertion order).
    return found.reverse().sort((a, b) => b.createdAt - a.createdAt);
  }

  async touchSession(sessionId: string, now: number, minIntervalMs: number): Promise<void> {
    const session = this.#sessions.get(sessionId)?.record;
    if (session && session.revokedAt === null && session.lastUsedAt <= now - minIntervalMs) {
      session.lastUsedAt = now;
    }
  }

  async deleteUserSessions(userId: string): Promise<number> {
    const ids: string[] = [];
    for (const { record } of this.#sessions.values()) {
      if (record.userId === userId) ids.push(record.id);
    }
    for (const id of ids) this.#deleteSession(id);
    return ids.length;
  }

  async prune(olderThan: number): Promise<number> {
    const ended: string[] = [];
    for (const { record } of this.#sessions.values()) {
      if (
        (record.revokedAt !== null && record.revokedAt < olderThan) ||
        record.expiresAt < olderThan
      ) {
        ended.push(record.id);
      }
    }
    for (const id of ended) this.#deleteSession(id);
    return ended.length;
  }
}
