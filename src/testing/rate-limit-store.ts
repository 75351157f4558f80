import assert from 'node:assert/strict';
import type { RateLimitStore } from '../stores/types.js';
import type { StoreFactory, TestApi } from './harness.js';

const T0 = Date.UTC(2030, 0, 1);

/**
 * The conformance suite of a {@link RateLimitStore} (fixed windows).
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { describeRateLimitStore } from 'gatehouse/testing';
 * describeRateLimitStore('MyRateLimitStore', () => new MyRateLimitStore(db), { describe, it });
 * ```
 */
export function describeRateLimitStore(
  name: string,
  factory: StoreFactory<RateLimitStore>,
  t: TestApi,
) {
  const rule = (now: number) => ({ now, windowMs: 60_000, limit: 3 });
  t.describe(`RateLimitStore conformance: ${name}`, () => {
    t.it('allows hits up to the limit, then refuses within the window', async () => {
      const store = await factory();
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await store.hit('ip', rule(T0 + i)));
      assert.deepEqual(
        results.map((r) => [r.allowed, r.count]),
        [
          [true, 1],
          [true, 2],
          [true, 3],
          [false, 4],
          [false, 5],
        ],
      );
      assert.ok(results.every((r) => r.resetAt === T0 + 60_000));
    });

    t.it('starts a new window once the old one ends', async () => {
      const store = await factory();
      for (let i = 0; i < 4; i++) await store.hit('ip', rule(T0));
      const next = await store.hit('ip', rule(T0 + 60_000));
      assert.deepEqual(next, { allowed: true, count: 1, resetAt: T0 + 120_000 });
    });

    t.it('keeps keys independent and forgets a key on reset', async () => {
      const store = await factory();
      for (let i = 0; i < 4; i++) await store.hit('a', rule(T0));
      assert.equal((await store.hit('b', rule(T0))).count, 1);
      await store.reset('a');
      assert.equal((await store.hit('a', rule(T0))).count, 1);
    });

    t.it('counts 30 concurrent hits exactly', async () => {
      const store = await factory();
      const results = await Promise.all(Array.from({ length: 30 }, () => store.hit('c', rule(T0))));
      assert.deepEqual(
        results.map((r) => r.count).sort((a, b) => a - b),
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
      assert.equal(results.filter((r) => r.allowed).length, 3);
    });
  });
}
