import { LRUCache } from 'lru-cache';
import type { AttemptReservation, AttemptState, AttemptStore, LockoutRule } from './types.js';

interface AttemptEntry {
  count: number;
  windowStart: number;
  lockedUntil: number | null;
  lockouts: number;
}

/**
 * Options of {@link MemoryAttemptStore}.
 *
 * @example
 * ```ts
 * const options: MemoryAttemptStoreOptions = { maxEntries: 500_000 };
 * createAuth({ stores: { attempts: new MemoryAttemptStore(options) } });
 * ```
 */
export interface MemoryAttemptStoreOptions {
  /**
   * Most identifiers tracked at once; the least recently used is forgotten past it. An attacker
   * who can send this many distinct identifiers between two guesses could evict a counter, so
   * keep it well above your expected traffic, or use a database store.
   * @default 100000
   */
  maxEntries?: number;
}

/** How long a lockout lasts for the given rule and number of earlier lockouts. */
export function lockDuration(rule: LockoutRule, lockouts: number): number {
  return Math.min(rule.maxLockMs, Math.round(rule.lockMs * rule.backoffFactor ** lockouts));
}

/**
 * The reference {@link AttemptStore}, in memory and bounded (lru-cache). Each operation runs
 * synchronously inside one call, which makes it atomic within a process: of concurrent calls
 * on one key, exactly one is told it took a lock.
 *
 * @example
 * ```ts
 * import { MemoryAttemptStore } from 'gatehouse';
 * const attempts = new MemoryAttemptStore({ maxEntries: 50_000 });
 * ```
 */
export class MemoryAttemptStore implements AttemptStore {
  readonly #entries: LRUCache<string, AttemptEntry>;

  constructor(options: MemoryAttemptStoreOptions = {}) {
    this.#entries = new LRUCache({ max: options.maxEntries ?? 100_000 });
  }

  async reserve(key: string, rule: LockoutRule): Promise<AttemptReservation> {
    let entry = this.#entries.get(key);
    if (entry?.lockedUntil != null && entry.lockedUntil > rule.now) {
      return { allowed: false, lockedUntil: entry.lockedUntil, lockedNow: false };
    }
    if (!entry) {
      entry = { count: 0, windowStart: rule.now, lockedUntil: null, lockouts: 0 };
      this.#entries.set(key, entry);
    } else if (entry.lockedUntil != null || entry.windowStart + rule.windowMs <= rule.now) {
      entry.count = 0;
      entry.windowStart = rule.now;
      entry.lockedUntil = null;
    }
    entry.count++;
    if (entry.count > rule.maxAttempts) {
      return { allowed: false, lockedUntil: this.#lock(entry, rule), lockedNow: true };
    }
    return { allowed: true, attempts: entry.count };
  }

  async recordFailure(key: string, rule: LockoutRule): Promise<number | null> {
    const entry = this.#entries.get(key);
    // A key locks once per window: a lock, even one that has ended, waits for reserve to
    // restart the counter.
    if (!entry || entry.lockedUntil != null || entry.count < rule.maxAttempts) return null;
    return this.#lock(entry, rule);
  }

  async reset(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async inspect(key: string, now: number): Promise<AttemptState | null> {
    // peek: a read does not make the key recently used (it must not keep a counter alive).
    const entry = this.#entries.peek(key);
    if (!entry) return null;
    return {
      attempts: entry.lockedUntil === null ? entry.count : 0,
      windowStart: entry.windowStart,
      lockedUntil: entry.lockedUntil !== null && entry.lockedUntil > now ? entry.lockedUntil : null,
      lockouts: entry.lockouts,
    };
  }

  #lock(entry: AttemptEntry, rule: LockoutRule): number {
    const lockedUntil = rule.now + lockDuration(rule, entry.lockouts);
    entry.lockedUntil = lockedUntil;
    entry.lockouts++;
    return lockedUntil;
  }
}
