import { z } from 'zod';
import { DEFAULT_BCRYPT_COST, MIN_BCRYPT_COST } from './index.js';
import type { PasswordCheck } from './policy.js';

const fn = <T>(what: string) =>
  z.custom<T>((value) => typeof value === 'function', { message: `must be ${what}` });

/** The `passwords` options of createAuth. */
export const passwordsSchema = z
  .object({
    cost: z
      .number()
      .int()
      .min(MIN_BCRYPT_COST, `bcrypt cost below ${MIN_BCRYPT_COST} is refused as too weak`)
      .max(31)
      .default(DEFAULT_BCRYPT_COST),
    minLength: z.number().int().min(1).max(72).default(8),
    check: fn<PasswordCheck>('a function (password, context) => reason | null').optional(),
  })
  .strict();
