import { z } from 'zod';
import { lockoutSchema } from '../credentials/lockout-options.js';
import { durationSchema } from '../duration.js';

const MINUTE = 60_000;
/** The longest a login may wait between the password and the code: a stolen challenge is short-lived. */
export const MAX_MFA_CHALLENGE_TTL_MS = 10 * MINUTE;
export const DEFAULT_MFA_CHALLENGE_TTL_MS = 5 * MINUTE;

/** One key of `mfa.encryptionKeys`; its bytes and id are checked by `createSecretBox` at start. */
const encryptionKeySchema = z
  .object({
    id: z.string({ error: 'must be a string: the key id written into each sealed secret' }),
    key: z.union(
      [
        z.string(),
        // Any Uint8Array, a Node Buffer included.
        z.custom<Uint8Array>((value) => value instanceof Uint8Array),
      ],
      { error: 'must be 32 bytes: 64 hex characters, base64(url) of 32 bytes or a Uint8Array' },
    ),
  })
  .strict();

/**
 * The `mfa` options of createAuth (absent: no second factor, the MFA methods answer
 * INVALID_CONFIG). Durations come out in milliseconds; the lockout is the password lockout's
 * schema, with the same defaults, applied to its own per-account bucket.
 */
export const mfaOptionsSchema = z
  .object({
    issuer: z
      .string({ error: 'must be a string: the name authenticator apps show above the code' })
      .trim()
      .min(1, 'must not be empty')
      .max(100, 'must be at most 100 characters')
      .refine(
        (issuer) => !issuer.includes(':'),
        'must not contain ":": the otpauth label separates the issuer from the account with it',
      )
      .optional(),
    encryptionKeys: z
      .array(encryptionKeySchema, {
        error:
          'is required: [{ id, key }] with a 32-byte key (generateMfaKey() makes one); the first key encrypts the TOTP secrets, every key decrypts',
      })
      .min(
        1,
        'must hold at least one key [{ id, key }] (generateMfaKey() makes one): the TOTP secrets are stored encrypted',
      ),
    requireForRoles: z
      .array(z.string().min(1, 'must hold non-empty role names'), {
        error: 'must be an array of role names',
      })
      .max(100, 'must name at most 100 roles')
      .default([]),
    challengeTtl: durationSchema({ minMs: 30_000, maxMs: MAX_MFA_CHALLENGE_TTL_MS }).prefault(
      DEFAULT_MFA_CHALLENGE_TTL_MS / 1000,
    ),
    lockout: lockoutSchema.prefault({}),
  })
  .strict();

/** The `mfa` options after validation and defaults. */
export type ResolvedMfaOptions = z.output<typeof mfaOptionsSchema>;
