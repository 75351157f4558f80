import { z } from 'zod';
import type { Duration } from './options.js';

/**
 * The longest duration any option accepts: 366 days, in milliseconds. Options with a natural
 * bound have a lower one (an access token at most 24 h, a clock tolerance at most 60 s...).
 *
 * @example
 * ```ts
 * import { MAX_DURATION_MS, parseDuration } from 'gatehouse';
 * parseDuration('366d') === MAX_DURATION_MS; // true
 * parseDuration('367d'); // null
 * ```
 */
export const MAX_DURATION_MS = 366 * 86_400_000;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
// Digits, at most one point: no exponent, no sign, no hexadecimal. Too many digits is "too long".
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

type DurationReading = { ms: number } | { problem: 'syntax' | 'too_long' };

function readDuration(input: unknown): DurationReading {
  let ms: number;
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) return { problem: 'syntax' };
    ms = Math.round(input * 1000);
  } else if (typeof input === 'string') {
    const match = PATTERN.exec(input.trim());
    if (!match) return { problem: 'syntax' };
    ms = Math.round(Number(match[1]) * UNITS[match[2]!]!);
  } else {
    return { problem: 'syntax' };
  }
  // A huge number of seconds overflows to Infinity or past 2^53: both are simply too long.
  if (!Number.isSafeInteger(ms) || ms > MAX_DURATION_MS) return { problem: 'too_long' };
  return { ms };
}

/**
 * Parses a duration: a number of seconds, or a string such as `'90s'`, `'15m'`, `'12h'`,
 * `'30d'`, `'250ms'`. Returns whole milliseconds, or null when the input is not a duration or
 * is longer than {@link MAX_DURATION_MS} (366 days): never Infinity, NaN or a negative number.
 *
 * @example
 * ```ts
 * parseDuration('15m'); // 900000
 * parseDuration(30);    // 30000
 * parseDuration('99999999999999999999d'); // null
 * ```
 */
export function parseDuration(input: unknown): number | null {
  const reading = readDuration(input);
  return 'ms' in reading ? reading.ms : null;
}

function shown(value: unknown): string {
  if (typeof value === 'number') return String(value);
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** `60000` -> `'60s'`, `900000` -> `'15m'`, `86400000` -> `'24h'`: a bound in a message. */
export function formatDuration(ms: number): string {
  if (ms >= 2 * 86_400_000 && ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 120_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * A zod schema for a duration option, giving whole milliseconds from `minMs` (default 0) to
 * `maxMs` (default and at most {@link MAX_DURATION_MS}). The messages say the bounds; the option
 * name is added by the caller's error formatting (`tokens.accessTtl: must be at most 24h`).
 */
export function durationSchema(options: { minMs?: number; maxMs?: number } = {}) {
  const minMs = options.minMs ?? 0;
  const maxMs = Math.min(options.maxMs ?? MAX_DURATION_MS, MAX_DURATION_MS);
  const range = `from ${formatDuration(minMs)} to ${formatDuration(maxMs)}`;
  // Not z.number(): Infinity and NaN must reach the check below and get its message.
  return z
    .custom<Duration>((value) => typeof value === 'number' || typeof value === 'string', {
      message: `must be a number of seconds or a string like "15m", "12h" or "30d", ${range}`,
    })
    .transform((value, ctx) => {
      const reading = readDuration(value);
      if ('problem' in reading) {
        ctx.addIssue({
          code: 'custom',
          message:
            reading.problem === 'syntax'
              ? `must be a number of seconds or a string like "15m", "12h" or "30d", ${range} (got ${shown(value)})`
              : `must be at most ${formatDuration(maxMs)} (got ${shown(value)})`,
        });
        return z.NEVER;
      }
      if (reading.ms < minMs) {
        ctx.addIssue({
          code: 'custom',
          message: `must be at least ${formatDuration(minMs)} (got ${shown(value)})`,
        });
        return z.NEVER;
      }
      if (reading.ms > maxMs) {
        ctx.addIssue({
          code: 'custom',
          message: `must be at most ${formatDuration(maxMs)} (got ${shown(value)})`,
        });
        return z.NEVER;
      }
      return reading.ms;
    });
}
