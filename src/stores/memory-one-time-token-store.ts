import { enqueueNow, type MemoryMailOutbox } from './memory-mail-outbox.js';
import type {
  OneTimeTokenPurpose,
  OneTimeTokenRecord,
  OneTimeTokenStore,
  OutboxMessage,
} from './types.js';

/**
 * Options of {@link MemoryOneTimeTokenStore}.
 *
 * @example
 * ```ts
 * const outbox = new MemoryMailOutbox();
 * const options: MemoryOneTimeTokenStoreOptions = { outbox, maxTokens: 10_000 };
 * const oneTimeTokens = new MemoryOneTimeTokenStore(options);
 * ```
 */
export interface MemoryOneTimeTokenStoreOptions {
  /**
   * Where `issue(record, mail)` puts the mail, in the same synchronous step as the token. Required
   * to issue a token with a mail (an `issue` with a mail and no outbox rejects with a TypeError).
   */
  outbox?: MemoryMailOutbox;
  /**
   * Tokens kept (live and ended). Past this, the oldest is forgotten: its link then answers as
   * an unknown token.
   * @default 100000
   */
  maxTokens?: number;
}

interface StoredToken {
  record: OneTimeTokenRecord;
  consumedAt: number | null;
  /** When a newer token or a revocation ended it (a revocation has no clock: its creation time). */
  supersededAt: number | null;
}

/**
 * The reference {@link OneTimeTokenStore}: in process memory, bounded, for tests, development and
 * single-instance apps. Each operation runs synchronously inside its promise, so it is atomic:
 * `issue` supersedes, stores and enqueues its mail (into the {@link MemoryMailOutbox} given to the
 * constructor) in one step, and of concurrent `consume` calls with one hash exactly one gets the
 * record.
 *
 * @example
 * ```ts
 * import { createAuth, MemoryMailOutbox, MemoryOneTimeTokenStore } from 'gatehouse';
 * const outbox = new MemoryMailOutbox();
 * const auth = createAuth({
 *   stores: { outbox, oneTimeTokens: new MemoryOneTimeTokenStore({ outbox, maxTokens: 10_000 }) },
 * });
 * ```
 */
export class MemoryOneTimeTokenStore implements OneTimeTokenStore {
  /** Token hash -> token, in issue order (the first is the oldest). */
  readonly #tokens = new Map<string, StoredToken>();
  /** `userId \0 purpose` -> hashes of its live (neither consumed nor superseded) tokens. */
  readonly #live = new Map<string, Set<string>>();
  readonly #outbox: MemoryMailOutbox | undefined;
  readonly #maxTokens: number;

  constructor(options: MemoryOneTimeTokenStoreOptions = {}) {
    const maxTokens = options.maxTokens ?? 100_000;
    if (!Number.isInteger(maxTokens) || maxTokens < 1) {
      throw new TypeError('MemoryOneTimeTokenStore: maxTokens must be a positive integer');
    }
    this.#maxTokens = maxTokens;
    this.#outbox = options.outbox;
  }

  async issue(record: OneTimeTokenRecord, mail?: OutboxMessage): Promise<void> {
    if (mail !== undefined) {
      if (this.#outbox === undefined) {
        throw new TypeError(
          'MemoryOneTimeTokenStore: issue() got a mail but the store has no outbox (pass { outbox })',
        );
      }
      // First, as it is the only step that can fail (a full outbox): then nothing has changed.
      enqueueNow(this.#outbox, mail);
    }
    this.#forget(record.tokenHash);
    const key = liveKey(record.userId, record.purpose);
    const live = this.#live.get(key);
    if (live) {
      for (const hash of live) {
        const stored = this.#tokens.get(hash);
        if (stored) stored.supersededAt = record.createdAt;
      }
      live.clear();
    }
    this.#tokens.set(record.tokenHash, {
      record: { ...record },
      consumedAt: null,
      supersededAt: null,
    });
    if (live) live.add(record.tokenHash);
    else this.#live.set(key, new Set([record.tokenHash]));
    if (this.#tokens.size > this.#maxTokens) this.#forget(this.#tokens.keys().next().value!);
  }

