import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import type {
  MailOutboxStore,
  OneTimeTokenPurpose,
  OneTimeTokenRecord,
  OneTimeTokenStore,
  OutboxMessage,
} from '../stores/types.js';
import type { StoreFactory, TestApi } from './harness.js';

const NOW = 1_700_000_000_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * What the factory of {@link describeOneTimeTokenStore} returns for each case: an empty token
 * store, the outbox its `issue(record, mail)` writes to, and, when user ids must exist (a foreign
 * key), a function that creates a user and returns its id.
 *
 * @example
 * ```ts
 * const factory: StoreFactory<OneTimeTokenStoreSet> = async () => {
 *   await pool.query('TRUNCATE one_time_tokens, mail_outbox, users CASCADE');
 *   const stores = createPostgresStores({ pool });
 *   return {
 *     tokens: stores.oneTimeTokens,
 *     outbox: stores.outbox,
 *     createUserId: async () =>
 *       (await stores.users.create({ email: `${randomUUID()}@example.com`, name: 'T', role: 'user', passwordHash: 'x' })).id,
 *   };
 * };
 * ```
 */
export interface OneTimeTokenStoreSet {
  tokens: OneTimeTokenStore;
  /** The outbox that `tokens.issue(record, mail)` enqueues into. */
  outbox: MailOutboxStore;
  /** Returns a user id the token store accepts. Default: a random UUID. */
  createUserId?: () => string | Promise<string>;
}

function tokenHash(): string {
  return createHash('sha256').update(randomUUID()).digest('base64url');
}

/** A live password-reset record of `userId` (for store tests; not in the barrel). */
export function newRecord(
  userId: string,
  overrides: Partial<OneTimeTokenRecord> = {},
): OneTimeTokenRecord {
  return {
    tokenHash: tokenHash(),
    userId,
    purpose: 'password_reset',
    createdAt: NOW,
    expiresAt: NOW + 30 * MINUTE,
    ...overrides,
  };
}

/** A password-reset mail (for store tests; not in the barrel). */
export function newMail(overrides: Partial<OutboxMessage> = {}): OutboxMessage {
  return {
    id: randomUUID(),
    kind: 'password_reset',
    to: `${randomUUID()}@example.com`,
    subject: 'Reset your password',
    text: 'Open https://app.example.com/reset-password?token=abc',
    html: '<p><a href="https://app.example.com/reset-password?token=abc">Reset</a></p>',
    attempts: 0,
    nextAttemptAt: NOW,
    createdAt: NOW,
    expiresAt: NOW + 30 * MINUTE,
    ...overrides,
  };
}

/**
 * Registers the conformance cases of a {@link OneTimeTokenStore}: every rule of its TSDoc. `issue`
 * supersedes the earlier tokens of the same user and purpose (and no other), stores the record
 * and enqueues its mail in one step (20 concurrent issues leave exactly one live token); `find`
 * does not consume; of 20 concurrent `consume` calls with one hash exactly one gets the record;
 * expired, superseded, used, revoked and unknown tokens all answer null; `revokeUserTokens` and
 * `prune`. Runner-agnostic: pass your runner's `describe` and `it`. `factory` is called once per
 * case and must return empty stores.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { describeOneTimeTokenStore } from 'gatehouse/testing';
 * import { MemoryMailOutbox, MemoryOneTimeTokenStore } from 'gatehouse';
 *
 * describeOneTimeTokenStore('MemoryOneTimeTokenStore', () => {
 *   const outbox = new MemoryMailOutbox();
 *   return { tokens: new MemoryOneTimeTokenStore({ outbox }), outbox };
 * }, { describe, it });
 * ```
 */
