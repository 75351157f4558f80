import { afterEach, describe, expect, it, vi } from 'vitest';
import { CsrfProtection } from '../../../src/http/index.js';
import { AuthError, createAuth } from '../../../src/index.js';
import { internalsOf } from '../../../src/internal/handle.js';

const ORIGIN = 'https://app.example.com';
const csrf = new CsrfProtection({ key: new Uint8Array(32).fill(7), trustedOrigins: [ORIGIN] });

function reasonOf(headers: Record<string, string>, binding: string | undefined): unknown {
  try {
    csrf.verify(headers, binding);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).code).toBe('CSRF_REJECTED');
    return (err as AuthError).details?.['reason'];
  }
}

describe('CsrfProtection', () => {
  const binding = csrf.newBinding();
  const token = csrf.tokenFor(binding);

  it('accepts a trusted Origin with the token of the binding', () => {
    expect(reasonOf({ origin: ORIGIN, 'x-csrf-token': token }, binding)).toBeNull();
  });

  it('accepts Sec-Fetch-Site: same-origin when no Origin is sent', () => {
    expect(
      reasonOf({ 'sec-fetch-site': 'same-origin', 'x-csrf-token': token }, binding),
    ).toBeNull();
  });

  it('attack: refuses an untrusted Origin even with the right token', () => {
    expect(reasonOf({ origin: 'https://evil.example', 'x-csrf-token': token }, binding)).toBe(
      'untrusted_origin',
    );
  });

  it('attack: refuses Origin: null (sandboxed frames, redirects)', () => {
    expect(reasonOf({ origin: 'null', 'x-csrf-token': token }, binding)).toBe('untrusted_origin');
  });

  it('attack: refuses an origin that only starts like a trusted one', () => {
    expect(reasonOf({ origin: `${ORIGIN}.evil.example`, 'x-csrf-token': token }, binding)).toBe(
      'untrusted_origin',
    );
  });

  it('attack: refuses Sec-Fetch-Site: cross-site and same-site', () => {
    expect(reasonOf({ 'sec-fetch-site': 'cross-site', 'x-csrf-token': token }, binding)).toBe(
      'cross_site',
    );
    expect(reasonOf({ 'sec-fetch-site': 'same-site', 'x-csrf-token': token }, binding)).toBe(
      'cross_site',
    );
  });

  it('refuses a request with neither Origin nor Sec-Fetch-Site', () => {
    expect(reasonOf({ 'x-csrf-token': token }, binding)).toBe('no_origin');
  });

  it('attack: refuses a trusted Origin without the token (SameSite cookies alone do not count)', () => {
    expect(reasonOf({ origin: ORIGIN }, binding)).toBe('missing_token');
  });

  it("attack: refuses another binding's token", () => {
    expect(
      reasonOf({ origin: ORIGIN, 'x-csrf-token': csrf.tokenFor(csrf.newBinding()) }, binding),
    ).toBe('bad_token');
  });

  it('attack: refuses the binding itself sent as the token (double-submit without the key)', () => {
    expect(reasonOf({ origin: ORIGIN, 'x-csrf-token': binding }, binding)).toBe('bad_token');
  });

  it('refuses a request without a binding cookie', () => {
    expect(reasonOf({ origin: ORIGIN, 'x-csrf-token': token }, undefined)).toBe('no_binding');
    expect(reasonOf({ origin: ORIGIN, 'x-csrf-token': token }, 'short')).toBe('no_binding');
  });

  it('attack: tokens signed with another key are refused', () => {
    const other = new CsrfProtection({ key: new Uint8Array(32).fill(8), trustedOrigins: [ORIGIN] });
    expect(reasonOf({ origin: ORIGIN, 'x-csrf-token': other.tokenFor(binding) }, binding)).toBe(
      'bad_token',
    );
  });
});

describe('CsrfProtection bound to a session', () => {
  const binding = csrf.newBinding();
  const s1 = '6f1c2a4e-0d6b-4f55-9a43-5c1b0f7e9a21';
  const s2 = '0b9d8c7e-1a2b-4c3d-8e4f-5a6b7c8d9e0f';
  const check = (token: string, cookie: string, sessionId?: string) =>
    csrf.tokenRejection(cookie, token, sessionId);

  it('accepts the token bound to the request’s session', () => {
    expect(check(csrf.tokenFor(binding, s1), binding, s1)).toBeNull();
  });

  it("attack: refuses the same binding's token bound to another session", () => {
    expect(check(csrf.tokenFor(binding, s2), binding, s1)).toBe('bad_token');
  });

  it('attack: refuses the pre-login token of the binding on a session’s request', () => {
    expect(check(csrf.tokenFor(binding), binding, s1)).toBe('bad_token');
  });

  it('attack: a session id cannot be smuggled through the binding (domain separation)', () => {
    expect(csrf.tokenFor(binding, s1)).not.toBe(csrf.tokenFor(`${binding}:${s1}`));
  });

  it('before login, accepts the binding’s token and the token of the session named in the cookie', () => {
    const cookie = csrf.cookieValue(binding, s1);
    expect(check(csrf.tokenFor(binding), cookie)).toBeNull();
    expect(check(csrf.tokenFor(binding, s1), cookie)).toBeNull();
    expect(check(csrf.tokenFor(binding, s2), cookie)).toBe('bad_token');
  });

  it.each([
    ['a session id with a dot', `${'A'.repeat(43)}.a.b`],
    ['an empty session id', `${'A'.repeat(43)}.`],
    ['a 129-character session id', `${'A'.repeat(43)}.${'x'.repeat(129)}`],
    ['a short binding', 'short.abc'],
  ])('refuses a binding cookie with %s as no binding', (_what, cookie) => {
    expect(csrf.parseBinding(cookie)).toBeNull();
    expect(check('token', cookie)).toBe('no_binding');
  });
});

describe('the cookies option of createAuth', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('refuses insecureDevelopment when NODE_ENV=production', () => {
    vi.stubEnv('NODE_ENV', 'production');
    expect(() =>
      createAuth({
        cookies: { trustedOrigins: ['http://localhost:3000'], insecureDevelopment: true },
      }),
    ).toThrow(/cookies\.insecureDevelopment: is refused when NODE_ENV=production/);
  });

  it('accepts insecureDevelopment outside production', () => {
    vi.stubEnv('NODE_ENV', 'development');
    const auth = createAuth({
      cookies: { trustedOrigins: ['http://localhost:3000'], insecureDevelopment: true },
    });
    expect(internalsOf(auth).config.cookies?.insecureDevelopment).toBe(true);
  });

  it.each(['https://app.example.com/', 'https://app.example.com/path', 'app.example.com', '*'])(
    'refuses %j as a trusted origin',
    (origin) => {
      expect(() => createAuth({ cookies: { trustedOrigins: [origin] } })).toThrow(
        /cookies\.trustedOrigins\.0/,
      );
    },
  );

  it('requires at least one trusted origin', () => {
    expect(() => createAuth({ cookies: { trustedOrigins: [] } })).toThrow(
      /cookies\.trustedOrigins/,
    );
  });

  it('refuses a CSRF secret shorter than 32 characters', () => {
    expect(() =>
      createAuth({ cookies: { trustedOrigins: [ORIGIN], csrfSecret: 'short' } }),
    ).toThrow(/cookies\.csrfSecret/);
  });
});
