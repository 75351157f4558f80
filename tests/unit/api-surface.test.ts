import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { SignJWT } from 'jose';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type Auth, AuthError, createAuth, seedPolicy } from '../../src/index.js';
import { internalsOf } from '../../src/internal/handle.js';
import { collectingLogger } from '../helpers/auth.js';
import { CountingHasher } from '../helpers/fakes.js';

// Distinctive secrets, so that a leak anywhere in a printed value is found by a substring search.
const HS_SECRET = 'hs256-SECRET-must-never-print-0123456789abcdef';
const IDENTIFIER_KEY = 'identifier-KEY-must-never-print-0123456789abcdef';
const CSRF_SECRET = 'csrf-SECRET-must-never-print-0123456789abcdef';
const PASSWORD = 'correct horse battery staple';

function privateKeyMaterial(key: KeyObject): string[] {
  const jwk = key.export({ format: 'jwk' });
  const pem = key.export({ format: 'pem', type: 'pkcs8' }).toString();
  const pemBody = pem.split('\n').slice(1, -2).join('');
  return [jwk.d as string, pemBody, pemBody.slice(0, 40)];
}

/** Every way a value is commonly printed: JSON, util.inspect at any depth, String(). */
function printed(value: unknown): string {
  let json = '';
  try {
    json = JSON.stringify(value) ?? '';
  } catch (err) {
    json = String(err);
  }
  return [
    json,
    inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true, getters: true }),
    String(value),
  ].join('\n');
}

