import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { MailOutboxStore, OutboxMessage } from '../stores/types.js';
import type { StoreFactory, TestApi } from './harness.js';

const NOW = 1_700_000_000_000;
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const DAY = 86_400_000;
const LEASE = MINUTE;

/**
 * Reads what a {@link MailOutboxStore} still holds of a message, for the cases of
 * {@link describeMailOutboxStore} that check a delivered or given-up message keeps no content
 * (the interface itself has no read by id).
 *
 * @example
 * ```ts
 * const inspect: MailOutboxInspector = {
 *   content: async (_store, id) =>
 *     (await pool.query('SELECT subject, body_text AS text, body_html AS html FROM mail_outbox WHERE id = $1', [id]))
 *       .rows[0] ?? null,
 * };
 * describeMailOutboxStore('PostgresMailOutbox', factory, { describe, it }, inspect);
 * ```
 */
export interface MailOutboxInspector {
  /** The stored subject, text and html of message `id`, or null when there is no such message. */
  content(
    store: MailOutboxStore,
    id: string,
  ): Promise<{ subject: string; text: string; html: string } | null>;
}

function newMessage(overrides: Partial<OutboxMessage> = {}): OutboxMessage {
  const token = randomUUID();
  return {
    id: randomUUID(),
    kind: 'password_reset',
    to: `${randomUUID()}@example.com`,
    subject: 'Reset your password',
    text: `Open https://app.example.com/reset-password?token=${token}`,
    html: `<p><a href="https://app.example.com/reset-password?token=${token}">Reset</a></p>`,
    attempts: 0,
    nextAttemptAt: NOW,
    createdAt: NOW,
    expiresAt: null,
    ...overrides,
  };
}

/**
 * Registers the conformance cases of a {@link MailOutboxStore}: every rule of its TSDoc. `claim`
 * returns due messages oldest first with `attempts` incremented and never hands a leased message
 * to a second claim (50 concurrent claims of 20 messages return each exactly once); a lease that
 * ends makes the message claimable again (at-least-once); `markFailed` with `retryAt` delays it,
 * with `null` gives it up; `markDelivered` ends it; an expired message is given up instead of
 * returned; `pending` and `prune`. Pass `inspect` to also check that a delivered, given-up or
 * expired message keeps no content (subject, text and html become empty strings). Runner-agnostic:
 * pass your runner's `describe` and `it`. `factory` is called once per case and must return an
 * empty store.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { describeMailOutboxStore } from 'gatehouse/testing';
 * import { MemoryMailOutbox } from 'gatehouse';
 *
 * describeMailOutboxStore('MemoryMailOutbox', () => new MemoryMailOutbox(), { describe, it }, {
 *   content: async (store, id) => (store as MemoryMailOutbox).inspect(id),
 * });
 * ```
 */
