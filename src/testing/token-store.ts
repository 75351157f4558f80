import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import type {
  RevocationEvent,
  RevocationWatch,
  RotationResult,
  SessionRecord,
  TokenStore,
} from '../stores/types.js';
import type { StoreFactory, TestApi } from './harness.js';

/**
 * Options of {@link describeTokenStore}.
 *
 * @example
 * ```ts
 * const options: TokenStoreSuiteOptions = { watchRevocations: true, eventTimeoutMs: 2_000 };
 * describeTokenStore('MyTokenStore', factory, { describe, it }, options);
 * ```
 */
export interface TokenStoreSuiteOptions {
  /**
   * Also check the store's `watchRevocations` (a store that implements it must pass these):
   * every revocation path announces the right event to every open watch, nothing else is
   * announced, and a closed watch hears nothing. Close what your factory's store holds in the
   * test's teardown if needed: each case closes the watches it opens.
   * @default false
   */
  watchRevocations?: boolean;
  /**
   * The store's optional `findSessionByTokenHash`: `true` requires it (the cases fail on a
   * store without it); left out, its cases check it when the store has it and pass over a
   * store without it; `false` leaves them out.
   * @default undefined (checked when present)
   */
  findSessionByTokenHash?: boolean;
  /**
   * How long a case waits for a watch to become live or an event to arrive, in ms.
   * @default 5000
   */
  eventTimeoutMs?: number;
}

const NOW = 1_700_000_000_000;
const DAY = 86_400_000;
const IDLE = 30 * DAY;

function hash(): string {
  return createHash('sha256').update(randomUUID()).digest('hex');
}

function newSession(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: randomUUID(),
    userId: randomUUID(),
    createdAt: NOW,
    expiresAt: NOW + 90 * DAY,
    lastUsedAt: NOW,
    revokedAt: null,
    revokedReason: null,
    ip: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (conformance)',
    label: null,
    ...overrides,
  };
}

const GRACE = 10_000;

function statusOf(result: RotationResult): string {
  return result.status;
}

/**
 * Registers the conformance cases of a {@link TokenStore}: every rule of its TSDoc, including
 * that of 20 concurrent rotations of one hash exactly one is `rotated`, the reuse grace (of 20
 * concurrent replays of the predecessor inside the window exactly one is graced), the device
 * fields, `listSessions`, `touchSession` and `deleteUserSessions`. Runner-agnostic: pass
 * your runner's `describe` and `it`. `factory` is called once per case and must return an
 * empty store (the `prune` cases count what they delete). Session and user ids are random
 * UUIDs; hashes are 64 hex characters. With `{ watchRevocations: true }` the revocation
 * watch's contract is checked too (see {@link TokenStoreSuiteOptions}); the optional
 * `findSessionByTokenHash` is checked whenever the store has it.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { describeTokenStore } from 'gatehouse/testing';
 * import { MyTokenStore } from '../src/my-token-store.js';
 *
 * describeTokenStore('MyTokenStore', () => new MyTokenStore(pool), { describe, it });
 * ```
 */
