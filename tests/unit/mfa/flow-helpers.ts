// Shared set-up of the MFA flow tests (flow, lockout, policy): an instance with `mfa` on, a
// manual clock, and helpers that enrol a user and log in up to the code step.
import { expect } from 'vitest';
import {
  type AuthError,
  type AuthOptions,
  generateMfaKey,
  MemoryAttemptStore,
  MemoryMfaStore,
} from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';
import { mfaLockoutKeyHasher } from '../../../src/mfa/service.js';
import { totpCodeAt } from '../../../src/mfa/totp.js';
import { makeAuth, PASSWORD, registerUser } from '../../helpers/auth.js';

export const STEP_MS = 30_000;

export function makeMfaAuth(options: AuthOptions = {}, mfa: Partial<AuthOptions['mfa']> = {}) {
  const made = makeAuth({
    ...options,
    stores: { mfa: new MemoryMfaStore(), attempts: new MemoryAttemptStore(), ...options.stores },
    mfa: { encryptionKeys: [{ id: 'k1', key: generateMfaKey() }], ...mfa },
  });
  // The stores the instance runs with (the memory one-time-token store shares the outbox).
  const { mfa: mfaStore, attempts, oneTimeTokens } = internalsOf(made.auth).stores;
  return { ...made, stores: { mfa: mfaStore, attempts, oneTimeTokens } };
}

export type MfaAuth = ReturnType<typeof makeMfaAuth>;

/** The error a promise rejects with; fails the test when it resolves. */
export async function failure(promise: Promise<unknown>): Promise<AuthError> {
  return promise.then(
    () => {
      throw new Error('unexpectedly succeeded');
    },
    (err: AuthError) => err,
  );
}

/** The code of `secret` now on the test's clock. */
export function codeNow(made: MfaAuth, secret: string, offsetMs = 0): string {
  return totpCodeAt(secret, made.clock.now() + offsetMs);
}

/** Registers and enrols a user; the clock then moves to the next step (a fresh code). */
export async function enrolledUser(made: MfaAuth, email = 'ada@example.com', password = PASSWORD) {
  const user = await registerUser(made.auth, email, password);
  const { secret, uri } = await made.auth.startTotpEnrollment(user.id);
  const { recoveryCodes } = await made.auth.confirmTotp(user.id, codeNow(made, secret));
  made.clock.advance(STEP_MS);
  return { user, secret, uri, recoveryCodes };
}

/** Logs in with the password and returns the challenge of the MFA_REQUIRED answer. */
export async function challengeOf(made: MfaAuth, email = 'ada@example.com', password = PASSWORD) {
  const err = await failure(made.auth.login({ email, password }));
  expect(err.code).toBe('MFA_REQUIRED');
  const challenge = err.details?.['challenge'];
  expect(typeof challenge).toBe('string');
  return challenge as string;
}

/** The key of a user's MFA bucket (makeAuth's identifier key is `auditEmailKey`). */
export const mfaBucketKey = mfaLockoutKeyHasher(
  new TextEncoder().encode('test-audit-key-0123456789'),
);

/** The state of a user's MFA bucket in the attempt store, or null when it holds nothing. */
export function mfaBucketOf(made: MfaAuth, userId: string) {
  return made.stores.attempts.inspect(mfaBucketKey(userId), made.clock.now());
}
