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

    t.it(
      'creates a user that is not banned (bannedAt, bannedUntil and banReason null)',
      async () => {
        const store = await factory();
        const user = await store.create(newUser('fresh@example.com'));
        assert.equal(user.bannedAt, null);
        assert.equal(user.bannedUntil, null);
        assert.equal(user.banReason, null);
      },
    );

    t.it(
      'keeps a ban written by update, reads it by id and by email, and clears it with nulls',
      async () => {
        const store = await factory();
        const user = await store.create(newUser('banned@example.com'));
        const since = new Date('2030-01-02T03:04:05.000Z');
        const until = new Date('2030-02-01T00:00:00.000Z');
        const banned = await store.update(user.id, {
          bannedAt: since,
          bannedUntil: until,
          banReason: 'Spam: 40 listings in an hour',
        });
        assert.equal(banned?.bannedAt?.getTime(), since.getTime());
        assert.equal(banned?.bannedUntil?.getTime(), until.getTime());
        assert.equal(banned?.banReason, 'Spam: 40 listings in an hour');
        // The login path reads users by email: the ban must be there too.
        const byEmail = await store.findByEmail('banned@example.com');
        assert.equal(byEmail?.bannedAt?.getTime(), since.getTime());
        assert.equal(byEmail?.banReason, 'Spam: 40 listings in an hour');
        // A patch of other fields leaves the ban as it is.
        const renamed = await store.update(user.id, { name: 'Renamed' });
        assert.equal(renamed?.bannedUntil?.getTime(), until.getTime());
        const permanent = await store.update(user.id, { bannedUntil: null });
        assert.equal(permanent?.bannedAt?.getTime(), since.getTime());
        assert.equal(permanent?.bannedUntil, null);
        const cleared = await store.update(user.id, {
          bannedAt: null,
          bannedUntil: null,
          banReason: null,
        });
        assert.equal(cleared?.bannedAt, null);
        assert.equal(cleared?.bannedUntil, null);
        assert.equal(cleared?.banReason, null);
        assert.equal((await store.findById(user.id))?.bannedAt, null);
      },
    );

    t.it(
      'lists users in code point order of the email, page by page, each exactly once',
      async () => {
        const store = await factory();
        // Code point (UTF-8 byte) order, which neither a linguistic collation (that skips
        // punctuation) nor JavaScript's `<` on UTF-16 units (U+E000 against an emoji) gives.
        const ordered = [
          'a-b@example.com',
          'a.b@example.com',
          'a@example.com',
          'a_b@example.com',
          'ab@example.com',
          'x\uE000@example.com',
          'x\u{1F600}@example.com',
          'z@example.com',
          '\u00E9mile@example.com',
        ];
        for (const i of [4, 8, 0, 6, 2, 7, 1, 5, 3]) await store.create(newUser(ordered[i]!));
        const seen: string[] = [];
        const cursors: (string | null)[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 5; page++) {
          const result = await store.listUsers(
            cursor === undefined ? { limit: 4 } : { limit: 4, cursor },
          );
          assert.ok(result.users.length <= 4);
          seen.push(...result.users.map((u) => u.email));
          cursors.push(result.nextCursor);
          if (result.nextCursor === null) break;
          cursor = result.nextCursor;
        }
        assert.deepEqual(seen, ordered);
        assert.deepEqual(cursors, ['a_b@example.com', 'z@example.com', null]);
      },
    );

    t.it(
      'lists every field of a user (the ban included) and never more than the limit',
      async () => {
        const store = await factory();
        const user = await store.create(newUser('listed@example.com'));
        await store.create(newUser('other@example.com'));
        const since = new Date('2030-01-02T03:04:05.000Z');
        await store.update(user.id, { bannedAt: since, bannedUntil: null, banReason: 'abuse' });
        const { users, nextCursor } = await store.listUsers({ limit: 1 });
        assert.equal(users.length, 1);
        assert.equal(nextCursor, 'listed@example.com');
        const [listed] = users;
        assert.equal(listed?.id, user.id);
        assert.equal(listed?.name, 'Test User');
        assert.equal(listed?.role, 'user');
        assert.equal(listed?.passwordHash, HASH);
        assert.equal(listed?.isActive, true);
        assert.ok(listed?.createdAt instanceof Date);
        assert.equal(listed?.bannedAt?.getTime(), since.getTime());
        assert.equal(listed?.bannedUntil, null);
        assert.equal(listed?.banReason, 'abuse');
      },
    );

    t.it(
      'answers an empty page with a null cursor for no users, and a null cursor when the last page is exactly full',
      async () => {
        const store = await factory();
        assert.deepEqual(await store.listUsers({ limit: 10 }), { users: [], nextCursor: null });
        for (const name of ['b', 'c', 'a']) await store.create(newUser(`${name}@example.com`));
        const full = await store.listUsers({ limit: 3 });
        assert.equal(full.users.length, 3);
        assert.equal(full.nextCursor, null);
        const past = await store.listUsers({ limit: 3, cursor: 'c@example.com' });
        assert.deepEqual(past, { users: [], nextCursor: null });
      },
    );

    t.it('filters by a prefix of the email, paginating within it', async () => {
      const store = await factory();
      for (const email of [
        'aa@example.com',
        'ab@example.com',
        'ab.c@example.com',
        'abz@example.com',
        'ac@example.com',
        'b@example.com',
      ]) {
        await store.create(newUser(email));
      }
      const emails = async (query: { limit: number; query?: string; cursor?: string }) => {
        const page = await store.listUsers(query);
        return { emails: page.users.map((u) => u.email), nextCursor: page.nextCursor };
      };
      assert.deepEqual(await emails({ limit: 10, query: 'ab' }), {
        emails: ['ab.c@example.com', 'ab@example.com', 'abz@example.com'],
        nextCursor: null,
      });
      assert.deepEqual(await emails({ limit: 2, query: 'ab' }), {
        emails: ['ab.c@example.com', 'ab@example.com'],
        nextCursor: 'ab@example.com',
      });
      assert.deepEqual(await emails({ limit: 2, query: 'ab', cursor: 'ab@example.com' }), {
        emails: ['abz@example.com'],
        nextCursor: null,
      });
      assert.deepEqual(await emails({ limit: 10, query: 'ab@example.com' }), {
        emails: ['ab@example.com'],
        nextCursor: null,
      });
      assert.deepEqual(await emails({ limit: 10, query: 'q' }), { emails: [], nextCursor: null });
    });

    t.it('matches LIKE wildcards in the query literally (% and _ are not patterns)', async () => {
      const store = await factory();
      for (const email of [
        'a_b@example.com',
        'a%b@example.com',
        'axb@example.com',
        'ab@example.com',
      ]) {
        await store.create(newUser(email));
      }
      const only = async (query: string) =>
        (await store.listUsers({ limit: 10, query })).users.map((u) => u.email);
      assert.deepEqual(await only('a_'), ['a_b@example.com']);
      assert.deepEqual(await only('a%'), ['a%b@example.com']);
      assert.deepEqual(await only('a\\'), []);
    });

    t.it(
      'continues after the cursor while users come and go: no repeat, a new later user shows',
      async () => {
        const store = await factory();
        for (const name of ['b', 'd', 'f', 'h']) await store.create(newUser(`${name}@example.com`));
        const first = await store.listUsers({ limit: 2 });
        assert.equal(first.nextCursor, 'd@example.com');
        // Created before the cursor's position: not on a later page; after it: on the next page.
        await store.create(newUser('a@example.com'));
        await store.create(newUser('e@example.com'));
        // The cursor's own user is deleted: the walk still resumes after its email.
        const d = await store.findByEmail('d@example.com');
        await store.delete(d!.id);
        const second = await store.listUsers({ limit: 10, cursor: first.nextCursor! });
        assert.deepEqual(
          second.users.map((u) => u.email),
          ['e@example.com', 'f@example.com', 'h@example.com'],
        );
        assert.equal(second.nextCursor, null);
      },
    );
  });
}
