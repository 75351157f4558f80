import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import type { RotationResult, SessionRecord, TokenStore } from '../stores/types.js';
import type { StoreFactory, TestApi } from './harness.js';

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
    ...overrides,
  };
}

function statusOf(result: RotationResult): string {
  return result.status;
}

/**
 * Registers the conformance cases of a {@link TokenStore}: every rule of its TSDoc, including
 * that of 20 concurrent rotations of one hash exactly one is `rotated`. Runner-agnostic: pass
 * your runner's `describe` and `it`. `factory` is called once per case and must return an
 * empty store (the `prune` cases count what they delete). Session and user ids are random
 * UUIDs; hashes are 64 hex characters.
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
): void {
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
