import { z } from 'zod';
import { durationSchema } from '../duration.js';
import type { TokenOptions } from '../options.js';
import { parseOptions } from '../validation.js';
import { checkKid, TOKEN_ALGORITHMS, toKeyObject } from './keys.js';

/** The largest clock tolerance accepted, in milliseconds. */
export const MAX_CLOCK_TOLERANCE_MS = 60_000;

/** The longest a shared store's revocation state may be cached, in milliseconds. */
export const MAX_REVOCATION_CACHE_TTL_MS = 60_000;

/** The longest refresh reuse grace accepted (`tokens.reuseGrace`), in milliseconds. */
export const MAX_REUSE_GRACE_MS = 60_000;

const keySchema = z
  .object({
    kid: z.string().superRefine((kid, ctx) => {
      const problem = checkKid(kid);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    alg: z.enum(TOKEN_ALGORITHMS, {
      message: `must be one of ${TOKEN_ALGORITHMS.join(', ')}`,
    }),
    key: z.unknown(),
  })
  .strict()
  .superRefine((entry, ctx) => {
    const keyObject = toKeyObject(entry.alg, entry.key);
    if (typeof keyObject === 'string') {
      ctx.addIssue({ code: 'custom', path: ['key'], message: keyObject });
    }
  });

/**
 * The `tokens` options of `createAuth` (all optional).
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from 'node:crypto';
 * import { createAuth } from 'gatehouse';
 *
 * const auth = createAuth({
 *   tokens: {
 *     keys: [{ kid: '2025-01', alg: 'EdDSA', key: generateKeyPairSync('ed25519').privateKey }],
 *     issuer: 'https://api.example.com',
 *     audience: 'example-api',
 *     accessTtl: '15m',
 *   },
 * });
 * ```
 */
export const tokenOptionsSchema = z
  .object({
    /**
     * The key set: the signing key plus older keys kept for verification. Without keys an
     * ephemeral HS256 secret is generated (with a warning): tokens then do not survive a
     * restart and are not shared between instances.
     */
    keys: z
      .array(keySchema)
      .min(1, 'must hold at least one key')
      .superRefine((keys, ctx) => {
        const seen = new Set<string>();
        keys.forEach((key, index) => {
          if (seen.has(key.kid)) {
            ctx.addIssue({ code: 'custom', path: [index, 'kid'], message: 'is used twice' });
          }
          seen.add(key.kid);
        });
      })
      .optional(),
    /** The kid of the signing key. @default the first key that can sign */
    signingKid: z.string().optional(),
    /** `iss` of issued tokens, required on verification. @default 'gatehouse' */
    issuer: z.string().min(1).default('gatehouse'),
    /** `aud` of issued tokens, required on verification. @default 'gatehouse' */
    audience: z.string().min(1).default('gatehouse'),
    /** Lifetime of an access token. @default '15m' */
    accessTtl: durationSchema({ minMs: 1000, maxMs: 24 * 3_600_000 }).prefault('15m'),
    /** A session unused (not refreshed) for this long ends. @default '30d' */
    refreshIdleTtl: durationSchema({ minMs: 1000 }).prefault('30d'),
    /** A session ends this long after login, however often it is refreshed. @default '90d' */
    refreshAbsoluteTtl: durationSchema({ minMs: 1000 }).prefault('90d'),
    /** Clock skew tolerated on `exp`, `nbf` and `iat`. At most 60 s. @default '30s' */
    clockTolerance: durationSchema({ maxMs: MAX_CLOCK_TOLERANCE_MS }).prefault('30s'),
    /**
     * Entries of the verified-token cache (keyed by the exact token string); 0 switches it off.
     * A hit skips the signature check only: expiry and revocation are checked every time.
     * @default 10000
     */
    verifiedCacheSize: z.number().int().min(0).max(10_000_000).default(10_000),
    /**
     * The longest a session's revocation state may be cached in this process (at most 60 s).
     * With a store that announces revocations (`watchRevocations`: memory, Postgres) states are
     * cached only while its watch is live and dropped on each event; without one, a revocation
     * made by another instance is seen within this bound. 0 reads the store on every verify.
     * Unset (undefined after validation): `'30s'` for a store with a watch, 0 for one without.
     * @default '30s' with a watch, 0 without
     */
    revocationCacheTtl: durationSchema({ maxMs: MAX_REVOCATION_CACHE_TTL_MS }).optional(),
    /**
     * Refresh reuse grace: for this long after a rotation, the refresh token it used up may be
     * presented once more and gets the family's next pair instead of revoking the family (a
     * client that lost the response retries). Off by default; at most 60 s.
     * @default 0 (off)
     */
    reuseGrace: durationSchema({ maxMs: MAX_REUSE_GRACE_MS }).prefault(0),
  })
  .strict();

/** The `tokens` options as written by the user: the documented interface in options.ts. */
export type { TokenOptions } from '../options.js';

/**
 * The `tokens` options after validation; durations in milliseconds.
 *
 * @example
 * ```ts
 * const resolved: ResolvedTokenOptions = resolveTokenOptions({ accessTtl: '10m' });
 * resolved.accessTtl; // 600000
 * ```
 */
export type ResolvedTokenOptions = z.output<typeof tokenOptionsSchema>;

/**
 * Validates token options; throws `AuthError('INVALID_CONFIG')` naming each wrong option.
 *
 * @example
 * ```ts
 * const options = resolveTokenOptions({ keys: [{ kid: 'k1', alg: 'HS256', key: process.env.JWT_SECRET }] });
 * options.accessTtl; // 900000
 * ```
 */
export function resolveTokenOptions(input: TokenOptions = {}): ResolvedTokenOptions {
  return parseOptions(tokenOptionsSchema, input, 'token options', 'tokens');
}
