import assert from 'node:assert/strict';
import type { UserStore } from '../stores/types.js';
import type { StoreFactory, TestApi } from './harness.js';

const HASH = `$2b$10$${'a'.repeat(53)}`;

function newUser(email: string) {
  return { email, name: 'Test User', role: 'user', passwordHash: HASH };
}

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => (err as { code?: string }).code === code);
}

/**
 * The conformance suite of a {@link UserStore}: every rule written in the interface's TSDoc.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { describeUserStore } from 'gatehouse/testing';
 * describeUserStore('MyUserStore', () => new MyUserStore(db), { describe, it });
 * ```
 */
export function describeUserStore(name: string, factory: StoreFactory<UserStore>, t: TestApi) {
  t.describe(`UserStore conformance: ${name}`, () => {
    t.it('creates a user with an id, active, timestamps and no last login', async () => {
      const store = await factory();
      const user = await store.create(newUser('ada@example.com'));
      assert.equal(typeof user.id, 'string');
      assert.ok(user.id.length > 0);
      assert.equal(user.email, 'ada@example.com');
      assert.equal(user.role, 'user');
      assert.equal(user.isActive, true);
      assert.equal(user.lastLoginAt, null);
      assert.ok(user.createdAt instanceof Date);
      assert.ok(user.updatedAt instanceof Date);
    });

    t.it('finds a user by email and by id', async () => {
      const store = await factory();
      const user = await store.create(newUser('grace@example.com'));
      assert.equal((await store.findByEmail('grace@example.com'))?.id, user.id);
      assert.equal((await store.findById(user.id))?.email, 'grace@example.com');
      assert.equal((await store.findById(user.id))?.passwordHash, HASH);
    });

    t.it('returns null for an unknown email, an unknown id and a malformed id', async () => {
      const store = await factory();
      assert.equal(await store.findByEmail('nobody@example.com'), null);
      assert.equal(await store.findById('00000000-0000-4000-8000-000000000000'), null);
      assert.equal(await store.findById("1' OR '1'='1"), null);
    });

    t.it('refuses a duplicate email with EMAIL_TAKEN', async () => {
      const store = await factory();
      await store.create(newUser('dup@example.com'));
      await rejectsWithCode(store.create(newUser('dup@example.com')), 'EMAIL_TAKEN');
    });

    t.it('lets exactly one of 10 concurrent creates with the same email succeed', async () => {
      const store = await factory();
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () => store.create(newUser('race@example.com'))),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) {
        if (r.status === 'rejected')
          assert.equal((r.reason as { code?: string }).code, 'EMAIL_TAKEN');
      }
    });

    t.it('updates the given fields only and returns the updated user', async () => {
      const store = await factory();
      const user = await store.create(newUser('upd@example.com'));
      const at = new Date('2030-01-02T03:04:05.000Z');
      const updated = await store.update(user.id, { name: 'New Name', lastLoginAt: at });
      assert.equal(updated?.name, 'New Name');
      assert.equal(updated?.role, 'user');
      assert.equal(updated?.isActive, true);
      assert.equal(updated?.lastLoginAt?.getTime(), at.getTime());
      const disabled = await store.update(user.id, { isActive: false, role: 'admin' });
      assert.equal(disabled?.isActive, false);
      assert.equal(disabled?.role, 'admin');
      assert.equal(disabled?.name, 'New Name');
    });

    t.it('returns null when updating an unknown user', async () => {
      const store = await factory();
      assert.equal(await store.update('00000000-0000-4000-8000-000000000000', { name: 'x' }), null);
    });

    t.it('replaces the password hash only when the expected hash still matches', async () => {
      const store = await factory();
      const user = await store.create(newUser('cas@example.com'));
      const second = `$2b$12$${'b'.repeat(53)}`;
      const third = `$2b$12$${'c'.repeat(53)}`;
      assert.equal(await store.replacePasswordHash(user.id, HASH, second), true);
      assert.equal(await store.replacePasswordHash(user.id, HASH, third), false);
      assert.equal((await store.findById(user.id))?.passwordHash, second);
    });

    t.it('lets exactly one of concurrent compare-and-set hash replacements win', async () => {
      const store = await factory();
      const user = await store.create(newUser('cas-race@example.com'));
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.replacePasswordHash(user.id, HASH, `$2b$11$${String(i).repeat(53).slice(0, 53)}`),
        ),
      );
      assert.equal(results.filter(Boolean).length, 1);
    });

    t.it('deletes a user, frees its email, and reports whether one existed', async () => {
      const store = await factory();
      const user = await store.create(newUser('del@example.com'));
      assert.equal(await store.delete(user.id), true);
      assert.equal(await store.delete(user.id), false);
      assert.equal(await store.findById(user.id), null);
      assert.equal(await store.findByEmail('del@example.com'), null);
      await store.create(newUser('del@example.com'));
    });
  });
}
