import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AuthError, ERROR_CODES, isAuthError } from '../../src/index.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

describe('error registry', () => {
  it.each(Object.entries(ERROR_CODES))(
    'docs/errors.md documents %s with its status',
    (code, { status }) => {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
      expect(row, `docs/errors.md has no row for ${code}`).toBeDefined();
      expect(row).toContain(`| ${status} |`);
    },
  );

  it('documents no code that the registry lacks', () => {
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('gives each error its code, status and the contract body without the cause', () => {
    const err = new AuthError('RATE_LIMITED', undefined, {
      retryAfter: 12,
      cause: new Error('secret detail'),
    });
    expect(err.status).toBe(429);
    expect(err.retryAfter).toBe(12);
    expect(err.toJSON()).toEqual({
      success: false,
      error: ERROR_CODES.RATE_LIMITED.message,
      code: 'RATE_LIMITED',
    });
    expect(JSON.stringify(err)).not.toContain('secret detail');
  });

  it('lets SERVER_ERROR carry 503 for an unavailable store', () => {
    expect(new AuthError('SERVER_ERROR', undefined, { status: 503 }).status).toBe(503);
  });

  it('recognises AuthErrors, also from another copy of the class, and nothing else', () => {
    expect(isAuthError(new AuthError('FORBIDDEN'))).toBe(true);
    const foreign = Object.assign(new Error('x'), { name: 'AuthError', code: 'FORBIDDEN' });
    expect(isAuthError(foreign)).toBe(true);
    expect(isAuthError(Object.assign(new Error('x'), { name: 'AuthError', code: 'NOPE' }))).toBe(
      false,
    );
    expect(isAuthError(new Error('x'))).toBe(false);
    expect(isAuthError(null)).toBe(false);
  });
});
