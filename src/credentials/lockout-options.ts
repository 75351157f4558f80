import { z } from 'zod';
import { durationSchema } from '../duration.js';

/** The `lockout` options of createAuth. */
export const lockoutSchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(1000).default(5),
    window: durationSchema({ minMs: 1000 }).prefault(15 * 60),
    duration: durationSchema({ minMs: 1000 }).prefault(30 * 60),
    backoffFactor: z.number().min(1).max(10).default(1),
    maxDuration: durationSchema({ minMs: 1000 }).prefault(24 * 60 * 60),
  })
  .strict();