export function describeTokenStore(
  name: string,
  factory: StoreFactory<TokenStore>,
  { describe, it }: TestApi,
  suiteOptions: TokenStoreSuiteOptions = {},
): void {
  const eventTimeoutMs = suiteOptions.eventTimeoutMs ?? 5_000;

  async function until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + eventTimeoutMs;
    while (!condition()) {
      if (Date.now() > deadline)
        assert.fail(`timed out after ${eventTimeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Opens a watch, waits until it is live, and forgets what it heard while connecting. */
  async function watching(store: TokenStore) {
    assert.equal(typeof store.watchRevocations, 'function', 'the store has watchRevocations');
    const events: RevocationEvent[] = [];
    const watch: RevocationWatch = store.watchRevocations!({
      onRevoked: (event) => void events.push(event),
      onLiveChange: () => {},
    });
    await until(() => watch.live, 'the watch to become live');
    events.length = 0;
    return { events, watch };
  }

  /** The store's lookup, or null when it has none and none is required (nothing to check). */
  function lookupOf(store: TokenStore): ((hash: string) => Promise<SessionRecord | null>) | null {
    if (typeof store.findSessionByTokenHash === 'function') {
      return (hash) => store.findSessionByTokenHash!(hash);
    }
    assert.notEqual(
      suiteOptions.findSessionByTokenHash,
      true,
      'the store has findSessionByTokenHash',
    );
    return null;
  }

  async function storeWithSession(overrides: Partial<SessionRecord> = {}) {
    const store = await factory();
    const session = newSession(overrides);
    const token = hash();
    await store.createSession(session, token);
    return { store, session, token };
  }

  describe(`TokenStore conformance: ${name}`, () => {
    describe('createSession and getSession', () => {
      it('returns the created session with every field as given', async () => {
        const { store, session } = await storeWithSession();
        assert.deepEqual(await store.getSession(session.id), session);
      });

      it('returns null for an unknown session id', async () => {
        const store = await factory();
        assert.equal(await store.getSession(randomUUID()), null);
      });

      it('returns a snapshot: changing it changes nothing stored', async () => {
        const { store, session } = await storeWithSession();
        const read = await store.getSession(session.id);
        assert.ok(read);
        read.revokedAt = NOW;
        read.lastUsedAt = NOW + DAY;
        assert.deepEqual(await store.getSession(session.id), session);
      });
    });

    describe('rotate', () => {
      it('returns unknown for a hash it never stored', async () => {
        const { store } = await storeWithSession();
        assert.deepEqual(await store.rotate(hash(), hash(), { now: NOW, idleMs: IDLE }), {
          status: 'unknown',
        });
      });

      it('rotates the current hash: rotated, with lastUsedAt set to now', async () => {
        const { store, session, token } = await storeWithSession();
        const result = await store.rotate(token, hash(), { now: NOW + 1000, idleMs: IDLE });
        assert.equal(result.status, 'rotated');
        assert.ok(result.status === 'rotated');
        assert.deepEqual(result.session, { ...session, lastUsedAt: NOW + 1000 });
        assert.equal((await store.getSession(session.id))?.lastUsedAt, NOW + 1000);
      });

      it('makes the new hash the current one, which rotates in turn', async () => {
        const { store, token } = await storeWithSession();
        const second = hash();
        await store.rotate(token, second, { now: NOW + 1, idleMs: IDLE });
        const result = await store.rotate(second, hash(), { now: NOW + 2, idleMs: IDLE });
        assert.equal(result.status, 'rotated');
      });

      it('keeps the other sessions apart: rotating one leaves another untouched', async () => {
        const { store, token } = await storeWithSession();
        const other = newSession();
        const otherToken = hash();
        await store.createSession(other, otherToken);
        await store.rotate(token, hash(), { now: NOW + 5, idleMs: IDLE });
        assert.deepEqual(await store.getSession(other.id), other);
        assert.equal(
          (await store.rotate(otherToken, hash(), { now: NOW + 6, idleMs: IDLE })).status,
          'rotated',
        );
      });

      it('detects reuse: an already rotated hash revokes the family with reason "reuse"', async () => {
        const { store, session, token } = await storeWithSession();
        await store.rotate(token, hash(), { now: NOW + 1, idleMs: IDLE });
        const result = await store.rotate(token, hash(), { now: NOW + 2, idleMs: IDLE });
        assert.equal(result.status, 'reused');
        assert.ok(result.status === 'reused');
        assert.equal(result.session.id, session.id);
        assert.equal(result.session.userId, session.userId);
        const stored = await store.getSession(session.id);
        assert.equal(stored?.revokedAt, NOW + 2);
        assert.equal(stored?.revokedReason, 'reuse');
      });

      it('after reuse, the legitimate holder’s current hash is refused as revoked', async () => {
        const { store, token } = await storeWithSession();
        const current = hash();
        await store.rotate(token, current, { now: NOW + 1, idleMs: IDLE });
        await store.rotate(token, hash(), { now: NOW + 2, idleMs: IDLE });
        assert.equal(
          statusOf(await store.rotate(current, hash(), { now: NOW + 3, idleMs: IDLE })),
          'revoked',
        );
      });

      it('reports an old hash of an already revoked family as revoked, keeping the first reason', async () => {
        const { store, session, token } = await storeWithSession();
        await store.rotate(token, hash(), { now: NOW + 1, idleMs: IDLE });
        await store.revokeSession(session.id, 'logout', NOW + 2);
        assert.equal(
          statusOf(await store.rotate(token, hash(), { now: NOW + 3, idleMs: IDLE })),
          'revoked',
        );
        const stored = await store.getSession(session.id);
        assert.equal(stored?.revokedReason, 'logout');
        assert.equal(stored?.revokedAt, NOW + 2);
      });

      it('returns revoked for the current hash of a revoked family', async () => {
        const { store, session, token } = await storeWithSession();
        await store.revokeSession(session.id, 'logout', NOW + 1);
        const result = await store.rotate(token, hash(), { now: NOW + 2, idleMs: IDLE });
        assert.equal(result.status, 'revoked');
        assert.ok(result.status === 'revoked');
        assert.equal(result.session.revokedReason, 'logout');
      });

      it('accepts a rotation 1 ms before expiresAt and refuses it at expiresAt as expired', async () => {
        const before = await storeWithSession({ expiresAt: NOW + DAY });
        assert.equal(
          statusOf(
            await before.store.rotate(before.token, hash(), { now: NOW + DAY - 1, idleMs: IDLE }),
          ),
          'rotated',
        );
        const atEnd = await storeWithSession({ expiresAt: NOW + DAY });
        assert.equal(
          statusOf(await atEnd.store.rotate(atEnd.token, hash(), { now: NOW + DAY, idleMs: IDLE })),
          'expired',
        );
      });

      it('accepts a rotation idle for exactly idleMs and refuses it 1 ms later as expired', async () => {
        const atLimit = await storeWithSession();
        assert.equal(
          statusOf(
            await atLimit.store.rotate(atLimit.token, hash(), { now: NOW + DAY, idleMs: DAY }),
          ),
          'rotated',
        );
        const idle = await storeWithSession();
        assert.equal(
          statusOf(
            await idle.store.rotate(idle.token, hash(), { now: NOW + DAY + 1, idleMs: DAY }),
          ),
          'expired',
        );
      });

      it('measures idleness from the last rotation, not from creation', async () => {
        const { store, token } = await storeWithSession();
        const second = hash();
        await store.rotate(token, second, { now: NOW + DAY, idleMs: DAY });
        assert.equal(
          statusOf(await store.rotate(second, hash(), { now: NOW + 2 * DAY, idleMs: DAY })),
          'rotated',
        );
      });

      it('changes nothing when it reports expired: the same hash stays expired, not reused', async () => {
        const { store, session, token } = await storeWithSession({ expiresAt: NOW + DAY });
        const late = { now: NOW + 2 * DAY, idleMs: IDLE };
        await store.rotate(token, hash(), late);
        assert.equal(statusOf(await store.rotate(token, hash(), late)), 'expired');
        assert.deepEqual(await store.getSession(session.id), session);
      });

      it('of 20 concurrent rotations of one hash, exactly one is rotated', async () => {
        const { store, session, token } = await storeWithSession();
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.rotate(token, hash(), { now: NOW + 1 + i, idleMs: IDLE }),
          ),
        );
        const statuses = results.map(statusOf);
        assert.equal(statuses.filter((s) => s === 'rotated').length, 1);
        for (const status of statuses) assert.ok(['rotated', 'reused', 'revoked'].includes(status));
        // The losers presented a rotated hash: reuse, so the family ends revoked.
        assert.equal((await store.getSession(session.id))?.revokedReason, 'reuse');
      });

      it('of 20 concurrent rotations, the winner’s new hash is the one that was stored', async () => {
        const { store, token } = await storeWithSession();
        const candidates = Array.from({ length: 20 }, () => hash());
        const results = await Promise.all(
          candidates.map((next) => store.rotate(token, next, { now: NOW + 1, idleMs: IDLE })),
        );
        const winner = results.findIndex((r) => r.status === 'rotated');
        assert.ok(winner >= 0);
        // The family is revoked by the losers' reuse, so the winner's hash is known (revoked)
        // while a loser's hash was never stored (unknown).
        const loser = winner === 0 ? 1 : 0;
        assert.equal(
          statusOf(await store.rotate(candidates[winner]!, hash(), { now: NOW + 2, idleMs: IDLE })),
          'revoked',
        );
        assert.equal(
          statusOf(await store.rotate(candidates[loser]!, hash(), { now: NOW + 2, idleMs: IDLE })),
          'unknown',
        );
      });
    });

    describe('rotate: reuse grace (rule.reuseGraceMs)', () => {
      /** A family rotated once at NOW + 1000: `previous` is the current token's predecessor. */
      async function rotatedOnce(overrides: Partial<SessionRecord> = {}) {
        const { store, session, token } = await storeWithSession(overrides);
        const current = hash();
        const first = await store.rotate(token, current, {
          now: NOW + 1000,
          idleMs: IDLE,
          reuseGraceMs: GRACE,
        });
        assert.equal(first.status, 'rotated');
        assert.ok(first.status === 'rotated');
        assert.notEqual(first.graced, true);
        return { store, session, previous: token, current };
      }

      it('without reuseGraceMs (or 0) the immediate predecessor is reuse: the grace is opt-in', async () => {
        for (const rule of [{}, { reuseGraceMs: 0 }]) {
          const { store, session, previous } = await rotatedOnce();
          const replay = await store.rotate(previous, hash(), {
            now: NOW + 1001,
            idleMs: IDLE,
            ...rule,
          });
          assert.equal(replay.status, 'reused');
          assert.equal((await store.getSession(session.id))?.revokedReason, 'reuse');
        }
      });

      it('inside the window, the immediate predecessor rotates the current token once: rotated and graced, lastUsedAt = now', async () => {
        const { store, session, previous, current } = await rotatedOnce();
        const next = hash();
        const replay = await store.rotate(previous, next, {
          now: NOW + 1000 + GRACE - 1,
          idleMs: IDLE,
          reuseGraceMs: GRACE,
        });
        assert.equal(replay.status, 'rotated');
        assert.ok(replay.status === 'rotated');
        assert.equal(replay.graced, true);
        assert.deepEqual(replay.session, { ...session, lastUsedAt: NOW + 1000 + GRACE - 1 });
        // The graced pair's hash is the family's current token now.
        const after = await store.rotate(next, hash(), { now: NOW + 1000 + GRACE, idleMs: IDLE });
        assert.equal(after.status, 'rotated');
        assert.ok(after.status === 'rotated');
        assert.notEqual(after.graced, true);
        // The token the graced rotation used up (the one the lost response carried) is spent.
        assert.equal(
          statusOf(
            await store.rotate(current, hash(), { now: NOW + 1000 + GRACE + 1, idleMs: IDLE }),
          ),
          'reused',
        );
      });

      it('attack: the token a graced rotation used up is reuse afterwards (a thief holding the lost response revokes the family)', async () => {
        const { store, session, previous, current } = await rotatedOnce();
        const rule = { now: NOW + 2000, idleMs: IDLE, reuseGraceMs: GRACE };
        assert.equal(statusOf(await store.rotate(previous, hash(), rule)), 'rotated');
        assert.equal(statusOf(await store.rotate(current, hash(), rule)), 'reused');
        assert.equal((await store.getSession(session.id))?.revokedReason, 'reuse');
      });

      it('attack: a second replay of the predecessor in the same step is reuse and revokes the family', async () => {
        const { store, session, previous } = await rotatedOnce();
        const rule = { now: NOW + 2000, idleMs: IDLE, reuseGraceMs: GRACE };
        const graced = await store.rotate(previous, hash(), rule);
        assert.ok(graced.status === 'rotated' && graced.graced === true);
        const second = await store.rotate(previous, hash(), { ...rule, now: NOW + 2001 });
        assert.equal(second.status, 'reused');
        const stored = await store.getSession(session.id);
        assert.equal(stored?.revokedReason, 'reuse');
        assert.equal(stored?.revokedAt, NOW + 2001);
      });

      it('attack: the predecessor presented 1 ms after the window is reuse and revokes the family', async () => {
        const { store, session, previous } = await rotatedOnce();
        const late = await store.rotate(previous, hash(), {
          now: NOW + 1000 + GRACE + 1,
          idleMs: IDLE,
          reuseGraceMs: GRACE,
        });
        assert.equal(late.status, 'reused');
        assert.equal((await store.getSession(session.id))?.revokedReason, 'reuse');
      });

      it('attack: a hash older than the immediate predecessor is reuse, even inside the window', async () => {
        const { store, session, previous, current } = await rotatedOnce();
        await store.rotate(current, hash(), { now: NOW + 1500, idleMs: IDLE, reuseGraceMs: GRACE });
        const old = await store.rotate(previous, hash(), {
          now: NOW + 1600,
          idleMs: IDLE,
          reuseGraceMs: GRACE,
        });
        assert.equal(old.status, 'reused');
        assert.equal((await store.getSession(session.id))?.revokedReason, 'reuse');
      });

      it('a normal rotation starts a new step: its predecessor has a grace of its own, counted from that rotation', async () => {
        const { store, previous } = await rotatedOnce();
        const third = hash();
        const rule = { idleMs: IDLE, reuseGraceMs: GRACE };
        // Step 1's grace is used...
        assert.equal(
          statusOf(await store.rotate(previous, third, { ...rule, now: NOW + 2000 })),
          'rotated',
        );
        // ...a normal rotation at NOW + 20 000 (past step 1's window) starts step 2.
        const fourth = hash();
        assert.equal(
          statusOf(await store.rotate(third, fourth, { ...rule, now: NOW + 20_000 })),
          'rotated',
        );
        const replay = await store.rotate(third, hash(), { ...rule, now: NOW + 20_000 + GRACE });
        assert.ok(replay.status === 'rotated' && replay.graced === true);
      });

      it('the predecessor of a revoked family is revoked, not graced; of an expired family, expired with nothing changed', async () => {
        const revoked = await rotatedOnce();
        await revoked.store.revokeSession(revoked.session.id, 'logout', NOW + 1500);
        const rule = { now: NOW + 2000, idleMs: IDLE, reuseGraceMs: GRACE };
        assert.equal(
          statusOf(await revoked.store.rotate(revoked.previous, hash(), rule)),
          'revoked',
        );
        assert.equal((await revoked.store.getSession(revoked.session.id))?.revokedReason, 'logout');

        const ending = await rotatedOnce({ expiresAt: NOW + 1500 });
        const expired = await ending.store.rotate(ending.previous, hash(), rule);
        assert.equal(expired.status, 'expired');
        const stored = await ending.store.getSession(ending.session.id);
        assert.equal(stored?.revokedAt, null);
        assert.equal(stored?.lastUsedAt, NOW + 1000);
      });

      it('the predecessor of a family never rotated does not exist: the first token, once rotated, is the predecessor', async () => {
        const { store, token } = await storeWithSession();
        // Rotated at creation time + 0: the grace window counts from this rotation.
        await store.rotate(token, hash(), { now: NOW, idleMs: IDLE, reuseGraceMs: GRACE });
        const replay = await store.rotate(token, hash(), {
          now: NOW + GRACE,
          idleMs: IDLE,
          reuseGraceMs: GRACE,
        });
        assert.ok(replay.status === 'rotated' && replay.graced === true);
      });

      it('of 20 concurrent replays of the predecessor inside the window, exactly one is graced and the rest revoke the family', async () => {
        const { store, session, previous } = await rotatedOnce();
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.rotate(previous, hash(), {
              now: NOW + 2000 + i,
              idleMs: IDLE,
              reuseGraceMs: GRACE,
            }),
          ),
        );
        const graced = results.filter((r) => r.status === 'rotated');
        assert.equal(graced.length, 1);
        assert.ok(graced[0]!.status === 'rotated' && graced[0]!.graced === true);
        for (const result of results) {
          assert.ok(['rotated', 'reused', 'revoked'].includes(result.status), result.status);
        }
        assert.ok(results.some((r) => r.status === 'reused'));
        assert.equal((await store.getSession(session.id))?.revokedReason, 'reuse');
      });

      it('a predecessor replay racing the rotation of the current token: exactly one rotates, the other is reuse', async () => {
        const { store, session, previous, current } = await rotatedOnce();
        const rule = { now: NOW + 2000, idleMs: IDLE, reuseGraceMs: GRACE };
        const results = await Promise.all([
          store.rotate(previous, hash(), rule),
          store.rotate(current, hash(), rule),
        ]);
        assert.deepEqual(results.map(statusOf).sort(), ['reused', 'rotated']);
        assert.equal((await store.getSession(session.id))?.revokedReason, 'reuse');
      });
    });

    describe('device fields', () => {
      it('stores ip, userAgent and label as given: a 512-character user agent, a 100-character non-ASCII label', async () => {
        const { store, session } = await storeWithSession({
          ip: '2001:db8::1',
          userAgent: `Mozilla/5.0 ${'x'.repeat(500)}`,
          label: `Laptop de Zoë ${'é'.repeat(86)}`,
        });
        assert.equal(session.userAgent?.length, 512);
        assert.equal(session.label?.length, 100);
        assert.deepEqual(await store.getSession(session.id), session);
      });

      it('stores null device fields as null', async () => {
        const { store, session } = await storeWithSession({
          ip: null,
          userAgent: null,
          label: null,
        });
        const stored = await store.getSession(session.id);
        assert.equal(stored?.ip, null);
        assert.equal(stored?.userAgent, null);
        assert.equal(stored?.label, null);
      });

      it('keeps the device fields through rotations and revocation', async () => {
        const { store, session, token } = await storeWithSession({ label: 'Phone' });
        const rotated = await store.rotate(token, hash(), { now: NOW + 1, idleMs: IDLE });
        assert.ok(rotated.status === 'rotated');
        assert.equal(rotated.session.label, 'Phone');
        assert.equal(rotated.session.ip, session.ip);
        await store.revokeSession(session.id, 'logout', NOW + 2);
        assert.equal((await store.getSession(session.id))?.userAgent, session.userAgent);
      });
    });

    describe('listSessions', () => {
      it("lists the user's sessions not revoked, newest first, expired ones included", async () => {
        const store = await factory();
        const userId = randomUUID();
        const oldest = newSession({ userId, createdAt: NOW - 3000, expiresAt: NOW - 1 });
        const middle = newSession({ userId, createdAt: NOW - 2000 });
        const revoked = newSession({ userId, createdAt: NOW - 1500 });
        const newest = newSession({ userId, createdAt: NOW - 1000, label: 'Newest' });
        for (const s of [middle, newest, oldest, revoked]) await store.createSession(s, hash());
        await store.revokeSession(revoked.id, 'logout', NOW);
        assert.deepEqual(await store.listSessions(userId), [newest, middle, oldest]);
      });

      it("leaves other users' sessions out, and returns [] for a user without sessions", async () => {
        const { store, session } = await storeWithSession();
        await store.createSession(newSession(), hash());
        assert.deepEqual(await store.listSessions(session.userId), [session]);
        assert.deepEqual(await store.listSessions(randomUUID()), []);
      });

      it('returns snapshots: changing one changes nothing stored', async () => {
        const { store, session } = await storeWithSession();
        const [listed] = await store.listSessions(session.userId);
        assert.ok(listed);
        listed.revokedAt = NOW;
        listed.label = 'changed';
        assert.deepEqual(await store.getSession(session.id), session);
      });
    });

    describe('touchSession', () => {
      it('sets lastUsedAt = now when the last use is at least minIntervalMs old', async () => {
        const { store, session } = await storeWithSession();
        await store.touchSession(session.id, NOW + 60_000, 60_000);
        assert.equal((await store.getSession(session.id))?.lastUsedAt, NOW + 60_000);
      });

      it('changes nothing when the last use is more recent than minIntervalMs', async () => {
        const { store, session } = await storeWithSession();
        await store.touchSession(session.id, NOW + 59_999, 60_000);
        assert.deepEqual(await store.getSession(session.id), session);
      });

      it('never moves lastUsedAt backwards (a touch with an older clock changes nothing)', async () => {
        const { store, session } = await storeWithSession({ lastUsedAt: NOW + 120_000 });
        await store.touchSession(session.id, NOW + 60_000, 0);
        assert.equal((await store.getSession(session.id))?.lastUsedAt, NOW + 120_000);
      });

      it('changes nothing on a revoked session, and does not throw for an unknown id', async () => {
        const { store, session } = await storeWithSession();
        await store.revokeSession(session.id, 'logout', NOW + 1);
        await store.touchSession(session.id, NOW + DAY, 60_000);
        assert.equal((await store.getSession(session.id))?.lastUsedAt, NOW);
        await store.touchSession(randomUUID(), NOW + DAY, 60_000);
      });

      it('a touch keeps a family alive: rotate measures idleness from it', async () => {
        const { store, session, token } = await storeWithSession();
        await store.touchSession(session.id, NOW + DAY, 60_000);
        assert.equal(
          statusOf(await store.rotate(token, hash(), { now: NOW + 2 * DAY, idleMs: DAY })),
          'rotated',
        );
      });

      it('of 20 concurrent touches of one session, the result is one write of now and nothing else changes', async () => {
        const { store, session } = await storeWithSession();
        await Promise.all(
          Array.from({ length: 20 }, () => store.touchSession(session.id, NOW + 60_000, 60_000)),
        );
        assert.deepEqual(await store.getSession(session.id), {
          ...session,
          lastUsedAt: NOW + 60_000,
        });
      });
    });

    describe('deleteUserSessions', () => {
      it('deletes every session of the user, revoked ones too, with their hashes, and returns the count', async () => {
        const store = await factory();
        const userId = randomUUID();
        const active = newSession({ userId });
        const ended = newSession({ userId });
        const activeToken = hash();
        const endedToken = hash();
        await store.createSession(active, activeToken);
        await store.createSession(ended, endedToken);
        const rotated = hash();
        await store.rotate(activeToken, rotated, { now: NOW + 1, idleMs: IDLE });
        await store.revokeSession(ended.id, 'logout', NOW + 2);
        assert.equal(await store.deleteUserSessions(userId), 2);
        assert.equal(await store.getSession(active.id), null);
        assert.equal(await store.getSession(ended.id), null);
        assert.deepEqual(await store.listSessions(userId), []);
        for (const gone of [activeToken, rotated, endedToken]) {
          assert.equal(
            statusOf(await store.rotate(gone, hash(), { now: NOW + 3, idleMs: IDLE })),
            'unknown',
          );
          if (typeof store.findSessionByTokenHash === 'function') {
            assert.equal(await store.findSessionByTokenHash(gone), null);
          }
        }
      });

      it("leaves other users' sessions, and returns 0 for a user without sessions", async () => {
        const { store, session, token } = await storeWithSession();
        assert.equal(await store.deleteUserSessions(randomUUID()), 0);
        assert.deepEqual(await store.getSession(session.id), session);
        assert.equal(
          statusOf(await store.rotate(token, hash(), { now: NOW + 1, idleMs: IDLE })),
          'rotated',
        );
      });
    });

    if (suiteOptions.findSessionByTokenHash !== false) {
      describe('findSessionByTokenHash (optional; checked when the store has it)', () => {
        it('returns null for a hash it never stored', async () => {
          const { store } = await storeWithSession();
          const find = lookupOf(store);
          if (find === null) return;
          assert.equal(await find(hash()), null);
        });

        it('finds the session of its current hash, as getSession returns it', async () => {
          const { store, session, token } = await storeWithSession();
          const find = lookupOf(store);
          if (find === null) return;
          assert.deepEqual(await find(token), session);
        });

        it('finds the session of an already rotated hash (rotate reports it reused, not unknown), and of the new hash', async () => {
          const { store, session, token } = await storeWithSession();
          const find = lookupOf(store);
          if (find === null) return;
          const next = hash();
          await store.rotate(token, next, { now: NOW + 1000, idleMs: IDLE });
          const rotated = { ...session, lastUsedAt: NOW + 1000 };
          assert.deepEqual(await find(token), rotated);
          assert.deepEqual(await find(next), rotated);
          assert.equal(
            statusOf(await store.rotate(token, hash(), { now: NOW + 2000, idleMs: IDLE })),
            'reused',
          );
        });

        it('changes nothing: lastUsedAt stays, the current hash still rotates, a rotated one is still reuse', async () => {
          const { store, session, token } = await storeWithSession();
          const find = lookupOf(store);
          if (find === null) return;
          const next = hash();
          await store.rotate(token, next, { now: NOW + 1, idleMs: IDLE });
          for (const h of [token, next, token, next]) await find(h);
          assert.equal((await store.getSession(session.id))?.lastUsedAt, NOW + 1);
          assert.equal((await store.getSession(session.id))?.revokedAt, null);
          assert.equal(
            statusOf(await store.rotate(next, hash(), { now: NOW + 2, idleMs: IDLE })),
            'rotated',
          );
          assert.equal(
            statusOf(await store.rotate(token, hash(), { now: NOW + 3, idleMs: IDLE })),
            'reused',
          );
        });

        it('finds a revoked or an expired family as it is stored (rotate stays the judge)', async () => {
          const revoked = await storeWithSession();
          const find = lookupOf(revoked.store);
          if (find === null) return;
          await revoked.store.revokeSession(revoked.session.id, 'logout', NOW + 5);
          assert.deepEqual(await find(revoked.token), {
            ...revoked.session,
            revokedAt: NOW + 5,
            revokedReason: 'logout',
          });
          const ended = await storeWithSession({ expiresAt: NOW + 10 });
          const findEnded = lookupOf(ended.store)!;
          assert.deepEqual(await findEnded(ended.token), ended.session);
        });

        it('keeps families apart: each hash names its own session', async () => {
          const { store, session, token } = await storeWithSession();
          const find = lookupOf(store);
          if (find === null) return;
          const other = newSession();
          const otherToken = hash();
          await store.createSession(other, otherToken);
          assert.equal((await find(token))?.id, session.id);
          assert.equal((await find(otherToken))?.id, other.id);
        });

        it('returns null once the family is pruned, where rotate answers unknown', async () => {
          const { store, session, token } = await storeWithSession();
          const find = lookupOf(store);
          if (find === null) return;
          const next = hash();
          await store.rotate(token, next, { now: NOW + 1, idleMs: IDLE });
          await store.revokeSession(session.id, 'logout', NOW + 2);
          await store.prune(NOW + 3);
          assert.equal(await find(token), null);
          assert.equal(await find(next), null);
        });

        it('returns a snapshot: changing it changes nothing stored', async () => {
          const { store, session, token } = await storeWithSession();
          const find = lookupOf(store);
          if (find === null) return;
          const found = await find(token);
          assert.ok(found);
          found.revokedAt = NOW;
          found.userId = 'someone-else';
          assert.deepEqual(await find(token), session);
        });
      });
    }

    describe('revokeSession', () => {
      it('sets revokedAt and revokedReason', async () => {
        const { store, session } = await storeWithSession();
        await store.revokeSession(session.id, 'logout', NOW + 5);
        assert.deepEqual(await store.getSession(session.id), {
          ...session,
          revokedAt: NOW + 5,
          revokedReason: 'logout',
        });
      });

      it('is idempotent and keeps the first revocation’s time and reason', async () => {
        const { store, session } = await storeWithSession();
        await store.revokeSession(session.id, 'logout', NOW + 5);
        await store.revokeSession(session.id, 'password_changed', NOW + 9);
        const stored = await store.getSession(session.id);
        assert.equal(stored?.revokedAt, NOW + 5);
        assert.equal(stored?.revokedReason, 'logout');
      });

      it('does nothing (and does not throw) for an unknown session id', async () => {
        const store = await factory();
        const id = randomUUID();
        await store.revokeSession(id, 'logout', NOW);
        assert.equal(await store.getSession(id), null);
      });

      it('revokes only the given session', async () => {
        const { store, session } = await storeWithSession();
        const sibling = newSession({ userId: session.userId });
        await store.createSession(sibling, hash());
        await store.revokeSession(session.id, 'logout', NOW + 1);
        assert.equal((await store.getSession(sibling.id))?.revokedAt, null);
      });
    });

    describe('revokeUserSessions', () => {
      it('revokes every session of the user and returns the count', async () => {
        const { store, session } = await storeWithSession();
        const second = newSession({ userId: session.userId });
        await store.createSession(second, hash());
        assert.equal(await store.revokeUserSessions(session.userId, 'logout_all', NOW + 3), 2);
        for (const id of [session.id, second.id]) {
          const stored = await store.getSession(id);
          assert.equal(stored?.revokedAt, NOW + 3);
          assert.equal(stored?.revokedReason, 'logout_all');
        }
      });

      it('spares exceptSessionId', async () => {
        const { store, session } = await storeWithSession();
        const second = newSession({ userId: session.userId });
        await store.createSession(second, hash());
        assert.equal(
          await store.revokeUserSessions(session.userId, 'password_changed', NOW + 3, session.id),
          1,
        );
        assert.equal((await store.getSession(session.id))?.revokedAt, null);
        assert.equal((await store.getSession(second.id))?.revokedReason, 'password_changed');
      });

      it('leaves other users’ sessions untouched', async () => {
        const { store, session } = await storeWithSession();
        const stranger = newSession();
        await store.createSession(stranger, hash());
        await store.revokeUserSessions(session.userId, 'logout_all', NOW + 3);
        assert.deepEqual(await store.getSession(stranger.id), stranger);
      });

      it('does not count nor overwrite already revoked sessions', async () => {
        const { store, session } = await storeWithSession();
        const second = newSession({ userId: session.userId });
        await store.createSession(second, hash());
        await store.revokeSession(session.id, 'logout', NOW + 1);
        assert.equal(await store.revokeUserSessions(session.userId, 'logout_all', NOW + 3), 1);
        const first = await store.getSession(session.id);
        assert.equal(first?.revokedAt, NOW + 1);
        assert.equal(first?.revokedReason, 'logout');
      });

      it('returns 0 for a user without sessions', async () => {
        const store = await factory();
        assert.equal(await store.revokeUserSessions(randomUUID(), 'logout_all', NOW), 0);
      });

      it('makes the revoked sessions’ refresh tokens rotate as revoked', async () => {
        const { store, session, token } = await storeWithSession();
        await store.revokeUserSessions(session.userId, 'user_disabled', NOW + 1);
        assert.equal(
          statusOf(await store.rotate(token, hash(), { now: NOW + 2, idleMs: IDLE })),
          'revoked',
        );
      });
    });

    if (suiteOptions.watchRevocations) {
      describe('watchRevocations', () => {
        it('announces revokeSession to every open watch', async () => {
          const { store, session } = await storeWithSession();
          const a = await watching(store);
          const b = await watching(store);
          try {
            await store.revokeSession(session.id, 'logout', NOW + 1);
            const expected = [{ kind: 'session', sessionId: session.id }];
            await until(() => a.events.length > 0 && b.events.length > 0, 'the session event');
            assert.deepEqual(a.events, expected);
            assert.deepEqual(b.events, expected);
          } finally {
            await a.watch.close();
            await b.watch.close();
          }
        });

        it('announces revokeUserSessions as one user event, with and without exceptSessionId', async () => {
          const { store, session } = await storeWithSession();
          for (let i = 0; i < 2; i++) {
            await store.createSession(newSession({ userId: session.userId }), hash());
          }
          const { events, watch } = await watching(store);
          try {
            await store.revokeUserSessions(session.userId, 'password_changed', NOW + 1, session.id);
            await until(() => events.length > 0, 'the user event');
            await store.revokeUserSessions(session.userId, 'logout_all', NOW + 2);
            await until(() => events.length > 1, 'the second user event');
            const expected = { kind: 'user', userId: session.userId };
            assert.deepEqual(events, [expected, expected]);
          } finally {
            await watch.close();
          }
        });

        it('announces the family revoked by reuse detection in rotate', async () => {
          const { store, session, token } = await storeWithSession();
          await store.rotate(token, hash(), { now: NOW + 1, idleMs: IDLE });
          const { events, watch } = await watching(store);
          try {
            const result = await store.rotate(token, hash(), { now: NOW + 2, idleMs: IDLE });
            assert.equal(result.status, 'reused');
            await until(() => events.length > 0, 'the reuse event');
            assert.deepEqual(events, [{ kind: 'session', sessionId: session.id }]);
          } finally {
            await watch.close();
          }
        });

        it('announces nothing but revocations: creating, rotating and an expired rotation are silent', async () => {
          const { store, token } = await storeWithSession({ expiresAt: NOW + DAY });
          const { events, watch } = await watching(store);
          try {
            const other = newSession();
            const otherToken = hash();
            await store.createSession(other, otherToken);
            await store.rotate(otherToken, hash(), { now: NOW + 1, idleMs: IDLE });
            await store.rotate(token, hash(), { now: NOW + 2 * DAY, idleMs: IDLE });
            await store.rotate(hash(), hash(), { now: NOW + 1, idleMs: IDLE });
            // A revocation after them all: once it is heard, anything earlier would have been.
            await store.revokeSession(other.id, 'logout', NOW + 3);
            await until(() => events.length > 0, 'the closing revocation');
            assert.deepEqual(events, [{ kind: 'session', sessionId: other.id }]);
          } finally {
            await watch.close();
          }
        });

        it('announces nothing for a graced rotation (the family lives on)', async () => {
          const { store, session, token } = await storeWithSession();
          const rule = { now: NOW + 1, idleMs: IDLE, reuseGraceMs: GRACE };
          await store.rotate(token, hash(), rule);
          const { events, watch } = await watching(store);
          try {
            const graced = await store.rotate(token, hash(), { ...rule, now: NOW + 2 });
            assert.ok(graced.status === 'rotated' && graced.graced === true);
            await store.revokeSession(session.id, 'logout', NOW + 3);
            await until(() => events.length > 0, 'the closing revocation');
            assert.deepEqual(events, [{ kind: 'session', sessionId: session.id }]);
          } finally {
            await watch.close();
          }
        });

        it('delivers nothing to a closed watch, while the others still hear', async () => {
          const { store, session } = await storeWithSession();
          const closed = await watching(store);
          const open = await watching(store);
          try {
            await closed.watch.close();
            assert.equal(closed.watch.live, false);
            await store.revokeSession(session.id, 'logout', NOW + 1);
            await until(() => open.events.length > 0, 'the event on the open watch');
            assert.deepEqual(closed.events, []);
          } finally {
            await open.watch.close();
          }
        });
      });
    }

    describe('prune', () => {
      it('deletes a session revoked before olderThan, with its hashes', async () => {
        const { store, session, token } = await storeWithSession();
        await store.revokeSession(session.id, 'logout', NOW + 10);
        assert.equal(await store.prune(NOW + 11), 1);
        assert.equal(await store.getSession(session.id), null);
        assert.equal(
          statusOf(await store.rotate(token, hash(), { now: NOW + 12, idleMs: IDLE })),
          'unknown',
        );
      });

      it('keeps a session revoked at exactly olderThan', async () => {
        const { store, session } = await storeWithSession();
        await store.revokeSession(session.id, 'logout', NOW + 10);
        assert.equal(await store.prune(NOW + 10), 0);
        assert.ok(await store.getSession(session.id));
      });

      it('deletes a session whose expiresAt is before olderThan and keeps one ending at it', async () => {
        const store = await factory();
        const ended = newSession({ expiresAt: NOW + 10 });
        const endingNow = newSession({ expiresAt: NOW + 11 });
        await store.createSession(ended, hash());
        await store.createSession(endingNow, hash());
        assert.equal(await store.prune(NOW + 11), 1);
        assert.equal(await store.getSession(ended.id), null);
        assert.ok(await store.getSession(endingNow.id));
      });

      it('keeps active sessions', async () => {
        const { store, session, token } = await storeWithSession();
        assert.equal(await store.prune(NOW + DAY), 0);
        assert.deepEqual(await store.getSession(session.id), session);
        assert.equal(
          statusOf(await store.rotate(token, hash(), { now: NOW + DAY, idleMs: IDLE })),
          'rotated',
        );
      });
    });
  });
}
