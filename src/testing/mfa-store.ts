import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import type { MfaStore } from '../stores/types.js';
import type { StoreFactory, TestApi } from './harness.js';

const NOW = 1_700_000_000_000;
const STEP = Math.floor(NOW / 30_000);
/** Callers racing in the concurrency cases. */
const RACERS = 20;

/** A recovery-code hash as the core stores it: base64url SHA-256 (43 characters). */
function codeHash(): string {
  return createHash('sha256').update(randomUUID()).digest('base64url');
}

function codeHashes(count = 10): string[] {
  return Array.from({ length: count }, codeHash);
}

function sealed(): string {
  return `v1.k1.${randomUUID()}`;
}

/**
 * Registers the conformance cases of an {@link MfaStore}: every rule of its TSDoc. A pending factor
 * is replaced by a new enrolment and an active one is not; activation happens once (and only for
 * the expected secret); `acceptStep` takes each step at most once and never a lower one, and of
 * 20 concurrent calls with one step exactly one gets true; a recovery code works once, only for
 * its user and its current set, and of 20 concurrent uses exactly one gets true; a replacement
 * kills the old set, also when two replacements race; `deleteFactor` takes the codes with it;
 * `updateSecret` compares and sets. Runner-agnostic: pass your runner's `describe` and `it`.
 * `factory` is called once per case and must return an empty store.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { describeMfaStore } from 'gatehouse/testing';
 * import { MemoryMfaStore } from 'gatehouse';
 *
 * describeMfaStore('MemoryMfaStore', () => new MemoryMfaStore(), { describe, it });
 * ```
 */
