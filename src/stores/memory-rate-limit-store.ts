import { LRUCache } from 'lru-cache';
import type { RateLimitResult, RateLimitStore } from './types.js';

/**
 * The reference {@link RateLimitStore}: fixed windows in memory, bounded by lru-cache.
 *
 * @example
 * ```ts
 * import { MemoryRateLimitStore } from 'gatehouse';
 * const rateLimits = new MemoryRateLimitStore({ maxEntries: 10_000 });
 * ```
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #windows: LRUCache<string, { count: number; resetAt: number }>;

  /** `maxEntries`: most keys tracked at once (least recently used forgotten). @default 100000 */
  constructor(options: { maxEntries?: number } = {}) {
    this.#windows = new LRUCache({ max: options.maxEntries ?? 100_000 });
  }

  async hit(
    key: string,
    rule: { now: number; windowMs: number; limit: number },
  ): Promise<RateLimitResult> {
    let window = this.#windows.get(key);
    if (!window || window.resetAt <= rule.now) {
      window = { count: 0, resetAt: rule.now + rule.windowMs };
      this.#windows.set(key, window);
    }
    window.count++;
    return { allowed: window.count <= rule.limit, count: window.count, resetAt: window.resetAt };
  }

  async reset(key: string): Promise<void> {
    this.#windows.delete(key);
  }
}