  async consume(
    tokenHash: string,
    purpose: OneTimeTokenPurpose,
    now: number,
  ): Promise<OneTimeTokenRecord | null> {
    const stored = this.#usable(tokenHash, purpose, now);
    if (!stored) return null;
    stored.consumedAt = now;
    this.#unlive(stored.record);
    return { ...stored.record };
  }

  async find(
    tokenHash: string,
    purpose: OneTimeTokenPurpose,
    now: number,
  ): Promise<OneTimeTokenRecord | null> {
    const stored = this.#usable(tokenHash, purpose, now);
    return stored ? { ...stored.record } : null;
  }

  async revokeUserTokens(userId: string, purpose?: OneTimeTokenPurpose): Promise<number> {
    let revoked = 0;
    const purposes: readonly OneTimeTokenPurpose[] = purpose === undefined ? PURPOSES : [purpose];
    for (const each of purposes) {
      const key = liveKey(userId, each);
      const live = this.#live.get(key);
      if (!live) continue;
      for (const hash of live) {
        const stored = this.#tokens.get(hash);
        if (!stored) continue;
        stored.supersededAt = stored.record.createdAt;
        revoked += 1;
      }
      this.#live.delete(key);
    }
    return revoked;
  }

  async listUserTokens(userId: string, now: number): Promise<OneTimeTokenRecord[]> {
    const pending: OneTimeTokenRecord[] = [];
    for (const purpose of PURPOSES) {
      for (const hash of this.#live.get(liveKey(userId, purpose)) ?? []) {
        const stored = this.#usable(hash, purpose, now);
        if (stored) pending.push({ ...stored.record });
      }
    }
    return pending.sort((a, b) => a.createdAt - b.createdAt);
  }

  async deleteUserTokens(userId: string): Promise<number> {
    let deleted = 0;
    for (const [hash, stored] of this.#tokens) {
      if (stored.record.userId !== userId) continue;
      this.#forget(hash);
      deleted += 1;
    }
    return deleted;
  }

  async prune(olderThan: number): Promise<number> {
    let deleted = 0;
    for (const [hash, stored] of this.#tokens) {
      const ended =
        stored.record.expiresAt < olderThan ||
        (stored.consumedAt !== null && stored.consumedAt < olderThan) ||
        (stored.supersededAt !== null && stored.supersededAt < olderThan);
      if (ended) {
        this.#forget(hash);
        deleted += 1;
      }
    }
    return deleted;
  }

  #usable(tokenHash: string, purpose: OneTimeTokenPurpose, now: number): StoredToken | null {
    const stored = this.#tokens.get(tokenHash);
    if (!stored) return null;
    if (stored.record.purpose !== purpose) return null;
    if (stored.consumedAt !== null || stored.supersededAt !== null) return null;
    if (stored.record.expiresAt <= now) return null;
    return stored;
  }

  #unlive(record: OneTimeTokenRecord): void {
    const key = liveKey(record.userId, record.purpose);
    const live = this.#live.get(key);
    if (!live) return;
    live.delete(record.tokenHash);
    if (live.size === 0) this.#live.delete(key);
  }

  #forget(tokenHash: string): void {
    const stored = this.#tokens.get(tokenHash);
    if (!stored) return;
    this.#tokens.delete(tokenHash);
    this.#unlive(stored.record);
  }
}

/** Every purpose (a record type check: a purpose added to the type must be added here). */
const PURPOSES = Object.keys({
  password_reset: true,
  email_verification: true,
  mfa_challenge: true,
} satisfies Record<OneTimeTokenPurpose, true>) as OneTimeTokenPurpose[];

function liveKey(userId: string, purpose: OneTimeTokenPurpose): string {
  return `${userId}\u0000${purpose}`;
}
