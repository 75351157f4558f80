import { z } from 'zod';
import { durationSchema } from '../duration.js';

const DEFAULT_MAX_MS = 60 * 60_000;
// A day bounds the window and every lock: longer only helps an attacker keep a victim out.
const MAX_LOCKOUT_MS = 24 * 3_600_000;
const seconds = (ms: number) => `${ms / 1000}s`;

/**
 * The `lockout` options of createAuth. The default lock is progressive: 1 minute, doubling with
 * each further lock of the same identifier without a success in between, at most 1 hour, so a
 * few wrong guesses by an attacker cannot keep a victim locked out for long.
 */
export const lockoutSchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(1000).default(5),
    window: durationSchema({ minMs: 1000, maxMs: MAX_LOCKOUT_MS }).prefault(15 * 60),
    duration: durationSchema({ minMs: 1000, maxMs: MAX_LOCKOUT_MS }).prefault(60),
    backoffFactor: z.number().min(1).max(10).default(2),
    // Absent: 1 hour, or `duration` when that is longer (a flat lock of the given length).
    maxDuration: durationSchema({ minMs: 1000, maxMs: MAX_LOCKOUT_MS }).optional(),
  })
  .strict()
  .superRefine((lockout, ctx) => {
    // Contradictory rather than clamped: the operator meant one of the two.
    if (lockout.maxDuration !== undefined && lockout.maxDuration < lockout.duration) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxDuration'],
        message: `must not be shorter than lockout.duration (lockout.maxDuration is ${seconds(lockout.maxDuration)}, lockout.duration is ${seconds(lockout.duration)}): raise lockout.maxDuration or lower lockout.duration`,
      });
    }
  })
  .transform((lockout) => ({
    ...lockout,
    maxDuration: lockout.maxDuration ?? Math.max(DEFAULT_MAX_MS, lockout.duration),
  }));
