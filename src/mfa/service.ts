import { createHmac, hkdfSync } from 'node:crypto';
import type { MfaDataExport } from '../account/data-rights.js';
import {
  hashOneTimeToken,
  newOneTimeToken,
  presentedTokenHash,
} from '../account/one-time-token.js';
import type { AuditEmitter, RequestContext } from '../audit/emitter.js';
import { AuthError } from '../errors.js';
import { codePointLength } from '../passwords/policy.js';
import type { Clock, Logger, RandomSource } from '../runtime.js';
import type {
  AttemptStore,
  LockoutRule,
  MfaFactorRecord,
  MfaStore,
  OneTimeTokenStore,
  UserRecord,
  UserStore,
} from '../stores/types.js';
import { generateRecoveryCodes, hashRecoveryCode } from './recovery-codes.js';
import type { SecretBox } from './secret-box.js';
import { generateTotpSecret, totpUri, verifyTotp } from './totp.js';

/**
 * What `startTotpEnrollment` returns: the new secret (base32, for manual entry) and the
 * `otpauth://` URI an authenticator app reads from a QR code. The factor stays pending until
 * `confirmTotp` receives a valid code; the secret is never returned again.
 *
 * @example
 * ```ts
 * const { secret, uri }: TotpEnrollment = await auth.startTotpEnrollment(principal.userId);
 * res.json({ success: true, secret, uri }); // render `uri` as a QR code
 * ```
 */
export interface TotpEnrollment {
  /** The TOTP secret, base32 (RFC 4648, no padding): 160 bits from the injected randomness. */
  readonly secret: string;
  /** `otpauth://totp/<issuer>:<email>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`. */
  readonly uri: string;
}

/**
 * Recovery codes, shown once (at confirmation and at regeneration): each works once in place of
 * a code from the app. Only keyed hashes of them are stored.
 *
 * @example
 * ```ts
 * const { recoveryCodes }: MfaRecoveryCodes = await auth.confirmTotp(principal.userId, '492039');
 * res.json({ success: true, recoveryCodes }); // 10 codes like 'k7mq-3xh9-p2'
 * ```
 */
export interface MfaRecoveryCodes {
  /** The new codes (10), `xxxx-xxxx-xx`; the previous set, if any, no longer works. */
  readonly recoveryCodes: string[];
}

/**
 * The second factor presented with an MFA challenge: a code from the authenticator app, or one
 * of the recovery codes.
 *
 * @example
 * ```ts
 * const proof: SecondFactorInput = req.body.recoveryCode
 *   ? { recoveryCode: req.body.recoveryCode }
 *   : { code: req.body.code };
 * const session = await auth.completeMfa(req.body.challenge, proof, { ip: req.ip });
 * ```
 */
export type SecondFactorInput = { code: string } | { recoveryCode: string };

/**
 * What `enrollWithChallenge` does: `start` (a new pending secret, as `startTotpEnrollment`)
 * or `confirm` with the first code (as `confirmTotp`, then the login finishes).
 *
 * @example
 * ```ts
 * const { uri } = await auth.enrollWithChallenge(challenge, { step: 'start' });
 * const { recoveryCodes, login } = await auth.enrollWithChallenge(challenge, { step: 'confirm', code });
 * ```
 */
export type EnrollWithChallengeInput = { step: 'start' } | { step: 'confirm'; code: string };

/** How a login's second step was proved (the `method` of LOGIN_SUCCEEDED). */
export type SecondFactorMethod = 'totp' | 'recovery_code';

