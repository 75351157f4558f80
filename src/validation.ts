import type { z } from 'zod';
import { AuthError } from './errors.js';

/** Formats zod issues as `path: message; path: message`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string {
  return issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/**
 * Parses options with a zod schema and throws `AuthError('INVALID_CONFIG')` whose message names
 * each wrong option and why.
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  prefix = '',
): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw new AuthError(
      'INVALID_CONFIG',
      `Invalid ${what}: ${formatIssues(result.error.issues, prefix)}`,
    );
  }
  return result.data;
}
