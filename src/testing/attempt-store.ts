import assert from 'node:assert/strict';
import type { AttemptStore, LockoutRule } from '../stores/types.js';
import type { StoreFactory, TestApi } from './harness.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2030, 0, 1);

function rule(now: number, overrides: Partial<LockoutRule> = {}): LockoutRule {
  return {
    now,
    maxAttempts: 3,
    windowMs: 15 * MINUTE,
    lockMs: 30 * MINUTE,
    backoffFactor: 1,
    maxLockMs: 24 * 60 * MINUTE,
    ...overrides,
  };
}

/**
 * The conformance suite of an {@link AttemptStore} (lockout counters).
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { describeAttemptStore } from 'gatehouse/testing';
 * describeAttemptStore('MyAttemptStore', () => new MyAttemptStore(db), { describe, it });
 * ```
 */
export function describeAttemptStore(
  name: string,
  factory: StoreFactory<AttemptStore>,
  t: TestApi,
) {
  t.describe(`AttemptStore conformance: ${name}`, () => {
    t.it('allows reservations up to maxAttempts and counts them', async () => {
      const store = await factory();
      for (let i = 1; i <= 3; i++) {
        assert.deepEqual(await store.reserve('k', rule(T0)), { allowed: true, attempts: i });
      }
    });

    t.it('locks on the reservation that exceeds maxAttempts', async () => {
      const store = await factory();
      for (let i = 0; i < 3; i++) await store.reserve('k', rule(T0));
      assert.deepEqual(await store.reserve('k', rule(T0 + 1000)), {
        allowed: false,
        lockedUntil: T0 + 1000 + 30 * MINUTE,
      });
    });

    t.it('locks when a failure brings the counter to maxAttempts', async () => {
      const store = await factory();
      for (let i = 0; i < 2; i++) {
        await store.reserve('k', rule(T0));
        assert.equal(await store.recordFailure('k', rule(T0)), null);
      }
      await store.reserve('k', rule(T0));
      assert.equal(await store.recordFailure('k', rule(T0 + 5)), T0 + 5 + 30 * MINUTE);
      assert.deepEqual(await store.reserve('k', rule(T0 + 10)), {
        allowed: false,
        lockedUntil: T0 + 5 + 30 * MINUTE,
      });
    });

    t.it('refuses while locked without extending the lock', async () => {
      const store = await factory();
      for (let i = 0; i < 4; i++) await store.reserve('k', rule(T0));
      const later = await store.reserve('k', rule(T0 + 10 * MINUTE));
      assert.deepEqual(later, { allowed: false, lockedUntil: T0 + 30 * MINUTE });
    });

    t.it('starts a fresh counter once the lock has ended', async () => {
      const store = await factory();
      for (let i = 0; i < 4; i++) await store.reserve('k', rule(T0));
      assert.deepEqual(await store.reserve('k', rule(T0 + 30 * MINUTE)), {
        allowed: true,
        attempts: 1,
      });
    });

    t.it('forgets failures older than the window', async () => {
      const store = await factory();
      for (let i = 0; i < 3; i++) await store.reserve('k', rule(T0));
      assert.deepEqual(await store.reserve('k', rule(T0 + 15 * MINUTE)), {
        allowed: true,
        attempts: 1,
      });
    });

    t.it('reset forgets the counter and the lock', async () => {
      const store = await factory();
      for (let i = 0; i < 4; i++) await store.reserve('k', rule(T0));
      await store.reset('k');
      assert.deepEqual(await store.reserve('k', rule(T0 + 1)), { allowed: true, attempts: 1 });
    });

    t.it('keeps keys independent', async () => {
      const store = await factory();
      for (let i = 0; i < 4; i++) await store.reserve('a', rule(T0));
      assert.deepEqual(await store.reserve('b', rule(T0)), { allowed: true, attempts: 1 });
    });

    t.it('recordFailure on an unknown key neither throws nor locks', async () => {
      const store = await factory();
      assert.equal(await store.recordFailure('never-reserved', rule(T0)), null);
    });

    t.it('grows each further lockout by the backoff factor up to maxLockMs', async () => {
      const store = await factory();
      const r = (now: number) => rule(now, { backoffFactor: 2, maxLockMs: 100 * MINUTE });
      let now = T0;
      const durations: number[] = [];
      for (let lockout = 0; lockout < 4; lockout++) {
        let result = await store.reserve('k', r(now));
        while (result.allowed) result = await store.reserve('k', r(now));
        durations.push(result.lockedUntil - now);
        now = result.lockedUntil;
      }
      assert.deepEqual(durations, [30 * MINUTE, 60 * MINUTE, 100 * MINUTE, 100 * MINUTE]);
    });

    t.it('grants at most maxAttempts of 50 concurrent reservations', async () => {
      const store = await factory();
      const results = await Promise.all(
        Array.from({ length: 50 }, () => store.reserve('race', rule(T0))),
      );
      assert.equal(results.filter((r) => r.allowed).length, 3);
      assert.ok(results.some((r) => !r.allowed));
    });
  });
}
