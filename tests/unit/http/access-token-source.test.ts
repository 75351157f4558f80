import { describe, expect, it } from 'vitest';
import { extractAccessToken, parseCookies } from '../../../src/http/index.js';
import { AuthError } from '../../../src/index.js';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl';

function extract(
  headers: Record<string, string>,
  rawHeaders?: string[],
  cookieName: string | null = null,
) {
  return extractAccessToken(
    { headers, rawHeaders: rawHeaders ?? Object.entries(headers).flat() },
    parseCookies(headers['cookie']),
    cookieName,
  );
}

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'none';
  } catch (err) {
    return err instanceof AuthError ? err.code : String(err);
  }
}

describe('extractAccessToken', () => {
  it('reads a Bearer token from the Authorization header', () => {
    expect(extract({ authorization: `Bearer ${JWT}` })).toEqual({ token: JWT, source: 'header' });
  });

  it('reads the scheme case-insensitively', () => {
    expect(extract({ authorization: `bearer ${JWT}` })?.token).toBe(JWT);
  });

  it('returns null without an Authorization header', () => {
    expect(extract({})).toBeNull();
  });

  it('returns null for another scheme (Basic)', () => {
    expect(extract({ authorization: 'Basic YTpi' })).toBeNull();
  });

  it('attack: refuses two Authorization headers with VALIDATION_ERROR on the authorization field', () => {
    const run = () =>
      extract({ authorization: `Bearer ${JWT}` }, [
        'Authorization',
        `Bearer ${JWT}`,
        'authorization',
        'Bearer x',
      ]);
    expect(codeOf(run)).toBe('VALIDATION_ERROR');
  });

  it.each(['Bearer', 'Bearer ', 'Bearer\t', 'BearerX'])(
    'refuses %j with TOKEN_INVALID',
    (value) => {
      expect(codeOf(() => extract({ authorization: value }))).toBe('TOKEN_INVALID');
    },
  );

  it.each(['Bearer a b', 'Bearer tÃ¶kÃ©n', 'Bearer a,b', 'Bearer "quoted"'])(
    'refuses characters no token has (%j) with TOKEN_INVALID',
    (value) => {
      expect(codeOf(() => extract({ authorization: value }))).toBe('TOKEN_INVALID');
    },
  );

  it('refuses a token over 8 KiB with TOKEN_INVALID', () => {
    expect(codeOf(() => extract({ authorization: `Bearer ${'a'.repeat(9000)}` }))).toBe(
      'TOKEN_INVALID',
    );
  });

  it('reads the access cookie when a cookie name is given', () => {
    expect(extract({ cookie: `x=1; access=${JWT}` }, undefined, 'access')).toEqual({
      token: JWT,
      source: 'cookie',
    });
  });

  it('ignores cookies outside cookie mode', () => {
    expect(extract({ cookie: `access=${JWT}` }, undefined, null)).toBeNull();
  });

  it('prefers the Authorization header over the cookie', () => {
    expect(
      extract(
        { authorization: 'Bearer header.token.value', cookie: `access=${JWT}` },
        undefined,
        'access',
      ),
    ).toEqual({
      token: 'header.token.value',
      source: 'header',
    });
  });

  it('refuses a malformed access cookie with TOKEN_INVALID', () => {
    expect(codeOf(() => extract({ cookie: 'access=a b' }, undefined, 'access'))).toBe(
      'TOKEN_INVALID',
    );
  });
});
