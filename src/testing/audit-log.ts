import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '../audit/events.js';
import type { AuditLogStore } from '../stores/types.js';
import type { StoreFactory, TestApi } from './harness.js';

const T0 = Date.UTC(2030, 0, 1);
const MINUTE = 60_000;

function event(userId: string | undefined, at: number, overrides: Partial<AuditEvent> = {}) {
  const built: AuditEvent = {
    timestamp: new Date(at).toISOString(),
    event: 'LOGIN_SUCCEEDED',
    status: 'success',
    ip: '203.0.113.7',
    userAgent: 'conformance',
    requestId: randomUUID(),
    metadata: { method: 'password', emailHash: 'a1b2c3d4e5f60718293a4b5c6d7e8f90' },
    ...overrides,
  };
  if (userId !== undefined) built.userId = userId;
  return built;
}

/**
 * Registers the conformance cases of an {@link AuditLogStore}: `write` then `listForUser`
 * returns the user's events as written, newest first, within `limit`, and no other user's;
 * `pseudonymiseUser` replaces the user id and removes `metadata.emailHash` on every event of
 * the user and no other, keeps the rest of each event, and finds nothing left the second time;
 * `prune` deletes only older events. Runner-agnostic: pass your runner's `describe` and `it`.
 * `factory` is called once per case and must return an empty store.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { describeAuditLogStore } from 'gatehouse/testing';
 * import { MemoryAuditLog } from 'gatehouse';
 *
 * describeAuditLogStore('MemoryAuditLog', () => new MemoryAuditLog(), { describe, it });
 * ```
 */
export function describeAuditLogStore(
  name: string,
  factory: StoreFactory<AuditLogStore>,
  { describe, it }: TestApi,
): void {
  describe(`AuditLogStore conformance: ${name}`, () => {
    it('listForUser returns the events written for the user, as written', async () => {
      const log = await factory();
      const user = randomUUID();
      const written = event(user, T0);
      await log.write(written);
      assert.deepEqual(await log.listForUser(user, { limit: 10 }), [written]);
    });

    it("listForUser returns newest first, at most limit, and never another user's event", async () => {
      const log = await factory();
      const user = randomUUID();
      const other = randomUUID();
      const events = [0, 1, 2, 3].map((i) => event(user, T0 + i * MINUTE));
      // Written out of order: the order comes from the timestamps.
      for (const each of [events[2]!, events[0]!, events[3]!, events[1]!]) await log.write(each);
      await log.write(event(other, T0 + 10 * MINUTE));
      await log.write(event(undefined, T0 + 11 * MINUTE));
      assert.deepEqual(await log.listForUser(user, { limit: 10 }), [...events].reverse());
      assert.deepEqual(await log.listForUser(user, { limit: 2 }), [events[3], events[2]]);
      assert.deepEqual(await log.listForUser(randomUUID(), { limit: 10 }), []);
    });

    it('write stores a snapshot: changing the event afterwards changes nothing stored', async () => {
      const log = await factory();
      const user = randomUUID();
      const written = event(user, T0);
      const expected = structuredClone(written);
      await log.write(written);
      written.metadata['method'] = 'changed';
      written.userId = randomUUID();
      assert.deepEqual(await log.listForUser(user, { limit: 10 }), [expected]);
    });

    it('pseudonymiseUser replaces the user id and removes the email hash on every event of the user, and no other', async () => {
      const log = await factory();
      const user = randomUUID();
      const other = randomUUID();
      const pseudonym = `erased:${randomUUID()}`;
      const mine = [event(user, T0), event(user, T0 + MINUTE, { event: 'LOGIN_FAILED' })];
      const theirs = event(other, T0 + 2 * MINUTE);
      for (const each of [...mine, theirs]) await log.write(each);

      assert.equal(await log.pseudonymiseUser(user, pseudonym), 2);
      assert.deepEqual(await log.listForUser(user, { limit: 10 }), [], 'no event keeps the id');
      const renamed = await log.listForUser(pseudonym, { limit: 10 });
      assert.equal(renamed.length, 2);
      for (const [i, each] of renamed.entries()) {
        const original = mine[1 - i]!;
        const { emailHash: _removed, ...kept } = original.metadata;
        assert.deepEqual(each, { ...original, userId: pseudonym, metadata: kept });
      }
      assert.deepEqual(await log.listForUser(other, { limit: 10 }), [theirs]);
    });

    it('pseudonymiseUser with an email hash removes it from events without a user id, and from no other', async () => {
      const log = await factory();
      const user = randomUUID();
      const hash = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
      const anonymous = event(undefined, T0, {
        event: 'LOGIN_FAILED',
        metadata: { reason: 'locked', emailHash: hash },
      });
      const otherAddress = event(undefined, T0 + MINUTE, {
        event: 'LOGIN_FAILED',
        metadata: { reason: 'locked', emailHash: 'another' },
      });
      const otherUser = event(randomUUID(), T0 + 2 * MINUTE, { metadata: { emailHash: hash } });
      for (const each of [anonymous, otherAddress, otherUser]) await log.write(each);
      await log.write(event(user, T0 + 3 * MINUTE));
      assert.equal(await log.pseudonymiseUser(user, 'erased:z', { emailHash: hash }), 2);
      assert.deepEqual(await log.listForUser(otherUser.userId!, { limit: 10 }), [otherUser]);
      assert.equal(await log.pseudonymiseUser(user, 'erased:z', { emailHash: hash }), 0);
    });

    it('pseudonymiseUser a second time finds nothing left and returns 0 (a retried erasure)', async () => {
      const log = await factory();
      const user = randomUUID();
      await log.write(event(user, T0));
      assert.equal(await log.pseudonymiseUser(user, 'erased:x'), 1);
      assert.equal(await log.pseudonymiseUser(user, 'erased:x'), 0);
      assert.equal(await log.pseudonymiseUser(randomUUID(), 'erased:y'), 0);
    });

    it('prune deletes the events that occurred before the bound, and only those', async () => {
      const log = await factory();
      const user = randomUUID();
      const old = event(user, T0);
      const recent = event(user, T0 + 10 * MINUTE);
      await log.write(old);
      await log.write(recent);
      assert.equal(await log.prune(T0 - MINUTE), 0);
      assert.equal(await log.prune(T0 + MINUTE), 1);
      assert.deepEqual(await log.listForUser(user, { limit: 10 }), [recent]);
    });
  });
}
