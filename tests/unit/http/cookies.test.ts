import { describe, expect, it } from 'vitest';
import { cookieNames, parseCookies, serializeCookie } from '../../../src/index.js';

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
