import assert from 'node:assert/strict';
import type { AttemptReservation, AttemptStore, LockoutRule } from '../stores/types.js';
import type { StoreFactory, TestApi } from './harness.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2030, 0, 1);
const RACERS = 50;

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

/** Reserves until refused; returns the refusal. */
async function reserveUntilLocked(store: AttemptStore, key: string, r: LockoutRule) {
  let result: AttemptReservation = await store.reserve(key, r);
  while (result.allowed) result = await store.reserve(key, r);
  return result;
}

/**
 * The conformance suite of an {@link AttemptStore} (lockout counters), including the
 * concurrency promises: at most `maxAttempts` of many concurrent reservations are granted, and
 * exactly one caller is told it took the lock.
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

    t.it('locks on the reservation that exceeds maxAttempts and tells it so', async () => {
      const store = await factory();
      for (let i = 0; i < 3; i++) await store.reserve('k', rule(T0));
      assert.deepEqual(await store.reserve('k', rule(T0 + 1000)), {
        allowed: false,
        lockedUntil: T0 + 1000 + 30 * MINUTE,
        lockedNow: true,
      });
    });

    t.it(
      'locks when a failure brings the counter to maxAttempts and tells that failure',
      async () => {
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
          lockedNow: false,
        });
      },
    );

    t.it('refuses while locked without extending the lock or claiming it again', async () => {
      const store = await factory();
      for (let i = 0; i < 4; i++) await store.reserve('k', rule(T0));
      for (const at of [T0, T0 + 10 * MINUTE]) {
        assert.deepEqual(await store.reserve('k', rule(at)), {
          allowed: false,
          lockedUntil: T0 + 30 * MINUTE,
          lockedNow: false,
        });
      }
    });

    t.it(
      'answers null to a failure on a key that is already locked (one lock, one announcement)',
      async () => {
        const store = await factory();
        for (let i = 0; i < 3; i++) await store.reserve('k', rule(T0));
        const locked = await store.reserve('k', rule(T0));
        assert.equal(locked.allowed, false);
        // The three granted attempts now fail: the lock is already taken and announced.
        for (let i = 0; i < 3; i++)
          assert.equal(await store.recordFailure('k', rule(T0 + 1)), null);
        assert.deepEqual(await store.reserve('k', rule(T0 + 2)), {
          allowed: false,
          lockedUntil: T0 + 30 * MINUTE,
          lockedNow: false,
        });
      },
    );

    t.it('does not lock again for a slow failure that arrives after the lock ended', async () => {
      const store = await factory();
      for (let i = 0; i < 3; i++) await store.reserve('k', rule(T0));
      await store.reserve('k', rule(T0));
      assert.equal(await store.recordFailure('k', rule(T0 + 31 * MINUTE)), null);
      assert.deepEqual(await store.reserve('k', rule(T0 + 31 * MINUTE)), {
        allowed: true,
        attempts: 1,
      });
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

    t.it(
      'reset forgets the lockout count, so the next lock is short again (backoff restarts after a success)',
      async () => {
        const store = await factory();
        const r = (now: number) => rule(now, { backoffFactor: 2, maxLockMs: 100 * MINUTE });
        const first = await reserveUntilLocked(store, 'k', r(T0));
        const second = await reserveUntilLocked(store, 'k', r(first.lockedUntil));
        assert.equal(second.lockedUntil - first.lockedUntil, 60 * MINUTE);
        await store.reset('k');
        const now = second.lockedUntil;
        const third = await reserveUntilLocked(store, 'k', r(now));
        assert.equal(third.lockedUntil - now, 30 * MINUTE);
      },
    );

    t.it('keeps keys independent', async () => {
      const store = await factory();
      for (let i = 0; i < 4; i++) await store.reserve('a', rule(T0));
      assert.deepEqual(await store.reserve('b', rule(T0)), { allowed: true, attempts: 1 });
    });

    t.it('recordFailure on an unknown key neither throws nor locks', async () => {
      const store = await factory();
      assert.equal(await store.recordFailure('never-reserved', rule(T0)), null);
      assert.deepEqual(await store.reserve('never-reserved', rule(T0)), {
        allowed: true,
        attempts: 1,
      });
    });

    t.it('grows each further lockout by the backoff factor up to maxLockMs', async () => {
      const store = await factory();
      const r = (now: number) => rule(now, { backoffFactor: 2, maxLockMs: 100 * MINUTE });
      let now = T0;
      const durations: number[] = [];
      for (let lockout = 0; lockout < 4; lockout++) {
        const result = await reserveUntilLocked(store, 'k', r(now));
        durations.push(result.lockedUntil - now);
        now = result.lockedUntil;
      }
      assert.deepEqual(durations, [30 * MINUTE, 60 * MINUTE, 100 * MINUTE, 100 * MINUTE]);
    });

    t.it(
      'counts a lock taken by a failure towards the backoff like one taken by a reservation',
      async () => {
        const store = await factory();
        const r = (now: number) => rule(now, { backoffFactor: 2, maxLockMs: 100 * MINUTE });
        for (let i = 0; i < 3; i++) await store.reserve('k', r(T0));
        const byFailure = await store.recordFailure('k', r(T0));
        assert.equal(byFailure, T0 + 30 * MINUTE);
        const byReservation = await reserveUntilLocked(store, 'k', r(T0 + 30 * MINUTE));
        assert.deepEqual(byReservation, {
          allowed: false,
          lockedUntil: T0 + 30 * MINUTE + 60 * MINUTE,
          lockedNow: true,
        });
      },
    );

    t.it(
      `grants at most maxAttempts of ${RACERS} concurrent reservations and tells exactly one it took the lock`,
      async () => {
        const store = await factory();
        const results = await Promise.all(
          Array.from({ length: RACERS }, () => store.reserve('race', rule(T0))),
        );
        assert.equal(results.filter((r) => r.allowed).length, 3);
        assert.equal(results.filter((r) => !r.allowed && r.lockedNow).length, 1);
      },
    );

    t.it(
      `tells exactly one of ${RACERS} concurrent failed attempts (reserve, then recordFailure) that it took the lock`,
      async () => {
        const store = await factory();
        const lockedBy = await Promise.all(
          Array.from({ length: RACERS }, async () => {
            const reservation = await store.reserve('race', rule(T0));
            if (!reservation.allowed) return reservation.lockedNow;
            return (await store.recordFailure('race', rule(T0))) !== null;
          }),
        );
        assert.equal(lockedBy.filter(Boolean).length, 1);
        const after = await store.reserve('race', rule(T0));
        assert.equal(after.allowed, false);
      },
    );

    t.it(
      'inspect answers null for a key the store does not hold (another key notwithstanding)',
      async () => {
        const store = await factory();
        await store.reserve('other', rule(T0));
        assert.equal(await store.inspect('never-reserved', T0), null);
      },
    );

    t.it('inspect reads the counter without counting an attempt', async () => {
      const store = await factory();
      await store.reserve('k', rule(T0));
      await store.reserve('k', rule(T0 + 1000));
      const expected = { attempts: 2, windowStart: T0, lockedUntil: null, lockouts: 0 };
      assert.deepEqual(await store.inspect('k', T0 + 2000), expected);
      assert.deepEqual(await store.inspect('k', T0 + 2000), expected, 'a read changes nothing');
      assert.deepEqual(await store.reserve('k', rule(T0 + 3000)), { allowed: true, attempts: 3 });
    });

    t.it('inspect shows a running lock, with attempts 0 and the lockout count', async () => {
      const store = await factory();
      const locked = await reserveUntilLocked(store, 'k', rule(T0));
      assert.deepEqual(await store.inspect('k', T0 + MINUTE), {
        attempts: 0,
        windowStart: T0,
        lockedUntil: locked.lockedUntil,
        lockouts: 1,
      });
      // Refused reservations while locked are no attempts.
      await store.reserve('k', rule(T0 + 2 * MINUTE));
      assert.equal((await store.inspect('k', T0 + 2 * MINUTE))?.attempts, 0);
    });

    t.it('inspect shows an ended lock as no lock, keeping the lockout count', async () => {
      const store = await factory();
      const locked = await reserveUntilLocked(store, 'k', rule(T0));
      const state = await store.inspect('k', locked.lockedUntil);
      assert.equal(state?.lockedUntil, null);
      assert.equal(state?.lockouts, 1);
    });

    t.it('inspect after reset answers null (a successful login leaves nothing)', async () => {
      const store = await factory();
      await store.reserve('k', rule(T0));
      await store.reserve('other', rule(T0));
      await store.reset('k');
      assert.equal(await store.inspect('k', T0), null);
      assert.equal((await store.inspect('other', T0))?.attempts, 1, 'only that key is forgotten');
    });

    t.it(`of ${RACERS} concurrent failures at the threshold exactly one locks`, async () => {
      const store = await factory();
      for (let i = 0; i < 3; i++) await store.reserve('race', rule(T0));
      const results = await Promise.all(
        Array.from({ length: RACERS }, () => store.recordFailure('race', rule(T0))),
      );
      assert.deepEqual(
        results.filter((r) => r !== null),
        [T0 + 30 * MINUTE],
      );
    });
  });
}
