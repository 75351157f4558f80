import { z } from 'zod';
import { durationSchema } from '../duration.js';
import { DEFAULT_BREACHED_BASE_URL, DEFAULT_BREACHED_TIMEOUT_MS } from './breached.js';
import { DEFAULT_BCRYPT_COST, MIN_BCRYPT_COST } from './index.js';
import type { PasswordCheck } from './policy.js';
import { DEFAULT_HASH_QUEUE_LIMIT, defaultHashConcurrency, MAX_HASH_CONCURRENCY } from './queue.js';

const fn = <T>(what: string) =>
  z.custom<T>((value) => typeof value === 'function', { message: `must be ${what}` });

/**
 * NIST SP 800-63B-4: 15 when the password is the only factor (`passwords.minLength`, never
 * lower), 8 at least when there is a second one (`passwords.minLengthWithMfa`).
 */
export const DEFAULT_MIN_PASSWORD_LENGTH = 15;
export const MIN_PASSWORD_LENGTH_FLOOR = 8;

/** https, or plain http only to a server on this machine (a test double, a local mirror). */
function isAllowedBaseUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password || url.search || url.hash) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/** `passwords.breached`: the Have I Been Pwned range check. */
const breachedSchema = z
  .object({
    onUnavailable: z.enum(['allow', 'refuse'], {
      error:
        'is required: "allow" (accept the password when the service cannot be reached) or "refuse" (refuse the change until it can)',
    }),
    baseUrl: z
      .string()
      .refine(
        isAllowedBaseUrl,
        'must be an https URL without credentials, query or fragment (http only for 127.0.0.1 or localhost)',
      )
      .default(DEFAULT_BREACHED_BASE_URL),
    timeout: durationSchema({ minMs: 10, maxMs: 30_000 }).prefault(
      DEFAULT_BREACHED_TIMEOUT_MS / 1000,
    ),
    minCount: z.number().int().min(1).max(1_000_000_000).default(1),
  })
  .strict();

/** The `passwords` options of createAuth. */
export const passwordsSchema = z
  .object({
    cost: z
      .number()
      .int()
      .min(MIN_BCRYPT_COST, `bcrypt cost below ${MIN_BCRYPT_COST} is refused as too weak`)
      .max(31)
      .default(DEFAULT_BCRYPT_COST),
    minLength: z
      .number()
      .int()
      .min(
        DEFAULT_MIN_PASSWORD_LENGTH,
        `must be at least ${DEFAULT_MIN_PASSWORD_LENGTH}: NIST SP 800-63B-4 asks for 15 when the password is the only factor; for accounts with a second factor set passwords.minLengthWithMfa (${MIN_PASSWORD_LENGTH_FLOOR} at the least) instead`,
      )
      .max(72, 'must be at most 72: bcrypt reads 72 bytes of a password')
      .default(DEFAULT_MIN_PASSWORD_LENGTH),
    /** Applies to new passwords of accounts with an active second factor; absent: minLength. */
    minLengthWithMfa: z
      .number()
      .int()
      .min(
        MIN_PASSWORD_LENGTH_FLOOR,
        `must be at least ${MIN_PASSWORD_LENGTH_FLOOR}: NIST SP 800-63B-4 allows no shorter password even with a second factor`,
      )
      .max(72, 'must be at most 72: bcrypt reads 72 bytes of a password')
      .optional(),
    check: fn<PasswordCheck>('a function (password, context) => reason | null').optional(),
    /** The service's name: passwords containing it (or a word of it of 4+ characters) are refused. */
    productName: z.string().trim().min(1).max(100).optional(),
    breached: breachedSchema.optional(),
    /** bcrypt operations at once; the default leaves a core and a libuv pool thread free. */
    hashConcurrency: z
      .number({ error: 'must be a whole number of bcrypt operations at once, 1 to 1024' })
      .int('must be a whole number of bcrypt operations at once, 1 to 1024')
      .min(1, 'must be at least 1 (bcrypt operations at once)')
      .max(
        MAX_HASH_CONCURRENCY,
        `must be at most ${MAX_HASH_CONCURRENCY}: libuv runs at most that many pool threads (UV_THREADPOOL_SIZE)`,
      )
      .default(() => defaultHashConcurrency()),
    /** Password checks waiting for a slot; beyond it a login answers 503 with Retry-After. */
    hashQueueLimit: z
      .number({ error: 'must be a whole number of waiting password checks, 0 to 100000' })
      .int('must be a whole number of waiting password checks, 0 to 100000')
      .min(0, 'must be 0 (refuse when every slot is busy) or more')
      .max(100_000, 'must be at most 100000: a longer queue only makes clients time out')
      .default(DEFAULT_HASH_QUEUE_LIMIT),
  })
  .strict()
  .superRefine((passwords, ctx) => {
    // Contradictory rather than clamped: a second factor never makes a longer password necessary.
    if (
      passwords.minLengthWithMfa !== undefined &&
      passwords.minLengthWithMfa > passwords.minLength
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['minLengthWithMfa'],
        message: `must not be greater than passwords.minLength (passwords.minLengthWithMfa is ${passwords.minLengthWithMfa}, passwords.minLength is ${passwords.minLength})`,
      });
    }
  })
  .transform((passwords) => ({
    ...passwords,
    minLengthWithMfa: passwords.minLengthWithMfa ?? passwords.minLength,
  }));