export function describeOneTimeTokenStore(
  name: string,
  factory: StoreFactory<OneTimeTokenStoreSet>,
  { describe, it }: TestApi,
): void {
  async function setup() {
    const set = await factory();
    const createUserId = set.createUserId ?? (() => randomUUID());
    return { ...set, userId: async () => createUserId() };
  }

  async function issued(
    store: OneTimeTokenStore,
    userId: string,
    overrides: Partial<OneTimeTokenRecord> = {},
  ): Promise<OneTimeTokenRecord> {
    const record = newRecord(userId, overrides);
    await store.issue(record);
    return record;
  }

  describe(`OneTimeTokenStore conformance: ${name}`, () => {
    describe('issue and find', () => {
      it('find returns the issued record with every field as given', async () => {
        const { tokens, userId } = await setup();
        const record = await issued(tokens, await userId());
        assert.deepEqual(await tokens.find(record.tokenHash, 'password_reset', NOW), record);
      });

      it('find does not consume: after two finds, consume still gets the record', async () => {
        const { tokens, userId } = await setup();
        const record = await issued(tokens, await userId());
        assert.ok(await tokens.find(record.tokenHash, 'password_reset', NOW));
        assert.ok(await tokens.find(record.tokenHash, 'password_reset', NOW));
        assert.deepEqual(await tokens.consume(record.tokenHash, 'password_reset', NOW), record);
      });

      it('returns a snapshot: changing it changes nothing stored', async () => {
        const { tokens, userId } = await setup();
        const record = await issued(tokens, await userId());
        const found = await tokens.find(record.tokenHash, 'password_reset', NOW);
        assert.ok(found);
        found.expiresAt = NOW - DAY;
        found.purpose = 'email_verification';
        assert.deepEqual(await tokens.find(record.tokenHash, 'password_reset', NOW), record);
      });

      it('find and consume answer null for an unknown hash', async () => {
        const { tokens, userId } = await setup();
        await issued(tokens, await userId());
        assert.equal(await tokens.find(tokenHash(), 'password_reset', NOW), null);
        assert.equal(await tokens.consume(tokenHash(), 'password_reset', NOW), null);
      });

      it('a token of another purpose answers null (a verification link cannot reset a password)', async () => {
        const { tokens, userId } = await setup();
        const record = await issued(tokens, await userId(), { purpose: 'email_verification' });
        assert.equal(await tokens.find(record.tokenHash, 'password_reset', NOW), null);
        assert.equal(await tokens.consume(record.tokenHash, 'password_reset', NOW), null);
        assert.deepEqual(
          await tokens.consume(record.tokenHash, 'email_verification', NOW),
          record,
          'the failed attempt with the wrong purpose must not burn the token',
        );
      });

      it("an MFA login challenge (purpose 'mfa_challenge') is kept, found and consumed once, under its own purpose only", async () => {
        const { tokens, userId } = await setup();
        const user = await userId();
        const reset = await issued(tokens, user);
        const challenge = await issued(tokens, user, { purpose: 'mfa_challenge' });
        assert.equal(await tokens.find(challenge.tokenHash, 'password_reset', NOW), null);
        assert.deepEqual(await tokens.find(challenge.tokenHash, 'mfa_challenge', NOW), challenge);
        assert.deepEqual(
          await tokens.consume(challenge.tokenHash, 'mfa_challenge', NOW),
          challenge,
        );
        assert.equal(await tokens.consume(challenge.tokenHash, 'mfa_challenge', NOW), null);
        assert.ok(
          await tokens.find(reset.tokenHash, 'password_reset', NOW),
          'a challenge does not supersede a reset link',
        );
      });
    });

    describe('expiry', () => {
      it('a token is usable until just before expiresAt and null from expiresAt on', async () => {
        const { tokens, userId } = await setup();
        const record = await issued(tokens, await userId());
        assert.ok(await tokens.find(record.tokenHash, 'password_reset', record.expiresAt - 1));
        assert.equal(await tokens.find(record.tokenHash, 'password_reset', record.expiresAt), null);
        assert.equal(
          await tokens.consume(record.tokenHash, 'password_reset', record.expiresAt),
          null,
        );
      });

      it('an expired token stays unusable: consume after expiry does not succeed later either', async () => {
        const { tokens, userId } = await setup();
        const record = await issued(tokens, await userId());
        assert.equal(
          await tokens.consume(record.tokenHash, 'password_reset', record.expiresAt + DAY),
          null,
        );
        assert.equal(
          await tokens.consume(record.tokenHash, 'password_reset', record.expiresAt + 2 * DAY),
          null,
        );
      });
    });

    describe('consume', () => {
      it('consumes once: a used token answers null to consume and find', async () => {
        const { tokens, userId } = await setup();
        const record = await issued(tokens, await userId());
        assert.deepEqual(await tokens.consume(record.tokenHash, 'password_reset', NOW), record);
        assert.equal(await tokens.consume(record.tokenHash, 'password_reset', NOW + 1), null);
        assert.equal(await tokens.find(record.tokenHash, 'password_reset', NOW + 1), null);
      });

      it('of 20 concurrent consumers of one hash exactly one gets the record (replayed reset link)', async () => {
        const { tokens, userId } = await setup();
        const record = await issued(tokens, await userId());
        const results = await Promise.all(
          Array.from({ length: 20 }, () => tokens.consume(record.tokenHash, 'password_reset', NOW)),
        );
        const winners = results.filter((result) => result !== null);
        assert.equal(winners.length, 1);
        assert.deepEqual(winners[0], record);
      });

      it('consuming one token leaves the other purpose of the same user usable', async () => {
        const { tokens, userId } = await setup();
        const user = await userId();
        const reset = await issued(tokens, user);
        const verify = await issued(tokens, user, { purpose: 'email_verification' });
        assert.ok(await tokens.consume(reset.tokenHash, 'password_reset', NOW));
        assert.ok(await tokens.find(verify.tokenHash, 'email_verification', NOW));
      });
    });

    describe('issue supersedes', () => {
      it('a newer token of the same user and purpose makes the older one unusable', async () => {
        const { tokens, userId } = await setup();
        const user = await userId();
        const older = await issued(tokens, user);
        const newer = await issued(tokens, user, { createdAt: NOW + MINUTE });
        assert.equal(await tokens.find(older.tokenHash, 'password_reset', NOW + MINUTE), null);
        assert.equal(await tokens.consume(older.tokenHash, 'password_reset', NOW + MINUTE), null);
        assert.deepEqual(
          await tokens.consume(newer.tokenHash, 'password_reset', NOW + MINUTE),
          newer,
        );
      });

      it("leaves another user's token and the same user's other purpose untouched", async () => {
        const { tokens, userId } = await setup();
        const user = await userId();
        const otherUser = await userId();
        const othersReset = await issued(tokens, otherUser);
        const ownVerify = await issued(tokens, user, { purpose: 'email_verification' });
        await issued(tokens, user);
        await issued(tokens, user, { createdAt: NOW + MINUTE });
        assert.deepEqual(
          await tokens.consume(othersReset.tokenHash, 'password_reset', NOW + MINUTE),
          othersReset,
        );
        assert.deepEqual(
          await tokens.consume(ownVerify.tokenHash, 'email_verification', NOW + MINUTE),
          ownVerify,
        );
      });

      it('20 concurrent issues for one user and purpose leave exactly one usable token', async () => {
        const { tokens, userId } = await setup();
        const user = await userId();
        const records = Array.from({ length: 20 }, (_, i) =>
          newRecord(user, { createdAt: NOW + i }),
        );
        await Promise.all(records.map((record) => tokens.issue(record)));
        const usable = await Promise.all(
          records.map((record) => tokens.find(record.tokenHash, 'password_reset', NOW + MINUTE)),
        );
        assert.equal(usable.filter((found) => found !== null).length, 1);
      });
    });

    describe('issue with its mail', () => {
      it('the mail is in the outbox, claimable, right after issue', async () => {
        const { tokens, outbox, userId } = await setup();
        const record = newRecord(await userId());
        const mail = newMail();
        await tokens.issue(record, mail);
        assert.equal(await outbox.pending(), 1);
        const claimed = await outbox.claim(NOW, 10, MINUTE);
        assert.deepEqual(claimed, [{ ...mail, attempts: 1 }]);
        assert.ok(await tokens.find(record.tokenHash, 'password_reset', NOW));
      });

      it('issue with a mail whose id is already in the outbox rejects and stores no token (all or none)', async () => {
        const { tokens, outbox, userId } = await setup();
        const user = await userId();
        const first = newRecord(user);
        const mail = newMail();
        await tokens.issue(first, mail);
        const second = newRecord(user, { createdAt: NOW + 1 });
        await assert.rejects(tokens.issue(second, { ...mail, subject: 'Another mail' }));
        assert.equal(await tokens.find(second.tokenHash, 'password_reset', NOW + 1), null);
        assert.deepEqual(
          await tokens.find(first.tokenHash, 'password_reset', NOW + 1),
          first,
          'the failed issue superseded nothing',
        );
        assert.equal(await outbox.pending(), 1);
      });

      it('issue without a mail enqueues nothing', async () => {
        const { tokens, outbox, userId } = await setup();
        await issued(tokens, await userId());
        assert.equal(await outbox.pending(), 0);
        assert.deepEqual(await outbox.claim(NOW + DAY, 10, MINUTE), []);
      });

      it('each issue enqueues its own mail (a superseding issue does not drop the earlier mail)', async () => {
        const { tokens, outbox, userId } = await setup();
        const user = await userId();
        await tokens.issue(newRecord(user), newMail({ createdAt: NOW }));
        await tokens.issue(
          newRecord(user, { createdAt: NOW + 1 }),
          newMail({ createdAt: NOW + 1 }),
        );
        assert.equal(await outbox.pending(), 2);
      });
    });

    describe('revokeUserTokens', () => {
      it('makes every unconsumed token of the user and purpose unusable and returns how many', async () => {
        const { tokens, userId } = await setup();
        const user = await userId();
        const consumedEarlier = await issued(tokens, user);
        assert.ok(await tokens.consume(consumedEarlier.tokenHash, 'password_reset', NOW));
        const live = await issued(tokens, user, { createdAt: NOW + 1 });
        const verify = await issued(tokens, user, { purpose: 'email_verification' });
        assert.equal(await tokens.revokeUserTokens(user, 'password_reset'), 1);
        assert.equal(await tokens.find(live.tokenHash, 'password_reset', NOW), null);
        assert.equal(await tokens.consume(live.tokenHash, 'password_reset', NOW), null);
        assert.ok(
          await tokens.find(verify.tokenHash, 'email_verification', NOW),
          'the other purpose is untouched',
        );
      });

      it('without a purpose revokes every purpose of the user, and no other user', async () => {
        const { tokens, userId } = await setup();
        const user = await userId();
        const otherUser = await userId();
        const reset = await issued(tokens, user);
        const verify = await issued(tokens, user, { purpose: 'email_verification' });
        const others = await issued(tokens, otherUser);
        assert.equal(await tokens.revokeUserTokens(user), 2);
        assert.equal(await tokens.find(reset.tokenHash, 'password_reset', NOW), null);
        assert.equal(await tokens.find(verify.tokenHash, 'email_verification', NOW), null);
        assert.ok(await tokens.find(others.tokenHash, 'password_reset', NOW));
        assert.equal(await tokens.revokeUserTokens(user), 0, 'nothing left to revoke');
      });

      it('returns 0 for a user without tokens', async () => {
        const { tokens, userId } = await setup();
        assert.equal(await tokens.revokeUserTokens(await userId()), 0);
      });
    });

    describe('listUserTokens', () => {
      it("lists the user's pending tokens of every purpose, oldest first, as stored", async () => {
        const { tokens, userId } = await setup();
        const user = await userId();
        const verify = await issued(tokens, user, { purpose: 'email_verification' });
        const reset = await issued(tokens, user, { createdAt: NOW + 1 });
        await issued(tokens, await userId());
        assert.deepEqual(await tokens.listUserTokens(user, NOW + 2), [verify, reset]);
      });

      it('leaves out consumed, superseded, revoked and expired tokens', async () => {
        const { tokens, userId } = await setup();
        const user = await userId();
        const consumed = await issued(tokens, user, { purpose: 'email_verification' });
        assert.ok(await tokens.consume(consumed.tokenHash, 'email_verification', NOW));
        await issued(tokens, user);
        const newer = await issued(tokens, user, { createdAt: NOW + 1 });
        assert.deepEqual(await tokens.listUserTokens(user, NOW + 2), [newer]);
        assert.deepEqual(await tokens.listUserTokens(user, newer.expiresAt), [], 'expired');
        await tokens.revokeUserTokens(user);
        assert.deepEqual(await tokens.listUserTokens(user, NOW + 2), [], 'revoked');
      });

      it('answers [] for a user without tokens', async () => {
        const { tokens, userId } = await setup();
        assert.deepEqual(await tokens.listUserTokens(await userId(), NOW), []);
      });
    });

    describe('deleteUserTokens', () => {
      it("deletes every token of the user, whatever its state, and no other user's", async () => {
        const { tokens, userId } = await setup();
        const user = await userId();
        const otherUser = await userId();
        const consumed = await issued(tokens, user);
        assert.ok(await tokens.consume(consumed.tokenHash, 'password_reset', NOW));
        await issued(tokens, user, { createdAt: NOW + 1 }); // superseded by the next
        const live = await issued(tokens, user, { createdAt: NOW + 2 });
        await issued(tokens, user, {
          purpose: 'email_verification',
          createdAt: NOW - 2 * HOUR,
          expiresAt: NOW - HOUR,
        });
        const others = await issued(tokens, otherUser);

        assert.equal(await tokens.deleteUserTokens(user), 4);
        assert.equal(await tokens.find(live.tokenHash, 'password_reset', NOW + 3), null);
        assert.equal(await tokens.consume(live.tokenHash, 'password_reset', NOW + 3), null);
        assert.deepEqual(await tokens.listUserTokens(user, NOW), []);
        assert.equal(await tokens.prune(NOW + 3 * DAY), 1, "only the other user's token is left");
        assert.equal(await tokens.find(others.tokenHash, 'password_reset', NOW + 3 * DAY), null);
      });

      it('a second delete finds nothing (a retried erasure) and the user can be issued a token again', async () => {
        const { tokens, userId } = await setup();
        const user = await userId();
        await issued(tokens, user);
        assert.equal(await tokens.deleteUserTokens(user), 1);
        assert.equal(await tokens.deleteUserTokens(user), 0);
        const again = await issued(tokens, user, { createdAt: NOW + 1 });
        assert.deepEqual(await tokens.find(again.tokenHash, 'password_reset', NOW + 1), again);
      });
    });

    describe('prune', () => {
      it('deletes expired and consumed tokens older than the bound, never a live one', async () => {
        const { tokens, userId } = await setup();
        const expired = await issued(tokens, await userId(), {
          createdAt: NOW - 2 * HOUR,
          expiresAt: NOW - HOUR,
        });
        const consumed = await issued(tokens, await userId());
        assert.ok(await tokens.consume(consumed.tokenHash, 'password_reset', NOW));
        const live = await issued(tokens, await userId(), { expiresAt: NOW + HOUR });

        assert.equal(await tokens.prune(NOW - 3 * HOUR), 0, 'nothing ended that long ago');
        assert.equal(await tokens.prune(NOW + MINUTE), 2);
        assert.deepEqual(await tokens.find(live.tokenHash, 'password_reset', NOW), live);
        assert.equal(await tokens.find(expired.tokenHash, 'password_reset', NOW - 2 * HOUR), null);
      });

      it('after every token has expired, prune deletes all of them (superseded ones too)', async () => {
        const { tokens, userId } = await setup();
        const user = await userId();
        const purposes: OneTimeTokenPurpose[] = ['password_reset', 'email_verification'];
        for (const purpose of purposes) {
          await issued(tokens, user, { purpose });
          await issued(tokens, user, { purpose, createdAt: NOW + 1 });
        }
        assert.equal(await tokens.prune(NOW + 2 * DAY), 4);
        assert.equal(await tokens.prune(NOW + 2 * DAY), 0);
      });
    });
  });
}