export function describeMailOutboxStore(
  name: string,
  factory: StoreFactory<MailOutboxStore>,
  { describe, it }: TestApi,
  inspect?: MailOutboxInspector,
): void {
  async function storeWith(...messages: OutboxMessage[]) {
    const store = await factory();
    for (const message of messages) await store.enqueue(message);
    return store;
  }

  async function contentOf(store: MailOutboxStore, id: string) {
    const content = await inspect!.content(store, id);
    return content && { subject: content.subject, text: content.text, html: content.html };
  }

  async function assertErased(store: MailOutboxStore, id: string) {
    assert.deepEqual(await contentOf(store, id), { subject: '', text: '', html: '' });
  }

  describe(`MailOutboxStore conformance: ${name}`, () => {
    describe('enqueue and claim', () => {
      it('claim returns an enqueued, due message with every field as given and attempts + 1', async () => {
        const message = newMessage({ expiresAt: NOW + DAY });
        const store = await storeWith(message);
        assert.deepEqual(await store.claim(NOW, 10, LEASE), [{ ...message, attempts: 1 }]);
      });

      it('enqueuing an existing id is a no-op (the first content stays, one message)', async () => {
        const message = newMessage();
        const store = await storeWith(message, { ...message, subject: 'Something else' });
        assert.equal(await store.pending(), 1);
        const claimed = await store.claim(NOW, 10, LEASE);
        assert.equal(claimed.length, 1);
        assert.equal(claimed[0]!.subject, message.subject);
      });

      it('returns due messages oldest first, at most `limit`', async () => {
        const newest = newMessage({ createdAt: NOW - 1 * SECOND });
        const oldest = newMessage({ createdAt: NOW - 3 * SECOND });
        const middle = newMessage({ createdAt: NOW - 2 * SECOND });
        const store = await storeWith(newest, oldest, middle);
        const first = await store.claim(NOW, 2, LEASE);
        assert.deepEqual(
          first.map((m) => m.id),
          [oldest.id, middle.id],
        );
        assert.deepEqual(
          (await store.claim(NOW, 2, LEASE)).map((m) => m.id),
          [newest.id],
        );
      });

      it('does not return a message before its nextAttemptAt', async () => {
        const message = newMessage({ nextAttemptAt: NOW + 10 * SECOND });
        const store = await storeWith(message);
        assert.deepEqual(await store.claim(NOW + 10 * SECOND - 1, 10, LEASE), []);
        assert.deepEqual(
          (await store.claim(NOW + 10 * SECOND, 10, LEASE)).map((m) => m.id),
          [message.id],
        );
      });

      it('an empty outbox claims nothing', async () => {
        const store = await storeWith();
        assert.deepEqual(await store.claim(NOW, 10, LEASE), []);
      });
    });

    describe('leases', () => {
      it('a leased message is not returned to a second claim while its lease runs', async () => {
        const message = newMessage();
        const store = await storeWith(message);
        assert.equal((await store.claim(NOW, 10, LEASE)).length, 1);
        assert.deepEqual(await store.claim(NOW, 10, LEASE), []);
        assert.deepEqual(await store.claim(NOW + LEASE - 1, 10, LEASE), []);
      });

      it('50 concurrent claims of 20 messages return each message exactly once (several instances)', async () => {
        const messages = Array.from({ length: 20 }, (_, i) =>
          newMessage({ createdAt: NOW - (20 - i) }),
        );
        const store = await storeWith(...messages);
        const claims = await Promise.all(
          Array.from({ length: 50 }, () => store.claim(NOW, 2, LEASE)),
        );
        const ids = claims.flat().map((m) => m.id);
        assert.equal(ids.length, 20, 'every message claimed');
        assert.equal(new Set(ids).size, 20, 'no message claimed twice');
        assert.ok(
          claims.flat().every((m) => m.attempts === 1),
          'each message was claimed by one claim only',
        );
      });

      it('a message whose lease ended is claimable again with attempts + 1 (crashed worker, at-least-once)', async () => {
        const message = newMessage();
        const store = await storeWith(message);
        await store.claim(NOW, 10, LEASE);
        const again = await store.claim(NOW + LEASE, 10, LEASE);
        assert.deepEqual(
          again.map((m) => [m.id, m.attempts]),
          [[message.id, 2]],
        );
        assert.equal(await store.pending(), 1);
      });
    });

    describe('markFailed', () => {
      it('with retryAt: the message is due again at that time, not before, and its lease ends', async () => {
        const message = newMessage();
        const store = await storeWith(message);
        await store.claim(NOW, 10, 10 * MINUTE);
        await store.markFailed(message.id, {
          retryAt: NOW + 2 * SECOND,
          error: 'ECONNREFUSED',
          now: NOW,
        });
        assert.deepEqual(await store.claim(NOW + 2 * SECOND - 1, 10, LEASE), []);
        const retried = await store.claim(NOW + 2 * SECOND, 10, LEASE);
        assert.deepEqual(
          retried.map((m) => [m.id, m.attempts]),
          [[message.id, 2]],
          'due at retryAt although the first lease (10 minutes) had not ended',
        );
        assert.equal(retried[0]!.text, message.text, 'a retried message keeps its content');
      });

      it('with retryAt null: the message is given up, never claimed again, not pending', async () => {
        const message = newMessage();
        const other = newMessage({ createdAt: NOW + 1 });
        const store = await storeWith(message, other);
        await store.claim(NOW, 1, LEASE);
        await store.markFailed(message.id, { retryAt: null, error: 'rejected', now: NOW });
        assert.equal(await store.pending(), 1);
        const later = await store.claim(NOW + DAY, 10, LEASE);
        assert.deepEqual(
          later.map((m) => m.id),
          [other.id],
        );
      });
    });

    describe('markDelivered', () => {
      it('a delivered message is never claimed again, even after its lease, and is not pending', async () => {
        const message = newMessage();
        const store = await storeWith(message);
        await store.claim(NOW, 10, LEASE);
        await store.markDelivered(message.id, NOW + SECOND);
        assert.equal(await store.pending(), 0);
        assert.deepEqual(await store.claim(NOW + LEASE, 10, LEASE), []);
        assert.deepEqual(await store.claim(NOW + DAY, 10, LEASE), []);
      });
    });

    describe('expiry', () => {
      it('a message whose expiresAt has passed is given up instead of returned', async () => {
        const message = newMessage({ expiresAt: NOW + 30 * MINUTE });
        const store = await storeWith(message);
        assert.deepEqual(await store.claim(NOW + 30 * MINUTE, 10, LEASE), []);
        assert.equal(await store.pending(), 0, 'given up, no longer pending');
        assert.deepEqual(await store.claim(NOW + DAY, 10, LEASE), []);
      });

      it('a message without expiresAt stays deliverable', async () => {
        const message = newMessage({ expiresAt: null });
        const store = await storeWith(message);
        assert.equal((await store.claim(NOW + 365 * DAY, 10, LEASE)).length, 1);
      });

      it('a message retried past its expiresAt is given up at the next claim', async () => {
        const message = newMessage({ expiresAt: NOW + MINUTE });
        const store = await storeWith(message);
        await store.claim(NOW, 10, LEASE);
        await store.markFailed(message.id, {
          retryAt: NOW + 2 * MINUTE,
          error: 'timeout',
          now: NOW,
        });
        assert.deepEqual(await store.claim(NOW + 2 * MINUTE, 10, LEASE), []);
        assert.equal(await store.pending(), 0);
      });
    });

    describe('pending and prune', () => {
      it('pending counts messages not yet delivered nor given up, claimed or not', async () => {
        const [a, b, c] = [0, 1, 2].map((i) => newMessage({ createdAt: NOW + i }));
        const store = await storeWith(a!, b!, c!);
        assert.equal(await store.pending(), 3);
        await store.claim(NOW + 10, 2, LEASE);
        assert.equal(await store.pending(), 3, 'claimed messages still wait for delivery');
        await store.markDelivered(a!.id, NOW + 20);
        assert.equal(await store.pending(), 2);
        await store.markFailed(b!.id, { retryAt: null, error: 'rejected', now: NOW + 30 });
        assert.equal(await store.pending(), 1);
      });

      it('prune deletes delivered and given-up messages, never a pending one', async () => {
        const [a, b, c] = [0, 1, 2].map((i) => newMessage({ createdAt: NOW + i }));
        const store = await storeWith(a!, b!, c!);
        await store.claim(NOW + 10, 2, LEASE);
        await store.markDelivered(a!.id, NOW + 20);
        await store.markFailed(b!.id, { retryAt: null, error: 'rejected', now: NOW + 30 });
        assert.equal(await store.prune(NOW - DAY), 0, 'nothing ended that long ago');
        assert.equal(await store.prune(NOW + DAY), 2);
        assert.equal(await store.pending(), 1);
        assert.deepEqual(
          (await store.claim(NOW + DAY, 10, LEASE)).map((m) => m.id),
          [c!.id],
        );
        assert.equal(await store.prune(NOW + 2 * DAY), 0);
      });
    });

    describe('deleteForRecipient', () => {
      it('deletes every message to the address, pending, leased, delivered or given up, and no other', async () => {
        const to = `${randomUUID()}@example.com`;
        const [pending, leased, delivered, failed] = [0, 1, 2, 3].map((i) =>
          newMessage({ to, createdAt: NOW + i }),
        );
        const other = newMessage({ createdAt: NOW + 4 });
        const store = await storeWith(delivered!, failed!, leased!, other);
        await store.claim(NOW + 10, 3, LEASE);
        await store.markDelivered(delivered!.id, NOW + 20);
        await store.markFailed(failed!.id, { retryAt: null, error: 'rejected', now: NOW + 30 });
        await store.enqueue(pending!);

        assert.equal(await store.deleteForRecipient(to), 4);
        assert.equal(await store.pending(), 1, "the other address's message is left");
        assert.deepEqual(
          (await store.claim(NOW + DAY, 10, LEASE)).map((m) => m.id),
          [other.id],
        );
        assert.equal(await store.prune(NOW + 2 * DAY), 0, 'nothing of the address is left');
        if (inspect) assert.equal(await inspect.content(store, delivered!.id), null);
      });

      it('compares the address case-insensitively and a second delete finds nothing', async () => {
        const to = `${randomUUID()}@example.com`;
        const store = await storeWith(newMessage({ to }), newMessage({ to: to.toUpperCase() }));
        assert.equal(await store.deleteForRecipient(` ${to.toUpperCase()} `), 2);
        assert.equal(await store.deleteForRecipient(to), 0);
        assert.equal(await store.pending(), 0);
      });

      it('a late markDelivered of a deleted message changes nothing (a worker that was sending it)', async () => {
        const message = newMessage();
        const store = await storeWith(message);
        await store.claim(NOW, 10, LEASE);
        assert.equal(await store.deleteForRecipient(message.to), 1);
        await store.markDelivered(message.id, NOW + SECOND);
        await store.markFailed(message.id, { retryAt: NOW + MINUTE, error: 'x', now: NOW });
        assert.equal(await store.pending(), 0);
        assert.deepEqual(await store.claim(NOW + DAY, 10, LEASE), []);
      });
    });

    if (inspect) {
      describe('content erasure (the mail carries a one-time link)', () => {
        it('a delivered message keeps no subject, text or html', async () => {
          const message = newMessage();
          const store = await storeWith(message);
          assert.deepEqual(await contentOf(store, message.id), {
            subject: message.subject,
            text: message.text,
            html: message.html,
          });
          await store.claim(NOW, 10, LEASE);
          await store.markDelivered(message.id, NOW + SECOND);
          await assertErased(store, message.id);
        });

        it('a given-up message keeps no subject, text or html', async () => {
          const message = newMessage();
          const store = await storeWith(message);
          await store.claim(NOW, 10, LEASE);
          await store.markFailed(message.id, { retryAt: null, error: 'rejected', now: NOW });
          await assertErased(store, message.id);
        });

        it('an expired message, given up by claim, keeps no subject, text or html', async () => {
          const message = newMessage({ expiresAt: NOW + MINUTE });
          const store = await storeWith(message);
          await store.claim(NOW + MINUTE, 10, LEASE);
          await assertErased(store, message.id);
        });

        it('a message waiting for a retry keeps its content', async () => {
          const message = newMessage();
          const store = await storeWith(message);
          await store.claim(NOW, 10, LEASE);
          await store.markFailed(message.id, { retryAt: NOW + SECOND, error: 'busy', now: NOW });
          assert.deepEqual(await contentOf(store, message.id), {
            subject: message.subject,
            text: message.text,
            html: message.html,
          });
        });
      });
    }
  });
}
