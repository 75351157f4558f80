import { AuthError } from '../errors.js';

// A segment of RFC 3986 unreserved characters only: the prefix becomes part of route paths,
// where Express and Fastify read `:`, `*`, `(`, `+`, `!`... as parameters and patterns, and of
// the refresh cookie's Path, where `;` would start an attribute. No percent escapes either:
// routers and browsers would decode them differently.
const SEGMENT = /^[A-Za-z0-9\-._~]+$/;

/**
 * Validates the `prefix` option of the auth routes and returns it without a trailing slash
 * (`'/'` becomes `''`). Refuses with `AuthError('INVALID_CONFIG')` naming `prefix` what could
 * inject a cookie attribute (`;`), split a header (control characters), leave the routes'
 * tree (`.`, `..` segments) or end the path (`?`, `#`), whitespace and empty segments.
 */
export function routePrefixOf(value: unknown): string {
  const refuse = (why: string): never => {
    const got = typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : typeof value;
    throw new AuthError(
      'INVALID_CONFIG',
      `Invalid auth routes option: prefix: ${why} (got ${got})`,
    );
  };
  if (typeof value !== 'string') return refuse('must be a string such as "/api/auth"');
  if (!value.startsWith('/')) return refuse('must start with "/"');
  if (value.length > 256) return refuse('must be at most 256 characters');
  const prefix = value.replace(/\/+$/, '');
  if (prefix === '') return '';
  for (const segment of prefix.slice(1).split('/')) {
    if (segment === '') return refuse('must not hold an empty segment ("//")');
    if (segment === '.' || segment === '..') return refuse('must not hold a "." or ".." segment');
    if (!SEGMENT.test(segment)) {
      return refuse(
        'must hold only letters, digits, "-", ".", "_", "~" and "/" (no ";", ":", "*", "%", "?", "#", whitespace or control characters)',
      );
    }
  }
  return prefix;
}
