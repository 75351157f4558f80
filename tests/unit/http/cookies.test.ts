import { describe, expect, it } from 'vitest';
import { type CookieAttributes, parseCookies, serializeCookie } from '../../../src/http/index.js';
import { AuthError, cookieNames } from '../../../src/index.js';

describe('parseCookies', () => {
  it('reads name/value pairs', () => {
    expect([...parseCookies('a=1; b=two')]).toEqual([
      ['a', '1'],
      ['b', 'two'],
    ]);
  });

  it('keeps the first of repeated names (the most specific path comes first)', () => {
    expect(parseCookies('a=first; a=second').get('a')).toBe('first');
  });

  it('skips parts without a name or an equals sign, and unquotes values', () => {
    expect([...parseCookies('junk; =x; ok="v"; ;')]).toEqual([['ok', 'v']]);
  });

  it('returns an empty map without a header', () => {
    expect(parseCookies(undefined).size).toBe(0);
  });
});

describe('serializeCookie', () => {
  it('writes the attributes and never a Domain', () => {
    expect(
      serializeCookie('__Host-a', 'v', {
        path: '/',
        httpOnly: true,
        secure: true,
        sameSite: 'Lax',
        maxAge: 900,
      }),
    ).toBe('__Host-a=v; Path=/; Max-Age=900; Secure; HttpOnly; SameSite=Lax');
  });

  it('deletes with Max-Age=0 and an Expires in the past', () => {
    expect(
      serializeCookie('a', '', {
        path: '/r',
        httpOnly: true,
        secure: false,
        sameSite: 'Strict',
        maxAge: 0,
      }),
    ).toBe(
      'a=; Path=/r; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict',
    );
  });

  it('writes a session cookie without Max-Age', () => {
    expect(
      serializeCookie('a', 'v', { path: '/', httpOnly: false, secure: true, sameSite: 'Strict' }),
    ).toBe('a=v; Path=/; Secure; SameSite=Strict');
  });
});

const ATTRIBUTES: CookieAttributes = { path: '/', httpOnly: true, secure: true, sameSite: 'Lax' };

function refusal(name: string, value: string, attributes: Partial<CookieAttributes> = {}): string {
  try {
    serializeCookie(name, value, { ...ATTRIBUTES, ...attributes });
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    expect(err).toMatchObject({ code: 'INVALID_CONFIG' });
    return (err as Error).message;
  }
  throw new Error('serializeCookie wrote a cookie RFC 6265 forbids');
}

describe('serializeCookie refuses what RFC 6265 forbids (INVALID_CONFIG)', () => {
  it.each([
    ['a=b', 'an equals sign (the value would start inside the name)'],
    ['a;b', 'a semicolon'],
    ['a b', 'a space'],
    ['a\tb', 'a tab'],
    ['a\r\nSet-Cookie: x=y', 'CR LF (header splitting)'],
    ['', 'nothing'],
    ['a,b', 'a comma'],
    ['a"b', 'a double quote'],
    ['(a)', 'parentheses (separators)'],
    ['é', 'a character outside ASCII'],
    ['a\u0000', 'NUL'],
  ])('cookie name injection: %j (%s)', (name, _why) => {
    expect(refusal(name, 'v')).toMatch(/Invalid cookie: the name must be an RFC 7230 token/);
  });

  it.each([
    ['v; Domain=evil.example', 'a semicolon starting an attribute (cookie attribute injection)'],
    ['v\r\nSet-Cookie: admin=1', 'CR LF (response splitting)'],
    ['a b', 'a space'],
    ['a,b', 'a comma'],
    ['a"b', 'a double quote inside'],
    ['"unbalanced', 'an unbalanced quote'],
    ['a\\b', 'a backslash'],
    ['a\u007fb', 'DEL'],
    ['a\u0000b', 'NUL'],
    ['naïve', 'a character outside ASCII'],
  ])('cookie value injection: %j (%s)', (value, _why) => {
    expect(refusal('a', value)).toMatch(
      /Invalid cookie: the value of a must be RFC 6265 cookie-octets/,
    );
  });

  it('never echoes the refused value (it may be a token): only its length and the bad character', () => {
    const message = refusal('a', 'secret-token-material;x');
    expect(message).not.toContain('secret-token-material');
    expect(message).toContain('a value of 23 characters containing U+003B');
  });

  it('accepts a double-quoted value, as RFC 6265 allows', () => {
    expect(serializeCookie('a', '"v"', ATTRIBUTES)).toMatch(/^a="v"; Path=\//);
  });

  it.each([
    ['/; Domain=evil.example', 'cookie attribute injection through the path'],
    ['/a\r\nSet-Cookie: admin=1', 'CR LF in the path'],
    ['/a b', 'a space'],
    ['/a\u0000', 'NUL'],
    ['relative', 'a path not starting with /'],
    ['', 'an empty path'],
  ])('cookie path injection: %j (%s)', (path, _why) => {
    expect(refusal('a', 'v', { path })).toMatch(/Invalid cookie: the path of a must start with \//);
  });

  it.each([
    ['evil.example; Secure', 'a semicolon'],
    ['exa mple.com', 'a space'],
    ['-example.com', 'a label starting with a hyphen'],
    ['example..com', 'an empty label'],
    ['a'.repeat(64) + '.com', 'a label of 64 characters'],
    ['', 'nothing'],
  ])('cookie domain injection: %j (%s)', (domain, _why) => {
    expect(refusal('a', 'v', { domain })).toMatch(
      /Invalid cookie: the domain of a must be a host name/,
    );
  });

  it('writes a valid Domain when one is given', () => {
    expect(serializeCookie('a', 'v', { ...ATTRIBUTES, domain: 'example.com' })).toBe(
      'a=v; Path=/; Domain=example.com; Secure; HttpOnly; SameSite=Lax',
    );
  });

  it.each([
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
    [1.5, 'a fraction'],
    [401 * 86_400, 'more than 400 days'],
  ])('a Max-Age of %s (%s) is refused, never written as "Max-Age=NaN"', (maxAge, _why) => {
    expect(refusal('a', 'v', { maxAge })).toMatch(
      /the Max-Age of a must be a whole number of seconds/,
    );
  });

  it('a negative Max-Age deletes the cookie (Max-Age=0 and an Expires in the past)', () => {
    expect(serializeCookie('a', 'v', { ...ATTRIBUTES, maxAge: -5 })).toContain(
      'Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    );
  });

  it('a SameSite outside Strict and Lax is refused', () => {
    expect(refusal('a', 'v', { sameSite: 'None; Domain=evil.example' as 'Lax' })).toMatch(
      /the SameSite of a must be Strict or Lax/,
    );
  });

  it("gatehouse's own cookie names and JWT / base64url values pass", () => {
    for (const name of [
      ...Object.values(cookieNames(false)),
      ...Object.values(cookieNames(true)),
    ]) {
      expect(() =>
        serializeCookie(name, 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln-_', ATTRIBUTES),
      ).not.toThrow();
    }
  });
});

describe('cookieNames', () => {
  it('uses __Host- for the path-wide cookies and __Secure- for the refresh-path cookie', () => {
    expect(cookieNames(false)).toEqual({
      access: '__Host-gatehouse-access',
      refresh: '__Secure-gatehouse-refresh',
      csrf: '__Host-gatehouse-csrf',
    });
  });

  it('drops the prefixes in insecure development, where browsers would refuse them', () => {
    expect(Object.values(cookieNames(true)).some((name) => name.startsWith('__'))).toBe(false);
  });
});