/** What the MFA flow needs; createAuth builds it. */
export interface MfaServiceOptions {
  users: UserStore;
  store: MfaStore;
  attempts: AttemptStore;
  oneTimeTokens: OneTimeTokenStore;
  box: SecretBox;
  /** The issuer shown by authenticator apps. */
  issuer: string;
  /** Roles that must have an active factor to log in (`mfa.requireForRoles`). */
  requireForRoles: readonly string[];
  challengeTtlMs: number;
  /** The MFA bucket's lockout rule (`mfa.lockout`). */
  lockout: Omit<LockoutRule, 'now'>;
  /** The AttemptStore key of a user's MFA bucket: `mfa:` + a keyed hash of the id. */
  lockoutKey: (userId: string) => string;
  /**
   * `passwords.minLength`: removing the factor of an account whose password is shorter (allowed
   * only with a second factor) is refused until the password is changed.
   */
  minPasswordLength: number;
  /**
   * Checks a user's password against the password lockout (as a password change does); returns
   * the normalised password or throws INVALID_CREDENTIALS / ACCOUNT_LOCKED.
   */
  verifyPassword: (user: UserRecord, password: unknown, context: RequestContext) => Promise<string>;
  /** Ends every session of the user except `exceptSessionId`; returns how many. */
  revokeOtherSessions: (
    userId: string,
    exceptSessionId: string | undefined,
    context: RequestContext,
  ) => Promise<number>;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  audit: AuditEmitter;
}

type Flow = 'login' | 'enroll' | 'regenerate' | 'disable';
type ChallengeKind = 'login' | 'enroll';

// The label of the MFA bucket's subkey: a key derived for one purpose is never used for another.
const MFA_LOCKOUT_KEY_INFO = 'gatehouse/mfa-lockout-counter-key/v1';
/** Longer than any code or recovery code (whitespace included): refused before any work. */
const MAX_CODE_INPUT_LENGTH = 64;

/**
 * The AttemptStore key of a user's MFA bucket: `mfa:` + base64url(HMAC-SHA256(k, userId)), k
 * derived from the identifier key under its own label. Separate from the password's `login:`
 * keys, so a correct password (which clears the password counter) never clears it.
 */
export function mfaLockoutKeyHasher(identifierKey: Uint8Array): (userId: string) => string {
  const subkey = Buffer.from(
    hkdfSync('sha256', identifierKey, new Uint8Array(0), MFA_LOCKOUT_KEY_INFO, 32),
  );
  return (userId) =>
    `mfa:${createHmac('sha256', subkey).update(userId, 'utf8').digest('base64url')}`;
}

/**
 * Erases what the MFA module keeps about a user: pending challenges, the factor with its
 * recovery codes, and the MFA bucket. Runs with or without the `mfa` option (a factor stored
 * while it was on is erased all the same). Each step is idempotent, so a retry finishes it.
 */
export async function eraseMfaData(
  stores: Pick<MfaServiceOptions, 'store' | 'attempts' | 'oneTimeTokens' | 'lockoutKey'>,
  userId: string,
): Promise<void> {
  await stores.oneTimeTokens.revokeUserTokens(userId, 'mfa_challenge');
  await stores.store.deleteFactor(userId);
  await stores.attempts.reset(stores.lockoutKey(userId));
}

/**
 * The stored hash of a challenge. Login and enrolment challenges share the one-time-token
 * purpose `mfa_challenge`; an enrolment challenge's hash is taken once more under a label, so a
 * challenge of one kind never matches a lookup of the other.
 */
function challengeHash(kind: ChallengeKind, base: string): string {
  return kind === 'login' ? base : hashOneTimeToken(`mfa-enroll:${base}`);
}

function presentedChallengeHash(kind: ChallengeKind, challenge: unknown): string | null {
  const base = presentedTokenHash(challenge);
  return base === null ? null : challengeHash(kind, base);
}

function challengeInvalid(): AuthError {
  return new AuthError('MFA_CHALLENGE_INVALID');
}

/** A code as typed: a string of at most 64 characters, whitespace removed ("123 456"). */
function requireCode(code: unknown, field: 'code' | 'recoveryCode' = 'code'): string {
  if (typeof code !== 'string' || code.length === 0 || code.length > MAX_CODE_INPUT_LENGTH) {
    throw new AuthError(
      'VALIDATION_ERROR',
      field === 'code'
        ? 'A code from the authenticator app is required.'
        : 'A recovery code is required.',
      { details: { field, reason: 'required' } },
    );
  }
  return code.replace(/\s+/g, '');
}

