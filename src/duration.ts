import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/**
 * Parses a duration: a number of seconds, or a string such as `'90s'`, `'15m'`, `'12h'`,
 * `'30d'`, `'250ms'`. Returns milliseconds, or null when the input is not a duration.
 *
 * @example
 * ```ts
 * parseDuration('15m'); // 900000
 * parseDuration(30);    // 30000
 * ```
 */
export function parseDuration(input: unknown): number | null {
  if (typeof input === 'number') {
    return Number.isFinite(input) && input >= 0 ? Math.round(input * 1000) : null;
  }
  if (typeof input !== 'string') return null;
  const match = PATTERN.exec(input.trim());
  if (!match) return null;
  return Math.round(Number(match[1]) * UNITS[match[2]!]!);
}

/** A zod schema for a duration option, giving milliseconds. */
export function durationSchema(options: { minMs?: number; maxMs?: number } = {}) {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === null) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a number of seconds or a string like "15m", "12h" or "30d" (got ${JSON.stringify(value)})`,
      });
      return z.NEVER;
    }
    if (options.minMs !== undefined && ms < options.minMs) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${options.minMs / 1000}s` });
      return z.NEVER;
    }
    if (options.maxMs !== undefined && ms > options.maxMs) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${options.maxMs / 1000}s` });
      return z.NEVER;
    }
    return ms;
  });
}