export function describeMfaStore(
  name: string,
  factory: StoreFactory<MfaStore>,
  { describe, it }: TestApi,
): void {
  /** A store with an active factor for a new user, and the hashes of its codes. */
  async function enrolled(store?: MfaStore) {
    const mfa = store ?? (await factory());
    const userId = randomUUID();
    const secret = sealed();
    const hashes = codeHashes();
    assert.equal(await mfa.savePendingFactor(userId, secret, NOW), true);
    assert.equal(await mfa.activateFactor(userId, STEP, hashes, NOW + 1_000), true);
    return { mfa, userId, secret, hashes };
  }

  describe(`MfaStore conformance: ${name}`, () => {
    describe('enrolment', () => {
      it('getFactor answers null for a user without a factor', async () => {
        const mfa = await factory();
        assert.equal(await mfa.getFactor(randomUUID()), null);
      });

      it('savePendingFactor stores a pending factor with every field', async () => {
        const mfa = await factory();
        const userId = randomUUID();
        const secret = sealed();
        assert.equal(await mfa.savePendingFactor(userId, secret, NOW), true);
        assert.deepEqual(await mfa.getFactor(userId), {
          userId,
          secretCiphertext: secret,
          status: 'pending',
          createdAt: NOW,
          confirmedAt: null,
          lastUsedStep: null,
        });
      });

      it('a new enrolment replaces a pending factor (secret and createdAt)', async () => {
        const mfa = await factory();
        const userId = randomUUID();
        await mfa.savePendingFactor(userId, sealed(), NOW);
        const second = sealed();
        assert.equal(await mfa.savePendingFactor(userId, second, NOW + 5_000), true);
        const factor = await mfa.getFactor(userId);
        assert.equal(factor?.secretCiphertext, second);
        assert.equal(factor?.createdAt, NOW + 5_000);
        assert.equal(factor?.status, 'pending');
      });

      it('a new enrolment over an active factor is refused and changes nothing (no silent takeover of the second factor)', async () => {
        const { mfa, userId, secret, hashes } = await enrolled();
        const before = await mfa.getFactor(userId);
        assert.equal(await mfa.savePendingFactor(userId, sealed(), NOW + 60_000), false);
        assert.deepEqual(await mfa.getFactor(userId), before);
        assert.equal(before?.secretCiphertext, secret);
        assert.equal(await mfa.recoveryCodesLeft(userId), hashes.length);
      });

      it('activateFactor makes the pending factor active with confirmedAt, lastUsedStep and unused codes', async () => {
        const { mfa, userId, secret, hashes } = await enrolled();
        assert.deepEqual(await mfa.getFactor(userId), {
          userId,
          secretCiphertext: secret,
          status: 'active',
          createdAt: NOW,
          confirmedAt: NOW + 1_000,
          lastUsedStep: STEP,
        });
        assert.equal(await mfa.recoveryCodesLeft(userId), hashes.length);
      });

      it('activateFactor answers false without a pending factor (unknown user, or already active) and changes nothing', async () => {
        const { mfa, userId, hashes } = await enrolled();
        assert.equal(await mfa.activateFactor(randomUUID(), STEP, codeHashes(), NOW), false);
        const other = codeHashes();
        assert.equal(await mfa.activateFactor(userId, STEP + 5, other, NOW + 9_000), false);
        const factor = await mfa.getFactor(userId);
        assert.equal(factor?.lastUsedStep, STEP);
        assert.equal(factor?.confirmedAt, NOW + 1_000);
        assert.equal(await mfa.consumeRecoveryCode(userId, other[0] as string, NOW), false);
        assert.equal(await mfa.consumeRecoveryCode(userId, hashes[0] as string, NOW), true);
      });

      it('activateFactor with an expected secret that was replaced meanwhile is refused (a code of the old secret cannot activate the new one)', async () => {
        const mfa = await factory();
        const userId = randomUUID();
        const first = sealed();
        await mfa.savePendingFactor(userId, first, NOW);
        const second = sealed();
        await mfa.savePendingFactor(userId, second, NOW + 1);
        assert.equal(await mfa.activateFactor(userId, STEP, codeHashes(), NOW, first), false);
        assert.equal((await mfa.getFactor(userId))?.status, 'pending');
        assert.equal(await mfa.activateFactor(userId, STEP, codeHashes(), NOW, second), true);
      });

      it(`of ${RACERS} concurrent activations of one pending factor exactly one succeeds`, async () => {
        const mfa = await factory();
        const userId = randomUUID();
        await mfa.savePendingFactor(userId, sealed(), NOW);
        const sets = Array.from({ length: RACERS }, () => codeHashes());
        const results = await Promise.all(
          sets.map((set, i) => mfa.activateFactor(userId, STEP + i, set, NOW)),
        );
        assert.equal(results.filter(Boolean).length, 1);
        const winner = results.indexOf(true);
        assert.equal((await mfa.getFactor(userId))?.lastUsedStep, STEP + winner);
        assert.equal(await mfa.recoveryCodesLeft(userId), 10);
        for (const [i, set] of sets.entries()) {
          assert.equal(
            await mfa.consumeRecoveryCode(userId, set[0] as string, NOW),
            i === winner,
            `only the winner's codes may work (set ${i})`,
          );
        }
      });

      it('returns a snapshot: changing it changes nothing stored', async () => {
        const { mfa, userId } = await enrolled();
        const factor = await mfa.getFactor(userId);
        assert.ok(factor);
        factor.status = 'pending';
        factor.lastUsedStep = 0;
        factor.secretCiphertext = 'changed';
        const again = await mfa.getFactor(userId);
        assert.equal(again?.status, 'active');
        assert.equal(again?.lastUsedStep, STEP);
        assert.notEqual(again?.secretCiphertext, 'changed');
      });
    });

    describe('acceptStep (replay of a TOTP code)', () => {
      it('accepts a later step once: a replayed step is refused', async () => {
        const { mfa, userId } = await enrolled();
        assert.equal(await mfa.acceptStep(userId, STEP + 1), true);
        assert.equal(await mfa.acceptStep(userId, STEP + 1), false);
        assert.equal((await mfa.getFactor(userId))?.lastUsedStep, STEP + 1);
      });

      it('the step of the confirming code cannot be used again to log in (replay right after enrolment)', async () => {
        const { mfa, userId } = await enrolled();
        assert.equal(await mfa.acceptStep(userId, STEP), false);
      });

      it('an older step is refused after a newer one (a code captured earlier in the window)', async () => {
        const { mfa, userId } = await enrolled();
        assert.equal(await mfa.acceptStep(userId, STEP + 3), true);
        assert.equal(await mfa.acceptStep(userId, STEP + 2), false);
        assert.equal((await mfa.getFactor(userId))?.lastUsedStep, STEP + 3);
      });

      it('is refused for a pending factor and for a user without a factor', async () => {
        const mfa = await factory();
        const userId = randomUUID();
        await mfa.savePendingFactor(userId, sealed(), NOW);
        assert.equal(await mfa.acceptStep(userId, STEP), false);
        assert.equal(await mfa.acceptStep(randomUUID(), STEP), false);
        assert.equal((await mfa.getFactor(userId))?.lastUsedStep, null);
      });

      it(`of ${RACERS} concurrent replays of one code (one step) exactly one is accepted`, async () => {
        const { mfa, userId } = await enrolled();
        const results = await Promise.all(
          Array.from({ length: RACERS }, () => mfa.acceptStep(userId, STEP + 1)),
        );
        assert.equal(results.filter(Boolean).length, 1);
      });

      it(`of ${RACERS} concurrent codes of different steps the stored step only moves forward`, async () => {
        const { mfa, userId } = await enrolled();
        const results = await Promise.all(
          Array.from({ length: RACERS }, (_, i) => mfa.acceptStep(userId, STEP + 1 + (i % 3))),
        );
        assert.ok(results.filter(Boolean).length >= 1);
        assert.ok(results.filter(Boolean).length <= 3);
        assert.equal((await mfa.getFactor(userId))?.lastUsedStep, STEP + 3);
      });
    });

    describe('recovery codes', () => {
      it('a code works once, and the count of codes left goes down', async () => {
        const { mfa, userId, hashes } = await enrolled();
        assert.equal(await mfa.consumeRecoveryCode(userId, hashes[3] as string, NOW), true);
        assert.equal(await mfa.consumeRecoveryCode(userId, hashes[3] as string, NOW + 1), false);
        assert.equal(await mfa.recoveryCodesLeft(userId), hashes.length - 1);
      });

      it('an unknown hash is refused and uses nothing up', async () => {
        const { mfa, userId, hashes } = await enrolled();
        assert.equal(await mfa.consumeRecoveryCode(userId, codeHash(), NOW), false);
        assert.equal(await mfa.recoveryCodesLeft(userId), hashes.length);
      });

      it("another user's recovery code is refused (a code works only for its own account)", async () => {
        const mfa = await factory();
        const alice = await enrolled(mfa);
        const bob = await enrolled(mfa);
        assert.equal(
          await mfa.consumeRecoveryCode(bob.userId, alice.hashes[0] as string, NOW),
          false,
        );
        assert.equal(await mfa.recoveryCodesLeft(alice.userId), 10);
        assert.equal(
          await mfa.consumeRecoveryCode(alice.userId, alice.hashes[0] as string, NOW),
          true,
        );
      });

      it(`of ${RACERS} concurrent uses of one recovery code exactly one succeeds`, async () => {
        const { mfa, userId, hashes } = await enrolled();
        const results = await Promise.all(
          Array.from({ length: RACERS }, () =>
            mfa.consumeRecoveryCode(userId, hashes[0] as string, NOW),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1);
        assert.equal(await mfa.recoveryCodesLeft(userId), hashes.length - 1);
      });

      it('replaceRecoveryCodes kills the old set, used and unused, and the new set works', async () => {
        const { mfa, userId, hashes } = await enrolled();
        await mfa.consumeRecoveryCode(userId, hashes[0] as string, NOW);
        const fresh = codeHashes();
        assert.equal(await mfa.replaceRecoveryCodes(userId, fresh, NOW + 1), true);
        assert.equal(await mfa.recoveryCodesLeft(userId), fresh.length);
        for (const old of hashes) {
          assert.equal(await mfa.consumeRecoveryCode(userId, old, NOW + 2), false);
        }
        assert.equal(await mfa.consumeRecoveryCode(userId, fresh[9] as string, NOW + 2), true);
        assert.equal(await mfa.recoveryCodesLeft(userId), fresh.length - 1);
      });

      it(`${RACERS} replacements racing leave exactly one set usable (no mix of two sets)`, async () => {
        const { mfa, userId } = await enrolled();
        const sets = Array.from({ length: RACERS }, () => codeHashes());
        const results = await Promise.all(
          sets.map((set) => mfa.replaceRecoveryCodes(userId, set, NOW + 1)),
        );
        assert.ok(results.every(Boolean));
        assert.equal(await mfa.recoveryCodesLeft(userId), 10);
        const working: number[] = [];
        for (const [i, set] of sets.entries()) {
          if (await mfa.consumeRecoveryCode(userId, set[0] as string, NOW + 2)) working.push(i);
        }
        assert.equal(working.length, 1, 'the codes of exactly one set work');
        const winner = sets[working[0] as number] as string[];
        for (const hash of winner.slice(1)) {
          assert.equal(await mfa.consumeRecoveryCode(userId, hash, NOW + 3), true);
        }
        assert.equal(await mfa.recoveryCodesLeft(userId), 0);
      });

      it('replaceRecoveryCodes is refused without an active factor (pending or none) and stores nothing', async () => {
        const mfa = await factory();
        const userId = randomUUID();
        const hashes = codeHashes();
        assert.equal(await mfa.replaceRecoveryCodes(userId, hashes, NOW), false);
        await mfa.savePendingFactor(userId, sealed(), NOW);
        assert.equal(await mfa.replaceRecoveryCodes(userId, hashes, NOW), false);
        assert.equal(await mfa.recoveryCodesLeft(userId), 0);
        assert.equal(await mfa.activateFactor(userId, STEP, [], NOW), true);
        assert.equal(await mfa.consumeRecoveryCode(userId, hashes[0] as string, NOW), false);
      });

      it('recoveryCodesLeft is 0 for a user without a factor', async () => {
        const mfa = await factory();
        assert.equal(await mfa.recoveryCodesLeft(randomUUID()), 0);
      });
    });

    describe('deleteFactor', () => {
      it('deletes the factor with its codes; a later enrolment starts clean (old codes stay dead)', async () => {
        const { mfa, userId, hashes } = await enrolled();
        assert.equal(await mfa.deleteFactor(userId), true);
        assert.equal(await mfa.getFactor(userId), null);
        assert.equal(await mfa.recoveryCodesLeft(userId), 0);
        assert.equal(await mfa.consumeRecoveryCode(userId, hashes[0] as string, NOW), false);
        assert.equal(await mfa.acceptStep(userId, STEP + 10), false);
        assert.equal(await mfa.deleteFactor(userId), false);
        const fresh = codeHashes();
        assert.equal(await mfa.savePendingFactor(userId, sealed(), NOW + 1), true);
        assert.equal(await mfa.activateFactor(userId, STEP + 1, fresh, NOW + 2), true);
        assert.equal(await mfa.recoveryCodesLeft(userId), fresh.length);
        assert.equal(await mfa.consumeRecoveryCode(userId, hashes[1] as string, NOW), false);
      });

      it("leaves other users' factors alone", async () => {
        const mfa = await factory();
        const alice = await enrolled(mfa);
        const bob = await enrolled(mfa);
        await mfa.deleteFactor(alice.userId);
        assert.equal((await mfa.getFactor(bob.userId))?.status, 'active');
        assert.equal(await mfa.recoveryCodesLeft(bob.userId), 10);
      });
    });

    describe('updateSecret (re-encryption)', () => {
      it('replaces the sealed secret and nothing else', async () => {
        const { mfa, userId } = await enrolled();
        const before = await mfa.getFactor(userId);
        const resealed = sealed();
        assert.equal(await mfa.updateSecret(userId, resealed), true);
        assert.deepEqual(await mfa.getFactor(userId), { ...before, secretCiphertext: resealed });
        assert.equal(await mfa.recoveryCodesLeft(userId), 10);
      });

      it('with an expected secret: a re-encryption racing a new enrolment never overwrites it', async () => {
        const mfa = await factory();
        const userId = randomUUID();
        const old = sealed();
        await mfa.savePendingFactor(userId, old, NOW);
        const newer = sealed();
        await mfa.savePendingFactor(userId, newer, NOW + 1);
        assert.equal(await mfa.updateSecret(userId, sealed(), old), false);
        assert.equal((await mfa.getFactor(userId))?.secretCiphertext, newer);
        const resealed = sealed();
        assert.equal(await mfa.updateSecret(userId, resealed, newer), true);
        assert.equal((await mfa.getFactor(userId))?.secretCiphertext, resealed);
      });

      it('answers false for a user without a factor', async () => {
        const mfa = await factory();
        assert.equal(await mfa.updateSecret(randomUUID(), sealed()), false);
      });
    });
  });
}