/** Exactly one of `code` and `recoveryCode`; VALIDATION_ERROR otherwise (counts toward nothing). */
function secondFactorOf(input: unknown): { code: string } | { recoveryCode: string } {
  const given = (typeof input === 'object' && input !== null ? input : {}) as Record<
    string,
    unknown
  >;
  const hasCode = given['code'] !== undefined;
  const hasRecovery = given['recoveryCode'] !== undefined;
  if (hasCode && !hasRecovery) return { code: requireCode(given['code']) };
  if (hasRecovery && !hasCode) {
    return { recoveryCode: requireCode(given['recoveryCode'], 'recoveryCode') };
  }
  throw new AuthError('VALIDATION_ERROR', 'Give either a code or a recovery code.', {
    details: { field: 'code', reason: 'required' },
  });
}

/**
 * The TOTP second factor: enrolment, the code step of a login over a single-use challenge,
 * recovery codes and removal. Every code check counts in the user's own MFA bucket of the
 * AttemptStore (progressive lockout, like the password's); a code is accepted once
 * (`MfaStore.acceptStep`), a recovery code once (`consumeRecoveryCode`).
 */
export class MfaService {
  readonly #o: MfaServiceOptions;

  constructor(options: MfaServiceOptions) {
    this.#o = options;
  }