function expectNoSecret(text: string, secrets: readonly string[]): void {
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe('the API surface of an auth instance', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const secrets = [HS_SECRET, IDENTIFIER_KEY, CSRF_SECRET, ...privateKeyMaterial(privateKey)];
  function makeAuth() {
    return createAuth({
      policy: seedPolicy,
      identifierKey: IDENTIFIER_KEY,
      passwordHasher: new CountingHasher(),
      logger: collectingLogger(),
      cookies: { trustedOrigins: ['https://app.example.com'], csrfSecret: CSRF_SECRET },
      tokens: {
        keys: [
          { kid: 'ed', alg: 'EdDSA', key: privateKey },
          { kid: 'hs', alg: 'HS256', key: HS_SECRET },
        ],
      },
    });
  }

  it('JSON.stringify and util.inspect of an auth instance show no secret (HS256 secret, private key, identifierKey, csrfSecret)', async () => {
    const auth = makeAuth();
    // The secrets are really in there (behind the instance): the check below can fail.
    expect(printed(internalsOf(auth).config)).toContain(HS_SECRET);
    const text = printed(auth);
    expectNoSecret(text, secrets);
    expect(JSON.parse(JSON.stringify(auth))).toEqual({
      type: 'gatehouse.Auth',
      roles: ['user', 'admin'],
    });
    expect(inspect(auth)).toBe('Auth { roles: [user, admin] }');
    // Inside a larger object (a logged request context) too.
    expectNoSecret(printed({ app: { auth } }), secrets);
    await auth.close();
  });

  it('config, stores, clock, audit and rateLimiter are not reachable on the instance (internal handle only)', async () => {
    const auth = makeAuth();
    for (const name of ['config', 'stores', 'clock', 'audit', 'rateLimiter']) {
      expect(name in auth).toBe(false);
      expect(Reflect.get(auth, name)).toBeUndefined();
    }
    expect(Object.keys(auth)).not.toContain('config');
    expect(internalsOf(auth).config.tokens.keys).toHaveLength(2);
    await auth.close();
  });

  it('a method of the instance cannot be replaced nor a property added (a dependency swapping verifyAccessToken)', async () => {
    const auth = makeAuth();
    const forged = async () => ({ userId: 'attacker' });
    expect(Reflect.set(auth, 'verifyAccessToken', forged)).toBe(false);
    // Modules are strict code: a plain assignment throws instead of being ignored.
    expect(() => {
      (auth as { verifyAccessToken: unknown }).verifyAccessToken = forged;
    }).toThrow(TypeError);
    expect(auth.verifyAccessToken).not.toBe(forged);
    expect(Reflect.set(auth, 'extra', 1)).toBe(false);
    expect(Reflect.set(auth.mail, 'flush', forged)).toBe(false);
    expect(Reflect.defineProperty(auth, 'toJSON', { value: () => ({}) })).toBe(false);
    expect(Object.isFrozen(auth)).toBe(true);
    expect(Object.isFrozen(auth.mail)).toBe(true);
    await auth.close();
  });

  it('the internal handle refuses an object that only looks like an instance (INVALID_CONFIG)', () => {
    const lookalike = { ...createAuth({ logger: collectingLogger() }) } as Auth;
    expect(() => internalsOf(lookalike)).toThrow(AuthError);
    expect(() => internalsOf(lookalike)).toThrow(/Not a gatehouse instance/);
  });

  it('an INVALID_CONFIG error for a bad key does not echo the key (message, details, cause)', () => {
    const short = 'short-SECRET'; // under every minimum (16 and 32)
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const attempts: Array<[string, () => unknown]> = [
      [
        'short HS256 secret',
        () => createAuth({ tokens: { keys: [{ kid: 'k', alg: 'HS256', key: short }] } }),
      ],
      [
        'PEM string for EdDSA',
        () => createAuth({ tokens: { keys: [{ kid: 'k', alg: 'EdDSA', key: pem }] } }),
      ],
      [
        'public-key mismatch (private key given as HS256)',
        () => createAuth({ tokens: { keys: [{ kid: 'k', alg: 'HS256', key: privateKey }] } }),
      ],
      ['short identifierKey', () => createAuth({ identifierKey: short })],
      [
        'identifierKey and a different auditEmailKey',
        () => createAuth({ identifierKey: IDENTIFIER_KEY, auditEmailKey: `${HS_SECRET}-other` }),
      ],
      [
        'short csrfSecret',
        () => createAuth({ cookies: { trustedOrigins: ['https://a.example'], csrfSecret: short } }),
      ],
    ];
    for (const [name, attempt] of attempts) {
      let thrown: unknown;
      try {
        attempt();
      } catch (err) {
        thrown = err;
      }
      expect(thrown, name).toBeInstanceOf(AuthError);
      expect((thrown as AuthError).code, name).toBe('INVALID_CONFIG');
      expectNoSecret(printed(thrown), [
        short,
        IDENTIFIER_KEY,
        HS_SECRET,
        ...privateKeyMaterial(privateKey),
      ]);
    }
  });

  it('errors of login and verifyAccessToken carry no key, secret or password (wrong password, forged token)', async () => {
    const auth = makeAuth();
    await auth.register({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' });
    const errors: unknown[] = [];
    await auth
      .login({ email: 'ada@example.com', password: `${PASSWORD}!` })
      .catch((err) => errors.push(err));
    await auth
      .login({ email: 'nobody@example.com', password: PASSWORD })
      .catch((err) => errors.push(err));
    const forged = await new SignJWT({ sub: 'x', sid: 'y' })
      .setProtectedHeader({ alg: 'HS256', kid: 'hs' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(`${HS_SECRET}-other`));
    await auth.verifyAccessToken(forged).catch((err) => errors.push(err));
    await auth.verifyAccessToken('not-a-token').catch((err) => errors.push(err));
    expect(errors).toHaveLength(4);
    for (const err of errors) {
      expect(err).toBeInstanceOf(AuthError);
      expectNoSecret(printed(err), [...secrets, PASSWORD, `${HS_SECRET}-other`]);
    }
    await auth.close();
  });

  it('the declared Auth type: internals are type errors, checks stay typed by the policy, a typed instance is an Auth', async () => {
    const auth = makeAuth();
    expectTypeOf(auth).toEqualTypeOf<Auth<typeof seedPolicy>>();
    expectTypeOf(auth).toExtend<Auth>();
    const principal = { userId: 'u1', role: 'user' };
    // @ts-expect-error the options are not public
    expect(auth.config).toBeUndefined();
    // @ts-expect-error the stores are not public
    expect(auth.stores).toBeUndefined();
    // @ts-expect-error the rate limiter is not public
    expect(auth.rateLimiter).toBeUndefined();
    // @ts-expect-error misspelt permission
    expect(() => auth.authorize(principal, 'orders:reed')).toThrow();
    // @ts-expect-error an order needs userId
    expect(() => auth.authorize(principal, 'orders:read', { id: 'o1' })).toThrow(AuthError);
    expect(auth.authorize(principal, 'orders:read', { userId: 'u1' })).toBeUndefined();
    expect(auth.can(principal, 'users:update', { id: 'u1' })).toBe(true);
    // @ts-expect-error a user resource needs id
    expect(auth.can(principal, 'users:update', { userId: 'u1' })).toBe(false);
    await auth.close();
  });
});
