import { AuthError } from '../errors.js';
import type { MfaFactorRecord, MfaStore } from './types.js';

/**
 * Options of {@link MemoryMfaStore}.
 *
 * @example
 * ```ts
 * const mfa = new MemoryMfaStore({ maxFactors: 10_000 } satisfies MemoryMfaStoreOptions);
 * ```
 */
export interface MemoryMfaStoreOptions {
  /**
   * Factors kept, pending and active. An active factor is never dropped (that would turn a
   * user's second factor off); when the store is full a new enrolment drops the oldest pending
   * one, and with none to drop `savePendingFactor` rejects with `SERVER_ERROR`.
   * @default 100000
   */
  maxFactors?: number;
}

interface StoredFactor {
  factor: MfaFactorRecord;
  /** Recovery-code hash -> when it was used (null: unused). */
  codes: Map<string, number | null>;
}

/**
 * The reference {@link MfaStore}: in process memory, bounded, for tests, development and
 * single-instance apps. Each operation runs synchronously inside its promise, so it is atomic:
 * of concurrent `acceptStep` calls with one step, or `consumeRecoveryCode` calls with one hash,
 * exactly one gets true.
 *
 * @example
 * ```ts
 * import { createAuth, MemoryMfaStore } from 'gatehouse';
 * const auth = createAuth({ stores: { mfa: new MemoryMfaStore() } });
 * ```
 */
export class MemoryMfaStore implements MfaStore {
  /** By user id, in insertion order (the first pending one is the oldest enrolment). */
  readonly #factors = new Map<string, StoredFactor>();
  readonly #maxFactors: number;

  constructor(options: MemoryMfaStoreOptions = {}) {
    const maxFactors = options.maxFactors ?? 100_000;
    if (!Number.isInteger(maxFactors) || maxFactors < 1) {
      throw new TypeError('MemoryMfaStore: maxFactors must be a positive integer');
    }
    this.#maxFactors = maxFactors;
  }

  async getFactor(userId: string): Promise<MfaFactorRecord | null> {
    const stored = this.#factors.get(userId);
    return stored ? { ...stored.factor } : null;
  }

  async savePendingFactor(userId: string, secretCiphertext: string, now: number): Promise<boolean> {
    const existing = this.#factors.get(userId);
    if (existing?.factor.status === 'active') return false;
    // Re-inserted at the end: a renewed enrolment is the newest.
    this.#factors.delete(userId);
    if (this.#factors.size >= this.#maxFactors) this.#dropOldestPending();
    this.#factors.set(userId, {
      factor: {
        userId,
        secretCiphertext,
        status: 'pending',
        createdAt: now,
        confirmedAt: null,
        lastUsedStep: null,
      },
      codes: new Map(),
    });
    return true;
  }

  async activateFactor(
    userId: string,
    step: number,
    recoveryCodeHashes: readonly string[],
    now: number,
    expectedCiphertext?: string,
  ): Promise<boolean> {
    const stored = this.#factors.get(userId);
    if (stored?.factor.status !== 'pending') return false;
    if (expectedCiphertext !== undefined && stored.factor.secretCiphertext !== expectedCiphertext) {
      return false;
    }
    stored.factor.status = 'active';
    stored.factor.confirmedAt = now;
    stored.factor.lastUsedStep = step;
    stored.codes = new Map(recoveryCodeHashes.map((hash) => [hash, null]));
    return true;
  }

  async acceptStep(userId: string, step: number): Promise<boolean> {
    const factor = this.#active(userId)?.factor;
    if (!factor || factor.lastUsedStep === null || !(step > factor.lastUsedStep)) return false;
    factor.lastUsedStep = step;
    return true;
  }

  async consumeRecoveryCode(userId: string, codeHash: string, now: number): Promise<boolean> {
    const stored = this.#active(userId);
    if (!stored || stored.codes.get(codeHash) !== null) return false;
    stored.codes.set(codeHash, now);
    return true;
  }

  async replaceRecoveryCodes(
    userId: string,
    codeHashes: readonly string[],
    _now: number,
  ): Promise<boolean> {
    const stored = this.#active(userId);
    if (!stored) return false;
    stored.codes = new Map(codeHashes.map((hash) => [hash, null]));
    return true;
  }

  async recoveryCodesLeft(userId: string): Promise<number> {
    const stored = this.#active(userId);
    if (!stored) return 0;
    let left = 0;
    for (const usedAt of stored.codes.values()) if (usedAt === null) left += 1;
    return left;
  }

  async deleteFactor(userId: string): Promise<boolean> {
    return this.#factors.delete(userId);
  }

  async updateSecret(
    userId: string,
    ciphertext: string,
    expectedCiphertext?: string,
  ): Promise<boolean> {
    const stored = this.#factors.get(userId);
    if (!stored) return false;
    if (expectedCiphertext !== undefined && stored.factor.secretCiphertext !== expectedCiphertext) {
      return false;
    }
    stored.factor.secretCiphertext = ciphertext;
    return true;
  }

  #active(userId: string): StoredFactor | undefined {
    const stored = this.#factors.get(userId);
    return stored?.factor.status === 'active' ? stored : undefined;
  }

  #dropOldestPending(): void {
    for (const [userId, stored] of this.#factors) {
      if (stored.factor.status === 'pending') {
        this.#factors.delete(userId);
        return;
      }
    }
    throw new AuthError(
      'SERVER_ERROR',
      `MemoryMfaStore is full: ${this.#maxFactors} active factors (raise maxFactors or use a database store)`,
    );
  }
}