  /** Whether the user has an active (confirmed) factor. */
  async hasActiveFactor(userId: string): Promise<boolean> {
    return (await this.#o.store.getFactor(userId))?.status === 'active';
  }

  /**
   * The login's second step, called after the correct password and every other check: returns
   * when no factor is needed; otherwise throws MFA_REQUIRED (an active factor) or
   * MFA_ENROLLMENT_REQUIRED (a role of `requireForRoles` without one), each with a fresh
   * single-use challenge in `details.challenge` (and `details.expiresIn`, seconds). No session
   * is started.
   */
  async requireSecondFactor(user: UserRecord): Promise<void> {
    const factor = await this.#o.store.getFactor(user.id);
    if (factor?.status === 'active') {
      throw new AuthError('MFA_REQUIRED', undefined, {
        details: await this.#issueChallenge(user.id, 'login'),
      });
    }
    if (this.#o.requireForRoles.includes(user.role)) {
      throw new AuthError('MFA_ENROLLMENT_REQUIRED', undefined, {
        details: await this.#issueChallenge(user.id, 'enroll'),
      });
    }
  }

  /** A new pending secret for an authenticated user; MFA_ALREADY_ENROLLED with an active one. */
  async startEnrollment(userId: string): Promise<TotpEnrollment> {
    const user = await this.#activeUser(userId);
    const factor = await this.#o.store.getFactor(user.id);
    if (factor?.status === 'active') throw new AuthError('MFA_ALREADY_ENROLLED');
    const secret = generateTotpSecret(this.#o.random);
    const sealed = this.#o.box.seal(user.id, secret);
    if (!(await this.#o.store.savePendingFactor(user.id, sealed, this.#o.clock.now()))) {
      throw new AuthError('MFA_ALREADY_ENROLLED');
    }
    return { secret, uri: totpUri({ issuer: this.#o.issuer, account: user.email, secret }) };
  }

  /**
   * Activates the pending factor with its first valid code and returns the recovery codes
   * (shown once). MFA_INVALID_CODE (counted in the MFA bucket), MFA_LOCKED, MFA_NOT_ENROLLED
   * without a pending factor, MFA_ALREADY_ENROLLED with an active one.
   */
  async confirmEnrollment(
    userId: string,
    code: unknown,
    context: RequestContext,
  ): Promise<MfaRecoveryCodes> {
    const user = await this.#activeUser(userId);
    const typed = requireCode(code);
    const factor = await this.#o.store.getFactor(user.id);
    if (factor?.status === 'active') throw new AuthError('MFA_ALREADY_ENROLLED');
    if (!factor) {
      throw new AuthError('MFA_NOT_ENROLLED', 'Start the enrolment first.', {
        details: { reason: 'no_pending_enrollment' },
      });
    }
    await this.#reserve(user.id, 'enroll', context);
    const secret = this.#o.box.open(user.id, factor.secretCiphertext).plaintext;
    const now = this.#o.clock.now();
    const step = verifyTotp(secret, typed, now);
    if (step === null) return this.#fail(user.id, 'invalid_code', 'enroll', context);
    const recoveryCodes = generateRecoveryCodes(this.#o.random);
    const hashes = recoveryCodes.map((c) => hashRecoveryCode(secret, user.id, c) as string);
    const activated = await this.#o.store.activateFactor(
      user.id,
      step,
      hashes,
      now,
      factor.secretCiphertext,
    );
    if (!activated) {
      // A concurrent confirmation won, or a new enrolment replaced the secret in between.
      if (await this.hasActiveFactor(user.id)) throw new AuthError('MFA_ALREADY_ENROLLED');
      throw new AuthError('MFA_NOT_ENROLLED', 'The enrolment was restarted: scan the new code.', {
        details: { reason: 'enrollment_replaced' },
      });
    }
    await this.#o.attempts.reset(this.#o.lockoutKey(user.id));
    this.#o.audit.emit({
      event: 'MFA_ENROLLED',
      status: 'success',
      userId: user.id,
      context,
      metadata: { method: 'totp', recoveryCodes: recoveryCodes.length },
    });
    return { recoveryCodes };
  }

  /**
   * The code step of a login: checks the challenge, then the code or recovery code; returns the
   * user to start the session for. The challenge is consumed only by a success (it stays usable
   * after a wrong code, until it expires or the MFA bucket locks).
   */
  async complete(
    challenge: unknown,
    input: unknown,
    context: RequestContext,
  ): Promise<{ user: UserRecord; method: SecondFactorMethod }> {
    const proof = secondFactorOf(input);
    const hash = presentedChallengeHash('login', challenge);
    const user = await this.#challengeUser(hash);
    const factor = await this.#o.store.getFactor(user.id);
    if (factor?.status !== 'active') throw challengeInvalid();
    await this.#reserve(user.id, 'login', context);
    const opened = this.#o.box.open(user.id, factor.secretCiphertext);
    const now = this.#o.clock.now();
    let method: SecondFactorMethod;
    if ('code' in proof) {
      await this.#acceptCode(user.id, opened.plaintext, proof.code, now, 'login', context);
      method = 'totp';
    } else {
      const codeHash = hashRecoveryCode(opened.plaintext, user.id, proof.recoveryCode);
      if (codeHash === null || !(await this.#o.store.consumeRecoveryCode(user.id, codeHash, now))) {
        return this.#fail(user.id, 'invalid_recovery_code', 'login', context);
      }
      method = 'recovery_code';
    }
    // Decides between concurrent completions of one challenge proved by different codes.
    if (!(await this.#o.oneTimeTokens.consume(hash as string, 'mfa_challenge', now))) {
      throw challengeInvalid();
    }
    await this.#o.attempts.reset(this.#o.lockoutKey(user.id));
    await this.#reseal(user.id, factor, opened);
    if (method === 'recovery_code') {
      this.#o.audit.emit({
        event: 'RECOVERY_CODE_USED',
        status: 'success',
        userId: user.id,
        context,
        metadata: { remaining: await this.#o.store.recoveryCodesLeft(user.id) },
      });
    }
    return { user, method };
  }

  /** `start` or `confirm` an enrolment with the challenge of MFA_ENROLLMENT_REQUIRED. */
  async enrollWithChallenge(
    challenge: unknown,
    input: EnrollWithChallengeInput,
    context: RequestContext,
  ): Promise<TotpEnrollment | { user: UserRecord; recoveryCodes: string[] }> {
    const step = (input as { step?: unknown } | undefined)?.step;
    if (step !== 'start' && step !== 'confirm') {
      throw new AuthError('VALIDATION_ERROR', "The step must be 'start' or 'confirm'.", {
        details: { field: 'step', reason: 'invalid' },
      });
    }
    const code = step === 'confirm' ? requireCode((input as { code?: unknown }).code) : '';
    const hash = presentedChallengeHash('enroll', challenge);
    const user = await this.#challengeUser(hash);
    if (step === 'start') return this.startEnrollment(user.id);
    const { recoveryCodes } = await this.confirmEnrollment(user.id, code, context);
    // The factor is on either way; a challenge used up by a concurrent request means this one
    // signs in as anyone with a factor does.
    if (
      !(await this.#o.oneTimeTokens.consume(hash as string, 'mfa_challenge', this.#o.clock.now()))
    ) {
      throw challengeInvalid();
    }
    return { user, recoveryCodes };
  }

  /** A new set of recovery codes (the old set dies) for a valid code from the app. */
  async regenerateRecoveryCodes(
    userId: string,
    input: { code: string },
    context: RequestContext,
  ): Promise<MfaRecoveryCodes> {
    const user = await this.#activeUser(userId);
    const typed = requireCode((input as { code?: unknown } | undefined)?.code);
    const factor = await this.#requireActive(user.id);
    await this.#reserve(user.id, 'regenerate', context);
    const opened = this.#o.box.open(user.id, factor.secretCiphertext);
    const now = this.#o.clock.now();
    await this.#acceptCode(user.id, opened.plaintext, typed, now, 'regenerate', context);
    const recoveryCodes = generateRecoveryCodes(this.#o.random);
    const hashes = recoveryCodes.map(
      (c) => hashRecoveryCode(opened.plaintext, user.id, c) as string,
    );
    if (!(await this.#o.store.replaceRecoveryCodes(user.id, hashes, now))) {
      throw new AuthError('MFA_NOT_ENROLLED');
    }
    await this.#o.attempts.reset(this.#o.lockoutKey(user.id));
    await this.#reseal(user.id, factor, opened);
    this.#o.audit.emit({
      event: 'RECOVERY_CODES_REGENERATED',
      status: 'success',
      userId: user.id,
      context,
      metadata: { count: recoveryCodes.length },
    });
    return { recoveryCodes };
  }

  /**
   * Removes the factor after the password (password lockout) and a code or recovery code (MFA
   * bucket); ends every other session. FORBIDDEN for a role of `requireForRoles`;
   * VALIDATION_ERROR (`reason: 'too_short_without_mfa'`) when the password is shorter than
   * `passwords.minLength`.
   */
  async disable(
    userId: string,
    input: { password: string } & ({ code: string } | { recoveryCode: string }),
    context: RequestContext & { sessionId?: string | undefined },
  ): Promise<void> {
    const user = await this.#activeUser(userId);
    const given = (input ?? {}) as Record<string, unknown>;
    if (typeof given['password'] !== 'string') {
      throw new AuthError('VALIDATION_ERROR', 'The password is required.', {
        details: { field: 'password', reason: 'required' },
      });
    }
    const proof = secondFactorOf(given);
    const factor = await this.#requireActive(user.id);
    if (this.#o.requireForRoles.includes(user.role)) {
      throw new AuthError(
        'FORBIDDEN',
        'Two-factor authentication is required for your role and cannot be turned off.',
        { details: { reason: 'mfa_required_for_role' } },
      );
    }
    const password = await this.#o.verifyPassword(user, given['password'], context);
    if (codePointLength(password) < this.#o.minPasswordLength) {
      throw new AuthError(
        'VALIDATION_ERROR',
        `Your password is shorter than ${this.#o.minPasswordLength} characters, which is allowed only with two-factor authentication: change it first.`,
        { details: { field: 'password', reason: 'too_short_without_mfa' } },
      );
    }
    await this.#reserve(user.id, 'disable', context);
    const opened = this.#o.box.open(user.id, factor.secretCiphertext);
    const now = this.#o.clock.now();
    if ('code' in proof) {
      await this.#acceptCode(user.id, opened.plaintext, proof.code, now, 'disable', context);
    } else {
      const codeHash = hashRecoveryCode(opened.plaintext, user.id, proof.recoveryCode);
      if (codeHash === null || !(await this.#o.store.consumeRecoveryCode(user.id, codeHash, now))) {
        return this.#fail(user.id, 'invalid_recovery_code', 'disable', context);
      }
    }
    await this.#o.store.deleteFactor(user.id);
    await this.#o.attempts.reset(this.#o.lockoutKey(user.id));
    await this.#o.oneTimeTokens.revokeUserTokens(user.id, 'mfa_challenge');
    this.#o.audit.emit({
      event: 'MFA_DISABLED',
      status: 'success',
      userId: user.id,
      context,
      metadata: { method: 'totp', proof: 'code' in proof ? 'totp' : 'recovery_code' },
    });
    await this.#o.revokeOtherSessions(user.id, context.sessionId, context);
  }

  /** The user's second factor for a data export: never the secret or a code. */
  async exportOf(userId: string): Promise<MfaDataExport> {
    const factor = await this.#o.store.getFactor(userId);
    if (factor?.status !== 'active') {
      return { enrolled: false, enrolledAt: null, recoveryCodesLeft: 0 };
    }
    return {
      enrolled: true,
      enrolledAt: factor.confirmedAt === null ? null : new Date(factor.confirmedAt).toISOString(),
      recoveryCodesLeft: await this.#o.store.recoveryCodesLeft(userId),
    };
  }

  /** Erasure: the factor with its recovery codes, pending challenges and the MFA bucket. */
  erase(userId: string): Promise<void> {
    return eraseMfaData(this.#o, userId);
  }

  async #issueChallenge(
    userId: string,
    kind: ChallengeKind,
  ): Promise<{ challenge: string; expiresIn: number }> {
    const { token, tokenHash } = newOneTimeToken(this.#o.random);
    const now = this.#o.clock.now();
    // Supersedes the user's earlier challenge (of either kind): the latest login holds the one.
    await this.#o.oneTimeTokens.issue({
      tokenHash: challengeHash(kind, tokenHash),
      userId,
      purpose: 'mfa_challenge',
      createdAt: now,
      expiresAt: now + this.#o.challengeTtlMs,
    });
    return { challenge: token, expiresIn: Math.floor(this.#o.challengeTtlMs / 1000) };
  }

  /** The user of a live challenge, able to log in; MFA_CHALLENGE_INVALID otherwise (one answer). */
  async #challengeUser(hash: string | null): Promise<UserRecord> {
    const now = this.#o.clock.now();
    const record = hash ? await this.#o.oneTimeTokens.find(hash, 'mfa_challenge', now) : null;
    if (!record) throw challengeInvalid();
    const user = await this.#o.users.findById(record.userId);
    if (!user || !this.#mayLogIn(user, now)) throw challengeInvalid();
    return user;
  }

  /** Active and not banned: the account could log in right now. */
  #mayLogIn(user: UserRecord, now: number): boolean {
    if (!user.isActive) return false;
    const bannedAt = user.bannedAt ?? null;
    const until = user.bannedUntil ?? null;
    return bannedAt === null || (until !== null && until.getTime() <= now);
  }

  async #activeUser(userId: string): Promise<UserRecord> {
    const user = typeof userId === 'string' ? await this.#o.users.findById(userId) : null;
    if (!user || !user.isActive) throw new AuthError('UNAUTHENTICATED');
    return user;
  }

  async #requireActive(userId: string): Promise<MfaFactorRecord> {
    const factor = await this.#o.store.getFactor(userId);
    if (factor?.status !== 'active') throw new AuthError('MFA_NOT_ENROLLED');
    return factor;
  }

  /** A valid code of a step later than the last accepted one; a failure (thrown) otherwise. */
  async #acceptCode(
    userId: string,
    secret: string,
    code: string,
    now: number,
    flow: Flow,
    context: RequestContext,
  ): Promise<void> {
    const step = verifyTotp(secret, code, now);
    if (step === null) return this.#fail(userId, 'invalid_code', flow, context);
    // Atomic in the store: of concurrent uses of one code exactly one gets true.
    if (!(await this.#o.store.acceptStep(userId, step))) {
      return this.#fail(userId, 'replayed_code', flow, context);
    }
  }

  #rule(): LockoutRule {
    return { ...this.#o.lockout, now: this.#o.clock.now() };
  }

  /** Reserves one attempt in the user's MFA bucket; MFA_LOCKED while it is locked. */
  async #reserve(userId: string, flow: Flow, context: RequestContext): Promise<void> {
    const now = this.#o.clock.now();
    const reservation = await this.#o.attempts.reserve(this.#o.lockoutKey(userId), {
      ...this.#o.lockout,
      now,
    });
    if (reservation.allowed) return;
    this.#o.audit.emit({
      event: 'MFA_FAILED',
      status: 'failure',
      userId,
      context,
      metadata: { reason: 'locked', flow },
    });
    // The store tells exactly one caller per lock that it took it: one event per lock.
    if (reservation.lockedNow) await this.#locked(userId, reservation.lockedUntil, context);
    throw lockedError(reservation.lockedUntil, now);
  }

  /** Counts a wrong code; MFA_LOCKED when this failure took the lock, else MFA_INVALID_CODE. */
  async #fail(userId: string, reason: string, flow: Flow, context: RequestContext): Promise<never> {
    const lockedUntil = await this.#o.attempts.recordFailure(
      this.#o.lockoutKey(userId),
      this.#rule(),
    );
    this.#o.audit.emit({
      event: 'MFA_FAILED',
      status: 'failure',
      userId,
      context,
      metadata: { reason, flow },
    });
    if (lockedUntil !== null) {
      await this.#locked(userId, lockedUntil, context);
      throw lockedError(lockedUntil, this.#o.clock.now());
    }
    // A replayed code is answered exactly like a wrong one.
    throw new AuthError('MFA_INVALID_CODE');
  }

  /** A lock was taken: audit it, and end the pending challenges (a new login is needed after). */
  async #locked(userId: string, lockedUntil: number, context: RequestContext): Promise<void> {
    this.#o.audit.emit({
      event: 'MFA_LOCKED',
      status: 'failure',
      userId,
      context,
      metadata: { lockedUntil: new Date(lockedUntil).toISOString() },
    });
    await this.#o.oneTimeTokens.revokeUserTokens(userId, 'mfa_challenge');
  }

  /** Re-encrypts a secret sealed by an older key with the first one (key rotation). */
  async #reseal(
    userId: string,
    factor: MfaFactorRecord,
    opened: { plaintext: string; stale: boolean },
  ): Promise<void> {
    if (!opened.stale) return;
    try {
      const sealed = this.#o.box.seal(userId, opened.plaintext);
      await this.#o.store.updateSecret(userId, sealed, factor.secretCiphertext);
    } catch (err) {
      // The next use tries again; the login itself has succeeded.
      this.#o.logger.warn('could not re-encrypt a TOTP secret with the current key', {
        userId,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

function lockedError(lockedUntil: number, now: number): AuthError {
  return new AuthError('MFA_LOCKED', undefined, {
    retryAfter: Math.max(1, Math.ceil((lockedUntil - now) / 1000)),
  });
}
